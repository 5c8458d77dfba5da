//! System: queue depth and dead jobs per queue, worker heartbeats, the cron schedule with each
//! task's last run, and PostgreSQL/Redis/storage health.

use std::time::{Duration, Instant};

use actix_web::{HttpResponse, http::StatusCode, web};
use biologidex_core::{jobs, redis_util, schedule};
use chrono::{DateTime, Utc};
use maud::html;

use super::{
    page::{AdminResult, at, html_response, layout},
    session::Staff,
};
use crate::state::AppState;

const DEADLINE: Duration = Duration::from_millis(800);

/// One queue's line.
struct QueueLine {
    name: &'static str,
    counts: Result<jobs::QueueCounts, String>,
    /// (worker name, last heartbeat).
    workers: Vec<(String, DateTime<Utc>)>,
}

async fn queue_line(state: &AppState, queue: jobs::Queue) -> QueueLine {
    let prefix = &state.settings.redis_key_prefix;
    let counts = jobs::queue_counts(&state.redis, prefix, queue).await;
    let set = jobs::queue_config(prefix, queue).workers_set();
    let workers = redis_util::run(&state.redis, async move |c| {
        redis::cmd("ZRANGE")
            .arg(&set)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async::<Vec<(String, f64)>>(c)
            .await
    })
    .await
    .unwrap_or_default()
    .into_iter()
    .filter_map(|(w, score)| DateTime::from_timestamp(score as i64, 0).map(|t| (w, t)))
    .collect();
    QueueLine {
        name: queue.name(),
        counts,
        workers,
    }
}

async fn timed<T>(f: impl Future<Output = Result<T, String>>) -> (Result<T, String>, Duration) {
    let started = Instant::now();
    let r = match tokio::time::timeout(DEADLINE, f).await {
        Ok(r) => r,
        Err(_) => Err("timed out".to_owned()),
    };
    (r, started.elapsed())
}

/// `GET /admin/system/`.
pub async fn page(state: web::Data<AppState>, staff: Staff) -> AdminResult<HttpResponse> {
    let mut queues = Vec::new();
    for q in jobs::Queue::ALL {
        queues.push(queue_line(&state, q).await);
    }
    let (db, db_t) = timed(biologidex_db::ping(&state.db, DEADLINE)).await;
    let (redis, redis_t) = timed(redis_util::run(&state.redis, async |c| {
        redis::cmd("PING").query_async::<String>(c).await
    }))
    .await;
    let (storage, storage_t) = timed(async {
        state
            .storage
            .check_writable()
            .await
            .map_err(|e| e.to_string())
    })
    .await;
    let runs = schedule::last_runs(&state.redis, &state.settings)
        .await
        .unwrap_or_default();
    let orphan_after = jobs::queue_config("", jobs::Queue::Vision).orphaned_duration();
    let now = Utc::now();
    let store = format!("Storage ({})", state.storage.location());
    let health = [
        ("PostgreSQL", db.map(drop), db_t),
        ("Redis", redis.map(drop), redis_t),
        (store.as_str(), storage.map(drop), storage_t),
    ];
    let body = html! {
        h2 { "Health" }
        table {
            thead { tr { th { "Component" } th { "Status" } th { "Response time" } } }
            tbody {
                @for (name, r, t) in &health {
                    tr {
                        td { (name) }
                        @match r {
                            Ok(()) => { td.ok { "up" } }
                            Err(e) => { td.bad { "down: " (e) } }
                        }
                        td { (format!("{:.1} ms", t.as_secs_f64() * 1000.0)) }
                    }
                }
            }
        }
        h2 { "Queues" }
        table {
            thead { tr { th { "Queue" } th { "Waiting" } th { "Dead" } th { "Workers (last heartbeat)" } } }
            tbody {
                @for q in &queues {
                    tr {
                        td { code { (q.name) } }
                        @match &q.counts {
                            Ok(c) => { td { (c.waiting) } td class=(if c.dead > 0 { "bad" } else { "" }) { (c.dead) } }
                            Err(e) => { td.bad colspan="2" { (e) } }
                        }
                        td {
                            @if q.workers.is_empty() { span.bad { "none" } }
                            @for (w, t) in &q.workers {
                                @let stale = (now - *t).to_std().unwrap_or_default() > orphan_after;
                                div class=(if stale { "bad" } else { "" }) {
                                    code { (w) } " " (at(t)) @if stale { " (stale)" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Cron schedule" }
        p.muted { "Seconds first (six fields). Runs only on the worker with WORKER_RUN_CRON=true." }
        table {
            thead { tr { th { "Task" } th { "Schedule" } th { "Last run" } th { "Result" } } }
            tbody {
                @for task in schedule::ALL {
                    tr {
                        td { code { (task.name) } }
                        td { code { (task.expression) } }
                        @match runs.get(task.name) {
                            Some(run) => {
                                td { (DateTime::from_timestamp(run.at, 0).map(|t| at(&t)).unwrap_or_default()) }
                                td class=(if run.ok { "ok" } else { "bad" }) { (run.detail) }
                            }
                            None => { td.muted { "not yet" } td {} }
                        }
                    }
                }
            }
        }
        p { "Machine-readable: " a href="/api/v1/health/" { "/api/v1/health/" } ", " a href="/ready/" { "/ready/" } ", " a href="/metrics/" { "/metrics/" } }
    };
    Ok(html_response(
        StatusCode::OK,
        layout("System", Some(&staff.frame()), None, body),
    ))
}
