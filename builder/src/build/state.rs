//! The state of an image being built, after some step: its layers, the
//! snapshot directories that make up its filesystem (bottom first), its
//! runtime config and history. Serialisable, because the step cache stores
//! exactly this per cache key.

use serde::{Deserialize, Serialize};

use crate::image::config::{Healthcheck, History, RunConfig};
use crate::image::layer::Layer;
use crate::store::digest::Digest;

/// A layer as recorded in the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRec {
    /// Compressed blob digest.
    pub digest: String,
    /// Uncompressed digest.
    pub diff_id: String,
    /// Blob size.
    pub size: u64,
    /// Media type.
    pub media_type: String,
}

impl LayerRec {
    /// From a stored layer.
    pub fn of(l: &Layer) -> LayerRec {
        LayerRec {
            digest: l.digest.to_string(),
            diff_id: l.diff_id.to_string(),
            size: l.size,
            media_type: l.media_type.to_string(),
        }
    }

    /// Back to a layer (digests validated).
    pub fn layer(&self) -> Result<Layer, String> {
        Ok(Layer {
            digest: self.digest.parse()?,
            diff_id: self.diff_id.parse()?,
            size: self.size,
            media_type: match self.media_type.as_str() {
                "application/vnd.oci.image.layer.v1.tar" => {
                    "application/vnd.oci.image.layer.v1.tar"
                }
                "application/vnd.oci.image.layer.v1.tar+zstd" => {
                    "application/vnd.oci.image.layer.v1.tar+zstd"
                }
                "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
                    "application/vnd.docker.image.rootfs.diff.tar.gzip"
                }
                _ => "application/vnd.oci.image.layer.v1.tar+gzip",
            },
        })
    }

    /// The blob digest.
    pub fn blob(&self) -> Result<Digest, String> {
        self.digest.parse()
    }
}

/// Runtime config, serialisable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// ENV `K=V`.
    pub env: Vec<String>,
    /// CMD.
    pub cmd: Option<Vec<String>>,
    /// ENTRYPOINT.
    pub entrypoint: Option<Vec<String>>,
    /// WORKDIR.
    pub working_dir: Option<String>,
    /// USER.
    pub user: Option<String>,
    /// LABELs.
    pub labels: Vec<(String, String)>,
    /// EXPOSE.
    pub exposed_ports: Vec<String>,
    /// VOLUME.
    pub volumes: Vec<String>,
    /// STOPSIGNAL.
    pub stop_signal: Option<String>,
    /// HEALTHCHECK: test, [interval, timeout, start period, start interval], retries.
    pub healthcheck: Option<(Vec<String>, [u64; 4], u32)>,
    /// ONBUILD.
    pub on_build: Vec<String>,
    /// SHELL.
    pub shell: Option<Vec<String>>,
}

impl Config {
    /// As the image module's type.
    pub fn run_config(&self) -> RunConfig {
        RunConfig {
            env: self.env.clone(),
            cmd: self.cmd.clone(),
            entrypoint: self.entrypoint.clone(),
            working_dir: self.working_dir.clone(),
            user: self.user.clone(),
            labels: self.labels.clone(),
            exposed_ports: self.exposed_ports.clone(),
            volumes: self.volumes.clone(),
            stop_signal: self.stop_signal.clone(),
            healthcheck: self.healthcheck.as_ref().map(|(t, d, r)| Healthcheck {
                test: t.clone(),
                interval: d[0],
                timeout: d[1],
                start_period: d[2],
                start_interval: d[3],
                retries: *r,
            }),
            on_build: self.on_build.clone(),
            shell: self.shell.clone(),
        }
    }

    /// A variable's value from ENV.
    pub fn env_get(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
    }

    /// Sets ENV `name` (replacing, keeping position).
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

/// One history entry, serialisable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistRec {
    /// created_by.
    pub created_by: String,
    /// No layer.
    pub empty_layer: bool,
}

/// The image after a step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Layers, bottom first.
    pub layers: Vec<LayerRec>,
    /// How many of the bottom layers came from the base image: they are
    /// unpacked together into one snapshot; every later layer has its own.
    pub base_layers: usize,
    /// Runtime config.
    pub config: Config,
    /// History.
    pub history: Vec<HistRec>,
}

impl State {
    /// History for the image config.
    pub fn history(&self) -> Vec<History> {
        self.history
            .iter()
            .map(|h| History {
                created_by: h.created_by.clone(),
                empty_layer: h.empty_layer,
            })
            .collect()
    }
}
