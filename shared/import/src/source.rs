//! The old Django database, read-only: every session refuses writes, so the importer cannot
//! change it even by mistake. Rows come in keyset batches (`WHERE key > cursor ORDER BY key`),
//! each batch as one JSON array, so memory stays flat whatever the size of the table.

use diesel::sql_types::{BigInt, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::de::DeserializeOwned;

/// The cursor before the first row of a uuid-keyed table.
pub const START: &str = "00000000-0000-0000-0000-000000000000";

/// A read-only connection to the old database.
pub struct OldDb {
    conn: AsyncPgConnection,
}

#[derive(diesel::QueryableByName)]
struct Batch {
    #[diesel(sql_type = Text)]
    batch: String,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl OldDb {
    /// Connects and makes the session read-only, then checks that this is the old server's
    /// schema (a users table with Django's `password` column and a dex_entries table).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let mut conn = AsyncPgConnection::establish(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to the old database: {e}"))?;
        diesel::sql_query("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            .execute(&mut conn)
            .await?;
        diesel::sql_query("SET default_transaction_read_only = on")
            .execute(&mut conn)
            .await?;
        let mut db = OldDb { conn };
        let marker = db
            .count(
                "SELECT count(*) AS n FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND \
                 ((table_name = 'users' AND column_name = 'password') \
                  OR (table_name = 'dex_entries' AND column_name = 'original_image'))",
            )
            .await?;
        if marker != 2 {
            anyhow::bail!(
                "the database given with --from is not the old BiologiDex (Django) database: \
                 it has no users.password or dex_entries.original_image column"
            );
        }
        Ok(db)
    }

    /// `SELECT count(*) AS n ...`.
    pub async fn count(&mut self, sql: &str) -> anyhow::Result<i64> {
        Ok(diesel::sql_query(sql)
            .get_result::<Count>(&mut self.conn)
            .await?
            .n)
    }

    /// Row count of `table`, or None when the old schema has no such table.
    pub async fn table_rows(&mut self, table: &str) -> anyhow::Result<Option<i64>> {
        let exists = diesel::sql_query(
            "SELECT count(*) AS n FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1",
        )
        .bind::<Text, _>(table)
        .get_result::<Count>(&mut self.conn)
        .await?
        .n;
        if exists == 0 {
            return Ok(None);
        }
        // The name comes from this crate's fixed list, never from input.
        Ok(Some(
            self.count(&format!("SELECT count(*) AS n FROM \"{table}\""))
                .await?,
        ))
    }

    /// Runs a batch query taking `$1` (the cursor, text) and `$2` (the limit) and answering one
    /// text column `batch` holding a JSON array of rows.
    pub async fn batch<T: DeserializeOwned>(
        &mut self,
        sql: &str,
        cursor: &str,
        limit: i64,
    ) -> anyhow::Result<Vec<T>> {
        let text = diesel::sql_query(sql)
            .bind::<Text, _>(cursor)
            .bind::<BigInt, _>(limit)
            .get_result::<Batch>(&mut self.conn)
            .await?
            .batch;
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("reading old rows: {e}"))
    }

    /// Runs a query answering one text column `batch` holding a JSON value, with no parameters.
    pub async fn json<T: DeserializeOwned>(&mut self, sql: &str) -> anyhow::Result<T> {
        let text = diesel::sql_query(sql)
            .get_result::<Batch>(&mut self.conn)
            .await?
            .batch;
        serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("reading old rows: {e}"))
    }
}
