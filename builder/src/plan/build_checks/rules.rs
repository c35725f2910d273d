//! BuildKit's rule set (frontend/dockerfile/linter/ruleset.go): names,
//! descriptions and documentation URLs, and which of them mxbuild runs.

/// One BuildKit rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The name `# check=skip=` uses.
    pub name: &'static str,
    /// BuildKit's description.
    pub description: &'static str,
    /// The last part of its documentation URL (empty: none).
    pub slug: &'static str,
    /// Off unless `# check=experimental=` names it.
    pub experimental: bool,
    /// Whether mxbuild checks it (the others are listed so `skip=` and
    /// `experimental=` naming them mean what they mean in BuildKit).
    pub implemented: bool,
}

const fn rule(name: &'static str, slug: &'static str, description: &'static str) -> Rule {
    Rule {
        name,
        description,
        slug,
        experimental: false,
        implemented: true,
    }
}

/// Every BuildKit rule.
pub const RULES: &[Rule] = &[
    rule(
        "StageNameCasing",
        "stage-name-casing",
        "Stage names should be lowercase",
    ),
    rule(
        "FromAsCasing",
        "from-as-casing",
        "The 'as' keyword should match the case of the 'from' keyword",
    ),
    rule(
        "NoEmptyContinuation",
        "no-empty-continuation",
        "Empty continuation lines will become errors in a future release",
    ),
    rule(
        "ConsistentInstructionCasing",
        "consistent-instruction-casing",
        "All commands within the Dockerfile should use the same casing (either upper or lower)",
    ),
    rule(
        "DuplicateStageName",
        "duplicate-stage-name",
        "Stage names should be unique",
    ),
    rule(
        "ReservedStageName",
        "reserved-stage-name",
        "Reserved words should not be used as stage names",
    ),
    rule(
        "JSONArgsRecommended",
        "json-args-recommended",
        "JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals",
    ),
    rule(
        "MaintainerDeprecated",
        "maintainer-deprecated",
        "The MAINTAINER instruction is deprecated, use a label instead to define an image author",
    ),
    rule(
        "UndefinedArgInFrom",
        "undefined-arg-in-from",
        "FROM command must use declared ARGs",
    ),
    rule(
        "WorkdirRelativePath",
        "workdir-relative-path",
        "Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes",
    ),
    rule(
        "UndefinedVar",
        "undefined-var",
        "Variables should be defined before their use",
    ),
    rule(
        "MultipleInstructionsDisallowed",
        "multiple-instructions-disallowed",
        "Multiple instructions of the same type should not be used in the same stage",
    ),
    rule(
        "LegacyKeyValueFormat",
        "legacy-key-value-format",
        "Legacy key/value format with whitespace separator should not be used",
    ),
    Rule {
        implemented: false,
        ..rule(
            "InvalidBaseImagePlatform",
            "",
            "Base image platform does not match expected target platform",
        )
    },
    rule(
        "RedundantTargetPlatform",
        "redundant-target-platform",
        "Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior",
    ),
    rule(
        "SecretsUsedInArgOrEnv",
        "secrets-used-in-arg-or-env",
        "Sensitive data should not be used in the ARG or ENV commands",
    ),
    rule(
        "InvalidDefaultArgInFrom",
        "invalid-default-arg-in-from",
        "Default value for global ARG results in an empty or invalid base image name",
    ),
    rule(
        "FromPlatformFlagConstDisallowed",
        "from-platform-flag-const-disallowed",
        "FROM --platform flag should not use a constant value",
    ),
    // Needs the .dockerignore, which planning does not read: not checked.
    rule(
        "CopyIgnoredFile",
        "copy-ignored-file",
        "Attempting to Copy file that is excluded by .dockerignore",
    ),
    Rule {
        experimental: true,
        ..rule(
            "InvalidDefinitionDescription",
            "invalid-definition-description",
            "Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.",
        )
    },
    rule(
        "ExposeProtoCasing",
        "expose-proto-casing",
        "Protocol in EXPOSE instruction should be lowercase",
    ),
    rule(
        "ExposeInvalidFormat",
        "expose-invalid-format",
        "IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release",
    ),
];

/// The rule named `name`.
pub fn find(name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.name == name)
}

/// Whether `name` is a BuildKit rule (not one of mxbuild's own lints).
pub fn is_buildkit(name: &str) -> bool {
    find(name).is_some()
}

/// Whether `name` is an experimental BuildKit rule.
pub fn is_experimental(name: &str) -> bool {
    find(name).is_some_and(|r| r.experimental)
}

/// The documentation URL of rule `name`, as BuildKit prints it.
pub fn url(name: &str) -> Option<String> {
    find(name)
        .filter(|r| !r.slug.is_empty())
        .map(|r| format!("https://docs.docker.com/go/dockerfile/rule/{}/", r.slug))
}
