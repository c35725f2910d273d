//! Go modules from the build information the Go toolchain (1.18 and later)
//! writes into every binary's `.go.buildinfo` section: a 32-byte header
//! (`\xff Go buildinf:`, pointer size, flags), then the Go version and the
//! module info as varint-prefixed strings; the module info's lines are
//! `path`, `mod PATH VERSION SUM`, `dep PATH VERSION SUM` and `=> ...`
//! (a replacement of the line before), tab-separated.

use super::{Ecosystem, Package, purl_escape};

/// The section the Go linker writes.
pub const SECTION: &str = ".go.buildinfo";

const MAGIC: &[u8] = b"\xff Go buildinf:";
/// Flag bit: version and module info are inline strings (Go 1.18+).
const FLAG_INLINE: u8 = 0x2;

/// A varint-prefixed string at `*pos`, advancing it.
fn varint_string<'a>(data: &'a [u8], pos: &mut usize) -> Option<&'a [u8]> {
    let mut len: u64 = 0;
    let mut shift = 0;
    loop {
        let b = *data.get(*pos)?;
        *pos += 1;
        len |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let len = usize::try_from(len).ok()?;
    let end = pos.checked_add(len)?;
    let s = data.get(*pos..end)?;
    *pos = end;
    Some(s)
}

/// The Go version and module-info text of a `.go.buildinfo` section.
fn parse(data: &[u8]) -> Option<(String, String)> {
    if !data.starts_with(MAGIC) || data.get(15)? & FLAG_INLINE == 0 {
        return None;
    }
    let mut pos = 32;
    let version = String::from_utf8_lossy(varint_string(data, &mut pos)?).into_owned();
    let mut info = varint_string(data, &mut pos)?;
    // The module info is framed by 16-byte sentinels.
    if info.len() >= 33 && info[info.len() - 17] == b'\n' {
        info = &info[16..info.len() - 16];
    }
    Some((version, String::from_utf8_lossy(info).into_owned()))
}

/// The main module and dependencies of a Go binary (replacements applied),
/// plus the standard library as `stdlib` at the toolchain's version.
pub fn modules(data: &[u8], found_in: &str) -> Vec<Package> {
    let Some((go_version, info)) = parse(data) else {
        return Vec::new();
    };
    let package = |path: &str, version: &str| Package {
        ecosystem: Ecosystem::Go,
        name: path.to_string(),
        version: version.to_string(),
        arch: None,
        license: None,
        found_in: found_in.to_string(),
        purl: format!(
            "pkg:golang/{}@{}",
            path.split('/')
                .map(purl_escape)
                .collect::<Vec<_>>()
                .join("/"),
            purl_escape(version)
        ),
    };
    let mut out: Vec<Package> = Vec::new();
    let mut main_path = None;
    for line in info.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["path", path] => main_path = Some(path.to_string()),
            ["mod" | "dep", path, version, ..] => out.push(package(path, version)),
            ["=>", path, version, ..] => {
                if let Some(last) = out.last_mut() {
                    *last = package(path, version);
                }
            }
            _ => {}
        }
    }
    // Built outside module mode (GOPATH, as Debian builds Go packages): no
    // `mod` line, only the main package's path, listed as `go version -m`
    // shows it.
    if let (true, Some(p)) = (out.is_empty(), main_path) {
        out.push(package(&p, "(devel)"));
    }
    if let Some(v) = go_version.strip_prefix("go") {
        out.push(package("stdlib", &format!("v{v}")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(version: &str, info: &str) -> Vec<u8> {
        let mut d = MAGIC.to_vec();
        d.push(8);
        d.push(FLAG_INLINE);
        d.resize(32, 0);
        for s in [version.as_bytes(), info.as_bytes()] {
            let mut n = s.len();
            while n >= 0x80 {
                d.push((n as u8) | 0x80);
                n >>= 7;
            }
            d.push(n as u8);
            d.extend_from_slice(s);
        }
        d
    }

    #[test]
    fn modules_and_replacements() {
        let info = format!(
            "{}path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/sys\tv0.1.0\th1:x=\n=>\tgolang.org/x/sys\tv0.2.0\th1:y=\n{}",
            "0123456789abcdef", "\n0123456789abcde"
        );
        let p = modules(&section("go1.22.1", &info), "/app");
        let got: Vec<(&str, &str)> = p
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("example.com/app", "(devel)"),
                ("golang.org/x/sys", "v0.2.0"),
                ("stdlib", "v1.22.1")
            ]
        );
        assert_eq!(p[1].purl, "pkg:golang/golang.org/x/sys@v0.2.0");
        assert!(modules(b"\xff Go buildinf:\x08\x00", "/x").is_empty());
        // GOPATH mode: the main package's path only.
        let gopath = format!(
            "{}path\tgithub.com/o/u/cmd/u\nbuild\tGOOS=linux\n{}",
            "0123456789abcdef", "\n0123456789abcde"
        );
        let p = modules(&section("go1.19.8", &gopath), "/u");
        assert_eq!(p[0].name, "github.com/o/u/cmd/u");
        assert_eq!(p[0].version, "(devel)");
        assert!(modules(&[0xff; 40], "/x").is_empty());
    }
}
