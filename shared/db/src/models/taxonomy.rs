//! Taxonomy data sources and import jobs. Taxa themselves are read through `models::taxa` and
//! written only by the importer (`biologidex_taxonomy::import`).

use biologidex_core::ids::TaxonomyImportJobId;
use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Double, Jsonb, Nullable, Text, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::schema::taxonomy_sources;
use crate::text_enum::text_enum;

/// A taxonomy data source (`taxonomy_sources`).
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = taxonomy_sources)]
pub struct TaxonomySource {
    pub id: Uuid,
    pub name: String,
    pub short_code: String,
    pub full_name: String,
    pub url: String,
    pub api_endpoint: Option<String>,
    pub update_frequency: String,
    pub license: String,
    pub citation_format: String,
    pub is_active: bool,
    pub priority: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `short_code` of the Catalogue of Life source.
pub const COL_CODE: &str = "col";

impl TaxonomySource {
    /// The Catalogue of Life source, created on first use with the old server's values (name,
    /// URLs, monthly updates, CC BY 4.0, priority 10).
    pub async fn get_or_create_col(conn: &mut AsyncPgConnection) -> QueryResult<TaxonomySource> {
        diesel::insert_into(taxonomy_sources::table)
            .values((
                taxonomy_sources::name.eq("Catalogue of Life"),
                taxonomy_sources::short_code.eq(COL_CODE),
                taxonomy_sources::full_name.eq("Catalogue of Life Checklist"),
                taxonomy_sources::url.eq("https://www.catalogueoflife.org/"),
                taxonomy_sources::api_endpoint.eq(Some("https://api.checklistbank.org/")),
                taxonomy_sources::update_frequency.eq("monthly"),
                taxonomy_sources::license.eq("CC BY 4.0"),
                taxonomy_sources::priority.eq(10),
            ))
            .on_conflict(taxonomy_sources::short_code)
            .do_nothing()
            .execute(conn)
            .await?;
        Self::find_by_code(conn, COL_CODE)
            .await?
            .ok_or(diesel::result::Error::NotFound)
    }

    /// A source by its short code.
    pub async fn find_by_code(
        conn: &mut AsyncPgConnection,
        code: &str,
    ) -> QueryResult<Option<TaxonomySource>> {
        taxonomy_sources::table
            .filter(taxonomy_sources::short_code.eq(code))
            .select(TaxonomySource::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// An active source by id.
    pub async fn find_active(
        conn: &mut AsyncPgConnection,
        id: Uuid,
    ) -> QueryResult<Option<TaxonomySource>> {
        taxonomy_sources::table
            .find(id)
            .filter(taxonomy_sources::is_active.eq(true))
            .select(TaxonomySource::as_select())
            .first(conn)
            .await
            .optional()
    }

    /// How many sources are active.
    pub async fn count_active(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
        taxonomy_sources::table
            .filter(taxonomy_sources::is_active.eq(true))
            .count()
            .get_result(conn)
            .await
    }

    /// One page of active sources, ordered by priority then name.
    pub async fn list_active(
        conn: &mut AsyncPgConnection,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<TaxonomySource>> {
        taxonomy_sources::table
            .filter(taxonomy_sources::is_active.eq(true))
            .order((
                taxonomy_sources::priority,
                taxonomy_sources::name,
                taxonomy_sources::id,
            ))
            .offset(offset)
            .limit(limit)
            .select(TaxonomySource::as_select())
            .load(conn)
            .await
    }
}

text_enum! {
    /// An import job's state (`taxonomy_import_jobs.status`).
    pub enum ImportStatus {
        Pending = "pending",
        /// Reading the release into staging tables.
        Processing = "processing",
        /// Building indexes and swapping the new tables in.
        Importing = "importing",
        Completed = "completed",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

/// An import job (`taxonomy_import_jobs`), with its size as a float.
#[derive(Debug, Clone, QueryableByName)]
pub struct ImportJob {
    #[diesel(sql_type = SqlUuid)]
    pub id: TaxonomyImportJobId,
    #[diesel(sql_type = SqlUuid)]
    pub source_id: Uuid,
    #[diesel(sql_type = Text)]
    pub version: String,
    #[diesel(sql_type = Text)]
    pub status: ImportStatus,
    #[diesel(sql_type = Nullable<diesel::sql_types::Timestamptz>)]
    pub started_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Timestamptz>)]
    pub completed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Text)]
    pub file_path: String,
    #[diesel(sql_type = Nullable<Double>)]
    pub file_size_mb: Option<f64>,
    #[diesel(sql_type = BigInt)]
    pub records_total: i64,
    #[diesel(sql_type = BigInt)]
    pub records_imported: i64,
    #[diesel(sql_type = BigInt)]
    pub records_failed: i64,
    #[diesel(sql_type = Jsonb)]
    pub error_log: Value,
    #[diesel(sql_type = Jsonb)]
    pub metadata: Value,
}

const JOB_COLUMNS: &str = "id, source_id, version::text AS version, status::text AS status, \
    started_at, completed_at, file_path::text AS file_path, file_size_mb::float8 AS file_size_mb, \
    records_total, records_imported, records_failed, error_log, metadata";

impl ImportJob {
    /// A new `pending` job for the release at `file_path`.
    pub async fn create(
        conn: &mut AsyncPgConnection,
        source_id: Uuid,
        file_path: &str,
        file_size_mb: Option<f64>,
    ) -> QueryResult<ImportJob> {
        diesel::sql_query(format!(
            "INSERT INTO taxonomy_import_jobs (source_id, file_path, file_size_mb) \
             VALUES ($1, $2, round($3::numeric, 2)) RETURNING {JOB_COLUMNS}"
        ))
        .bind::<SqlUuid, _>(source_id)
        .bind::<Text, _>(file_path)
        .bind::<Nullable<Double>, _>(file_size_mb)
        .get_result(conn)
        .await
    }

    /// A job by id.
    pub async fn find(
        conn: &mut AsyncPgConnection,
        id: TaxonomyImportJobId,
    ) -> QueryResult<Option<ImportJob>> {
        diesel::sql_query(format!(
            "SELECT {JOB_COLUMNS} FROM taxonomy_import_jobs WHERE id = $1"
        ))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
    }

    /// Marks the job started: status, release version and metadata (merged).
    pub async fn mark_started(
        conn: &mut AsyncPgConnection,
        id: TaxonomyImportJobId,
        version: &str,
        metadata: &Value,
    ) -> QueryResult<usize> {
        diesel::sql_query(
            "UPDATE taxonomy_import_jobs SET status = 'processing', started_at = now(), \
             completed_at = NULL, version = left($2, 50), metadata = metadata || $3, \
             error_log = '{}'::jsonb, records_total = 0, records_imported = 0, records_failed = 0 \
             WHERE id = $1",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(version)
        .bind::<Jsonb, _>(metadata)
        .execute(conn)
        .await
    }

    /// Records progress: the status, counters and a `progress` object in the metadata.
    pub async fn record_progress(
        conn: &mut AsyncPgConnection,
        id: TaxonomyImportJobId,
        status: ImportStatus,
        progress: &Value,
        counts: (i64, i64, i64),
    ) -> QueryResult<usize> {
        diesel::sql_query(
            "UPDATE taxonomy_import_jobs SET status = $2, \
             metadata = jsonb_set(metadata, '{progress}', $3), records_total = $4, \
             records_imported = $5, records_failed = $6 WHERE id = $1",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(status)
        .bind::<Jsonb, _>(progress)
        .bind::<BigInt, _>(counts.0)
        .bind::<BigInt, _>(counts.1)
        .bind::<BigInt, _>(counts.2)
        .execute(conn)
        .await
    }

    /// Marks the job failed with its error log (`{"fatal_error": ..., "errors": [...]}`).
    pub async fn mark_failed(
        conn: &mut AsyncPgConnection,
        id: TaxonomyImportJobId,
        error_log: &Value,
    ) -> QueryResult<usize> {
        diesel::sql_query(
            "UPDATE taxonomy_import_jobs SET status = 'failed', completed_at = now(), \
             error_log = $2 WHERE id = $1",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Jsonb, _>(error_log)
        .execute(conn)
        .await
    }
}
