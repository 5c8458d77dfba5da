//! The operators' console: its audit trail, its cookie sessions and the read queries of its
//! pages (searches across every user, which the API's visibility-scoped queries never do).

use biologidex_core::ids::{AnalysisJobId, AnimalId, DexEntryId, TaxonomyImportJobId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Date, Double, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::{
    models::animals::like_pattern,
    schema::{admin_audit_log, admin_sessions, analysis_jobs, animals, dex_entries, users},
};

/// Who acted: a signed-in staff member, or the command line (`id` is `None`).
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<UserId>,
    pub name: String,
}

impl Actor {
    /// The command line, named after the operating-system user when known.
    pub fn cli() -> Actor {
        let who = std::env::var("USER").unwrap_or_default();
        Actor {
            id: None,
            name: if who.is_empty() {
                "cli".to_owned()
            } else {
                format!("cli:{who}")
            },
        }
    }
}

/// One audit row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admin_audit_log)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<UserId>,
    pub actor_name: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub created_at: DateTime<Utc>,
}

/// Writes an audit row; call in the transaction of the change it records.
pub async fn audit(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    action: &str,
    object_type: &str,
    object_id: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> QueryResult<usize> {
    diesel::insert_into(admin_audit_log::table)
        .values((
            admin_audit_log::actor_id.eq(actor.id),
            admin_audit_log::actor_name.eq(&actor.name),
            admin_audit_log::action.eq(action),
            admin_audit_log::object_type.eq(object_type),
            admin_audit_log::object_id.eq(object_id),
            admin_audit_log::before.eq(before),
            admin_audit_log::after.eq(after),
        ))
        .execute(conn)
        .await
}

/// Which audit rows a page shows.
#[derive(Debug, Clone, Copy)]
pub enum AuditScope<'a> {
    /// Every object.
    All,
    /// One kind of object (`"entry"`, `"import"`, ...).
    Type(&'a str),
    /// One object.
    Object(&'a str, &'a str),
}

/// The newest audit rows of `scope`.
pub async fn audit_rows(
    conn: &mut AsyncPgConnection,
    scope: AuditScope<'_>,
    limit: i64,
) -> QueryResult<Vec<AuditEntry>> {
    let mut q = admin_audit_log::table.into_boxed();
    match scope {
        AuditScope::All => {}
        AuditScope::Type(t) => q = q.filter(admin_audit_log::object_type.eq(t)),
        AuditScope::Object(t, id) => {
            q = q
                .filter(admin_audit_log::object_type.eq(t))
                .filter(admin_audit_log::object_id.eq(id));
        }
    }
    q.order((
        admin_audit_log::created_at.desc(),
        admin_audit_log::id.desc(),
    ))
    .limit(limit)
    .select(AuditEntry::as_select())
    .load(conn)
    .await
}

/// A live console session with the facts that keep it alive.
#[derive(Debug, Clone, Queryable)]
pub struct SessionUser {
    pub user_id: UserId,
    pub username: String,
    pub csrf_token: String,
    pub is_active: bool,
    pub is_staff: bool,
}

/// Stores a new session (`token_hash`: hex SHA-256 of the cookie value).
pub async fn create_session(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
    user_id: UserId,
    csrf_token: &str,
    expires_at: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(admin_sessions::table)
        .values((
            admin_sessions::token_hash.eq(token_hash),
            admin_sessions::user_id.eq(user_id),
            admin_sessions::csrf_token.eq(csrf_token),
            admin_sessions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
}

/// The unexpired session of a cookie, with its user's current flags.
pub async fn find_session(
    conn: &mut AsyncPgConnection,
    token_hash: &str,
) -> QueryResult<Option<SessionUser>> {
    admin_sessions::table
        .inner_join(users::table)
        .filter(admin_sessions::token_hash.eq(token_hash))
        .filter(admin_sessions::expires_at.gt(diesel::dsl::now))
        .select((
            users::id,
            users::username,
            admin_sessions::csrf_token,
            users::is_active,
            users::is_staff,
        ))
        .first(conn)
        .await
        .optional()
}

/// Ends one session (logout).
pub async fn delete_session(conn: &mut AsyncPgConnection, token_hash: &str) -> QueryResult<usize> {
    diesel::delete(admin_sessions::table.filter(admin_sessions::token_hash.eq(token_hash)))
        .execute(conn)
        .await
}

/// Ends every console session of a user (deactivated, staff removed, password reset).
pub async fn delete_sessions_of(conn: &mut AsyncPgConnection, user: UserId) -> QueryResult<usize> {
    diesel::delete(admin_sessions::table.filter(admin_sessions::user_id.eq(user)))
        .execute(conn)
        .await
}

/// A user row as the console lists it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub email: String,
    pub friend_code: String,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub last_login: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Users whose name, email or friend code contains `q` (all of them when empty), newest first.
pub async fn search_users(
    conn: &mut AsyncPgConnection,
    q: &str,
    limit: i64,
) -> QueryResult<Vec<UserRow>> {
    let mut query = users::table.into_boxed();
    if !q.trim().is_empty() {
        let p = like_pattern(q.trim());
        query = query.filter(
            users::username
                .ilike(p.clone())
                .or(users::email.ilike(p.clone()))
                .or(users::friend_code.ilike(p)),
        );
    }
    query
        .order((users::created_at.desc(), users::id))
        .limit(limit)
        .select(UserRow::as_select())
        .load(conn)
        .await
}

/// An animal row as the console lists it, with how many entries use it.
#[derive(Debug, Clone, QueryableByName)]
pub struct AnimalRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: AnimalId,
    #[diesel(sql_type = Text)]
    pub scientific_name: String,
    #[diesel(sql_type = Text)]
    pub common_name: String,
    #[diesel(sql_type = Text)]
    pub family: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub creation_index: i32,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub verified: bool,
    #[diesel(sql_type = BigInt)]
    pub entries: i64,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// Animals matching `q` (scientific or common name), unverified ones first.
pub async fn search_animals(
    conn: &mut AsyncPgConnection,
    q: &str,
    only_unverified: bool,
    limit: i64,
) -> QueryResult<Vec<AnimalRow>> {
    diesel::sql_query(
        "SELECT a.id, a.scientific_name::text AS scientific_name, \
                a.common_name::text AS common_name, a.family::text AS family, a.creation_index, \
                a.verified, (SELECT count(*) FROM dex_entries d WHERE d.animal_id = a.id) AS entries, \
                a.created_at \
         FROM animals a \
         WHERE ($1 = '' OR a.scientific_name ILIKE $2 OR a.common_name ILIKE $2) \
           AND (NOT $3 OR NOT a.verified) \
         ORDER BY a.verified, a.created_at DESC, a.id LIMIT $4",
    )
    .bind::<Text, _>(q.trim())
    .bind::<Text, _>(like_pattern(q.trim()))
    .bind::<diesel::sql_types::Bool, _>(only_unverified)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// A dex entry as the console lists it.
#[derive(Debug, Clone, Queryable)]
pub struct EntryRow {
    pub id: DexEntryId,
    pub owner_id: UserId,
    pub owner: String,
    pub animal_id: AnimalId,
    pub animal: String,
    pub visibility: crate::models::dex::Visibility,
    pub catch_date: DateTime<Utc>,
    pub notes: String,
}

/// Entries of a user and/or of an animal, newest catch first.
pub async fn search_entries(
    conn: &mut AsyncPgConnection,
    owner: Option<UserId>,
    animal: Option<AnimalId>,
    limit: i64,
) -> QueryResult<Vec<EntryRow>> {
    let mut query = dex_entries::table
        .inner_join(users::table)
        .inner_join(animals::table)
        .into_boxed();
    if let Some(o) = owner {
        query = query.filter(dex_entries::owner_id.eq(o));
    }
    if let Some(a) = animal {
        query = query.filter(dex_entries::animal_id.eq(a));
    }
    query
        .order((dex_entries::catch_date.desc(), dex_entries::id))
        .limit(limit)
        .select((
            dex_entries::id,
            dex_entries::owner_id,
            users::username,
            dex_entries::animal_id,
            animals::scientific_name,
            dex_entries::visibility,
            dex_entries::catch_date,
            dex_entries::notes,
        ))
        .load(conn)
        .await
}

/// A vision job as the console lists it.
#[derive(Debug, Clone, Queryable)]
pub struct JobRow {
    pub id: AnalysisJobId,
    pub user_id: UserId,
    pub username: String,
    pub status: crate::models::vision::JobStatus,
    pub model_name: String,
    pub error_message: String,
    pub cost_usd: Option<f64>,
    pub retry_count: i32,
    pub created_at: DateTime<Utc>,
}

/// The newest jobs, optionally of one status and/or one user.
pub async fn recent_jobs(
    conn: &mut AsyncPgConnection,
    status: Option<crate::models::vision::JobStatus>,
    user: Option<UserId>,
    limit: i64,
) -> QueryResult<Vec<JobRow>> {
    let mut query = analysis_jobs::table.inner_join(users::table).into_boxed();
    if let Some(s) = status {
        query = query.filter(analysis_jobs::status.eq(s));
    }
    if let Some(u) = user {
        query = query.filter(analysis_jobs::user_id.eq(u));
    }
    query
        .order((analysis_jobs::created_at.desc(), analysis_jobs::id))
        .limit(limit)
        .select((
            analysis_jobs::id,
            analysis_jobs::user_id,
            users::username,
            analysis_jobs::status,
            analysis_jobs::model_name,
            analysis_jobs::error_message,
            analysis_jobs::cost_usd,
            analysis_jobs::retry_count,
            analysis_jobs::created_at,
        ))
        .load(conn)
        .await
}

/// Ids of the failed jobs created since `since`.
pub async fn failed_job_ids_since(
    conn: &mut AsyncPgConnection,
    since: DateTime<Utc>,
) -> QueryResult<Vec<AnalysisJobId>> {
    analysis_jobs::table
        .filter(analysis_jobs::status.eq(crate::models::vision::JobStatus::Failed))
        .filter(analysis_jobs::created_at.ge(since))
        .order(analysis_jobs::created_at)
        .select(analysis_jobs::id)
        .load(conn)
        .await
}

/// Provider cost of one UTC day and model.
#[derive(Debug, Clone, QueryableByName)]
pub struct DailyCost {
    #[diesel(sql_type = Date)]
    pub day: NaiveDate,
    #[diesel(sql_type = Text)]
    pub model: String,
    #[diesel(sql_type = Double)]
    pub cost_usd: f64,
    #[diesel(sql_type = BigInt)]
    pub jobs: i64,
}

/// Cost per UTC day and model over the last `days` days (days without cost are absent).
pub async fn daily_costs(conn: &mut AsyncPgConnection, days: i32) -> QueryResult<Vec<DailyCost>> {
    diesel::sql_query(
        "SELECT (completed_at AT TIME ZONE 'UTC')::date AS day, model_name::text AS model, \
                coalesce(sum(cost_usd), 0)::float8 AS cost_usd, count(*) AS jobs \
         FROM analysis_jobs \
         WHERE completed_at >= (now() AT TIME ZONE 'UTC')::date - $1 AND cost_usd IS NOT NULL \
         GROUP BY 1, 2 ORDER BY 1, 2",
    )
    .bind::<diesel::sql_types::Integer, _>(days)
    .load(conn)
    .await
}

/// One taxonomy import as the console lists it.
#[derive(Debug, Clone, QueryableByName)]
pub struct ImportRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: TaxonomyImportJobId,
    #[diesel(sql_type = Text)]
    pub version: String,
    #[diesel(sql_type = Text)]
    pub status: String,
    #[diesel(sql_type = Text)]
    pub file_path: String,
    #[diesel(sql_type = BigInt)]
    pub records_total: i64,
    #[diesel(sql_type = BigInt)]
    pub records_imported: i64,
    #[diesel(sql_type = BigInt)]
    pub records_failed: i64,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    pub progress: Value,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub started_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub completed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

/// The newest taxonomy imports.
pub async fn imports(conn: &mut AsyncPgConnection, limit: i64) -> QueryResult<Vec<ImportRow>> {
    diesel::sql_query(
        "SELECT id, version::text AS version, status::text AS status, \
                file_path::text AS file_path, records_total, records_imported, records_failed, \
                coalesce(metadata->'progress', 'null'::jsonb) AS progress, started_at, \
                completed_at, created_at \
         FROM taxonomy_import_jobs ORDER BY created_at DESC LIMIT $1",
    )
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// The counts of the console's front page (the old server's business gauges).
#[derive(Debug, Clone, Default, QueryableByName)]
pub struct Totals {
    #[diesel(sql_type = BigInt)]
    pub users: i64,
    #[diesel(sql_type = BigInt)]
    pub active_users: i64,
    #[diesel(sql_type = BigInt)]
    pub animals: i64,
    #[diesel(sql_type = BigInt)]
    pub unverified_animals: i64,
    #[diesel(sql_type = BigInt)]
    pub entries: i64,
    #[diesel(sql_type = BigInt)]
    pub failed_jobs_24h: i64,
}

/// Totals in one statement.
pub async fn totals(conn: &mut AsyncPgConnection) -> QueryResult<Totals> {
    diesel::sql_query(
        "SELECT (SELECT count(*) FROM users) AS users, \
                (SELECT count(*) FROM users WHERE is_active) AS active_users, \
                (SELECT count(*) FROM animals) AS animals, \
                (SELECT count(*) FROM animals WHERE NOT verified) AS unverified_animals, \
                (SELECT count(*) FROM dex_entries) AS entries, \
                (SELECT count(*) FROM analysis_jobs WHERE status = 'failed' \
                   AND created_at > now() - interval '1 day') AS failed_jobs_24h",
    )
    .get_result(conn)
    .await
}
