//! `USER name[:group]` resolved the way runc/docker do it, inside the
//! image's own `/etc/passwd` and `/etc/group` (never the host's): numeric ids
//! pass through, a user's primary group comes from passwd, supplementary
//! groups from group membership.

use std::path::Path;

/// Resolved ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ids {
    /// uid.
    pub uid: u32,
    /// gid.
    pub gid: u32,
    /// Supplementary groups.
    pub additional: Vec<u32>,
    /// Home directory (for HOME), if known.
    pub home: Option<String>,
}

fn read(root: &Path, file: &str) -> String {
    // Read through the root without following a symlink out of it: these
    // are plain files in every image; anything else counts as absent.
    let p = root.join(file);
    match std::fs::symlink_metadata(&p) {
        Ok(m) if m.is_file() => std::fs::read_to_string(p).unwrap_or_default(),
        _ => String::new(),
    }
}

/// Resolves `spec` (`user`, `uid`, `user:group`, `uid:gid`) in `root`.
pub fn resolve(root: &Path, spec: &str) -> Result<Ids, String> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let passwd = read(root, "etc/passwd");
    let groups = read(root, "etc/group");
    let entry = passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 4 && (f[0] == user || (user.parse::<u32>().is_ok() && f[2] == user)));
    let (uid, mut gid, name, home) = match (user.parse::<u32>(), &entry) {
        (Ok(n), Some(f)) => (
            n,
            f[3].parse().unwrap_or(0),
            Some(f[0].to_string()),
            f.get(5).map(|s| s.to_string()),
        ),
        (Ok(n), None) => (n, 0, None, None),
        (Err(_), Some(f)) => (
            f[2].parse()
                .map_err(|_| format!("bad uid for {user} in /etc/passwd"))?,
            f[3].parse().unwrap_or(0),
            Some(f[0].to_string()),
            f.get(5).map(|s| s.to_string()),
        ),
        (Err(_), None) => {
            return Err(format!(
                "unable to find user {user}: no matching entries in the image's /etc/passwd"
            ));
        }
    };
    if let Some(g) = group {
        gid = match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => groups
                .lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() >= 3 && f[0] == g)
                .and_then(|f| f[2].parse().ok())
                .ok_or_else(|| {
                    format!(
                        "unable to find group {g}: no matching entries in the image's /etc/group"
                    )
                })?,
        };
    }
    let mut additional = Vec::new();
    if group.is_none() {
        if let Some(name) = &name {
            for f in groups.lines().map(|l| l.split(':').collect::<Vec<_>>()) {
                if f.len() >= 4 && f[3].split(',').any(|m| m == name) {
                    if let Ok(g) = f[2].parse::<u32>() {
                        if g != gid && !additional.contains(&g) {
                            additional.push(g);
                        }
                    }
                }
            }
        }
    }
    Ok(Ids {
        uid,
        gid,
        additional,
        home,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ids_and_groups() {
        let root = std::env::temp_dir().join(format!("mx-users-{}", std::process::id()));
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(
            root.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(
            root.join("etc/group"),
            "root:x:0:\napp:x:1000:\nvideo:x:44:app,other\n",
        )
        .unwrap();
        let r = resolve(&root, "app").unwrap();
        assert_eq!((r.uid, r.gid, r.additional.clone()), (1000, 1000, vec![44]));
        assert_eq!(r.home.as_deref(), Some("/home/app"));
        assert_eq!(resolve(&root, "app:video").unwrap().gid, 44);
        assert_eq!(resolve(&root, "1234").unwrap().uid, 1234);
        assert_eq!(resolve(&root, "1234:5").unwrap().gid, 5);
        assert!(
            resolve(&root, "nobody")
                .unwrap_err()
                .contains("/etc/passwd")
        );
        assert!(resolve(&root, "app:nogroup").is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
