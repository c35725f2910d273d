//! One-time setup of a target triple for clang (as upstream xx-clang's "Setup"):
//! resolve the linker and flags once, write them to `<triple>.cfg`, and create
//! `<triple>-clang`/`-clang++` wrappers and `<triple>-ar` etc. aliases, so that
//! later compiler calls (and build systems that call `<triple>-clang`
//! directly) pay nothing for the decision.

use std::fs;
use std::path::{Path, PathBuf};

use super::linker::{self, Linker};
use crate::cmd::{sys, trace};
use crate::target::{self, ArchSpec};
use crate::targetenv::{self, TargetEnv};

/// LLVM tools that get `<triple>-<tool>` aliases when the LLVM binary exists.
const LLVM_TOOLS: &[&str] = &[
    "addr2line",
    "ar",
    "as",
    "ranlib",
    "nm",
    "dlltool",
    "strip",
    "readelf",
    "profdata",
];

/// Where the real compiler lives (upstream supports only this path).
pub const REAL_CLANG: &str = "/usr/bin/clang";
/// The config used for plain `clang` calls with no target (native builds).
pub const DEFAULT_CFG: &str = "/etc/llvm/xx-default.cfg";
/// While this file exists, plain `clang` behaves like `xx-clang`.
pub const AUTOWRAP: &str = "/.xx-cc-autowrap";

/// Everything setup needs to know about the target.
#[derive(Debug, Clone)]
pub struct CcTarget {
    /// The C triple (`aarch64-linux-gnu`).
    pub triple: String,
    /// Target OS.
    pub os: String,
    /// Table row.
    pub spec: &'static ArchSpec,
    /// Build stage is Alpine (`/etc/alpine-release`): target packages live in `/<triple>`.
    pub alpine: bool,
    /// The target is the machine itself (no sysroot, default cfg).
    pub native: bool,
}

impl CcTarget {
    /// The target an explicit `--target=T` names, `None` for a triple xx
    /// does not know (clang may still: the caller passes it through).
    pub fn from_triple(triple: &str, env: &TargetEnv) -> Option<CcTarget> {
        let (os, spec) = target::parse_c_triple(triple)?;
        Some(CcTarget {
            native: targetenv::is_native(os, spec.march, &env.host_machine),
            triple: triple.to_string(),
            os: os.to_string(),
            spec,
            alpine: env.alpine_release,
        })
    }

    /// The build stage's target, as `xx-info` names it.
    pub fn from_env(env: &TargetEnv) -> Result<CcTarget, String> {
        let triple = env.triple().map_err(|e| e.to_string())?.to_string();
        let spec = env
            .spec()
            .ok_or_else(|| format!("no target row for {triple}"))?;
        Ok(CcTarget {
            triple,
            os: env.os.clone(),
            spec,
            alpine: env.alpine_release,
            native: !env.is_cross(),
        })
    }

    /// Where its headers and libraries live (xx-info's rule, for this triple).
    pub fn sysroot(&self, env: &TargetEnv) -> String {
        let foreign_on_alpine = self.alpine && !self.native;
        targetenv::sysroot_for(&self.os, foreign_on_alpine, &self.triple, || env.sdk_path())
    }
}

/// The config line clang reads with `--config` (upstream's format).
/// `sdk` is the macOS SDK for darwin, the wasi-libc sysroot for wasi.
pub fn cfg_line(t: &CcTarget, linker: &Linker, sdk: &str) -> String {
    let triple = t.triple.replacen("riscv64gc-", "riscv64-", 1);
    let mut line = format!("--target={triple} -fuse-ld={}", linker.fuse_ld());
    if !t.native {
        match t.os.as_str() {
            "darwin" => line.push_str(&format!(" -isysroot {sdk} -stdlib=libc++")),
            "windows" => line.push_str(&format!(" -I/usr/{0}/include -L/usr/{0}/lib", t.triple)),
            os if target::is_wasi_os(os) => {
                line.push_str(&format!(" --sysroot={sdk}"));
            }
            "linux" if t.alpine => {
                line.push_str(&format!(" --sysroot=/{}/", t.triple));
                if linker.is_bfd() {
                    line.push_str(&format!(" -Wl,-rpath-link,/{}/usr/lib", t.triple));
                }
            }
            _ => {}
        }
    }
    line
}

/// `/usr/bin/<triple>.cfg`, the path every wrapper passes to `--config`.
pub fn cfg_path(triple: &str) -> PathBuf {
    PathBuf::from(format!("/usr/bin/{triple}.cfg"))
}

/// Chooses the linker for `t` from the environment's preferences.
pub fn choose_linker(t: &CcTarget) -> Result<Linker, String> {
    let prefer = std::env::var("XX_CC_PREFER_LINKER").unwrap_or_default();
    let req = linker::Request {
        triple: &t.triple,
        os: &t.os,
        arch: t.spec.arch,
        prefer: if prefer.is_empty() { "lld" } else { &prefer },
        prefer_static_linker: std::env::var_os("XX_CC_PREFER_STATIC_LINKER")
            .is_some_and(|v| !v.is_empty()),
        distro_is_alpine: t.alpine,
        lld_major: super::installed_lld_major(),
    };
    linker::choose(&req, &|p| sys::which(p), &|p| p.exists())
}

/// Runs the whole setup; idempotent (rewrites the same files).
pub fn run(t: &CcTarget, macos_sdk: &str) -> Result<(), String> {
    let real = Path::new(REAL_CLANG);
    if !real.exists() {
        return Err(format!(
            "{REAL_CLANG} not found: install clang and lld (apt-get install -y clang lld / apk add clang lld), \
             or a cross gcc for {} (e.g. apt-get install -y gcc-{})",
            t.triple, t.triple
        ));
    }
    let linker = choose_linker(t)?;
    if let Some(warning) = linker.missing_ld64_warning(&t.triple) {
        eprintln!("xx-clang: {warning}");
    }
    let sdk = if target::is_wasi_os(&t.os) {
        target::wasi::sysroot_in(Path::new("/")).to_string()
    } else {
        macos_sdk.to_string()
    };
    let line = cfg_line(t, &linker, &sdk);
    trace::note(
        "xx-clang",
        &format!("{}: {line}", cfg_path(&t.triple).display()),
    );
    let io = |what: &str, e: std::io::Error| format!("cannot write {what}: {e}");

    // The cfg lives next to the real clang binary (clang >= 16 looks there for
    // <triple>.cfg by itself), with /usr/bin/<triple>.cfg pointing at it.
    let clang_dir = fs::canonicalize(real)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("/usr/bin"));
    let cfg_real = clang_dir.join(format!("{}.cfg", t.triple));
    sys::write_file(&cfg_real, &format!("{line}\n"), 0o644)
        .map_err(|e| io(&cfg_real.display().to_string(), e))?;
    let cfg = cfg_path(&t.triple);
    if cfg_real != cfg {
        sys::symlink(&cfg_real, &cfg).map_err(|e| io(&cfg.display().to_string(), e))?;
    }

    if t.native && !Path::new(DEFAULT_CFG).exists() {
        sys::write_file(
            Path::new(DEFAULT_CFG),
            &format!("-fuse-ld={}\n", linker.fuse_ld()),
            0o644,
        )
        .map_err(|e| io(DEFAULT_CFG, e))?;
    }

    // <triple>-clang and -clang++: call the real compiler directly, no xx in between.
    for (suffix, compiler) in [("clang", "clang"), ("clang++", "clang++")] {
        let wrapper = PathBuf::from(format!("/usr/bin/{}-{suffix}", t.triple));
        let script = format!(
            "#!/bin/sh\n# Written by xx-clang --setup-target-triple: clang for {}.\nexec /usr/bin/{compiler} --config {} \"$@\"\n",
            t.triple,
            cfg.display()
        );
        sys::write_file(&wrapper, &script, 0o755)
            .map_err(|e| io(&wrapper.display().to_string(), e))?;
    }

    for tool in LLVM_TOOLS {
        let alias = format!("{}-{tool}", t.triple);
        if sys::which(&alias).is_some() {
            continue;
        }
        let llvm = [Path::new("/usr/bin"), clang_dir.as_path()]
            .iter()
            .map(|d| d.join(format!("llvm-{tool}")))
            .find(|p| p.exists());
        let Some(llvm) = llvm else { continue };
        let link = PathBuf::from(format!("/usr/bin/{alias}"));
        let result = if t.triple.contains('.') {
            // darwin triples (macos11.0) confuse tools that parse argv[0]: use a script.
            sys::write_file(
                &link,
                &format!("#!/bin/sh\nexec {} \"$@\"\n", llvm.display()),
                0o755,
            )
        } else {
            sys::symlink(&relative_to_usr_bin(&llvm), &link)
        };
        result.map_err(|e| io(&link.display().to_string(), e))?;
    }

    if t.os == "windows" {
        let has_rc = sys::which("llvm-rc").is_some() || clang_dir.join("llvm-rc").exists();
        let windres = PathBuf::from(format!("/usr/bin/{}-windres", t.triple));
        if has_rc && windres.symlink_metadata().is_err() {
            let script = format!(
                "#!/bin/sh\n# Written by xx-clang: windres for {0}.\nexec xx-windres --target={0} \"$@\"\n",
                t.triple
            );
            sys::write_file(&windres, &script, 0o755)
                .map_err(|e| io(&windres.display().to_string(), e))?;
        }
    }
    write_pkg_config(t).map_err(|e| io("the pkg-config wrapper", e))?;
    if t.alpine && !t.native && t.os == "linux" {
        bridge_alpine_vendor(&t.triple);
    }
    if t.os == "darwin" && sys::which("xcrun").is_none() {
        write_xcrun(macos_sdk).map_err(|e| io("/usr/bin/xcrun", e))?;
    }
    hijack_plain_clang();
    Ok(())
}

/// The target of a `/usr/bin/<alias>` link to an LLVM tool, relative as
/// upstream's (`llvm-ar`, or `../lib/llvm-14/bin/llvm-ar` for a versioned
/// install), so the link stays right when the root is copied or mounted
/// elsewhere.
fn relative_to_usr_bin(tool: &Path) -> PathBuf {
    if let Ok(name) = tool.strip_prefix("/usr/bin") {
        return name.to_path_buf();
    }
    match tool.strip_prefix("/usr") {
        Ok(rest) => Path::new("..").join(rest),
        Err(_) => tool.to_path_buf(),
    }
}

/// `<triple>-pkg-config`: the native pkg-config for the machine's own triple;
/// on Alpine a script that looks only inside `/<triple>`. On Debian, cross
/// pkg-config comes from `xx-apt-get install pkg-config`.
fn write_pkg_config(t: &CcTarget) -> std::io::Result<()> {
    let path = PathBuf::from(format!("/usr/bin/{}-pkg-config", t.triple));
    if t.native {
        if path.symlink_metadata().is_err() {
            sys::symlink(Path::new("pkg-config"), &path)?;
        }
        return Ok(());
    }
    if t.alpine && t.os == "linux" {
        let script = format!(
            "#!/bin/sh\n# Written by xx-clang: pkg-config for the {0} sysroot.\nexport PKG_CONFIG_SYSROOT_DIR=/{0}\nexport PKG_CONFIG_LIBDIR=/{0}/usr/lib/pkgconfig/:/{0}/usr/share/pkgconfig/\nexec pkg-config \"$@\"\n",
            t.triple
        );
        sys::write_file(&path, &script, 0o755)?;
    }
    Ok(())
}

/// Rust's triples say `unknown` where Alpine's say `alpine`: link the names
/// (`/aarch64-unknown-linux-musl -> aarch64-alpine-linux-musl`, and the GCC dir)
/// so either finds the sysroot xx-apk made.
fn bridge_alpine_vendor(triple: &str) {
    let mut parts: Vec<&str> = triple.split('-').collect();
    if parts.len() < 4 || parts[1] == "alpine" {
        return;
    }
    parts[1] = "alpine";
    let alpine = parts.join("-").replacen("riscv64gc-", "riscv64-", 1);
    for dir in ["/", "/usr/lib/gcc/", "/usr/lib/gcc-cross/"] {
        let target = Path::new(dir).join(&alpine);
        let link = Path::new(dir).join(triple);
        if target.is_dir() && link.symlink_metadata().is_err() {
            let _ = sys::symlink(Path::new(&alpine), &link);
        }
    }
}

/// A minimal `xcrun` for builds that ask it for the SDK (darwin targets).
fn write_xcrun(sdk: &str) -> std::io::Result<()> {
    let version = Path::new(sdk)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("MacOSX"))
        .and_then(|n| n.strip_suffix(".sdk"))
        .filter(|v| !v.is_empty())
        .unwrap_or("11.1")
        .to_string();
    let script = format!(
        "#!/bin/sh\n# Written by xx-clang: the parts of xcrun that builds use.\nwhile [ $# -gt 0 ]; do\n  case \"$1\" in\n    --sdk) shift ;;\n    --show-sdk-path) echo {sdk}; exit 0 ;;\n    --show-sdk-version) echo {version}; exit 0 ;;\n    -*) ;;\n    *) exec \"$@\" ;;\n  esac\n  shift\ndone\n"
    );
    sys::write_file(Path::new("/usr/bin/xcrun"), &script, 0o755)
}

/// Upstream makes plain `clang` go through xx (`/usr/local/bin/clang ->
/// xx-clang`), which then uses the default cfg, or the target while
/// `--wrap` is active. Kept for compatibility; never replaces a real file.
fn hijack_plain_clang() {
    let xx_clang = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("xx-clang")))
        .filter(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("/usr/bin/xx-clang"));
    for (name, target) in [
        ("clang", xx_clang.clone()),
        ("clang++", xx_clang.with_file_name("xx-clang++")),
    ] {
        let link = Path::new("/usr/local/bin").join(name);
        if link.symlink_metadata().is_err() {
            let _ = sys::symlink(&target, &link);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::lookup;

    fn t(triple: &str, os: &str, arch: &str, alpine: bool, native: bool) -> CcTarget {
        CcTarget {
            triple: triple.to_string(),
            os: os.to_string(),
            spec: lookup(arch, "").unwrap(),
            alpine,
            native,
        }
    }

    #[test]
    fn cfg_lines() {
        let lld = Linker::Lld;
        let bfd = Linker::Gnu("/usr/bin/s390x-alpine-linux-musl-ld".into());
        let sdk = "/xx-sdk/MacOSX11.1.sdk";
        assert_eq!(
            cfg_line(
                &t("aarch64-linux-gnu", "linux", "arm64", false, false),
                &lld,
                sdk
            ),
            "--target=aarch64-linux-gnu -fuse-ld=lld"
        );
        assert_eq!(
            cfg_line(
                &t("aarch64-alpine-linux-musl", "linux", "arm64", true, false),
                &lld,
                sdk
            ),
            "--target=aarch64-alpine-linux-musl -fuse-ld=lld --sysroot=/aarch64-alpine-linux-musl/"
        );
        assert_eq!(
            cfg_line(
                &t("s390x-alpine-linux-musl", "linux", "s390x", true, false),
                &bfd,
                sdk
            ),
            "--target=s390x-alpine-linux-musl -fuse-ld=/usr/bin/s390x-alpine-linux-musl-ld \
             --sysroot=/s390x-alpine-linux-musl/ -Wl,-rpath-link,/s390x-alpine-linux-musl/usr/lib"
        );
        assert_eq!(
            cfg_line(
                &t(
                    "riscv64gc-unknown-linux-gnu",
                    "linux",
                    "riscv64",
                    false,
                    false
                ),
                &lld,
                sdk
            ),
            "--target=riscv64-unknown-linux-gnu -fuse-ld=lld"
        );
        assert_eq!(
            cfg_line(
                &t("x86_64-w64-mingw32", "windows", "amd64", false, false),
                &lld,
                sdk
            ),
            "--target=x86_64-w64-mingw32 -fuse-ld=lld -I/usr/x86_64-w64-mingw32/include -L/usr/x86_64-w64-mingw32/lib"
        );
        assert_eq!(
            cfg_line(
                &t("arm64-apple-macos11.0", "darwin", "arm64", false, false),
                &Linker::Ld64("/usr/bin/ld64.signed".into()),
                sdk
            ),
            "--target=arm64-apple-macos11.0 -fuse-ld=/usr/bin/ld64.signed -isysroot /xx-sdk/MacOSX11.1.sdk -stdlib=libc++"
        );
        assert_eq!(
            cfg_line(
                &t("wasm32-wasi", "wasi", "wasm", false, false),
                &lld,
                "/usr"
            ),
            "--target=wasm32-wasi -fuse-ld=lld --sysroot=/usr"
        );
        assert_eq!(
            cfg_line(
                &t("x86_64-alpine-linux-musl", "linux", "amd64", true, true),
                &lld,
                sdk
            ),
            "--target=x86_64-alpine-linux-musl -fuse-ld=lld",
            "native: no sysroot"
        );
    }

    #[test]
    fn llvm_tool_links_are_relative() {
        assert_eq!(
            relative_to_usr_bin(Path::new("/usr/bin/llvm-dlltool")),
            PathBuf::from("llvm-dlltool")
        );
        assert_eq!(
            relative_to_usr_bin(Path::new("/usr/lib/llvm-14/bin/llvm-ar")),
            PathBuf::from("../lib/llvm-14/bin/llvm-ar")
        );
        assert_eq!(
            relative_to_usr_bin(Path::new("/opt/llvm/bin/llvm-ar")),
            PathBuf::from("/opt/llvm/bin/llvm-ar")
        );
    }
}
