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
    /// Target OS is Linux (multiarch `p:<arch>` is possible).
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

/// Expands the meta-packages. `gcc_version` is the newest N with a
/// `libgcc-N-dev` for the target (found by the caller).
pub fn expand_meta(packages: &[String], gcc_version: Option<u32>) -> Vec<String> {
    let n = gcc_version.unwrap_or(8);
    let mut out = Vec::new();
    for p in packages {
        match p.as_str() {
            "xx-c-essentials" => {
                out.push("libc6-dev".to_string());
                out.push(format!("libgcc-{n}-dev"));
            }
            "xx-cxx-essentials" => out.push(format!("libstdc++-{n}-dev")),
            _ => out.push(p.clone()),
        }
    }
    out
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
            Some(12),
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
            expand_meta(&["xx-c-essentials".to_string()], None)[1],
            "libgcc-8-dev"
        );
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
