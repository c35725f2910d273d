//! `-o type=image|registry` after a build, as BuildKit's image exporter
//! does it: the result is named (`name=`, else the `-t` names) in the
//! local store, also as `NAME@DIGEST` with `name-canonical=true`, and only
//! with `push=true` sent to the registry, by tag or, with
//! `push-by-digest=true`, as the bare index digest with no tag.

use oci_client::Reference;

use super::output::Output;
use crate::engine;
use crate::registry::reference;
use crate::store::Store;

/// What a build hands its image outputs: the images and their attestations.
#[derive(Debug)]
pub struct Sent<'a> {
    /// The build's result.
    pub built: &'a engine::Built,
    /// Attestations (OCI referrers of the platform manifests).
    pub referrers: &'a [crate::attest::referrer::Referrer],
}

/// Writes one image output.
pub fn image_output(
    store: &Store,
    sent: &Sent,
    o: &Output,
    tags: &[String],
    insecure: bool,
) -> Result<(), String> {
    let built = sent.built;
    let Output::Image {
        name,
        push,
        by_digest,
        canonical,
        insecure: i,
        ..
    } = o
    else {
        return Ok(());
    };
    let names: Vec<String> = match name {
        Some(n) => n
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        None => tags.to_vec(),
    };
    if names.is_empty() && *push {
        return Err(
            "--push needs a name: add -t REGISTRY/REPO:TAG (or -o type=image,name=…,push=true)"
                .to_string(),
        );
    }
    for n in &names {
        if *by_digest && *push && has_tag_or_digest(n) {
            return Err(format!(
                "--output push-by-digest=true: can't push tagged ref {n} by digest\nhint: name=REGISTRY/REPO without :TAG"
            ));
        }
        let norm = reference::normalize(n).map_err(|e| format!("--output name={n}: {e}"))?;
        if !*by_digest {
            store
                .refs
                .set(&norm, &built.index)
                .map_err(|e| e.to_string())?;
        }
        if *canonical && !n.contains('@') {
            let full = format!("{norm}@{}", built.index);
            store
                .refs
                .set(&full, &built.index)
                .map_err(|e| e.to_string())?;
            println!("named {full}");
        }
        if !*push {
            continue;
        }
        let r = reference::parse(n)?;
        let target = if *by_digest {
            Reference::with_digest(
                r.registry().to_string(),
                r.repository().to_string(),
                built.index.to_string(),
            )
        } else {
            r
        };
        super::image::push_index(store, &built.index, &target, *i || insecure)?;
        push_referrers(store, sent.referrers, &target, *i || insecure)?;
    }
    Ok(())
}

/// Pushes the attestations after the image: each referrer manifest, then,
/// for registries without the referrers API, the fallback tag index.
fn push_referrers(
    store: &Store,
    referrers: &[crate::attest::referrer::Referrer],
    r: &Reference,
    insecure: bool,
) -> Result<(), String> {
    if referrers.is_empty() {
        return Ok(());
    }
    let session = crate::registry::Session::new(r, insecure).map_err(|e| e.to_string())?;
    for a in referrers {
        let fallback = session
            .push_referrer(
                &store.blobs,
                &store.origins,
                r,
                &a.digest,
                &a.subject,
                &a.descriptor(),
            )
            .map_err(|e| e.to_string())?;
        let how = if fallback {
            format!(
                "listed under tag {}",
                crate::registry::referrers::fallback_tag(&a.subject)
            )
        } else {
            "indexed by the registry's referrers API".to_string()
        };
        println!(
            "pushed {} attestation of {} as {} ({how})",
            a.artifact_type, a.platform, a.digest
        );
    }
    Ok(())
}

/// True when the last path component of `name` carries `:TAG` or
/// `@DIGEST` (a registry's `:PORT` is in an earlier component).
fn has_tag_or_digest(name: &str) -> bool {
    let last = name.rsplit('/').next().unwrap_or(name);
    last.contains(':') || name.contains('@')
}

#[cfg(test)]
mod tests {
    use super::has_tag_or_digest;

    #[test]
    fn tagged_names() {
        assert!(!has_tag_or_digest("127.0.0.1:5000/app"));
        assert!(has_tag_or_digest("127.0.0.1:5000/app:1"));
        assert!(has_tag_or_digest("app@sha256:00"));
        assert!(!has_tag_or_digest("docker.io/me/app"));
    }
}
