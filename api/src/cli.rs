//! Operational commands of `biologidex-api` besides `serve`.

use std::io::{BufRead, IsTerminal, Write};

use biologidex_core::{
    config::Settings,
    domain::{email, password, username},
};
use biologidex_db::models::accounts::{NewUser, User};

/// Arguments of `create-superuser`; missing ones are prompted for in a terminal.
#[derive(Debug, clap::Args)]
pub struct SuperuserArgs {
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    /// Prefer the prompt or `BIOLOGIDEX_SUPERUSER_PASSWORD`: flags show up in `ps`.
    #[arg(long, env = "BIOLOGIDEX_SUPERUSER_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

fn ask(label: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("--{label} is required when not running in a terminal");
    }
    eprint!("{label}: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

fn ask_password() -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "--password (or BIOLOGIDEX_SUPERUSER_PASSWORD) is required when not running in a terminal"
        );
    }
    let first = rpassword::prompt_password("password: ")?;
    let again = rpassword::prompt_password("password (again): ")?;
    if first != again {
        anyhow::bail!("the passwords didn't match");
    }
    Ok(first)
}

fn check<T>(field: &str, r: Result<T, Vec<String>>) -> anyhow::Result<T> {
    r.map_err(|errs| anyhow::anyhow!("{field}: {}", errs.join(" ")))
}

/// Creates a staff superuser (with profile and friend code).
pub async fn create_superuser(settings: &Settings, args: SuperuserArgs) -> anyhow::Result<()> {
    let name = check(
        "username",
        username::parse(&match args.username {
            Some(u) => u,
            None => ask("username")?,
        }),
    )?;
    let mail = check(
        "email",
        email::parse(&match args.email {
            Some(e) => e,
            None => ask("email")?,
        }),
    )?;
    let pw = match args.password {
        Some(p) => p,
        None => ask_password()?,
    };
    let weak = password::strength_errors(&pw);
    if !weak.is_empty() {
        anyhow::bail!("password: {}", weak.join(" "));
    }
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw)).await??;
    let pool =
        biologidex_db::build_pool(&settings.database_url, 1, std::time::Duration::from_secs(5));
    let mut conn = pool.get().await?;
    let created = User::create(
        &mut conn,
        &NewUser {
            username: name.clone(),
            email: mail,
            password_hash: hash,
            is_staff: true,
            is_superuser: true,
        },
    )
    .await;
    match created {
        Ok(view) => {
            tracing::info!(user.id = %view.user.id, "superuser created");
            eprintln!("superuser `{name}` created");
            Ok(())
        }
        Err(biologidex_core::Error::Validation(fields)) => {
            let msgs: Vec<String> = fields
                .into_iter()
                .map(|(f, m)| format!("{f}: {}", m.join(" ")))
                .collect();
            anyhow::bail!(
                "{} (a user with that name or email already exists)",
                msgs.join("; ")
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// Arguments of `import-col`.
#[derive(Debug, clap::Args)]
pub struct ImportColArgs {
    /// A ColDP release: the zip archive or its extracted folder.
    pub path: std::path::PathBuf,
    /// Queue the import for a worker instead of running it here (the worker must see the same
    /// path, e.g. on the shared media volume).
    #[arg(long)]
    pub enqueue: bool,
    /// Connections that build indexes in parallel.
    #[arg(long, default_value_t = 2)]
    pub connections: usize,
    /// `maintenance_work_mem` of the import's sessions.
    #[arg(long, default_value = "1GB")]
    pub maintenance_work_mem: String,
}

/// Imports a ColDP release (or queues it), printing a summary; fails on a malformed release,
/// leaving the previous taxonomy in place.
pub async fn import_col(settings: &Settings, args: ImportColArgs) -> anyhow::Result<()> {
    use biologidex_taxonomy::import;
    let pool = biologidex_db::build_pool(
        &settings.database_url,
        2,
        std::time::Duration::from_secs(10),
    );
    let job = import::create_col_job(&pool, &args.path).await?;
    if args.enqueue {
        use apalis::prelude::TaskSink;
        use biologidex_core::jobs::{Job, RunTaxonomyImport};
        let conn = apalis_redis::connect(settings.redis_url.as_str()).await?;
        let mut storage = RunTaxonomyImport::storage(conn, &settings.redis_key_prefix);
        storage
            .push(RunTaxonomyImport {
                import_job_id: job.id,
            })
            .await
            .map_err(|e| anyhow::anyhow!("cannot queue the import: {e}"))?;
        eprintln!("import job {} queued", job.id);
        return Ok(());
    }
    let opts = import::ImportOptions {
        connections: args.connections.max(1),
        maintenance_work_mem: args.maintenance_work_mem,
        ..import::ImportOptions::default()
    };
    let report = import::run_import(&pool, &settings.database_url, job.id, &opts).await?;
    biologidex_taxonomy::cache::invalidate_after_import(settings).await;
    let c = &report.counts;
    eprintln!(
        "imported release {:?} in {:.1} s (job {}): {} name usages ({} accepted, {} synonyms; \
         {} new, {} changed, {} unchanged, {} removed), {} vernacular names, {} distributions, \
         {} name relations; {} bad rows, {} unresolved references",
        report.version,
        report.duration_s,
        report.job_id,
        c.name_usages,
        c.accepted,
        c.synonyms,
        c.inserted,
        c.updated,
        c.unchanged,
        c.removed,
        c.vernacular_names,
        c.distributions,
        c.name_relations,
        report.bad_rows,
        report.unresolved_references
    );
    for issue in report.errors.iter().chain(report.warnings.iter()).take(20) {
        eprintln!("  {}:{}: {}", issue.file, issue.line, issue.message);
    }
    Ok(())
}

/// `biologidex-api media ...`
#[derive(Debug, clap::Subcommand)]
pub enum MediaCommand {
    /// Copy a local media folder (default MEDIA_ROOT) into the object store named by
    /// MEDIA_STORAGE_URL, keeping every key; re-running skips what is already there.
    UploadLocal {
        /// The folder to copy (default: MEDIA_ROOT).
        #[arg(long)]
        from: Option<std::path::PathBuf>,
        /// Files in flight at once.
        #[arg(long, default_value_t = 8)]
        parallel: usize,
    },
}

/// Runs a `media` command; a file that could not be copied means a non-zero exit.
pub async fn media(settings: &Settings, cmd: MediaCommand) -> anyhow::Result<()> {
    let MediaCommand::UploadLocal { from, parallel } = cmd;
    let Some(url) = settings.media_storage_url.as_deref() else {
        anyhow::bail!(
            "MEDIA_STORAGE_URL is not set: name the bucket to copy into (s3://... or gs://...)"
        );
    };
    let from = from.unwrap_or_else(|| settings.media_root.clone());
    anyhow::ensure!(from.is_dir(), "{}: not a directory", from.display());
    let dest = biologidex_media::storage::ObjectStorage::from_url(url)?;
    let started = std::time::Instant::now();
    let done = biologidex_media::storage::transfer::upload_folder(&from, &dest, parallel).await?;
    // The summary is the command's output (stdout), for scripts; failures go to stderr.
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "copied {} files ({} bytes) to {url}, {} already there, {} failed, in {:.1} s",
        done.copied,
        done.bytes,
        done.skipped,
        done.failed.len(),
        started.elapsed().as_secs_f64()
    )?;
    for failure in &done.failed {
        eprintln!("failed: {failure}");
    }
    anyhow::ensure!(
        done.failed.is_empty(),
        "{} files were not copied; run the command again",
        done.failed.len()
    );
    Ok(())
}
