//! Opening files that may be hostile: xx-verify's arguments and the files
//! of an image root (`--root`, mxbuild's image verification) are whatever a
//! build put there. Opening a FIFO blocks until someone writes to it;
//! reading `/dev/zero` never ends; opening some devices has side effects.
//! So a file is looked at first and opened only if it is a regular file,
//! with `O_NONBLOCK` (a FIFO swapped in after the look cannot block the
//! open), and the opened descriptor is checked again (same inode, still
//! regular) before anything is read. Whole-file reads are capped.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Why a file was not opened.
#[derive(Debug)]
pub enum NotOpened {
    /// It does not exist.
    Missing,
    /// It is not a regular file (the text says what it is).
    NotRegular(&'static str),
    /// Opening or inspecting it failed.
    Io(io::Error),
}

/// What a non-regular file is, as messages say it.
pub fn kind(t: fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading only if it is a regular file. `follow`: a
/// symlink as the last component is followed (a command-line argument, like
/// `file -L`); without it a symlink is refused (`O_NOFOLLOW`: paths inside a
/// root were already resolved inside it, so a symlink now means a swap).
/// Returns the file and the metadata of the opened descriptor.
pub fn regular(path: &Path, follow: bool) -> Result<(File, Metadata), NotOpened> {
    let looked = if follow {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    };
    let looked = match looked {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(NotOpened::Missing),
        Err(e) => return Err(NotOpened::Io(e)),
    };
    if !looked.file_type().is_file() {
        return Err(NotOpened::NotRegular(kind(looked.file_type())));
    }
    let mut flags = libc::O_NONBLOCK;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    let file = match OpenOptions::new().read(true).custom_flags(flags).open(path) {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(NotOpened::NotRegular("a symbolic link"));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(NotOpened::Missing),
        Err(e) => return Err(NotOpened::Io(e)),
    };
    let opened = file.metadata().map_err(NotOpened::Io)?;
    if !opened.file_type().is_file() {
        return Err(NotOpened::NotRegular(kind(opened.file_type())));
    }
    if opened.dev() != looked.dev() || opened.ino() != looked.ino() {
        return Err(NotOpened::Io(io::Error::other(
            "the file was replaced while it was being opened",
        )));
    }
    Ok((file, opened))
}

/// The content of regular file `path` (see [`regular`]), if it has at most
/// `cap` bytes; `None` for anything else (missing, not regular, too large,
/// unreadable). For small configuration files whose absence is normal.
pub fn read_small(path: &Path, follow: bool, cap: u64) -> Option<Vec<u8>> {
    let (file, meta) = regular(path, follow).ok()?;
    if meta.len() > cap {
        return None;
    }
    let mut out = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut out)
        .ok()?;
    (out.len() as u64 <= cap).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_open() {
        let dir = std::env::temp_dir().join(format!("xx-open-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("f"), "12345").unwrap();
        std::os::unix::fs::symlink("f", dir.join("l")).unwrap();
        let fifo = std::ffi::CString::new(dir.join("p").to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);

        assert!(regular(&dir.join("f"), false).is_ok());
        assert!(regular(&dir.join("l"), true).is_ok());
        assert!(matches!(
            regular(&dir.join("l"), false),
            Err(NotOpened::NotRegular("a symbolic link"))
        ));
        assert!(matches!(
            regular(&dir.join("p"), true),
            Err(NotOpened::NotRegular("a FIFO (named pipe)"))
        ));
        assert!(matches!(
            regular(Path::new("/dev/zero"), true),
            Err(NotOpened::NotRegular("a character device"))
        ));
        assert!(matches!(
            regular(&dir, true),
            Err(NotOpened::NotRegular("a directory"))
        ));
        assert!(matches!(
            regular(&dir.join("nope"), true),
            Err(NotOpened::Missing)
        ));

        assert_eq!(
            read_small(&dir.join("f"), false, 5).as_deref(),
            Some(&b"12345"[..])
        );
        assert_eq!(read_small(&dir.join("f"), false, 4), None);
        assert_eq!(read_small(Path::new("/dev/zero"), true, 1 << 20), None);
        assert_eq!(read_small(&dir.join("p"), true, 10), None);
        fs::remove_dir_all(&dir).unwrap();
    }
}
