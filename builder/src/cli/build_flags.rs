//! Parsing of the `mxbuild build` flags CI scripts copy from buildx
//! (docker/metadata-action, docker/build-push-action): `--annotation`,
//! `--attest`/`--provenance`/`--sbom`, `--secret`. Each takes exactly the
//! syntax buildx documents; what mxbuild cannot do is refused, never
//! dropped.

use std::collections::BTreeMap;
use std::path::PathBuf;

use xx::Platform;

use super::output::{csv_fields, parse_bool};
use crate::engine::SecretSource;
use crate::image::annotations::Annotations;

/// `--annotation` values as buildx's `ParseAnnotations` reads them:
/// `KEY=VALUE` (manifests), `TYPE[,TYPE…]:KEY=VALUE` where a type is
/// `index`, `manifest`, `manifest-descriptor` (each but `index` with an
/// optional `[PLATFORM]`). `index-descriptor` (the OCI layout's own
/// `index.json`) is refused.
pub fn annotations(items: &[String]) -> Result<Annotations, String> {
    let mut out = Annotations::default();
    for a in items.iter().filter(|a| !a.is_empty()) {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| format!("--annotation {a:?}: expected KEY=VALUE"))?;
        let Some((types, key)) = k.split_once(':') else {
            out.manifest.push((None, k.to_string(), v.to_string()));
            continue;
        };
        for t in types.split(',') {
            let (typ, platform) = type_and_platform(a, t)?;
            let entry = (platform.clone(), key.to_string(), v.to_string());
            match typ {
                "" | "manifest" => out.manifest.push(entry),
                "manifest-descriptor" => out.manifest_descriptor.push(entry),
                "index" if platform.is_none() => {
                    out.index.insert(key.to_string(), v.to_string());
                }
                "index-descriptor" => {
                    return Err(format!(
                        "--annotation {a:?}: index-descriptor annotations are not yet supported\nhint: use index:{key}=… to annotate the image index itself"
                    ));
                }
                _ => {
                    return Err(format!(
                        "--annotation {a:?}: unknown annotation type {t:?}\nhint: index, manifest, manifest[PLATFORM], manifest-descriptor"
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// `TYPE` or `TYPE[PLATFORM]`.
fn type_and_platform<'a>(a: &str, t: &'a str) -> Result<(&'a str, Option<Platform>), String> {
    let Some((typ, rest)) = t.split_once('[') else {
        return Ok((t, None));
    };
    let p = rest.strip_suffix(']').ok_or_else(|| {
        format!(
            "--annotation {a:?}: {t:?} is not TYPE[PLATFORM]; hint: manifest[linux/amd64]:KEY=VALUE"
        )
    })?;
    let p: Platform = p
        .parse()
        .map_err(|e| format!("--annotation {a:?}: platform {p:?}: {e}"))?;
    Ok((typ, Some(p)))
}

/// `--provenance`, `--sbom` and `--attest type=…`: mxbuild makes no
/// attestations, so each is accepted only when it turns one off
/// (`false`, `disabled=true`); asking for one is refused.
pub fn attestations(
    provenance: Option<&str>,
    sbom: Option<&str>,
    attest: &[String],
) -> Result<(), String> {
    let mut wanted = Vec::new();
    for (flag, v) in [("--provenance", provenance), ("--sbom", sbom)] {
        let Some(v) = v else { continue };
        // buildx: a boolean, or attributes (mode=max, generator=IMAGE).
        let on = match parse_bool(flag, v) {
            Ok(b) => b,
            Err(_) => attest_on(flag, &format!("type={},{v}", &flag[2..]))?,
        };
        if on {
            wanted.push(format!("{flag}={v}"));
        }
    }
    for a in attest {
        if attest_on("--attest", a)? {
            wanted.push(format!("--attest {a}"));
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{}: attestations (provenance, SBOM) are not yet supported\nhint: drop the flag, or pass --provenance=false --sbom=false (the image is built without attestations)",
        wanted.join(", ")
    ))
}

/// Whether one `--attest` spec asks for an attestation.
fn attest_on(flag: &str, spec: &str) -> Result<bool, String> {
    let mut typ = None;
    let mut disabled = false;
    for f in csv_fields(spec).map_err(|e| format!("{flag} {e}"))? {
        match f.split_once('=') {
            Some(("type", t @ ("provenance" | "sbom"))) => typ = Some(t.to_string()),
            Some(("type", t)) => {
                return Err(format!(
                    "{flag} {spec:?}: unknown attestation type {t:?}; hint: provenance or sbom"
                ));
            }
            Some(("disabled", v)) => disabled = parse_bool("disabled", v)?,
            Some(_) => {}
            None => return Err(format!("{flag} {spec:?}: {f:?} is not KEY=VALUE")),
        }
    }
    if typ.is_none() {
        return Err(format!(
            "{flag} {spec:?}: missing type= (provenance or sbom)"
        ));
    }
    Ok(!disabled)
}

/// `--secret` as buildx reads it: `id=ID[,src=FILE|,env=VAR][,type=file|env]`.
/// With neither `src` nor `env`, the variable named ID when it is set, else
/// the file named ID (BuildKit's secrets provider).
pub fn secrets(items: &[String]) -> Result<BTreeMap<String, SecretSource>, String> {
    let mut m = BTreeMap::new();
    for s in items {
        let (mut id, mut src, mut env, mut typ) = (None, None, None, None);
        for part in csv_fields(s).map_err(|e| format!("--secret {e}"))? {
            match part.split_once('=') {
                Some((k, v)) => match k.to_ascii_lowercase().as_str() {
                    "id" => id = Some(v.to_string()),
                    "src" | "source" => src = Some(v.to_string()),
                    "env" => env = Some(v.to_string()),
                    "type" if v == "file" || v == "env" => typ = Some(v.to_string()),
                    "type" => {
                        return Err(format!(
                            "--secret {s:?}: unsupported secret type {v:?}; hint: file or env"
                        ));
                    }
                    _ => {
                        return Err(format!(
                            "--secret {s:?}: unexpected key {k:?}; hint: id=ID,src=FILE or id=ID,env=VAR"
                        ));
                    }
                },
                None => return Err(format!("--secret {s:?}: {part:?} is not KEY=VALUE")),
            }
        }
        if typ.as_deref() == Some("env") && env.is_none() {
            env = src.take();
        }
        let id = id.ok_or_else(|| format!("--secret {s:?}: missing id="))?;
        let source = match (src, env) {
            (Some(f), _) => SecretSource::File(PathBuf::from(f)),
            (None, Some(v)) => SecretSource::Env(v),
            (None, None) if std::env::var_os(&id).is_some() => SecretSource::Env(id.clone()),
            (None, None) => SecretSource::File(PathBuf::from(&id)),
        };
        m.insert(id, source);
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn annotation_forms() {
        let a = annotations(&s(&[
            "a=1",
            "index:b=2",
            "manifest[linux/arm64]:c=3",
            "index,manifest-descriptor:d=4",
        ]))
        .unwrap();
        assert_eq!(a.index.get("b").map(String::as_str), Some("2"));
        assert_eq!(a.index.get("d").map(String::as_str), Some("4"));
        assert_eq!(a.manifest[0], (None, "a".into(), "1".into()));
        assert_eq!(a.manifest[1].0, Some("linux/arm64".parse().unwrap()));
        assert_eq!(a.manifest_descriptor.len(), 1);
        assert!(annotations(&s(&["nokv"])).is_err());
        assert!(
            annotations(&s(&["bogus:a=b"]))
                .unwrap_err()
                .contains("unknown")
        );
        assert!(
            annotations(&s(&["index-descriptor:a=b"]))
                .unwrap_err()
                .contains("not yet supported")
        );
    }

    #[test]
    fn attestations_only_off() {
        assert!(attestations(Some("false"), Some("false"), &[]).is_ok());
        assert!(attestations(None, None, &s(&["type=provenance,disabled=true"])).is_ok());
        assert!(attestations(Some("true"), None, &[]).is_err());
        assert!(attestations(Some("mode=max"), None, &[]).is_err());
        assert!(attestations(None, Some("generator=x"), &[]).is_err());
        assert!(attestations(None, None, &s(&["type=sbom"])).is_err());
        assert!(attestations(None, None, &s(&["disabled=true"])).is_err());
    }

    #[test]
    fn secret_forms() {
        let m = secrets(&s(&[
            "id=a,src=/f",
            "id=b,env=HOME",
            "id=c,type=env,src=PATH",
        ]))
        .unwrap();
        assert_eq!(m["a"], SecretSource::File("/f".into()));
        assert_eq!(m["b"], SecretSource::Env("HOME".into()));
        assert_eq!(m["c"], SecretSource::Env("PATH".into()));
        assert!(secrets(&s(&["id=a,bogus=1"])).is_err());
    }
}
