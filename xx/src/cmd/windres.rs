//! `xx-windres`: a GNU windres-compatible front end over LLVM's resource
//! tools, so build systems that run `<triple>-windres` (autotools, CMake,
//! cargo's `embed-resource`) build Windows resources for the target. As
//! upstream xx-windres: the `.rc` file goes through the C preprocessor
//! (`$CC`, else clang, else gcc, with `-D RC_INVOKED=1`), then `llvm-rc`
//! makes a `.res`, then `llvm-cvtres` a COFF object for the target's machine.
//! `XX_WINDRES_DRYRUN` prints the commands instead of running them and
//! `XX_TMP_FILE_FIXED` names the temporary files (`X`, `X_`, ...), both as
//! upstream, for tests.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::out::Out;
use crate::cmd::{sys, trace};
use crate::targetenv;

const USAGE: &str = "Usage: xx-windres [option(s)] [input-file] [output-file]
 The options are:
  -i --input=<file>            Name input file
  -o --output=<file>           Name output file
  -J --input-format=<format>   Specify input format
  -O --output-format=<format>  Specify output format
  -F --target=<target>         Specify COFF target
     --preprocessor=<program>  Program to use to preprocess rc file
     --preprocessor-arg=<arg>  Additional preprocessor argument
  -I --include-dir=<dir>       Include directory when preprocessing rc file
  -D --define <sym>[=<val>]    Define SYM when preprocessing rc file
  -U --undefine <sym>          Undefine SYM when preprocessing rc file
  -v --verbose                 Verbose - tells you what it's doing
  -c --codepage=<codepage>     Specify default codepage
  -l --language=<val>          Set language when reading rc file
     --use-temp-file           Use a temporary file instead of popen to read
                               the preprocessor output
     --no-use-temp-file        Use popen (default)
  -r                           Ignored for compatibility with rc
  -h --help                    Print this help message
  -V --version                 Print version information
FORMAT is one of rc, res, or coff, and is deduced from the file name
extension if not specified.  A single file name is an input file.
No input-file is stdin, default rc.  No output-file is stdout, default rc.
";

/// What the command line asks for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Request {
    input: String,
    output: String,
    input_format: String,
    output_format: String,
    target: String,
    preprocessor: String,
    preprocessor_args: Vec<String>,
    rc_args: Vec<String>,
}

/// What parsing ended with besides a request.
#[derive(Debug, PartialEq, Eq)]
enum Parsed {
    Run(Request),
    Help,
    Version,
    Error(String),
}

/// Entry point.
pub fn run(args: &[String]) -> u8 {
    let mut req = match parse(args) {
        Parsed::Run(r) => r,
        Parsed::Help => {
            eprint!("{USAGE}");
            return 0;
        }
        Parsed::Version => {
            let _ = Out::new().line("xx-windres 0.1");
            return 0;
        }
        Parsed::Error(e) => {
            // Upstream's words, unprefixed: its tests compare whole lines.
            eprintln!("{e}");
            return 1;
        }
    };
    if req.target.is_empty() {
        match targetenv::from_process().triple() {
            Ok(t) => req.target = t.to_string(),
            Err(e) => {
                eprintln!("xx-windres: {e}");
                return 1;
            }
        }
    }
    let tools = match ToolsOnPath::new() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("xx-windres: {e}");
            return 1;
        }
    };
    let code = match plan(&req, &tools) {
        Ok(plan) => execute(&plan, &tools),
        Err(e) => {
            // Upstream's words, unprefixed: its tests compare whole lines.
            eprintln!("{e}");
            1
        }
    };
    if let Some(dir) = tools.own_dir() {
        let _ = std::fs::remove_dir(dir);
    }
    code
}

/// Splits the command line as upstream's option loop does: options (with
/// the value in the same word or the next), then input and output files.
fn parse(args: &[String]) -> Parsed {
    let mut r = Request::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = a.as_str();
        if a == "--" {
            break;
        }
        if matches!(a, "-h" | "--help") {
            return Parsed::Help;
        }
        if matches!(a, "-V" | "--version") {
            return Parsed::Version;
        }
        if matches!(
            a,
            "-r" | "--use-temp-file" | "--no-use-temp-file" | "-v" | "--verbose"
        ) {
            continue;
        }
        let Some((opt, inline)) = option_of(a) else {
            if a.len() > 1 && a.starts_with('-') {
                return Parsed::Error(format!("invalid option {a}"));
            }
            // The first positional argument: input, output, then nothing else.
            let mut rest = std::iter::once(a.to_string()).chain(it.map(String::clone));
            return positional(r, &mut rest);
        };
        let value = match inline {
            Some(v) => v.to_string(),
            None => match it.next() {
                Some(v) if !v.is_empty() => v.clone(),
                _ => return Parsed::Error(format!("argument to {a} is missing")),
            },
        };
        match opt {
            Opt::Output => r.output = value,
            Opt::Input => r.input = value,
            Opt::InputFormat => r.input_format = value,
            Opt::OutputFormat => r.output_format = value,
            Opt::Target => r.target = value,
            Opt::Preprocessor => r.preprocessor = value,
            // Upstream collects these in one string and lets the shell
            // split it, so a value with spaces becomes several words.
            Opt::PreprocessorArg => r.preprocessor_args.extend(words(&value)),
            Opt::IncludeDir => r.preprocessor_args.extend(words(&format!("-I{value}"))),
            Opt::Language => r.rc_args.extend(words(&format!("-L {value}"))),
            Opt::Codepage => r.rc_args.extend(words(&format!("-C {value}"))),
            Opt::Define => r.preprocessor_args.extend(words(&format!("-D {value}"))),
            Opt::Undefine => r.preprocessor_args.extend(words(&format!("-U {value}"))),
        }
    }
    let mut rest = it.map(String::clone);
    positional(r, &mut rest)
}

/// The shell's word splitting of an unquoted expansion.
fn words(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split_whitespace().map(str::to_string)
}

/// Input and output from the positional arguments; a third is an error.
/// As upstream, an empty argument ends the list (it is never shifted past).
fn positional(mut r: Request, rest: &mut dyn Iterator<Item = String>) -> Parsed {
    let Some(input) = rest.next().filter(|s| !s.is_empty()) else {
        return Parsed::Run(r);
    };
    r.input = input;
    let Some(output) = rest.next().filter(|s| !s.is_empty()) else {
        return Parsed::Run(r);
    };
    r.output = output;
    if rest.next().is_some_and(|s| !s.is_empty()) {
        return Parsed::Error("too many arguments".to_string());
    }
    Parsed::Run(r)
}

/// The options that take a value.
#[derive(Debug, Clone, Copy)]
enum Opt {
    Output,
    Input,
    InputFormat,
    OutputFormat,
    Target,
    Preprocessor,
    PreprocessorArg,
    IncludeDir,
    Language,
    Codepage,
    Define,
    Undefine,
}

/// Which option a word is, and its value when the word carries it
/// (`--output=x`, `-ox`); `None` for words that are not such options.
fn option_of(word: &str) -> Option<(Opt, Option<&str>)> {
    const LONG: &[(&str, Opt)] = &[
        ("--output", Opt::Output),
        ("--input", Opt::Input),
        ("--input-format", Opt::InputFormat),
        ("--output-format", Opt::OutputFormat),
        ("--target", Opt::Target),
        ("--preprocessor", Opt::Preprocessor),
        ("--preprocessor-arg", Opt::PreprocessorArg),
        ("--include-dir", Opt::IncludeDir),
        ("--include-path", Opt::IncludeDir),
        ("--language", Opt::Language),
        ("--codepage", Opt::Codepage),
        ("--define", Opt::Define),
        ("--undefine", Opt::Undefine),
    ];
    const SHORT: &[(char, Opt)] = &[
        ('o', Opt::Output),
        ('i', Opt::Input),
        ('J', Opt::InputFormat),
        ('O', Opt::OutputFormat),
        ('F', Opt::Target),
        ('I', Opt::IncludeDir),
        ('l', Opt::Language),
        ('c', Opt::Codepage),
        ('D', Opt::Define),
        ('U', Opt::Undefine),
    ];
    if word.starts_with("--") {
        let (name, value) = match word.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (word, None),
        };
        return LONG
            .iter()
            .find(|(long, _)| *long == name)
            .map(|(_, opt)| (*opt, value));
    }
    let mut chars = word.chars();
    if chars.next() != Some('-') {
        return None;
    }
    let letter = chars.next()?;
    let rest = chars.as_str();
    SHORT
        .iter()
        .find(|(c, _)| *c == letter)
        .map(|(_, opt)| (*opt, (!rest.is_empty()).then_some(rest)))
}

/// One command of the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    program: String,
    args: Vec<String>,
}

/// The commands to run and the temporary files they make (removed at the end).
#[derive(Debug, Default, PartialEq, Eq)]
struct Plan {
    steps: Vec<Step>,
    temps: Vec<String>,
}

/// What the plan depends on outside the command line: the tools on PATH,
/// `$CC` and temporary file names in real runs; fixed answers in tests.
trait Tools {
    /// The path (or name) of an LLVM tool, if installed.
    fn llvm(&self, tool: &str) -> Option<String>;
    /// Whether a program is on PATH.
    fn has(&self, program: &str) -> bool;
    /// `$CC`, if set.
    fn cc(&self) -> Option<String>;
    /// The name of the n-th temporary file.
    fn temp(&self, n: usize) -> String;
}

/// The real machine. Temporary files go in a directory only we can write
/// (made with mkdir, which fails rather than follow a planted name), or
/// are named by XX_TMP_FILE_FIXED (`X`, `X_`, ...) as upstream allows.
struct ToolsOnPath {
    temp_prefix: String,
}

impl ToolsOnPath {
    fn new() -> Result<ToolsOnPath, String> {
        if let Some(fixed) = std::env::var("XX_TMP_FILE_FIXED")
            .ok()
            .filter(|f| !f.is_empty())
        {
            return Ok(ToolsOnPath { temp_prefix: fixed });
        }
        use std::os::unix::fs::DirBuilderExt;
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0..16 {
            let dir = base.join(format!(
                "xx-windres.{}.{nanos}.{attempt}",
                std::process::id()
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {
                    return Ok(ToolsOnPath {
                        temp_prefix: dir.join("t").display().to_string(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!(
                        "cannot make a temporary directory in {}: {e}",
                        base.display()
                    ));
                }
            }
        }
        Err(format!(
            "cannot make a temporary directory in {}",
            base.display()
        ))
    }

    /// The private directory, if we made one (removed after the run).
    fn own_dir(&self) -> Option<PathBuf> {
        let prefix = Path::new(&self.temp_prefix);
        let dir = prefix.parent()?;
        let name = dir.file_name()?.to_str()?;
        (prefix.file_name()? == "t" && name.starts_with("xx-windres.")).then(|| dir.to_path_buf())
    }
}

impl Tools for ToolsOnPath {
    fn llvm(&self, tool: &str) -> Option<String> {
        // `llvm-rc`, else the versioned install clang belongs to
        // (Debian's llvm-N puts the unversioned names only in its own bin).
        if sys::which(tool).is_some() {
            return Some(tool.to_string());
        }
        let clang_dir = std::fs::canonicalize("/usr/bin/clang")
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))?;
        let path = clang_dir.join(tool);
        path.exists().then(|| path.display().to_string())
    }

    fn has(&self, program: &str) -> bool {
        sys::which(program).is_some()
    }

    fn cc(&self) -> Option<String> {
        std::env::var("CC").ok().filter(|c| !c.is_empty())
    }

    fn temp(&self, n: usize) -> String {
        format!("{}{}", self.temp_prefix, "_".repeat(n))
    }
}

/// The COFF machine llvm-cvtres writes for a target triple.
fn machine(target: &str) -> Option<&'static str> {
    if ["i686", "i386", "i586"].iter().any(|a| target.contains(a)) {
        Some("X86")
    } else if target.starts_with("x86_64") || target.contains("x86-64") {
        Some("X64")
    } else if target.starts_with("aarch64") || target.starts_with("arm64") {
        Some("ARM64")
    } else if target.starts_with("arm") {
        Some("ARM")
    } else {
        None
    }
}

/// The commands for a request, with formats deduced from the file names.
fn plan(r: &Request, tools: &dyn Tools) -> Result<Plan, String> {
    let input = if r.input.is_empty() {
        "/dev/stdin"
    } else {
        &r.input
    };
    let output = if r.output.is_empty() {
        "/dev/stdout"
    } else {
        &r.output
    };
    let input_format = match r.input_format.as_str() {
        "" if input.ends_with(".res") => "res",
        "" => "rc",
        f @ ("rc" | "res") => f,
        f => return Err(format!("invalid input format {f}")),
    };
    let output_format = match r.output_format.as_str() {
        "" if output.ends_with(".res") => "res",
        "" => "coff",
        f @ ("coff" | "res") => f,
        f => return Err(format!("invalid output format {f}")),
    };
    let machine =
        machine(&r.target).ok_or_else(|| format!("invalid target {} for xx-windres", r.target))?;
    let mut steps = Vec::new();
    let mut temps = Vec::new();
    let res = if input_format == "rc" {
        // One program, as upstream runs "$preprocessor".
        let program = if !r.preprocessor.is_empty() {
            r.preprocessor.clone()
        } else if let Some(cc) = tools.cc() {
            cc
        } else if tools.has("clang") {
            "clang".to_string()
        } else {
            "gcc".to_string()
        };
        let rc = tools.llvm("llvm-rc").ok_or(
            "llvm-rc not installed (apt-get install -y llvm, or the llvm-N package of your clang)",
        )?;
        let preprocessed = tools.temp(0);
        temps.push(preprocessed.clone());
        let mut args: Vec<String> = ["-E", "-xc", "-D", "RC_INVOKED=1"]
            .map(String::from)
            .to_vec();
        args.extend(r.preprocessor_args.iter().cloned());
        args.extend(["-o".to_string(), preprocessed.clone(), input.to_string()]);
        steps.push(Step { program, args });
        let res = tools.temp(1);
        temps.push(res.clone());
        let dir = Path::new(input)
            .parent()
            .map(|p| p.display().to_string())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| ".".to_string());
        let mut args = r.rc_args.clone();
        args.extend(["-fo".to_string(), res.clone(), "-I".to_string(), dir]);
        args.push(preprocessed);
        steps.push(Step { program: rc, args });
        res
    } else {
        input.to_string()
    };
    if output_format == "res" {
        steps.push(Step {
            program: "cp".to_string(),
            args: vec![res, output.to_string()],
        });
    } else {
        let cvtres = tools
            .llvm("llvm-cvtres")
            .ok_or("llvm-cvtres not installed")?;
        steps.push(Step {
            program: cvtres,
            args: vec![format!("-machine:{machine}"), format!("-out:{output}"), res],
        });
    }
    Ok(Plan { steps, temps })
}

/// Runs (or with XX_WINDRES_DRYRUN prints) the steps, stopping at the first
/// failure with its exit code, and removes the temporary files.
fn execute(plan: &Plan, tools: &ToolsOnPath) -> u8 {
    let dry = std::env::var_os("XX_WINDRES_DRYRUN").is_some_and(|v| !v.is_empty());
    let mut code = 0;
    for step in &plan.steps {
        if dry {
            let line = std::iter::once(&step.program)
                .chain(&step.args)
                .cloned()
                .collect::<Vec<_>>()
                .join(" ");
            if Out::new().line(&line).is_err() {
                break;
            }
            continue;
        }
        let mut cmd = Command::new(&step.program);
        cmd.args(&step.args);
        match trace::command("xx-windres", &mut cmd).status() {
            Ok(s) if s.success() => {}
            Ok(s) => {
                code = s.code().map_or(1, |c| c as u8);
                break;
            }
            Err(e) => {
                eprintln!("xx-windres: {}", sys::cannot_run(cmd.get_program(), &e));
                code = 127;
                break;
            }
        }
    }
    if !dry {
        for t in &plan.temps {
            let _ = std::fs::remove_file(t);
        }
    }
    if let Some(dir) = tools.own_dir() {
        let _ = std::fs::remove_dir(dir);
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl Tools for Fake {
        fn llvm(&self, tool: &str) -> Option<String> {
            Some(tool.to_string())
        }
        fn has(&self, program: &str) -> bool {
            program == "clang"
        }
        fn cc(&self) -> Option<String> {
            None
        }
        fn temp(&self, n: usize) -> String {
            format!("TMP{}", "_".repeat(n))
        }
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    fn lines(a: &[&str]) -> Vec<String> {
        let Parsed::Run(r) = parse(&args(a)) else {
            panic!("{a:?} did not parse");
        };
        plan(&r, &Fake)
            .unwrap()
            .steps
            .iter()
            .map(|s| format!("{} {}", s.program, s.args.join(" ")))
            .collect()
    }

    #[test]
    fn rc_to_coff_for_each_machine() {
        assert_eq!(
            lines(&[
                "--target=x86_64-w64-mingw32",
                "-I",
                "inc",
                "-DVER=2",
                "--language=0x409",
                "-i",
                "dir/app.rc",
                "-o",
                "app.o"
            ]),
            [
                "clang -E -xc -D RC_INVOKED=1 -Iinc -D VER=2 -o TMP dir/app.rc",
                "llvm-rc -L 0x409 -fo TMP_ -I dir TMP",
                "llvm-cvtres -machine:X64 -out:app.o TMP_"
            ]
        );
        for (target, machine) in [
            ("i686-w64-mingw32", "X86"),
            ("aarch64-w64-mingw32", "ARM64"),
            ("armv7-w64-mingw32", "ARM"),
        ] {
            let got = lines(&["-F", target, "app.res", "app.o"]);
            assert_eq!(
                got,
                [format!("llvm-cvtres -machine:{machine} -out:app.o app.res")]
            );
        }
    }

    #[test]
    fn formats_from_names_and_flags() {
        // -O res forces a .res copy whatever the output is called.
        let got = lines(&["-Fi686-w64-mingw32", "-O", "res", "a.rc", "out.o"]);
        assert_eq!(got.last().map(String::as_str), Some("cp TMP_ out.o"));
        // -J res: the input is already compiled, only the conversion runs.
        assert_eq!(
            lines(&["-Fx86_64-w64-mingw32", "-J", "res", "in.bin", "out.o"]),
            ["llvm-cvtres -machine:X64 -out:out.o in.bin"]
        );
        // No files: stdin to stdout, rc to coff.
        let got = lines(&["-Fx86_64-w64-mingw32"]);
        assert!(got[0].ends_with("-o TMP /dev/stdin"), "{got:?}");
        assert_eq!(got[2], "llvm-cvtres -machine:X64 -out:/dev/stdout TMP_");
    }

    #[test]
    fn errors_as_upstream() {
        let bad = |a: &[&str]| match parse(&args(a)) {
            Parsed::Run(r) => plan(&r, &Fake).unwrap_err(),
            Parsed::Error(e) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            bad(&["-Fx86_64-w64-mingw32", "a", "b", "c"]),
            "too many arguments"
        );
        assert_eq!(
            bad(&["--target=mips-linux-gnu", "a.rc"]),
            "invalid target mips-linux-gnu for xx-windres"
        );
        assert_eq!(
            bad(&["-Fx86_64-w64-mingw32", "-O", "rc", "a.rc"]),
            "invalid output format rc"
        );
        assert_eq!(
            bad(&["-Fx86_64-w64-mingw32", "-J", "coff", "a"]),
            "invalid input format coff"
        );
        assert_eq!(bad(&["-x"]), "invalid option -x");
        assert_eq!(bad(&["-o"]), "argument to -o is missing");
        assert_eq!(parse(&args(&["-V"])), Parsed::Version);
        assert_eq!(parse(&args(&["--help"])), Parsed::Help);
    }

    #[test]
    fn values_split_into_words_as_upstream() {
        let got = lines(&[
            "-Fx86_64-w64-mingw32",
            "--preprocessor-arg=-DA -DB",
            "a.rc",
            "a.o",
        ]);
        assert!(got[0].contains(" -DA -DB -o "), "{got:?}");
        let Parsed::Run(r) = parse(&args(&["--preprocessor-arg=-DA -DB"])) else {
            panic!()
        };
        assert_eq!(r.preprocessor_args, ["-DA", "-DB"]);
        // An empty positional ends the list, as the shell loop does.
        let Parsed::Run(r) = parse(&args(&["", "b", "c"])) else {
            panic!()
        };
        assert_eq!((r.input.as_str(), r.output.as_str()), ("", ""));
    }

    #[test]
    fn res_output_is_a_copy() {
        assert_eq!(
            lines(&["-Fi686-w64-mingw32", "app.rc", "app.res"])[2],
            "cp TMP_ app.res"
        );
    }
}
