//! `-o/--output` specs as buildx writes them: `type=oci,dest=out.tar`,
//! `type=docker,dest=img.tar`, `type=local,dest=dir`, `type=registry`
//! (`name=` optional). A bare path means `type=local,dest=PATH`, as in buildx.

use std::path::PathBuf;

/// A parsed output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// OCI layout: directory, or archive when `dest` ends in `.tar`.
    Oci {
        /// Destination.
        dest: PathBuf,
    },
    /// docker-archive (single platform).
    Docker {
        /// Destination file.
        dest: PathBuf,
    },
    /// Files of the final stage (one subdirectory per platform when several).
    Local {
        /// Destination directory.
        dest: PathBuf,
    },
    /// Push to a registry.
    Registry {
        /// Reference to push to (`name=`), else the build's `-t` names.
        name: Option<String>,
        /// Plain http / unverified TLS.
        insecure: bool,
    },
}

/// Parses one `-o` value.
pub fn parse(spec: &str) -> Result<Output, String> {
    if !spec.contains('=') {
        if spec.is_empty() {
            return Err("empty --output".to_string());
        }
        return Ok(Output::Local { dest: spec.into() });
    }
    let mut kind = None;
    let mut dest = None;
    let mut name = None;
    let mut insecure = false;
    for part in spec.split(',') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("--output {spec:?}: {part:?} is not KEY=VALUE"))?;
        match k.trim() {
            "type" => kind = Some(v.trim().to_string()),
            "dest" => dest = Some(PathBuf::from(v)),
            "name" => name = Some(v.to_string()),
            "registry.insecure" => insecure = v == "true",
            // Accepted for buildx compatibility; mxbuild output is always
            // compressed the same way and tarred as the type implies.
            "tar" | "compression" | "compression-level" | "force-compression"
            | "oci-mediatypes" | "push" => {}
            other => {
                return Err(format!(
                    "--output {spec:?}: unknown key {other:?}; hint: use type=oci|docker|local|registry with dest=PATH or name=REF"
                ));
            }
        }
    }
    let need_dest = |t: &str| {
        dest.clone()
            .ok_or_else(|| format!("--output type={t} needs dest=PATH"))
    };
    match kind.as_deref() {
        Some("oci") => Ok(Output::Oci {
            dest: need_dest("oci")?,
        }),
        Some("docker") => Ok(Output::Docker {
            dest: need_dest("docker")?,
        }),
        Some("local") => Ok(Output::Local {
            dest: need_dest("local")?,
        }),
        Some("registry") | Some("image") => Ok(Output::Registry { name, insecure }),
        Some(t) => Err(format!(
            "--output type={t} is not supported; hint: use oci, docker, local or registry"
        )),
        None => Err(format!("--output {spec:?} has no type=")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildx_forms() {
        assert_eq!(
            parse("type=oci,dest=out.tar").unwrap(),
            Output::Oci {
                dest: "out.tar".into()
            }
        );
        assert_eq!(
            parse("type=docker,dest=a.tar").unwrap(),
            Output::Docker {
                dest: "a.tar".into()
            }
        );
        assert_eq!(
            parse("outdir").unwrap(),
            Output::Local {
                dest: "outdir".into()
            }
        );
        assert_eq!(
            parse("type=registry,name=127.0.0.1:5000/a,registry.insecure=true").unwrap(),
            Output::Registry {
                name: Some("127.0.0.1:5000/a".into()),
                insecure: true
            }
        );
        assert!(parse("type=oci").unwrap_err().contains("dest="));
        assert!(
            parse("type=tarball,dest=x")
                .unwrap_err()
                .contains("not supported")
        );
        assert!(
            parse("type=oci,bogus=1,dest=x")
                .unwrap_err()
                .contains("unknown key")
        );
    }
}
