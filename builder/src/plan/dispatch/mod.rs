//! One step per instruction: the instruction is expanded in the stage's
//! scope and becomes its display text, key material and [`super::Op`], one
//! function per instruction family (as BuildKit's dispatch does): image
//! metadata and variables in [`meta`], `RUN` in [`run`], `COPY`/`ADD` in
//! [`copy`], and what bases and `--from` point at in [`from`].

mod copy;
pub(super) mod from;
mod meta;
mod run;

use super::PlanError;
use super::planner::{At, Parts, Planner, StageState};
use crate::dockerfile::instruction::{Command, Instruction, Located};

/// The argv of a RUN/CMD/ENTRYPOINT: exec form as is, shell form through SHELL.
fn wrap(c: &Command, shell: &[String]) -> Vec<String> {
    match c {
        Command::Exec(v) => v.clone(),
        Command::Shell(s) => {
            let mut v = shell.to_vec();
            v.push(s.clone());
            v
        }
    }
}

impl Parts {
    /// A step shown as written that does `op`.
    fn as_written(located: &Located, op: super::Op) -> Parts {
        Parts {
            text: located.original.trim().to_string(),
            op,
            ..Parts::default()
        }
    }
}

impl Planner<'_> {
    /// Converts one instruction of a stage; updates the stage's scope (ARG,
    /// ENV) and shell (SHELL).
    pub(super) fn dispatch(
        &mut self,
        located: &Located,
        state: &mut StageState,
        at: &mut At,
    ) -> Result<Parts, PlanError> {
        let span = located.span;
        let scope = &mut state.scope;
        match &located.instruction {
            Instruction::Arg(list) => self.arg(list, scope, at.target, span),
            Instruction::Env(pairs) => self.env(pairs, scope, span),
            Instruction::Label(pairs) => self.label(pairs, scope, span),
            Instruction::Run { .. } => self.run(located, state, at),
            Instruction::Copy { .. } => self.copy(located, scope, at),
            Instruction::Workdir(_) | Instruction::User(_) | Instruction::StopSignal(_) => {
                self.word(&located.instruction, scope, span)
            }
            Instruction::Expose(ports) => self.expose(ports, scope, span),
            Instruction::Volume(vols) => self.volume(vols, scope, span),
            Instruction::Shell(s) => {
                state.shell = s.clone();
                Ok(Parts {
                    text: format!("SHELL {s:?}"),
                    op: super::Op::Shell(s.clone()),
                    ..Parts::default()
                })
            }
            Instruction::Cmd(c) => Ok(Parts::as_written(
                located,
                super::Op::Cmd(wrap(c, &state.shell)),
            )),
            Instruction::Entrypoint(c) => Ok(Parts::as_written(
                located,
                super::Op::Entrypoint(wrap(c, &state.shell)),
            )),
            Instruction::Healthcheck(h) => self.healthcheck(located, h.as_ref()),
            Instruction::Onbuild(t) => {
                Ok(Parts::as_written(located, super::Op::Onbuild(t.clone())))
            }
            Instruction::Maintainer(m) => {
                Ok(Parts::as_written(located, super::Op::Maintainer(m.clone())))
            }
            _ => Ok(Parts::as_written(located, super::Op::Nothing)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{Known, Op, Options, Plan, Source, UrlInfo, plan_with};
    use crate::plan::ImageInfo;

    fn plan(text: &str, known: &Known) -> Result<Plan, String> {
        let df = crate::dockerfile::parse(text, "Dockerfile").map_err(|e| e.to_string())?;
        let opts = Options::for_test(&["linux/amd64"]);
        plan_with(&df, &opts, known).map_err(|e| e.to_string())
    }

    fn with_image(on_build: &[&str]) -> Known {
        let info = ImageInfo {
            digest: "sha256:1111".into(),
            env: vec![("DIR".into(), "/from-image".into())],
            on_build: on_build.iter().map(|s| s.to_string()).collect(),
            shell: None,
        };
        Known {
            images: BTreeMap::from([("base:1@linux/amd64".to_string(), info)]),
            ..Known::default()
        }
    }

    /// Answers only `img:1` and records every reference it is asked for.
    #[derive(Default)]
    struct Asked(std::cell::RefCell<Vec<String>>);

    impl crate::plan::Resolver for Asked {
        fn image(&self, reference: &str, _: &xx::Platform) -> Result<Option<ImageInfo>, String> {
            self.0.borrow_mut().push(reference.to_string());
            Ok((reference == "img:1").then(|| ImageInfo {
                digest: "sha256:3333".into(),
                env: vec![("FROM_IMG".into(), "yes".into())],
                ..ImageInfo::default()
            }))
        }
    }

    /// A stage built FROM a stage inherits what that stage started with:
    /// nothing is resolved for `scratch` (a build would try to pull it),
    /// a named context stands for its image, and PATH gets BuildKit's
    /// default as it does in the parent.
    /// `--mount` values are expanded as BuildKit's parseMount does.
    #[test]
    fn mount_values_are_expanded() {
        let p = plan(
            "FROM scratch\nARG TARGETARCH\nARG DIR=/cache\nRUN --mount=type=cache,id=c-$TARGETARCH,target=$DIR/x,mode=0700 true\n",
            &Known::default(),
        )
        .unwrap();
        let op = &p.instances.last().unwrap().steps.last().unwrap().op;
        let Op::Run { mounts, .. } = op else {
            panic!("{op:?}");
        };
        assert_eq!(mounts[0].mount.id.as_deref(), Some("c-amd64"));
        assert_eq!(mounts[0].mount.target.as_deref(), Some("/cache/x"));
    }

    #[test]
    fn child_of_a_scratch_or_named_context_stage_resolves_no_such_image() {
        let last_workdir = |text: &str| {
            let df = crate::dockerfile::parse(text, "Dockerfile").unwrap();
            let opts = Options {
                platforms: vec!["linux/amd64".parse().unwrap()],
                host: "linux/amd64".parse().unwrap(),
                target: None,
                build_args: BTreeMap::new(),
                context: None,
                named_contexts: BTreeMap::from([(
                    "base".to_string(),
                    "docker-image://img:1".to_string(),
                )]),
                network: crate::exec::Network::Sandbox,
                allow: Default::default(),
                run_extras: Default::default(),
                qemu_cpus: Default::default(),
                dockerignore: None,
            };
            let asked = Asked::default();
            let p = super::super::convert(&df, &opts, &asked).unwrap();
            let asked = asked.0.into_inner();
            assert!(asked.iter().all(|r| r == "img:1"), "{text}: {asked:?}");
            p.instances.last().unwrap().steps[0].op.clone()
        };
        let want = format!("/w:{}", super::from::DEFAULT_PATH);
        assert_eq!(
            last_workdir("FROM scratch AS a\nFROM a\nWORKDIR /w:$PATH\n"),
            Op::Workdir(want)
        );
        assert_eq!(
            last_workdir("FROM base AS c\nFROM c\nWORKDIR /$FROM_IMG\n"),
            Op::Workdir("/yes".into())
        );
    }

    #[test]
    fn meta_expands_in_the_image_env() {
        let p = plan("FROM base:1\nWORKDIR $DIR/x\n", &with_image(&[])).unwrap();
        assert_eq!(
            p.instances[0].steps[0].op,
            Op::Workdir("/from-image/x".into())
        );
        let bare = plan("FROM base:1\nWORKDIR $DIR/x\n", &Known::default()).unwrap();
        assert_eq!(bare.instances[0].steps[0].op, Op::Workdir("/x".into()));
        assert_ne!(p.instances[0].final_key, bare.instances[0].final_key);
    }

    #[test]
    fn triggers_run_first_and_can_name_images() {
        let p = plan(
            "FROM base:1\nRUN mine\n",
            &with_image(&["COPY --from=other:2 /a /b"]),
        )
        .unwrap();
        let steps = &p.instances[0].steps;
        assert_eq!(steps.len(), 2);
        assert!(matches!(
            &steps[0].op,
            Op::Copy { from: Source::Image { reference, .. }, .. } if reference == "other:2"
        ));
    }

    #[test]
    fn add_url_key_follows_the_download() {
        let text = "FROM scratch\nADD https://example.com/f /f\n";
        let unknown = plan(text, &Known::default()).unwrap();
        let mut known = Known::default();
        known.urls.insert(
            "https://example.com/f".into(),
            UrlInfo {
                digest: "sha256:2222".into(),
                mtime: None,
            },
        );
        let fetched = plan(text, &known).unwrap();
        assert_eq!(
            unknown.instances[0].steps[0].text,
            fetched.instances[0].steps[0].text
        );
        assert_ne!(
            unknown.instances[0].final_key,
            fetched.instances[0].final_key
        );
    }

    #[test]
    fn run_refuses_what_was_not_allowed() {
        let e = plan(
            "FROM scratch\nRUN --security=insecure x\n",
            &Known::default(),
        )
        .unwrap_err();
        assert!(
            e.contains("entitlement security.insecure is not allowed"),
            "{e}"
        );
        assert!(e.starts_with("Dockerfile:2:"), "{e}");
    }

    #[test]
    fn copy_checksum_needs_one_url() {
        let e = plan(
            "FROM scratch\nADD --checksum=sha256:00 a /b\n",
            &Known::default(),
        )
        .unwrap_err();
        assert!(e.contains("ADD --checksum needs exactly one source"), "{e}");
    }

    #[test]
    fn env_pairs_see_the_values_from_before_the_instruction() {
        let p = plan(
            "FROM scratch\nENV A=old\nENV A=1 B=two C=${A}-x D=${Z:-none}\nARG X=1 Y=${X}2\nLABEL l=$A m=$Y\n",
            &Known::default(),
        )
        .unwrap();
        let steps = &p.instances[0].steps;
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(
            steps[1].op,
            Op::Env(pairs(&[
                ("A", "1"),
                ("B", "two"),
                ("C", "old-x"),
                ("D", "none")
            ]))
        );
        // ARG defaults see the earlier names of the same ARG (BuildKit's dispatchArg).
        assert_eq!(steps[3].op, Op::Label(pairs(&[("l", "1"), ("m", "12")])));
    }

    #[test]
    fn scratch_and_images_without_path_get_the_default_path() {
        let p = plan("FROM scratch\nENV P=$PATH:/x\n", &Known::default()).unwrap();
        let want = format!("{}:/x", super::from::DEFAULT_PATH);
        assert_eq!(
            p.instances[0].steps[0].op,
            Op::Env(vec![("P".to_string(), want)])
        );
        // A base's own PATH is kept.
        let mut known = with_image(&[]);
        if let Some(info) = known.images.get_mut("base:1@linux/amd64") {
            info.env.push(("PATH".into(), "/opt/bin".into()));
        }
        let p = plan("FROM base:1\nENV P=$PATH\n", &known).unwrap();
        assert_eq!(
            p.instances[0].steps[0].op,
            Op::Env(vec![("P".to_string(), "/opt/bin".to_string())])
        );
    }
}
