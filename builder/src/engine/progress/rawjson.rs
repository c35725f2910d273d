//! `--progress rawjson`: one JSON object per line on stderr, in the shape
//! of BuildKit's `SolveStatus` (client/graph.go), so tools that read
//! `docker buildx build --progress rawjson` read ours:
//! - a step starting: `{"vertexes":[{"digest":KEY,"name":"[label] RUN …","started":T}]}`;
//! - its output: `{"logs":[{"vertex":KEY,"stream":1,"data":BASE64,"timestamp":T}]}`;
//! - its end: the vertex again with `"completed":T` (and `"cached":true`
//!   for a step taken from an earlier build, `"error"` for a failure).
//!
//! The digest is the step's cache key. mxbuild adds
//! `"mxbuild":{"platform":"linux/arm64","emulated":BOOL}`
//! to each vertex (unknown fields are ignored by BuildKit's readers), and
//! notes (pulls, downloads, the result) are logs without a vertex, on
//! stream 2. Times are RFC 3339 with nanoseconds, UTC.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde_json::{Value, json};

use super::{Sink, StepInfo};

/// NDJSON into a writer.
pub struct RawJson {
    out: Mutex<Box<dyn Write + Send>>,
    /// When each running step started (its vertex is sent again, whole).
    started: Mutex<BTreeMap<String, String>>,
}

impl std::fmt::Debug for RawJson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawJson").finish_non_exhaustive()
    }
}

impl RawJson {
    /// Events into `out`.
    pub fn new(out: Box<dyn Write + Send>) -> RawJson {
        RawJson {
            out: Mutex::new(out),
            started: Mutex::new(BTreeMap::new()),
        }
    }

    fn emit(&self, v: Value) {
        if let Ok(mut o) = self.out.lock() {
            let _ = writeln!(o, "{v}");
        }
    }

    fn vertex(&self, step: &StepInfo<'_>, started: &str, end: Option<(&str, &str)>) -> Value {
        let mut v = json!({
            "digest": step.id,
            "name": format!("{} {}", step.label, step.text),
            "started": started,
            "mxbuild": {"platform": step.platform, "emulated": step.emulated},
        });
        if let Some((field, value)) = end {
            v["completed"] = json!(now());
            if field == "cached" {
                v["cached"] = json!(true);
            } else if field == "error" {
                v["error"] = json!(value);
            }
        }
        json!({ "vertexes": [v] })
    }

    fn started_at(&self, id: &str) -> String {
        self.started
            .lock()
            .ok()
            .and_then(|mut m| m.remove(id))
            .unwrap_or_else(now)
    }
}

/// Now as RFC 3339 with nanoseconds.
fn now() -> String {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = crate::image::time::rfc3339(d.as_secs() as i64);
    format!("{}.{:09}Z", secs.trim_end_matches('Z'), d.subsec_nanos())
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s.as_bytes())
}

impl Sink for RawJson {
    fn line(&self, s: &str) {
        self.emit(
            json!({"logs": [{"stream": 2, "data": b64(&format!("{s}\n")), "timestamp": now()}]}),
        );
    }

    fn start(&self, step: &StepInfo<'_>) {
        let t = now();
        if let Ok(mut m) = self.started.lock() {
            m.insert(step.id.to_string(), t.clone());
        }
        self.emit(self.vertex(step, &t, None));
    }

    fn output(&self, step: &StepInfo<'_>, line: &str) {
        self.emit(json!({"logs": [{
            "vertex": step.id,
            "stream": 1,
            "data": b64(&format!("{line}\n")),
            "timestamp": now(),
        }]}));
    }

    fn done(&self, step: &StepInfo<'_>, _took: Duration) {
        let started = self.started_at(step.id);
        self.emit(self.vertex(step, &started, Some(("completed", ""))));
    }

    fn cached(&self, step: &StepInfo<'_>) {
        let t = now();
        self.emit(self.vertex(step, &t, Some(("cached", ""))));
    }

    fn failed(&self, step: &StepInfo<'_>, _took: Duration) {
        let started = self.started_at(step.id);
        self.emit(self.vertex(step, &started, Some(("error", "the step failed"))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer tests can read back.
    #[derive(Clone, Default)]
    pub struct Buf(pub std::sync::Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn events_have_buildkits_shape() {
        let buf = Buf::default();
        let sink = RawJson::new(Box::new(buf.clone()));
        let step = StepInfo {
            id: "sha256:k",
            label: "[build amd64 2/2]",
            text: "RUN make",
            platform: "linux/amd64",
            emulated: false,
        };
        sink.start(&step);
        sink.output(&step, "compiling");
        sink.done(&step, Duration::from_secs(1));
        sink.cached(&StepInfo {
            id: "sha256:c",
            ..step
        });
        sink.line("pulled debian");
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let events: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(events.len(), 5);
        let v = &events[0]["vertexes"][0];
        assert_eq!(v["digest"], "sha256:k");
        assert_eq!(v["name"], "[build amd64 2/2] RUN make");
        assert!(v["started"].as_str().unwrap().ends_with('Z'));
        assert!(v.get("completed").is_none());
        assert_eq!(v["mxbuild"]["platform"], "linux/amd64");
        let log = &events[1]["logs"][0];
        assert_eq!(log["vertex"], "sha256:k");
        assert_eq!(log["data"], b64("compiling\n"));
        let done = &events[2]["vertexes"][0];
        assert_eq!(done["started"], v["started"]);
        assert!(done["completed"].as_str().unwrap() >= v["started"].as_str().unwrap());
        assert_eq!(events[3]["vertexes"][0]["cached"], true);
        assert!(events[4]["logs"][0].get("vertex").is_none());
    }
}
