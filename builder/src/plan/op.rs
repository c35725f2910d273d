//! What a planned step does, fully resolved for its instance: words
//! expanded in the instance's scope, the RUN environment and shell fixed,
//! shell-form CMD/ENTRYPOINT wrapped in the shell, and every `--from` turned
//! into a pointer (another instance, an image, a named context). The
//! executor works from these and never re-reads the Dockerfile, so what runs
//! is exactly what was keyed.

use crate::dockerfile::lines::Heredoc;
use crate::dockerfile::mount::Mount;

/// Where content comes from for `COPY --from`, `RUN --mount=from=` and a
/// stage's base.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Another instance of the plan (index into `Plan::instances`).
    Instance(usize),
    /// An image reference (local store first, then registry), for a platform.
    Image {
        /// The reference as written after expansion.
        reference: String,
        /// The platform to take from it.
        platform: String,
    },
    /// A named build context: its source string (`oci-layout://…`, `docker-image://…`, a dir).
    Context(String),
    /// The main build context.
    MainContext,
    /// `FROM scratch`.
    Scratch,
}

/// A `RUN --mount` with its `from` resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMount {
    /// The mount as written (words expanded).
    pub mount: Mount,
    /// Where `from=` points (bind/cache); `None` = the main context for binds.
    pub from: Option<Source>,
}

/// A step, ready to execute.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Op {
    /// Only changes variables seen by later steps (ARG).
    #[default]
    Nothing,
    /// `RUN`.
    Run {
        /// The argv to execute (shell form already wrapped in SHELL).
        argv: Vec<String>,
        /// Environment from the Dockerfile (declared ARGs with values, ENV).
        env: Vec<(String, String)>,
        /// Mounts.
        mounts: Vec<RunMount>,
        /// The network it gets (its `--network` and the build's, combined).
        network: crate::exec::Network,
        /// Its privileges (`--security`).
        security: crate::exec::Security,
        /// Here-documents: for `RUN <<EOF` the body is the script.
        heredocs: Vec<Heredoc>,
    },
    /// `COPY`/`ADD`.
    Copy {
        /// ADD (local archives are extracted).
        add: bool,
        /// Sources (expanded); heredoc sources by delimiter name.
        sources: Vec<String>,
        /// Destination (expanded).
        dest: String,
        /// Where sources are read.
        from: Source,
        /// `--chown` (expanded).
        chown: Option<String>,
        /// `--chmod` (expanded).
        chmod: Option<String>,
        /// ADD `--checksum` (expanded): the `sha256:…` a URL's content must have.
        checksum: Option<String>,
        /// `--link`.
        link: bool,
        /// `--exclude` patterns (expanded).
        exclude: Vec<String>,
        /// `--parents`: sources keep their path (from the context root or
        /// a `/./` pivot) under the destination.
        parents: bool,
        /// ADD `--unpack` (`None`: local archives unpack, URLs do not).
        unpack: Option<bool>,
        /// ADD `--keep-git-dir`: a git source keeps its `.git` directory.
        keep_git_dir: bool,
        /// Here-documents used as sources.
        heredocs: Vec<Heredoc>,
    },
    /// `ENV` (expanded pairs).
    Env(Vec<(String, String)>),
    /// `LABEL` (expanded pairs).
    Label(Vec<(String, String)>),
    /// `WORKDIR` (expanded; relative to the previous one).
    Workdir(String),
    /// `USER` (expanded).
    User(String),
    /// `EXPOSE` (expanded ports).
    Expose(Vec<String>),
    /// `VOLUME` (expanded).
    Volume(Vec<String>),
    /// `STOPSIGNAL`.
    StopSignal(String),
    /// `SHELL`.
    Shell(Vec<String>),
    /// `CMD` argv (shell form wrapped).
    Cmd(Vec<String>),
    /// `ENTRYPOINT` argv (shell form wrapped).
    Entrypoint(Vec<String>),
    /// `HEALTHCHECK`: test argv (`NONE` when disabled), durations in ns, retries.
    Healthcheck {
        /// `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]`.
        test: Vec<String>,
        /// interval, timeout, start period, start interval (ns; 0 = default).
        durations: [u64; 4],
        /// retries (0 = default).
        retries: u32,
    },
    /// `ONBUILD` trigger text.
    Onbuild(String),
    /// `MAINTAINER` (becomes the `maintainer` label, as BuildKit does).
    Maintainer(String),
}
