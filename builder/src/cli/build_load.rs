//! `mxbuild build --load`: the result goes into the local image store of
//! docker (when its daemon answers) or else podman, as buildx's `--load`
//! (`-o type=docker` piped into the daemon). Like buildx with docker's
//! classic image store, one platform only: the host's, or the one
//! `--platform` names. The image is written as a docker archive into
//! scratch space and given to `docker load` / `podman load`; every `-t`
//! name is then set on it.

use std::path::{Path, PathBuf};
use std::process::Command;

use xx::Platform;

use crate::engine::snapshot::Scratch;
use crate::output::export;
use crate::store::Store;
use crate::store::digest::Digest;

/// The program images are loaded into.
#[derive(Debug, Clone)]
pub struct Loader {
    program: PathBuf,
}

impl Loader {
    /// docker if its daemon answers, else podman; refused before anything
    /// is built when there is neither, or with several platforms.
    pub fn find(platforms: &[Platform]) -> Result<Loader, String> {
        if platforms.len() != 1 {
            return Err("--load takes one platform: docker and podman keep one image per name\nhint: --load --platform linux/arm64, or -o type=oci,dest=DIR for several platforms".to_string());
        }
        if let Ok(docker) = which::which("docker") {
            let answers = Command::new(&docker)
                .args(["info", "--format", "{{.ServerVersion}}"])
                .output()
                .is_ok_and(|o| o.status.success());
            if answers {
                return Ok(Loader { program: docker });
            }
        }
        if let Ok(podman) = which::which("podman") {
            return Ok(Loader { program: podman });
        }
        Err("--load needs docker (with its daemon running) or podman\nhint: apt-get install podman, or write -o type=docker,dest=FILE and load it yourself".to_string())
    }

    /// Loads index `idx`'s image for `platform` under `tags` (the first
    /// names the archive; `default` when there is none).
    pub fn load(
        &self,
        store: &Store,
        idx: &Digest,
        platform: &Platform,
        tags: &[String],
        default: &str,
    ) -> Result<(), String> {
        let scratch = Scratch::new(store, "load")?;
        let archive = scratch.0.join("image.tar");
        let first = tags.first().map(String::as_str).unwrap_or(default);
        export::docker(store, idx, first, Some(platform), &archive)?;
        self.run(&["load", "-i"], Some(&archive))?;
        for t in tags.iter().skip(1) {
            self.run(&["tag", first, t], None)?;
        }
        Ok(())
    }

    fn run(&self, args: &[&str], file: Option<&Path>) -> Result<(), String> {
        let mut c = Command::new(&self.program);
        c.args(args);
        if let Some(f) = file {
            c.arg(f);
        }
        let out = c
            .output()
            .map_err(|e| format!("--load: cannot run {}: {e}", self.program.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "--load: {} {} failed: {}",
                self.program.display(),
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// The program's name, for messages.
    pub fn name(&self) -> String {
        self.program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}
