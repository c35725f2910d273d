//! `mxbuild verify SOURCE`: the post-build check on any image, including
//! ones built by buildah or docker: every ELF file of every platform (or
//! `--platform`) is checked against that platform. SOURCE is an image in
//! the store or a registry, `oci-layout://DIR[:TAG]` or
//! `oci-archive://FILE[:TAG]`. Exit status 1 when anything fails.

use std::process::ExitCode;

use xx::Platform;

use crate::engine::{self, resolve};
use crate::exec::effects::Host;
use crate::image::manifest;
use crate::registry::{Session, reference};
use crate::store::digest::Digest;
use crate::store::lock::Mode;
use crate::store::{Store, default_root};

/// `mxbuild verify` flags.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Only these platforms (comma-separated).
    #[arg(long)]
    platform: Option<String>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Plain http for a registry reference.
    #[arg(long)]
    insecure: bool,
    /// Image: NAME (store, else registry), oci-layout://DIR[:TAG] or oci-archive://FILE[:TAG].
    source: String,
}

/// Runs `mxbuild verify`.
pub fn run(args: &VerifyArgs) -> ExitCode {
    match run_inner(args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            super::fail(&e);
            ExitCode::from(2)
        }
    }
}

fn index_of(store: &Store, source: &str, insecure: bool) -> Result<Digest, String> {
    if let Some(spec) = source.strip_prefix("oci-layout://") {
        return resolve::import_layout(store, spec);
    }
    if let Some(spec) = source.strip_prefix("oci-archive://") {
        let (file, tag) = match spec.rsplit_once(':') {
            Some((f, t)) if !t.contains('/') => (f, Some(t)),
            _ => (spec, None),
        };
        let dir = store.scratch("archive").map_err(|e| e.to_string())?;
        let f = std::fs::File::open(file).map_err(|e| format!("{file}: {e}"))?;
        crate::image::extract::apply(f, &dir, crate::image::extract::Mode::Archive, None)
            .map_err(|e| format!("{file}: {e}"))?;
        let spec = match tag {
            Some(t) => format!("{}:{t}", dir.display()),
            None => dir.display().to_string(),
        };
        let r = resolve::import_layout(store, &spec);
        let _ = std::fs::remove_dir_all(&dir);
        return r;
    }
    let norm = reference::normalize(source)?;
    if let Some(d) = store.refs.get(&norm).map_err(|e| e.to_string())? {
        return Ok(d);
    }
    let r = reference::parse(source)?;
    let session = Session::new(&r, insecure).map_err(|e| e.to_string())?;
    let pulled = session
        .pull(&store.blobs, &store.origins, &r, None, false)
        .map_err(|e| e.to_string())?;
    store
        .refs
        .set(&norm, &pulled.index)
        .map_err(|e| e.to_string())?;
    Ok(pulled.index)
}

fn run_inner(args: &VerifyArgs) -> Result<bool, String> {
    let only = match &args.platform {
        Some(p) => Some(Platform::parse_list(p).map_err(|e| format!("--platform: {e}"))?),
        None => None,
    };
    crate::exec::mounts::enter_private_namespace().map_err(|e| {
        format!("{e}\nhint: mxbuild verify needs root (it mounts the image read-only)")
    })?;
    let root = default_root();
    let store =
        Store::open(&root, Mode::Shared).map_err(|e| format!("store {}: {e}", root.display()))?;
    let index = index_of(&store, &args.source, args.insecure)?;
    let mut reports = Vec::new();
    for (p, _) in manifest::platforms(&store.blobs, &index).map_err(|e| e.to_string())? {
        if only.as_ref().is_some_and(|o| !o.contains(&p)) {
            continue;
        }
        let (_, st) = resolve::state_of(&store, &index, &p)?;
        // List the binaries of the image's own layers: all of a one-layer
        // image, else everything above the first (base) layer.
        let mut listed_state = st.clone();
        listed_state.base_layers = if st.layers.len() > 1 { 1 } else { 0 };
        let added = crate::verify::elf_files_in(&engine::added_layer_dirs(&store, &listed_state)?);
        reports.push(engine::with_view(
            &store,
            &Host::without_runtime(),
            &st,
            |r| crate::verify::verify_root(r, &p, &added),
        )?);
    }
    if reports.is_empty() {
        return Err("no platform of the image matched --platform".to_string());
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&reports).unwrap_or_default()
        );
    } else {
        print!("{}", crate::verify::table::render(&reports));
    }
    Ok(reports.iter().all(|r| r.ok()))
}
