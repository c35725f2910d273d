//! `--cache-from` and `--cache-to` as buildx reads them: CSV specs
//! `type=local,src|dest=DIR`, `type=registry,ref=REF` and (`--cache-to`
//! only) `type=inline`; a bare value is a registry reference, which may
//! name a cache or an image built with an inline cache. Every key buildx documents for these types either
//! does what it does there or is refused; the lists below are also what the
//! README's compatibility table is tested against.

use std::path::PathBuf;

use super::output::{csv_fields, layer_key, parse_bool};
use crate::engine::cache::{CacheLocation, CacheTo};

/// The keys `--cache-from` takes.
pub const CACHE_FROM_KEYS: &[&str] = &["type", "src", "ref", "registry.insecure"];
/// The keys `--cache-to` takes.
pub const CACHE_TO_KEYS: &[&str] = &[
    "type",
    "dest",
    "ref",
    "mode",
    "ignore-error",
    "oci-mediatypes",
    "image-manifest",
    "registry.insecure",
    "compression",
    "compression-level",
    "force-compression",
];

/// The key/value pairs of a spec; a bare value is `type=registry,ref=VALUE`.
fn fields(flag: &str, spec: &str) -> Result<Vec<(String, String)>, String> {
    if !spec.contains('=') {
        return Ok(vec![
            ("type".into(), "registry".into()),
            ("ref".into(), spec.to_string()),
        ]);
    }
    csv_fields(spec)
        .map_err(|e| format!("{flag} {e}"))?
        .into_iter()
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .ok_or_else(|| format!("{flag} {spec:?}: {f:?} is not KEY=VALUE"))
        })
        .collect()
}

/// What both flags share: the type, its location, and `registry.insecure`.
fn location(
    flag: &str,
    spec: &str,
    kv: &[(String, String)],
    dir_key: &str,
    insecure: bool,
) -> Result<CacheLocation, String> {
    let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    let insecure = insecure
        || get("registry.insecure")
            .map(|v| parse_bool("registry.insecure", v))
            .transpose()?
            .unwrap_or(false);
    match get("type").unwrap_or("") {
        "local" => get(dir_key)
            .map(|d| CacheLocation::Local(PathBuf::from(d)))
            .ok_or_else(|| format!("{flag} {spec:?}: missing {dir_key}=DIR")),
        "registry" => {
            let r = get("ref").ok_or_else(|| format!("{flag} {spec:?}: missing ref=REF"))?;
            crate::registry::reference::parse(r).map_err(|e| format!("{flag} ref={r}: {e}"))?;
            Ok(CacheLocation::Registry {
                reference: r.to_string(),
                insecure,
            })
        }
        "inline" if flag == "--cache-to" => {
            if let Some((k, _)) = kv.iter().find(|(k, _)| k != "type") {
                return Err(format!(
                    "{flag} {spec:?}: type=inline takes no {k}=\nhint: an inline cache holds the steps of the final stages (mode=min, as BuildKit's); use type=registry,ref=REF,mode=max for every step"
                ));
            }
            Ok(CacheLocation::Inline)
        }
        "inline" => Err(format!(
            "{flag} type=inline is not a cache source\nhint: name the image: {flag} type=registry,ref=IMAGE (as buildx)"
        )),
        "" => Err(format!(
            "{flag} {spec:?}: missing type= (local, registry or inline)"
        )),
        t => Err(format!(
            "{flag} type={t} is not supported\nhint: type=registry,ref=REF, type=inline or type=local,{dir_key}=DIR (gha, s3 and azblob caches are not supported)"
        )),
    }
}

fn check_keys(
    flag: &str,
    spec: &str,
    kv: &[(String, String)],
    allowed: &[&str],
) -> Result<(), String> {
    for (k, _) in kv {
        if !allowed.contains(&k.as_str()) {
            return Err(format!(
                "{flag} {spec:?}: key {k:?} is not supported\nhint: {flag} takes {}",
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

/// One `--cache-from`.
pub fn cache_from(spec: &str, insecure: bool) -> Result<CacheLocation, String> {
    let kv = fields("--cache-from", spec)?;
    check_keys("--cache-from", spec, &kv, CACHE_FROM_KEYS)?;
    location("--cache-from", spec, &kv, "src", insecure)
}

/// The `--cache-to`.
pub fn cache_to(spec: &str, insecure: bool) -> Result<CacheTo, String> {
    let flag = "--cache-to";
    let kv = fields(flag, spec)?;
    check_keys(flag, spec, &kv, CACHE_TO_KEYS)?;
    let mut to = CacheTo {
        location: location(flag, spec, &kv, "dest", insecure)?,
        max: false,
        ignore_error: false,
        layers: Default::default(),
    };
    for (k, v) in &kv {
        if layer_key(flag, &mut to.layers, k, v)? {
            continue;
        }
        match k.as_str() {
            "mode" => {
                to.max = match v.as_str() {
                    "min" => false,
                    "max" => true,
                    m => return Err(format!("{flag} mode={m}: expected min or max")),
                }
            }
            "ignore-error" => to.ignore_error = parse_bool(k, v)?,
            // What mxbuild always writes: an OCI image manifest with OCI types.
            "oci-mediatypes" | "image-manifest" if !parse_bool(k, v)? => {
                return Err(format!(
                    "{flag} {k}=false is not supported: the cache is always an OCI image manifest with OCI media types"
                ));
            }
            _ => {}
        }
    }
    to.layers
        .validate()
        .map_err(|e| format!("{flag} {spec:?}: {e}"))?;
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_as_buildx() {
        assert_eq!(
            cache_from("type=local,src=/c", false),
            Ok(CacheLocation::Local(PathBuf::from("/c")))
        );
        assert_eq!(
            cache_from("user/app:cache", false),
            Ok(CacheLocation::Registry {
                reference: "user/app:cache".into(),
                insecure: false
            })
        );
        let to = cache_to(
            "type=registry,ref=r:5000/a:c,mode=max,registry.insecure=true",
            false,
        )
        .unwrap();
        assert!(to.max);
        assert_eq!(
            to.location,
            CacheLocation::Registry {
                reference: "r:5000/a:c".into(),
                insecure: true
            }
        );
        assert!(
            !cache_to("type=local,dest=/c", false).unwrap().max,
            "min is the default"
        );
        assert_eq!(
            cache_to("type=inline", false).map(|t| t.location),
            Ok(CacheLocation::Inline)
        );
        let z = cache_to(
            "type=registry,ref=a,compression=zstd,compression-level=9,force-compression=true",
            false,
        )
        .unwrap();
        assert_eq!(
            z.layers.compression,
            Some(crate::image::compress::Compression::Zstd)
        );
        assert_eq!((z.layers.level, z.layers.force), (Some(9), true));
        for (spec, from) in [
            ("type=gha", true),
            ("type=local,dest=/c,compression=brotli", false),
            (
                "type=registry,ref=a,compression=uncompressed,compression-level=3",
                false,
            ),
            ("type=local,src=/c,mode=max", true),
            ("type=registry", true),
            ("type=registry,ref=a,oci-mediatypes=false", false),
            ("type=local,dest=/c,mode=all", false),
            ("type=inline,mode=max", false),
            ("type=inline", true),
        ] {
            let r = if from {
                cache_from(spec, false).map(|_| ())
            } else {
                cache_to(spec, false).map(|_| ())
            };
            assert!(r.is_err(), "{spec}");
        }
    }
}
