//! Dex entries (a user's catches), who may see them, and the log of entries that left someone's
//! view (for the sync `deleted` list).
//!
//! Visibility: `private` → the owner; `friends` → the owner and accepted friends; `public` →
//! every signed-in user. Users who blocked each other see nothing of each other.

use biologidex_core::ids::{AnalysisJobId, AnimalId, DexEntryId, StoredImageId, UserId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::text_enum::text_enum;
use crate::{
    models::friendships::Friendship,
    schema::{analysis_jobs, animals, dex_entries, dex_entry_removals, users},
};
use biologidex_core::{Error, error::unique_violation};

text_enum! {
    /// Who sees a dex entry: its owner only, also the owner's friends, or every signed-in user.
    pub enum Visibility {
        Private = "private",
        Friends = "friends",
        Public = "public",
    }
}

impl Visibility {
    /// A lower rank shows the entry to fewer people.
    pub fn rank(self) -> u8 {
        match self {
            Visibility::Public => 2,
            Visibility::Friends => 1,
            Visibility::Private => 0,
        }
    }
}

/// A dex entry row.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = dex_entries)]
pub struct DexEntry {
    pub id: DexEntryId,
    pub owner_id: UserId,
    pub animal_id: AnimalId,
    pub source_vision_job_id: Option<AnalysisJobId>,
    pub image_id: Option<StoredImageId>,
    pub image_token: Option<String>,
    pub image_checksum: Option<String>,
    pub location_lat: Option<f64>,
    pub location_lon: Option<f64>,
    pub location_name: String,
    pub notes: String,
    pub customizations: Value,
    pub catch_date: DateTime<Utc>,
    pub visibility: Visibility,
    pub is_favorite: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The animal fields shown with an entry.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = animals)]
pub struct AnimalBrief {
    pub id: AnimalId,
    pub scientific_name: String,
    pub common_name: String,
    pub conservation_status: String,
    pub creation_index: i32,
    pub verified: bool,
    pub created_by_id: Option<UserId>,
}

/// An entry with its owner's name, its animal and its source job's times (one query).
#[derive(Debug, Clone, Queryable, Selectable)]
pub struct DexEntryView {
    #[diesel(embed)]
    pub entry: DexEntry,
    #[diesel(select_expression = users::username)]
    #[diesel(select_expression_type = users::username)]
    pub owner_username: String,
    #[diesel(embed)]
    pub animal: AnimalBrief,
    #[diesel(select_expression = analysis_jobs::completed_at.nullable())]
    #[diesel(select_expression_type = diesel::dsl::Nullable<analysis_jobs::completed_at>)]
    pub job_completed_at: Option<DateTime<Utc>>,
    #[diesel(select_expression = analysis_jobs::created_at.nullable())]
    #[diesel(select_expression_type = diesel::dsl::Nullable<analysis_jobs::created_at>)]
    pub job_created_at: Option<DateTime<Utc>>,
}

impl DexEntryView {
    /// When the image last changed: the source job's completion (or creation), else the entry's
    /// last update.
    pub fn image_updated_at(&self) -> DateTime<Utc> {
        self.job_completed_at
            .or(self.job_created_at)
            .unwrap_or(self.entry.updated_at)
    }
}

/// Who is looking: their id, accepted friends and users blocked either way.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub id: UserId,
    pub friends: Vec<UserId>,
    pub blocked: Vec<UserId>,
}

impl Viewer {
    /// The viewer with their friends and blocks (one indexed query).
    pub async fn load(conn: &mut AsyncPgConnection, id: UserId) -> QueryResult<Viewer> {
        let (friends, blocked) = Friendship::relations(conn, id).await?;
        Ok(Viewer {
            id,
            friends,
            blocked,
        })
    }

    /// The viewer for their own entries only: relations do not matter there.
    pub fn owner(id: UserId) -> Viewer {
        Viewer {
            id,
            friends: Vec::new(),
            blocked: Vec::new(),
        }
    }

    /// May this viewer see `owner`'s entries of visibility `v`?
    pub fn may_see(&self, owner: UserId, v: Visibility) -> bool {
        owner == self.id
            || (!self.blocked.contains(&owner)
                && (v == Visibility::Public
                    || (v == Visibility::Friends && self.friends.contains(&owner))))
    }

    /// The visibilities of `owner`'s entries this viewer sees.
    pub fn visible_levels(&self, owner: UserId) -> &'static [Visibility] {
        if owner == self.id {
            Visibility::ALL
        } else if self.blocked.contains(&owner) {
            &[]
        } else if self.friends.contains(&owner) {
            &[Visibility::Friends, Visibility::Public]
        } else {
            &[Visibility::Public]
        }
    }
}

/// The visibility rule in SQL (the same as [`Viewer::may_see`]); the tree uses it too.
#[diesel::dsl::auto_type]
pub(crate) fn visible_to(viewer: UserId, friends: Vec<UserId>, blocked: Vec<UserId>) -> _ {
    let public: Visibility = Visibility::Public;
    let friends_only: Visibility = Visibility::Friends;
    dex_entries::owner_id
        .eq(viewer)
        .or(dex_entries::visibility
            .eq(public)
            .and(dex_entries::owner_id.ne_all(blocked)))
        .or(dex_entries::visibility
            .eq(friends_only)
            .and(dex_entries::owner_id.eq_any(friends)))
}

pub(crate) fn visible(viewer: &Viewer) -> visible_to {
    visible_to(viewer.id, viewer.friends.clone(), viewer.blocked.clone())
}

/// Filters of the entry list.
#[derive(Debug, Clone, Default)]
pub struct EntryQuery {
    pub animal: Option<AnimalId>,
    pub visibility: Option<Visibility>,
    pub is_favorite: Option<bool>,
    pub search: Vec<String>,
    /// (column, descending): catch_date or created_at; default newest catch first.
    pub ordering: Vec<(String, bool)>,
}

/// What a new entry is made of.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub owner_id: UserId,
    pub animal_id: AnimalId,
    pub source_vision_job_id: Option<AnalysisJobId>,
    pub image_id: Option<StoredImageId>,
    pub image_checksum: Option<String>,
    pub location_lat: Option<f64>,
    pub location_lon: Option<f64>,
    pub location_name: String,
    pub notes: String,
    pub catch_date: Option<DateTime<Utc>>,
    pub visibility: Visibility,
}

/// Fields an owner may edit; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct EntryChanges {
    pub animal_id: Option<AnimalId>,
    pub notes: Option<String>,
    pub customizations: Option<Value>,
    pub visibility: Option<Visibility>,
    pub is_favorite: Option<bool>,
    pub location_name: Option<String>,
}

/// A fresh 128-bit capability token (hex) for an image URL.
pub fn new_image_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

fn duplicate(e: diesel::result::Error) -> Error {
    if unique_violation(&e) == Some("dex_entries_owner_animal_catch_date_key") {
        Error::field(
            "animal",
            "You already have an entry of this animal with this catch_date.",
        )
    } else {
        e.into()
    }
}

macro_rules! view_query {
    () => {
        dex_entries::table
            .inner_join(users::table)
            .inner_join(animals::table)
            .left_join(analysis_jobs::table)
            .select(DexEntryView::as_select())
    };
}

/// Applies an [`EntryQuery`]'s filters and search to a boxed query over entries ⋈ animals.
macro_rules! entry_filters {
    ($query:expr, $q:expr) => {{
        let mut query = $query;
        let q: &EntryQuery = $q;
        if let Some(a) = q.animal {
            query = query.filter(dex_entries::animal_id.eq(a));
        }
        if let Some(v) = &q.visibility {
            query = query.filter(dex_entries::visibility.eq(*v));
        }
        if let Some(f) = q.is_favorite {
            query = query.filter(dex_entries::is_favorite.eq(f));
        }
        for term in &q.search {
            let p = super::animals::like_pattern(term);
            query = query.filter(
                animals::scientific_name
                    .ilike(p.clone())
                    .or(animals::common_name.ilike(p.clone()))
                    .or(dex_entries::notes.ilike(p)),
            );
        }
        query
    }};
}

impl DexEntry {
    /// How many entries the viewer may see, after filters.
    pub async fn count_visible(
        conn: &mut AsyncPgConnection,
        viewer: &Viewer,
        q: &EntryQuery,
    ) -> QueryResult<i64> {
        let query = dex_entries::table
            .inner_join(animals::table)
            .filter(visible(viewer))
            .count()
            .into_boxed();
        entry_filters!(query, q).get_result(conn).await
    }

    /// One page of the entries the viewer may see (one query).
    pub async fn list_visible(
        conn: &mut AsyncPgConnection,
        viewer: &Viewer,
        q: &EntryQuery,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<DexEntryView>> {
        let query = view_query!().filter(visible(viewer)).into_boxed();
        let mut query = entry_filters!(query, q);
        if q.ordering.is_empty() {
            query = query.order(dex_entries::catch_date.desc());
        }
        for (col, desc) in &q.ordering {
            query = match (col.as_str(), desc) {
                ("created_at", false) => query.then_order_by(dex_entries::created_at.asc()),
                ("created_at", true) => query.then_order_by(dex_entries::created_at.desc()),
                ("catch_date", false) => query.then_order_by(dex_entries::catch_date.asc()),
                _ => query.then_order_by(dex_entries::catch_date.desc()),
            };
        }
        query
            .then_order_by(dex_entries::id)
            .offset(offset)
            .limit(limit)
            .load(conn)
            .await
    }

    /// One entry, if the viewer may see it.
    pub async fn find_visible(
        conn: &mut AsyncPgConnection,
        viewer: &Viewer,
        id: DexEntryId,
    ) -> QueryResult<Option<DexEntryView>> {
        view_query!()
            .filter(dex_entries::id.eq(id))
            .filter(visible(viewer))
            .first(conn)
            .await
            .optional()
    }

    /// The owner's entries, newest catch first (`favorites_only` for the favourites list).
    pub async fn list_own(
        conn: &mut AsyncPgConnection,
        owner: UserId,
        favorites_only: bool,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<DexEntryView>> {
        let mut query = view_query!()
            .filter(dex_entries::owner_id.eq(owner))
            .into_boxed();
        if favorites_only {
            query = query.filter(dex_entries::is_favorite.eq(true));
        }
        query
            .order((dex_entries::catch_date.desc(), dex_entries::id))
            .offset(offset)
            .limit(limit)
            .load(conn)
            .await
    }

    /// One page of the owner's entries in Pokédex order, and how many they have in all (one
    /// statement; the total is `None` when the page is empty).
    pub async fn page_own(
        conn: &mut AsyncPgConnection,
        owner: UserId,
        offset: i64,
        limit: i64,
    ) -> QueryResult<(Vec<DexEntryView>, Option<i64>)> {
        // Boxed, so diesel lets the subquery name the table the outer query reads.
        let total = dex_entries::table
            .filter(dex_entries::owner_id.eq(owner))
            .count()
            .into_boxed()
            .single_value();
        let rows: Vec<(DexEntryView, Option<i64>)> = dex_entries::table
            .inner_join(users::table)
            .inner_join(animals::table)
            .left_join(analysis_jobs::table)
            .select((DexEntryView::as_select(), total))
            .filter(dex_entries::owner_id.eq(owner))
            .order((dex_entries::catch_date.desc(), dex_entries::id))
            .offset(offset)
            .limit(limit)
            .load(conn)
            .await?;
        Ok(super::with_total(rows))
    }

    /// How many entries the owner has.
    pub async fn count_own(conn: &mut AsyncPgConnection, owner: UserId) -> QueryResult<i64> {
        dex_entries::table
            .filter(dex_entries::owner_id.eq(owner))
            .count()
            .get_result(conn)
            .await
    }

    /// The viewer's and their friends' newest catches (strangers' public entries excluded).
    pub async fn recent(
        conn: &mut AsyncPgConnection,
        viewer: &Viewer,
        limit: i64,
    ) -> QueryResult<Vec<DexEntryView>> {
        let mut circle = viewer.friends.clone();
        circle.push(viewer.id);
        view_query!()
            .filter(visible(viewer))
            .filter(dex_entries::owner_id.eq_any(circle))
            .order((dex_entries::catch_date.desc(), dex_entries::id))
            .limit(limit)
            .load(conn)
            .await
    }

    /// `owner`'s entries the viewer may see, changed after `since`, in Pokédex order.
    pub async fn sync(
        conn: &mut AsyncPgConnection,
        viewer: &Viewer,
        owner: UserId,
        since: Option<DateTime<Utc>>,
    ) -> QueryResult<Vec<DexEntryView>> {
        Self::sync_many(conn, viewer, &[owner], since).await
    }

    /// Entries of several owners the viewer may see, changed at or after `since` (one query;
    /// callers split the rows by owner).
    pub async fn sync_many(
        conn: &mut AsyncPgConnection,
        viewer: &Viewer,
        owners: &[UserId],
        since: Option<DateTime<Utc>>,
    ) -> QueryResult<Vec<DexEntryView>> {
        let mut query = view_query!()
            .filter(dex_entries::owner_id.eq_any(owners))
            .filter(visible(viewer))
            .into_boxed();
        if let Some(since) = since {
            // `>=`: an entry stamped exactly at the last server_time is sent again rather than
            // risk missing it (repeats are fine, the client upserts).
            query = query.filter(dex_entries::updated_at.ge(since));
        }
        query
            .order((
                animals::creation_index.asc(),
                dex_entries::catch_date.asc(),
                dex_entries::id,
            ))
            .load(conn)
            .await
    }

    /// Ids of `owner`'s entries that left the viewer's view since `since` and are not visible
    /// to them now: an entry deleted or narrowed is listed only to viewers whose visible set
    /// held it (a stranger never learns the ids of friends-only or private entries).
    pub async fn removed_since(
        conn: &mut AsyncPgConnection,
        viewer: &Viewer,
        owner: UserId,
        since: DateTime<Utc>,
    ) -> QueryResult<Vec<DexEntryId>> {
        let mut gone = Self::removed_since_many(conn, viewer, &[(owner, since)]).await?;
        Ok(gone.pop().unwrap_or_default())
    }

    /// [`DexEntry::removed_since`] for several owners at once, each with its own `since`: two
    /// queries however many owners (a batch sync of every friend). One sorted answer per ask.
    pub async fn removed_since_many(
        conn: &mut AsyncPgConnection,
        viewer: &Viewer,
        asks: &[(UserId, DateTime<Utc>)],
    ) -> QueryResult<Vec<Vec<DexEntryId>>> {
        use std::collections::BTreeSet;
        let Some(oldest) = asks.iter().map(|(_, t)| *t).min() else {
            return Ok(Vec::new());
        };
        let owners: Vec<UserId> = asks.iter().map(|(o, _)| *o).collect();
        type Removal = (
            UserId,
            DexEntryId,
            Option<UserId>,
            DateTime<Utc>,
            Option<String>,
        );
        let rows: Vec<Removal> = dex_entry_removals::table
            .filter(dex_entry_removals::owner_id.eq_any(&owners))
            .filter(dex_entry_removals::removed_at.ge(oldest))
            .filter(
                dex_entry_removals::viewer_id
                    .eq(viewer.id)
                    .or(dex_entry_removals::viewer_id.is_null()),
            )
            .select((
                dex_entry_removals::owner_id,
                dex_entry_removals::entry_id,
                dex_entry_removals::viewer_id,
                dex_entry_removals::removed_at,
                dex_entry_removals::visibility,
            ))
            .load(conn)
            .await?;
        // Only what the viewer could see at the level it had (older rows: unknown).
        let theirs = |(owner, _, seen_by, _, level): &Removal| {
            *seen_by == Some(viewer.id)
                || (seen_by.is_none()
                    && level.as_deref().is_none_or(|v| {
                        viewer
                            .visible_levels(*owner)
                            .iter()
                            .any(|l| l.as_str() == v)
                    }))
        };
        let mut answers: Vec<BTreeSet<DexEntryId>> = asks
            .iter()
            .map(|(owner, since)| {
                rows.iter()
                    .filter(|r| r.0 == *owner && r.3 >= *since && theirs(r))
                    .map(|r| r.1)
                    .collect()
            })
            .collect();
        let ids: BTreeSet<DexEntryId> = answers.iter().flatten().copied().collect();
        if !ids.is_empty() {
            // Entries back in view (visibility raised again) are not gone.
            let ids: Vec<DexEntryId> = ids.into_iter().collect();
            let still: Vec<(DexEntryId, UserId, Visibility)> = dex_entries::table
                .filter(dex_entries::id.eq_any(&ids))
                .select((
                    dex_entries::id,
                    dex_entries::owner_id,
                    dex_entries::visibility,
                ))
                .load(conn)
                .await?;
            for (id, owner, level) in still {
                if viewer.visible_levels(owner).contains(&level) {
                    answers.iter_mut().for_each(|a| {
                        a.remove(&id);
                    });
                }
            }
        }
        Ok(answers
            .into_iter()
            .map(|a| a.into_iter().collect())
            .collect())
    }

    /// Inserts an entry; call inside the transaction that stored its image.
    pub async fn insert(conn: &mut AsyncPgConnection, new: &NewEntry) -> Result<DexEntry, Error> {
        let token = new.image_id.map(|_| new_image_token());
        let row = diesel::insert_into(dex_entries::table)
            .values((
                dex_entries::owner_id.eq(new.owner_id),
                dex_entries::animal_id.eq(new.animal_id),
                dex_entries::source_vision_job_id.eq(new.source_vision_job_id),
                dex_entries::image_id.eq(new.image_id),
                dex_entries::image_token.eq(token),
                dex_entries::image_checksum.eq(&new.image_checksum),
                dex_entries::location_lat.eq(new.location_lat),
                dex_entries::location_lon.eq(new.location_lon),
                dex_entries::location_name.eq(&new.location_name),
                dex_entries::notes.eq(&new.notes),
                dex_entries::visibility.eq(&new.visibility),
                new.catch_date.map(|d| dex_entries::catch_date.eq(d)),
            ))
            .returning(DexEntry::as_returning())
            .get_result(conn)
            .await
            .map_err(duplicate)?;
        Ok(row)
    }

    /// Applies an owner's edits. Narrowing the visibility rotates the image token (revoking
    /// URLs handed out before) and logs the removal for friends' syncs. Call in a transaction.
    pub async fn update(
        conn: &mut AsyncPgConnection,
        id: DexEntryId,
        changes: &EntryChanges,
    ) -> Result<DexEntry, Error> {
        let current: DexEntry = dex_entries::table
            .find(id)
            .select(DexEntry::as_select())
            .for_update()
            .first(conn)
            .await?;
        let narrowed = changes
            .visibility
            .is_some_and(|v| v.rank() < current.visibility.rank());
        let token = (narrowed && current.image_id.is_some()).then(new_image_token);
        let row = diesel::update(dex_entries::table.find(id))
            .set((
                changes.animal_id.map(|a| dex_entries::animal_id.eq(a)),
                changes.notes.clone().map(|n| dex_entries::notes.eq(n)),
                changes
                    .customizations
                    .clone()
                    .map(|c| dex_entries::customizations.eq(c)),
                changes.visibility.map(|v| dex_entries::visibility.eq(v)),
                changes.is_favorite.map(|f| dex_entries::is_favorite.eq(f)),
                changes
                    .location_name
                    .clone()
                    .map(|l| dex_entries::location_name.eq(l)),
                token.map(|t| dex_entries::image_token.eq(t)),
                dex_entries::updated_at.eq(diesel::dsl::now),
            ))
            .returning(DexEntry::as_returning())
            .get_result(conn)
            .await
            .map_err(duplicate)?;
        if narrowed {
            let was = Some(current.visibility);
            log_removals(conn, &[(row.id, row.owner_id)], "visibility", None, was).await?;
        }
        Ok(row)
    }

    /// Flips the favourite flag (bumping `updated_at`, so the next sync carries it).
    pub async fn toggle_favorite(
        conn: &mut AsyncPgConnection,
        id: DexEntryId,
    ) -> QueryResult<DexEntry> {
        diesel::update(dex_entries::table.find(id))
            .set((
                dex_entries::is_favorite.eq(diesel::dsl::not(dex_entries::is_favorite)),
                dex_entries::updated_at.eq(diesel::dsl::now),
            ))
            .returning(DexEntry::as_returning())
            .get_result(conn)
            .await
    }

    /// Deletes an entry and logs it for syncs. Call in a transaction.
    pub async fn delete(
        conn: &mut AsyncPgConnection,
        id: DexEntryId,
    ) -> QueryResult<Option<DexEntry>> {
        let row: Option<DexEntry> = diesel::delete(dex_entries::table.find(id))
            .returning(DexEntry::as_returning())
            .get_result(conn)
            .await
            .optional()?;
        if let Some(r) = &row {
            let was = Some(r.visibility);
            log_removals(conn, &[(r.id, r.owner_id)], "deleted", None, was).await?;
        }
        Ok(row)
    }

    /// A friendship between `a` and `b` ended: each one's friends-only entries leave the other's
    /// view, and their image tokens are rotated (URLs the other still holds stop working).
    pub async fn on_friendship_ended(
        conn: &mut AsyncPgConnection,
        a: UserId,
        b: UserId,
    ) -> QueryResult<()> {
        for (owner, viewer) in [(a, b), (b, a)] {
            let rows: Vec<(DexEntryId, Option<StoredImageId>)> = dex_entries::table
                .filter(dex_entries::owner_id.eq(owner))
                .filter(dex_entries::visibility.eq(Visibility::Friends))
                .select((dex_entries::id, dex_entries::image_id))
                .load(conn)
                .await?;
            for (id, image) in &rows {
                if image.is_some() {
                    diesel::update(dex_entries::table.find(id))
                        .set(dex_entries::image_token.eq(new_image_token()))
                        .execute(conn)
                        .await?;
                }
            }
            let entries: Vec<(DexEntryId, UserId)> =
                rows.iter().map(|(id, _)| (*id, owner)).collect();
            log_removals(conn, &entries, "unfriend", Some(viewer), None).await?;
        }
        Ok(())
    }

    /// The image reachable through a capability token: (storage key, content type).
    pub async fn image_by_token(
        conn: &mut AsyncPgConnection,
        token: &str,
    ) -> QueryResult<Option<(String, String)>> {
        use crate::schema::stored_images;
        dex_entries::table
            .inner_join(stored_images::table)
            .filter(dex_entries::image_token.eq(token))
            .select((stored_images::storage_key, stored_images::content_type))
            .first(conn)
            .await
            .optional()
    }
}

async fn log_removals(
    conn: &mut AsyncPgConnection,
    entries: &[(DexEntryId, UserId)],
    reason: &str,
    viewer: Option<UserId>,
    was: Option<Visibility>,
) -> QueryResult<usize> {
    if entries.is_empty() {
        return Ok(0);
    }
    let rows: Vec<_> = entries
        .iter()
        .map(|(id, owner)| {
            (
                dex_entry_removals::entry_id.eq(*id),
                dex_entry_removals::owner_id.eq(*owner),
                dex_entry_removals::reason.eq(reason),
                dex_entry_removals::viewer_id.eq(viewer),
                dex_entry_removals::visibility.eq(was),
            )
        })
        .collect();
    diesel::insert_into(dex_entry_removals::table)
        .values(rows)
        .execute(conn)
        .await
}

/// A friend's sync summary.
#[derive(Debug, Clone, Queryable)]
pub struct FriendActivity {
    pub owner_id: UserId,
    pub total_entries: i64,
    pub latest_update: Option<DateTime<Utc>>,
}

/// Counts of friends-or-public entries per owner, for the friends overview (one query).
pub async fn friend_activity(
    conn: &mut AsyncPgConnection,
    owners: &[UserId],
) -> QueryResult<Vec<FriendActivity>> {
    dex_entries::table
        .filter(dex_entries::owner_id.eq_any(owners))
        .filter(dex_entries::visibility.eq_any([Visibility::Friends, Visibility::Public]))
        .group_by(dex_entries::owner_id)
        .select((
            dex_entries::owner_id,
            diesel::dsl::count_star(),
            diesel::dsl::max(dex_entries::updated_at),
        ))
        .load(conn)
        .await
}

/// A `server_time` for sync responses that no later-committed change can fall before: the
/// start of the oldest transaction still running (changes are stamped with their
/// transaction's start), or now. Take it before reading the entries.
pub async fn sync_watermark(conn: &mut AsyncPgConnection) -> QueryResult<DateTime<Utc>> {
    // A function of migrations/2026-12-02-000070_read_paths: a prepared call, a cached plan.
    diesel::select(biologidex_sync_watermark())
        .get_result(conn)
        .await
}

diesel::define_sql_function! {
    /// The sync watermark, computed in the database.
    fn biologidex_sync_watermark() -> diesel::sql_types::Timestamptz;
}

/// Usernames of animal creators (one query).
pub async fn creator_names(
    conn: &mut AsyncPgConnection,
    ids: &[UserId],
) -> QueryResult<Vec<(UserId, String)>> {
    users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::username))
        .load(conn)
        .await
}
