//! Property test of the front end: random Dockerfiles (assembled from
//! fragments that hit directives, continuations, heredocs, JSON, flags,
//! quoting and variables), random words and random ignore files must never
//! make the parser, planner, expander or ignore matcher panic.
//!
//! Runs for `MXBUILD_FUZZ_SECONDS` (default 3) so the normal suite stays
//! quick; run it long with
//! `MXBUILD_FUZZ_SECONDS=600 cargo test --release -p mxbuild --test integration fuzz_frontend -- --nocapture`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mxbuild::dockerfile::{self, expand, ignore::IgnoreMatcher};
use mxbuild::plan::{self, Options};
use xx::Platform;

/// xorshift64*: deterministic per seed, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KEYWORDS: &[&str] = &[
    "FROM",
    "from",
    "RUN",
    "COPY",
    "ADD",
    "ENV",
    "ARG",
    "LABEL",
    "CMD",
    "ENTRYPOINT",
    "SHELL",
    "WORKDIR",
    "USER",
    "EXPOSE",
    "VOLUME",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "ONBUILD",
    "MAINTAINER",
    "FORM",
    "",
];
const PIECES: &[&str] = &[
    " ",
    "  ",
    "\t",
    "a",
    "b=c",
    "$A",
    "${A}",
    "${A:-x}",
    "${A:+y}",
    "${A?err}",
    "${A#*/}",
    "${A%%.*}",
    "${A/a/b}",
    "${",
    "}",
    "\"",
    "'",
    "\\",
    "`",
    "\\\n",
    "\n",
    "[",
    "]",
    "[\"a\", \"b\"]",
    "--from=build",
    "--platform=$BUILDPLATFORM",
    "--mount=type=cache,target=/x",
    "--chmod=755",
    "--",
    "<<EOF",
    "<<-'END'",
    "EOF",
    "END",
    "AS",
    "build",
    "scratch",
    "debian:bookworm",
    "TARGETARCH",
    "ARG TARGETPLATFORM",
    "#",
    "# escape=`",
    "# syntax=x",
    "=",
    "/",
    "*",
    "**",
    "!",
    "한국어",
    "\u{0}",
    "\r",
];

fn random_dockerfile(r: &mut Rng) -> String {
    let mut s = String::new();
    if r.below(4) == 0 {
        s.push_str(r.pick(&[
            "# escape=`\n",
            "# syntax=docker/dockerfile:1\n",
            "# check=skip=all\n",
        ]));
    }
    if r.below(2) == 0 {
        s.push_str("ARG BASE=debian:bookworm\nFROM --platform=$BUILDPLATFORM ${BASE} AS build\n");
    }
    for _ in 0..r.below(12) {
        s.push_str(r.pick(KEYWORDS));
        for _ in 0..r.below(8) {
            s.push_str(r.pick(PIECES));
        }
        s.push('\n');
    }
    s
}

fn random_word(r: &mut Rng) -> String {
    (0..r.below(10)).map(|_| r.pick(PIECES)).collect()
}

#[test]
fn front_end_never_panics() {
    let seconds: u64 = std::env::var("MXBUILD_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let seed = std::env::var("MXBUILD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_u64);
    let mut r = Rng(seed | 1);
    let opts = Options {
        platforms: Platform::parse_list("linux/amd64,linux/arm64").unwrap(),
        host: "linux/amd64".parse().unwrap(),
        target: None,
        build_args: BTreeMap::from([("BASE".to_string(), "alpine".to_string())]),
        context: None,
        named_contexts: BTreeMap::new(),
        network: mxbuild::exec::Network::Sandbox,
        // Everything granted: the fuzzer looks for panics, not refusals.
        allow: mxbuild::plan::entitlements::Entitlements {
            network_host: true,
            security_insecure: true,
        },
        run_extras: Default::default(),
        qemu_cpus: Default::default(),
        dockerignore: None,
    };
    let env = |k: &str| match k {
        "A" => Some("a/b.c".to_string()),
        "E" => Some(String::new()),
        _ => None,
    };
    let (mut parsed, mut planned, mut total) = (0u64, 0u64, 0u64);
    while Instant::now() < deadline {
        for _ in 0..200 {
            total += 1;
            let text = random_dockerfile(&mut r);
            let result = std::panic::catch_unwind(|| {
                let mut outcome = (false, false);
                if let Ok(df) = dockerfile::parse(&text, "Dockerfile") {
                    outcome.0 = true;
                    outcome.1 = plan::plan(&df, &opts).is_ok();
                }
                outcome
            });
            match result {
                Ok((p, q)) => {
                    parsed += u64::from(p);
                    planned += u64::from(q);
                }
                Err(_) => panic!("front end panicked on this Dockerfile:\n{text:?}"),
            }
            let word = random_word(&mut r);
            for escape in ['\\', '`'] {
                let w = word.clone();
                if std::panic::catch_unwind(|| {
                    (
                        expand::expand_word(&w, &env, escape).is_ok(),
                        expand::expand_words(&w, &env, escape).is_ok(),
                    )
                })
                .is_err()
                {
                    panic!("expansion panicked on {word:?} (escape {escape:?})");
                }
            }
            let ignore_text = random_word(&mut r).replace(' ', "\n");
            let path = random_word(&mut r);
            if std::panic::catch_unwind(|| {
                IgnoreMatcher::parse(&ignore_text)
                    .map(|m| (m.is_excluded(&path), m.can_skip_dir(&path)))
            })
            .is_err()
            {
                panic!("ignore matcher panicked on {ignore_text:?} / {path:?}");
            }
        }
    }
    eprintln!(
        "fuzz: {total} Dockerfiles ({parsed} parsed, {planned} planned), {total} words, {total} ignore files in {seconds}s, no panic"
    );
    assert!(total > 0);
}
