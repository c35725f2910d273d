//! Go's environment for a target, as xx-go sets it.

use super::resolve::Target;
use crate::arm::ArmArch;
use crate::platform::Platform;

impl Target {
    /// Go's environment for the target: GOOS, GOARCH and the variant knobs
    /// (GOARM, GOAMD64, GOMIPS/GOMIPS64), as xx-go sets them.
    pub fn go_env(&self) -> Vec<(&'static str, String)> {
        go_env(&self.platform)
    }
}

/// Go's environment for a platform (xx-go): GOOS/GOARCH, plus GOARM for arm
/// (5, 6, else 7), GOAMD64 for amd64 v2-v4, GOMIPS/GOMIPS64 from the variant.
pub fn go_env(platform: &Platform) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("GOOS", platform.os.clone()),
        ("GOARCH", platform.arch.clone()),
    ];
    let variant = platform.variant_str();
    match platform.arch.as_str() {
        "arm" => {
            let goarm = ArmArch::from_variant_or_v7(variant).goarm();
            env.push(("GOARM", goarm.to_string()));
        }
        "amd64" if matches!(variant, "v2" | "v3" | "v4") => {
            env.push(("GOAMD64", variant.to_string()));
        }
        "mips" | "mipsle" if !variant.is_empty() => env.push(("GOMIPS", variant.to_string())),
        "mips64" | "mips64le" if !variant.is_empty() => env.push(("GOMIPS64", variant.to_string())),
        _ => {}
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As upstream xx: the Go environment.
    #[test]
    fn go_environment() {
        let rows: &[(&str, &[(&str, &str)])] = &[
            ("linux/amd64", &[("GOOS", "linux"), ("GOARCH", "amd64")]),
            (
                "linux/amd64/v3",
                &[("GOOS", "linux"), ("GOARCH", "amd64"), ("GOAMD64", "v3")],
            ),
            ("linux/arm64", &[("GOOS", "linux"), ("GOARCH", "arm64")]),
            (
                "linux/arm/v7",
                &[("GOOS", "linux"), ("GOARCH", "arm"), ("GOARM", "7")],
            ),
            (
                "linux/arm/v8",
                &[("GOOS", "linux"), ("GOARCH", "arm"), ("GOARM", "7")],
            ),
            (
                "linux/arm/v6",
                &[("GOOS", "linux"), ("GOARCH", "arm"), ("GOARM", "6")],
            ),
            (
                "linux/arm/v5",
                &[("GOOS", "linux"), ("GOARCH", "arm"), ("GOARM", "5")],
            ),
            (
                "linux/mips/softfloat",
                &[
                    ("GOOS", "linux"),
                    ("GOARCH", "mips"),
                    ("GOMIPS", "softfloat"),
                ],
            ),
            (
                "linux/mips64le/softfloat",
                &[
                    ("GOOS", "linux"),
                    ("GOARCH", "mips64le"),
                    ("GOMIPS64", "softfloat"),
                ],
            ),
            ("linux/mips64", &[("GOOS", "linux"), ("GOARCH", "mips64")]),
            ("windows/386", &[("GOOS", "windows"), ("GOARCH", "386")]),
            ("darwin/arm64", &[("GOOS", "darwin"), ("GOARCH", "arm64")]),
        ];
        for (p, want) in rows {
            let got = go_env(&p.parse().unwrap());
            let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(&got, want, "{p}");
        }
    }
}
