//! One kind of old row, imported batch by batch. Each batch is written in one transaction
//! together with the run's cursor, so a killed run resumes after the last committed batch and
//! a failed batch leaves nothing half-written. A batch the database refuses is retried row by
//! row, so one bad row is kept aside (with the error) instead of stopping the run.

use std::time::Duration;

use diesel::sql_types::{Bool, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

use super::{
    Progress,
    media::Media,
    report::{Counts, Kind, MediaCounts},
    source::{self, OldDb},
    state::{self, DONE, Run},
};

/// What every phase needs besides the connections.
pub struct Ctx<'a> {
    pub run: Uuid,
    pub media: &'a Media,
    pub strict: bool,
    pub dry_run: bool,
    pub batch_size: i64,
    pub pause: Duration,
    pub progress: &'a dyn Progress,
}

/// A batch's outcome: the ids now imported, and the counts.
#[derive(Default)]
pub struct Written {
    pub ids: Vec<Uuid>,
    pub counts: Counts,
    pub media: MediaCounts,
}

impl Written {
    /// Keeps `row` aside for `reason`.
    pub async fn reject<T: Serialize>(
        &mut self,
        conn: &mut AsyncPgConnection,
        ctx: &Ctx<'_>,
        kind: Kind,
        old_id: &str,
        reason: &str,
        row: &T,
    ) -> anyhow::Result<()> {
        if ctx.strict {
            anyhow::bail!(
                "{} {old_id} cannot be imported: {reason} (--strict)",
                kind.name()
            );
        }
        tracing::warn!(kind = kind.name(), old_id, reason, "old row kept aside");
        state::reject(
            conn,
            ctx.run,
            kind,
            old_id,
            reason,
            &serde_json::to_value(row)?,
        )
        .await?;
        self.counts.skip(reason_class(reason));
        Ok(())
    }

    /// Runs the upsert `sql` over `rows` (JSON objects with an `id`, bound as `$1`) and counts
    /// what it wrote.
    pub async fn upsert_json(
        &mut self,
        conn: &mut AsyncPgConnection,
        sql: &str,
        rows: Vec<serde_json::Value>,
    ) -> anyhow::Result<()> {
        let ids: Vec<Uuid> = rows
            .iter()
            .filter_map(|r| r["id"].as_str().and_then(|s| s.parse().ok()))
            .collect();
        let written: Vec<Upserted> = diesel::sql_query(sql)
            .bind::<diesel::sql_types::Jsonb, _>(serde_json::Value::Array(rows))
            .load(conn)
            .await?;
        self.upserted(ids, &written);
        Ok(())
    }

    /// Counts the rows an upsert answered (the rest of `valid` were unchanged).
    pub fn upserted(&mut self, valid: Vec<Uuid>, rows: &[Upserted]) {
        let inserted = rows.iter().filter(|r| r.inserted).count() as u64;
        let updated = rows.len() as u64 - inserted;
        self.counts.imported += inserted;
        self.counts.updated += updated;
        self.counts.unchanged += (valid.len() as u64).saturating_sub(inserted + updated);
        self.ids.extend(valid);
    }
}

/// The report groups reasons by their first part (before a colon), so a thousand users with
/// different bad names make one line.
fn reason_class(reason: &str) -> String {
    reason.split(':').next().unwrap_or(reason).trim().to_owned()
}

/// A row an upsert wrote: `RETURNING id, (xmax = 0) AS inserted`.
#[derive(diesel::QueryableByName)]
pub struct Upserted {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = Bool)]
    pub inserted: bool,
}

/// An old row as a phase reads it.
pub trait OldRow: DeserializeOwned + Serialize {
    /// Its key: batches are ordered by it, and the cursor just past the row is its key.
    fn key(&self) -> String;
    /// The id shown when the row is kept aside.
    fn old_id(&self) -> String {
        self.key()
    }
}

/// One kind of old row.
pub trait Phase {
    const KIND: Kind;
    type Old: OldRow;
    /// The old table (with joins) and its key column: batches are keyset pages over it.
    const FROM: &'static str;
    const KEY: &'static str = "id";
    /// The columns read, as the fields of `Old`.
    const COLUMNS: &'static str;
    /// The cursor before the first row.
    const START: &'static str = source::START;

    /// `SELECT count(*) AS n` of the old rows.
    fn count_sql() -> String {
        format!("SELECT count(*) AS n FROM {}", Self::FROM)
    }

    /// The batch query: `$1` the cursor, `$2` the limit, answering a JSON array `batch`.
    fn batch_sql() -> String {
        format!(
            "SELECT coalesce(jsonb_agg(t ORDER BY t.id), '[]')::text AS batch FROM \
             (SELECT {} FROM {} WHERE {key} > $1::uuid ORDER BY {key} LIMIT $2) t",
            Self::COLUMNS,
            Self::FROM,
            key = Self::KEY
        )
    }

    /// Writes a batch (inside its transaction).
    async fn write(
        ctx: &Ctx<'_>,
        conn: &mut AsyncPgConnection,
        rows: &[Self::Old],
    ) -> anyhow::Result<Written>;
}

async fn exec(conn: &mut AsyncPgConnection, sql: &str) -> anyhow::Result<()> {
    diesel::sql_query(sql).execute(conn).await?;
    Ok(())
}

/// Starts a batch's transaction (a savepoint inside a dry run's one transaction).
pub async fn begin(conn: &mut AsyncPgConnection, dry_run: bool) -> anyhow::Result<()> {
    exec(conn, if dry_run { "SAVEPOINT batch" } else { "BEGIN" }).await
}

pub async fn commit(conn: &mut AsyncPgConnection, dry_run: bool) -> anyhow::Result<()> {
    exec(
        conn,
        if dry_run {
            "RELEASE SAVEPOINT batch"
        } else {
            "COMMIT"
        },
    )
    .await
}

pub async fn rollback(conn: &mut AsyncPgConnection, dry_run: bool) -> anyhow::Result<()> {
    exec(
        conn,
        if dry_run {
            "ROLLBACK TO SAVEPOINT batch"
        } else {
            "ROLLBACK"
        },
    )
    .await
}

/// Writes `rows` and the run's new cursor in one transaction.
async fn write_batch<P: Phase>(
    ctx: &Ctx<'_>,
    conn: &mut AsyncPgConnection,
    run: &mut Run,
    rows: &[P::Old],
    next: &str,
) -> anyhow::Result<Written> {
    begin(conn, ctx.dry_run).await?;
    let result = async {
        let written = P::write(ctx, conn, rows).await?;
        state::imported(conn, P::KIND, &written.ids).await?;
        let mut after = run.clone();
        after
            .cursors
            .insert(P::KIND.name().to_owned(), next.to_owned().into());
        let mut counts = written.counts.clone();
        counts.found = rows.len() as u64;
        after.report.kinds.entry(P::KIND).or_default().add(&counts);
        after.report.media.add(&written.media);
        state::save(conn, &after).await?;
        Ok::<_, anyhow::Error>((written, after))
    }
    .await;
    match result {
        Ok((written, after)) => {
            commit(conn, ctx.dry_run).await?;
            *run = after;
            Ok(written)
        }
        Err(e) => {
            rollback(conn, ctx.dry_run).await?;
            Err(e)
        }
    }
}

/// Imports every old row of `P` after the run's cursor.
pub async fn run<P: Phase>(
    ctx: &Ctx<'_>,
    old: &mut OldDb,
    conn: &mut AsyncPgConnection,
    run: &mut Run,
) -> anyhow::Result<()> {
    if run.cursor(P::KIND) == Some(DONE) {
        return Ok(());
    }
    let total = u64::try_from(old.count(&P::count_sql()).await?).unwrap_or(0);
    let done_before = run.report.of(P::KIND).found;
    ctx.progress.start(P::KIND, total, done_before);
    let mut cursor = run.cursor(P::KIND).unwrap_or(P::START).to_owned();
    let batch_sql = P::batch_sql();
    loop {
        let rows: Vec<P::Old> = old.batch(&batch_sql, &cursor, ctx.batch_size).await?;
        let Some(last) = rows.last() else { break };
        let next = last.key();
        if let Err(e) = write_batch::<P>(ctx, conn, run, &rows, &next).await {
            if ctx.strict {
                return Err(e);
            }
            tracing::warn!(kind = P::KIND.name(), error = %e, "batch refused; retrying row by row");
            one_by_one::<P>(ctx, conn, run, rows, &next).await?;
        }
        ctx.progress.advance(P::KIND, run.report.of(P::KIND).found);
        cursor = next;
        if !ctx.pause.is_zero() {
            tokio::time::sleep(ctx.pause).await;
        }
    }
    begin(conn, ctx.dry_run).await?;
    run.cursors.insert(P::KIND.name().to_owned(), DONE.into());
    state::save(conn, run).await?;
    commit(conn, ctx.dry_run).await?;
    ctx.progress.finish(P::KIND);
    Ok(())
}

/// A refused batch, again one row per transaction: the rows the database still refuses are
/// kept aside with its error; the cursor moves past the batch with the last one.
async fn one_by_one<P: Phase>(
    ctx: &Ctx<'_>,
    conn: &mut AsyncPgConnection,
    run: &mut Run,
    rows: Vec<P::Old>,
    next: &str,
) -> anyhow::Result<()> {
    let count = rows.len();
    for (i, row) in rows.into_iter().enumerate() {
        let cursor = if i + 1 == count {
            next.to_owned()
        } else {
            row.key()
        };
        let single = std::slice::from_ref(&row);
        if let Err(e) = write_batch::<P>(ctx, conn, run, single, &cursor).await {
            let old_id = row.old_id();
            tracing::error!(kind = P::KIND.name(), old_id, error = %e, "old row refused");
            begin(conn, ctx.dry_run).await?;
            state::reject(
                conn,
                ctx.run,
                P::KIND,
                &old_id,
                &format!("refused by the database: {e}"),
                &serde_json::to_value(&row)?,
            )
            .await?;
            run.cursors
                .insert(P::KIND.name().to_owned(), cursor.clone().into());
            let entry = run.report.kinds.entry(P::KIND).or_default();
            entry.found += 1;
            entry.failed += 1;
            state::save(conn, run).await?;
            commit(conn, ctx.dry_run).await?;
        }
    }
    Ok(())
}
