//! One walk over a root filesystem for the files that carry package
//! metadata: `Cargo.lock` files and ELF binaries with a Go build-info or
//! cargo-auditable section. Symlinks are not followed, only regular files
//! are opened (a FIFO or device in a hostile image is never read), and the
//! walk stops after a bounded number of entries.

use std::fs;
use std::io::Read;
use std::path::Path;

/// Most directory entries visited (Debian with a toolchain has ~60,000).
const MAX_ENTRIES: usize = 2_000_000;
/// Largest `Cargo.lock` read.
const MAX_LOCK: u64 = 16 << 20;
/// Largest metadata section read from a binary.
const MAX_SECTION: u64 = 16 << 20;

/// A file with package metadata, by its path inside the root.
pub enum Found {
    /// A `Cargo.lock` and its bytes.
    CargoLock(String, Vec<u8>),
    /// An ELF file and its metadata sections (name, bytes).
    Elf(String, Vec<(String, Vec<u8>)>),
}

/// Calls `each` for every file under `root` that carries package metadata
/// (one at a time: a hostile image's many large sections never sit in
/// memory together).
pub fn files(root: &Path, each: &mut dyn FnMut(Found)) {
    let mut todo = vec![String::new()];
    let mut seen = 0usize;
    while let Some(rel) = todo.pop() {
        let Ok(rd) = fs::read_dir(root.join(rel.trim_start_matches('/'))) else {
            continue;
        };
        for e in rd.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                return;
            }
            let Some(name) = e.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let path = format!("{rel}/{name}");
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                todo.push(path);
            } else if t.is_file() {
                if let Some(f) = inspect(&e.path(), &name, path) {
                    each(f);
                }
            }
        }
    }
}

/// What one regular file holds, if anything of interest.
fn inspect(host: &Path, name: &str, path: String) -> Option<Found> {
    if name == "Cargo.lock" {
        return xx::verify::open::read_small(host, false, MAX_LOCK)
            .map(|b| Found::CargoLock(path, b));
    }
    let (mut file, meta) = xx::verify::open::regular(host, false).ok()?;
    let mut magic = [0u8; 4];
    if meta.len() < 64 || file.read_exact(&mut magic).is_err() || magic != *b"\x7fELF" {
        return None;
    }
    let sections = xx::verify::named_sections(
        &file,
        meta.len(),
        &[super::gobuild::SECTION, super::cargo::AUDITABLE_SECTION],
        MAX_SECTION,
    )
    .ok()?;
    (!sections.is_empty()).then_some(Found::Elf(path, sections))
}
