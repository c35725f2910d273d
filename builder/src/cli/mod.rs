//! Command-line surface: one module per subcommand.

pub mod binfmt;
pub mod build;
mod build_cache;
mod build_check;
mod build_context;
mod build_flags;
mod build_load;
mod build_push;
mod build_summary;
pub mod image;
pub mod imagetools;
mod imagetools_create;
pub mod output;
pub mod plan;
mod stdout;
pub mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Build multi-platform container images fast: build stages run natively on
/// $BUILDPLATFORM (once, shared by every target), only target stages run under
/// QEMU, and every binary in the result is checked against its platform.
#[derive(Debug, Parser)]
#[command(name = "mxbuild", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a Dockerfile for one or more platforms (flags as `docker buildx build`).
    Build(Box<build::BuildArgs>),
    /// Show what a build would run: stage instances per platform, native or emulated, and lints.
    Plan(plan::PlanArgs),
    /// Manage images in the local store: import, ls, inspect, rm, pull, push, export.
    Image {
        #[command(subcommand)]
        command: image::ImageCommand,
    },
    /// Check every binary in an image against its platform (arch, ARM version, float ABI, loader).
    Verify(verify::VerifyArgs),
    /// Show which platforms this host can run (natively or via binfmt_misc + QEMU); --install registers handlers.
    Binfmt(binfmt::BinfmtArgs),
    /// Remove blobs and snapshots no image name or cached step uses (--all: drop the step cache too).
    Prune {
        /// Also forget cached build steps and RUN cache mounts.
        #[arg(long)]
        all: bool,
    },
    /// Print the platform each Raspberry Pi model needs (usable as --platform aliases).
    Platforms,
    /// Inspect an image in a registry or OCI layout: platforms and attestations.
    Imagetools {
        #[command(subcommand)]
        command: imagetools::ImagetoolsCommand,
    },
    /// Print the SPDX SBOM attached to an image (registry or oci-layout://DIR).
    Sbom(imagetools::SbomArgs),
}

/// Parses the command line and runs the subcommand.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match &cli.command {
        Command::Platforms => platforms(),
        Command::Plan(args) => plan::plan(args),
        Command::Image { command } => image::run(command),
        Command::Prune { all } => image::prune(*all),
        Command::Build(args) => build::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Binfmt(args) => binfmt::run(args),
        Command::Imagetools { command } => imagetools::run(command),
        Command::Sbom(args) => imagetools::sbom(args),
    }
}

/// Prints a failure, the one place where errors are rendered: every layer's
/// error says what failed, where (`file:line:col`, platform) and what to do
/// (`hint:` lines); this adds the `error:` in front.
pub(crate) fn fail(e: &dyn std::fmt::Display) {
    eprintln!("error: {e}");
}

fn platforms() -> ExitCode {
    println!(
        "{:<32} {:<22} {:<14} 32-bit OS",
        "model", "cpu", "64-bit OS"
    );
    for m in xx::raspberry::MODELS {
        println!(
            "{:<32} {:<22} {:<14} {}",
            m.name,
            m.cpu,
            m.platform_64.unwrap_or("-"),
            m.platform_32
        );
    }
    ExitCode::SUCCESS
}
