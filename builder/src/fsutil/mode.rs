//! `COPY --chmod` values: an octal mode (`0755`, at most `07777`) or a
//! symbolic one in chmod(1) syntax (`u+x`, `go=rX`, `a-w,u+s`), which
//! BuildKit accepts since Dockerfile 1.14. The symbolic form follows BSD's
//! `setmode(3)` as BuildKit uses it, with a umask of 0:
//!
//! - clauses are separated by `,`; each is `[ugoa]*` then one or more
//!   operations `[+-=]` followed by permission letters `rwxXst` or a single
//!   copy source `u`, `g` or `o`;
//! - no `who` means everyone (the umask is 0);
//! - `=` first clears the `who` bits (all but sticky when `who` is empty);
//! - `X` adds execute only if the entry is a directory or its mode *before*
//!   the whole `--chmod` had an execute bit; `-X` is the same as `-x`;
//! - `s` is setuid/setgid (for the `u`/`g` named, both without `who`), `t`
//!   the sticky bit (only without `who` or with `u`/`g`/`a`);
//! - `u`, `g`, `o` copy that class's current bits to the `who` classes.

const SUID: u32 = 0o4000;
const SGID: u32 = 0o2000;
const STICKY: u32 = 0o1000;
const RWXU: u32 = 0o700;
const RWXG: u32 = 0o070;
const RWXO: u32 = 0o007;
const STANDARD: u32 = SUID | SGID | RWXU | RWXG | RWXO;
const ALL_R: u32 = 0o444;
const ALL_W: u32 = 0o222;
const ALL_X: u32 = 0o111;

/// A parsed `--chmod`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// An octal mode: every copied entry gets exactly these bits.
    Octal(u32),
    /// A symbolic mode: applied to each entry's own mode.
    Symbolic(Vec<Cmd>),
}

/// One step of a symbolic mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// Clear these bits.
    Clear(u32),
    /// Set these bits.
    Set(u32),
    /// Set these bits if the original mode had an execute bit or is a directory.
    SetIfX(u32),
    /// Copy a class's current bits (`src_shift`: 6 user, 3 group, 0 other)
    /// to the classes in `to` (a mask of 0o700/0o070/0o007), by `op`.
    Copy {
        /// Which class is read.
        src_shift: u32,
        /// Which classes are written.
        to: u32,
        /// `+`, `-` or `=`.
        op: u8,
    },
}

const SYNTAX_HINT: &str = "use an octal mode (0755) or chmod's symbolic form (u+x, go=rX, a-w)";

impl Mode {
    /// Parses a `--chmod` value as BuildKit accepts it.
    pub fn parse(s: &str) -> Result<Mode, String> {
        let bad = || format!("invalid --chmod={s}: {SYNTAX_HINT}");
        if s.starts_with(|c: char| c.is_ascii_digit()) {
            let v = u32::from_str_radix(s, 8).map_err(|_| {
                format!("invalid chmod parameter {s:?}: it should be an octal string between 0 and 07777")
            })?;
            if v > 0o7777 {
                return Err(format!(
                    "invalid chmod parameter {s:?}: it should be an octal string between 0 and 07777"
                ));
            }
            return Ok(Mode::Octal(v));
        }
        let mut cmds = Vec::new();
        for clause in s.split(',') {
            parse_clause(clause, &mut cmds).ok_or_else(bad)?;
        }
        Ok(Mode::Symbolic(cmds))
    }

    /// The mode an entry whose mode is `mode` (permission bits and the
    /// setuid/setgid/sticky bits) gets.
    pub fn apply(&self, mode: u32, is_dir: bool) -> u32 {
        let orig = mode & 0o7777;
        let cmds = match self {
            Mode::Octal(m) => return *m,
            Mode::Symbolic(c) => c,
        };
        let mut m = orig;
        for c in cmds {
            match *c {
                Cmd::Clear(b) => m &= !b,
                Cmd::Set(b) => m |= b,
                Cmd::SetIfX(b) => {
                    if is_dir || orig & ALL_X != 0 {
                        m |= b;
                    }
                }
                Cmd::Copy { src_shift, to, op } => {
                    let v = (m >> src_shift) & 0o7;
                    let spread = (v << 6 | v << 3 | v) & to;
                    match op {
                        // `-u`: clear the bits the source class has.
                        b'-' => m &= !spread,
                        b'=' => m = (m & !to) | spread,
                        _ => m |= spread,
                    }
                }
            }
        }
        m
    }

    /// The mode of directories a copy creates on the way to its
    /// destination: an octal `--chmod`'s permission bits (BuildKit creates
    /// them with it), else 0755.
    pub fn created_dir_mode(mode: Option<&Mode>) -> u32 {
        match mode {
            Some(Mode::Octal(m)) => m & 0o777,
            _ => 0o755,
        }
    }
}

/// One `who op perms [op perms]…` clause; `None` on a syntax error.
fn parse_clause(clause: &str, cmds: &mut Vec<Cmd>) -> Option<()> {
    let b = clause.as_bytes();
    let mut i = 0;
    let mut who = 0u32;
    while let Some(c) = b.get(i) {
        who |= match c {
            b'a' => STANDARD,
            b'u' => SUID | RWXU,
            b'g' => SGID | RWXG,
            b'o' => RWXO,
            _ => break,
        };
        i += 1;
    }
    let mask = |bits: u32| if who == 0 { bits } else { who & bits };
    if i >= b.len() {
        return None;
    }
    while i < b.len() {
        let op = b[i];
        if !matches!(op, b'+' | b'-' | b'=') {
            return None;
        }
        i += 1;
        let (mut perm, mut perm_x) = (0u32, 0u32);
        let mut sticky_ok = false;
        let mut copied = false;
        while let Some(&c) = b.get(i) {
            match c {
                b'r' => perm |= ALL_R,
                b'w' => perm |= ALL_W,
                b'x' => perm |= ALL_X,
                b'X' if op == b'-' => perm |= ALL_X,
                b'X' => perm_x = ALL_X,
                b's' if who == 0 || who & !RWXO != 0 => perm |= SUID | SGID,
                b't' if who == 0 || who & !RWXO != 0 => {
                    sticky_ok = true;
                    perm |= STICKY;
                }
                b's' | b't' => {}
                b'u' | b'g' | b'o' => {
                    let src_shift = match c {
                        b'u' => 6,
                        b'g' => 3,
                        _ => 0,
                    };
                    let to = if who == 0 {
                        RWXU | RWXG | RWXO
                    } else {
                        who & 0o777
                    };
                    cmds.push(Cmd::Copy { src_shift, to, op });
                    copied = true;
                    i += 1;
                    break;
                }
                _ => break,
            }
            i += 1;
        }
        let bits = if sticky_ok {
            (if who == 0 { STANDARD } else { who } | STICKY) & perm
        } else {
            mask(perm)
        };
        // `=` clears the `who` bits first, unless it copied a class.
        if op == b'=' && !copied {
            cmds.push(Cmd::Clear(if who == 0 { STANDARD } else { who }));
        }
        match op {
            b'-' => cmds.push(Cmd::Clear(bits)),
            _ if bits != 0 => cmds.push(Cmd::Set(bits)),
            _ => {}
        }
        if perm_x != 0 {
            cmds.push(Cmd::SetIfX(mask(perm_x)));
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sym(s: &str, mode: u32, dir: bool) -> u32 {
        Mode::parse(s).unwrap().apply(mode, dir)
    }

    #[test]
    fn octal_modes_replace_and_are_bounded() {
        assert_eq!(sym("0755", 0o600, false), 0o755);
        assert_eq!(sym("4755", 0o600, false), 0o4755);
        assert!(Mode::parse("17777").is_err());
        assert!(Mode::parse("9").is_err());
    }

    #[test]
    fn symbolic_modes_follow_chmod() {
        assert_eq!(sym("u+x", 0o644, false), 0o744);
        assert_eq!(sym("+x", 0o644, false), 0o755);
        assert_eq!(sym("go=rX", 0o640, false), 0o644);
        assert_eq!(sym("go=rX", 0o740, false), 0o755);
        assert_eq!(sym("go=rX", 0o700, true), 0o755);
        assert_eq!(sym("a-w", 0o666, false), 0o444);
        assert_eq!(sym("u=rw,g=r,o=", 0o777, false), 0o640);
        assert_eq!(sym("u+s", 0o755, false), 0o4755);
        assert_eq!(sym("+t", 0o755, true), 0o1755);
        assert_eq!(sym("o+t", 0o755, true), 0o755);
        assert_eq!(sym("g=u", 0o640, false), 0o660);
        assert_eq!(sym("-X", 0o755, false), 0o644);
        // X looks at the mode before the whole --chmod.
        assert_eq!(sym("a-x,a+X", 0o755, false), 0o755);
        assert_eq!(sym("u+x,g+X", 0o600, false), 0o700);
    }

    #[test]
    fn bad_symbolic_modes_are_refused() {
        for bad in ["", "u", "u+x,", "z+x", "u!x", "+q"] {
            assert!(Mode::parse(bad).is_err(), "{bad}");
        }
    }
}
