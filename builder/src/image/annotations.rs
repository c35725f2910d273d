//! Annotations an image output carries (`--annotation`, as buildx and
//! BuildKit's exporter place them): on the image index, on each platform's
//! manifest, and on the manifest descriptors inside the index; a
//! manifest-level entry may name one platform. Kept in sorted maps so the
//! written JSON, and so the digests, are the same on every run.

use std::collections::BTreeMap;

use xx::Platform;

/// Annotations by where they go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    /// On the image index.
    pub index: BTreeMap<String, String>,
    /// On every manifest (`None`) or one platform's (`Some`).
    pub manifest: Vec<(Option<Platform>, String, String)>,
    /// On the index's descriptor of every manifest or one platform's.
    pub manifest_descriptor: Vec<(Option<Platform>, String, String)>,
}

impl Annotations {
    /// True when nothing is to be annotated.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty() && self.manifest.is_empty() && self.manifest_descriptor.is_empty()
    }

    /// The entries of `list` for platform `p`: those for every platform,
    /// then those naming `p` (which win, as in BuildKit's
    /// `AnnotationsGroup.Platform`).
    pub fn for_platform(
        list: &[(Option<Platform>, String, String)],
        p: &Platform,
    ) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        for (q, k, v) in list {
            if q.is_none() {
                m.insert(k.clone(), v.clone());
            }
        }
        for (q, k, v) in list {
            if q.as_ref() == Some(p) {
                m.insert(k.clone(), v.clone());
            }
        }
        m
    }

    /// Platforms named by an entry that are not among `built`: BuildKit
    /// refuses those ("no platform … found in source").
    pub fn unknown_platforms(&self, built: &[Platform]) -> Vec<Platform> {
        let mut out: Vec<Platform> = self
            .manifest
            .iter()
            .chain(&self.manifest_descriptor)
            .filter_map(|(p, _, _)| p.clone())
            .filter(|p| !built.contains(p))
            .collect();
        out.dedup();
        out
    }
}

/// `json` (one JSON object) with `ann` added as its `annotations` (merged
/// over any it has), serialised again; unchanged when `ann` is empty.
pub fn add_to_json(
    json: String,
    ann: &BTreeMap<String, String>,
) -> Result<String, serde_json::Error> {
    if ann.is_empty() {
        return Ok(json);
    }
    let mut v: serde_json::Value = serde_json::from_str(&json)?;
    if let Some(obj) = v.as_object_mut() {
        let entry = obj
            .entry("annotations")
            .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
        if let Some(m) = entry.as_object_mut() {
            for (k, val) in ann {
                m.insert(k.clone(), serde_json::Value::String(val.clone()));
            }
        }
    }
    serde_json::to_string(&v)
}
