//! `RUN --mount=...` specs: `type=cache,target=/root/.cache,sharing=locked`.
//! Comma-separated `key=value` fields (values may be quoted); keys and
//! defaults as in BuildKit's Dockerfile reference.

/// A mount for one RUN step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `bind` (default), `cache`, `tmpfs`, `secret` or `ssh`.
    pub kind: MountKind,
    /// Where it appears in the container (`target`/`dst`/`destination`).
    /// Absent or relative: under the step's working directory (BuildKit joins
    /// it to the working directory; the engine does the same and refuses `/`).
    pub target: Option<String>,
    /// Path in the source (`source`/`src`).
    pub source: Option<String>,
    /// Stage, image or named context to bind from (`from`).
    pub from: Option<String>,
    /// Cache or secret id (`id`).
    pub id: Option<String>,
    /// Cache sharing mode (`shared`, `private`, `locked`).
    pub sharing: Option<String>,
    /// Read-only (`ro`/`readonly`), or read-write (`rw`) for binds.
    pub readonly: Option<bool>,
    /// `mode`, `uid`, `gid` (cache/secret/ssh).
    pub mode: Option<String>,
    /// Owner user id.
    pub uid: Option<String>,
    /// Owner group id.
    pub gid: Option<String>,
    /// A secret or ssh socket must exist (`required`).
    pub required: bool,
    /// tmpfs size in bytes (`size=64m`, parsed as go-units' RAMInBytes).
    pub size: Option<u64>,
    /// Secret as an environment variable (`env`).
    pub env: Option<String>,
}

/// Mount types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountKind {
    /// A read-only view of the context, a stage or an image.
    Bind,
    /// A persistent cache directory.
    Cache,
    /// An empty in-memory directory.
    Tmpfs,
    /// A secret file (never stored in a layer).
    Secret,
    /// An SSH agent socket.
    Ssh,
}

/// The keys each mount type takes (aliases included): the one list
/// [`parse`] checks a spec against, and the list the README's
/// compatibility table is tested against. BuildKit's `parseMount` reads
/// every key for every type and ignores the ones a type has no use for
/// (`id` on a bind, `env` on a cache, `from` on a tmpfs, ...); here such a
/// key is refused, so nothing written is silently dropped.
pub const MOUNT_KEYS: &[(&str, &[&str])] = &[
    (
        "bind",
        &[
            "type",
            "target",
            "dst",
            "destination",
            "source",
            "src",
            "from",
            "readonly",
            "ro",
            "readwrite",
            "rw",
        ],
    ),
    (
        "cache",
        &[
            "type",
            "target",
            "dst",
            "destination",
            "id",
            "sharing",
            "mode",
            "uid",
            "gid",
            "readonly",
            "ro",
            "readwrite",
            "rw",
            "from",
            "source",
            "src",
        ],
    ),
    (
        "tmpfs",
        &[
            "type",
            "target",
            "dst",
            "destination",
            "size",
            "readonly",
            "ro",
            "readwrite",
            "rw",
        ],
    ),
    (
        "secret",
        &[
            "type",
            "id",
            "source",
            "src",
            "target",
            "dst",
            "destination",
            "required",
            "mode",
            "uid",
            "gid",
            "env",
        ],
    ),
    (
        "ssh",
        &[
            "type",
            "id",
            "target",
            "dst",
            "destination",
            "required",
            "mode",
            "uid",
            "gid",
        ],
    ),
];

/// The keys mount type `kind` takes.
pub fn keys_of(kind: MountKind) -> &'static [&'static str] {
    let name = kind.name();
    MOUNT_KEYS
        .iter()
        .find(|(k, _)| *k == name)
        .map_or(&[], |(_, keys)| *keys)
}

impl MountKind {
    /// The `type=` value.
    pub fn name(self) -> &'static str {
        match self {
            MountKind::Bind => "bind",
            MountKind::Cache => "cache",
            MountKind::Tmpfs => "tmpfs",
            MountKind::Secret => "secret",
            MountKind::Ssh => "ssh",
        }
    }
}

/// Parses one `--mount` value.
pub fn parse(spec: &str) -> Result<Mount, String> {
    let mut m = Mount {
        kind: MountKind::Bind,
        target: None,
        source: None,
        from: None,
        id: None,
        sharing: None,
        readonly: None,
        mode: None,
        uid: None,
        gid: None,
        required: false,
        size: None,
        env: None,
    };
    let mut seen: Vec<String> = Vec::new();
    for field in split_fields(spec)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.to_string())),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        seen.push(key.clone());
        let need =
            |v: Option<String>| v.ok_or_else(|| format!("--mount {key} needs a value ({key}=...)"));
        match key.as_str() {
            "type" => {
                m.kind = match need(value)?.as_str() {
                    "bind" => MountKind::Bind,
                    "cache" => MountKind::Cache,
                    "tmpfs" => MountKind::Tmpfs,
                    "secret" => MountKind::Secret,
                    "ssh" => MountKind::Ssh,
                    other => {
                        return Err(format!(
                            "unknown --mount type {other:?} (bind, cache, tmpfs, secret or ssh)"
                        ));
                    }
                }
            }
            "target" | "dst" | "destination" => m.target = Some(need(value)?),
            "source" | "src" => m.source = Some(need(value)?),
            "from" => m.from = Some(need(value)?),
            "id" => m.id = Some(need(value)?),
            "sharing" => {
                let v = need(value)?;
                if !matches!(v.as_str(), "shared" | "private" | "locked") {
                    return Err(format!(
                        "--mount sharing={v} is not one of shared, private, locked"
                    ));
                }
                m.sharing = Some(v);
            }
            "ro" | "readonly" => m.readonly = Some(bool_value(&key, value)?),
            "rw" | "readwrite" => m.readonly = Some(!bool_value(&key, value)?),
            "mode" => m.mode = Some(need(value)?),
            "uid" => m.uid = Some(need(value)?),
            "gid" => m.gid = Some(need(value)?),
            "required" => m.required = bool_value(&key, value)?,
            "size" => {
                let v = need(value)?;
                m.size = Some(ram_in_bytes(&v).map_err(|e| {
                    format!("--mount size={v}: {e} (a byte count with an optional k, m, g, t or p unit, e.g. 64m)")
                })?);
            }
            "env" => m.env = Some(need(value)?),
            other => return Err(format!("unknown --mount option {other:?}")),
        }
    }
    let allowed = keys_of(m.kind);
    if let Some(k) = seen.iter().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "--mount {k}= is not used by type={} mounts (it takes {})",
            m.kind.name(),
            allowed.join(", ")
        ));
    }
    check_kind_keys(&m)?;
    secret_id(&mut m)?;
    Ok(m)
}

/// A secret's `source=` names it, as its `id=` does (BuildKit's
/// `dispatchSecret`): both at once, or neither with no target, is an error.
fn secret_id(m: &mut Mount) -> Result<(), String> {
    if m.kind != MountKind::Secret {
        return Ok(());
    }
    if m.source.is_some() && m.id.is_some() {
        return Err("a secret mount takes source= or id=, not both".to_string());
    }
    if let Some(s) = m.source.take() {
        m.id = Some(s);
    }
    if m.id.is_none() && m.target.is_none() {
        return Err("a secret mount needs id= (or source=) or target=".to_string());
    }
    Ok(())
}

/// Keys that only some mount types take, refused elsewhere as BuildKit's
/// `parseMount` (commands_runmount.go) refuses them.
fn check_kind_keys(m: &Mount) -> Result<(), String> {
    let kind = format!("{:?}", m.kind).to_ascii_lowercase();
    if m.size.is_some() && m.kind != MountKind::Tmpfs {
        return Err(format!(
            "--mount size= is only for type=tmpfs, not type={kind}"
        ));
    }
    if m.required && !matches!(m.kind, MountKind::Secret | MountKind::Ssh) {
        return Err(format!(
            "--mount required is only for type=secret or type=ssh, not type={kind}"
        ));
    }
    let file_info = matches!(
        m.kind,
        MountKind::Secret | MountKind::Ssh | MountKind::Cache
    );
    for (key, v) in [("mode", &m.mode), ("uid", &m.uid), ("gid", &m.gid)] {
        let Some(v) = v else { continue };
        if !file_info {
            return Err(format!(
                "--mount {key}= is not allowed for type={kind} mounts"
            ));
        }
        let radix = if key == "mode" { 8 } else { 10 };
        if u32::from_str_radix(v, radix).is_err() {
            return Err(format!("--mount {key}={v} is not a valid {key}"));
        }
    }
    if m.sharing.is_some() && m.kind != MountKind::Cache {
        return Err(format!(
            "--mount sharing= is only for type=cache, not type={kind}"
        ));
    }
    // BuildKit mounts `source=` of the `from=` state; a cache without
    // `from=` starts from an empty directory, which has no such path.
    if m.kind == MountKind::Cache && m.source.is_some() && m.from.is_none() {
        return Err("--mount=type=cache source= names a path in from=, and there is no from=\nhint: add from=STAGE (the cache starts as a copy of that path), or drop source=".to_string());
    }
    // BuildKit mounts a tmpfs read-only when asked; not implemented here.
    if m.kind == MountKind::Tmpfs && m.readonly == Some(true) {
        return Err(
            "a read-only type=tmpfs mount is not supported yet; drop ro/readonly".to_string(),
        );
    }
    if m.kind == MountKind::Secret && m.from.is_some() {
        return Err("a secret mount takes no from=".to_string());
    }
    Ok(())
}

/// A size as go-units' `RAMInBytes` reads it (BuildKit parses tmpfs
/// `size=` with it): a number (fractions allowed), an optional space, then
/// nothing or `b`, or one of `k m g t p` (powers of 1024) optionally followed
/// by `b` or `ib`, in any case.
pub fn ram_in_bytes(text: &str) -> Result<u64, String> {
    let Some(sep) = text.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ') else {
        return Err(format!("invalid size {text:?}"));
    };
    let (num, suffix) = if text.as_bytes()[sep] == b' ' {
        (&text[..sep], &text[sep + 1..])
    } else {
        (&text[..=sep], &text[sep + 1..])
    };
    let size: f64 = num.parse().map_err(|_| format!("invalid size {text:?}"))?;
    if !size.is_finite() || size < 0.0 {
        return Err(format!("invalid size {text:?}"));
    }
    let suffix = suffix.to_ascii_lowercase();
    let mul: f64 = match suffix.as_bytes() {
        [] | [b'b'] => 1.0,
        [u] | [u, b'b'] | [u, b'i', b'b'] => match u {
            b'k' => 1024f64,
            b'm' => 1024f64.powi(2),
            b'g' => 1024f64.powi(3),
            b't' => 1024f64.powi(4),
            b'p' => 1024f64.powi(5),
            _ => return Err(format!("invalid suffix {suffix:?}")),
        },
        _ => return Err(format!("invalid suffix {suffix:?}")),
    };
    let bytes = size * mul;
    if bytes >= 2f64.powi(63) {
        return Err(format!("size {text:?} is too large"));
    }
    // Truncated toward zero, as Go's int64(float64) conversion does.
    Ok(bytes as u64)
}

fn bool_value(key: &str, value: Option<String>) -> Result<bool, String> {
    match value.as_deref() {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(v) => Err(format!("--mount {key} takes true or false, not {v:?}")),
    }
}

/// Comma-separated fields; double quotes group (and are removed).
fn split_fields(spec: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in spec.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(format!("unterminated quote in --mount={spec}"));
    }
    fields.push(cur);
    Ok(fields
        .into_iter()
        .filter(|f| !f.trim().is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let m = parse("type=cache,target=/root/.cache,sharing=locked,id=go").unwrap();
        assert_eq!(
            (
                m.kind,
                m.target.as_deref(),
                m.sharing.as_deref(),
                m.id.as_deref()
            ),
            (
                MountKind::Cache,
                Some("/root/.cache"),
                Some("locked"),
                Some("go")
            )
        );
        let m = parse("target=/src,from=build,source=/out,rw").unwrap();
        assert_eq!(
            (m.kind, m.from.as_deref(), m.readonly),
            (MountKind::Bind, Some("build"), Some(false))
        );
        let m = parse("type=secret,id=token,required").unwrap();
        assert!(m.required && m.target.is_none());
        assert!(parse("type=cache").unwrap().target.is_none());
        assert!(parse("type=nfs,target=/x").is_err());
        assert!(parse("type=cache,target=/x,sharing=maybe").is_err());
        assert!(parse("target=\"/a,b\"").unwrap().target.as_deref() == Some("/a,b"));
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn ram_in_bytes_as_go_units() {
        for (text, want) in [
            ("32", 32),
            ("32b", 32),
            ("32B", 32),
            ("32k", 32 * 1024),
            ("32K", 32 * 1024),
            ("32kb", 32 * 1024),
            ("32Kib", 32 * 1024),
            ("64m", 64 << 20),
            ("64MiB", 64 << 20),
            ("64 MB", 64 << 20),
            ("1g", 1 << 30),
            ("1.5g", 3 << 29),
            ("0.5k", 512),
            ("2t", 2 << 40),
            ("1p", 1 << 50),
            ("64 ", 64),
        ] {
            assert_eq!(ram_in_bytes(text), Ok(want), "{text}");
        }
        for bad in [
            "", "m", "-1", "64x", "64mb2", "64mbb", "64kB ", "1.2.3", "64ki",
        ] {
            assert!(ram_in_bytes(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_only_for_their_types() {
        assert_eq!(
            parse("type=tmpfs,target=/t,size=64m").unwrap().size,
            Some(64 << 20)
        );
        assert!(parse("type=tmpfs,target=/t,size=lots").is_err());
        assert!(parse("type=cache,target=/t,size=1k").is_err());
        assert!(parse("type=bind,target=/t,required").is_err());
        assert!(parse("type=bind,target=/t,uid=1").is_err());
        assert!(parse("type=tmpfs,target=/t,mode=755").is_err());
        assert!(parse("type=cache,target=/t,mode=9").is_err());
        assert!(parse("type=cache,target=/t,uid=x").is_err());
        assert!(parse("type=bind,target=/t,sharing=locked").is_err());
        assert!(parse("type=secret,id=a,from=x").is_err());
        assert!(parse("type=cache,target=/t,from=x,source=/c").is_ok());
        assert!(parse("type=cache,target=/t,source=/c").is_err());
        assert!(parse("type=cache,target=/t,mode=0700,uid=1000,gid=1000").is_ok());
        // Keys a type has no use for are refused, not ignored.
        assert!(parse("type=bind,target=/t,id=x").is_err());
        assert!(parse("type=cache,target=/t,env=X").is_err());
        assert!(parse("type=tmpfs,target=/t,from=x").is_err());
        assert!(parse("type=ssh,source=x").is_err());
        assert!(parse("type=cache,target=/t,ro").is_ok());
        assert!(parse("type=tmpfs,target=/t,readonly=true").is_err());
        assert!(parse("type=cache,target=/t,rw").is_ok());
        // A secret's source names it.
        let m = parse("type=secret,source=tok,target=/t").unwrap();
        assert_eq!((m.id.as_deref(), m.source), (Some("tok"), None));
        assert!(parse("type=secret,source=a,id=b").is_err());
        assert!(parse("type=secret").is_err());
        // No target: the engine puts it at the working directory.
        assert!(parse("type=bind,from=build").unwrap().target.is_none());
    }
}
