//! `-o/--output` specs as buildx writes them (CSV fields, `"a,b"` quoted):
//! `type=oci|docker,dest=…`, `type=local,dest=DIR[,platform-split=BOOL]`,
//! `type=tar,dest=FILE`, `type=image|registry[,name=REF][,push=BOOL]
//! [,push-by-digest=BOOL][,name-canonical=BOOL]`. A bare path means
//! `type=local,dest=PATH`, `-` a tar on stdout (refused here: stdout
//! carries the build's report). Every key either does what BuildKit's
//! exporter does with it or is refused naming the key.

use std::path::PathBuf;

use crate::image::compress::Compression;

/// Layer options of the image-writing exporters (`oci`, `docker`,
/// `image`), as BuildKit's `compression.ParseAttributes` reads them.
pub use crate::image::recompress::LayerPolicy as LayerOpts;

/// A parsed output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// OCI layout: directory, or archive when `dest` ends in `.tar`.
    Oci {
        /// Destination.
        dest: PathBuf,
        /// Layer options.
        layers: LayerOpts,
    },
    /// docker-archive (single platform).
    Docker {
        /// Destination file.
        dest: PathBuf,
        /// Layer options.
        layers: LayerOpts,
    },
    /// Files of the final stage.
    Local {
        /// Destination directory.
        dest: PathBuf,
        /// `platform-split=`; `None`: one subdirectory per platform when
        /// several are built (BuildKit's default).
        split: Option<bool>,
    },
    /// The same files as a tar archive (`type=tar`).
    Tar {
        /// Destination file.
        dest: PathBuf,
    },
    /// An image: named in the local store and, with `push`, pushed.
    Image {
        /// `name=` (comma-separated), else the build's `-t` names.
        name: Option<String>,
        /// `push=` (`type=registry` means `type=image,push=true`).
        push: bool,
        /// `push-by-digest=`: push the index without a tag.
        by_digest: bool,
        /// `name-canonical=`: also name the result `NAME@DIGEST`.
        canonical: bool,
        /// Plain http / unverified TLS.
        insecure: bool,
        /// Layer options.
        layers: LayerOpts,
    },
}

/// The keys of `type=image` and `type=registry` (the same exporter).
const IMAGE_KEYS: &[&str] = &[
    "name",
    "push",
    "push-by-digest",
    "name-canonical",
    "registry.insecure",
    "unpack",
    LAYER_KEYS[0],
    LAYER_KEYS[1],
    LAYER_KEYS[2],
    LAYER_KEYS[3],
];

/// The keys each `-o type=` takes (besides `type`): the one list [`parse`]
/// checks a spec against, and the list the README's compatibility table is
/// tested against. Keys BuildKit's exporters have that are not here are
/// refused naming the key.
pub const OUTPUT_KEYS: &[(&str, &[&str])] = &[
    (
        "oci",
        &[
            "dest",
            LAYER_KEYS[0],
            LAYER_KEYS[1],
            LAYER_KEYS[2],
            LAYER_KEYS[3],
        ],
    ),
    (
        "docker",
        &[
            "dest",
            LAYER_KEYS[0],
            LAYER_KEYS[1],
            LAYER_KEYS[2],
            LAYER_KEYS[3],
        ],
    ),
    ("local", &["dest", "platform-split"]),
    ("tar", &["dest"]),
    ("image", IMAGE_KEYS),
    ("registry", IMAGE_KEYS),
];

/// Layer keys of the image-writing exporters.
const LAYER_KEYS: [&str; 4] = [
    "compression",
    "compression-level",
    "force-compression",
    "oci-mediatypes",
];

/// The keys `-o type=kind` takes; `None` for a type mxbuild does not write.
pub fn keys_of(kind: &str) -> Option<&'static [&'static str]> {
    OUTPUT_KEYS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, keys)| *keys)
}

/// Splits a CSV line as buildx's `csvvalue.Fields` does: commas separate
/// fields, double quotes protect commas, `""` inside quotes is a quote.
pub fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cur.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(format!("{s:?}: unterminated quote"));
    }
    out.push(cur);
    Ok(out)
}

/// A boolean exporter value as Go's `strconv.ParseBool` reads it; an empty
/// value means true (BuildKit's exporters treat `push` alone so).
pub fn parse_bool(key: &str, v: &str) -> Result<bool, String> {
    match v {
        "" | "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(format!(
            "{key}={v:?} is not a boolean; hint: use true or false"
        )),
    }
}

/// Parses one `-o` value.
pub fn parse(spec: &str) -> Result<Output, String> {
    if spec == "-" {
        return Err(
            "--output -: a tar on stdout is not supported; hint: -o type=tar,dest=FILE".to_string(),
        );
    }
    if !spec.starts_with("type=") && !spec.contains(',') && !spec.contains('=') {
        if spec.is_empty() {
            return Err("empty --output".to_string());
        }
        return Ok(Output::Local {
            dest: spec.into(),
            split: None,
        });
    }
    let mut kind = None;
    let mut attrs = Vec::new();
    for part in csv_fields(spec).map_err(|e| format!("--output {e}"))? {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("--output {spec:?}: {part:?} is not KEY=VALUE"))?;
        let k = k.trim().to_ascii_lowercase();
        if k == "type" {
            kind = Some(v.to_string());
        } else {
            attrs.push((k, v.to_string()));
        }
    }
    let kind = kind.ok_or_else(|| format!("--output {spec:?} has no type="))?;
    let fields = Fields {
        spec,
        kind: &kind,
        attrs,
    };
    fields.build()
}

/// The `key=value` fields of one `-o`, turned into an [`Output`].
struct Fields<'a> {
    spec: &'a str,
    kind: &'a str,
    attrs: Vec<(String, String)>,
}

impl Fields<'_> {
    fn unknown(&self, key: &str) -> String {
        let hint = match key {
            "oci-mediatypes" => {
                "mxbuild writes OCI media types only (oci-mediatypes=true is accepted)"
            }
            k if k.starts_with("annotation") => {
                "use --annotation (index:K=V, manifest[PLATFORM]:K=V, K=V)"
            }
            "name" => "an archive's image name is the build's first -t NAME",
            "tar" => {
                "type=oci with a dest ending in .tar writes an archive, any other dest a directory"
            }
            _ => "see `mxbuild build --help` for the keys each type takes",
        };
        format!(
            "--output {:?}: key {key:?} is not supported for type={}\nhint: {hint}",
            self.spec, self.kind
        )
    }

    fn dest(&self) -> Result<PathBuf, String> {
        self.attrs
            .iter()
            .rev()
            .find(|(k, _)| k == "dest")
            .map(|(_, v)| PathBuf::from(v))
            .ok_or_else(|| format!("--output type={} needs dest=PATH", self.kind))
    }

    fn build(&self) -> Result<Output, String> {
        let mut layers = LayerOpts::default();
        let (mut name, mut push, mut by_digest, mut canonical, mut insecure) =
            (None, self.kind == "registry", false, false, false);
        let mut split = None;
        let image = matches!(self.kind, "image" | "registry");
        let allowed = keys_of(self.kind).ok_or_else(|| {
            format!(
                "--output type={} is not supported; hint: use oci, docker, local, tar, image or registry",
                self.kind
            )
        })?;
        for (k, v) in &self.attrs {
            let k = k.as_str();
            if !allowed.contains(&k) {
                return Err(self.unknown(k));
            }
            match (self.kind, k) {
                (_, "dest") if !image => {}
                ("oci" | "docker" | "image" | "registry", _)
                    if layer_key("--output", &mut layers, k, v)? => {}
                ("image" | "registry", "name") => name = Some(v.clone()),
                ("image" | "registry", "push") => push = parse_bool(k, v)?,
                ("image" | "registry", "push-by-digest") => by_digest = parse_bool(k, v)?,
                ("image" | "registry", "name-canonical") => canonical = parse_bool(k, v)?,
                ("image" | "registry", "registry.insecure") => insecure = parse_bool(k, v)?,
                // BuildKit's unpack=true unpacks the image into containerd's
                // snapshotter; mxbuild has none, so only the default (no
                // unpacking) is accepted.
                ("image" | "registry", "unpack") if !parse_bool(k, v)? => {}
                ("image" | "registry", "unpack") => {
                    return Err(format!(
                        "--output {:?}: unpack=true unpacks into containerd's snapshotter, which mxbuild does not use\nhint: drop unpack=true; the image is in mxbuild's store (`mxbuild image ls`), or use --load to run it with docker or podman",
                        self.spec
                    ));
                }
                ("local", "platform-split") => split = Some(parse_bool(k, v)?),
                _ => return Err(self.unknown(k)),
            }
        }
        // BuildKit's docker exporter writes Docker media types, which have
        // no zstd ("conflicts with oci-mediatypes=false").
        if self.kind == "docker" && layers.compression == Some(Compression::Zstd) {
            return Err(format!(
                "--output {:?}: compression=zstd needs OCI media types, which type=docker does not write\nhint: use type=oci for zstd layers",
                self.spec
            ));
        }
        if by_digest && !push {
            eprintln!("warning: --output push-by-digest=true without push=true has no effect");
        }
        match self.kind {
            "oci" => Ok(Output::Oci {
                dest: self.dest()?,
                layers,
            }),
            "docker" => Ok(Output::Docker {
                dest: self.dest()?,
                layers,
            }),
            "local" => Ok(Output::Local {
                dest: self.dest()?,
                split,
            }),
            "tar" => Ok(Output::Tar { dest: self.dest()? }),
            "image" | "registry" => Ok(Output::Image {
                name,
                push,
                by_digest,
                canonical,
                insecure,
                layers,
            }),
            t => Err(format!(
                "--output type={t} is not supported; hint: use oci, docker, local, tar, image or registry"
            )),
        }
    }
}

/// Reads the layer keys (`compression`, `compression-level`,
/// `force-compression`, `oci-mediatypes=true`) of `flag` into `l`; false
/// when `k` is not one of them. `-o` and `--cache-to` share them.
pub fn layer_key(flag: &str, l: &mut LayerOpts, k: &str, v: &str) -> Result<bool, String> {
    match k {
        "compression" => {
            l.compression = Some(match v {
                "gzip" => Compression::Gzip,
                "zstd" => Compression::Zstd,
                "uncompressed" => Compression::None,
                _ => {
                    return Err(format!(
                        "{flag} compression={v:?} is not supported; hint: use gzip, zstd or uncompressed"
                    ));
                }
            })
        }
        "compression-level" => {
            l.level = Some(
                v.parse()
                    .map_err(|_| format!("{flag} compression-level={v:?} is not a number"))?,
            )
        }
        "force-compression" => l.force = parse_bool(k, v)?,
        "oci-mediatypes" if parse_bool(k, v)? => {}
        _ => return Ok(false),
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(name: Option<&str>, push: bool) -> Output {
        Output::Image {
            name: name.map(str::to_string),
            push,
            by_digest: false,
            canonical: false,
            insecure: false,
            layers: LayerOpts::default(),
        }
    }

    #[test]
    fn buildx_forms() {
        assert_eq!(
            parse("type=oci,dest=out.tar").unwrap(),
            Output::Oci {
                dest: "out.tar".into(),
                layers: LayerOpts::default()
            }
        );
        assert_eq!(
            parse("outdir").unwrap(),
            Output::Local {
                dest: "outdir".into(),
                split: None
            }
        );
        assert_eq!(
            parse("type=local,dest=o,platform-split=false").unwrap(),
            Output::Local {
                dest: "o".into(),
                split: Some(false)
            }
        );
        assert_eq!(
            parse("type=tar,dest=o.tar").unwrap(),
            Output::Tar {
                dest: "o.tar".into()
            }
        );
        assert_eq!(parse("type=registry").unwrap(), image(None, true));
        assert_eq!(parse("type=image,name=a").unwrap(), image(Some("a"), false));
        // An archive is named by -t; name= would be dropped, so it is refused.
        let e = parse("type=oci,dest=o.tar,name=x").unwrap_err();
        assert!(e.contains("key \"name\"") && e.contains("-t NAME"), "{e}");
        assert_eq!(
            parse("type=image,\"name=a,b\",push=true").unwrap(),
            image(Some("a,b"), true)
        );
        assert_eq!(
            parse("type=registry,push=false").unwrap(),
            image(None, false)
        );
        let Output::Image {
            by_digest,
            canonical,
            insecure,
            ..
        } = parse("type=image,push-by-digest=true,name-canonical=true,registry.insecure=true")
            .unwrap()
        else {
            panic!()
        };
        assert!(by_digest && canonical && insecure);
    }

    #[test]
    fn layer_keys() {
        let Output::Oci { layers, .. } =
            parse("type=oci,dest=x,compression=zstd,compression-level=5,force-compression=true")
                .unwrap()
        else {
            panic!()
        };
        assert_eq!(layers.compression, Some(Compression::Zstd));
        assert_eq!(layers.level, Some(5));
        assert!(layers.force);
        assert!(parse("type=oci,dest=x,oci-mediatypes=true").is_ok());
    }

    #[test]
    fn refusals_name_the_key() {
        assert!(parse("type=oci").unwrap_err().contains("dest="));
        assert!(
            parse("type=tarball,dest=x")
                .unwrap_err()
                .contains("not supported")
        );
        for (spec, key) in [
            ("type=oci,bogus=1,dest=x", "bogus"),
            ("type=oci,dest=x,oci-mediatypes=false", "oci-mediatypes"),
            ("type=image,annotation.a=b", "annotation.a"),
            ("type=tar,dest=x,platform-split=false", "platform-split"),
            ("type=local,dest=x,compression=zstd", "compression"),
            ("type=oci,dest=x,tar=false", "tar"),
        ] {
            let e = parse(spec).unwrap_err();
            assert!(e.contains(&format!("{key:?}")), "{spec}: {e}");
        }
        assert!(parse("type=oci,dest=x,compression=lz4").is_err());
        assert!(
            parse("type=docker,dest=x,compression=zstd")
                .unwrap_err()
                .contains("zstd")
        );
        assert!(parse("type=image,push=maybe").is_err());
        assert!(parse("type=image,name=x,unpack=false").is_ok());
        assert!(
            parse("type=image,name=x,unpack=true")
                .unwrap_err()
                .contains("unpack=true")
        );
        assert!(parse("-").is_err());
    }
}
