//! `--cache-to type=inline`: the cache inside the image, as BuildKit's
//! inline cache. Each platform's image config carries, under
//! [`CONFIG_KEY`], the records of its final stage's steps (BuildKit's
//! inline cache is `mode=min` too); the image's own layers are their blobs,
//! so nothing else is pushed. Records name the image's blobs (matched by
//! diff_id: a build layer may have had no blob until the image was
//! written, or have one in another compression), and only records whose
//! layers are all in the image are written, so every record read back can
//! be complete. `--cache-from
//! type=registry,ref=IMAGE` reads them back ([`super::registry`]). The
//! format is mxbuild's: BuildKit's `moby.buildkit.cache.v0` is neither
//! written nor read.

use std::collections::HashSet;

use super::super::state::{LayerRec, State};
use crate::image::layer::Layer;
use crate::store::digest::Digest;
use crate::store::steps::StepCache;

/// The top-level config field holding `{"records": {KEY: State}}`.
pub const CONFIG_KEY: &str = "io.mxbuild.cache.v1";

/// The records of `keys` whose layers are all among `image_layers`, each
/// layer naming the image's blob of it, as the value of [`CONFIG_KEY`];
/// `None` when there are none.
pub fn records_for(
    cache: &StepCache,
    keys: &[String],
    image_layers: &[Layer],
) -> Result<Option<(serde_json::Value, usize)>, String> {
    let mut records = serde_json::Map::new();
    for k in keys {
        let Some(mut st) = cache.get::<State>(k) else {
            continue;
        };
        let inside: Option<Vec<LayerRec>> = st
            .layers
            .iter()
            .map(|l| {
                image_layers
                    .iter()
                    .find(|il| il.diff_id.to_string() == l.diff_id)
                    .map(LayerRec::of)
            })
            .collect();
        if let Some(layers) = inside {
            st.layers = layers;
            records.insert(
                k.clone(),
                serde_json::to_value(&st).map_err(|e| e.to_string())?,
            );
        }
    }
    let n = records.len();
    Ok((n > 0).then(|| (serde_json::json!({ "records": records }), n)))
}

/// The records of an image config's inline cache, if it has one.
pub fn records_in(config: &serde_json::Value) -> Option<&serde_json::Value> {
    config.get(CONFIG_KEY).map(|c| &c["records"])
}

/// The blobs `records` name (entries that do not parse name none).
pub fn layers_used(records: &serde_json::Value) -> HashSet<Digest> {
    records
        .as_object()
        .into_iter()
        .flat_map(|m| m.values())
        .filter_map(|v| serde_json::from_value::<State>(v.clone()).ok())
        .flat_map(|st| st.layers.into_iter().filter_map(|l| l.blob().ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_used_skips_what_does_not_parse() {
        let d = Digest::of(b"layer");
        let rec = |digest: String| LayerRec {
            digest: Some(digest),
            diff_id: Digest::of(b"x").to_string(),
            size: 5,
            media_type: "x".into(),
            epoch: None,
        };
        let state = |digest: String| {
            serde_json::to_value(State {
                layers: vec![rec(digest)],
                ..State::default()
            })
            .unwrap()
        };
        let records = serde_json::json!({
            "k1": state(d.to_string()),
            "k2": {"layers": "not a list"},
            "k3": state("sha256:nothex".into()),
        });
        assert_eq!(layers_used(&records), HashSet::from([d]));
        assert!(records_in(&serde_json::json!({"architecture": "amd64"})).is_none());
    }
}
