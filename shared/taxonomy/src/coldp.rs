//! A Catalogue of Life Data Package (ColDP) release on disk: a zip archive (entries are read as
//! decompressing streams, never extracted) or an extracted folder. Finds the files the importer
//! reads and the release metadata.

use std::{
    fs::File,
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
};

/// Read-buffer size for every file.
const READ_BUFFER: usize = 1 << 20;

/// The ColDP files the importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    NameUsage,
    VernacularName,
    Distribution,
    NameRelation,
}

impl FileKind {
    /// The file's name without extension, as in the ColDP specification.
    pub fn stem(self) -> &'static str {
        match self {
            FileKind::NameUsage => "NameUsage",
            FileKind::VernacularName => "VernacularName",
            FileKind::Distribution => "Distribution",
            FileKind::NameRelation => "NameRelation",
        }
    }

    /// Every kind, in import order (taxa before what points at them).
    pub const ALL: [FileKind; 4] = [
        FileKind::NameUsage,
        FileKind::VernacularName,
        FileKind::Distribution,
        FileKind::NameRelation,
    ];
}

/// What `metadata.yaml` says about the release (top-level scalar keys only).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ReleaseMetadata {
    pub title: String,
    pub version: String,
    pub issued: String,
    pub doi: String,
    pub license: String,
}

impl ReleaseMetadata {
    /// Parses the top-level `key: value` lines of a ColDP `metadata.yaml` (no YAML library:
    /// nested keys, lists and folded blocks are ignored).
    pub fn parse(text: &str) -> ReleaseMetadata {
        let mut m = ReleaseMetadata::default();
        for line in text.lines() {
            if line.starts_with([' ', '\t', '#', '-']) {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if value.starts_with(['>', '|']) {
                continue;
            }
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(value)
                .to_owned();
            match key.trim() {
                "title" => m.title = value,
                "version" => m.version = value,
                "issued" => m.issued = value,
                "doi" => m.doi = value,
                "license" => m.license = value,
                _ => {}
            }
        }
        m
    }
}

/// A problem with the release itself (not with one row).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReleaseError(pub String);

#[derive(Debug, Clone)]
enum Location {
    Dir,
    Zip,
}

#[derive(Debug, Clone)]
struct Entry {
    kind: FileKind,
    /// Path of the file (folder) or name of the entry (zip).
    name: String,
    size: u64,
}

/// A release opened for reading.
#[derive(Debug, Clone)]
pub struct Release {
    path: PathBuf,
    location: Location,
    entries: Vec<Entry>,
    /// The release's metadata (empty fields when there is no `metadata.yaml`).
    pub metadata: ReleaseMetadata,
}

fn file_kind(name: &str) -> Result<Option<FileKind>, ReleaseError> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let lower = base.to_ascii_lowercase();
    for kind in FileKind::ALL {
        let stem = kind.stem().to_ascii_lowercase();
        if lower == format!("{stem}.tsv") || lower == format!("{stem}.txt") {
            return Ok(Some(kind));
        }
        if lower == format!("{stem}.csv") {
            return Err(ReleaseError(format!(
                "{base}: comma-separated ColDP files are not supported; export the release as TSV"
            )));
        }
    }
    Ok(None)
}

fn is_metadata(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    base.eq_ignore_ascii_case("metadata.yaml") || base.eq_ignore_ascii_case("metadata.yml")
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> ReleaseError {
    ReleaseError(format!("{}: {e}", path.display()))
}

impl Release {
    /// Opens a ColDP zip archive or extracted folder and finds its files. `NameUsage` is
    /// required; the other files are optional.
    pub fn open(path: &Path) -> Result<Release, ReleaseError> {
        let meta = std::fs::metadata(path).map_err(|e| io_err(path, e))?;
        let (location, entries, metadata) = if meta.is_dir() {
            Self::scan_dir(path)?
        } else {
            Self::scan_zip(path)?
        };
        if !entries.iter().any(|e| e.kind == FileKind::NameUsage) {
            return Err(ReleaseError(format!(
                "{}: no NameUsage.tsv in this ColDP release",
                path.display()
            )));
        }
        Ok(Release {
            path: path.to_owned(),
            location,
            entries,
            metadata,
        })
    }

    fn scan_dir(dir: &Path) -> Result<(Location, Vec<Entry>, ReleaseMetadata), ReleaseError> {
        let mut entries = Vec::new();
        let mut metadata = ReleaseMetadata::default();
        let mut dirs = vec![dir.to_owned()];
        // The release root, or one folder below it (archives often wrap the files in one).
        for depth in 0..2 {
            let mut next = Vec::new();
            for d in &dirs {
                let listing = std::fs::read_dir(d).map_err(|e| io_err(d, e))?;
                for item in listing {
                    let item = item.map_err(|e| io_err(d, e))?;
                    let p = item.path();
                    let ft = item.file_type().map_err(|e| io_err(&p, e))?;
                    let name = p.to_string_lossy().into_owned();
                    if ft.is_dir() {
                        next.push(p);
                    } else if is_metadata(&name) {
                        let text = std::fs::read_to_string(&p).map_err(|e| io_err(&p, e))?;
                        metadata = ReleaseMetadata::parse(&text);
                    } else if let Some(kind) = file_kind(&name)? {
                        let size = item.metadata().map(|m| m.len()).unwrap_or(0);
                        entries.push(Entry { kind, name, size });
                    }
                }
            }
            if !entries.is_empty() || depth == 1 {
                break;
            }
            dirs = next;
        }
        Ok((Location::Dir, entries, metadata))
    }

    fn scan_zip(path: &Path) -> Result<(Location, Vec<Entry>, ReleaseMetadata), ReleaseError> {
        let file = File::open(path).map_err(|e| io_err(path, e))?;
        let mut zip = zip::ZipArchive::new(file).map_err(|e| {
            ReleaseError(format!(
                "{}: not a ColDP zip archive or folder ({e})",
                path.display()
            ))
        })?;
        let mut entries = Vec::new();
        let mut metadata = ReleaseMetadata::default();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).map_err(|e| io_err(path, e))?;
            if f.is_dir() {
                continue;
            }
            let name = f
                .name()
                .map_err(|e| io_err(path, format!("entry {i}: {e}")))?
                .into_owned();
            if is_metadata(&name) {
                let mut text = String::new();
                // A metadata file is small; a huge one is not metadata.
                (&mut f)
                    .take(1 << 20)
                    .read_to_string(&mut text)
                    .map_err(|e| io_err(path, format!("{name}: {e}")))?;
                metadata = ReleaseMetadata::parse(&text);
            } else if let Some(kind) = file_kind(&name)? {
                entries.push(Entry {
                    kind,
                    size: f.size(),
                    name,
                });
            }
        }
        Ok((Location::Zip, entries, metadata))
    }

    /// The release's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when the release has this file.
    pub fn has(&self, kind: FileKind) -> bool {
        self.entries.iter().any(|e| e.kind == kind)
    }

    /// Uncompressed size of a file (0 when absent).
    pub fn size(&self, kind: FileKind) -> u64 {
        self.entries
            .iter()
            .find(|e| e.kind == kind)
            .map_or(0, |e| e.size)
    }

    /// Total size of the files the importer reads.
    pub fn total_size(&self) -> u64 {
        self.entries.iter().map(|e| e.size).sum()
    }

    /// The file's display name (for messages).
    pub fn file_name(&self, kind: FileKind) -> String {
        self.entries
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| {
                e.name
                    .rsplit(['/', '\\'])
                    .next()
                    .unwrap_or(&e.name)
                    .to_owned()
            })
            .unwrap_or_else(|| format!("{}.tsv", kind.stem()))
    }

    /// Calls `f` with a buffered stream of the file (decompressed on the fly from a zip).
    /// Blocking: call from a blocking thread. `None` when the release has no such file.
    pub fn with_reader<T>(
        &self,
        kind: FileKind,
        f: impl FnOnce(&mut dyn BufRead) -> T,
    ) -> Result<Option<T>, ReleaseError> {
        let Some(entry) = self.entries.iter().find(|e| e.kind == kind) else {
            return Ok(None);
        };
        match self.location {
            Location::Dir => {
                let p = Path::new(&entry.name);
                let file = File::open(p).map_err(|e| io_err(p, e))?;
                let mut reader = BufReader::with_capacity(READ_BUFFER, file);
                Ok(Some(f(&mut reader)))
            }
            Location::Zip => {
                let file = File::open(&self.path).map_err(|e| io_err(&self.path, e))?;
                let mut zip = zip::ZipArchive::new(file).map_err(|e| io_err(&self.path, e))?;
                let entry_file = zip
                    .by_name(&entry.name)
                    .map_err(|e| io_err(&self.path, format!("{}: {e}", entry.name)))?;
                let mut reader = BufReader::with_capacity(READ_BUFFER, entry_file);
                Ok(Some(f(&mut reader)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_reads_top_level_scalars_only() {
        let m = ReleaseMetadata::parse(
            "# comment\ntitle: BiologiDex sample\nversion: \"2026.11-sample\"\nissued: 2026-11-01\n\
             description: >-\n  version: nested\nlicense: CC BY 4.0\n",
        );
        assert_eq!(m.title, "BiologiDex sample");
        assert_eq!(m.version, "2026.11-sample");
        assert_eq!(m.issued, "2026-11-01");
        assert_eq!(m.license, "CC BY 4.0");
    }

    #[test]
    fn file_names_are_matched_case_insensitively_and_csv_is_refused() {
        assert_eq!(
            file_kind("x/nameusage.TSV").unwrap(),
            Some(FileKind::NameUsage)
        );
        assert_eq!(
            file_kind("VernacularName.txt").unwrap(),
            Some(FileKind::VernacularName)
        );
        assert_eq!(file_kind("Reference.tsv").unwrap(), None);
        assert!(file_kind("NameUsage.csv").is_err());
    }
}
