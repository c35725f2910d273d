//! The automatic platform ARGs BuildKit defines for every build
//! (BUILDPLATFORM, TARGETARCH, ...), and which platforms a host runs without
//! emulation.

use std::collections::BTreeMap;

use xx::Platform;

/// Names of the automatic platform args.
pub const AUTOMATIC: &[&str] = &[
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
];

/// Their values for a build on `build` producing `target`.
pub fn values(build: &Platform, target: &Platform) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for (prefix, p) in [("BUILD", build), ("TARGET", target)] {
        m.insert(format!("{prefix}PLATFORM"), p.to_string());
        m.insert(format!("{prefix}OS"), p.os.clone());
        m.insert(format!("{prefix}ARCH"), p.arch.clone());
        m.insert(format!("{prefix}VARIANT"), p.variant_str().to_string());
    }
    m
}

/// Whether `host` runs `p` without QEMU (the rule lives with the platform model).
pub fn runs_natively(host: &Platform, p: &Platform) -> bool {
    xx::platform::runs_natively(host, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        s.parse().unwrap()
    }

    #[test]
    fn automatic_values() {
        let v = values(&p("linux/amd64"), &p("linux/arm/v7"));
        assert_eq!(v["BUILDPLATFORM"], "linux/amd64");
        assert_eq!(v["BUILDVARIANT"], "");
        assert_eq!(v["TARGETARCH"], "arm");
        assert_eq!(v["TARGETVARIANT"], "v7");
        assert_eq!(v.len(), 8);
    }

    #[test]
    fn native() {
        let amd = p("linux/amd64");
        assert!(runs_natively(&amd, &p("linux/amd64")));
        assert!(runs_natively(&amd, &p("linux/386")));
        assert!(!runs_natively(&amd, &p("linux/arm64")));
        let arm = p("linux/arm64");
        assert!(runs_natively(&arm, &p("linux/arm/v7")));
        assert!(!runs_natively(&arm, &p("linux/amd64")));
        assert!(!runs_natively(&amd, &p("windows/amd64")));
    }
}
