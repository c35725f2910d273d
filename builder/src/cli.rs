//! Command-line surface. Subcommands not built yet exit with a clear message
//! rather than pretending to work.

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

/// `mxbuild plan` flags (a subset of `docker buildx build`'s).
#[derive(Debug, clap::Args)]
struct PlanArgs {
    /// Dockerfile (default: CONTEXT/Dockerfile).
    #[arg(short = 'f', long = "file")]
    file: Option<std::path::PathBuf>,
    /// Target platforms, comma-separated (e.g. linux/amd64,linux/arm64 or rpi-zero,rpi4).
    #[arg(long)]
    platform: Option<String>,
    /// Stage to build (default: the last).
    #[arg(long)]
    target: Option<String>,
    /// Build-time variable, NAME=VALUE (repeatable).
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    build_args: Vec<String>,
    /// Named build context, NAME=SOURCE (repeatable); `--from=NAME` then means it.
    #[arg(long = "build-context", value_name = "NAME=SOURCE")]
    build_contexts: Vec<String>,
    /// Output format.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    format: String,
    /// Build context directory.
    context: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build a Dockerfile for one or more platforms (flags as `docker buildx build`).
    Build {
        /// Arguments, as for `docker buildx build` (not implemented yet).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Show what a build would run: stage instances per platform, native or emulated, and lints.
    Plan(PlanArgs),
    /// Manage images in the local store: import, ls, inspect, rm, pull, push, export.
    Image {
        /// Arguments (not implemented yet).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Check every binary in an image against its platform (arch, ARM version, float ABI, loader).
    Verify {
        /// Arguments (not implemented yet).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Show which platforms this host can run (natively or via binfmt_misc + QEMU); --install registers handlers.
    Binfmt {
        /// Arguments (not implemented yet).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Remove unreferenced blobs and snapshots from the store.
    Prune {
        /// Arguments (not implemented yet).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print the platform each Raspberry Pi model needs (usable as --platform aliases).
    Platforms,
}

/// Parses the command line and runs the subcommand.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let name = match &cli.command {
        Command::Platforms => return platforms(),
        Command::Plan(args) => return plan(args),
        Command::Build { .. } => "build",
        Command::Image { .. } => "image",
        Command::Verify { .. } => "verify",
        Command::Binfmt { .. } => "binfmt",
        Command::Prune { .. } => "prune",
    };
    eprintln!(
        "mxbuild {name}: not implemented yet in this version (see README for what works today)"
    );
    ExitCode::from(2)
}

fn plan(args: &PlanArgs) -> ExitCode {
    match plan_text(args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn plan_text(args: &PlanArgs) -> Result<String, String> {
    let file = args
        .file
        .clone()
        .unwrap_or_else(|| args.context.join("Dockerfile"));
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("error: cannot read {}: {e}\nhint: pass the Dockerfile with -f, or run in the context directory", file.display()))?;
    let shown = file.display().to_string();
    let df = crate::dockerfile::parse(&text, &shown).map_err(|e| e.to_string())?;
    let host = xx::Platform::host();
    let platforms = match &args.platform {
        Some(list) => {
            xx::Platform::parse_list(list).map_err(|e| format!("error: --platform: {e}"))?
        }
        None => vec![host.clone()],
    };
    let mut build_args = std::collections::BTreeMap::new();
    for a in &args.build_args {
        let (k, v) = match a.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            // `--build-arg NAME` takes the value from the environment, as docker does.
            None => match std::env::var(a) {
                Ok(v) => (a.clone(), v),
                Err(_) => continue,
            },
        };
        build_args.insert(k, v);
    }
    let opts = crate::plan::Options {
        platforms,
        host,
        target: args.target.clone(),
        build_args,
        context: Some(args.context.clone()),
        named_contexts: args
            .build_contexts
            .iter()
            .map(|c| match c.split_once('=') {
                Some((k, v)) => Ok((k.to_string(), v.to_string())),
                None => Err(format!("error: --build-context {c:?} is not NAME=SOURCE\nhint: e.g. --build-context xx=docker-image://tonistiigi/xx")),
            })
            .collect::<Result<_, _>>()?,
    };
    let plan = crate::plan::plan(&df, &opts).map_err(|e| e.to_string())?;
    Ok(match args.format.as_str() {
        "json" => crate::plan::render::json(&plan) + "\n",
        _ => crate::plan::render::text(&plan, &shown),
    })
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
