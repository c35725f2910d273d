//! Parsing of the `mxbuild build` flags CI scripts copy from buildx
//! (docker/metadata-action, docker/build-push-action): `--annotation`,
//! `--attest`/`--provenance`/`--sbom`, `--secret`. Each takes exactly the
//! syntax buildx documents; what mxbuild cannot do is refused, never
//! dropped.

use std::collections::BTreeMap;
use std::path::PathBuf;

use xx::Platform;

use super::output::{csv_fields, parse_bool};
use crate::attest::Request;
use crate::attest::provenance::Mode;
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

/// `--provenance`, `--sbom` and `--attest type=…` as buildx reads them: a
/// boolean, or attributes. `--sbom` takes `disabled=`; `--provenance`
/// takes `mode=min|max` (default min, as buildx), `builder-id=URI`,
/// `version=v1` and `disabled=`. A custom SBOM `generator=` image and SLSA
/// v0.2 are refused, as is any other attribute.
pub fn attestations(
    provenance: Option<&str>,
    sbom: Option<&str>,
    attest: &[String],
) -> Result<Request, String> {
    let mut specs = Vec::new();
    for (flag, typ, v) in [
        ("--provenance", "provenance", provenance),
        ("--sbom", "sbom", sbom),
    ] {
        let Some(v) = v else { continue };
        match parse_bool(flag, v) {
            Ok(on) => specs.push((flag, format!("type={typ},disabled={}", !on))),
            Err(_) => specs.push((flag, format!("type={typ},{v}"))),
        }
    }
    for a in attest {
        specs.push(("--attest", a.clone()));
    }
    let mut req = Request::default();
    for (flag, spec) in specs {
        apply(flag, &spec, &mut req)?;
    }
    Ok(req)
}

/// Applies one attestation spec (`type=…,KEY=VALUE…`) to `req`.
fn apply(flag: &str, spec: &str, req: &mut Request) -> Result<(), String> {
    let mut typ = None;
    let mut disabled = false;
    let mut mode = Mode::Min;
    let mut builder_id = None;
    for f in csv_fields(spec).map_err(|e| format!("{flag} {e}"))? {
        let Some((k, v)) = f.split_once('=') else {
            return Err(format!("{flag} {spec:?}: {f:?} is not KEY=VALUE"));
        };
        match (k, v) {
            ("type", "provenance" | "sbom") => typ = Some(v.to_string()),
            ("type", t) => {
                return Err(format!(
                    "{flag} {spec:?}: unknown attestation type {t:?}; hint: provenance or sbom"
                ));
            }
            ("disabled", v) => disabled = parse_bool("disabled", v)?,
            ("mode", "min") => mode = Mode::Min,
            ("mode", "max") => mode = Mode::Max,
            ("mode", m) => {
                return Err(format!("{flag} {spec:?}: mode={m}: expected min or max"));
            }
            ("builder-id", id) => builder_id = Some(id.to_string()),
            ("version", "v1" | "1") => {}
            ("version", v) => {
                return Err(format!(
                    "{flag} {spec:?}: SLSA provenance {v} is not supported\nhint: version=v1 (the default), or leave version out"
                ));
            }
            ("generator", _) => {
                return Err(format!(
                    "{flag} {spec:?}: custom SBOM generator images are not supported: mxbuild scans the image itself (dpkg, apk, Go build info, cargo-auditable, Cargo.lock)\nhint: drop generator="
                ));
            }
            _ => {
                return Err(format!(
                    "{flag} {spec:?}: attribute {k:?} is not supported\nhint: sbom takes disabled=; provenance takes mode=min|max, builder-id=, version=v1, disabled="
                ));
            }
        }
    }
    match typ.as_deref() {
        Some("sbom") => req.sbom = !disabled,
        Some(_) => {
            req.provenance = (!disabled).then_some(mode);
            if builder_id.is_some() {
                req.builder_id = builder_id;
            }
        }
        None => {
            return Err(format!(
                "{flag} {spec:?}: missing type= (provenance or sbom)"
            ));
        }
    }
    Ok(())
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
    fn attestation_flags_as_buildx() {
        let off = attestations(Some("false"), Some("false"), &[]).unwrap();
        assert!(!off.any());
        let r = attestations(Some("true"), Some("true"), &[]).unwrap();
        assert!(r.sbom);
        assert_eq!(r.provenance, Some(Mode::Min));
        let r = attestations(Some("mode=max,builder-id=https://ci/1"), None, &[]).unwrap();
        assert_eq!(r.provenance, Some(Mode::Max));
        assert_eq!(r.builder_id.as_deref(), Some("https://ci/1"));
        let r = attestations(None, None, &s(&["type=sbom", "type=provenance,mode=max"])).unwrap();
        assert!(r.sbom && r.provenance == Some(Mode::Max));
        assert!(
            !attestations(None, None, &s(&["type=provenance,disabled=true"]))
                .unwrap()
                .any()
        );
        for bad in [
            (None, Some("generator=x"), vec![]),
            (Some("version=v0.2"), None, vec![]),
            (Some("mode=all"), None, vec![]),
            (None, None, s(&["disabled=true"])),
            (None, None, s(&["type=vex"])),
            (None, None, s(&["type=sbom,scan-stage=true"])),
        ] {
            assert!(attestations(bad.0, bad.1, &bad.2).is_err(), "{bad:?}");
        }
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
