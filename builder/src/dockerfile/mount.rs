//! `RUN --mount=...` specs: `type=cache,target=/root/.cache,sharing=locked`.
//! Comma-separated `key=value` fields (values may be quoted); keys and
//! defaults as in BuildKit's Dockerfile reference.

/// A mount for one RUN step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// `bind` (default), `cache`, `tmpfs`, `secret` or `ssh`.
    pub kind: MountKind,
    /// Where it appears in the container (`target`/`dst`/`destination`).
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
    /// tmpfs size in bytes (`size`).
    pub size: Option<String>,
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
    for field in split_fields(spec)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.to_string())),
            None => (field.trim().to_ascii_lowercase(), None),
        };
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
            "size" => m.size = Some(need(value)?),
            "env" => m.env = Some(need(value)?),
            other => return Err(format!("unknown --mount option {other:?}")),
        }
    }
    if m.target.is_none() && !matches!(m.kind, MountKind::Secret | MountKind::Ssh) {
        return Err("--mount needs target=<path>".to_string());
    }
    Ok(m)
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
        assert!(parse("type=cache").is_err());
        assert!(parse("type=nfs,target=/x").is_err());
        assert!(parse("type=cache,target=/x,sharing=maybe").is_err());
        assert!(parse("target=\"/a,b\"").unwrap().target.as_deref() == Some("/a,b"));
    }
}
