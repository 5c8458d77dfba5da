//! The console's actions from the command line, for scripts: `user set-active|set-staff|
//! set-password`, `jobs retry-failed --since`, `animals merge`. Each prints what it changed on
//! stdout and fails (non-zero exit) on an unknown user or id. The audit rows name the
//! operating-system user (`cli:<user>`).

use std::io::{IsTerminal, Write};

use biologidex_core::{config::Settings, domain::password, jobs::ProcessAnalysis};
use biologidex_db::{
    admin::{self, Outcome},
    models::admin::Actor,
};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::queue::JobQueue;

/// `true` or `false`, as typed.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Flag {
    True,
    False,
}

impl Flag {
    fn on(self) -> bool {
        matches!(self, Flag::True)
    }
}

/// `biologidex-api user ...`
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Activate or deactivate an account (deactivation revokes every token at once).
    SetActive { username: String, active: Flag },
    /// Grant or remove staff (the console's access).
    SetStaff { username: String, staff: Flag },
    /// Set a new password (from BIOLOGIDEX_USER_PASSWORD or a prompt); revokes every token.
    SetPassword {
        username: String,
        #[arg(long, env = "BIOLOGIDEX_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

/// `biologidex-api jobs ...`
#[derive(Debug, clap::Subcommand)]
pub enum JobsCommand {
    /// Put every failed vision job created since a moment back in the queue.
    RetryFailed {
        /// RFC 3339 time, a date (`2026-11-30`, UTC midnight) or an age (`90m`, `24h`, `7d`).
        #[arg(long)]
        since: String,
    },
}

/// `biologidex-api animals ...`
#[derive(Debug, clap::Subcommand)]
pub enum AnimalsCommand {
    /// Merge a duplicate animal into another: its entries and jobs move, it is deleted.
    Merge { from_id: Uuid, into_id: Uuid },
}

/// Parses `--since`: an RFC 3339 time, a date, or an age before `now`.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(t) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(day) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc());
    }
    let (number, unit) = t.split_at(t.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| {
        anyhow::anyhow!("--since: expected a time, a date or an age like 24h, got `{t}`")
    })?;
    let span = match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => anyhow::bail!("--since: unknown unit in `{t}` (s, m, h or d)"),
    };
    Ok(now - span)
}

fn say(outcome: &Outcome) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", outcome.summary)?;
    Ok(())
}

fn pool(settings: &Settings) -> biologidex_db::DbPool {
    biologidex_db::build_pool(
        &settings.database_url,
        2,
        std::time::Duration::from_secs(10),
    )
}

async fn finish(settings: &Settings, outcome: Outcome) -> anyhow::Result<()> {
    if outcome.invalidate != admin::Invalidate::Nothing || !outcome.requeue.is_empty() {
        let redis = biologidex_core::redis_util::build_pool(&settings.redis_url, 2)?;
        admin::invalidate(&redis, settings, &outcome.invalidate).await;
        let queue = JobQueue::new(&settings.redis_url, &settings.redis_key_prefix);
        for id in &outcome.requeue {
            if let Err(e) = queue
                .push(ProcessAnalysis {
                    analysis_job_id: *id,
                })
                .await
            {
                tracing::warn!(analysis_job.id = %id, error = %e, "push failed; the reaper will queue the job");
            }
        }
    }
    say(&outcome)
}

fn new_password(given: Option<String>) -> anyhow::Result<String> {
    let pw = match given {
        Some(p) => p,
        None => {
            if !std::io::stdin().is_terminal() {
                anyhow::bail!(
                    "BIOLOGIDEX_USER_PASSWORD is required when not running in a terminal"
                );
            }
            let first = rpassword::prompt_password("new password: ")?;
            let again = rpassword::prompt_password("new password (again): ")?;
            if first != again {
                anyhow::bail!("the passwords didn't match");
            }
            first
        }
    };
    let weak = password::strength_errors(&pw);
    if !weak.is_empty() {
        anyhow::bail!("password: {}", weak.join(" "));
    }
    Ok(pw)
}

/// Runs `user ...`.
pub async fn user(settings: &Settings, cmd: UserCommand) -> anyhow::Result<()> {
    let pool = pool(settings);
    let mut conn = pool.get().await?;
    let actor = Actor::cli();
    let outcome = match cmd {
        UserCommand::SetActive { username, active } => {
            let u = admin::find_user(&mut conn, &username).await?;
            admin::set_active(&mut conn, &actor, u.id, active.on()).await?
        }
        UserCommand::SetStaff { username, staff } => {
            let u = admin::find_user(&mut conn, &username).await?;
            admin::set_staff(&mut conn, &actor, u.id, staff.on()).await?
        }
        UserCommand::SetPassword { username, password } => {
            let u = admin::find_user(&mut conn, &username).await?;
            let pw = new_password(password)?;
            let hash = tokio::task::spawn_blocking(move || password::hash(&pw)).await??;
            admin::set_password(&mut conn, &actor, u.id, &hash).await?
        }
    };
    drop(conn);
    finish(settings, outcome).await
}

/// Runs `jobs ...`.
pub async fn jobs(settings: &Settings, cmd: JobsCommand) -> anyhow::Result<()> {
    let JobsCommand::RetryFailed { since } = cmd;
    let since = parse_since(&since, Utc::now())?;
    let pool = pool(settings);
    let mut conn = pool.get().await?;
    let outcome = admin::retry_failed_since(&mut conn, &Actor::cli(), since).await?;
    drop(conn);
    finish(settings, outcome).await
}

/// Runs `animals ...`.
pub async fn animals(settings: &Settings, cmd: AnimalsCommand) -> anyhow::Result<()> {
    let AnimalsCommand::Merge { from_id, into_id } = cmd;
    let pool = pool(settings);
    let mut conn = pool.get().await?;
    let outcome =
        admin::merge_animals(&mut conn, &Actor::cli(), from_id.into(), into_id.into()).await?;
    drop(conn);
    finish(settings, outcome).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_times_dates_and_ages() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_default();
        let at = |s: &str| parse_since(s, now).map(|d| d.to_rfc3339()).ok();
        assert_eq!(at("24h").as_deref(), Some("2026-11-30T12:00:00+00:00"));
        assert_eq!(at("7d").as_deref(), Some("2026-11-24T12:00:00+00:00"));
        assert_eq!(
            at("2026-11-30").as_deref(),
            Some("2026-11-30T00:00:00+00:00")
        );
        assert_eq!(
            at("2026-11-30T10:00:00+01:00").as_deref(),
            Some("2026-11-30T09:00:00+00:00")
        );
        assert!(at("yesterday").is_none());
        assert!(at("3w").is_none());
    }
}
