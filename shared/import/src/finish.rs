//! After the rows: counters recomputed, the `creation_index` sequence moved past the imported
//! numbers, animals linked to the imported Catalogue of Life, rows the old database no longer
//! has removed, and the old tables that are not imported listed with the reason.

use diesel::sql_types::{Array, BigInt, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{
    report::{Kind, Report},
    source::{OldDb, START},
};

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

async fn count(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<i64> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn).await?.n)
}

/// Profile counters of every imported user, from their entries (never copied: the old server's
/// counters could be stale).
pub async fn recount_profiles(conn: &mut AsyncPgConnection) -> anyhow::Result<i64> {
    count(
        conn,
        "WITH s AS (SELECT u.id, count(d.id)::int AS total, \
                count(DISTINCT d.animal_id)::int AS uniq, max(d.catch_date) AS last \
              FROM django_import_ids i JOIN users u ON u.id = i.id \
              LEFT JOIN dex_entries d ON d.owner_id = u.id \
              WHERE i.kind = 'users' GROUP BY u.id), \
         up AS (UPDATE user_profiles p SET total_catches = s.total, unique_species = s.uniq, \
                last_catch_date = s.last FROM s WHERE p.user_id = s.id \
                AND (p.total_catches, p.unique_species, p.last_catch_date) \
                    IS DISTINCT FROM (s.total, s.uniq, s.last) RETURNING 1) \
         SELECT count(*) AS n FROM up",
    )
    .await
}

/// Moves the sequence so the next animal created here gets the number after the largest one
/// (imported or not). Returns that next number.
pub async fn advance_sequence(conn: &mut AsyncPgConnection) -> anyhow::Result<i64> {
    count(
        conn,
        "SELECT CASE WHEN m.max > s.used \
                THEN setval('animals_creation_index_seq', m.max) + 1 ELSE s.used + 1 END AS n \
         FROM (SELECT coalesce(max(creation_index), 0)::bigint AS max FROM animals) m, \
              (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS used \
               FROM animals_creation_index_seq) s",
    )
    .await
}

/// Links imported animals without a taxon to the Catalogue of Life taxon of the same accepted
/// name, when exactly one exists. Returns how many were linked.
pub async fn link_taxa(conn: &mut AsyncPgConnection) -> anyhow::Result<i64> {
    count(
        conn,
        "WITH t AS (SELECT lower(scientific_name) AS name, min(id::text)::uuid AS id \
              FROM taxa WHERE status = 'accepted' GROUP BY 1 HAVING count(*) = 1), \
         up AS (UPDATE animals a SET taxonomy_id = t.id FROM t, django_import_ids i \
                WHERE i.kind = 'animals' AND i.id = a.id AND a.taxonomy_id IS NULL \
                  AND lower(a.scientific_name) = t.name RETURNING 1) \
         SELECT count(*) AS n FROM up",
    )
    .await
}

/// The table of each kind, here and in the old database (the names are the same).
fn table(kind: Kind) -> &'static str {
    match kind {
        Kind::Users => "users",
        Kind::Animals => "animals",
        Kind::Friendships => "friendships",
        Kind::Conversions => "image_conversions",
        Kind::VisionJobs => "analysis_jobs",
        Kind::DexEntries => "dex_entries",
    }
}

/// Every id of an old table, read in batches.
pub async fn old_ids(old: &mut OldDb, table: &str) -> anyhow::Result<Vec<Uuid>> {
    let sql = format!(
        "SELECT coalesce(jsonb_agg(id ORDER BY id), '[]')::text AS batch FROM \
         (SELECT id FROM {table} WHERE id > $1::uuid ORDER BY id LIMIT $2) t"
    );
    let mut all = Vec::new();
    let mut cursor = START.to_owned();
    loop {
        let ids: Vec<Uuid> = old.batch(&sql, &cursor, 10_000).await?;
        let Some(last) = ids.last() else { break };
        cursor = last.to_string();
        all.extend(ids);
    }
    Ok(all)
}

/// Deletes the rows of `kind` an earlier run imported that the old database no longer has
/// (deleted there since; never a row created on this server). Entries leave a removal record,
/// so clients drop them at their next sync.
pub async fn delete_gone(
    conn: &mut AsyncPgConnection,
    old: &mut OldDb,
    kind: Kind,
) -> anyhow::Result<u64> {
    let table = table(kind);
    let present = old_ids(old, table).await?;
    #[derive(diesel::QueryableByName)]
    struct Gone {
        #[diesel(sql_type = SqlUuid)]
        id: Uuid,
    }
    let gone: Vec<Uuid> = diesel::sql_query(
        "SELECT id FROM django_import_ids WHERE kind = $1 \
         EXCEPT SELECT unnest($2::uuid[])",
    )
    .bind::<Text, _>(kind.name())
    .bind::<Array<SqlUuid>, _>(&present)
    .load::<Gone>(conn)
    .await?
    .into_iter()
    .map(|g| g.id)
    .collect();
    if gone.is_empty() {
        return Ok(0);
    }
    if kind == Kind::DexEntries {
        diesel::sql_query(
            "INSERT INTO dex_entry_removals (entry_id, owner_id, reason, visibility) \
             SELECT id, owner_id, 'deleted', visibility FROM dex_entries WHERE id = ANY($1)",
        )
        .bind::<Array<SqlUuid>, _>(&gone)
        .execute(conn)
        .await?;
    }
    let deleted = diesel::sql_query(format!("DELETE FROM {table} WHERE id = ANY($1)"))
        .bind::<Array<SqlUuid>, _>(&gone)
        .execute(conn)
        .await?;
    diesel::sql_query("DELETE FROM django_import_ids WHERE kind = $1 AND id = ANY($2)")
        .bind::<Text, _>(kind.name())
        .bind::<Array<SqlUuid>, _>(&gone)
        .execute(conn)
        .await?;
    Ok(deleted as u64)
}

/// Old tables that are not imported, and why.
const NOT_IMPORTED: &[(&str, &str)] = &[
    (
        "token_blacklist_outstandingtoken",
        "old tokens are signed with the old SECRET_KEY; every user signs in again",
    ),
    ("token_blacklist_blacklistedtoken", "as above"),
    ("django_session", "sessions of the old admin site"),
    (
        "django_admin_log",
        "history of the old admin site (keep the old database to consult it)",
    ),
    (
        "processed_images",
        "never written by the old server's code paths",
    ),
    (
        "taxonomy_taxonomy",
        "the Catalogue of Life is imported from its release with import-col",
    ),
    ("taxonomy_commonname", "as above"),
    ("taxonomy_geographicdistribution", "as above"),
    ("taxonomy_namerelation", "as above"),
    ("taxonomy_raw_catalogue_of_life", "as above"),
    ("taxonomy_importjob", "as above"),
    ("taxonomy_datasource", "as above"),
    (
        "taxonomy_taxonomicrank",
        "this server ships its own rank table",
    ),
    (
        "auth_group",
        "Django permission groups: this server knows only staff and superuser",
    ),
    ("auth_group_permissions", "as above"),
    ("users_groups", "as above"),
    ("users_user_permissions", "as above"),
    ("auth_permission", "Django's own bookkeeping"),
    ("django_content_type", "Django's own bookkeeping"),
    ("django_migrations", "Django's own bookkeeping"),
];

/// Lists the tables left behind, with notes where they held something that mattered.
pub async fn not_imported(old: &mut OldDb, report: &mut Report) -> anyhow::Result<()> {
    report.not_imported.clear();
    for (table, why) in NOT_IMPORTED {
        if let Some(rows) = old.table_rows(table).await? {
            report
                .not_imported
                .push(((*table).to_owned(), rows, (*why).to_owned()));
            if rows > 0 && matches!(*table, "users_groups" | "users_user_permissions") {
                report.notes.push(format!(
                    "{table} has {rows} rows: those permissions are not carried over; grant \
                     staff where needed"
                ));
            }
        }
    }
    Ok(())
}

/// How many imported users have a password hash this server cannot check (they must be given
/// a new password; Django's `pbkdf2_sha256` and unusable `!` hashes are the expected ones).
pub async fn foreign_hashes(conn: &mut AsyncPgConnection) -> anyhow::Result<i64> {
    count(
        conn,
        "SELECT count(*) AS n FROM users u JOIN django_import_ids i \
           ON i.kind = 'users' AND i.id = u.id \
         WHERE u.password_hash NOT LIKE 'pbkdf2\\_sha256$%' \
           AND u.password_hash NOT LIKE '$argon2%' AND u.password_hash NOT LIKE '!%'",
    )
    .await
}
