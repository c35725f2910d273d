//! Where one COPY/ADD writes and as whom: the destination, whether
//! sources go into it as a directory, and the owners and modes of what is
//! written or created on the way (BuildKit's rules, see the module above).

use std::path::{Path, PathBuf};

use crate::fsutil;

/// Where one COPY/ADD writes, and as whom.
pub(crate) struct Dest<'a> {
    /// The filesystem being written (the step's snapshot).
    pub root: &'a Path,
    /// The destination, absolute.
    pub abs: String,
    /// The destination as written (for messages).
    pub written: &'a str,
    /// Whether sources go into it as a directory.
    pub into_dir: bool,
    /// `--chown` resolved.
    pub chown: Option<(u32, u32)>,
    /// Whether path sources keep their own owners (a stage or an image).
    pub keep_owner: bool,
    /// `--chmod` parsed.
    pub chmod: Option<&'a fsutil::Mode>,
}

impl<'a> Dest<'a> {
    /// Where a source named `name` lands.
    pub fn target(&self, name: &str) -> String {
        if self.into_dir {
            format!("{}/{name}", self.abs)
        } else {
            self.abs.clone()
        }
    }

    /// How path sources are owned and moded.
    pub fn own_paths(&self) -> fsutil::Ownership<'a> {
        fsutil::Ownership {
            owner: if self.keep_owner {
                self.chown
            } else {
                Some(self.chown.unwrap_or((0, 0)))
            },
            chmod: self.chmod,
        }
    }

    /// How everything else (here-docs, URLs, git, created directories) is owned.
    pub fn own_fixed(&self) -> fsutil::Ownership<'a> {
        fsutil::Ownership {
            owner: Some(self.chown.unwrap_or((0, 0))),
            chmod: self.chmod,
        }
    }

    /// Creates the in-container directory `p` and its missing parents as
    /// BuildKit does on the way to a destination: the `--chown` owner (else
    /// root), an octal `--chmod`'s permissions (else 0755).
    pub fn mkdir(&self, fx: &dyn fsutil::FileOps, p: &str) -> Result<PathBuf, String> {
        fsutil::mkdir_all_mode(
            fx,
            self.root,
            p,
            self.own_fixed().created_owner(),
            fsutil::Mode::created_dir_mode(self.chmod),
        )
        .map_err(|e| format!("{}: {e}", self.written))
    }

    /// The destination directory (created as [`Dest::mkdir`] does) as a host path.
    pub fn dir(&self, fx: &dyn fsutil::FileOps) -> Result<PathBuf, String> {
        self.mkdir(fx, &self.abs)
    }
}
