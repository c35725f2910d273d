//! Each rule, firing and not, on BuildKit's own test inputs
//! (frontend/dockerfile/dockerfile_check_test.go) where it has them.

use super::*;
use crate::plan::{Known, Options};

fn opts() -> Options {
    Options::for_test(&["linux/amd64"])
}

/// `--check`'s findings as (line, rule, message).
fn findings(text: &str) -> Vec<(usize, String, String)> {
    let df = crate::dockerfile::parse(text, "Dockerfile").unwrap();
    let checked = crate::plan::check(&df, &opts(), &Known::default());
    assert!(checked.error.is_none(), "{:?}", checked.error);
    checked
        .warnings
        .into_iter()
        .map(|w| (w.line, w.code, w.message))
        .collect()
}

/// The (line, message) findings of `rule`.
fn of(text: &str, rule: &str) -> Vec<(usize, String)> {
    findings(text)
        .into_iter()
        .filter(|(_, r, _)| r == rule)
        .map(|(l, _, m)| (l, m))
        .collect()
}

fn one(line: usize, msg: &str) -> Vec<(usize, String)> {
    vec![(line, msg.to_string())]
}

#[test]
fn casing_rules() {
    let t = "FROM scratch AS Build\nfrom scratch as x\nFROM scratch as y\nrun true\n";
    assert_eq!(
        of(t, "StageNameCasing"),
        one(1, "Stage name 'Build' should be lowercase")
    );
    assert_eq!(
        of(t, "FromAsCasing"),
        one(3, "'as' and 'FROM' keywords' casing do not match")
    );
    assert_eq!(
        of(t, "ConsistentInstructionCasing"),
        vec![
            (
                2,
                "Command 'from' should match the case of the command majority (uppercase)".into()
            ),
            (
                4,
                "Command 'run' should match the case of the command majority (uppercase)".into()
            ),
        ]
    );
    assert!(findings("FROM scratch AS build\nRUN true\n").is_empty());
}

#[test]
fn stage_name_rules() {
    let t = "\nFROM scratch AS scratch\nFROM scratch AS context\nFROM scratch AS b\nFROM scratch AS b2\n";
    assert_eq!(
        of(t, "ReservedStageName"),
        vec![
            (
                2,
                "Stage name should not use the same name as reserved stage \"scratch\"".into()
            ),
            (
                3,
                "Stage name should not use the same name as reserved stage \"context\"".into()
            ),
        ]
    );
    // mxbuild refuses duplicate names when planning; --check still names the rule.
    let df =
        crate::dockerfile::parse("FROM scratch AS b\nFROM scratch AS b\n", "Dockerfile").unwrap();
    let checked = crate::plan::check(&df, &opts(), &Known::default());
    assert_eq!(checked.warnings[0].code, "DuplicateStageName");
    assert_eq!(
        checked.warnings[0].message,
        "Duplicate stage name \"b\", stage names should be unique"
    );
    assert_eq!(checked.warnings[0].line, 2);
    assert!(of(t, "DuplicateStageName").is_empty());
}

#[test]
fn instruction_rules() {
    let t = "FROM scratch\nMAINTAINER me\nENV A b\nLABEL a=b\nENV c=d\nLABEL key value\nEXPOSE 80/TCP 81/udp 127.0.0.1:80:80 5000:5000 8000\n";
    assert_eq!(
        of(t, "MaintainerDeprecated"),
        one(
            2,
            "Maintainer instruction is deprecated in favor of using label"
        )
    );
    assert_eq!(
        of(t, "LegacyKeyValueFormat"),
        vec![
            (
                3,
                "\"ENV key=value\" should be used instead of legacy \"ENV key value\" format"
                    .into()
            ),
            (
                6,
                "\"LABEL key=value\" should be used instead of legacy \"LABEL key value\" format"
                    .into()
            ),
        ]
    );
    assert_eq!(
        of(t, "ExposeProtoCasing"),
        one(
            7,
            "Defined protocol '80/TCP' in EXPOSE instruction should be lowercase"
        )
    );
    let invalid: Vec<String> = of(t, "ExposeInvalidFormat")
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    assert_eq!(
        invalid,
        [
            "EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'",
            "EXPOSE instruction should not define an IP address or host-port mapping, found '5000:5000'",
        ]
    );
}

#[test]
fn stage_rules() {
    let t =
        "FROM scratch\nCMD echo 1\nCMD [\"a\"]\nENTRYPOINT [\"b\"]\nWORKDIR app/\nWORKDIR rel\n";
    assert_eq!(
        of(t, "MultipleInstructionsDisallowed"),
        one(
            2,
            "Multiple CMD instructions should not be used in the same stage because only the last one will be used"
        )
    );
    assert_eq!(
        of(t, "JSONArgsRecommended"),
        one(
            2,
            "JSON arguments recommended for CMD to prevent unintended behavior related to OS signals"
        )
    );
    assert_eq!(
        of(t, "WorkdirRelativePath"),
        one(
            5,
            "Relative workdir \"app/\" can have unexpected results if the base image changes"
        )
    );
    // After SHELL, a shell-form CMD is meant; an absolute WORKDIR in the parent stage counts.
    let ok = "FROM scratch AS a\nWORKDIR /app\nSHELL [\"/bin/bash\", \"-c\"]\nFROM a AS b\nWORKDIR subdir/\nCMD echo\n";
    assert!(findings(ok).is_empty(), "{:?}", findings(ok));
}

#[test]
fn secrets_in_arg_or_env() {
    let t = "FROM scratch\nARG SECRET_PASSPHRASE\nENV SUPER_Secret=foo\nENV password=bar secret=baz\nARG super_duper_secret_token=foo auth=bar\nENV apikey=bar sunflower=foo\nENV git_key=\nENV PUBLIC_KEY=\nARG public_token\nARG tokenizer\n";
    let msgs: Vec<String> = of(t, "SecretsUsedInArgOrEnv")
        .into_iter()
        .map(|(_, m)| m)
        .collect();
    assert_eq!(
        msgs,
        [
            "Do not use ARG or ENV instructions for sensitive data (ARG \"SECRET_PASSPHRASE\")",
            "Do not use ARG or ENV instructions for sensitive data (ENV \"SUPER_Secret\")",
            "Do not use ARG or ENV instructions for sensitive data (ENV \"password\")",
            "Do not use ARG or ENV instructions for sensitive data (ENV \"secret\")",
            "Do not use ARG or ENV instructions for sensitive data (ARG \"auth\")",
            "Do not use ARG or ENV instructions for sensitive data (ARG \"super_duper_secret_token\")",
            "Do not use ARG or ENV instructions for sensitive data (ENV \"apikey\")",
            "Do not use ARG or ENV instructions for sensitive data (ENV \"git_key\")",
        ]
    );
}

#[test]
fn from_rules() {
    // As in BuildKit, the finding comes with the error it leads to.
    let df =
        crate::dockerfile::parse("FROM --platform=$BULIDPLATFORM scratch\n", "Dockerfile").unwrap();
    let checked = crate::plan::check(&df, &opts(), &Known::default());
    assert!(checked.error.is_some());
    assert_eq!(checked.warnings.len(), 1);
    assert_eq!(
        checked.warnings[0].message,
        "FROM argument 'BULIDPLATFORM' is not declared (did you mean BUILDPLATFORM?)"
    );
    assert!(of("ARG DEBUG\nFROM scratch${DEBUG}\n", "UndefinedArgInFrom").is_empty());
    assert!(
        of(
            "FROM --platform=$BUILDPLATFORM scratch\n",
            "UndefinedArgInFrom"
        )
        .is_empty()
    );
    assert_eq!(
        of(
            "FROM --platform=$TARGETPLATFORM scratch\n",
            "RedundantTargetPlatform"
        ),
        one(
            1,
            "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior"
        )
    );
    assert!(
        of(
            "FROM --platform=${TARGETPLATFORM:-x}${TARGETOS} scratch\n",
            "RedundantTargetPlatform"
        )
        .is_empty()
    );
    assert_eq!(
        of(
            "FROM --platform=linux/amd64 scratch\n",
            "FromPlatformFlagConstDisallowed"
        ),
        one(
            1,
            "FROM --platform flag should not use constant value \"linux/amd64\""
        )
    );
    assert!(
        of(
            "FROM --platform=linux/amd64 scratch AS my_amd64_stage\n",
            "FromPlatformFlagConstDisallowed"
        )
        .is_empty()
    );
    assert!(
        of(
            "FROM --platform=$BUILDPLATFORM scratch\n",
            "FromPlatformFlagConstDisallowed"
        )
        .is_empty()
    );
}

#[test]
fn invalid_default_arg_in_from() {
    let df =
        crate::dockerfile::parse("ARG VERSION\nFROM busybox:$VERSION\n", "Dockerfile").unwrap();
    let mut o = opts();
    o.build_args.insert("VERSION".into(), "latest".into());
    let mut known = Known::default();
    known.images.insert(
        "busybox:latest@linux/amd64".into(),
        crate::plan::ImageInfo::default(),
    );
    let w: Vec<String> = crate::plan::check(&df, &o, &known)
        .warnings
        .into_iter()
        .filter(|w| w.code == "InvalidDefaultArgInFrom")
        .map(|w| w.message)
        .collect();
    assert_eq!(
        w,
        ["Default value for ARG busybox:$VERSION results in empty or invalid base image name"]
    );
    assert!(
        of(
            "ARG IMAGE=scratch\nFROM $IMAGE\n",
            "InvalidDefaultArgInFrom"
        )
        .is_empty()
    );
}

#[test]
fn undefined_var() {
    let t = "FROM scratch\nCOPY $foo .\nARG foo=bar\nCOPY $foo .\n";
    assert_eq!(
        of(t, "UndefinedVar"),
        one(2, "Usage of undefined variable '$foo'")
    );
    let t = "FROM scratch\nARG DIR_BINARIES=binaries/\nARG DIR_ASSETS=assets/\nCOPY $DIR_ASSET .\n";
    assert_eq!(
        of(t, "UndefinedVar"),
        one(
            4,
            "Usage of undefined variable '$DIR_ASSET' (did you mean $DIR_ASSETS?)"
        )
    );
    // Declared without a value, or read by RUN (a shell's business): no finding.
    assert!(
        of(
            "FROM scratch\nARG foo\nCOPY Dockerfile${foo} .\nRUN echo $bar\n",
            "UndefinedVar"
        )
        .is_empty()
    );
}

#[test]
fn empty_continuation() {
    let t = "FROM scratch\nRUN echo \\\n\n  hello\nRUN a \\\n  # comment\n  b\n";
    assert_eq!(
        of(t, "NoEmptyContinuation"),
        one(4, "Empty continuation line")
    );
}

#[test]
fn definition_descriptions_are_experimental() {
    let t = "# bar this is the bar\nARG foo=bar\n# BasE this is the BasE image\nFROM scratch AS base\n# definitely a bad comment\nARG version=latest\n# definitely a bad comment\nARG foo=baz bar=qux baz=quux\n";
    assert!(of(t, "InvalidDefinitionDescription").is_empty());
    let t = format!("# check=experimental=InvalidDefinitionDescription\n{t}");
    assert_eq!(
        of(&t, "InvalidDefinitionDescription"),
        vec![
            (
                3,
                "Comment for ARG should follow the format: `# foo <description>`".into()
            ),
            (
                5,
                "Comment for FROM should follow the format: `# base <description>`".into()
            ),
            (
                7,
                "Comment for ARG should follow the format: `# version <description>`".into()
            ),
            (
                9,
                "Comment for ARG should follow the format: `# <arg_key> <description>`".into()
            ),
        ]
    );
    let good = "# check=skip=all;experimental=InvalidDefinitionDescription\n# foo this is the foo\nARG foo=bar\n# base the base\nFROM scratch AS base\n#\nARG bit=bat\n";
    assert!(findings(good).is_empty(), "{:?}", findings(good));
}

#[test]
fn skip_and_comment_configs() {
    let t = "# check=skip=JSONArgsRecommended\nFROM scratch\nCMD echo\n";
    assert!(findings(t).is_empty());
    // A `# check=` comment right above an instruction applies to it alone.
    let t = "FROM scratch\n# check=skip=WorkdirRelativePath\nWORKDIR app/\n";
    assert!(findings(t).is_empty());
}

#[test]
fn error_true_fails_the_plan() {
    let df = crate::dockerfile::parse(
        "# check=error=true\nFROM scratch AS Build\nMAINTAINER me\n",
        "Dockerfile",
    )
    .unwrap();
    let err = crate::plan::plan(&df, &opts()).unwrap_err().to_string();
    assert!(
        err.contains("lint violation found for rules: MaintainerDeprecated, StageNameCasing"),
        "{err}"
    );
    assert!(err.contains("Dockerfile:2"), "{err}");
}

#[test]
fn every_implemented_rule_has_a_url() {
    for r in rules::RULES
        .iter()
        .filter(|r| r.name != "InvalidBaseImagePlatform")
    {
        assert!(rules::url(r.name).is_some(), "{}", r.name);
    }
}
