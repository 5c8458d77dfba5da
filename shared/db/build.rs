//! Rebuilds this crate when a migration changes (diesel's `embed_migrations!` does not track the
//! files itself) and exposes a hash of every migration file, which names the test template
//! database so an edited migration gets a fresh template.

use std::{fs, path::Path};

fn visit(dir: &Path, files: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            visit(&path, files);
        } else if let Ok(bytes) = fs::read(&path) {
            files.push((path.to_string_lossy().into_owned(), bytes));
        }
    }
}

fn main() {
    let dir = Path::new("../../migrations");
    println!("cargo:rerun-if-changed=../../migrations");
    let mut files = Vec::new();
    visit(dir, &mut files);
    files.sort();
    // FNV-1a: stable across toolchains, unlike std's DefaultHasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, bytes) in &files {
        for b in name.bytes().chain(bytes.iter().copied()) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=BDX_MIGRATIONS_HASH={hash:016x}");
}
