//! `COPY` and `ADD`: sources and flags expanded, remote sources checked (an
//! `ADD` URL's content and a git source's commit go into the key once
//! fetched, see `keys::assign`), and where the files come from: a `--from` (stage, image, named
//! context) or the main context, whose content the key holds.

use super::super::keys::{Field, Piece};
use super::super::planner::{At, Parts, Planner};
use super::super::scope::Scope;
use super::super::url::{self, SourceKind};
use super::super::{Op, PlanError, Source, build_checks, heredoc};
use crate::dockerfile::Span;
use crate::dockerfile::instruction::{Instruction, Located};

/// The flags of a COPY/ADD after expansion.
#[derive(Default)]
struct Flags {
    chown: Option<String>,
    chmod: Option<String>,
    checksum: Option<String>,
    exclude: Vec<String>,
    /// As shown in the step's text, in order.
    shown: Vec<String>,
}

const CHECKSUM_HINT: &str =
    "give the file's digest as sha256:<64 hex digits> (sha256sum prints the hex part)";

impl Planner<'_> {
    /// `COPY`/`ADD [--from=…] [flags] SRC… DEST`.
    pub(super) fn copy(
        &mut self,
        located: &Located,
        scope: &Scope,
        at: &mut At,
    ) -> Result<Parts, PlanError> {
        let Instruction::Copy {
            add,
            sources,
            dest,
            from,
            link,
            parents,
            keep_git_dir,
            unpack,
            ..
        } = &located.instruction
        else {
            return Ok(Parts::as_written(located, Op::Nothing));
        };
        let span = located.span;
        let mut parts = Parts::default();
        let mut srcs = Vec::new();
        for s in sources {
            srcs.push(self.expand_used(scope, s, span, &mut parts.used)?);
        }
        let kw = if *add { "ADD" } else { "COPY" };
        self.check_remote(&srcs, *add, span)?;
        self.remote_fields(&srcs, *add, &mut parts);
        let mut flags = self.copy_flags(located, scope, &srcs, &mut parts)?;
        let dest = self.expand_used(scope, dest, span, &mut parts.used)?;
        if *link {
            flags.shown.push("--link".to_string());
        }
        if *parents {
            flags.shown.push("--parents".to_string());
        }
        if *keep_git_dir {
            flags.shown.push("--keep-git-dir".to_string());
            parts.fields.push(Field::text("keep-git-dir", "true"));
        }
        if let Some(u) = unpack {
            flags.shown.push(format!("--unpack={u}"));
        }
        for e in &flags.exclude {
            flags.shown.push(format!("--exclude={e}"));
        }
        let copy_from = match from {
            Some(f) => {
                let f = self.expand_used(scope, f, span, &mut parts.used)?;
                flags.shown.insert(0, format!("--from={f}"));
                let (k, src) = self.source_of(&f, "COPY --from=", span, at)?;
                parts.fields.push(Field {
                    name: "from".to_string(),
                    value: k,
                });
                src
            }
            None => {
                self.context_fields(located, &srcs, *add, &mut parts);
                Source::MainContext
            }
        };
        // What the copy does with owners, modes, hard links and parents
        // changed with BuildKit parity; results of earlier rules must not be
        // reused.
        parts.fields.push(Field::text("copy-rules", "2"));
        let escape = self.df.directives.escape;
        let shown = if flags.shown.is_empty() {
            String::new()
        } else {
            format!("{} ", flags.shown.join(" "))
        };
        parts.text = format!("{kw} {shown}{} {dest}", srcs.join(" "));
        parts.op = Op::Copy {
            add: *add,
            sources: srcs,
            dest,
            from: copy_from,
            chown: flags.chown,
            chmod: flags.chmod,
            checksum: flags.checksum,
            link: *link,
            exclude: flags.exclude,
            parents: *parents,
            unpack: *unpack,
            keep_git_dir: *keep_git_dir,
            heredocs: located
                .heredocs
                .iter()
                .map(|h| {
                    let mut h = h.clone();
                    if h.expand {
                        h.content = heredoc::expand(scope, &h.content, escape);
                    }
                    h
                })
                .collect(),
        };
        Ok(parts)
    }

    /// Refuses git sources that are not safe to fetch and URLs in a COPY.
    fn check_remote(&self, srcs: &[String], add: bool, span: Span) -> Result<(), PlanError> {
        for s in srcs {
            match url::kind(s, add) {
                SourceKind::Path => {}
                SourceKind::Git => url::check_git(s).map_err(|e| {
                    self.err(
                        span,
                        format!("ADD {}: {e}", url::redact(s)),
                        "use REMOTE#BRANCH_OR_TAG:SUBDIR",
                    )
                })?,
                SourceKind::Http if !add => {
                    return Err(self.err(
                        span,
                        format!("COPY cannot download a URL ({})", url::redact(s)),
                        "use ADD for files from http(s) URLs",
                    ));
                }
                SourceKind::Http => {}
            }
        }
        Ok(())
    }

    /// `--chown`, `--chmod`, `--checksum` and `--exclude` expanded; a
    /// checksum must be a sha256 digest and go with exactly one URL.
    fn copy_flags(
        &self,
        located: &Located,
        scope: &Scope,
        srcs: &[String],
        parts: &mut Parts,
    ) -> Result<Flags, PlanError> {
        let Instruction::Copy {
            add,
            chown,
            chmod,
            exclude,
            checksum,
            ..
        } = &located.instruction
        else {
            return Ok(Flags::default());
        };
        let span = located.span;
        let mut flags = Flags::default();
        if let Some(sum) = checksum {
            let sum = self.expand_used(scope, sum, span, &mut parts.used)?;
            let urls = srcs
                .iter()
                .filter(|s| url::kind(s, *add) == SourceKind::Http)
                .count();
            if urls == 0 || srcs.len() != 1 {
                return Err(self.err(
                    span,
                    "ADD --checksum needs exactly one source, an http(s) URL",
                    CHECKSUM_HINT,
                ));
            }
            let hex = sum.strip_prefix("sha256:").unwrap_or("");
            if hex.len() != 64
                || !hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(self.err(
                    span,
                    format!("ADD --checksum={sum} is not a sha256 digest"),
                    CHECKSUM_HINT,
                ));
            }
        }
        for (name, v) in [("chown", chown), ("chmod", chmod), ("checksum", checksum)] {
            let Some(v) = v else { continue };
            let v = self.expand_used(scope, v, span, &mut parts.used)?;
            flags.shown.push(format!("--{name}={v}"));
            match name {
                "chown" => flags.chown = Some(v),
                "chmod" => {
                    crate::fsutil::Mode::parse(&v).map_err(|e| {
                        self.err(
                            span,
                            e,
                            "use an octal mode (0755) or chmod's symbolic form (u+x, go=rX)",
                        )
                    })?;
                    flags.chmod = Some(v);
                }
                _ => flags.checksum = Some(v),
            }
        }
        for e in exclude {
            flags
                .exclude
                .push(self.expand_used(scope, e, span, &mut parts.used)?);
        }
        Ok(flags)
    }

    /// The key fields of git sources (their commit) and URLs (their
    /// content), filled in by `keys::assign` once they are fetched.
    fn remote_fields(&self, srcs: &[String], add: bool, parts: &mut Parts) {
        for s in srcs {
            let (name, piece) = match url::kind(s, add) {
                SourceKind::Path => continue,
                SourceKind::Git => ("git", Piece::Git(s.clone())),
                SourceKind::Http => ("url", Piece::Url(s.clone())),
            };
            parts.fields.push(Field {
                name: name.to_string(),
                value: vec![Piece::Text(format!("{s} ")), piece],
            });
        }
    }

    /// The key fields of a COPY from the main context: the content of its
    /// context sources, and its here-documents.
    fn context_fields(&self, located: &Located, srcs: &[String], add: bool, parts: &mut Parts) {
        let heredoc_names: Vec<&str> = located.heredocs.iter().map(|h| h.name.as_str()).collect();
        let ctx_srcs: Vec<String> = srcs
            .iter()
            .filter(|s| {
                !s.starts_with("<<")
                    && !heredoc_names.iter().any(|n| s.contains(n))
                    && url::kind(s, add) == SourceKind::Path
            })
            .cloned()
            .collect();
        if let Some(m) = &self.opts.dockerignore {
            let found = build_checks::copy_ignored::check(m, &ctx_srcs, add, located.span);
            self.findings.borrow_mut().extend(found);
        }
        parts.fields.push(Field {
            name: "context".to_string(),
            value: vec![Piece::Context(ctx_srcs)],
        });
        for h in &located.heredocs {
            parts
                .fields
                .push(Field::text("heredoc", format!("{}:{}", h.name, h.content)));
        }
    }
}
