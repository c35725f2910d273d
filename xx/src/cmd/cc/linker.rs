//! Which linker a target gets (as upstream xx, "Linker choice"): lld where it
//! supports the target, else a GNU ld for the triple, else a clear error that
//! names the package to install. Nothing is downloaded.
//!
//! Pure logic over a PATH lookup, so every branch is unit-tested.

use std::path::{Path, PathBuf};

/// The chosen linker, as clang's `-fuse-ld=` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linker {
    /// LLVM's lld (`-fuse-ld=lld`).
    Lld,
    /// A GNU ld (BFD or gold) by absolute path.
    Gnu(PathBuf),
    /// Apple's ld64 (darwin targets).
    Ld64(PathBuf),
}

impl Linker {
    /// The `-fuse-ld=` value.
    pub fn fuse_ld(&self) -> String {
        match self {
            Linker::Lld => "lld".to_string(),
            Linker::Gnu(p) | Linker::Ld64(p) => p.display().to_string(),
        }
    }

    /// The warning setup prints when a darwin target has no ld64 on PATH
    /// (the config then names plain `ld64`, as upstream's does).
    pub fn missing_ld64_warning(&self, triple: &str) -> Option<String> {
        match self {
            Linker::Ld64(p) if p == Path::new(LD64) => Some(format!(
                "error: building for darwin requires ld64 linker: none found for {triple}; the \
                 config names `ld64`, so compiling works and linking needs Apple's ld64 \
                 (cctools-port) on PATH (xx never downloads prebuilt linkers)"
            )),
            _ => None,
        }
    }

    /// Whether this is a GNU BFD-style ld (needs -rpath-link on Alpine sysroots).
    pub fn is_bfd(&self) -> bool {
        matches!(self, Linker::Gnu(_))
    }
}

/// The name a darwin config uses when no ld64 is installed yet.
const LD64: &str = "ld64";

/// What the choice depends on.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The target triple (`s390x-linux-gnu`).
    pub triple: &'a str,
    /// Target OS (`linux`, `darwin`, `windows`).
    pub os: &'a str,
    /// Target Docker arch (`s390x`).
    pub arch: &'a str,
    /// XX_CC_PREFER_LINKER: `lld` (default), `ld` or `gold`.
    pub prefer: &'a str,
    /// XX_CC_PREFER_STATIC_LINKER is set.
    pub prefer_static_linker: bool,
    /// Whether the target is Alpine-style (packages under `/<triple>`).
    pub distro_is_alpine: bool,
    /// The major version of the installed lld (`ld.lld --version`), if any.
    pub lld_major: Option<u32>,
}

/// Whether lld of this major version links binaries for `arch`: SystemZ
/// support arrived in LLVM 19, RISC-V linker relaxation (R_RISCV_ALIGN, which
/// every `-mrelax` object carries) in LLVM 15. Debian bookworm has 14.
pub fn lld_can_link(arch: &str, lld_major: u32) -> bool {
    lld_major >= lld_min_version(arch)
}

/// The oldest lld that links binaries for `arch` (0: any).
pub fn lld_min_version(arch: &str) -> u32 {
    match arch {
        "s390x" => 19,
        "riscv64" => 15,
        _ => 0,
    }
}

/// The major version in `ld.lld --version` output (`Debian LLD 14.0.6
/// (compatible with GNU linkers)`, `LLD 19.1.4`).
pub fn parse_lld_major(version_output: &str) -> Option<u32> {
    let words: Vec<&str> = version_output.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "LLD")?;
    words.get(at + 1)?.split('.').next()?.parse().ok()
}

/// Chooses the linker. `find` looks a program up on PATH; `exists` checks a
/// path (so tests need no real filesystem).
pub fn choose(
    req: &Request<'_>,
    find: &dyn Fn(&str) -> Option<PathBuf>,
    exists: &dyn Fn(&Path) -> bool,
) -> Result<Linker, String> {
    let t = req.triple;
    if req.os == "darwin" {
        // As upstream: without ld64 the setup still succeeds, naming plain
        // `ld64` (see [`Linker::missing_ld64_warning`]); compiling works and
        // linking works once ld64 is installed.
        return Ok(Linker::Ld64(
            find("ld64.signed")
                .or_else(|| find("ld64"))
                .unwrap_or_else(|| PathBuf::from(LD64)),
        ));
    }
    if crate::target::is_wasi_os(req.os) {
        // clang runs wasm-ld (from the lld package) for -fuse-ld=lld.
        return find("wasm-ld").map(|_| Linker::Lld).ok_or_else(|| {
            format!("no wasm-ld for {t}: install lld (apt-get install -y lld / apk add lld)")
        });
    }
    let lld = find("ld.lld");
    let lld_supports = lld_can_link(req.arch, req.lld_major.unwrap_or(0));
    // XX_CC_PREFER_STATIC_LINKER: GNU ld for 386 and ppc64le (upstream meant both;
    // its prefix test only ever matched ppc64le).
    let static_pref = req.prefer_static_linker && matches!(req.arch, "386" | "ppc64le");
    let prefer_lld = req.prefer == "lld" && lld_supports && !static_pref;
    if prefer_lld && lld.is_some() {
        return Ok(Linker::Lld);
    }
    if req.prefer == "gold" {
        if let Some(p) = find(&format!("{t}-gold")) {
            return Ok(Linker::Gnu(p));
        }
        let p = PathBuf::from(format!("/{t}/bin/gold"));
        if exists(&p) {
            return Ok(Linker::Gnu(p));
        }
    }
    if let Some(p) = find(&format!("{t}-ld")) {
        return Ok(Linker::Gnu(p));
    }
    let p = PathBuf::from(format!("/{t}/bin/ld"));
    if exists(&p) {
        return Ok(Linker::Gnu(p));
    }
    // Fallback: lld after all, unless the user asked for GNU ld.
    if (prefer_lld || (req.prefer != "ld" && lld_supports)) && lld.is_some() {
        return Ok(Linker::Lld);
    }
    Err(missing_linker_hint(req, lld_supports))
}

/// The error for "no linker": what to install, for this distro and target.
fn missing_linker_hint(req: &Request<'_>, lld_supports: bool) -> String {
    let t = req.triple;
    let binutils = if req.distro_is_alpine {
        "xx-apk add binutils".to_string()
    } else {
        // Debian names cross binutils after the triple, with x86-64 for x86_64.
        format!(
            "xx-apt-get install -y binutils   (package binutils-{})",
            t.replace("x86_64", "x86-64")
        )
    };
    if lld_supports && req.prefer == "lld" {
        format!(
            "no suitable linker found for {t}: install lld (apt-get install lld / apk add lld) or a \
             GNU ld for the target: {binutils}"
        )
    } else if lld_supports {
        format!(
            "no GNU ld found for {t} (XX_CC_PREFER_LINKER={}): install one: {binutils}",
            req.prefer
        )
    } else {
        format!(
            "no suitable linker found for {t} (lld {} cannot link {}; {}): install a GNU ld for the \
             target: {binutils}",
            req.lld_major
                .map_or("(not installed)".to_string(), |v| v.to_string()),
            req.arch,
            match req.arch {
                "s390x" => "SystemZ needs lld 19 or newer",
                "riscv64" => "RISC-V linker relaxation needs lld 15 or newer",
                _ => "lld is not installed",
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req<'a>(triple: &'a str, arch: &'a str) -> Request<'a> {
        Request {
            triple,
            os: "linux",
            arch,
            prefer: "lld",
            prefer_static_linker: false,
            distro_is_alpine: false,
            lld_major: Some(14),
        }
    }

    fn path_with(progs: &'static [&'static str]) -> impl Fn(&str) -> Option<PathBuf> {
        move |p: &str| {
            progs
                .contains(&p)
                .then(|| PathBuf::from(format!("/usr/bin/{p}")))
        }
    }

    const NO: &dyn Fn(&Path) -> bool = &|_| false;

    #[test]
    fn lld_first_where_it_works() {
        let find = path_with(&["ld.lld", "aarch64-linux-gnu-ld"]);
        assert_eq!(
            choose(&req("aarch64-linux-gnu", "arm64"), &find, NO),
            Ok(Linker::Lld)
        );
    }

    #[test]
    fn gnu_ld_for_s390x_and_riscv64() {
        let find = path_with(&["ld.lld", "s390x-linux-gnu-ld"]);
        assert_eq!(
            choose(&req("s390x-linux-gnu", "s390x"), &find, NO),
            Ok(Linker::Gnu("/usr/bin/s390x-linux-gnu-ld".into()))
        );
        let err = choose(
            &req("riscv64-linux-gnu", "riscv64"),
            &path_with(&["ld.lld"]),
            NO,
        )
        .unwrap_err();
        assert!(err.contains("binutils-riscv64-linux-gnu"), "{err}");
        assert!(err.contains("lld 14 cannot link riscv64"), "{err}");
    }

    #[test]
    fn newer_lld_links_s390x_and_riscv64() {
        let find = path_with(&["ld.lld", "s390x-linux-gnu-ld"]);
        let mut r = req("s390x-linux-gnu", "s390x");
        r.lld_major = Some(19);
        assert_eq!(choose(&r, &find, NO), Ok(Linker::Lld));
        let mut r = req("riscv64-linux-gnu", "riscv64");
        r.lld_major = Some(15);
        assert_eq!(choose(&r, &path_with(&["ld.lld"]), NO), Ok(Linker::Lld));
        assert!(!lld_can_link("s390x", 18));
        assert!(lld_can_link("arm64", 14));
        assert_eq!(
            parse_lld_major("Debian LLD 14.0.6 (compatible with GNU linkers)"),
            Some(14)
        );
        assert_eq!(
            parse_lld_major("LLD 19.1.4 (compatible with GNU linkers)"),
            Some(19)
        );
        assert_eq!(parse_lld_major("GNU ld (GNU Binutils) 2.40"), None);
    }

    #[test]
    fn prefer_ld_and_gold() {
        let find = path_with(&["ld.lld", "aarch64-linux-gnu-ld", "aarch64-linux-gnu-gold"]);
        let mut r = req("aarch64-linux-gnu", "arm64");
        r.prefer = "ld";
        assert_eq!(
            choose(&r, &find, NO),
            Ok(Linker::Gnu("/usr/bin/aarch64-linux-gnu-ld".into()))
        );
        r.prefer = "gold";
        assert_eq!(
            choose(&r, &find, NO),
            Ok(Linker::Gnu("/usr/bin/aarch64-linux-gnu-gold".into()))
        );
        r.prefer = "ld";
        let err = choose(&r, &path_with(&["ld.lld"]), NO).unwrap_err();
        assert!(err.contains("binutils-aarch64-linux-gnu"), "{err}");
        assert!(err.contains("no GNU ld found"), "{err}");
        assert!(!err.contains("cannot link"), "{err}");
    }

    #[test]
    fn static_linker_preference_covers_386_too() {
        let find = path_with(&["ld.lld", "i686-linux-gnu-ld", "powerpc64le-linux-gnu-ld"]);
        for (t, a) in [
            ("i686-linux-gnu", "386"),
            ("powerpc64le-linux-gnu", "ppc64le"),
        ] {
            let mut r = req(t, a);
            r.prefer_static_linker = true;
            assert!(matches!(choose(&r, &find, NO), Ok(Linker::Gnu(_))), "{t}");
        }
    }

    #[test]
    fn sysroot_ld_and_lld_fallback() {
        let exists = |p: &Path| p == Path::new("/s390x-alpine-linux-musl/bin/ld");
        let mut r = req("s390x-alpine-linux-musl", "s390x");
        r.distro_is_alpine = true;
        assert_eq!(
            choose(&r, &path_with(&[]), &exists),
            Ok(Linker::Gnu("/s390x-alpine-linux-musl/bin/ld".into()))
        );
        let err = choose(&r, &path_with(&[]), NO).unwrap_err();
        assert!(err.contains("xx-apk add binutils"), "{err}");
        let mut r = req("aarch64-linux-gnu", "arm64");
        r.prefer = "gold";
        assert_eq!(choose(&r, &path_with(&["ld.lld"]), NO), Ok(Linker::Lld));
    }

    #[test]
    fn wasi_links_with_wasm_ld() {
        let mut r = req("wasm32-wasi", "wasm");
        r.os = "wasi";
        assert_eq!(choose(&r, &path_with(&["wasm-ld"]), NO), Ok(Linker::Lld));
        let err = choose(&r, &path_with(&["ld.lld"]), NO).unwrap_err();
        assert!(err.contains("install lld"), "{err}");
    }

    #[test]
    fn darwin_needs_ld64() {
        let mut r = req("arm64-apple-macos11.0", "arm64");
        r.os = "darwin";
        let missing = choose(&r, &path_with(&["ld.lld"]), NO).unwrap();
        assert_eq!(missing, Linker::Ld64("ld64".into()));
        assert_eq!(missing.fuse_ld(), "ld64");
        let warning = missing
            .missing_ld64_warning("arm64-apple-macos11.0")
            .unwrap();
        assert!(
            warning.contains("building for darwin requires ld64 linker"),
            "{warning}"
        );
        assert!(matches!(
            choose(&r, &path_with(&["ld64.signed"]), NO),
            Ok(Linker::Ld64(_))
        ));
    }
}
