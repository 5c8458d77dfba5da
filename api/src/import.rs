//! `biologidex-api import-django`: the operator's side of `biologidex_import` — arguments,
//! a progress bar on a terminal (plain periodic lines otherwise), the report, `--verify`.

use std::{
    io::IsTerminal,
    path::PathBuf,
    sync::Mutex,
    time::{Duration, Instant},
};

use biologidex_core::config::Settings;
use biologidex_import::{Kind, Options, Progress};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use indicatif::{ProgressBar, ProgressStyle};

/// Arguments of `import-django`.
#[derive(Debug, clap::Args)]
pub struct ImportDjangoArgs {
    /// The old server's DATABASE_URL (read only: the old database is never written).
    #[arg(long = "from", env = "DJANGO_DATABASE_URL", hide_env_values = true)]
    pub from: String,
    /// The old server's MEDIA_ROOT (the folder holding avatars/, dex/, vision/, conversions/).
    #[arg(long)]
    pub media_root: PathBuf,
    /// Show what a run would do, writing nothing (one transaction, rolled back; no files).
    #[arg(long)]
    pub dry_run: bool,
    /// Stop at the first row that cannot be imported instead of keeping it aside.
    #[arg(long)]
    pub strict: bool,
    /// Compare the old database with this one (counts, sampled rows and images) and exit
    /// non-zero on a difference; imports nothing.
    #[arg(long)]
    pub verify: bool,
    /// Old rows per batch; each batch is one transaction.
    #[arg(long, default_value_t = 500)]
    pub batch_size: i64,
    /// Pause between batches in milliseconds, to spare a live old database.
    #[arg(long, default_value_t = 0)]
    pub pause_ms: u64,
}

/// A bar per kind on a terminal; a line every few seconds elsewhere (logs, CI).
struct Shown {
    bar: Mutex<Option<ProgressBar>>,
    last_line: Mutex<Instant>,
    terminal: bool,
}

impl Shown {
    fn new() -> Self {
        Shown {
            bar: Mutex::new(None),
            last_line: Mutex::new(Instant::now()),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn with_bar(&self, f: impl FnOnce(&ProgressBar)) {
        if let Ok(guard) = self.bar.lock()
            && let Some(bar) = guard.as_ref()
        {
            f(bar);
        }
    }
}

impl Progress for Shown {
    fn start(&self, kind: Kind, total: u64, done: u64) {
        if self.terminal {
            let bar = ProgressBar::new(total).with_position(done.min(total));
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix:>12} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(kind.name());
            if let Ok(mut guard) = self.bar.lock() {
                *guard = Some(bar);
            }
        } else {
            eprintln!("{}: {done}/{total}", kind.name());
        }
    }

    fn advance(&self, kind: Kind, done: u64) {
        if self.terminal {
            self.with_bar(|b| b.set_position(done));
            return;
        }
        if let Ok(mut last) = self.last_line.lock()
            && last.elapsed() >= Duration::from_secs(5)
        {
            *last = Instant::now();
            eprintln!("{}: {done} done", kind.name());
        }
    }

    fn finish(&self, kind: Kind) {
        if self.terminal {
            self.with_bar(ProgressBar::finish);
        } else {
            eprintln!("{}: done", kind.name());
        }
    }
}

/// Runs the import (or `--verify`) and prints the report; errors mean a non-zero exit.
pub async fn import_django(settings: &Settings, args: ImportDjangoArgs) -> anyhow::Result<()> {
    let storage = biologidex_media::storage::open(
        settings.media_storage_url.as_deref(),
        &settings.media_root,
    )?;
    if !args.media_root.is_dir() {
        anyhow::bail!(
            "--media-root {}: not a directory (give the old server's MEDIA_ROOT)",
            args.media_root.display()
        );
    }
    if args.verify {
        let diffs = biologidex_import::verify::verify(
            &args.from,
            &settings.database_url,
            &args.media_root,
            storage,
        )
        .await?;
        if diffs.is_empty() {
            eprintln!("verify: the old database and this one agree");
            return Ok(());
        }
        for d in &diffs {
            eprintln!("verify: {d}");
        }
        anyhow::bail!("verify: {} differences", diffs.len());
    }
    let opts = Options {
        source_url: args.from,
        media_root: args.media_root,
        dry_run: args.dry_run,
        strict: args.strict,
        batch_size: args.batch_size,
        pause: Duration::from_millis(args.pause_ms),
    };
    let report =
        biologidex_import::import(&settings.database_url, storage, &opts, &Shown::new()).await?;
    eprint!("{report}");
    let rejects = report
        .kinds
        .values()
        .map(|c| c.skipped_total() + c.failed)
        .sum::<u64>();
    if rejects > 0 && !opts.dry_run {
        let mut conn = AsyncPgConnection::establish(&settings.database_url).await?;
        let rows = biologidex_import::state::rejects(&mut conn).await?;
        for r in rows.iter().take(20) {
            eprintln!("kept aside: {} {}: {}", r.kind, r.old_id, r.reason);
        }
        eprintln!(
            "{} rows kept aside in all, with the old row: SELECT kind, old_id, reason, old_row \
             FROM django_import_rejects",
            rows.len()
        );
    }
    Ok(())
}
