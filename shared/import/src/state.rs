//! Where an import stands: the run row (a killed run is resumed from its cursors), the rows
//! kept aside with their reason, and the ids each kind has imported.

use diesel::{
    OptionalExtension,
    sql_types::{Array, Jsonb, Text, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use super::report::{Kind, Report};

/// A phase's cursor once all its rows are done.
pub const DONE: &str = "done";

/// Fixed key of the advisory lock that keeps two imports from running at once.
const IMPORT_LOCK_KEY: i64 = 0x0B10_1061_DE00_0003;

/// The run being carried out.
#[derive(Debug, Clone)]
pub struct Run {
    pub id: Uuid,
    /// kind → last old key committed, or [`DONE`].
    pub cursors: serde_json::Map<String, Value>,
    /// What the run (and the killed run it resumes) has done so far.
    pub report: Report,
    /// This run continues one that was interrupted.
    pub resumed: bool,
}

#[derive(diesel::QueryableByName)]
struct RunRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Jsonb)]
    cursors: Value,
    #[diesel(sql_type = Jsonb)]
    report: Value,
}

#[derive(diesel::QueryableByName)]
struct Flag {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    ok: bool,
}

impl Run {
    /// The cursor of `kind` (the start when the phase has not begun).
    pub fn cursor(&self, kind: Kind) -> Option<&str> {
        self.cursors.get(kind.name()).and_then(Value::as_str)
    }
}

/// Takes the import lock for this session, or fails saying another import is running.
pub async fn lock(conn: &mut AsyncPgConnection) -> anyhow::Result<()> {
    let got = diesel::sql_query(format!(
        "SELECT pg_try_advisory_lock({IMPORT_LOCK_KEY}) AS ok"
    ))
    .get_result::<Flag>(conn)
    .await?
    .ok;
    if !got {
        anyhow::bail!("another import-django is running against this database; wait for it");
    }
    Ok(())
}

/// Resumes the newest interrupted run, or starts a new one. A dry run always starts afresh
/// (inside the transaction that is rolled back at the end).
pub async fn begin(conn: &mut AsyncPgConnection, dry_run: bool) -> anyhow::Result<Run> {
    if !dry_run {
        let open: Option<RunRow> = diesel::sql_query(
            "SELECT id, cursors, report FROM django_import_runs WHERE status = 'running' \
             ORDER BY started_at DESC LIMIT 1",
        )
        .get_result(conn)
        .await
        .optional()?;
        if let Some(row) = open {
            return Ok(Run {
                id: row.id,
                cursors: row.cursors.as_object().cloned().unwrap_or_default(),
                report: serde_json::from_value(row.report).unwrap_or_default(),
                resumed: true,
            });
        }
    }
    let row: RunRow = diesel::sql_query(
        "INSERT INTO django_import_runs DEFAULT VALUES RETURNING id, cursors, report",
    )
    .get_result(conn)
    .await?;
    Ok(Run {
        id: row.id,
        cursors: serde_json::Map::new(),
        report: Report {
            dry_run,
            ..Report::default()
        },
        resumed: false,
    })
}

/// Saves the run's cursors and report; call in the transaction of the batch they describe.
pub async fn save(conn: &mut AsyncPgConnection, run: &Run) -> anyhow::Result<()> {
    diesel::sql_query("UPDATE django_import_runs SET cursors = $2, report = $3 WHERE id = $1")
        .bind::<SqlUuid, _>(run.id)
        .bind::<Jsonb, _>(Value::Object(run.cursors.clone()))
        .bind::<Jsonb, _>(serde_json::to_value(&run.report)?)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks the run finished (or failed).
pub async fn end(conn: &mut AsyncPgConnection, run: &Run, ok: bool) -> anyhow::Result<()> {
    diesel::sql_query(
        "UPDATE django_import_runs SET status = $2, finished_at = now(), report = $3 \
         WHERE id = $1",
    )
    .bind::<SqlUuid, _>(run.id)
    .bind::<Text, _>(if ok { "finished" } else { "failed" })
    .bind::<Jsonb, _>(serde_json::to_value(&run.report)?)
    .execute(conn)
    .await?;
    Ok(())
}

/// Keeps an old row aside with the reason (replacing what an earlier run said of it).
pub async fn reject(
    conn: &mut AsyncPgConnection,
    run: Uuid,
    kind: Kind,
    old_id: &str,
    reason: &str,
    old_row: &Value,
) -> anyhow::Result<()> {
    diesel::sql_query(
        "INSERT INTO django_import_rejects (kind, old_id, reason, old_row, run_id) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, old_id) DO UPDATE SET \
         reason = EXCLUDED.reason, old_row = EXCLUDED.old_row, run_id = EXCLUDED.run_id, \
         seen_at = now()",
    )
    .bind::<Text, _>(kind.name())
    .bind::<Text, _>(old_id)
    .bind::<Text, _>(reason)
    .bind::<Jsonb, _>(old_row)
    .bind::<SqlUuid, _>(run)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that `ids` of `kind` are imported (and no longer kept aside).
pub async fn imported(
    conn: &mut AsyncPgConnection,
    kind: Kind,
    ids: &[Uuid],
) -> anyhow::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "INSERT INTO django_import_ids (kind, id) SELECT $1, unnest($2::uuid[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(kind.name())
    .bind::<Array<SqlUuid>, _>(ids)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "DELETE FROM django_import_rejects WHERE kind = $1 AND old_id = ANY($2::uuid[]::text[])",
    )
    .bind::<Text, _>(kind.name())
    .bind::<Array<SqlUuid>, _>(ids)
    .execute(conn)
    .await?;
    Ok(())
}

/// A rejected row as the report lists it.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct Rejected {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub old_id: String,
    #[diesel(sql_type = Text)]
    pub reason: String,
}

/// Every row currently kept aside.
pub async fn rejects(conn: &mut AsyncPgConnection) -> anyhow::Result<Vec<Rejected>> {
    Ok(diesel::sql_query(
        "SELECT kind::text AS kind, old_id, reason FROM django_import_rejects ORDER BY kind, old_id",
    )
    .load(conn)
    .await?)
}
