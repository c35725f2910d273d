//! Typed instructions: each [`Node`] checked and turned into what it means
//! (`FROM` image/name/platform, `COPY` sources/destination/flags, `RUN` command
//! and mounts, ...). Values are still unexpanded text: the planner expands
//! them per platform. Unknown or malformed flags are errors here, with the
//! instruction's position.

use super::error::{SourceError, Span};
use super::lines::Heredoc;
use super::mount::{self, Mount};
use super::node::Node;

/// A command in shell form (`RUN make`) or exec form (`RUN ["make"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run through the stage's SHELL.
    Shell(String),
    /// Run directly.
    Exec(Vec<String>),
}

/// One instruction, with the flags it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Instruction {
    /// `FROM [--platform=P] image [AS name]`.
    From {
        /// Image reference, stage name or `scratch` (unexpanded).
        image: String,
        /// `AS name`, lower-cased (stage names are case-insensitive).
        name: Option<String>,
        /// `--platform` value (unexpanded).
        platform: Option<String>,
    },
    /// `ARG name[=default] ...`.
    Arg(Vec<(String, Option<String>)>),
    /// `ENV k=v ...` (values unexpanded, still quoted).
    Env(Vec<(String, String)>),
    /// `LABEL k=v ...`.
    Label(Vec<(String, String)>),
    /// `RUN`.
    Run {
        /// The command.
        command: Command,
        /// `--mount` specs.
        mounts: Vec<Mount>,
        /// `--network=default|none|host`.
        network: Option<String>,
        /// `--security=insecure|sandbox`.
        security: Option<String>,
    },
    /// `COPY` or `ADD`.
    Copy {
        /// True for ADD (URLs and local tar extraction).
        add: bool,
        /// Sources (unexpanded); heredoc sources are named by their delimiter.
        sources: Vec<String>,
        /// Destination (unexpanded).
        dest: String,
        /// `--from=stage|image|context`.
        from: Option<String>,
        /// `--chown=user[:group]`.
        chown: Option<String>,
        /// `--chmod=mode`.
        chmod: Option<String>,
        /// `--link`.
        link: bool,
        /// `--parents`.
        parents: bool,
        /// `--exclude=pattern` (repeatable).
        exclude: Vec<String>,
        /// ADD `--checksum=sha256:...`.
        checksum: Option<String>,
        /// ADD `--keep-git-dir`.
        keep_git_dir: bool,
        /// ADD `--unpack=true|false` (`None`: not given; local archives
        /// are unpacked, URLs are not).
        unpack: Option<bool>,
    },
    /// `CMD`.
    Cmd(Command),
    /// `ENTRYPOINT`.
    Entrypoint(Command),
    /// `SHELL ["sh", "-c"]`.
    Shell(Vec<String>),
    /// `WORKDIR`.
    Workdir(String),
    /// `USER`.
    User(String),
    /// `EXPOSE port[/proto] ...`.
    Expose(Vec<String>),
    /// `VOLUME`.
    Volume(Vec<String>),
    /// `STOPSIGNAL`.
    StopSignal(String),
    /// `HEALTHCHECK` (`None` = HEALTHCHECK NONE).
    Healthcheck(Option<Health>),
    /// `ONBUILD <instruction>` (kept as text: it runs in a later build).
    Onbuild(String),
    /// `MAINTAINER` (deprecated; becomes a label).
    Maintainer(String),
}

/// HEALTHCHECK CMD and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The check command.
    pub command: Command,
    /// `--interval`, `--timeout`, `--start-period`, `--start-interval` as written.
    pub durations: Vec<(String, String)>,
    /// `--retries`.
    pub retries: Option<u32>,
}

/// An instruction with its position and the node it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// What it means.
    pub instruction: Instruction,
    /// Where it starts.
    pub span: Span,
    /// Here-documents attached to it.
    pub heredocs: Vec<Heredoc>,
    /// The instruction as written (for plans and messages).
    pub original: String,
}

/// Converts every node; the first problem is returned with its position.
pub fn from_nodes(nodes: &[Node], file: &str, text: &str) -> Result<Vec<Located>, SourceError> {
    nodes
        .iter()
        .map(|n| {
            convert(n)
                .map(|instruction| Located {
                    instruction,
                    span: n.span,
                    heredocs: n.heredocs.clone(),
                    original: n.original.clone(),
                })
                .map_err(|(msg, hint)| {
                    let e = SourceError::new(file, n.span, msg).with_line(text);
                    match hint {
                        Some(h) => e.hint(h),
                        None => e,
                    }
                })
        })
        .collect()
}

type Problem = (String, Option<String>);

/// Every flag each instruction takes (lower-case keyword, flag names
/// without `--`): the one list the parser checks flags against, and the
/// list the README's compatibility table is tested against. Instructions
/// not named here take no flags. As BuildKit's `instructions/parse.go`
/// (and `commands_run*.go` for RUN), except `RUN --device`, which is not
/// implemented and so refused as an unknown flag.
pub const INSTRUCTION_FLAGS: &[(&str, &[&str])] = &[
    ("from", &["platform"]),
    ("run", &["mount", "network", "security"]),
    (
        "copy",
        &["from", "chown", "chmod", "link", "parents", "exclude"],
    ),
    (
        "add",
        &[
            "chown",
            "chmod",
            "link",
            "exclude",
            "checksum",
            "keep-git-dir",
            "unpack",
        ],
    ),
    (
        "healthcheck",
        &[
            "interval",
            "timeout",
            "start-period",
            "start-interval",
            "retries",
        ],
    ),
];

/// The flags `keyword` (lower-case) takes; none for most instructions.
pub fn flags_of(keyword: &str) -> &'static [&'static str] {
    INSTRUCTION_FLAGS
        .iter()
        .find(|(k, _)| *k == keyword)
        .map_or(&[], |(_, f)| *f)
}

/// Flags of one instruction: `--name=value` or `--name` (boolean).
struct Flags<'a> {
    keyword: &'a str,
    items: Vec<(String, Option<String>)>,
}

impl<'a> Flags<'a> {
    /// Reads the node's flags, refusing any not in [`flags_of`] its keyword.
    fn new(node: &'a Node) -> Result<Flags<'a>, Problem> {
        let keyword = node.keyword.as_str();
        let allowed = flags_of(keyword);
        let mut items = Vec::new();
        for raw in &node.flags {
            let body = raw.trim_start_matches("--");
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (body.to_string(), None),
            };
            if !allowed.contains(&name.as_str()) {
                let list = if let Some(h) = known_elsewhere(keyword, &name) {
                    h.to_string()
                } else if allowed.is_empty() {
                    "it takes no flags".to_string()
                } else {
                    format!("it takes --{}", allowed.join(", --"))
                };
                return Err((
                    format!(
                        "unknown flag for {}: --{name}",
                        keyword.to_ascii_uppercase()
                    ),
                    Some(list),
                ));
            }
            items.push((name, value));
        }
        Ok(Flags { keyword, items })
    }

    /// The value of a `--name=value` flag given at most once.
    fn value(&self, name: &str) -> Result<Option<String>, Problem> {
        let found: Vec<&(String, Option<String>)> =
            self.items.iter().filter(|(n, _)| n == name).collect();
        match found.as_slice() {
            [] => Ok(None),
            [(_, Some(v))] => Ok(Some(v.clone())),
            [(_, None)] => Err((
                format!(
                    "{} --{name} needs a value",
                    self.keyword.to_ascii_uppercase()
                ),
                Some(format!("write --{name}=VALUE")),
            )),
            _ => Err((format!("--{name} is given more than once"), None)),
        }
    }

    /// Every value of a repeatable flag.
    fn values(&self, name: &str) -> Vec<String> {
        self.items
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.clone())
            .collect()
    }

    /// A boolean flag (`--link`, `--link=true`, `--link=false`).
    fn bool(&self, name: &str) -> Result<bool, Problem> {
        Ok(self.opt_bool(name)?.unwrap_or(false))
    }

    /// A boolean flag that may be absent (`None`), bare (`true`) or given.
    fn opt_bool(&self, name: &str) -> Result<Option<bool>, Problem> {
        match self.items.iter().rev().find(|(n, _)| n == name) {
            None => Ok(None),
            Some((_, None)) => Ok(Some(true)),
            Some((_, Some(v))) => match v.as_str() {
                "true" => Ok(Some(true)),
                "false" => Ok(Some(false)),
                other => Err((format!("--{name} takes true or false, not {other:?}"), None)),
            },
        }
    }
}

/// A hint for flags BuildKit has (or has elsewhere) that mxbuild refuses.
fn known_elsewhere(keyword: &str, flag: &str) -> Option<&'static str> {
    match (keyword, flag) {
        ("add", "parents") => Some("BuildKit's ADD has no --parents: use COPY --parents"),
        ("add", "from") => Some("ADD has no --from: use COPY --from"),
        ("run", "device") => {
            Some("RUN --device is not supported (no devices are given to RUN steps)")
        }
        _ => None,
    }
}

fn command(node: &Node) -> Command {
    if node.json {
        Command::Exec(node.args.clone())
    } else {
        Command::Shell(node.args.first().cloned().unwrap_or_default())
    }
}

fn need_args(node: &Node, min: usize, example: &str) -> Result<(), Problem> {
    if node.args.len() < min {
        return Err((
            format!(
                "{} needs {}",
                node.keyword.to_ascii_uppercase(),
                if min == 1 {
                    "an argument".to_string()
                } else {
                    format!("at least {min} arguments")
                }
            ),
            Some(format!("e.g. {example}")),
        ));
    }
    Ok(())
}

fn pairs(args: &[String]) -> Vec<(String, String)> {
    args.chunks(3)
        .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_default()))
        .collect()
}

fn convert(node: &Node) -> Result<Instruction, Problem> {
    Ok(match node.keyword.as_str() {
        "from" => from(node)?,
        "arg" => {
            Flags::new(node)?;
            need_args(node, 1, "ARG VERSION=1.0")?;
            Instruction::Arg(
                node.args
                    .iter()
                    .map(|a| match a.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (a.clone(), None),
                    })
                    .collect(),
            )
        }
        "env" => {
            Flags::new(node)?;
            Instruction::Env(pairs(&node.args))
        }
        "label" => {
            Flags::new(node)?;
            Instruction::Label(pairs(&node.args))
        }
        "run" => run(node)?,
        "copy" | "add" => copy(node)?,
        "cmd" => {
            Flags::new(node)?;
            Instruction::Cmd(command(node))
        }
        "entrypoint" => {
            Flags::new(node)?;
            Instruction::Entrypoint(command(node))
        }
        "shell" => {
            Flags::new(node)?;
            if !node.json || node.args.is_empty() {
                return Err((
                    "SHELL requires the JSON form".to_string(),
                    Some("e.g. SHELL [\"/bin/bash\", \"-c\"]".to_string()),
                ));
            }
            Instruction::Shell(node.args.clone())
        }
        "workdir" => {
            Flags::new(node)?;
            need_args(node, 1, "WORKDIR /app")?;
            Instruction::Workdir(node.args[0].clone())
        }
        "user" => {
            Flags::new(node)?;
            need_args(node, 1, "USER app")?;
            Instruction::User(node.args[0].clone())
        }
        "expose" => {
            Flags::new(node)?;
            need_args(node, 1, "EXPOSE 8080/tcp")?;
            Instruction::Expose(node.args.clone())
        }
        "volume" => {
            Flags::new(node)?;
            need_args(node, 1, "VOLUME /data")?;
            Instruction::Volume(node.args.clone())
        }
        "stopsignal" => {
            Flags::new(node)?;
            need_args(node, 1, "STOPSIGNAL SIGTERM")?;
            Instruction::StopSignal(node.args[0].clone())
        }
        "maintainer" => {
            Flags::new(node)?;
            need_args(node, 1, "LABEL org.opencontainers.image.authors=\"me\"")?;
            Instruction::Maintainer(node.args[0].clone())
        }
        "onbuild" => {
            Flags::new(node)?;
            let text = node.original.trim_start();
            let rest = text.get(7..).unwrap_or("").trim_start();
            Instruction::Onbuild(rest.to_string())
        }
        "healthcheck" => healthcheck(node)?,
        other => return Err((format!("unknown instruction: {other}"), None)),
    })
}

/// `FROM [--platform=P] IMAGE [AS NAME]`: the stage name is checked here, lower-cased.
fn from(node: &Node) -> Result<Instruction, Problem> {
    let flags = Flags::new(node)?;
    let (image, name) = match node.args.as_slice() {
        [image] => (image.clone(), None),
        [image, as_kw, name] if as_kw.eq_ignore_ascii_case("as") => {
            (image.clone(), Some(name.to_ascii_lowercase()))
        }
        _ => {
            return Err((
                "FROM takes an image and an optional AS name".to_string(),
                Some("FROM [--platform=<platform>] <image> [AS <name>]".to_string()),
            ));
        }
    };
    if let Some(n) = &name {
        let ok = n.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if !ok {
            return Err((
                format!("invalid stage name {n:?}"),
                Some("stage names start with a letter and use letters, digits, _ - .".to_string()),
            ));
        }
    }
    Ok(Instruction::From {
        image,
        name,
        platform: flags.value("platform")?,
    })
}

/// `RUN`: its mounts, network and security flags are checked here, so a bad one points at its line.
fn run(node: &Node) -> Result<Instruction, Problem> {
    let flags = Flags::new(node)?;
    if node.args.is_empty() && node.heredocs.is_empty() {
        return Err((
            "RUN needs a command".to_string(),
            Some("e.g. RUN make".to_string()),
        ));
    }
    let mounts = flags
        .values("mount")
        .iter()
        .map(|m| mount::parse(m))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            (
                e,
                Some("e.g. --mount=type=cache,target=/root/.cache".to_string()),
            )
        })?;
    let network = flags.value("network")?;
    if let Some(n) = &network {
        if !matches!(n.as_str(), "default" | "none" | "host") {
            return Err((
                format!("RUN --network={n} is not supported"),
                Some("use default, none or host (host needs --allow network.host)".to_string()),
            ));
        }
    }
    let security = flags.value("security")?;
    if let Some(v) = &security {
        if !matches!(v.as_str(), "sandbox" | "insecure") {
            return Err((
                format!("RUN --security={v} is not valid"),
                Some(
                    "use sandbox (the default) or insecure (runs privileged; needs --allow security.insecure)"
                        .to_string(),
                ),
            ));
        }
    }
    Ok(Instruction::Run {
        command: command(node),
        mounts,
        network,
        security,
    })
}

/// `COPY`/`ADD`: each takes its own flags (only ADD has --checksum, --keep-git-dir and --unpack, only COPY --from and --parents).
fn copy(node: &Node) -> Result<Instruction, Problem> {
    let add = node.keyword == "add";
    let flags = Flags::new(node)?;
    let mut paths = node.args.clone();
    let dest = if paths.len() >= 2 || (paths.len() == 1 && !node.heredocs.is_empty()) {
        paths.pop().unwrap_or_default()
    } else {
        let kw = node.keyword.to_ascii_uppercase();
        return Err((
            format!("{kw} needs at least one source and a destination"),
            Some(format!("e.g. {kw} src/ /app/")),
        ));
    };
    Ok(Instruction::Copy {
        add,
        sources: paths,
        dest,
        from: if add { None } else { flags.value("from")? },
        chown: flags.value("chown")?,
        chmod: flags.value("chmod")?,
        link: flags.bool("link")?,
        parents: if add { false } else { flags.bool("parents")? },
        exclude: flags.values("exclude"),
        checksum: if add { flags.value("checksum")? } else { None },
        keep_git_dir: if add {
            flags.bool("keep-git-dir")?
        } else {
            false
        },
        unpack: if add { flags.opt_bool("unpack")? } else { None },
    })
}

fn healthcheck(node: &Node) -> Result<Instruction, Problem> {
    let flags = Flags::new(node)?;
    match node.args.first().map(String::as_str) {
        Some("NONE") => {
            if !node.flags.is_empty() {
                return Err(("HEALTHCHECK NONE takes no options".to_string(), None));
            }
            Ok(Instruction::Healthcheck(None))
        }
        Some("CMD") if node.args.len() >= 2 => {
            let rest = &node.args[1..];
            let command = if node.json {
                Command::Exec(rest.to_vec())
            } else {
                Command::Shell(rest[0].clone())
            };
            let mut durations = Vec::new();
            for d in ["interval", "timeout", "start-period", "start-interval"] {
                if let Some(v) = flags.value(d)? {
                    durations.push((d.to_string(), v));
                }
            }
            let retries =
                match flags.value("retries")? {
                    Some(r) => Some(r.parse::<u32>().map_err(|_| {
                        (format!("--retries must be a whole number, not {r:?}"), None)
                    })?),
                    None => None,
                };
            Ok(Instruction::Healthcheck(Some(Health {
                command,
                durations,
                retries,
            })))
        }
        _ => Err((
            "HEALTHCHECK needs CMD <command> or NONE".to_string(),
            Some("e.g. HEALTHCHECK --interval=30s CMD curl -f http://localhost/".to_string()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dockerfile::parse;

    fn one(src: &str) -> Result<Instruction, String> {
        let df =
            parse(&format!("FROM scratch\n{src}\n"), "Dockerfile").map_err(|e| e.to_string())?;
        from_nodes(&df.nodes, "Dockerfile", &df.text)
            .map(|mut v| v.remove(1).instruction)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn copy_and_run() {
        match one("COPY --from=build --chmod=755 --link a b /dst/").unwrap() {
            Instruction::Copy {
                sources,
                dest,
                from,
                chmod,
                link,
                ..
            } => {
                assert_eq!(
                    (
                        sources,
                        dest.as_str(),
                        from.as_deref(),
                        chmod.as_deref(),
                        link
                    ),
                    (
                        vec!["a".to_string(), "b".to_string()],
                        "/dst/",
                        Some("build"),
                        Some("755"),
                        true
                    )
                );
            }
            other => panic!("{other:?}"),
        }
        match one("RUN --mount=type=cache,target=/root/.cache --network=none make").unwrap() {
            Instruction::Run {
                command,
                mounts,
                network,
                ..
            } => {
                assert_eq!(command, Command::Shell("make".into()));
                assert_eq!(mounts.len(), 1);
                assert_eq!(network.as_deref(), Some("none"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_flags_are_positioned_errors() {
        let e = one("COPY --frm=x a b").unwrap_err();
        assert!(
            e.starts_with("Dockerfile:2:1: unknown flag for COPY: --frm"),
            "{e}"
        );
        assert!(e.contains("hint: it takes --from"), "{e}");
        assert!(
            one("ADD --from=x a b")
                .unwrap_err()
                .contains("unknown flag for ADD: --from")
        );
        let e = one("ADD --parents a b").unwrap_err();
        assert!(e.contains("hint: BuildKit's ADD has no --parents"), "{e}");
        assert!(
            one("RUN --device=/dev/fuse x")
                .unwrap_err()
                .contains("RUN --device is not supported")
        );
        assert!(
            one("COPY onlyone")
                .unwrap_err()
                .contains("needs at least one source")
        );
        assert!(
            one("RUN --network=bridge x")
                .unwrap_err()
                .contains("not supported")
        );
        let e = one("RUN --security=privileged x").unwrap_err();
        assert!(
            e.starts_with("Dockerfile:2:1: RUN --security=privileged is not valid")
                && e.contains("hint: use sandbox"),
            "{e}"
        );
        assert!(one("RUN --security=insecure x").is_ok());
        assert!(one("RUN --security=sandbox x").is_ok());
        assert!(one("SHELL /bin/sh -c").unwrap_err().contains("JSON form"));
        assert!(one("FROM a b c d").unwrap_err().contains("FROM takes"));
    }

    #[test]
    fn from_arg_env() {
        assert_eq!(
            one("FROM --platform=$BUILDPLATFORM golang AS Build").unwrap(),
            Instruction::From {
                image: "golang".into(),
                name: Some("build".into()),
                platform: Some("$BUILDPLATFORM".into())
            }
        );
        assert_eq!(
            one("ARG A B=2").unwrap(),
            Instruction::Arg(vec![("A".into(), None), ("B".into(), Some("2".into()))])
        );
        assert_eq!(
            one("ENV a=1 b=\"x y\"").unwrap(),
            Instruction::Env(vec![
                ("a".into(), "1".into()),
                ("b".into(), "\"x y\"".into())
            ])
        );
    }
}
