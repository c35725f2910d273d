//! Unit tests for the tricky corners of the expansion; the bulk of the
//! behaviour is checked against BuildKit's own data in
//! `tests/conformance_shell.rs`.

use super::{ExpandError, expand_word, expand_words};
use std::collections::BTreeSet;

/// A small environment: `FOO`, `EMPTY` (set but empty) and whatever `extra` adds.
fn env_with(extra: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let mut vars: Vec<(String, String)> = vec![
        ("FOO".into(), "foo".into()),
        ("EMPTY".into(), String::new()),
    ];
    vars.extend(extra.iter().map(|&(k, v)| (k.to_string(), v.to_string())));
    move |name: &str| {
        vars.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

fn word(input: &str, extra: &[(&str, &str)]) -> Result<String, ExpandError> {
    expand_word(input, &env_with(extra), '\\').map(|e| e.value)
}

fn ok(input: &str, extra: &[(&str, &str)]) -> String {
    match word(input, extra) {
        Ok(v) => v,
        Err(e) => panic!("{input:?} failed: {e} at {}", e.offset),
    }
}

fn err(input: &str, extra: &[(&str, &str)]) -> ExpandError {
    match word(input, extra) {
        Ok(v) => panic!("{input:?} expanded to {v:?} instead of failing"),
        Err(e) => e,
    }
}

#[test]
fn required_variables() {
    let x = [("ARG", "x")];
    assert_eq!(ok("${FOO:?message here$ARG}", &x), "foo");
    assert_eq!(
        err("${EMPTY:?message here$ARG}", &x).message,
        "EMPTY: message herex"
    );
    assert_eq!(
        err("${NOPE:?message here$ARG}", &x).message,
        "NOPE: message herex"
    );
    assert_eq!(ok("${EMPTY?message}", &x), "");
    assert_eq!(
        err("${NOPE?}", &x).message,
        "NOPE: is not allowed to be unset"
    );
    assert_eq!(
        err("${EMPTY:?}", &x).message,
        "EMPTY: is not allowed to be empty"
    );
}

#[test]
fn colon_and_plain_forms() {
    assert_eq!(ok("${FOO-a}|${EMPTY-b}|${NOPE-c}", &[]), "foo||c");
    assert_eq!(ok("${FOO:-a}|${EMPTY:-b}|${NOPE:-c}", &[]), "foo|b|c");
    assert_eq!(ok("${FOO+a}|${EMPTY+b}|${NOPE+c}", &[]), "a|b|");
    assert_eq!(ok("${FOO:+a}|${EMPTY:+b}|${NOPE:+c}", &[]), "a||");
}

#[test]
fn unsupported_forms_fail() {
    for input in [
        "${FOO=a}",
        "${FOO:=a}",
        "${FOO=}",
        "${FOO:#a}",
        "${FOO:%%a}",
        "${#FOO}",
        "${FOO:1:2}",
        "${FOO^^}",
    ] {
        err(input, &[]);
    }
}

#[test]
fn trimming() {
    let v = [("V", "xxyy"), ("BAR", "x"), ("NUL", ""), ("VER", "1.2.3")];
    assert_eq!(ok("${V#*x*y}", &v), "y");
    assert_eq!(
        ok("${V#*}|${V##*}|${V#}|${V##}|${V%}", &v),
        "xxyy||xxyy|xxyy|xxyy"
    );
    assert_eq!(ok("${V#$BAR}|${V#$NUL}|${V%%$NUL}", &v), "xyy|xxyy|xxyy");
    assert_eq!(ok("${V##*x}", &v), "yy");
    assert_eq!(
        ok("${VER%.*}|${VER%%.*}|${VER#*.}|${VER##*.}", &v),
        "1.2|1|2.3|3"
    );
    assert_eq!(ok("${NOPE:-.}${V%x}${NOPE:-.}", &v), ".xxyy.");
    assert_eq!(ok("${UNSET#x}|${UNSET%x}", &v), "|");
}

#[test]
fn pattern_escapes() {
    let v = [
        ("F", r"()[]{}^$.*?|\x"),
        ("S", "xx**"),
        ("Q", "???y"),
        ("T", "a***yy*"),
    ];
    assert_eq!(ok(r"${F#()[]{\}^$.\*\?|\\}", &v), "x");
    assert_eq!(ok(r"${S%%\**}", &v), "xx");
    assert_eq!(ok(r"${Q#?\?}", &v), "?y");
    assert_eq!(ok(r"${T%%\**\*}", &v), "a");
    assert!(err(r"${S#\x}", &v).message.contains("invalid escape"));
}

#[test]
fn brackets_are_literal_as_in_buildkit() {
    let v = [("B", "[ab]c"), ("A", "abc")];
    assert_eq!(ok("${B#[ab]}|${A#[ab]}", &v), "c|abc");
    assert_eq!(ok("${B/[ab]/x}", &v), "xc");
}

#[test]
fn stars_do_not_cross_newlines() {
    let v = [("N", "a\nb/c")];
    assert_eq!(ok("${N##*/}", &v), "a\nb/c");
    assert_eq!(ok("${N%/*}", &v), "a\nb");
    assert_eq!(ok("${N#*b}", &v), "a\nb/c");
    assert_eq!(ok("${N//?/-}", &v), "-\n---");
}

#[test]
fn substitution() {
    let v = [
        ("P", "/foo*/*/*.txt"),
        ("STAR", r"\*/"),
        ("T", "/tmp/tmp/bar.txt"),
        ("TMP", "/tmp"),
        ("A", "/a/foo/b/c.txt"),
        ("Q", "/?/"),
        ("SL", "/"),
        ("U", "http://google.de"),
        ("H", "http://"),
        ("HS", "https://"),
    ];
    assert_eq!(
        ok("${P/$STAR/.} - ${P//$STAR/.}", &v),
        "/foo.*/*.txt - /foo..*.txt"
    );
    assert_eq!(
        ok("${T/$TMP/} - ${T//$TMP/}", &v),
        "/tmp/bar.txt - /bar.txt"
    );
    assert_eq!(
        ok("${A/$Q/$SL} - ${A//$Q/$SL}", &v),
        "/foo/b/c.txt - /foo/c.txt"
    );
    assert_eq!(ok("${U/$H/$HS}", &v), "https://google.de");
    // BuildKit keeps the escape in the replacement.
    assert_eq!(ok(r"${TMP//\//\/}", &v), r"\/tmp");
    assert_eq!(
        ok("${FOO/$EMPTY/ww}|${FOO///}|${NOPE///}", &v),
        "wwfoo|foo|"
    );
    assert_eq!(
        err("${FOO//ww}", &v).message,
        "syntax error: missing '/' in ${}"
    );
    err("${FOO//}", &v);
    // `$$` in an operand is the (unset) special parameter...
    assert_eq!(ok("${FOO/o/<$$>}", &v), "f<>o");
    // ...but a `$` reaching the replacement makes it a Go template, for `//` only.
    let r = [("R", "<$$|$0>")];
    assert_eq!(ok("${FOO/o/$R}|${FOO//o/$R}", &r), "f<$$|$0>o|f<$|o><$|o>");
}

#[test]
fn quoting_inside_operands() {
    assert_eq!(ok(r#"${NOPE:-"a b"}"#, &[]), "a b");
    assert_eq!(ok(r#"${NOPE:-'}'}"#, &[]), "}");
    // Quotes are removed but do not make `*` literal.
    assert_eq!(ok(r#"${FOO#"f*"}"#, &[]), "oo");
    // Inside quotes in a pattern, an escape that escapes nothing is literal.
    assert_eq!(ok(r#"${B#"\a"}"#, &[("B", r"\ab")]), "b");
}

#[test]
fn escapes_outside_and_inside_quotes() {
    assert_eq!(ok(r"a\$FOO\\\b\", &[]), r"a$FOO\b");
    assert_eq!(ok(r#""a\$FOO\\\b\"""#, &[]), r#"a$FOO\\b""#);
    assert_eq!(ok("'a\\$FOO'", &[]), "a\\$FOO");
    assert_eq!(
        expand_word("a`$FOO`b\\", &env_with(&[]), '`').map(|e| e.value),
        Ok("a$FOOb\\".to_string())
    );
}

#[test]
fn dollar_edge_cases() {
    assert_eq!(ok("$", &[]), "$");
    assert_eq!(ok("a$ b$.c$-d$@e$$f$1g$10h$0i", &[]), "a$ b$.cdefghi");
    assert_eq!(ok("$FOO_x$FOOx${FOO}x", &[]), "foox");
    assert_eq!(ok("$한국어", &[("한국어", "ko")]), "ko");
    assert_eq!(ok("${+x}|${/a/b}", &[]), "|");
}

#[test]
fn leading_bom_is_dropped_like_go_text_scanner() {
    assert_eq!(ok("\u{feff}a\u{feff}b", &[]), "a\u{feff}b");
    assert_eq!(err("\u{feff}'", &[]).offset, 3);
    let v = [("B", "\u{feff}ab"), ("P", "\u{feff}a")];
    assert_eq!(ok("${B#$P}|${B#\u{feff}a}", &v), "\u{feff}ab|\u{feff}ab");
}

#[test]
fn used_names() {
    let result = expand_word(
        "$FOO ${NOPE:-$EMPTY} ${1} $$ '$NOT' ${T#$P}",
        &env_with(&[]),
        '\\',
    )
    .unwrap();
    let expected: BTreeSet<String> = ["FOO", "NOPE", "EMPTY", "1", "$", "T", "P"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(result.used, expected);
    let (_, used) = expand_words("${TARGETARCH:-amd64}", &env_with(&[]), '\\').unwrap();
    assert!(used.contains("TARGETARCH"));
}

#[test]
fn error_offsets_point_at_the_construct() {
    assert_eq!(err("ab${FOO", &[]).offset, 2);
    assert_eq!(err("ab'cd", &[]).offset, 2);
    assert_eq!(err("한\"cd", &[]).offset, 3);
    assert_eq!(
        err("x${FOO:-\"a", &[]),
        ExpandError {
            message: "syntax error: missing '}'".into(),
            offset: 1
        }
    );
    assert_eq!(err("x${}", &[]).offset, 1);
    assert_eq!(err("x${a:-${b?oops}}", &[]).offset, 6);
}

#[test]
fn word_splitting() {
    let env = env_with(&[("SP", " a  b "), ("E", "")]);
    let words = |input: &str| expand_words(input, &env, '\\').map(|(w, _)| w);
    assert_eq!(words("x${SP}y").unwrap(), ["x", "a", "b", "y"]);
    assert_eq!(words("x\"${SP}\"y").unwrap(), ["x a  b y"]);
    assert_eq!(words(r#""" $E '' z"#).unwrap(), ["z"]);
    assert_eq!(words(r"a\ b c").unwrap(), ["a b", "c"]);
    assert_eq!(words(r#"${NOPE:-"p q"}"#).unwrap(), ["p", "q"]);
    assert!(words("a 'b").is_err());
}

/// xorshift64*: deterministic pseudo-random numbers without a crate.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

#[test]
fn random_words_never_panic() {
    const ALPHABET: &[char] = &[
        '$', '{', '}', ':', '-', '+', '?', '#', '%', '/', '\\', '\'', '"', 'a', 'b', '*', ' ', '`',
        '\n', '한',
    ];
    let env = env_with(&[("a", "a*b\\"), ("b", " x\ny "), ("ab", "")]);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..6000 {
        let len = rng.below(24);
        let input: String = (0..len)
            .map(|_| ALPHABET[rng.below(ALPHABET.len())])
            .collect();
        for escape in ['\\', '`'] {
            let single = expand_word(&input, &env, escape);
            let split = expand_words(&input, &env, escape);
            assert_eq!(single.is_ok(), split.is_ok(), "{input:?}");
            match (single, split) {
                (Ok(one), Ok((words, used))) => {
                    assert_eq!(one.used, used, "{input:?}");
                    assert!(words.iter().all(|w| !w.is_empty()), "{input:?}");
                }
                (Err(e), _) => {
                    assert!(
                        input.is_char_boundary(e.offset) && e.offset <= input.len(),
                        "{input:?}: {e:?}"
                    );
                }
                _ => {}
            }
        }
    }
}
