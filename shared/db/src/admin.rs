//! The operators' actions, shared by the console (`/admin/`) and the command line. Each one runs
//! in one transaction with its audit row (who, what, which object, before/after), and says
//! which cached trees to invalidate once it is committed.

use biologidex_core::error::Missing;
use biologidex_core::ids::{AnalysisJobId, AnimalId, DexEntryId, TaxonomyImportJobId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    models::{
        accounts::User,
        admin::{self, Actor},
        animals::{Animal, AnimalFields},
        dex::{DexEntry, EntryChanges, Visibility},
        friendships::Friendship,
        tokens,
        vision::AnalysisJob,
    },
    schema::{analysis_jobs, animals, dex_entries, users},
};
use biologidex_core::graph_cache;
use biologidex_core::{Error, config::Settings, redis_util};

/// Which cached trees an action made stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidate {
    Nothing,
    Users(Vec<UserId>),
    All,
}

/// What an action changed: a line for people, and what to do after the commit.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub summary: String,
    pub invalidate: Invalidate,
    /// Vision jobs put back to pending: the caller pushes them to the queue (the reaper
    /// re-enqueues them anyway if it cannot).
    pub requeue: Vec<AnalysisJobId>,
}

impl Outcome {
    fn new(summary: String, invalidate: Invalidate) -> Outcome {
        Outcome {
            summary,
            invalidate,
            requeue: Vec::new(),
        }
    }
}

/// Bumps the tree versions an outcome names; a Redis failure is logged (trees then expire
/// with `GRAPH_CACHE_TTL`).
pub async fn invalidate(redis: &redis_util::RedisPool, settings: &Settings, what: &Invalidate) {
    let result = match what {
        Invalidate::Nothing => Ok(()),
        Invalidate::Users(users) => graph_cache::bump_users(redis, settings, users).await,
        Invalidate::All => graph_cache::bump_all(redis, settings).await,
    };
    if let Err(e) = result {
        tracing::warn!(error = %e, "tree cache not invalidated after an admin action");
    }
}

fn user_snapshot(u: &User) -> Value {
    json!({
        "username": u.username,
        "email": u.email,
        "is_active": u.is_active,
        "is_staff": u.is_staff,
        "is_superuser": u.is_superuser,
    })
}

/// A user by id or exact username.
pub async fn find_user(conn: &mut AsyncPgConnection, key: &str) -> Result<User, Error> {
    let found = match Uuid::parse_str(key) {
        Ok(id) => User::find(conn, id.into()).await?.map(|v| v.user),
        Err(_) => User::find_by_username(conn, key).await?,
    };
    found.ok_or_else(|| Error::NotFoundBecause(format!("no user `{key}`")))
}

async fn lock_user(conn: &mut AsyncPgConnection, id: UserId) -> Result<User, Error> {
    users::table
        .find(id)
        .for_update()
        .select(User::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or(Error::NotFound(Missing::User))
}

/// Revokes every refresh and access token and console session of a user.
async fn revoke_everything(conn: &mut AsyncPgConnection, id: UserId) -> Result<(), Error> {
    tokens::revoke_all_for_user(conn, id).await?;
    diesel::update(users::table.find(id))
        .set(users::tokens_valid_after.eq(Utc::now()))
        .execute(conn)
        .await?;
    admin::delete_sessions_of(conn, id).await?;
    Ok(())
}

/// The account flags the console and the CLI switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flag {
    Active,
    Staff,
}

/// Activates or deactivates an account; deactivation refuses every token at once.
pub async fn set_active(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    user: UserId,
    active: bool,
) -> Result<Outcome, Error> {
    set_flag(conn, actor, user, Flag::Active, active).await
}

/// Grants or removes staff; removing it ends the user's console sessions.
pub async fn set_staff(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    user: UserId,
    staff: bool,
) -> Result<Outcome, Error> {
    set_flag(conn, actor, user, Flag::Staff, staff).await
}

/// Sets one flag under the user's row lock, ends what losing it must end, and audits it.
async fn set_flag(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    user: UserId,
    flag: Flag,
    on: bool,
) -> Result<Outcome, Error> {
    conn.transaction::<_, Error, _>(async |conn| {
        let before = lock_user(conn, user).await?;
        let target = diesel::update(users::table.find(user));
        match flag {
            Flag::Active => target.set(users::is_active.eq(on)).execute(conn).await?,
            Flag::Staff => target.set(users::is_staff.eq(on)).execute(conn).await?,
        };
        match (flag, on) {
            (Flag::Active, false) => revoke_everything(conn, user).await?,
            (Flag::Staff, false) => {
                admin::delete_sessions_of(conn, user).await?;
            }
            (_, true) => {}
        }
        let after = lock_user(conn, user).await?;
        let (action, field, was, note) = match (flag, on) {
            (Flag::Active, true) => ("user.activate", "is_active", before.is_active, ""),
            (Flag::Active, false) => (
                "user.deactivate",
                "is_active",
                before.is_active,
                " (every token revoked)",
            ),
            (Flag::Staff, true) => ("user.grant_staff", "is_staff", before.is_staff, ""),
            (Flag::Staff, false) => ("user.remove_staff", "is_staff", before.is_staff, ""),
        };
        admin::audit(
            conn,
            actor,
            action,
            "user",
            &user.to_string(),
            Some(user_snapshot(&before)),
            Some(user_snapshot(&after)),
        )
        .await?;
        let summary = format!("user `{}`: {field} {was} -> {on}{note}", before.username);
        Ok(Outcome::new(summary, Invalidate::Nothing))
    })
    .await
}

/// Stores a new password hash and revokes every token and session (the audit row never holds
/// the password or its hash).
pub async fn set_password(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    user: UserId,
    hash: &str,
) -> Result<Outcome, Error> {
    conn.transaction::<_, Error, _>(async |conn| {
        let before = lock_user(conn, user).await?;
        User::set_password_hash(conn, user, hash, None).await?;
        revoke_everything(conn, user).await?;
        admin::audit(
            conn,
            actor,
            "user.set_password",
            "user",
            &user.to_string(),
            None,
            Some(json!({"password": "changed", "tokens": "revoked"})),
        )
        .await?;
        Ok(Outcome::new(
            format!(
                "user `{}`: password set, every token revoked",
                before.username
            ),
            Invalidate::Nothing,
        ))
    })
    .await
}

/// Deletes an account (its entries, friendships and jobs cascade).
pub async fn delete_user(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    user: UserId,
) -> Result<Outcome, Error> {
    conn.transaction::<_, Error, _>(async |conn| {
        let before = lock_user(conn, user).await?;
        let mut affected = Friendship::friend_ids(conn, user).await?;
        affected.push(user);
        User::delete(conn, user).await?;
        admin::audit(
            conn,
            actor,
            "user.delete",
            "user",
            &user.to_string(),
            Some(user_snapshot(&before)),
            None,
        )
        .await?;
        Ok(Outcome::new(
            format!("user `{}` deleted", before.username),
            Invalidate::Users(affected),
        ))
    })
    .await
}

fn animal_snapshot(a: &Animal) -> Value {
    json!({
        "scientific_name": a.scientific_name,
        "common_name": a.common_name,
        "kingdom": a.kingdom,
        "phylum": a.phylum,
        "class_name": a.class_name,
        "order_name": a.order_name,
        "family": a.family,
        "genus": a.genus,
        "species": a.species,
        "conservation_status": a.conservation_status,
        "verified": a.verified,
        "creation_index": a.creation_index,
    })
}

async fn lock_animal(conn: &mut AsyncPgConnection, id: AnimalId) -> Result<Animal, Error> {
    animals::table
        .find(id)
        .for_update()
        .select(Animal::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| Error::NotFoundBecause(format!("no animal `{id}`")))
}

/// Overwrites an animal's names and taxonomy (and the verified flag).
pub async fn edit_animal(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    id: AnimalId,
    fields: AnimalFields,
) -> Result<Outcome, Error> {
    conn.transaction::<_, Error, _>(async |conn| {
        let before = lock_animal(conn, id).await?;
        Animal::update(conn, id, fields).await?;
        let after = lock_animal(conn, id).await?;
        admin::audit(
            conn,
            actor,
            "animal.edit",
            "animal",
            &id.to_string(),
            Some(animal_snapshot(&before)),
            Some(animal_snapshot(&after)),
        )
        .await?;
        Ok(Outcome::new(
            format!("animal `{}` edited", after.scientific_name),
            Invalidate::All,
        ))
    })
    .await
}

/// Marks an animal verified.
pub async fn verify_animal(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    id: AnimalId,
) -> Result<Outcome, Error> {
    conn.transaction::<_, Error, _>(async |conn| {
        let before = lock_animal(conn, id).await?;
        diesel::update(animals::table.find(id))
            .set((
                animals::verified.eq(true),
                animals::last_verified_at.eq(diesel::dsl::now),
                animals::verification_method.eq("manual"),
            ))
            .execute(conn)
            .await?;
        admin::audit(
            conn,
            actor,
            "animal.verify",
            "animal",
            &id.to_string(),
            Some(json!({"verified": before.verified})),
            Some(json!({"verified": true})),
        )
        .await?;
        Ok(Outcome::new(
            format!("animal `{}` verified", before.scientific_name),
            Invalidate::All,
        ))
    })
    .await
}

/// Merges the duplicate `from` into `into`: its entries and jobs move (an entry that would
/// collide with one of the same owner and catch time moves one microsecond later), the
/// owners' counters are recomputed, `from` is deleted and every tree is invalidated.
pub async fn merge_animals(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    from: AnimalId,
    into: AnimalId,
) -> Result<Outcome, Error> {
    if from == into {
        return Err(Error::Rule(
            "An animal cannot be merged into itself.".to_owned(),
        ));
    }
    conn.transaction::<_, Error, _>(async |conn| {
        // Lock in id order so two merges of the same pair cannot deadlock.
        let (a, b) = if from < into { (from, into) } else { (into, from) };
        let first = lock_animal(conn, a).await?;
        let second = lock_animal(conn, b).await?;
        let (src, dst) = if a == from {
            (first, second)
        } else {
            (second, first)
        };
        let owners: Vec<UserId> = dex_entries::table
            .filter(dex_entries::animal_id.eq(from))
            .select(dex_entries::owner_id)
            .distinct()
            .load(conn)
            .await?;
        diesel::sql_query(
            "UPDATE dex_entries d SET catch_date = d.catch_date + interval '1 microsecond' \
             WHERE d.animal_id = $1 AND EXISTS (SELECT 1 FROM dex_entries o \
               WHERE o.animal_id = $2 AND o.owner_id = d.owner_id AND o.catch_date = d.catch_date)",
        )
        .bind::<diesel::sql_types::Uuid, _>(from)
        .bind::<diesel::sql_types::Uuid, _>(into)
        .execute(conn)
        .await?;
        let entries = diesel::update(dex_entries::table.filter(dex_entries::animal_id.eq(from)))
            .set((
                dex_entries::animal_id.eq(into),
                dex_entries::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        let jobs = diesel::update(
            analysis_jobs::table.filter(analysis_jobs::identified_animal_id.eq(from)),
        )
        .set(analysis_jobs::identified_animal_id.eq(into))
        .execute(conn)
        .await?;
        // Detections name their animal too (`animal_details` is read from them).
        diesel::sql_query(
            "UPDATE analysis_jobs SET detected_animals = (SELECT jsonb_agg(CASE \
               WHEN e->>'animal_id' = $1::text THEN jsonb_set(e, '{animal_id}', to_jsonb($2::text)) \
               ELSE e END ORDER BY n) FROM jsonb_array_elements(detected_animals) \
               WITH ORDINALITY AS t(e, n)) \
             WHERE jsonb_typeof(detected_animals) = 'array' \
               AND detected_animals @> jsonb_build_array(jsonb_build_object('animal_id', $1::text))",
        )
        .bind::<diesel::sql_types::Uuid, _>(from)
        .bind::<diesel::sql_types::Uuid, _>(into)
        .execute(conn)
        .await?;
        Animal::delete(conn, from).await?;
        for owner in &owners {
            User::recount(conn, *owner).await?;
        }
        let moved = json!({"entries": entries, "jobs": jobs, "into": into.to_string(),
            "into_name": dst.scientific_name});
        let mut before = animal_snapshot(&src);
        if let Some(map) = before.as_object_mut() {
            map.insert("id".to_owned(), json!(from.to_string()));
        }
        admin::audit(
            conn,
            actor,
            "animal.merge",
            "animal",
            &from.to_string(),
            Some(before.clone()),
            Some(moved.clone()),
        )
        .await?;
        admin::audit(
            conn,
            actor,
            "animal.merge_into",
            "animal",
            &into.to_string(),
            Some(before),
            Some(moved),
        )
        .await?;
        Ok(Outcome::new(
            format!(
                "animal `{}` merged into `{}`: {entries} entries and {jobs} jobs moved, {} \
                 owners' counters recomputed",
                src.scientific_name,
                dst.scientific_name,
                owners.len()
            ),
            Invalidate::All,
        ))
    })
    .await
}

/// Puts one failed job back to pending.
pub async fn retry_job(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    id: AnalysisJobId,
) -> Result<Outcome, Error> {
    conn.transaction::<_, Error, _>(async |conn| {
        let before = AnalysisJob::find(conn, id)
            .await?
            .ok_or_else(|| Error::NotFoundBecause(format!("no vision job `{id}`")))?;
        let job = AnalysisJob::reset_for_retry(conn, id).await?;
        admin::audit(
            conn,
            actor,
            "job.retry",
            "job",
            &id.to_string(),
            Some(json!({"status": before.status, "error_message": before.error_message})),
            Some(json!({"status": job.status})),
        )
        .await?;
        let mut out = Outcome::new(format!("vision job {id} queued again"), Invalidate::Nothing);
        out.requeue.push(id);
        Ok(out)
    })
    .await
}

/// Puts every failed job created since `since` back to pending.
pub async fn retry_failed_since(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    since: DateTime<Utc>,
) -> Result<Outcome, Error> {
    conn.transaction::<_, Error, _>(async |conn| {
        let ids = admin::failed_job_ids_since(conn, since).await?;
        for id in &ids {
            AnalysisJob::reset_for_retry(conn, *id).await?;
        }
        admin::audit(
            conn,
            actor,
            "job.retry_failed",
            "jobs",
            &format!("failed-since:{}", since.to_rfc3339()),
            Some(json!({"failed": ids.len()})),
            Some(json!({"requeued": ids.iter().map(ToString::to_string).collect::<Vec<_>>()})),
        )
        .await?;
        for id in &ids {
            admin::audit(
                conn,
                actor,
                "job.retry",
                "job",
                &id.to_string(),
                Some(json!({"status": "failed"})),
                Some(json!({"status": "pending"})),
            )
            .await?;
        }
        let mut out = Outcome::new(
            format!(
                "{} failed vision jobs since {} queued again",
                ids.len(),
                since.to_rfc3339()
            ),
            Invalidate::Nothing,
        );
        out.requeue = ids;
        Ok(out)
    })
    .await
}

fn entry_snapshot(e: &DexEntry) -> Value {
    json!({
        "owner_id": e.owner_id.to_string(),
        "animal_id": e.animal_id.to_string(),
        "visibility": e.visibility,
        "catch_date": e.catch_date.to_rfc3339(),
        "notes": e.notes,
    })
}

async fn entry_owner_and_friends(
    conn: &mut AsyncPgConnection,
    owner: UserId,
) -> Result<Vec<UserId>, Error> {
    let mut users = Friendship::friend_ids(conn, owner).await?;
    users.push(owner);
    Ok(users)
}

async fn lock_entry(conn: &mut AsyncPgConnection, id: DexEntryId) -> Result<DexEntry, Error> {
    dex_entries::table
        .find(id)
        .for_update()
        .select(DexEntry::as_select())
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| Error::NotFoundBecause(format!("no dex entry `{id}`")))
}

/// Hides an entry from everybody but its owner (moderation): it becomes private, its image
/// URLs are revoked and friends' syncs list it as removed.
pub async fn hide_entry(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    id: DexEntryId,
) -> Result<Outcome, Error> {
    conn.transaction::<_, Error, _>(async |conn| {
        let before = lock_entry(conn, id).await?;
        let after = DexEntry::update(
            conn,
            id,
            &EntryChanges {
                visibility: Some(Visibility::Private),
                ..EntryChanges::default()
            },
        )
        .await?;
        User::recount(conn, before.owner_id).await?;
        admin::audit(
            conn,
            actor,
            "entry.hide",
            "entry",
            &id.to_string(),
            Some(entry_snapshot(&before)),
            Some(entry_snapshot(&after)),
        )
        .await?;
        let users = entry_owner_and_friends(conn, before.owner_id).await?;
        Ok(Outcome::new(
            format!("dex entry {id} hidden"),
            Invalidate::Users(users),
        ))
    })
    .await
}

/// Deletes an entry and recomputes its owner's counters.
pub async fn delete_entry(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    id: DexEntryId,
) -> Result<Outcome, Error> {
    conn.transaction::<_, Error, _>(async |conn| {
        let before = lock_entry(conn, id).await?;
        DexEntry::delete(conn, id).await?;
        User::recount(conn, before.owner_id).await?;
        let mut snap = entry_snapshot(&before);
        if let Some(map) = snap.as_object_mut() {
            map.insert(
                "owner_username".to_owned(),
                json!(owner_name(conn, before.owner_id).await?),
            );
        }
        admin::audit(
            conn,
            actor,
            "entry.delete",
            "entry",
            &id.to_string(),
            Some(snap),
            None,
        )
        .await?;
        let users = entry_owner_and_friends(conn, before.owner_id).await?;
        Ok(Outcome::new(
            format!("dex entry {id} deleted"),
            Invalidate::Users(users),
        ))
    })
    .await
}

async fn owner_name(conn: &mut AsyncPgConnection, id: UserId) -> Result<String, Error> {
    Ok(users::table
        .find(id)
        .select(users::username)
        .first(conn)
        .await?)
}

/// Records an import started from the console or the command line.
pub async fn record_import_started(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    job: TaxonomyImportJobId,
    path: &str,
) -> Result<(), Error> {
    admin::audit(
        conn,
        actor,
        "taxonomy.import",
        "import",
        &job.to_string(),
        None,
        Some(json!({"path": path})),
    )
    .await?;
    Ok(())
}
