//! `mxbuild image …`: the local store's images (import, ls, inspect, rm,
//! pull, push, export) and `mxbuild prune`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use xx::Platform;

use super::output::{self, Output};
use crate::image::compress::Compression;
use crate::image::layer::LayerOptions;
use crate::image::manifest::{self, Node};
use crate::image::{import, index};
use crate::output::export;
use crate::registry::{Session, reference};
use crate::store::digest::Digest;
use crate::store::lock::Mode;
use crate::store::{Store, default_root};

/// `mxbuild image` subcommands.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Import a root filesystem (directory, or tar/tar.gz/tar.zst) as one platform of NAME
    /// (added to NAME's index, replacing that platform if present).
    Import {
        /// Platform of the root filesystem (default: this host's).
        #[arg(long)]
        platform: Option<String>,
        /// Layer compression.
        #[arg(long, default_value = "gzip", value_parser = ["gzip", "zstd", "none"])]
        compression: String,
        /// Root filesystem: a directory, a tar archive, or - for a tar on stdin.
        src: PathBuf,
        /// Image name, e.g. debian:bookworm.
        name: String,
    },
    /// List images in the store.
    Ls,
    /// Show an image's index, or with --platform its manifest and config, as JSON.
    Inspect {
        /// One platform's manifest and config.
        #[arg(long)]
        platform: Option<String>,
        /// Image name.
        name: String,
    },
    /// Remove image names (blobs go with `mxbuild prune`).
    Rm {
        /// Image names.
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Pull an image from a registry into the store.
    Pull {
        /// Platforms to pull, comma-separated, or `all` (default: this host's).
        #[arg(long)]
        platform: Option<String>,
        /// Use plain http (loopback registries always do).
        #[arg(long)]
        insecure: bool,
        /// Reference, e.g. debian:bookworm or 127.0.0.1:5000/app:1.
        reference: String,
    },
    /// Push a stored image (all its platforms) to a registry.
    Push {
        /// Use plain http (loopback registries always do).
        #[arg(long)]
        insecure: bool,
        /// Image name in the store.
        name: String,
        /// Where to push (default: NAME).
        reference: Option<String>,
    },
    /// Write an image out: -o type=oci,dest=PATH (.tar = archive) or type=docker,dest=FILE.tar.
    Export {
        /// Output spec.
        #[arg(short = 'o', long = "output")]
        output: String,
        /// Platform (required for type=docker when the image has several).
        #[arg(long)]
        platform: Option<String>,
        /// Image name.
        name: String,
    },
}

/// The store, shared (for commands that only add blobs to it).
pub fn open_shared() -> Result<Store, String> {
    open(Mode::Shared)
}

fn open(mode: Mode) -> Result<Store, String> {
    let root = default_root();
    Store::open(&root, mode).map_err(|e| {
        format!(
            "cannot open the store at {}: {e}\nhint: set MXBUILD_ROOT to a writable directory",
            root.display()
        )
    })
}

fn one_platform(s: Option<&str>) -> Result<Platform, String> {
    match s {
        None => Ok(Platform::host()),
        Some(s) => s.parse().map_err(|e| format!("--platform: {e}")),
    }
}

fn lookup(store: &Store, name: &str) -> Result<(String, Digest), String> {
    let norm = reference::normalize(name)?;
    match store.refs.get(&norm).map_err(|e| e.to_string())? {
        Some(d) => Ok((norm, d)),
        None => Err(format!(
            "no image {name:?} in the store ({})\nhint: `mxbuild image ls` lists them; `mxbuild image pull {name}` fetches it",
            store.root.display()
        )),
    }
}

/// Runs an `image` subcommand.
pub fn run(cmd: &ImageCommand) -> ExitCode {
    let r = match cmd {
        ImageCommand::Import {
            platform,
            compression,
            src,
            name,
        } => import_cmd(platform.as_deref(), compression, src, name),
        ImageCommand::Ls => ls(),
        ImageCommand::Inspect { platform, name } => inspect(platform.as_deref(), name),
        ImageCommand::Rm { names } => rm(names),
        ImageCommand::Pull {
            platform,
            insecure,
            reference,
        } => pull(platform.as_deref(), *insecure, reference),
        ImageCommand::Push {
            insecure,
            name,
            reference,
        } => push(*insecure, name, reference.as_deref()),
        ImageCommand::Export {
            output,
            platform,
            name,
        } => export(output, platform.as_deref(), name),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            super::fail(&e);
            ExitCode::FAILURE
        }
    }
}

fn import_cmd(
    platform: Option<&str>,
    compression: &str,
    src: &std::path::Path,
    name: &str,
) -> Result<(), String> {
    let platform = one_platform(platform)?;
    let norm = reference::normalize(name)?;
    let store = open(Mode::Shared)?;
    let scratch = store.scratch("import").map_err(|e| e.to_string())?;
    let opts = LayerOptions {
        compression: match compression {
            "zstd" => Compression::Zstd,
            "none" => Compression::None,
            _ => Compression::Gzip,
        },
        level: None,
        epoch: crate::image::time::source_date_epoch(),
        overlay: false,
    };
    let res = import::import(&store.blobs, src, &platform, &scratch, opts);
    let _ = std::fs::remove_dir_all(&scratch);
    let desc = res.map_err(|e| e.to_string())?;
    let old = store.refs.get(&norm).map_err(|e| e.to_string())?;
    let (idx, _) = index::replace_platforms(&store.blobs, old.as_ref(), vec![desc])
        .map_err(|e| e.to_string())?;
    store.refs.set(&norm, &idx).map_err(|e| e.to_string())?;
    println!("{norm} {platform} {idx}");
    Ok(())
}

fn human(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes}B")
    } else {
        format!("{v:.1}{}", units[u])
    }
}

fn ls() -> Result<(), String> {
    let store = open(Mode::Shared)?;
    println!("{:<48} {:<19} {:>9}  PLATFORMS", "NAME", "INDEX", "SIZE");
    for (name, d) in store.refs.list().map_err(|e| e.to_string())? {
        let (plats, size) = match manifest::platforms(&store.blobs, &d) {
            Ok(p) => {
                let size: u64 = manifest::closure(&store.blobs, &d)
                    .map(|all| {
                        all.iter()
                            .filter_map(|b| std::fs::metadata(store.blobs.path(b)).ok())
                            .map(|m| m.len())
                            .sum()
                    })
                    .unwrap_or(0);
                (
                    p.iter()
                        .map(|(p, _)| p.to_string())
                        .collect::<Vec<_>>()
                        .join(","),
                    human(size),
                )
            }
            Err(e) => (format!("(damaged: {e})"), "-".to_string()),
        };
        println!(
            "{:<48} {:<19} {:>9}  {plats}",
            name,
            &d.to_string()[..19],
            size
        );
    }
    Ok(())
}

fn inspect(platform: Option<&str>, name: &str) -> Result<(), String> {
    let store = open(Mode::Shared)?;
    let (norm, idx) = lookup(&store, name)?;
    let json = match platform {
        None => {
            let plats = manifest::platforms(&store.blobs, &idx).map_err(|e| e.to_string())?;
            let mut list = Vec::new();
            for (p, d) in plats {
                let layers =
                    match manifest::load(&store.blobs, &d.digest).map_err(|e| e.to_string())? {
                        Node::Manifest { layers, .. } => layers.len(),
                        Node::Index(_) => 0,
                    };
                list.push(serde_json::json!({
                    "platform": p.to_string(),
                    "manifest": d.digest.to_string(),
                    "mediaType": d.media_type,
                    "size": d.size,
                    "layers": layers,
                }));
            }
            serde_json::json!({ "name": norm, "index": idx.to_string(), "manifests": list })
        }
        Some(p) => {
            let p = one_platform(Some(p))?;
            let d = manifest::for_platform(&store.blobs, &idx, &p).map_err(|e| e.to_string())?;
            let man_bytes = store.blobs.read(&d.digest).map_err(|e| e.to_string())?;
            let man: serde_json::Value =
                serde_json::from_slice(&man_bytes).map_err(|e| e.to_string())?;
            let Node::Manifest { config, .. } =
                manifest::parse(&man_bytes).map_err(|e| e.to_string())?
            else {
                return Err(format!("{} is not an image manifest", d.digest));
            };
            let cfg: serde_json::Value = serde_json::from_slice(
                &store
                    .blobs
                    .read(&config.digest)
                    .map_err(|e| e.to_string())?,
            )
            .map_err(|e| e.to_string())?;
            serde_json::json!({
                "name": norm, "index": idx.to_string(), "platform": p.to_string(),
                "digest": d.digest.to_string(), "manifest": man, "config": cfg,
            })
        }
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    );
    Ok(())
}

fn rm(names: &[String]) -> Result<(), String> {
    let store = open(Mode::Shared)?;
    let mut missing = Vec::new();
    for n in names {
        let norm = reference::normalize(n)?;
        if store.refs.remove(&norm).map_err(|e| e.to_string())? {
            println!("removed {norm}");
        } else {
            missing.push(n.clone());
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("no such image: {}", missing.join(", ")))
    }
}

fn pull(platform: Option<&str>, insecure: bool, r: &str) -> Result<(), String> {
    let want = match platform {
        Some("all") => None,
        Some(list) => Some(Platform::parse_list(list).map_err(|e| format!("--platform: {e}"))?),
        None => Some(vec![Platform::host()]),
    };
    let reference = reference::parse(r)?;
    let store = open(Mode::Shared)?;
    let session = Session::new(&reference, insecure).map_err(|e| e.to_string())?;
    let pulled = session
        .pull(
            &store.blobs,
            &store.origins,
            &reference,
            want.as_deref(),
            platform.is_some(),
        )
        .map_err(|e| e.to_string())?;
    let name = reference.whole();
    store
        .refs
        .set(&name, &pulled.index)
        .map_err(|e| e.to_string())?;
    let plats: Vec<String> = pulled.platforms.iter().map(ToString::to_string).collect();
    println!(
        "{name} {} ({}; {} blobs fetched)",
        pulled.index,
        plats.join(","),
        pulled.fetched
    );
    Ok(())
}

fn push(insecure: bool, name: &str, target: Option<&str>) -> Result<(), String> {
    let store = open(Mode::Shared)?;
    let (norm, idx) = lookup(&store, name)?;
    let reference = reference::parse(target.unwrap_or(&norm))?;
    push_index(&store, &idx, &reference, insecure)
}

/// Pushes a stored index and prints what happened (shared with `build --push`).
pub fn push_index(
    store: &Store,
    idx: &Digest,
    r: &oci_client::Reference,
    insecure: bool,
) -> Result<(), String> {
    let pushed =
        crate::output::push::push_index(store, idx, r, insecure).map_err(|e| e.to_string())?;
    println!(
        "pushed {} {} ({} uploaded, {} mounted, {} already there)",
        r.whole(),
        pushed.index,
        pushed.uploaded,
        pushed.mounted,
        pushed.existing
    );
    Ok(())
}

fn export(spec: &str, platform: Option<&str>, name: &str) -> Result<(), String> {
    let out = output::parse(spec)?;
    if let Output::Oci { layers, .. } | Output::Docker { layers, .. } = &out {
        if !layers.is_default() {
            return Err("image export writes the stored layers as they are; compression options apply to `mxbuild build -o`".to_string());
        }
    }
    let store = open(Mode::Shared)?;
    let (norm, idx) = lookup(&store, name)?;
    let platform = platform.map(|p| one_platform(Some(p))).transpose()?;
    export_index(&store, &idx, &norm, &out, platform.as_ref(), &[])
}

/// Writes a stored index to an OCI or docker output (shared with `build -o`),
/// an OCI layout with the `extra` referrers (attestations) beside it.
pub fn export_index(
    store: &Store,
    idx: &Digest,
    name: &str,
    out: &Output,
    platform: Option<&Platform>,
    extra: &[(Digest, serde_json::Value)],
) -> Result<(), String> {
    match out {
        Output::Oci { dest, .. } => {
            export::oci_layout(store, idx, name, dest, extra).map_err(|e| e.to_string())
        }
        Output::Docker { dest, .. } => export::docker(store, idx, name, platform, dest),
        Output::Local { .. } | Output::Tar { .. } | Output::Image { .. } => Err(
            "image export writes type=oci or type=docker; use `mxbuild image push` for a registry"
                .to_string(),
        ),
    }
}

/// `mxbuild prune`: removes blobs and snapshots that no image name and no
/// cached build step reaches, and leftovers of killed runs. With `all`, the
/// step cache and `RUN --mount=type=cache` directories go first.
pub fn prune(all: bool) -> ExitCode {
    let r = (|| -> Result<(), String> {
        let store = open(Mode::Exclusive)?;
        let pruned = crate::engine::prune::prune(&store, all)?;
        let swept = &pruned.swept;
        println!(
            "removed {} blobs ({}), {} snapshots, {} temporary files; kept {} blobs",
            swept.blobs,
            human(swept.bytes),
            pruned.snapshots,
            swept.temps,
            pruned.kept
        );
        Ok(())
    })();
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            super::fail(&e);
            ExitCode::FAILURE
        }
    }
}
