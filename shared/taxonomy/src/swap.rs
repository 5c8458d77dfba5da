//! The atomic switch to a new taxonomy. The importer fills `<table>_next` copies of the four
//! taxonomy tables; this module reads the live tables' indexes, constraints and triggers from
//! the catalog, rebuilds them on the copies (in parallel), and swaps the copies in with one short
//! transaction. Because definitions come from the catalog, indexes or constraints added by later
//! migrations are carried over without changing the importer.

use std::{collections::VecDeque, sync::Arc, time::Duration};

use tokio::sync::Mutex;
use tokio_postgres::Client;

/// The tables an import replaces, parents first.
pub const TABLES: [&str; 4] = [
    "taxa",
    "taxon_common_names",
    "taxon_distributions",
    "taxon_name_relations",
];

/// The name of a table's copy under construction.
pub fn next_name(table: &str) -> String {
    format!("{table}_next")
}

/// Drops copies left by an interrupted import (they are never visible to the application).
pub fn drop_next_sql() -> String {
    let names: Vec<String> = TABLES.iter().rev().map(|t| next_name(t)).collect();
    format!("DROP TABLE IF EXISTS {}", names.join(", "))
}

#[derive(Debug, Clone)]
struct IndexPlan {
    original: String,
    temporary: String,
    create: String,
    /// `PRIMARY KEY` or `UNIQUE` when the index backs a constraint of that kind.
    constraint: Option<&'static str>,
    gin: bool,
}

#[derive(Debug, Clone)]
struct TablePlan {
    table: String,
    indexes: Vec<IndexPlan>,
    /// `ALTER TABLE <next> ADD CONSTRAINT ... NOT VALID` for each foreign key.
    foreign_keys: Vec<String>,
    /// `ALTER TABLE <next> VALIDATE CONSTRAINT ...` for the keys that are valid on the live table.
    validations: Vec<String>,
    triggers: Vec<String>,
}

#[derive(Debug, Clone)]
struct ExternalFk {
    table: String,
    name: String,
    definition: String,
}

/// What must be rebuilt on the copies, read from the live tables.
#[derive(Debug, Clone)]
pub struct SwapPlan {
    tables: Vec<TablePlan>,
    external: Vec<ExternalFk>,
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl SwapPlan {
    /// Reads the live tables' definitions.
    pub async fn load(client: &Client) -> Result<SwapPlan, tokio_postgres::Error> {
        let mut tables = Vec::new();
        for (n, table) in TABLES.iter().enumerate() {
            let qualified: String = client
                .query_one(
                    "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) \
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.oid = $1::text::regclass",
                    &[table],
                )
                .await?
                .get(0);
            let next = next_name(table);
            let qualified_next = match qualified.rsplit_once('.') {
                Some((schema, _)) => format!("{schema}.{}", quote_ident(&next)),
                None => quote_ident(&next),
            };
            let rows = client
                .query(
                    "SELECT i.relname::text, pg_get_indexdef(x.indexrelid), \
                            c.contype::text, am.amname::text \
                     FROM pg_index x \
                     JOIN pg_class i ON i.oid = x.indexrelid \
                     JOIN pg_am am ON am.oid = i.relam \
                     LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid \
                          AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u') \
                     WHERE x.indrelid = $1::text::regclass ORDER BY i.relname",
                    &[table],
                )
                .await?;
            let mut indexes = Vec::new();
            for (k, row) in rows.iter().enumerate() {
                let original: String = row.get(0);
                let def: String = row.get(1);
                let contype: Option<String> = row.get(2);
                let am: String = row.get(3);
                let marker = format!(" ON {qualified} USING ");
                let Some((head, tail)) = def.split_once(&marker) else {
                    continue;
                };
                let temporary = format!("bdxnext_{n}_{k}_{table}");
                let temporary: String = temporary.chars().take(63).collect();
                let unique = if head.starts_with("CREATE UNIQUE INDEX") {
                    "UNIQUE "
                } else {
                    ""
                };
                indexes.push(IndexPlan {
                    create: format!(
                        "CREATE {unique}INDEX {} ON {qualified_next} USING {tail}",
                        quote_ident(&temporary)
                    ),
                    original,
                    temporary,
                    constraint: match contype.as_deref() {
                        Some("p") => Some("PRIMARY KEY"),
                        Some("u") => Some("UNIQUE"),
                        _ => None,
                    },
                    gin: am == "gin",
                });
            }
            let fk_rows = client
                .query(
                    "SELECT c.conname::text, pg_get_constraintdef(c.oid), c.confrelid::regclass::text, \
                            f.relname::text, c.convalidated \
                     FROM pg_constraint c JOIN pg_class f ON f.oid = c.confrelid \
                     WHERE c.contype = 'f' AND c.conrelid = $1::text::regclass ORDER BY c.conname",
                    &[table],
                )
                .await?;
            let mut foreign_keys = Vec::new();
            let mut validations = Vec::new();
            for row in &fk_rows {
                let name: String = row.get(0);
                let mut def: String = row.get(1);
                let target_printed: String = row.get(2);
                let target: String = row.get(3);
                if TABLES.contains(&target.as_str()) {
                    def = def.replacen(
                        &format!("REFERENCES {target_printed}("),
                        &format!("REFERENCES {}(", quote_ident(&next_name(&target))),
                        1,
                    );
                }
                let def = def.trim_end_matches(" NOT VALID");
                foreign_keys.push(format!(
                    "ALTER TABLE {qualified_next} ADD CONSTRAINT {} {def} NOT VALID",
                    quote_ident(&name)
                ));
                if row.get::<_, bool>(4) {
                    validations.push(format!(
                        "ALTER TABLE {qualified_next} VALIDATE CONSTRAINT {}",
                        quote_ident(&name)
                    ));
                }
            }
            let trig_rows = client
                .query(
                    "SELECT pg_get_triggerdef(t.oid) FROM pg_trigger t \
                     WHERE t.tgrelid = $1::text::regclass AND NOT t.tgisinternal ORDER BY t.tgname",
                    &[table],
                )
                .await?;
            let marker = format!(" ON {qualified} ");
            let triggers = trig_rows
                .iter()
                .map(|r| {
                    let def: String = r.get(0);
                    def.replacen(&marker, &format!(" ON {qualified_next} "), 1)
                })
                .collect();
            tables.push(TablePlan {
                table: (*table).to_owned(),
                indexes,
                foreign_keys,
                validations,
                triggers,
            });
        }
        let ext_rows = client
            .query(
                "SELECT c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid) \
                 FROM pg_constraint c \
                 WHERE c.contype = 'f' AND c.confrelid = ANY($1::text[]::regclass[]) \
                   AND NOT c.conrelid = ANY($1::text[]::regclass[])",
                &[&TABLES.to_vec()],
            )
            .await?;
        let external = ext_rows
            .iter()
            .map(|r| ExternalFk {
                table: r.get(0),
                name: r.get(1),
                definition: r.get(2),
            })
            .collect();
        Ok(SwapPlan { tables, external })
    }

    /// `CREATE TABLE <t>_next (LIKE <t> ...)` for one table: columns, defaults, checks, storage,
    /// comments and statistics, but no indexes yet (they are built after the bulk load).
    pub fn create_next_sql(table: &str) -> String {
        format!(
            "CREATE TABLE {} (LIKE {} INCLUDING ALL EXCLUDING INDEXES)",
            quote_ident(&next_name(table)),
            quote_ident(table)
        )
    }

    /// The `CREATE INDEX` statements of the chosen tables, GIN indexes (the slowest) and the
    /// biggest table first.
    pub fn index_statements(&self, tables: impl Fn(&str) -> bool) -> Vec<String> {
        let mut all: Vec<(usize, bool, String)> = Vec::new();
        for (n, t) in self
            .tables
            .iter()
            .enumerate()
            .filter(|(_, t)| tables(&t.table))
        {
            for i in &t.indexes {
                all.push((n, i.gin, i.create.clone()));
            }
        }
        all.sort_by_key(|(n, gin, _)| (!gin, *n));
        all.into_iter().map(|(_, _, sql)| sql).collect()
    }

    fn constraint_statements(&self) -> Vec<String> {
        let mut out = Vec::new();
        for t in &self.tables {
            for i in &t.indexes {
                if let Some(kind) = i.constraint {
                    out.push(format!(
                        "ALTER TABLE {} ADD CONSTRAINT {tmp} {kind} USING INDEX {tmp}",
                        quote_ident(&next_name(&t.table)),
                        tmp = quote_ident(&i.temporary)
                    ));
                }
            }
        }
        out
    }

    /// Builds indexes, constraints, foreign keys and triggers on the copies and analyses them,
    /// spreading the work over `clients` (independent statements run in parallel).
    /// Indexes of tables in `built` were made already (see [`Queue`]). Returns how long each
    /// statement took.
    pub async fn build(
        &self,
        clients: &[&Client],
        built: &[&str],
    ) -> Result<Vec<(String, f64)>, tokio_postgres::Error> {
        let mut timings =
            run_parallel(clients, self.index_statements(|t| !built.contains(&t))).await?;
        timings
            .extend(run_parallel(clients, vec![self.constraint_statements().join(";\n")]).await?);
        // Adding a key locks both tables in a mode that conflicts with itself, so keys are added
        // NOT VALID one after the other (instant), then validated: validations of different
        // tables take compatible locks and run in parallel, the biggest table first.
        let adds: Vec<String> = self
            .tables
            .iter()
            .flat_map(|t| t.foreign_keys.iter().cloned())
            .collect();
        timings.extend(run_parallel(clients, vec![adds.join(";\n")]).await?);
        let validations: Vec<String> = self
            .tables
            .iter()
            .filter(|t| !t.validations.is_empty())
            .map(|t| t.validations.join(";\n"))
            .collect();
        timings.extend(run_parallel(clients, validations).await?);
        let mut last: Vec<String> = self
            .tables
            .iter()
            .flat_map(|t| t.triggers.iter().cloned())
            .collect();
        last.extend(
            self.tables
                .iter()
                .map(|t| format!("ANALYZE {}", quote_ident(&next_name(&t.table)))),
        );
        timings.extend(run_parallel(clients, last).await?);
        Ok(timings)
    }

    /// The statements of the swap transaction: lock, drop the live tables, rename the copies and
    /// their indexes and constraints to the live names, re-point foreign keys of other tables.
    pub fn swap_statements(&self, lock_timeout: Duration) -> Vec<String> {
        let locked: Vec<String> = TABLES
            .iter()
            .map(|t| quote_ident(t))
            .chain(TABLES.iter().map(|t| quote_ident(&next_name(t))))
            .collect();
        let mut out = vec![
            format!("SET LOCAL lock_timeout = '{}ms'", lock_timeout.as_millis()),
            format!("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", locked.join(", ")),
        ];
        for fk in &self.external {
            out.push(format!(
                "ALTER TABLE {} DROP CONSTRAINT {}",
                fk.table,
                quote_ident(&fk.name)
            ));
        }
        let rev: Vec<String> = TABLES.iter().rev().map(|t| quote_ident(t)).collect();
        out.push(format!("DROP TABLE {}", rev.join(", ")));
        for t in &self.tables {
            out.push(format!(
                "ALTER TABLE {} RENAME TO {}",
                quote_ident(&next_name(&t.table)),
                quote_ident(&t.table)
            ));
            for i in &t.indexes {
                if i.constraint.is_some() {
                    out.push(format!(
                        "ALTER TABLE {} RENAME CONSTRAINT {} TO {}",
                        quote_ident(&t.table),
                        quote_ident(&i.temporary),
                        quote_ident(&i.original)
                    ));
                } else {
                    out.push(format!(
                        "ALTER INDEX {} RENAME TO {}",
                        quote_ident(&i.temporary),
                        quote_ident(&i.original)
                    ));
                }
            }
        }
        // Rows of other tables may point at taxa this release removed: keep enforcing the key
        // for new rows without failing the swap on old ones.
        for fk in &self.external {
            out.push(format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {} NOT VALID",
                fk.table,
                quote_ident(&fk.name),
                fk.definition
            ));
        }
        out
    }
}

/// Independent statements that connections take one at a time, each when it is free; a
/// connection may start draining late (after finishing other work).
#[derive(Debug, Clone, Default)]
pub struct Queue(Arc<Mutex<VecDeque<String>>>);

impl Queue {
    /// A queue of statements (each may hold several `;`-separated commands).
    pub fn new(statements: Vec<String>) -> Queue {
        Queue(Arc::new(Mutex::new(VecDeque::from(statements))))
    }

    /// Runs statements on `client` until the queue is empty; returns each statement's first
    /// line and duration.
    pub async fn drain(
        &self,
        client: &Client,
    ) -> Result<Vec<(String, f64)>, tokio_postgres::Error> {
        let mut timings = Vec::new();
        loop {
            let next = self.0.lock().await.pop_front();
            let Some(sql) = next else {
                return Ok(timings);
            };
            if sql.trim().is_empty() {
                continue;
            }
            let started = std::time::Instant::now();
            client.batch_execute(&sql).await?;
            let secs = started.elapsed().as_secs_f64();
            let first = sql.lines().next().unwrap_or("").to_owned();
            tracing::debug!(duration_s = secs, sql = %first, "taxonomy import statement");
            timings.push((first, secs));
        }
    }
}

/// Runs independent statements over the connections, each taking the next when it is free.
pub async fn run_parallel(
    clients: &[&Client],
    statements: Vec<String>,
) -> Result<Vec<(String, f64)>, tokio_postgres::Error> {
    let queue = Queue::new(statements);
    let per_client =
        futures_util::future::try_join_all(clients.iter().map(|c| queue.drain(c))).await?;
    Ok(per_client.into_iter().flatten().collect())
}
