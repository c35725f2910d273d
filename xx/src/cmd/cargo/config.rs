//! What the user already told cargo about targets, so xx-cargo does not
//! override it: `build.target` and `target.<triple>.linker` in the
//! `.cargo/config.toml` files cargo would read (the current directory and its
//! parents, then `$CARGO_HOME`), and the matching environment variables.

use std::path::{Path, PathBuf};

/// The user's target settings that matter to xx-cargo.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserConfig {
    /// `build.target` (or CARGO_BUILD_TARGET), if set.
    pub build_target: Option<String>,
    /// Whether a linker is configured for the triple asked about.
    pub linker_configured: bool,
    /// `install.root`, if set (where `cargo install` puts `bin/`).
    pub install_root: Option<PathBuf>,
}

/// Reads the config for `triple`, starting the search at `cwd`.
pub fn read(cwd: &Path, triple: &str) -> UserConfig {
    let env_key = format!(
        "CARGO_TARGET_{}_LINKER",
        triple.to_uppercase().replace(['-', '.'], "_")
    );
    let mut cfg = UserConfig {
        build_target: std::env::var("CARGO_BUILD_TARGET")
            .ok()
            .filter(|s| !s.is_empty()),
        linker_configured: std::env::var_os(&env_key).is_some(),
        install_root: None,
    };
    for file in config_files(cwd) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(table) = text.parse::<toml::Table>() else {
            eprintln!(
                "xx-cargo: warning: cannot parse {}; ignoring it",
                file.display()
            );
            continue;
        };
        if cfg.build_target.is_none() {
            cfg.build_target = table
                .get("build")
                .and_then(|b| b.get("target"))
                .and_then(|t| t.as_str())
                .map(str::to_string);
        }
        if cfg.install_root.is_none() {
            cfg.install_root = table
                .get("install")
                .and_then(|b| b.get("root"))
                .and_then(|t| t.as_str())
                .map(|root| config_relative(&file, root));
        }
        if table
            .get("target")
            .and_then(|t| t.get(triple))
            .and_then(|t| t.get("linker"))
            .is_some()
        {
            cfg.linker_configured = true;
        }
    }
    cfg
}

/// A path from a config file: relative ones are relative to the directory
/// holding `.cargo/`, as cargo resolves them.
fn config_relative(file: &Path, value: &str) -> PathBuf {
    let base = file
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("/"));
    base.join(value)
}

/// The config files cargo reads, most specific first.
fn config_files(cwd: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in cwd.ancestors() {
        for name in ["config.toml", "config"] {
            let f = dir.join(".cargo").join(name);
            if f.is_file() {
                files.push(f);
                break;
            }
        }
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(home) = home {
        for name in ["config.toml", "config"] {
            let f = home.join(name);
            if f.is_file() && !files.contains(&f) {
                files.push(f);
                break;
            }
        }
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_linker_and_target_in_parent_dirs() {
        let dir = std::env::temp_dir().join(format!("xx-cargo-config-{}", std::process::id()));
        let sub = dir.join("crate/src");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::create_dir_all(dir.join(".cargo")).unwrap();
        std::fs::write(
            dir.join(".cargo/config.toml"),
            "[build]\ntarget = \"aarch64-unknown-linux-musl\"\n[target.aarch64-unknown-linux-gnu]\nlinker = \"my-cc\"\n[install]\nroot = \"out\"\n",
        )
        .unwrap();
        let cfg = read(&sub, "aarch64-unknown-linux-gnu");
        assert!(cfg.linker_configured);
        assert_eq!(
            cfg.build_target.as_deref(),
            Some("aarch64-unknown-linux-musl")
        );
        assert!(!read(&sub, "armv7-unknown-linux-gnueabihf").linker_configured);
        assert_eq!(cfg.install_root, Some(dir.join("out")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
