//! What an import found and did, per kind of row, and the table printed at the end.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize};

/// The kinds of old rows, in the order they are imported (each depends only on earlier ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Users,
    Animals,
    Friendships,
    Conversions,
    VisionJobs,
    DexEntries,
}

impl Kind {
    /// Every kind, in import order.
    pub const ALL: [Kind; 6] = [
        Kind::Users,
        Kind::Animals,
        Kind::Friendships,
        Kind::Conversions,
        Kind::VisionJobs,
        Kind::DexEntries,
    ];

    /// The name used in the report, the bookkeeping tables and the progress bar.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Animals => "animals",
            Kind::Friendships => "friendships",
            Kind::Conversions => "conversions",
            Kind::VisionJobs => "vision_jobs",
            Kind::DexEntries => "dex_entries",
        }
    }
}

/// Counts of one kind. `found` = imported + updated + unchanged + skipped + failed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub found: u64,
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Reason → rows left out on purpose (expired conversions, unfinished jobs, ...) or kept
    /// aside because the new rules refuse them (listed in `django_import_rejects`).
    pub skipped: BTreeMap<String, u64>,
    /// Rows the database refused (listed in `django_import_rejects` with the error).
    pub failed: u64,
    /// Rows imported by an earlier run that the old database no longer has.
    pub deleted: u64,
}

impl Counts {
    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Counts) {
        self.found += other.found;
        self.imported += other.imported;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.failed += other.failed;
        self.deleted += other.deleted;
        for (reason, n) in &other.skipped {
            *self.skipped.entry(reason.clone()).or_default() += n;
        }
    }

    /// One row left out for `reason`.
    pub fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }

    /// How many rows were left out, whatever the reason.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }
}

/// Media files read from the old `MEDIA_ROOT`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaCounts {
    /// Files converted and stored by this run.
    pub copied: u64,
    /// Files an earlier run (or an earlier row of this run) had already stored.
    pub reused: u64,
    /// Referenced files that do not exist: the row is imported without its image.
    pub missing: u64,
    /// Files that are not a readable image: the row is imported without its image.
    pub unreadable: u64,
    /// Up to 20 examples of missing or unreadable files, with the reason.
    pub problems: Vec<String>,
}

impl MediaCounts {
    pub fn add(&mut self, other: &MediaCounts) {
        self.copied += other.copied;
        self.reused += other.reused;
        self.missing += other.missing;
        self.unreadable += other.unreadable;
        for p in &other.problems {
            self.note(p.clone());
        }
    }

    pub fn note(&mut self, problem: String) {
        if self.problems.len() < 20 {
            self.problems.push(problem);
        }
    }
}

/// The whole report of one run (a resumed run includes what the killed one had done).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub kinds: BTreeMap<Kind, Counts>,
    pub media: MediaCounts,
    /// Old tables that are not imported, with their row count and why.
    pub not_imported: Vec<(String, i64, String)>,
    /// Other facts worth the operator's attention (sequence moved, animals linked to COL, ...).
    pub notes: Vec<String>,
    pub dry_run: bool,
}

impl Report {
    /// The counts of `kind`.
    pub fn of(&self, kind: Kind) -> Counts {
        self.kinds.get(&kind).cloned().unwrap_or_default()
    }

    /// Rows written by this run (inserted, updated or deleted): zero for a run with nothing new.
    pub fn changes(&self) -> u64 {
        self.kinds
            .values()
            .map(|c| c.imported + c.updated + c.deleted)
            .sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.dry_run {
            writeln!(
                f,
                "DRY RUN: nothing was written; this is what a run would do."
            )?;
        }
        writeln!(
            f,
            "{:<12} {:>8} {:>8} {:>8} {:>9} {:>8} {:>7} {:>8}",
            "kind", "found", "imported", "updated", "unchanged", "skipped", "failed", "deleted"
        )?;
        for kind in Kind::ALL {
            let c = self.of(kind);
            writeln!(
                f,
                "{:<12} {:>8} {:>8} {:>8} {:>9} {:>8} {:>7} {:>8}",
                kind.name(),
                c.found,
                c.imported,
                c.updated,
                c.unchanged,
                c.skipped_total(),
                c.failed,
                c.deleted
            )?;
        }
        for kind in Kind::ALL {
            for (reason, n) in &self.of(kind).skipped {
                writeln!(f, "  skipped {}: {n} × {reason}", kind.name())?;
            }
        }
        let m = &self.media;
        writeln!(
            f,
            "media: {} copied, {} already stored, {} missing, {} unreadable",
            m.copied, m.reused, m.missing, m.unreadable
        )?;
        for p in &m.problems {
            writeln!(f, "  {p}")?;
        }
        for (table, rows, why) in &self.not_imported {
            writeln!(f, "not imported: {table} ({rows} rows): {why}")?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}
