//! What `mxbuild build --add-host`, `--ulimit` and `--shm-size` give every
//! RUN step, as BuildKit puts them into each RUN's ExecOp: extra
//! `/etc/hosts` lines, process rlimits, and the size of `/dev/shm`. They are
//! part of every RUN's cache key (see `plan::dispatch::run`), as they are
//! part of BuildKit's op definition.

use std::net::IpAddr;

/// Extras every RUN step of a build gets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunExtras {
    /// `--add-host`: (host name, address) lines appended to `/etc/hosts`.
    pub hosts: Vec<(String, IpAddr)>,
    /// `--ulimit`: rlimits of the step's processes (others are inherited).
    pub ulimits: Vec<Ulimit>,
    /// `--shm-size` in bytes: a `/dev/shm` tmpfs of that size; 0 keeps the
    /// runtime's default (64 MiB).
    pub shm_size: u64,
}

/// One `--ulimit NAME=SOFT[:HARD]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ulimit {
    /// Lower-case name as docker spells it (`nofile`, `nproc`, …).
    pub name: String,
    /// Soft limit; -1 is unlimited.
    pub soft: i64,
    /// Hard limit; -1 is unlimited.
    pub hard: i64,
}

/// The names docker's `--ulimit` knows (go-units `ulimitNameMapping`).
pub const ULIMIT_NAMES: &[&str] = &[
    "core",
    "cpu",
    "data",
    "fsize",
    "locks",
    "memlock",
    "msgqueue",
    "nice",
    "nofile",
    "nproc",
    "rss",
    "rtprio",
    "rttime",
    "sigpending",
    "stack",
];

impl RunExtras {
    /// True when no flag asked for anything (keys stay as without them).
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty() && self.ulimits.is_empty() && self.shm_size == 0
    }

    /// Canonical text of each part for cache keys: (field name, value).
    pub fn key_fields(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (h, ip) in &self.hosts {
            out.push(("add-host", format!("{h}={ip}")));
        }
        for u in &self.ulimits {
            out.push(("ulimit", format!("{}={}:{}", u.name, u.soft, u.hard)));
        }
        if self.shm_size > 0 {
            out.push(("shm-size", self.shm_size.to_string()));
        }
        out
    }
}

/// `--add-host HOST:IP` or `HOST=IP` (buildx accepts both; an IPv6
/// address may be in brackets). As BuildKit, the name is lower-cased and
/// the address must be an IP (`host-gateway` needs docker's daemon).
pub fn parse_host(s: &str) -> Result<(String, IpAddr), String> {
    let (host, ip) = s
        .split_once('=')
        .or_else(|| s.split_once(':'))
        .ok_or_else(|| format!("--add-host {s:?}: expected HOST:IP"))?;
    let ip_text = ip.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err(format!(
            "--add-host {s:?}: the host name is empty or has spaces"
        ));
    }
    if ip_text == "host-gateway" {
        return Err(format!(
            "--add-host {s:?}: host-gateway is resolved by docker's daemon, which mxbuild does not use\nhint: give the host's address, e.g. --add-host {host}:192.168.1.10"
        ));
    }
    let ip: IpAddr = ip_text
        .parse()
        .map_err(|_| format!("--add-host {s:?}: {ip_text:?} is not an IP address"))?;
    Ok((host.to_lowercase(), ip))
}

/// `--ulimit NAME=SOFT[:HARD]` as go-units `ParseUlimit`: a known name,
/// integer limits (-1 unlimited), soft not above hard.
pub fn parse_ulimit(s: &str) -> Result<Ulimit, String> {
    let (name, vals) = s.split_once('=').ok_or_else(|| {
        format!("--ulimit {s:?}: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048")
    })?;
    if !ULIMIT_NAMES.contains(&name) {
        return Err(format!(
            "--ulimit {s:?}: unknown limit {name:?}\nhint: one of {}",
            ULIMIT_NAMES.join(", ")
        ));
    }
    let num = |v: &str| {
        v.parse::<i64>()
            .map_err(|_| format!("--ulimit {s:?}: {v:?} is not a number"))
    };
    let (soft, hard) = match vals.split_once(':') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let v = num(vals)?;
            (v, v)
        }
    };
    let unlimited = |v: i64| if v < 0 { u64::MAX } else { v as u64 };
    if unlimited(soft) > unlimited(hard) {
        return Err(format!(
            "--ulimit {s:?}: the soft limit must be less than or equal to the hard limit"
        ));
    }
    Ok(Ulimit {
        name: name.to_string(),
        soft,
        hard,
    })
}

/// The OCI rlimit type of a docker ulimit name (`nofile` → `RLIMIT_NOFILE`).
pub fn rlimit_type(name: &str) -> String {
    format!("RLIMIT_{}", name.to_uppercase())
}

/// A limit as the OCI spec takes it (-1, unlimited, is RLIM_INFINITY).
pub fn rlimit_value(v: i64) -> u64 {
    if v < 0 { u64::MAX } else { v as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_take_both_separators_and_lower_case_names() {
        let (h, ip) = parse_host("Db.Local:10.0.0.5").unwrap();
        assert_eq!(
            (h.as_str(), ip.to_string().as_str()),
            ("db.local", "10.0.0.5")
        );
        assert_eq!(parse_host("v6=[::1]").unwrap().1.to_string(), "::1");
        assert_eq!(parse_host("v6:::1").unwrap().1.to_string(), "::1");
        assert!(parse_host("nohost").is_err());
        assert!(parse_host("h:notanip").unwrap_err().contains("not an IP"));
        assert!(
            parse_host("h:host-gateway")
                .unwrap_err()
                .contains("host-gateway")
        );
    }

    #[test]
    fn ulimits_as_go_units() {
        assert_eq!(
            parse_ulimit("nofile=1024:2048").unwrap(),
            Ulimit {
                name: "nofile".into(),
                soft: 1024,
                hard: 2048
            }
        );
        assert_eq!(parse_ulimit("nproc=50").unwrap().hard, 50);
        assert_eq!(parse_ulimit("core=-1").unwrap().soft, -1);
        assert!(
            parse_ulimit("nofile=10:5")
                .unwrap_err()
                .contains("soft limit")
        );
        assert!(
            parse_ulimit("bogus=1")
                .unwrap_err()
                .contains("unknown limit")
        );
        assert!(parse_ulimit("nofile").is_err());
        assert!(parse_ulimit("nofile=x").is_err());
        assert_eq!(rlimit_type("nofile"), "RLIMIT_NOFILE");
        assert_eq!(rlimit_value(-1), u64::MAX);
    }

    #[test]
    fn key_fields_only_for_what_was_asked() {
        assert!(RunExtras::default().key_fields().is_empty());
        let e = RunExtras {
            hosts: vec![("a".into(), "1.2.3.4".parse().unwrap())],
            ulimits: vec![parse_ulimit("nofile=1:2").unwrap()],
            shm_size: 1 << 20,
        };
        let f = e.key_fields();
        assert_eq!(f.len(), 3);
        assert_eq!(f[0], ("add-host", "a=1.2.3.4".to_string()));
    }
}
