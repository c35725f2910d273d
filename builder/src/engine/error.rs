//! What a build fails with. Each variant keeps what is known about the
//! failure (the step's `file:line`, the platform, the command and its last
//! output, the layer below that failed) so that `cli` renders it once, as
//! `error: <this>`; no message here starts with "error:". Failures of the
//! layers below arrive typed (`From`) and render as they did there; the
//! rest are messages worded where they happened (location and hint
//! included), because they need no further structure to be acted on.

use crate::image::ImageError;
use crate::plan::PlanError;
use crate::registry::RegistryError;
use crate::store::StoreError;

/// A failed build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A RUN step exited non-zero.
    #[error(
        "{at}: RUN failed for {platform}{} (exit code {code}{})\n  command: {command}\n  last output:\n{}",
        emulated_cpu.as_ref().map(|c| format!(" under QEMU, emulating a {c} CPU")).unwrap_or_default(),
        crate::exec::qemu_cpu::signal_name(*code).map(|s| format!(": {s}")).unwrap_or_default(),
        tail(output)
    )]
    RunFailed {
        /// `file:line` of the step.
        at: String,
        /// The instance's platform.
        platform: String,
        /// The CPU model QEMU emulated, when the step ran under emulation
        /// with one set (an Illegal instruction then means "not on that CPU").
        emulated_cpu: Option<String>,
        /// The exit code (128+N for signal N).
        code: i32,
        /// The command as run.
        command: String,
        /// Its last lines of output.
        output: Vec<String>,
    },
    /// Steps for platforms this host cannot execute; nothing was run.
    #[error(
        "the build runs steps for platforms this host cannot execute:\n  {}\nnothing was run",
        problems.join("\n  ")
    )]
    Emulation {
        /// One line per platform: what is missing and how to install it.
        problems: Vec<String>,
    },
    /// The build stopped because another step failed first.
    #[error("cancelled")]
    Cancelled,
    /// Planning failed (the Dockerfile, or an image it names).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An image was refused or could not be written.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// A registry failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// Anything else: a complete message (location and hint where known).
    #[error("{0}")]
    Failed(String),
}

/// The output lines of a failed RUN, indented under the message.
fn tail(lines: &[String]) -> String {
    if lines.is_empty() {
        return "    (none)".to_string();
    }
    lines
        .iter()
        .map(|l| format!("    | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl From<String> for BuildError {
    fn from(s: String) -> Self {
        BuildError::Failed(s)
    }
}

impl From<&str> for BuildError {
    fn from(s: &str) -> Self {
        BuildError::Failed(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_run_renders_its_location_command_and_output() {
        let e = BuildError::RunFailed {
            at: "Dockerfile:3".to_string(),
            platform: "linux/arm64".to_string(),
            emulated_cpu: None,
            code: 2,
            command: "/bin/sh -c make".to_string(),
            output: vec!["cc: error".to_string()],
        };
        assert_eq!(
            e.to_string(),
            "Dockerfile:3: RUN failed for linux/arm64 (exit code 2)\n  command: /bin/sh -c make\n  last output:\n    | cc: error"
        );
        let e = BuildError::RunFailed {
            at: "Dockerfile:5".to_string(),
            platform: "linux/arm/v6".to_string(),
            emulated_cpu: Some("arm1176".to_string()),
            code: 132,
            command: "/bin/sh -c ./hello".to_string(),
            output: vec![],
        };
        assert!(
            e.to_string().starts_with(
                "Dockerfile:5: RUN failed for linux/arm/v6 under QEMU, emulating a arm1176 CPU (exit code 132: Illegal instruction)"
            ),
            "{e}"
        );
    }
}
