//! `XX_DEBUG_<HELPER>`: a trace of what a helper does, for "why did xx-apt
//! install that?" questions. Upstream's scripts turn on `set -x` with
//! XX_DEBUG_APT, XX_DEBUG_APK, XX_DEBUG_CARGO and XX_DEBUG_VERIFY; we print
//! the same kind of `+ ...` lines (every command a helper runs, with the
//! variables it sets for it, and the decisions it takes) to stderr, and
//! accept XX_DEBUG_CC, XX_DEBUG_GO and XX_DEBUG_INFO too.

use std::process::Command;

/// The variable that turns tracing on for a helper: `xx-apt-get` ->
/// `XX_DEBUG_APT`, `xx-clang++` -> `XX_DEBUG_CC`.
pub fn var_for(helper: &str) -> String {
    let name = helper.strip_prefix("xx-").unwrap_or(helper);
    let key = match name {
        "cc" | "c++" | "clang" | "clang++" => "CC",
        "apt" | "apt-get" => "APT",
        other => return format!("XX_DEBUG_{}", other.to_ascii_uppercase().replace('-', "_")),
    };
    format!("XX_DEBUG_{key}")
}

/// Whether tracing is on for `helper` (its variable is set and not empty).
pub fn enabled(helper: &str) -> bool {
    std::env::var_os(var_for(helper)).is_some_and(|v| !v.is_empty())
}

/// Prints `+ message` when tracing is on.
pub fn note(helper: &str, message: &str) {
    if enabled(helper) {
        eprintln!("+ {message}");
    }
}

/// Prints the command about to run (`+ KEY=value program args`) when
/// tracing is on, and hands it back so a call site stays one expression.
pub fn command<'a>(helper: &str, cmd: &'a mut Command) -> &'a mut Command {
    if enabled(helper) {
        eprintln!("+ {}", render(cmd));
    }
    cmd
}

/// A command as a shell line: the variables it sets, the program, the
/// arguments, each quoted when the shell would need it.
fn render(cmd: &Command) -> String {
    let vars = cmd.get_envs().filter_map(|(k, v)| {
        v.map(|v| format!("{}={}", k.to_string_lossy(), quote(&v.to_string_lossy())))
    });
    let words = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|w| quote(&w.to_string_lossy()));
    vars.chain(words).collect::<Vec<_>>().join(" ")
}

/// `word`, single-quoted if it holds anything but plain characters.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_per_helper() {
        assert_eq!(var_for("xx-apt-get"), "XX_DEBUG_APT");
        assert_eq!(var_for("xx-apt"), "XX_DEBUG_APT");
        assert_eq!(var_for("xx-apk"), "XX_DEBUG_APK");
        assert_eq!(var_for("xx-cargo"), "XX_DEBUG_CARGO");
        assert_eq!(var_for("xx-verify"), "XX_DEBUG_VERIFY");
        assert_eq!(var_for("xx-clang++"), "XX_DEBUG_CC");
        assert_eq!(var_for("xx-go"), "XX_DEBUG_GO");
    }

    #[test]
    fn commands_render_as_shell_lines() {
        let mut cmd = Command::new("apt-get");
        cmd.args(["install", "-y", "libc6-dev:arm64", "two words", "it's"])
            .env("DEBIAN_FRONTEND", "noninteractive");
        assert_eq!(
            render(&cmd),
            "DEBIAN_FRONTEND=noninteractive apt-get install -y libc6-dev:arm64 'two words' 'it'\\''s'"
        );
    }
}
