//! Small JSON records written atomically: a unique temp file in the same
//! directory (threads and processes never share one), synced, then renamed
//! over the record, so a reader sees the old record or the new one, never a
//! torn one. Temp files of killed writers start with `.tmp-` and are removed
//! by whoever lists the directory (the step cache, prune).

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

/// Writes `value` as JSON to `dir/name`, atomically.
pub fn write_atomically<T: Serialize>(dir: &Path, name: &str, value: &T) -> io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".tmp-{}-{n}-{name}", std::process::id()));
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(value).map_err(io::Error::other)?)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(name))
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}
