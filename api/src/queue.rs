//! Pushing jobs to Redis (apalis) from the api. The job's row is committed first; a push that
//! fails (Redis down) is logged and left to the worker's reaper, which re-enqueues pending
//! rows, so a request never fails because of Redis (docs/decisions.md#d16).

use std::time::Duration;

use apalis::prelude::TaskSink;
use apalis_redis::ConnectionManager;
use biologidex_core::jobs::Job;
use tokio::sync::OnceCell;

/// Connect and push deadline: a dead Redis costs a request at most this.
const DEADLINE: Duration = Duration::from_secs(1);

/// A lazily connected handle on the job queues.
#[derive(Debug)]
pub struct JobQueue {
    url: String,
    prefix: String,
    conn: OnceCell<ConnectionManager>,
}

impl JobQueue {
    /// Does not connect yet (the api starts without Redis).
    pub fn new(url: &str, prefix: &str) -> Self {
        JobQueue {
            url: url.to_owned(),
            prefix: prefix.to_owned(),
            conn: OnceCell::new(),
        }
    }

    async fn connection(&self) -> Result<ConnectionManager, String> {
        self.conn
            .get_or_try_init(|| async {
                match tokio::time::timeout(DEADLINE, apalis_redis::connect(self.url.as_str())).await
                {
                    Ok(Ok(c)) => Ok(c),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("redis connect timed out".to_owned()),
                }
            })
            .await
            .cloned()
    }

    /// Pushes `job`; `Err` only reports (the reaper will pick the row up).
    pub async fn push<J: Job>(&self, job: J) -> Result<(), String> {
        let conn = self.connection().await?;
        let mut storage = J::storage(conn, &self.prefix);
        match tokio::time::timeout(DEADLINE, storage.push(job)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err("redis push timed out".to_owned()),
        }
    }
}
