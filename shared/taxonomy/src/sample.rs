//! The sample Catalogue of Life release (`shared/testdata/coldp-sample`), compiled into the
//! binaries so `seed-demo` works from any directory and inside the container image.

use std::path::{Path, PathBuf};

/// (file name, contents) of every file of the release the importer reads.
pub const FILES: &[(&str, &[u8])] = &[
    (
        "metadata.yaml",
        include_bytes!("../../testdata/coldp-sample/metadata.yaml"),
    ),
    (
        "NameUsage.tsv",
        include_bytes!("../../testdata/coldp-sample/NameUsage.tsv"),
    ),
    (
        "VernacularName.tsv",
        include_bytes!("../../testdata/coldp-sample/VernacularName.tsv"),
    ),
    (
        "Distribution.tsv",
        include_bytes!("../../testdata/coldp-sample/Distribution.tsv"),
    ),
    (
        "NameRelation.tsv",
        include_bytes!("../../testdata/coldp-sample/NameRelation.tsv"),
    ),
];

/// The release written out as a folder (the importer reads files); removed when dropped.
pub struct SampleDir {
    path: PathBuf,
}

impl SampleDir {
    /// Writes the release into a fresh folder under the system's temporary directory.
    pub fn write() -> std::io::Result<SampleDir> {
        let path = std::env::temp_dir().join(format!(
            "biologidex-coldp-sample-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path)?;
        for (name, bytes) in FILES {
            std::fs::write(path.join(name), bytes)?;
        }
        Ok(SampleDir { path })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SampleDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
