//! Checking that a binary really is for a target platform: the library behind
//! `xx-verify` and mxbuild's verification of finished images.
//!
//! [`verify_path`] checks a file on the host (xx-verify); [`verify_in_root`]
//! checks a file inside an image's root filesystem, resolving symlinks,
//! the loader and libraries in that root only. Both return a [`Report`].

mod abi;
mod arm_attributes;
mod bytes;
mod describe;
mod elf;
mod expect;
mod loader;
mod object;
pub mod open;
mod rootfs;
mod rules;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use arm_attributes::ArmAttributes;
pub use elf::{ElfInfo, named_sections};
pub use expect::{Expectation, Options};
pub use object::Binary;
pub use rootfs::RootFs;

/// The result for one file, in a form both the CLI and `--json` print
/// (and mxbuild keeps, see its `verify::cached`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The file, as given.
    pub file: String,
    /// Whether it passed every check.
    pub ok: bool,
    /// The platform it was checked against.
    pub target: String,
    /// Why it could not be checked at all (missing, not a binary, truncated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `file`-like summary, e.g. `ELF 64-bit LSB ARM aarch64, dynamic (/lib/ld-linux-aarch64.so.1)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The platform the binary was built for, as its headers tell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// `static`, `static-pie` or `dynamic` (ELF only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linkage: Option<String>,
    /// PT_INTERP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    /// DT_NEEDED.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needed: Vec<String>,
    /// Highest GLIBC_ version required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_glibc: Option<String>,
    /// What is wrong; empty when `ok`.
    pub problems: Vec<String>,
}

impl Report {
    /// The one-line message xx-verify prints for a failure, e.g.
    /// `hello: linux/arm/v7 (ELF 32-bit LSB ARM, ARMv7 (v7), hard-float, ...) but target is linux/arm/v6: ...`.
    pub fn failure_line(&self) -> String {
        if let Some(err) = &self.error {
            return format!("{}: {err}", self.file);
        }
        format!(
            "{}: {} ({}) but target is {}: {}",
            self.file,
            self.platform.as_deref().unwrap_or("unknown platform"),
            self.format.as_deref().unwrap_or("unknown format"),
            self.target,
            self.problems.join("; ")
        )
    }
}

/// The glibc version of the root filesystem at `root` for `platform`: the
/// newest `GLIBC_` version its libc.so.6 defines (`None`: no glibc there).
pub fn root_glibc(root: &Path, platform: &crate::platform::Platform) -> Option<(u32, u32, u32)> {
    let spec = crate::target::for_platform(platform)?;
    abi::root_glibc(&RootFs::new(root), spec)
}

/// Turns `--max-glibc auto` into the glibc version of `opts.root`, so
/// a build stage can check its binaries against the image they go into.
pub fn resolve_auto_glibc(
    opts: &mut Options,
    platform: &crate::platform::Platform,
) -> Result<(), String> {
    if !opts.max_glibc_auto {
        return Ok(());
    }
    let root = opts
        .root
        .clone()
        .ok_or("--max-glibc auto needs --root DIR (the root whose glibc is the limit)")?;
    let (major, minor, _) = root_glibc(&root, platform).ok_or_else(|| {
        format!(
            "--max-glibc auto: no glibc (libc.so.6 with GLIBC_ versions) for {platform} in {}",
            root.display()
        )
    })?;
    opts.max_glibc = Some((major, minor));
    Ok(())
}

/// Checks a host file (symlinks followed, like `file -L`).
pub fn verify_path(path: &Path, expect: &Expectation, opts: &Options) -> Report {
    let name = path.display().to_string();
    let root = opts.root.as_deref().map(RootFs::new);
    let check = root.as_ref().map(|r| rules::RootCheck {
        root: r,
        label: opts
            .root
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        origin: opts
            .root
            .as_deref()
            .and_then(|root| path.parent()?.strip_prefix(root).ok())
            .map(|rel| format!("/{}", rel.display())),
    });
    // A command-line argument: a symlink is followed, like `file -L`.
    check_file(&name, path, expect, opts, check.as_ref(), true)
}

/// Checks `path_in_root` (absolute, as seen inside the image) in the root
/// filesystem at `root`: symlinks, loader and libraries all resolve inside it.
pub fn verify_in_root(
    root: &Path,
    path_in_root: &str,
    expect: &Expectation,
    opts: &Options,
) -> Report {
    let fs = RootFs::new(root);
    let check = rules::RootCheck {
        root: &fs,
        label: "the image".to_string(),
        origin: Path::new(path_in_root)
            .parent()
            .map(|p| p.display().to_string()),
    };
    match fs.resolve(path_in_root) {
        // Resolved inside the root already: a symlink now would be a swap.
        Some(host) => check_file(path_in_root, &host, expect, opts, Some(&check), false),
        None => failed(
            path_in_root,
            expect,
            format!("file not found: {path_in_root}"),
        ),
    }
}

fn failed(name: &str, expect: &Expectation, error: String) -> Report {
    Report {
        file: name.to_string(),
        ok: false,
        target: expect.platform.to_string(),
        error: Some(error),
        format: None,
        platform: None,
        linkage: None,
        interpreter: None,
        needed: Vec::new(),
        max_glibc: None,
        problems: Vec::new(),
    }
}

fn check_file(
    name: &str,
    host_path: &Path,
    expect: &Expectation,
    opts: &Options,
    root: Option<&rules::RootCheck<'_>>,
    follow: bool,
) -> Report {
    let (file, meta) = match open::regular(host_path, follow) {
        Ok(f) => f,
        Err(open::NotOpened::Missing) => {
            return failed(name, expect, format!("file not found: {name}"));
        }
        Err(open::NotOpened::NotRegular("a directory")) => {
            return failed(name, expect, "is a directory, not a binary".to_string());
        }
        Err(open::NotOpened::NotRegular(what)) => {
            return failed(name, expect, format!("is {what}, not a binary (not read)"));
        }
        Err(open::NotOpened::Io(e)) => return failed(name, expect, format!("cannot open: {e}")),
    };
    let bin = match object::inspect(&file, meta.len()) {
        Ok(b) => b,
        Err(e) => return failed(name, expect, e),
    };
    let problems = rules::problems(&bin, expect, opts, root);
    let (linkage, interpreter, needed, max_glibc) = match &bin {
        Binary::Elf(e) => (
            Some(describe::linkage(e).to_string()),
            e.interp.clone(),
            e.needed.clone(),
            e.max_glibc().map(|(a, b, c)| {
                if c == 0 {
                    format!("{a}.{b}")
                } else {
                    format!("{a}.{b}.{c}")
                }
            }),
        ),
        _ => (None, None, Vec::new(), None),
    };
    Report {
        file: name.to_string(),
        ok: problems.is_empty(),
        target: expect.platform.to_string(),
        error: None,
        format: Some(describe::summary(&bin)),
        platform: describe::platform_of(&bin),
        linkage,
        interpreter,
        needed,
        max_glibc,
        problems,
    }
}

/// Reads a binary's headers (for callers that want the raw facts); only a
/// regular file is opened (symlinks followed).
pub fn inspect(path: &Path) -> Result<Binary, String> {
    let (file, meta) = open::regular(path, true).map_err(|e| match e {
        open::NotOpened::Missing => format!("{}: file not found", path.display()),
        open::NotOpened::NotRegular(what) => {
            format!("{} is {what}, not a binary (not read)", path.display())
        }
        open::NotOpened::Io(e) => format!("cannot open {}: {e}", path.display()),
    })?;
    object::inspect(&file, meta.len())
}
