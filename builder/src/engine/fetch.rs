//! Downloads for `ADD <http(s) URL>`, before the final plan: each URL is
//! fetched once per build into the blob store (checked against `--checksum`
//! when given), and its digest and `Last-Modified` time go into the step's
//! cache key, so a changed file on the server re-runs the step, as in
//! BuildKit. The COPY step then writes the blob into the layer.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use futures_util::StreamExt;

use super::downloads;
use crate::image::time::parse_http_date;
use crate::plan::url::{self, SourceKind};
use crate::plan::{Op, Plan, UrlInfo};
use crate::store::Store;
use crate::store::blobs::BlobError;
use crate::store::digest::Digest;

/// One URL a plan's ADD steps download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The URL, as written after expansion.
    pub url: String,
    /// `--checksum` values it must match, with the `file:line` of each ADD.
    pub checks: Vec<(Option<String>, String)>,
}

/// The URLs `plan`'s ADD steps download (each once), `file` naming the Dockerfile.
pub fn wanted(plan: &Plan, file: &str) -> Vec<Wanted> {
    let mut by_url: BTreeMap<String, Wanted> = BTreeMap::new();
    for inst in &plan.instances {
        for step in &inst.steps {
            let Op::Copy {
                add: true,
                sources,
                checksum,
                ..
            } = &step.op
            else {
                continue;
            };
            for s in sources {
                if url::kind(s, true) != SourceKind::Http {
                    continue;
                }
                let w = by_url.entry(s.clone()).or_insert_with(|| Wanted {
                    url: s.clone(),
                    checks: Vec::new(),
                });
                let check = (checksum.clone(), format!("{file}:{}", step.line));
                if !w.checks.contains(&check) {
                    w.checks.push(check);
                }
            }
        }
    }
    by_url.into_values().collect()
}

/// Downloads every wanted URL into the store.
pub fn fetch(
    store: &Store,
    wanted: &[Wanted],
    progress: &mut dyn FnMut(&str),
) -> Result<BTreeMap<String, UrlInfo>, String> {
    let mut out = BTreeMap::new();
    if wanted.is_empty() {
        return Ok(out);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the downloader: {e}"))?;
    // A dead or stalled server fails the build instead of hanging it.
    let client = reqwest::Client::builder()
        .user_agent(concat!("mxbuild/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(120))
        .build()
        .map_err(|e| format!("cannot set up an HTTP client: {e}"))?;
    for w in wanted {
        let at = w.checks.first().map_or("", |(_, at)| at.as_str());
        // The planner checked the format; parsed again, as a Digest.
        let mut expected = Vec::new();
        for (sum, at) in &w.checks {
            if let Some(sum) = sum {
                let d: Digest = sum.parse().map_err(|e| {
                    format!(
                        "{at}: ADD --checksum={sum}: {e}\nhint: give the file's digest as sha256:<64 hex digits> (sha256sum prints the hex part)"
                    )
                })?;
                expected.push((d, at.clone()));
            }
        }
        let shown = url::redact(&w.url);
        let known = downloads::load(store, &w.url);
        // The content is fixed by --checksum and already stored: no request.
        if let (Some(k), Some((d, _))) = (&known, expected.first()) {
            if k.digest == d.to_string() && expected.iter().all(|(e, _)| e == d) {
                progress(&format!(
                    "{shown}: stored by an earlier build (checksum matches)"
                ));
                out.insert(
                    w.url.clone(),
                    UrlInfo {
                        digest: k.digest.clone(),
                        mtime: k.mtime,
                    },
                );
                continue;
            }
        }
        progress(&if known.is_some() {
            format!("checking {shown} (downloaded by an earlier build)")
        } else {
            format!("downloading {shown}")
        });
        let mismatch = |at: &str, d: &Digest, got: &str| {
            format!(
                "{at}: ADD {shown}: checksum mismatch: --checksum={d} but the download is {got}\nhint: the file on the server changed, or the checksum is wrong"
            )
        };
        // With a checksum, a wrong download is never stored.
        let first = expected.first().map(|(d, _)| d);
        let info = rt
            .block_on(download(&client, store, &w.url, at, first, known.as_ref()))
            .map_err(|e| match (e, expected.first()) {
                (Failure::Mismatch(got), Some((d, at))) => mismatch(at, d, &got),
                (Failure::Mismatch(got), None) => got,
                (Failure::Other(e), _) => e,
            })?;
        for (d, at) in &expected {
            if d.to_string() != info.record.digest {
                return Err(mismatch(at, d, &info.record.digest));
            }
        }
        if info.not_modified {
            progress(&format!("{shown}: not modified since the last build"));
        }
        // Only an optimisation: a record that cannot be written costs a download next time.
        let _ = downloads::save(store, &info.record);
        out.insert(
            w.url.clone(),
            UrlInfo {
                digest: info.record.digest.clone(),
                mtime: info.record.mtime,
            },
        );
    }
    Ok(out)
}

/// Why a download failed.
enum Failure {
    /// The content hashes to this, not to the `--checksum`.
    Mismatch(String),
    /// Anything else, as a finished message.
    Other(String),
}

/// A finished download (or a confirmed earlier one).
struct Fetched {
    /// What to remember for the next build.
    record: downloads::Record,
    /// True when the server answered 304 for the earlier download.
    not_modified: bool,
}

async fn download(
    client: &reqwest::Client,
    store: &Store,
    url: &str,
    at: &str,
    expected: Option<&Digest>,
    known: Option<&downloads::Record>,
) -> Result<Fetched, Failure> {
    let shown = url::redact(url);
    let failed = |e: &dyn std::fmt::Display| {
        Failure::Other(format!(
            "{at}: ADD {shown}: {}",
            url::redact(&e.to_string())
        ))
    };
    let mut req = client.get(url);
    if let Some(k) = known {
        if let Some(etag) = &k.etag {
            req = req.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &k.last_modified {
            req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
        }
    }
    let resp = req.send().await.map_err(|e| {
        Failure::Other(format!(
            "{at}: ADD {shown}: {}\nhint: check the URL and that this machine reaches it (HTTPS_PROXY/HTTP_PROXY are honoured)",
            url::redact(&causes(&e))
        ))
    })?;
    let status = resp.status();
    if let (reqwest::StatusCode::NOT_MODIFIED, Some(k)) = (status, known) {
        return Ok(Fetched {
            record: k.clone(),
            not_modified: true,
        });
    }
    if !status.is_success() {
        return Err(Failure::Other(format!(
            "{at}: ADD {shown}: the server answered {status}\nhint: check the URL"
        )));
    }
    let header = |name: reqwest::header::HeaderName| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let etag = header(reqwest::header::ETAG);
    let last_modified = header(reqwest::header::LAST_MODIFIED);
    let mtime = last_modified.as_deref().and_then(parse_http_date);
    let mut writer = store.blobs.writer().map_err(|e| failed(&e))?;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| failed(&format!("download interrupted: {}", causes(&e))))?;
        writer.write_all(&chunk).map_err(|e| failed(&e))?;
    }
    let (digest, _) = writer.commit(expected).map_err(|e| match e {
        BlobError::Corrupt { actual, .. } => Failure::Mismatch(actual.to_string()),
        e => failed(&e),
    })?;
    Ok(Fetched {
        record: downloads::Record {
            url: url.to_string(),
            digest: digest.to_string(),
            mtime,
            etag,
            last_modified,
        },
        not_modified: false,
    })
}

/// An error with its causes: reqwest's own message ("error sending request")
/// says nothing of why (refused, DNS, TLS).
fn causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}
