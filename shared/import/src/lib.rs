//! `import-django`: brings an old Django BiologiDex deployment over — its database (read-only)
//! and its media folder — keeping ids, password hashes, friend codes and Pokédex numbers.
//!
//! Kinds go in dependency order (users, animals, friendships, conversions, vision jobs, dex
//! entries), each in keyset batches committed with the run's cursor (`phase`), so a run is safe
//! to repeat (unchanged rows are not written), a killed run resumes where it stopped, and a
//! later run brings only what is new or changed, deleting what the old database no longer has.
//! Rows the new rules refuse are kept aside in `django_import_rejects` with the reason.

mod animals;
mod conversions;
mod entries;
pub mod finish;
pub mod friendships;
mod jobs;
pub mod media;
mod phase;
pub mod report;
pub mod source;
pub mod state;
mod users;
pub mod verify;

use std::{path::PathBuf, time::Duration};

use diesel_async::{AsyncConnection, AsyncPgConnection};

pub use report::{Counts, Kind, MediaCounts, Report};

use biologidex_media::storage::SharedStorage;

/// How to import.
#[derive(Debug, Clone)]
pub struct Options {
    /// The old database (read only).
    pub source_url: String,
    /// The old `MEDIA_ROOT`.
    pub media_root: PathBuf,
    /// Do everything in one transaction that is rolled back, and write no file.
    pub dry_run: bool,
    /// Stop at the first row that cannot be imported, instead of keeping it aside.
    pub strict: bool,
    /// Old rows per batch (per transaction).
    pub batch_size: i64,
    /// Pause between batches, to spare a live old database.
    pub pause: Duration,
}

/// Where the caller shows progress (a terminal bar, or periodic log lines).
pub trait Progress: Sync {
    /// A kind begins: `total` old rows, `done` of them handled by the run this one resumes.
    fn start(&self, kind: Kind, total: u64, done: u64);
    /// `done` old rows of `kind` handled so far.
    fn advance(&self, kind: Kind, done: u64);
    fn finish(&self, kind: Kind);
}

/// Shows nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: Kind, _: u64, _: u64) {}
    fn advance(&self, _: Kind, _: u64) {}
    fn finish(&self, _: Kind) {}
}

/// Imports the old deployment into the database at `target_url` and the media `storage`.
pub async fn import(
    target_url: &str,
    storage: SharedStorage,
    opts: &Options,
    progress: &dyn Progress,
) -> anyhow::Result<Report> {
    let mut old = source::OldDb::connect(&opts.source_url).await?;
    let mut conn = AsyncPgConnection::establish(target_url)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to this server's database: {e}"))?;
    state::lock(&mut conn).await?;
    if opts.dry_run {
        phase::begin(&mut conn, false).await?;
    }
    let result = import_all(&mut old, &mut conn, storage, opts, progress).await;
    if opts.dry_run {
        phase::rollback(&mut conn, false).await?;
    }
    result
}

async fn import_all(
    old: &mut source::OldDb,
    conn: &mut AsyncPgConnection,
    storage: SharedStorage,
    opts: &Options,
    progress: &dyn Progress,
) -> anyhow::Result<Report> {
    let mut run = state::begin(conn, opts.dry_run).await?;
    if run.resumed {
        tracing::info!(run.id = %run.id, "resuming the interrupted import");
    }
    let media = media::Media::new(opts.media_root.clone(), storage, opts.dry_run);
    let ctx = phase::Ctx {
        run: run.id,
        media: &media,
        strict: opts.strict,
        dry_run: opts.dry_run,
        batch_size: opts.batch_size.max(1),
        pause: opts.pause,
        progress,
    };
    let outcome = async {
        phase::run::<users::Users>(&ctx, old, conn, &mut run).await?;
        phase::run::<animals::Animals>(&ctx, old, conn, &mut run).await?;
        phase::run::<friendships::Friendships>(&ctx, old, conn, &mut run).await?;
        phase::run::<conversions::Conversions>(&ctx, old, conn, &mut run).await?;
        phase::run::<jobs::Jobs>(&ctx, old, conn, &mut run).await?;
        phase::run::<entries::Entries>(&ctx, old, conn, &mut run).await?;
        finish_run(&ctx, old, conn, &mut run).await
    }
    .await;
    match outcome {
        Ok(()) => {
            state::end(conn, &run, true).await?;
            Ok(run.report)
        }
        Err(e) => {
            // Resumable: the run stays `running` unless it was a deliberate stop (--strict).
            if opts.strict {
                drop(state::end(conn, &run, false).await);
            }
            Err(e)
        }
    }
}

/// The closing steps, in one transaction.
async fn finish_run(
    ctx: &phase::Ctx<'_>,
    old: &mut source::OldDb,
    conn: &mut AsyncPgConnection,
    run: &mut state::Run,
) -> anyhow::Result<()> {
    phase::begin(conn, ctx.dry_run).await?;
    let steps = async {
        // Dependants first, so the cascades have nothing left to do.
        for kind in Kind::ALL.iter().rev() {
            let deleted = finish::delete_gone(conn, old, *kind).await?;
            run.report.kinds.entry(*kind).or_default().deleted += deleted;
        }
        let recounted = finish::recount_profiles(conn).await?;
        let next = finish::advance_sequence(conn).await?;
        let linked = finish::link_taxa(conn).await?;
        let foreign = finish::foreign_hashes(conn).await?;
        let report = &mut run.report;
        report.notes.clear();
        report.notes.push(format!(
            "profile counters recomputed from the entries ({recounted} changed)"
        ));
        report.notes.push(format!(
            "the next animal created gets creation_index {next}"
        ));
        report.notes.push(format!(
            "{linked} animals linked to a Catalogue of Life taxon of the same name"
        ));
        if foreign > 0 {
            report.notes.push(format!(
                "{foreign} users have a password hash this server cannot check: set a new \
                 password for them"
            ));
        }
        finish::not_imported(old, report).await?;
        state::save(conn, run).await
    }
    .await;
    match steps {
        Ok(()) => phase::commit(conn, ctx.dry_run).await,
        Err(e) => {
            phase::rollback(conn, ctx.dry_run).await?;
            Err(e)
        }
    }
}
