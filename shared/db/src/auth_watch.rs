//! Changes that can refuse a token, as PostgreSQL announces them: the triggers of
//! `migrations/2026-12-02-000060_auth_notify` send the user's id on [`CHANNEL`] at commit, for
//! a password, flag or username change, a deleted account and a revoked refresh token, whoever
//! makes the change. [`listen`] keeps one connection listening, reconnecting after a failure,
//! and tells its sink whether it is listening, so the sink never trusts what it may have missed.

use std::sync::Weak;
use std::time::Duration;

use biologidex_core::ids::UserId;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;

/// The notification channel of the triggers.
pub const CHANNEL: &str = "biologidex_auth";

/// How often a quiet listening connection is checked, and how long the check may take: a
/// connection that died without closing (a partition) is noticed within their sum.
const CHECK_EVERY: Duration = Duration::from_secs(5);
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// What a listener reports.
pub trait AuthSink: Send + Sync + 'static {
    /// The listener started (`true`) or stopped (`false`) hearing every change.
    fn listening(&self, live: bool);
    /// Something about `user`'s access changed.
    fn changed(&self, user: UserId);
    /// A [`FENCE`] arrived: every change committed before it has been reported.
    fn fence(&self) {}
}

/// A payload that names no user: sent after a change, its arrival proves the change heard.
pub const FENCE: &str = "fence";

/// Listens on `url` for as long as `sink` lives.
pub async fn listen<S: AuthSink>(url: String, sink: Weak<S>) {
    loop {
        match crate::establish_on_driver_runtime(url.clone()).await {
            Ok(mut conn) => {
                let heard = hear(&mut conn, &sink).await;
                if let Some(s) = sink.upgrade() {
                    s.listening(false);
                }
                match heard {
                    Ok(()) => return,
                    Err(e) => tracing::warn!(error = %e, "auth change listener lost; retrying"),
                }
            }
            Err(e) => tracing::warn!(error = %e, "auth change listener cannot connect; retrying"),
        }
        if sink.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(RETRY_AFTER).await;
    }
}

/// Hears notifications until the connection fails (`Err`) or the sink is gone (`Ok`).
async fn hear<S: AuthSink>(conn: &mut AsyncPgConnection, sink: &Weak<S>) -> Result<(), String> {
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(conn)
        .await
        .map_err(|e| e.to_string())?;
    match sink.upgrade() {
        Some(s) => s.listening(true),
        None => return Ok(()),
    }
    loop {
        let next = {
            let mut stream = std::pin::pin!(conn.notifications_stream());
            tokio::time::timeout(CHECK_EVERY, stream.next()).await
        };
        let Some(s) = sink.upgrade() else {
            return Ok(());
        };
        match next {
            Ok(Some(Ok(n))) if n.payload == FENCE => s.fence(),
            Ok(Some(Ok(n))) => match n.payload.parse::<UserId>() {
                Ok(user) => s.changed(user),
                Err(_) => tracing::warn!(payload = %n.payload, "unexpected auth notification"),
            },
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(None) => return Err("connection closed".to_owned()),
            Err(_quiet) => {
                let check = diesel::sql_query("SELECT 1").execute(conn);
                match tokio::time::timeout(CHECK_TIMEOUT, check).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Err(e.to_string()),
                    Err(_) => return Err("connection check timed out".to_owned()),
                }
            }
        }
    }
}
