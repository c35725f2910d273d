//! Package names for a foreign architecture (as upstream xx-apt: "Package name
//! translation"): `gcc` -> `gcc-aarch64-linux-gnu` (a cross tool that runs
//! here), `zlib1g-dev` -> `zlib1g-dev:arm64` (the target's library, multiarch),
//! `xx-c-essentials` -> the target's libc and libgcc headers.
//!
//! Pure logic over an "is this package available?" query, so it is unit-tested.

/// How to translate.
#[derive(Debug, Clone)]
pub struct Naming<'a> {
    /// Target Debian architecture (`arm64`).
    pub pkg_arch: &'a str,
    /// Suffix of cross-tool packages: the triple, with `x86-64` for x86_64,
    /// or the MinGW name for Windows.
    pub suffix: String,
    /// XX_APT_PREFER_CROSS: prefer `p-<arch>-cross` packages over `p:<arch>`.
    pub prefer_cross: bool,
    /// Multiarch `p:<arch>` is possible (a Linux target whose architecture
    /// the distro has).
    pub linux: bool,
}

impl Naming<'_> {
    /// The suffix for a target triple and OS.
    pub fn suffix_for(triple: &str, os: &str, arch: &str) -> String {
        if os == "windows" {
            return match arch {
                "amd64" => "mingw-w64-x86-64",
                "386" => "mingw-w64-i686",
                "arm64" => "mingw-w64-aarch64",
                _ => "mingw-w64-arm",
            }
            .to_string();
        }
        if triple == "x86_64-linux-gnu" {
            return "x86-64-linux-gnu".to_string();
        }
        triple.to_string()
    }
}

/// What the meta-packages stand for on this machine, found by the caller.
#[derive(Debug, Clone, Copy, Default)]
pub struct Meta {
    /// The newest N with a `libgcc-N-dev` for the target.
    pub gcc_version: Option<u32>,
    /// The installed lld cannot link the target (s390x, riscv64 with lld
    /// 14): `xx-c-essentials` then brings the target's GNU ld as well, so
    /// the usual two lines work for every architecture.
    pub gnu_ld: bool,
}

/// Expands the meta-packages.
pub fn expand_meta(packages: &[String], meta: Meta) -> Vec<String> {
    let n = meta.gcc_version.unwrap_or(8);
    let mut out = Vec::new();
    for p in packages {
        match p.as_str() {
            "xx-c-essentials" => {
                out.push("libc6-dev".to_string());
                out.push(format!("libgcc-{n}-dev"));
                if meta.gnu_ld {
                    out.push("binutils".to_string());
                }
            }
            "xx-cxx-essentials" => out.push(format!("libstdc++-{n}-dev")),
            _ => out.push(p.clone()),
        }
    }
    out
}

/// The packages for a `wasi/wasm` target, which Debian ships as
/// architecture-independent ones: `xx-c-essentials` is wasi-libc plus
/// clang's wasm32 builtins for the installed clang (`clang_major`), and
/// `xx-cxx-essentials` libc++ for wasm32. Anything else has no wasm32 form
/// and is returned second, to be skipped with a message.
pub fn expand_wasi(packages: &[String], clang_major: u32) -> (Vec<String>, Vec<String>) {
    let (mut keep, mut skip) = (Vec::new(), Vec::new());
    for p in packages {
        match p.as_str() {
            "xx-c-essentials" => {
                keep.push("wasi-libc".to_string());
                keep.push(format!("libclang-rt-{clang_major}-dev-wasm32"));
            }
            "xx-cxx-essentials" => {
                keep.push(format!("libc++-{clang_major}-dev-wasm32"));
                keep.push(format!("libc++abi-{clang_major}-dev-wasm32"));
            }
            _ if p.ends_with("-wasm32") || p == "wasi-libc" || p.contains(':') => {
                keep.push(p.clone())
            }
            _ => skip.push(p.clone()),
        }
    }
    (keep, skip)
}

/// The candidate names to ask the package index about for `p`, in order of preference.
pub fn candidates(p: &str, naming: &Naming<'_>) -> Vec<String> {
    let mut c = vec![format!("{p}-{}", naming.suffix)];
    if naming.prefer_cross {
        c.push(format!("{p}-{}-cross", naming.pkg_arch));
    }
    c
}

/// Translates each package: the first available candidate, else `p:<arch>`
/// on Linux; packages with no form for a non-Linux target are dropped.
pub fn translate(
    packages: &[String],
    naming: &Naming<'_>,
    available: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let mut out = Vec::new();
    for p in packages {
        // Already qualified (`foo:arm64`, `foo:native`) or a version pin: leave it alone.
        if p.contains(':') || p.contains('=') {
            out.push(p.clone());
            continue;
        }
        if let Some(found) = candidates(p, naming).into_iter().find(|c| available(c)) {
            out.push(found);
        } else if naming.linux {
            out.push(format!("{p}:{}", naming.pkg_arch));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naming(prefer_cross: bool) -> Naming<'static> {
        Naming {
            pkg_arch: "arm64",
            suffix: Naming::suffix_for("aarch64-linux-gnu", "linux", "arm64"),
            prefer_cross,
            linux: true,
        }
    }

    fn avail(p: &str) -> bool {
        matches!(
            p,
            "gcc-aarch64-linux-gnu"
                | "binutils-aarch64-linux-gnu"
                | "libc6-dev-arm64-cross"
                | "pkg-config-aarch64-linux-gnu"
        )
    }

    #[test]
    fn cross_tools_then_multiarch() {
        let pkgs: Vec<String> = [
            "gcc",
            "binutils",
            "zlib1g-dev",
            "libc6-dev",
            "pkg-config",
            "foo:amd64",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            translate(&pkgs, &naming(false), &avail),
            [
                "gcc-aarch64-linux-gnu",
                "binutils-aarch64-linux-gnu",
                "zlib1g-dev:arm64",
                "libc6-dev:arm64",
                "pkg-config-aarch64-linux-gnu",
                "foo:amd64"
            ]
        );
        assert_eq!(
            translate(&["libc6-dev".to_string()], &naming(true), &avail),
            ["libc6-dev-arm64-cross"]
        );
    }

    #[test]
    fn meta_packages() {
        let got = expand_meta(
            &[
                "xx-c-essentials".to_string(),
                "xx-cxx-essentials".to_string(),
                "zlib1g-dev".to_string(),
            ],
            Meta {
                gcc_version: Some(12),
                gnu_ld: false,
            },
        );
        assert_eq!(
            got,
            [
                "libc6-dev",
                "libgcc-12-dev",
                "libstdc++-12-dev",
                "zlib1g-dev"
            ]
        );
        assert_eq!(
            expand_meta(&["xx-c-essentials".to_string()], Meta::default())[1],
            "libgcc-8-dev"
        );
        let gnu_ld = Meta {
            gcc_version: Some(12),
            gnu_ld: true,
        };
        assert_eq!(
            expand_meta(&["xx-c-essentials".to_string()], gnu_ld),
            ["libc6-dev", "libgcc-12-dev", "binutils"]
        );
    }

    #[test]
    fn riscv64_on_debian_12_uses_the_cross_packages() {
        let naming = Naming {
            pkg_arch: "riscv64",
            suffix: Naming::suffix_for("riscv64-linux-gnu", "linux", "riscv64"),
            prefer_cross: true,
            linux: false,
        };
        let avail = |p: &str| {
            matches!(
                p,
                "libc6-dev-riscv64-cross"
                    | "libgcc-12-dev-riscv64-cross"
                    | "binutils-riscv64-linux-gnu"
            )
        };
        let meta = Meta {
            gcc_version: Some(12),
            gnu_ld: true,
        };
        let pkgs = expand_meta(
            &["xx-c-essentials".to_string(), "zlib1g-dev".to_string()],
            meta,
        );
        assert_eq!(
            translate(&pkgs, &naming, &avail),
            [
                "libc6-dev-riscv64-cross",
                "libgcc-12-dev-riscv64-cross",
                "binutils-riscv64-linux-gnu"
            ],
            "zlib1g-dev has no riscv64 form on Debian 12: dropped"
        );
    }

    #[test]
    fn wasi_packages() {
        let (keep, skip) = expand_wasi(
            &[
                "xx-c-essentials".to_string(),
                "xx-cxx-essentials".to_string(),
                "zlib1g-dev".to_string(),
            ],
            14,
        );
        assert_eq!(
            keep,
            [
                "wasi-libc",
                "libclang-rt-14-dev-wasm32",
                "libc++-14-dev-wasm32",
                "libc++abi-14-dev-wasm32"
            ]
        );
        assert_eq!(skip, ["zlib1g-dev"]);
    }

    #[test]
    fn suffixes() {
        assert_eq!(
            Naming::suffix_for("x86_64-linux-gnu", "linux", "amd64"),
            "x86-64-linux-gnu"
        );
        assert_eq!(
            Naming::suffix_for("i686-linux-gnu", "linux", "386"),
            "i686-linux-gnu"
        );
        assert_eq!(
            Naming::suffix_for("x86_64-w64-mingw32", "windows", "amd64"),
            "mingw-w64-x86-64"
        );
        let win = Naming {
            pkg_arch: "amd64",
            suffix: "mingw-w64-x86-64".into(),
            prefer_cross: false,
            linux: false,
        };
        let got = translate(&["gcc".to_string(), "zlib1g-dev".to_string()], &win, &|p| {
            p == "gcc-mingw-w64-x86-64"
        });
        assert_eq!(got, ["gcc-mingw-w64-x86-64"], "no multiarch off Linux");
    }
}
