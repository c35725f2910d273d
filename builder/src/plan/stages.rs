//! Splitting a Dockerfile's instructions into the global ARGs before the
//! first FROM and the stages that follow, and finding stages by name.

use crate::dockerfile::instruction::{Instruction, Located};
use crate::dockerfile::{Dockerfile, SourceError};

/// One build stage: its FROM and the instructions after it.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Position in the file (0-based); `COPY --from=0` refers to it.
    pub index: usize,
    /// `AS name` (lower case), if given.
    pub name: Option<String>,
    /// Image, stage name or `scratch`, unexpanded.
    pub image: String,
    /// `--platform` of the FROM, unexpanded.
    pub platform: Option<String>,
    /// The FROM instruction itself.
    pub from: Located,
    /// Everything after the FROM, up to the next FROM.
    pub body: Vec<Located>,
}

impl Stage {
    /// The name to show: `AS` name, else the index.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.index.to_string())
    }
}

/// Global ARGs and stages.
#[derive(Debug, Clone)]
pub struct Stages {
    /// ARG instructions before the first FROM.
    pub global_args: Vec<Located>,
    /// The stages, in file order.
    pub stages: Vec<Stage>,
}

impl Stages {
    /// Splits the instructions; only ARG may come before the first FROM.
    pub fn split(df: &Dockerfile, instructions: Vec<Located>) -> Result<Stages, SourceError> {
        let mut global_args = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        for located in instructions {
            match &located.instruction {
                Instruction::From {
                    image,
                    name,
                    platform,
                } => {
                    if let Some(n) = name {
                        if stages.iter().any(|s| s.name.as_deref() == Some(n)) {
                            return Err(SourceError::new(
                                &df.file,
                                located.span,
                                format!("duplicate stage name {n:?}"),
                            )
                            .hint("give each stage its own AS name")
                            .with_line(&df.text));
                        }
                    }
                    stages.push(Stage {
                        index: stages.len(),
                        name: name.clone(),
                        image: image.clone(),
                        platform: platform.clone(),
                        from: located.clone(),
                        body: Vec::new(),
                    });
                }
                _ => match stages.last_mut() {
                    Some(stage) => stage.body.push(located),
                    None if matches!(located.instruction, Instruction::Arg(_)) => {
                        global_args.push(located)
                    }
                    None => {
                        return Err(SourceError::new(
                            &df.file,
                            located.span,
                            "only ARG may come before the first FROM",
                        )
                        .hint("start the stage with FROM <image>")
                        .with_line(&df.text));
                    }
                },
            }
        }
        if stages.is_empty() {
            let span = global_args.last().map(|l| l.span).unwrap_or_default();
            return Err(
                SourceError::new(&df.file, span, "the Dockerfile has no FROM")
                    .hint("add FROM <image> (or FROM scratch)")
                    .with_line(&df.text),
            );
        }
        Ok(Stages {
            global_args,
            stages,
        })
    }

    /// The stage a `--target`, `FROM`, `COPY --from` or `--mount from=` names:
    /// an `AS` name (case-insensitive) or an index.
    pub fn find(&self, name: &str) -> Option<&Stage> {
        let lower = name.to_ascii_lowercase();
        if let Some(s) = self
            .stages
            .iter()
            .find(|s| s.name.as_deref() == Some(&lower))
        {
            return Some(s);
        }
        lower.parse::<usize>().ok().and_then(|i| self.stages.get(i))
    }
}
