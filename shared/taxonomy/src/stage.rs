//! Phase A of an import: stream each ColDP file through its row mapper into a temporary staging
//! table with `COPY ... FROM STDIN` (parsing on a blocking thread, bounded channel: memory stays
//! flat), then fill the `<table>_next` copies with set-based SQL: ids, parent and accepted-name
//! links, the flattened classification walked down the tree, and the rows that point at taxa
//! (vernacular names, distributions, relations) only once the taxa exist.

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use tokio::sync::mpsc;
use tokio_postgres::Client;
use uuid::Uuid;

use super::{
    coldp::{FileKind, Release},
    copy::CopyWriter,
    import::{ImportError, Journal, Progress, RowIssue},
    rows::{
        CLASSIFICATION, DistributionMapper, MapContext, RelationMapper, RowMapper, UsageMapper,
        VernacularMapper,
    },
    swap::SwapPlan,
    tsv::{Next, TsvReader},
};

/// Bytes of COPY data per message from the parser thread.
const CHUNK_BYTES: usize = 1 << 20;
/// Messages in flight between the parser thread and the COPY.
const CHANNEL_DEPTH: usize = 4;
/// How often progress is written to the job row.
const PROGRESS_EVERY: Duration = Duration::from_secs(2);

/// Bad-row tolerance of one file.
#[derive(Debug, Clone, Copy)]
pub struct BadRowPolicy {
    /// A file fails when more than this fraction of its rows is bad ...
    pub max_fraction: f64,
    /// ... and more than this many rows are bad.
    pub min_tolerated: u64,
}

/// What reading one file gave.
#[derive(Debug, Clone, Default)]
pub struct FileOutcome {
    pub rows: u64,
    pub bad: u64,
}

struct Chunk {
    data: bytes::Bytes,
    rows: u64,
    bad: u64,
    bytes: u64,
}

fn read_file<M: RowMapper>(
    release: &Release,
    kind: FileKind,
    ctx: MapContext,
    policy: BadRowPolicy,
    tx: &mpsc::Sender<Chunk>,
) -> Result<(FileOutcome, Vec<RowIssue>), ImportError> {
    let file = release.file_name(kind);
    let malformed = |msg: String| ImportError::Malformed(format!("{file}: {msg}"));
    let result = release.with_reader(kind, |reader| {
        let mut tsv = TsvReader::new(reader)
            .map_err(|e| malformed(format!("cannot read the header: {e}")))?
            .ok_or_else(|| malformed("the file is empty".to_owned()))?;
        let mapper = M::new(tsv.header(), ctx).map_err(malformed)?;
        let mut out = CopyWriter::with_capacity(CHUNK_BYTES + 64 * 1024);
        let mut outcome = FileOutcome::default();
        let mut issues: Vec<RowIssue> = Vec::new();
        let mut note = |line: u64, message: String, outcome: &mut FileOutcome| {
            outcome.bad += 1;
            if issues.len() < super::import::MAX_ISSUES {
                issues.push(RowIssue {
                    file: file.clone(),
                    line,
                    message,
                });
            }
        };
        loop {
            let next = tsv.next_row().map_err(|e| {
                ImportError::Malformed(format!(
                    "{file}: read error after {} rows: {e}",
                    outcome.rows
                ))
            })?;
            match next {
                Next::End => break,
                Next::Bad(line, e) => note(line, e.to_string(), &mut outcome),
                Next::Row(line, row) => {
                    let mark = out.len();
                    match mapper.map(line, &row, &mut out) {
                        Ok(()) => outcome.rows += 1,
                        Err(msg) => {
                            out.truncate(mark);
                            note(line, msg, &mut outcome);
                        }
                    }
                }
            }
            // Give up early on a file that is mostly garbage.
            if outcome.bad > 1000 && outcome.bad > outcome.rows {
                break;
            }
            if out.len() >= CHUNK_BYTES {
                let chunk = Chunk {
                    data: out.take(),
                    rows: outcome.rows,
                    bad: outcome.bad,
                    bytes: tsv.bytes_read(),
                };
                if tx.blocking_send(chunk).is_err() {
                    return Err(ImportError::Database(anyhow::anyhow!("the COPY stopped")));
                }
            }
        }
        let last = Chunk {
            data: out.take(),
            rows: outcome.rows,
            bad: outcome.bad,
            bytes: tsv.bytes_read(),
        };
        if tx.blocking_send(last).is_err() {
            return Err(ImportError::Database(anyhow::anyhow!("the COPY stopped")));
        }
        let total = outcome.rows + outcome.bad;
        let allowed = (policy.max_fraction * total as f64) as u64;
        if outcome.bad > policy.min_tolerated.max(allowed) {
            let first = issues
                .first()
                .map(|i| format!(" (first: line {}: {})", i.line, i.message))
                .unwrap_or_default();
            return Err(malformed(format!(
                "{} of {total} rows are bad{first}; the release looks corrupt",
                outcome.bad
            )));
        }
        Ok((outcome, issues))
    });
    match result {
        Ok(Some(r)) => r,
        Ok(None) => Ok((FileOutcome::default(), Vec::new())),
        Err(e) => Err(ImportError::Malformed(e.0)),
    }
}

/// What loading one release needs.
pub struct Loader<'a> {
    pub client: &'a Client,
    pub release: &'a Release,
    pub ctx: &'a MapContext,
    pub policy: BadRowPolicy,
    pub progress: &'a Progress,
}

/// Streams one file into a staging table. `None` when the release has no such file.
pub async fn copy_file<M: RowMapper + 'static>(
    loader: &Loader<'_>,
    kind: FileKind,
    table: &str,
    journal: &mut Journal,
) -> Result<Option<FileOutcome>, ImportError> {
    let Loader {
        client,
        release,
        ctx,
        policy,
        progress,
    } = *loader;
    let ctx = ctx.clone();
    if !release.has(kind) {
        return Ok(None);
    }
    let (tx, mut rx) = mpsc::channel::<Chunk>(CHANNEL_DEPTH);
    let rel = release.clone();
    let reader = tokio::task::spawn_blocking(move || read_file::<M>(&rel, kind, ctx, policy, &tx));
    let file = release.file_name(kind);
    let total_bytes = release.size(kind);
    let copy = async {
        let sink = client
            .copy_in(&format!("COPY {table} ({}) FROM STDIN", M::COLUMNS))
            .await?;
        futures_util::pin_mut!(sink);
        let mut last_report = Instant::now();
        while let Some(chunk) = rx.recv().await {
            if !chunk.data.is_empty() {
                sink.send(chunk.data).await?;
            }
            if last_report.elapsed() >= PROGRESS_EVERY {
                last_report = Instant::now();
                progress
                    .report_file(&file, chunk.rows, chunk.bad, chunk.bytes, total_bytes)
                    .await;
            }
        }
        sink.finish().await?;
        Ok::<(), tokio_postgres::Error>(())
    };
    let copied = copy.await;
    // The reader's verdict first: a malformed file explains a failed COPY better.
    let (outcome, issues) = reader
        .await
        .map_err(|e| ImportError::Database(anyhow::anyhow!("parser thread: {e}")))??;
    copied?;
    journal.add_issues(issues);
    journal.bad_rows += outcome.bad;
    progress
        .report_file(&file, outcome.rows, outcome.bad, total_bytes, total_bytes)
        .await;
    Ok(Some(outcome))
}

const STAGE_TABLES: &str = "
CREATE TEMP TABLE stage_usage (
    line bigint NOT NULL, id uuid NOT NULL, key text NOT NULL, parent_ref uuid,
    parent_key text NOT NULL, status text NOT NULL, is_accepted boolean NOT NULL,
    rank_id smallint, slot smallint, scientific_name text NOT NULL, authorship text NOT NULL,
    path_name text NOT NULL,
    k1 text, k2 text, k3 text, k4 text, k5 text, k6 text, k7 text, k8 text, k9 text, k10 text,
    k11 text, k12 text, k13 text, k14 text, k15 text, k16 text, k17 text, k18 text, k19 text,
    k20 text, generic_name text NOT NULL,
    specific_epithet text NOT NULL, infraspecific_epithet text NOT NULL, extinct boolean,
    environment text[] NOT NULL, nomenclatural_code text NOT NULL, source_url text NOT NULL,
    source_reference text NOT NULL
);
CREATE TEMP TABLE stage_vernacular (
    line bigint NOT NULL, id uuid NOT NULL, taxon_ref uuid NOT NULL, taxon_key text NOT NULL,
    name text NOT NULL, language text NOT NULL, country text NOT NULL, is_preferred boolean NOT NULL
);
CREATE TEMP TABLE stage_distribution (
    line bigint NOT NULL, id uuid NOT NULL, taxon_ref uuid NOT NULL, taxon_key text NOT NULL,
    area_code text NOT NULL, gazetteer text NOT NULL, area_name text NOT NULL,
    establishment_means text NOT NULL, occurrence_status text NOT NULL, threat_status text NOT NULL
);
CREATE TEMP TABLE stage_relation (
    line bigint NOT NULL, id uuid NOT NULL, name_ref uuid NOT NULL, related_ref uuid NOT NULL,
    relation_type text NOT NULL, col_name_id text NOT NULL, col_related_name_id text NOT NULL,
    col_source_id text NOT NULL, reference_id text NOT NULL, page text NOT NULL, remarks text NOT NULL
);
";

/// An array of 20 empty strings: an empty classification path.
const EMPTY_PATH: &str = "array_fill(''::text, ARRAY[20])";

/// `path` with `name` in classification slot `slot` (unchanged when the rank has no slot).
fn set_slot(path: &str, slot: &str, name: &str) -> String {
    format!(
        "(CASE WHEN {slot} IS NULL THEN {path} \
         ELSE ({path})[:{slot} - 1] || {name} || ({path})[{slot} + 1:] END)"
    )
}

/// The narrow copy of the staged usages every self-join uses (the full rows are wide).
const STAGE_IDS_COLUMNS: &str = "id, line, parent_ref, is_accepted, slot, path_name";

/// Duplicate usage ids are reported and all but their first line dropped; then the unique
/// index on the id set (used by every later existence check) is built.
async fn drop_duplicates(
    client: &Client,
    journal: &mut Journal,
    file: &str,
) -> Result<(), ImportError> {
    client
        .batch_execute(&format!(
            "CREATE TEMP TABLE stage_ids AS SELECT {STAGE_IDS_COLUMNS} FROM stage_usage;
             SAVEPOINT unique_ids;"
        ))
        .await?;
    match client
        .batch_execute("CREATE UNIQUE INDEX stage_ids_id ON stage_ids (id)")
        .await
    {
        Ok(()) => {
            client
                .batch_execute("RELEASE SAVEPOINT unique_ids; ANALYZE stage_ids;")
                .await?;
            return Ok(());
        }
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {}
        Err(e) => return Err(e.into()),
    }
    client
        .batch_execute("ROLLBACK TO SAVEPOINT unique_ids")
        .await?;
    let rows = client
        .query(
            "WITH firsts AS (SELECT id, min(line) AS first FROM stage_usage GROUP BY id \
                             HAVING count(*) > 1) \
             DELETE FROM stage_usage s USING firsts f WHERE s.id = f.id AND s.line <> f.first \
             RETURNING s.line, s.key",
            &[],
        )
        .await?;
    let mut lines: Vec<(i64, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    lines.sort();
    journal.bad_rows += lines.len() as u64;
    journal.add_issues(lines.into_iter().map(|(line, key)| RowIssue {
        file: file.to_owned(),
        line: line as u64,
        message: format!("duplicate col:ID {key}; the first row with this ID was kept"),
    }));
    client
        .batch_execute(&format!(
            "TRUNCATE stage_ids; INSERT INTO stage_ids SELECT {STAGE_IDS_COLUMNS} FROM stage_usage;
             CREATE UNIQUE INDEX stage_ids_id ON stage_ids (id); ANALYZE stage_ids;"
        ))
        .await?;
    Ok(())
}

/// Keeps the ids of rows an earlier import (or another tool) created with other ids, so that
/// soft links such as `animals.taxonomy_id` survive. Returns how many ids were remapped.
async fn remap_existing_ids(client: &Client, source: Uuid) -> Result<u64, ImportError> {
    client
        .execute(
            "CREATE TEMP TABLE stage_remap AS \
             SELECT s.id AS old_id, o.id AS new_id FROM stage_usage s \
             JOIN taxa o ON o.source_id = $1 AND o.source_taxon_id = s.key WHERE o.id <> s.id",
            &[&source],
        )
        .await?;
    let n: i64 = client
        .query_one("SELECT count(*) FROM stage_remap", &[])
        .await?
        .get(0);
    if n > 0 {
        client
            .batch_execute(
                "CREATE UNIQUE INDEX ON stage_remap (old_id);
                 UPDATE stage_usage s SET id = r.new_id FROM stage_remap r WHERE s.id = r.old_id;
                 UPDATE stage_usage s SET parent_ref = r.new_id FROM stage_remap r
                  WHERE s.parent_ref = r.old_id;
                 UPDATE stage_ids s SET id = r.new_id FROM stage_remap r WHERE s.id = r.old_id;
                 UPDATE stage_ids s SET parent_ref = r.new_id FROM stage_remap r
                  WHERE s.parent_ref = r.old_id;",
            )
            .await?;
    }
    Ok(n as u64)
}

/// Classification paths of every accepted usage that has accepted children, walked from the
/// roots in one recursive query over that (small) set.
const PATHS: &str = "
CREATE TEMP TABLE stage_internal AS
SELECT s.id, s.parent_ref, s.slot, s.path_name FROM stage_ids s
WHERE s.is_accepted
  AND s.id IN (SELECT c.parent_ref FROM stage_ids c WHERE c.is_accepted AND c.parent_ref IS NOT NULL);
CREATE INDEX ON stage_internal (parent_ref);
ANALYZE stage_internal;
-- One index probe per node: the planner otherwise re-sorts the whole set at every level.
SET enable_mergejoin = off;
SET enable_hashjoin = off;
CREATE TEMP TABLE stage_paths AS
WITH RECURSIVE tree(id, path, depth) AS (
    SELECT i.id, {root_path}, 0 FROM stage_internal i
    WHERE i.parent_ref IS NULL
       OR NOT EXISTS (SELECT 1 FROM stage_internal p WHERE p.id = i.parent_ref)
  UNION ALL
    SELECT c.id, {child_path}, t.depth + 1
    FROM tree t JOIN stage_internal c ON c.parent_ref = t.id
    WHERE t.depth < 200
)
SELECT id, path FROM tree;
RESET enable_mergejoin;
RESET enable_hashjoin;
ANALYZE stage_paths;
CREATE TEMP TABLE stage_syn AS
SELECT s.id, a.id AS acc_id, a.parent_ref AS acc_parent, a.slot AS acc_slot, a.path_name AS acc_name
FROM stage_ids s JOIN stage_ids a ON a.id = s.parent_ref
WHERE NOT s.is_accepted AND a.is_accepted;
ANALYZE stage_syn;
";

fn paths_sql() -> String {
    PATHS
        .replace(
            "{root_path}",
            &set_slot(EMPTY_PATH, "i.slot", "i.path_name"),
        )
        .replace("{child_path}", &set_slot("t.path", "c.slot", "c.path_name"))
}

/// The content columns compared to decide whether a re-imported row changed.
const CONTENT: &[&str] = &[
    "scientific_name",
    "authorship",
    "rank_id",
    "status",
    "generic_name",
    "specific_epithet",
    "infraspecific_epithet",
    "extinct",
    "environment",
    "nomenclatural_code",
    "source_url",
    "source_reference",
    "completeness_score",
    "parent_id",
    "accepted_name_id",
];

/// `INSERT INTO taxa_next` for this source's usages. Each classification column is the
/// usage's own name at its rank, else its parent's path (for a synonym: its accepted name's),
/// else the file's column. `OFFSET 0` keeps the levels apart, so PostgreSQL computes each
/// column once per row instead of inlining it into every expression that reads it.
fn insert_taxa_sql(accepted: bool) -> String {
    let class_cols: Vec<&str> = CLASSIFICATION.iter().map(|(_, c)| *c).collect();
    let class_exprs: Vec<String> = (1..=20)
        .map(|i| {
            if accepted {
                format!(
                    "COALESCE(NULLIF(CASE WHEN s.slot = {i} THEN s.path_name ELSE pp.path[{i}] END, ''), \
                     s.k{i}, '') AS c{i}"
                )
            } else {
                format!(
                    "COALESCE(NULLIF(CASE WHEN y.acc_slot = {i} THEN y.acc_name ELSE pa.path[{i}] END, ''), \
                     s.k{i}, '') AS c{i}"
                )
            }
        })
        .collect();
    let class_select: Vec<String> = (1..=20).map(|i| format!("c.c{i}")).collect();
    let mut compared: Vec<String> = CONTENT.iter().map(|c| format!("n.{c}")).collect();
    compared.extend(class_cols.iter().map(|c| format!("n.{c}")));
    let old: Vec<String> = compared.iter().map(|c| c.replacen("n.", "o.", 1)).collect();
    // completeness: kingdom, phylum, class, order, family and genus filled, out of 6.
    format!(
        "INSERT INTO taxa_next (id, source_id, source_taxon_id, import_job_id, scientific_name,
            authorship, rank_id, status, {class_cols}, generic_name, specific_epithet,
            infraspecific_epithet, extinct, environment, nomenclatural_code, source_url,
            source_reference, completeness_score, confidence_score, parent_id, accepted_name_id,
            created_at, updated_at)
         SELECT n.id, n.source_id, n.source_taxon_id, n.import_job_id, n.scientific_name,
            n.authorship, n.rank_id, n.status, {n_class}, n.generic_name, n.specific_epithet,
            n.infraspecific_epithet, n.extinct, n.environment, n.nomenclatural_code, n.source_url,
            n.source_reference, n.completeness_score, 1, n.parent_id, n.accepted_name_id,
            COALESCE(o.created_at, now()),
            CASE WHEN o.id IS NOT NULL AND ROW({compared}) IS NOT DISTINCT FROM ROW({old})
                 THEN o.updated_at ELSE now() END
         FROM (
            SELECT c.id, $1::uuid AS source_id, c.key AS source_taxon_id, $2::uuid AS import_job_id,
                c.scientific_name, c.authorship, c.rank_id, c.status, {class_as},
                c.generic_name, c.specific_epithet, c.infraspecific_epithet, c.extinct,
                c.environment, c.nomenclatural_code, c.source_url, c.source_reference,
                round(((c.c1 <> '')::int + (c.c3 <> '')::int + (c.c5 <> '')::int
                       + (c.c7 <> '')::int + (c.c10 <> '')::int + (c.c14 <> '')::int)::numeric / 6, 2)
                    AS completeness_score,
                c.parent_id, c.accepted_name_id
            FROM (
                SELECT s.id, s.key, s.scientific_name, s.authorship, s.rank_id, s.status,
                    s.generic_name, s.specific_epithet, s.infraspecific_epithet, s.extinct,
                    s.environment, s.nomenclatural_code, s.source_url, s.source_reference,
                    {links},
                    {class_exprs}
                FROM stage_usage s
                {joins}
                OFFSET 0
            ) c
            OFFSET 0
         ) n
         LEFT JOIN taxa o ON o.id = n.id",
        class_cols = class_cols.join(", "),
        n_class = class_cols
            .iter()
            .map(|c| format!("n.{c}"))
            .collect::<Vec<_>>()
            .join(", "),
        compared = compared.join(", "),
        old = old.join(", "),
        class_as = class_select
            .iter()
            .zip(class_cols.iter())
            .map(|(e, c)| format!("{e} AS {c}"))
            .collect::<Vec<_>>()
            .join(", "),
        class_exprs = class_exprs.join(",\n                    "),
        links = if accepted {
            "pp.id AS parent_id, NULL::uuid AS accepted_name_id"
        } else {
            "NULL::uuid AS parent_id, y.acc_id AS accepted_name_id"
        },
        joins = if accepted {
            "LEFT JOIN stage_paths pp ON pp.id = s.parent_ref WHERE s.is_accepted"
        } else {
            "LEFT JOIN stage_syn y ON y.id = s.id \
             LEFT JOIN stage_paths pa ON pa.id = y.acc_parent WHERE NOT s.is_accepted"
        },
    )
}

/// Usages whose parent or accepted name cannot be linked (absent, not accepted, or in a
/// cycle): imported without the link and reported.
async fn report_unresolved(
    client: &Client,
    journal: &mut Journal,
    file: &str,
) -> Result<(), ImportError> {
    let bad = client
        .query(
            "SELECT s.line, count(*) OVER () FROM stage_ids s \
             LEFT JOIN stage_paths p ON s.is_accepted AND p.id = s.parent_ref \
             LEFT JOIN stage_syn y ON y.id = s.id \
             WHERE s.parent_ref IS NOT NULL \
               AND ((s.is_accepted AND p.id IS NULL) OR (NOT s.is_accepted AND y.id IS NULL)) \
             ORDER BY s.line LIMIT 100",
            &[],
        )
        .await?;
    let Some(first) = bad.first() else {
        return Ok(());
    };
    journal.unresolved += first.get::<_, i64>(1) as u64;
    let lines: Vec<i64> = bad.iter().map(|r| r.get(0)).collect();
    let rows = client
        .query(
            "SELECT line, key, parent_key, is_accepted FROM stage_usage \
             WHERE line = ANY($1) ORDER BY line",
            &[&lines],
        )
        .await?;
    journal.add_warnings(rows.iter().map(|r| {
        let key: String = r.get(1);
        let parent: String = r.get(2);
        let accepted: bool = r.get(3);
        RowIssue {
            file: file.to_owned(),
            line: r.get::<_, i64>(0) as u64,
            message: if accepted {
                format!("{key}: parent {parent} is not an accepted usage of this release; imported without a parent")
            } else {
                format!("{key}: accepted name {parent} is not an accepted usage of this release; imported unresolved")
            },
        }
    }));
    Ok(())
}

/// Child rows whose taxon is not in the release are reported with their lines.
async fn report_dangling(
    client: &Client,
    journal: &mut Journal,
    file: &str,
    sql: &str,
) -> Result<u64, ImportError> {
    let rows = client.query(sql, &[]).await?;
    let total = rows.first().map_or(0, |r| r.get::<_, i64>(2) as u64);
    journal.unresolved += total;
    journal.add_warnings(rows.iter().map(|r| RowIssue {
        file: file.to_owned(),
        line: r.get::<_, i64>(0) as u64,
        message: format!(
            "{} is not a name usage of this release; row skipped",
            r.get::<_, String>(1)
        ),
    }));
    Ok(total)
}

/// Copies another source's rows of a child table whose taxa are still there. Checked first,
/// because the usual answer (there are none) must not cost a scan of the new taxa.
async fn copy_other_sources(
    client: &Client,
    table: &str,
    taxa_exist: &str,
    src: Uuid,
) -> Result<(), ImportError> {
    let any: bool = client
        .query_one(
            &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE source_id IS DISTINCT FROM $1)"),
            &[&src],
        )
        .await?
        .get(0);
    if any {
        client
            .execute(
                &format!(
                    "INSERT INTO {table}_next SELECT c.* FROM {table} c \
                     WHERE c.source_id IS DISTINCT FROM $1 AND {taxa_exist}"
                ),
                &[&src],
            )
            .await?;
    }
    Ok(())
}

/// Counts of one load, for the job row and the report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadCounts {
    pub name_usages: i64,
    pub accepted: i64,
    pub synonyms: i64,
    pub vernacular_names: i64,
    pub distributions: i64,
    pub name_relations: i64,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub removed: i64,
    pub remapped_ids: i64,
}

/// Phase A, first half (one transaction, committed): stages NameUsage and fills `taxa_next`,
/// without indexes. The staging tables stay for [`load_children`].
pub async fn load_taxa(
    loader: &Loader<'_>,
    job_id: Uuid,
    journal: &mut Journal,
) -> Result<LoadCounts, ImportError> {
    let Loader {
        client,
        release,
        ctx,
        progress,
        ..
    } = *loader;
    let src = ctx.source_id;
    client.batch_execute("BEGIN").await?;
    client.batch_execute(STAGE_TABLES).await?;

    // NameUsage first: everything else points at it.
    let usage = copy_file::<UsageMapper>(loader, FileKind::NameUsage, "stage_usage", journal)
        .await?
        .unwrap_or_default();
    if usage.rows == 0 {
        return Err(ImportError::Malformed(format!(
            "{}: no usable rows",
            release.file_name(FileKind::NameUsage)
        )));
    }
    journal.lap("read NameUsage");
    progress.phase("linking taxa").await;
    client.batch_execute("ANALYZE stage_usage").await?;
    let usage_file = release.file_name(FileKind::NameUsage);
    drop_duplicates(client, journal, &usage_file).await?;
    journal.lap("unique ids");
    let remapped = remap_existing_ids(client, src).await?;
    journal.lap("keep existing ids");
    client.batch_execute(&paths_sql()).await?;
    journal.lap("classification paths");
    report_unresolved(client, journal, &usage_file).await?;
    journal.lap("unresolved links");

    client
        .batch_execute(&SwapPlan::create_next_sql("taxa"))
        .await?;
    // Counted from what the insert returns: rescanning the new table would cost seconds.
    // Accepted usages and synonyms separately: each needs different joins.
    let mut totals = [0i64; 4];
    for accepted in [true, false] {
        let row = client
            .query_one(
                &format!(
                    "WITH ins AS ({} RETURNING status, created_at, updated_at) \
                     SELECT count(*), \
                            count(*) FILTER (WHERE status IN ('accepted', 'provisional')), \
                            count(*) FILTER (WHERE created_at = now()), \
                            count(*) FILTER (WHERE updated_at = now() AND created_at <> now()) \
                     FROM ins",
                    insert_taxa_sql(accepted)
                ),
                &[&src, &job_id],
            )
            .await?;
        for (i, t) in totals.iter_mut().enumerate() {
            *t += row.get::<_, i64>(i);
        }
    }
    journal.lap("insert taxa");
    let old_count: i64 = client
        .query_one("SELECT count(*) FROM taxa WHERE source_id = $1", &[&src])
        .await?
        .get(0);
    let mut counts = LoadCounts {
        name_usages: totals[0],
        accepted: totals[1],
        inserted: totals[2],
        updated: totals[3],
        remapped_ids: remapped as i64,
        ..LoadCounts::default()
    };
    counts.synonyms = counts.name_usages - counts.accepted;
    counts.unchanged = counts.name_usages - counts.inserted - counts.updated;
    counts.removed = old_count - (counts.name_usages - counts.inserted);
    // Other sources' taxa (found through the (source_id, source_taxon_id) index).
    client
        .execute(
            "INSERT INTO taxa_next SELECT * FROM taxa WHERE source_id < $1 OR source_id > $1",
            &[&src],
        )
        .await?;
    journal.lap("other sources");
    client.batch_execute("COMMIT").await?;
    Ok(counts)
}

/// Phase A, second half (one transaction, committed): stages the files that point at taxa and
/// fills the other `<table>_next` copies, keeping only rows whose taxa exist.
pub async fn load_children(
    loader: &Loader<'_>,
    job_id: Uuid,
    journal: &mut Journal,
    counts: &mut LoadCounts,
) -> Result<(), ImportError> {
    let Loader {
        client,
        release,
        ctx,
        progress,
        ..
    } = *loader;
    let src = ctx.source_id;
    let remapped = counts.remapped_ids > 0;
    client.batch_execute("BEGIN").await?;
    progress
        .phase("vernacular names, distributions, relations")
        .await;
    for (kind, table) in [
        (FileKind::VernacularName, "stage_vernacular"),
        (FileKind::Distribution, "stage_distribution"),
        (FileKind::NameRelation, "stage_relation"),
    ] {
        match kind {
            FileKind::VernacularName => {
                copy_file::<VernacularMapper>(loader, kind, table, journal).await?
            }
            FileKind::Distribution => {
                copy_file::<DistributionMapper>(loader, kind, table, journal).await?
            }
            _ => copy_file::<RelationMapper>(loader, kind, table, journal).await?,
        };
    }
    if remapped {
        client
            .batch_execute(
                "UPDATE stage_vernacular v SET taxon_ref = r.new_id FROM stage_remap r WHERE v.taxon_ref = r.old_id;
                 UPDATE stage_distribution v SET taxon_ref = r.new_id FROM stage_remap r WHERE v.taxon_ref = r.old_id;
                 UPDATE stage_relation v SET name_ref = r.new_id FROM stage_remap r WHERE v.name_ref = r.old_id;
                 UPDATE stage_relation v SET related_ref = r.new_id FROM stage_remap r WHERE v.related_ref = r.old_id;",
            )
            .await?;
    }
    client
        .batch_execute(
            "ANALYZE stage_vernacular; ANALYZE stage_distribution; ANALYZE stage_relation;",
        )
        .await?;
    journal.lap("read other files");

    let vern_file = release.file_name(FileKind::VernacularName);
    report_dangling(
        client,
        journal,
        &vern_file,
        "SELECT v.line, v.taxon_key, count(*) OVER () FROM stage_vernacular v \
         WHERE NOT EXISTS (SELECT 1 FROM stage_ids i WHERE i.id = v.taxon_ref) ORDER BY v.line LIMIT 100",
    )
    .await?;
    client
        .batch_execute(&SwapPlan::create_next_sql("taxon_common_names"))
        .await?;
    counts.vernacular_names = client
        .execute(
            "INSERT INTO taxon_common_names_next (id, taxon_id, name, language, country, \
                 is_preferred, source_id, created_at) \
             SELECT v.id, v.taxon_ref, left(v.name, 200), left(v.language, 10), left(v.country, 2), \
                    v.is_preferred, $1, COALESCE(o.created_at, now()) \
             FROM (SELECT DISTINCT ON (v.id) v.* FROM stage_vernacular v \
                   WHERE EXISTS (SELECT 1 FROM stage_ids i WHERE i.id = v.taxon_ref) \
                   ORDER BY v.id, v.line) v \
             LEFT JOIN taxon_common_names o ON o.id = v.id",
            &[&src],
        )
        .await? as i64;
    copy_other_sources(
        client,
        "taxon_common_names",
        "EXISTS (SELECT 1 FROM taxa_next t WHERE t.id = c.taxon_id)",
        src,
    )
    .await?;
    journal.lap("taxon_common_names");

    let dist_file = release.file_name(FileKind::Distribution);
    report_dangling(
        client,
        journal,
        &dist_file,
        "SELECT v.line, v.taxon_key, count(*) OVER () FROM stage_distribution v \
         WHERE NOT EXISTS (SELECT 1 FROM stage_ids i WHERE i.id = v.taxon_ref) ORDER BY v.line LIMIT 100",
    )
    .await?;
    client
        .batch_execute(&SwapPlan::create_next_sql("taxon_distributions"))
        .await?;
    counts.distributions = client
        .execute(
            "INSERT INTO taxon_distributions_next (id, taxon_id, area_code, gazetteer, area_name, \
                 establishment_means, occurrence_status, threat_status, source_id, created_at) \
             SELECT v.id, v.taxon_ref, v.area_code, v.gazetteer, v.area_name, v.establishment_means, \
                    v.occurrence_status, v.threat_status, $1, COALESCE(o.created_at, now()) \
             FROM (SELECT DISTINCT ON (v.id) v.* FROM stage_distribution v \
                   WHERE EXISTS (SELECT 1 FROM stage_ids i WHERE i.id = v.taxon_ref) \
                   ORDER BY v.id, v.line) v \
             LEFT JOIN taxon_distributions o ON o.id = v.id",
            &[&src],
        )
        .await? as i64;
    copy_other_sources(
        client,
        "taxon_distributions",
        "EXISTS (SELECT 1 FROM taxa_next t WHERE t.id = c.taxon_id)",
        src,
    )
    .await?;
    journal.lap("taxon_distributions");

    let rel_file = release.file_name(FileKind::NameRelation);
    report_dangling(
        client,
        journal,
        &rel_file,
        "SELECT v.line, v.col_name_id || ' or ' || v.col_related_name_id, count(*) OVER () \
         FROM stage_relation v \
         WHERE NOT EXISTS (SELECT 1 FROM stage_ids i WHERE i.id = v.name_ref) \
            OR NOT EXISTS (SELECT 1 FROM stage_ids i WHERE i.id = v.related_ref) \
         ORDER BY v.line LIMIT 100",
    )
    .await?;
    client
        .batch_execute(&SwapPlan::create_next_sql("taxon_name_relations"))
        .await?;
    counts.name_relations = client
        .execute(
            "INSERT INTO taxon_name_relations_next (id, name_id, related_name_id, relation_type, \
                 col_name_id, col_related_name_id, col_source_id, reference_id, page, remarks, \
                 source_id, import_job_id, created_at, updated_at) \
             SELECT v.id, v.name_ref, v.related_ref, v.relation_type, v.col_name_id, \
                    v.col_related_name_id, v.col_source_id, v.reference_id, v.page, v.remarks, \
                    $1, $2, COALESCE(o.created_at, now()), COALESCE(o.updated_at, now()) \
             FROM (SELECT DISTINCT ON (v.name_ref, v.related_ref, v.relation_type) v.* \
                   FROM stage_relation v \
                   WHERE EXISTS (SELECT 1 FROM stage_ids i WHERE i.id = v.name_ref) \
                     AND EXISTS (SELECT 1 FROM stage_ids i WHERE i.id = v.related_ref) \
                   ORDER BY v.name_ref, v.related_ref, v.relation_type, v.line) v \
             LEFT JOIN taxon_name_relations o ON o.id = v.id",
            &[&src, &job_id],
        )
        .await? as i64;
    copy_other_sources(
        client,
        "taxon_name_relations",
        "EXISTS (SELECT 1 FROM taxa_next t WHERE t.id = c.name_id) \
         AND EXISTS (SELECT 1 FROM taxa_next t WHERE t.id = c.related_name_id)",
        src,
    )
    .await?;
    journal.lap("taxon_name_relations");
    client.batch_execute("COMMIT").await?;
    client
        .batch_execute(
            "DROP TABLE IF EXISTS stage_usage, stage_vernacular, stage_distribution, \
             stage_relation, stage_ids, stage_remap, stage_internal, stage_paths, stage_syn",
        )
        .await?;
    Ok(())
}
