//! The image config blob (`application/vnd.oci.image.config.v1+json`): the
//! platform, `rootfs.diff_ids`, one history entry per Dockerfile step
//! (`empty_layer` for steps that only change metadata, as docker writes
//! them) and the runtime settings a Dockerfile sets. `Healthcheck` is not in
//! the OCI spec but docker, podman and containerd all read it from the
//! config, so it is written under the key docker uses.
//!
//! [`read`] is the other direction, for configs from outside: the same
//! types, filled leniently (a field of an unexpected type reads as absent,
//! as docker does not reject such images either), except `rootfs.diff_ids`,
//! which must be a list since every layer needs one.

use oci_spec::image::{
    Arch, ConfigBuilder, HistoryBuilder, ImageConfigurationBuilder, Os, RootFsBuilder,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use xx::Platform;

use super::error::{ImageError, spec};
use crate::store::digest::Digest;
use crate::store::error::DigestError;

/// `HEALTHCHECK` (durations in nanoseconds, as docker stores them; 0 = default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Healthcheck {
    /// `["CMD", ...]`, `["CMD-SHELL", "..."]` or `["NONE"]`.
    pub test: Vec<String>,
    /// `--interval`.
    pub interval: u64,
    /// `--timeout`.
    pub timeout: u64,
    /// `--start-period`.
    pub start_period: u64,
    /// `--start-interval`.
    pub start_interval: u64,
    /// `--retries`.
    pub retries: u32,
}

/// Runtime settings of an image (the `config` part of the image config).
/// Serialisable because the builder's step cache stores it with each step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunConfig {
    /// `ENV` as `K=V`.
    pub env: Vec<String>,
    /// `CMD`.
    pub cmd: Option<Vec<String>>,
    /// `ENTRYPOINT`.
    pub entrypoint: Option<Vec<String>>,
    /// `WORKDIR`.
    pub working_dir: Option<String>,
    /// `USER`.
    pub user: Option<String>,
    /// `LABEL`s.
    pub labels: Vec<(String, String)>,
    /// `EXPOSE` (`80/tcp`).
    pub exposed_ports: Vec<String>,
    /// `VOLUME`.
    pub volumes: Vec<String>,
    /// `STOPSIGNAL`.
    pub stop_signal: Option<String>,
    /// `HEALTHCHECK`.
    pub healthcheck: Option<Healthcheck>,
    /// `ONBUILD` triggers (docker's `OnBuild`).
    pub on_build: Vec<String>,
    /// `SHELL` (docker's `Shell`), when not the default.
    pub shell: Option<Vec<String>>,
}

impl RunConfig {
    /// A variable's value from `ENV` (the last definition wins).
    pub fn env_get(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
    }

    /// Sets `ENV name=value`, replacing an existing definition in place so the
    /// order of the others stays as docker keeps it.
    pub fn env_set(&mut self, name: &str, value: &str) {
        let kv = format!("{name}={value}");
        match self
            .env
            .iter_mut()
            .find(|e| e.split_once('=').map(|(k, _)| k) == Some(name))
        {
            Some(e) => *e = kv,
            None => self.env.push(kv),
        }
    }
}

/// One history entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    /// What made it, e.g. `RUN /bin/sh -c make # buildkit`.
    pub created_by: String,
    /// True when the step added no layer.
    pub empty_layer: bool,
}

/// The config JSON for an image of `platform` with layers `diff_ids`. With
/// no `history`, each layer gets a plain `mxbuild` entry.
pub fn config_json(
    platform: &Platform,
    diff_ids: &[Digest],
    run: &RunConfig,
    history: &[History],
    created: Option<&str>,
) -> Result<String, ImageError> {
    let layered = history.iter().filter(|h| !h.empty_layer).count();
    if !history.is_empty() && layered != diff_ids.len() {
        return Err(ImageError::Spec(format!(
            "history has {layered} layer entries for {} layers",
            diff_ids.len()
        )));
    }
    let default_history: Vec<History> = diff_ids
        .iter()
        .map(|_| History {
            created_by: "mxbuild".to_string(),
            empty_layer: false,
        })
        .collect();
    let history = if history.is_empty() {
        &default_history
    } else {
        history
    };

    let mut cb = ConfigBuilder::default().env(run.env.clone());
    if let Some(c) = &run.cmd {
        cb = cb.cmd(c.clone());
    }
    if let Some(e) = &run.entrypoint {
        cb = cb.entrypoint(e.clone());
    }
    if let Some(w) = &run.working_dir {
        cb = cb.working_dir(w.clone());
    }
    if let Some(u) = &run.user {
        cb = cb.user(u.clone());
    }
    if !run.labels.is_empty() {
        cb = cb.labels(
            run.labels
                .iter()
                .cloned()
                .collect::<std::collections::HashMap<_, _>>(),
        );
    }
    if !run.exposed_ports.is_empty() {
        cb = cb.exposed_ports(run.exposed_ports.clone());
    }
    if !run.volumes.is_empty() {
        cb = cb.volumes(run.volumes.clone());
    }
    if let Some(s) = &run.stop_signal {
        cb = cb.stop_signal(s.clone());
    }
    let history = history
        .iter()
        .map(|h| {
            let mut b = HistoryBuilder::default().created_by(h.created_by.clone());
            if h.empty_layer {
                b = b.empty_layer(true);
            }
            if let Some(c) = created {
                b = b.created(c.to_string());
            }
            b.build().map_err(spec)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut ib = ImageConfigurationBuilder::default()
        .os(Os::from(platform.os.as_str()))
        .architecture(Arch::from(platform.arch.as_str()))
        .config(cb.build().map_err(spec)?)
        .rootfs(
            RootFsBuilder::default()
                .typ("layers".to_string())
                .diff_ids(diff_ids.iter().map(ToString::to_string).collect::<Vec<_>>())
                .build()
                .map_err(spec)?,
        )
        .history(history);
    if let Some(v) = &platform.variant {
        ib = ib.variant(v.clone());
    }
    if let Some(c) = created {
        ib = ib.created(c.to_string());
    }
    let text = ib.build().map_err(spec)?.to_string().map_err(spec)?;
    // Docker-only keys go in through the JSON value (serde_json's map is
    // sorted, so the output stays deterministic).
    let mut v: serde_json::Value = serde_json::from_str(&text).map_err(spec)?;
    let cfg = &mut v["config"];
    if let Some(h) = &run.healthcheck {
        let mut m = serde_json::Map::new();
        m.insert("Test".into(), serde_json::json!(h.test));
        for (k, val) in [
            ("Interval", h.interval),
            ("Timeout", h.timeout),
            ("StartPeriod", h.start_period),
            ("StartInterval", h.start_interval),
        ] {
            if val != 0 {
                m.insert(k.into(), serde_json::json!(val));
            }
        }
        if h.retries != 0 {
            m.insert("Retries".into(), serde_json::json!(h.retries));
        }
        cfg["Healthcheck"] = serde_json::Value::Object(m);
    }
    if !run.on_build.is_empty() {
        cfg["OnBuild"] = serde_json::json!(run.on_build);
    }
    if let Some(s) = &run.shell {
        cfg["Shell"] = serde_json::json!(s);
    }
    serde_json::to_string(&v).map_err(spec)
}

/// An image config as mxbuild reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageConfig {
    /// `os`/`architecture`/`variant` (`os` defaults to `linux`).
    pub platform: Platform,
    /// `rootfs.diff_ids` as written (a non-string entry reads as `""`);
    /// [`ImageConfig::diff_ids`] parses them.
    pub diff_id_texts: Vec<String>,
    /// The runtime settings (`config`).
    pub run: RunConfig,
    /// `history`, as written.
    pub history: Vec<History>,
}

impl ImageConfig {
    /// The diff_ids as digests; the error gives the 1-based position of the
    /// first one that is not a digest.
    pub fn diff_ids(&self) -> Result<Vec<Digest>, (usize, DigestError)> {
        self.diff_id_texts
            .iter()
            .enumerate()
            .map(|(i, t)| t.parse::<Digest>().map_err(|e| (i + 1, e)))
            .collect()
    }
}

/// Why a config could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not JSON.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// `rootfs.diff_ids` is there but not a list.
    #[error("rootfs.diff_ids is not a list")]
    DiffIdsNotAList,
}

/// Reads an image config (the caller bounds its size). Only malformed JSON
/// and a `rootfs.diff_ids` that is not a list are errors.
pub fn read(bytes: &[u8]) -> Result<ImageConfig, ConfigError> {
    let value: Value = serde_json::from_slice(bytes)?;
    let raw = lenient::<RawImage>(value);
    let diff_id_texts = match raw.rootfs.diff_ids {
        Value::Array(a) => a
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect(),
        Value::Null => Vec::new(),
        _ => return Err(ConfigError::DiffIdsNotAList),
    };
    Ok(ImageConfig {
        platform: Platform::new(
            raw.os.as_deref().unwrap_or("linux"),
            raw.architecture.as_deref().unwrap_or(""),
            raw.variant.as_deref(),
        ),
        diff_id_texts,
        run: raw.config.into_run(),
        history: raw
            .history
            .into_iter()
            .map(|h| History {
                created_by: h.created_by.unwrap_or_default(),
                empty_layer: h.empty_layer.unwrap_or(false),
            })
            .collect(),
    })
}

/// `T` from `v` when `v` is an object, else `T::default()`: with every field
/// of `T` lenient itself, reading never fails.
fn lenient<T: for<'de> Deserialize<'de> + Default>(v: Value) -> T {
    if v.is_object() {
        T::deserialize(v).unwrap_or_default()
    } else {
        T::default()
    }
}

/// A field that reads as `None`/empty when it has an unexpected type.
fn loose<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: for<'a> Deserialize<'a> + Default,
{
    let v = Value::deserialize(d)?;
    Ok(T::deserialize(v).unwrap_or_default())
}

/// A list of strings whose non-string entries are skipped (`None` when not a list).
fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Ok(Value::deserialize(d)?.as_array().map(|a| {
        a.iter()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    }))
}

/// The keys of an object (`ExposedPorts`, `Volumes`), empty when not an object.
fn keys<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Value::deserialize(d)?
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default())
}

/// Labels; a non-string value reads as `""`.
fn labels<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
    Ok(Value::deserialize(d)?
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default())
}

/// A nested object read leniently (see [`lenient`]).
fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: for<'a> Deserialize<'a> + Default,
{
    Ok(lenient(Value::deserialize(d)?))
}

/// A list of objects, each read leniently; empty when not a list.
fn objects<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: for<'a> Deserialize<'a> + Default,
{
    Ok(match Value::deserialize(d)? {
        Value::Array(a) => a.into_iter().map(lenient).collect(),
        _ => Vec::new(),
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawImage {
    #[serde(deserialize_with = "loose")]
    os: Option<String>,
    #[serde(deserialize_with = "loose")]
    architecture: Option<String>,
    #[serde(deserialize_with = "loose")]
    variant: Option<String>,
    #[serde(deserialize_with = "object")]
    rootfs: RawRootfs,
    #[serde(deserialize_with = "object")]
    config: RawRun,
    #[serde(deserialize_with = "objects")]
    history: Vec<RawHistory>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawRootfs {
    diff_ids: Value,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawHistory {
    #[serde(deserialize_with = "loose")]
    created_by: Option<String>,
    #[serde(deserialize_with = "loose")]
    empty_layer: Option<bool>,
}

/// Docker's `config` keys.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct RawRun {
    #[serde(deserialize_with = "strings")]
    env: Option<Vec<String>>,
    #[serde(deserialize_with = "strings")]
    cmd: Option<Vec<String>>,
    #[serde(deserialize_with = "strings")]
    entrypoint: Option<Vec<String>>,
    #[serde(deserialize_with = "loose")]
    working_dir: Option<String>,
    #[serde(deserialize_with = "loose")]
    user: Option<String>,
    #[serde(deserialize_with = "labels")]
    labels: Vec<(String, String)>,
    #[serde(deserialize_with = "keys")]
    exposed_ports: Vec<String>,
    #[serde(deserialize_with = "keys")]
    volumes: Vec<String>,
    #[serde(deserialize_with = "loose")]
    stop_signal: Option<String>,
    #[serde(deserialize_with = "object")]
    healthcheck: RawHealthcheck,
    #[serde(deserialize_with = "strings")]
    on_build: Option<Vec<String>>,
    #[serde(deserialize_with = "strings")]
    shell: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "PascalCase")]
struct RawHealthcheck {
    #[serde(deserialize_with = "strings")]
    test: Option<Vec<String>>,
    #[serde(deserialize_with = "loose")]
    interval: Option<u64>,
    #[serde(deserialize_with = "loose")]
    timeout: Option<u64>,
    #[serde(deserialize_with = "loose")]
    start_period: Option<u64>,
    #[serde(deserialize_with = "loose")]
    start_interval: Option<u64>,
    #[serde(deserialize_with = "loose")]
    retries: Option<u64>,
}

impl RawRun {
    fn into_run(self) -> RunConfig {
        let h = self.healthcheck;
        RunConfig {
            env: self.env.unwrap_or_default(),
            cmd: self.cmd,
            entrypoint: self.entrypoint,
            working_dir: self.working_dir.filter(|s| !s.is_empty()),
            user: self.user.filter(|s| !s.is_empty()),
            labels: self.labels,
            exposed_ports: self.exposed_ports,
            volumes: self.volumes,
            stop_signal: self.stop_signal,
            healthcheck: h.test.map(|test| Healthcheck {
                test,
                interval: h.interval.unwrap_or(0),
                timeout: h.timeout.unwrap_or(0),
                start_period: h.start_period.unwrap_or(0),
                start_interval: h.start_interval.unwrap_or(0),
                retries: h.retries.unwrap_or(0) as u32,
            }),
            on_build: self.on_build.unwrap_or_default(),
            shell: self.shell,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_lands_where_docker_reads_it() {
        let run = RunConfig {
            env: vec!["A=1".into()],
            cmd: Some(vec!["run".into()]),
            entrypoint: Some(vec!["/e".into()]),
            working_dir: Some("/w".into()),
            user: Some("1000:1000".into()),
            labels: vec![("l".into(), "v".into())],
            exposed_ports: vec!["80/tcp".into()],
            volumes: vec!["/data".into()],
            stop_signal: Some("SIGINT".into()),
            healthcheck: Some(Healthcheck {
                test: vec!["CMD-SHELL".into(), "true".into()],
                interval: 5_000_000_000,
                retries: 3,
                ..Default::default()
            }),
            on_build: vec!["RUN echo hi".into()],
            shell: Some(vec!["/bin/bash".into(), "-c".into()]),
        };
        let d = Digest::of(b"layer");
        let history = [
            History {
                created_by: "ENV A=1".into(),
                empty_layer: true,
            },
            History {
                created_by: "RUN x".into(),
                empty_layer: false,
            },
        ];
        let p = Platform::new("linux", "arm", Some("v7"));
        let text = config_json(
            &p,
            std::slice::from_ref(&d),
            &run,
            &history,
            Some("2000-01-01T00:00:00Z"),
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["architecture"], "arm");
        assert_eq!(v["variant"], "v7");
        let c = &v["config"];
        assert_eq!(c["Env"][0], "A=1");
        assert_eq!(c["Cmd"][0], "run");
        assert_eq!(c["Entrypoint"][0], "/e");
        assert_eq!(c["WorkingDir"], "/w");
        assert_eq!(c["User"], "1000:1000");
        assert_eq!(c["Labels"]["l"], "v");
        assert!(c["ExposedPorts"]["80/tcp"].is_object());
        assert!(c["Volumes"]["/data"].is_object());
        assert_eq!(c["StopSignal"], "SIGINT");
        assert_eq!(c["Healthcheck"]["Test"][1], "true");
        assert_eq!(c["Healthcheck"]["Interval"], 5_000_000_000u64);
        assert_eq!(c["Healthcheck"]["Retries"], 3);
        assert_eq!(c["OnBuild"][0], "RUN echo hi");
        assert_eq!(c["Shell"][0], "/bin/bash");
        assert_eq!(v["history"][0]["empty_layer"], true);
        assert_eq!(v["history"][1]["created_by"], "RUN x");
        assert_eq!(v["rootfs"]["diff_ids"][0], d.to_string());
        // Same input, same bytes.
        assert_eq!(
            text,
            config_json(
                &p,
                std::slice::from_ref(&d),
                &run,
                &history,
                Some("2000-01-01T00:00:00Z")
            )
            .unwrap()
        );
        // History must match the layers.
        assert!(config_json(&p, &[], &run, &history, None).is_err());
    }

    #[test]
    fn read_gives_back_what_was_written_and_tolerates_odd_types() {
        let run = RunConfig {
            env: vec!["A=1".into()],
            cmd: Some(vec!["run".into()]),
            labels: vec![("l".into(), "v".into())],
            exposed_ports: vec!["80/tcp".into()],
            healthcheck: Some(Healthcheck {
                test: vec!["NONE".into()],
                retries: 2,
                ..Default::default()
            }),
            shell: Some(vec!["/bin/sh".into()]),
            ..Default::default()
        };
        let d = Digest::of(b"layer");
        let p = Platform::new("linux", "arm64", None);
        let text = config_json(&p, std::slice::from_ref(&d), &run, &[], None).unwrap();
        let back = read(text.as_bytes()).unwrap();
        assert_eq!(back.run, run);
        assert_eq!(back.platform, p);
        assert_eq!(back.diff_ids().unwrap(), vec![d]);
        assert_eq!(back.history[0].created_by, "mxbuild");
        // Odd types read as absent; only diff_ids must have its shape.
        let odd = r#"{"architecture":5,"config":{"Env":"x","Cmd":[1,"a"],"User":7,"Labels":{"k":1}},
            "history":[3,{"created_by":"x","empty_layer":"yes"}],"rootfs":{"diff_ids":[1]}}"#;
        let c = read(odd.as_bytes()).unwrap();
        assert_eq!(c.platform, Platform::new("linux", "", None));
        assert_eq!(c.run.env, Vec::<String>::new());
        assert_eq!(c.run.cmd, Some(vec!["a".to_string()]));
        assert_eq!(c.run.user, None);
        assert_eq!(c.run.labels, vec![("k".to_string(), String::new())]);
        assert_eq!(c.history.len(), 2);
        assert!(!c.history[1].empty_layer);
        assert_eq!(c.diff_ids().unwrap_err().0, 1);
        assert!(read(b"[]").unwrap().diff_id_texts.is_empty());
        assert!(read(br#"{"rootfs":{"diff_ids":{}}}"#).is_err());
        assert!(read(b"nope").is_err());
    }
}
