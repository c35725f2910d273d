//! `.dockerignore` semantics, checked against the cases Docker documents and
//! moby/patternmatcher tests (cited per table), plus properties: no panics
//! on arbitrary input, and `can_skip_dir` never skips an included file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use mxbuild::dockerfile::ignore::{IgnoreMatcher, load_for, load_for_with_path};

/// Builds a matcher from patterns, failing the test on an error.
fn matcher(patterns: &[&str]) -> IgnoreMatcher {
    IgnoreMatcher::from_patterns(patterns)
        .unwrap_or_else(|e| panic!("patterns {patterns:?} should parse: {e}"))
}

/// Checks `(patterns, path, excluded)` rows.
fn check(rows: &[(&[&str], &str, bool)]) {
    for (patterns, path, want) in rows {
        let got = matcher(patterns).is_excluded(path);
        assert_eq!(got, *want, "patterns {patterns:?}, path {path:?}");
    }
}

/// Checks single-pattern rows `(pattern, path, excluded)`.
fn check_one(rows: &[(&str, &str, bool)]) {
    for (pattern, path, want) in rows {
        let got = matcher(&[pattern]).is_excluded(path);
        assert_eq!(got, *want, "pattern {pattern:?}, path {path:?}");
    }
}

// moby/patternmatcher patternmatcher_test.go, TestMatches, as checked by
// MatchesOrParentMatches (pass = exact or inexact). The two rows whose path
// is "/" are left out: here "/" is the context root, which is never excluded.
#[test]
fn moby_match_table() {
    check_one(&[
        ("**", "file", true),
        ("**", "file/", true),
        ("**/", "file", true),
        ("**/", "file/", true),
        ("**", "dir/file", true),
        ("**/", "dir/file", true),
        ("**", "dir/file/", true),
        ("**/", "dir/file/", true),
        ("**/**", "dir/file", true),
        ("**/**", "dir/file/", true),
        ("dir/**", "dir/file", true),
        ("dir/**", "dir/file/", true),
        ("dir/**", "dir/dir2/file", true),
        ("dir/**", "dir/dir2/file/", true),
        ("**/dir", "dir", true),
        ("**/dir", "dir/file", true),
        ("**/dir2/*", "dir/dir2/file", true),
        ("**/dir2/*", "dir/dir2/file/", true),
        ("**/dir2/**", "dir/dir2/dir3/file", true),
        ("**/dir2/**", "dir/dir2/dir3/file/", true),
        ("**file", "file", true),
        ("**file", "dir/file", true),
        ("**/file", "dir/file", true),
        ("**file", "dir/dir/file", true),
        ("**/file", "dir/dir/file", true),
        ("**/file*", "dir/dir/file", true),
        ("**/file*", "dir/dir/file.txt", true),
        ("**/file*txt", "dir/dir/file.txt", true),
        ("**/file*.txt", "dir/dir/file.txt", true),
        ("**/file*.txt*", "dir/dir/file.txt", true),
        ("**/**/*.txt", "dir/dir/file.txt", true),
        ("**/**/*.txt2", "dir/dir/file.txt", false),
        ("**/*.txt", "file.txt", true),
        ("**/**/*.txt", "file.txt", true),
        ("a**/*.txt", "a/file.txt", true),
        ("a**/*.txt", "a/dir/file.txt", true),
        ("a**/*.txt", "a/dir/dir/file.txt", true),
        ("a/*.txt", "a/dir/file.txt", false),
        ("a/*.txt", "a/file.txt", true),
        ("a/*.txt**", "a/file.txt", true),
        ("a[b-d]e", "ae", false),
        ("a[b-d]e", "ace", true),
        ("a[b-d]e", "aae", false),
        ("a[^b-d]e", "aze", true),
        (".*", ".foo", true),
        (".*", "foo", false),
        ("abc.def", "abcdef", false),
        ("abc.def", "abc.def", true),
        ("abc.def", "abcZdef", false),
        ("abc?def", "abcZdef", true),
        ("abc?def", "abcdef", false),
        ("**/foo/bar", "foo/bar", true),
        ("**/foo/bar", "dir/foo/bar", true),
        ("**/foo/bar", "dir/dir2/foo/bar", true),
        ("abc/**", "abc", false),
        ("abc/**", "abc/def", true),
        ("abc/**", "abc/def/ghi", true),
        ("**/.foo", ".foo", true),
        ("**/.foo", "bar.foo", false),
        ("a(b)c/def", "a(b)c/def", true),
        ("a(b)c/def", "a(b)c/xyz", false),
        ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
        (
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            true,
        ),
        (
            "dist/*.whl",
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            true,
        ),
        ("a\\\\", "a\\", true),
        ("a\\*b", "a*b", true),
    ]);
}

// moby/patternmatcher TestMatches multiPatternTests.
#[test]
fn moby_multi_pattern_table() {
    let whl = "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl";
    check(&[
        (&["**", "!util/docker/web"], "util/docker/web/foo", false),
        (
            &["**", "!util/docker/web", "util/docker/web/foo"],
            "util/docker/web/foo",
            true,
        ),
        (
            &[
                "**",
                "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
            ],
            whl,
            false,
        ),
        (&["**", "!dist/*.whl"], whl, false),
    ]);
}

// moby/patternmatcher TestMatch: Go's own filepath.Match table, run through
// the pattern matcher. `None` = the pattern must be refused.
#[test]
fn go_filepath_match_table() {
    let rows: &[(&str, &str, Option<bool>)] = &[
        ("abc", "abc", Some(true)),
        ("*", "abc", Some(true)),
        ("*c", "abc", Some(true)),
        ("a*", "a", Some(true)),
        ("a*", "abc", Some(true)),
        ("a*", "ab/c", Some(true)),
        ("a*/b", "abc/b", Some(true)),
        ("a*/b", "a/c/b", Some(false)),
        ("a*b*c*d*e*/f", "axbxcxdxe/f", Some(true)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/f", Some(true)),
        ("a*b*c*d*e*/f", "axbxcxdxe/xxx/f", Some(false)),
        ("a*b*c*d*e*/f", "axbxcxdxexxx/fff", Some(false)),
        ("a*b?c*x", "abxbbxdbxebxczzx", Some(true)),
        ("a*b?c*x", "abxbbxdbxebxczzy", Some(false)),
        ("ab[c]", "abc", Some(true)),
        ("ab[b-d]", "abc", Some(true)),
        ("ab[e-g]", "abc", Some(false)),
        ("ab[^c]", "abc", Some(false)),
        ("ab[^b-d]", "abc", Some(false)),
        ("ab[^e-g]", "abc", Some(true)),
        ("a\\*b", "a*b", Some(true)),
        ("a\\*b", "ab", Some(false)),
        ("a?b", "a☺b", Some(true)),
        ("a[^a]b", "a☺b", Some(true)),
        ("a???b", "a☺b", Some(false)),
        ("a[^a][^a][^a]b", "a☺b", Some(false)),
        ("[a-ζ]*", "α", Some(true)),
        ("*[a-ζ]", "A", Some(false)),
        ("a?b", "a/b", Some(false)),
        ("a*b", "a/b", Some(false)),
        ("[\\]a]", "]", Some(true)),
        ("[\\-]", "-", Some(true)),
        ("[x\\-]", "x", Some(true)),
        ("[x\\-]", "-", Some(true)),
        ("[x\\-]", "z", Some(false)),
        ("[\\-x]", "x", Some(true)),
        ("[\\-x]", "-", Some(true)),
        ("[\\-x]", "a", Some(false)),
        ("[]a]", "]", None),
        ("[-]", "-", None),
        ("[x-]", "x", None),
        ("[-x]", "x", None),
        ("\\", "a", None),
        ("[a-b-c]", "a", None),
        ("[", "a", None),
        ("[^", "a", None),
        ("[^bc", "a", None),
        ("a[", "a", None),
        ("a[", "ab", None),
        ("*x", "xxx", Some(true)),
    ];
    for (pattern, path, want) in rows {
        match (IgnoreMatcher::from_patterns(&[pattern]), want) {
            (Ok(m), Some(w)) => assert_eq!(m.is_excluded(path), *w, "{pattern:?} vs {path:?}"),
            (Err(_), None) => {}
            (Ok(_), None) => panic!("{pattern:?} should be refused"),
            (Err(e), Some(_)) => panic!("{pattern:?} should parse: {e}"),
        }
    }
}

// moby/patternmatcher: TestPatternMatchesFolderExclusions and friends,
// TestExclusionPatternMatchesPatternBefore/After, TestWildcardMatches.
#[test]
fn moby_exception_cases() {
    check(&[
        (&["*"], "fileutils.go", true),
        (&["*.go"], "fileutils.go", true),
        (&["!fileutils.go", "*.go"], "fileutils.go", true),
        (&["*.go", "!fileutils.go"], "fileutils.go", false),
        (&["docs", "!docs/README.md"], "docs/README.md", false),
        (&["docs/", "!docs/README.md"], "docs/README.md", false),
        (&["docs/*", "!docs/README.md"], "docs/README.md", false),
        (&["docs", "!docs/README.md"], "docs/other.md", true),
        (&[], "any/path/there", false),
    ]);
}

// Docker docs, "Build context" > ".dockerignore files": the example file.
#[test]
fn docs_matching_example() {
    let m = IgnoreMatcher::parse("# comment\n*/temp*\n*/*/temp*\ntemp?\n").unwrap();
    assert_eq!(m.patterns(), ["*/temp*", "*/*/temp*", "temp?"]);
    for excluded in [
        "somedir/temporary.txt",
        "somedir/temp",
        "somedir/temp/inner.txt",
        "somedir/subdir/temporary.txt",
        "tempa",
        "tempb",
    ] {
        assert!(m.is_excluded(excluded), "{excluded}");
    }
    for kept in ["temp", "temporary.txt", "tempab", "a/b/c/temp", "# comment"] {
        assert!(!m.is_excluded(kept), "{kept}");
    }
}

// Docker docs: "**/*.go excludes all files that end with .go found anywhere".
#[test]
fn docs_double_star_go() {
    check_one(&[
        ("**/*.go", "main.go", true),
        ("**/*.go", "cmd/tool/main.go", true),
        ("**/*.go", "main.gox", false),
        ("**/*.go", "go", false),
    ]);
}

// Docker docs, "Negating matches": the three examples.
#[test]
fn docs_negation_examples() {
    let readme = IgnoreMatcher::parse("*.md\n!README.md\n").unwrap();
    assert!(readme.is_excluded("CHANGELOG.md"));
    assert!(!readme.is_excluded("README.md"));
    // "markdown files under subdirectories are still included"
    assert!(!readme.is_excluded("docs/guide.md"));

    let secret_last = IgnoreMatcher::parse("*.md\n!README*.md\nREADME-secret.md\n").unwrap();
    assert!(secret_last.is_excluded("README-secret.md"));
    assert!(secret_last.is_excluded("CHANGELOG.md"));
    assert!(!secret_last.is_excluded("README.md"));
    assert!(!secret_last.is_excluded("README-public.md"));

    let readme_last = IgnoreMatcher::parse("*.md\nREADME-secret.md\n!README*.md\n").unwrap();
    assert!(!readme_last.is_excluded("README-secret.md"));
    assert!(!readme_last.is_excluded("README.md"));
    assert!(readme_last.is_excluded("CHANGELOG.md"));
}

// Exceptions: re-including inside an excluded directory, overriding again,
// and an exception before the exclusion having no effect.
#[test]
fn exceptions_and_overrides() {
    let p: &[&str] = &["build", "!build/keep", "build/keep/secret"];
    check(&[
        (p, "build", true),
        (p, "build/out.o", true),
        (p, "build/keep", false),
        (p, "build/keep/a.txt", false),
        (p, "build/keep/secret", true),
        (p, "build/keep/secret/key", true),
        (p, "building", false),
        (&["*", "!src", "src/**/*.tmp"], "src/a/b.tmp", true),
        (&["*", "!src", "src/**/*.tmp"], "src/a/b.rs", false),
        (&["*", "!src", "src/**/*.tmp"], "Cargo.toml", true),
        (&["!keep.txt", "*.txt"], "keep.txt", true),
        (&["*.txt", "!keep.txt", "*.txt"], "keep.txt", true),
        (&["*.txt", "!*.txt"], "a.txt", false),
        // Last match wins, parents included (patternmatcher's
        // MatchesOrParentMatches). BuildKit's context walker, which reuses
        // per-directory results (MatchesUsingParentResults), keeps this one:
        // a known divergence of that walker from the documented rule.
        (
            &["node_modules", "!node_modules/keep", "**/node_modules"],
            "node_modules/keep/x",
            true,
        ),
    ]);
}

// `**` leading, in the middle, trailing; and BuildKit's own quirks.
#[test]
fn double_star_positions() {
    check_one(&[
        ("**/foo", "foo", true),
        ("**/foo", "a/b/foo", true),
        ("**/foo", "a/b/foo/c", true),
        ("**/foo", "a/bfoo", false),
        ("foo/**", "foo", false),
        ("foo/**", "foo/a", true),
        ("foo/**", "foo/a/b/c", true),
        ("foo/**", "foobar/a", false),
        ("a/**/b", "a/b", true),
        ("a/**/b", "a/x/b", true),
        ("a/**/b", "a/x/y/z/b", true),
        ("a/**/b", "a/x/y/z/b/c", true),
        ("a/**/b", "a/xb", false),
        ("a/**/b", "b", false),
        ("**", "anything/at/all", true),
        // BuildKit compares "**" + literal as a plain suffix...
        ("**file", "xfile", true),
        ("**.log", "debug.log", true),
        ("**.log", "logs/app.log", true),
        // ...but in the middle `**` becomes `(.*/)?`, so it needs a `/`.
        ("a**b", "ab", true),
        ("a**b", "a/b", true),
        ("a**b", "ax/y/b", true),
        ("a**b", "axb", false),
        // `**` in an expression does not cross a newline in a name.
        ("**/x*", "a\nb/xy", false),
        ("*/x*", "a\nb/xy", true),
    ]);
}

// Anchoring at the context root, leading `/`, `./`, trailing `/`.
#[test]
fn anchored_at_root() {
    check_one(&[
        ("foo", "foo", true),
        ("foo", "a/foo", false),
        ("/foo", "foo", true),
        ("/foo", "a/foo", false),
        ("./foo", "foo", true),
        ("foo/", "foo", true),
        ("/foo/bar/", "foo/bar", true),
        ("/foo/bar", "foo/bar", true),
        ("foo/bar/", "foo/bar", true),
        ("foo/bar", "foo/bar", true),
        ("foo/bar", "bar", false),
        ("foo/bar", "x/foo/bar", false),
        ("./a//b/", "a/b/c", true),
        ("a/../b", "b", true),
        ("a/../b", "a/b", false),
        ("*/foo", "a/foo", true),
        ("*/foo", "a/b/foo", false),
        // "For historical reasons, the pattern . is ignored." (Docker docs)
        (".", "anything", false),
        ("./", "anything", false),
        ("/", "anything", false),
    ]);
    // The path side is cleaned too; the root itself is never excluded.
    let m = matcher(&["foo"]);
    assert!(m.is_excluded("./foo"));
    assert!(m.is_excluded("foo/"));
    assert!(m.is_excluded("/foo"));
    assert!(!matcher(&["*"]).is_excluded("."));
    assert!(!matcher(&["**"]).is_excluded(""));
}

// A pattern that matches a directory excludes the whole tree.
#[test]
fn directories_exclude_their_tree() {
    check_one(&[
        ("node_modules", "node_modules/a/b/c.js", true),
        ("*.d", "conf.d/site.conf", true),
        ("a/b", "a/b/c/d/e", true),
        ("a/b", "a/bc/d", false),
        ("te?t", "test/x/y", true),
    ]);
}

// `*`, `?`, classes, escapes, and what BuildKit's regular expression makes
// of the odd ones.
#[test]
fn wildcards_classes_escapes() {
    check_one(&[
        ("*.txt", "a.txt", true),
        ("*.txt", ".txt", true),
        ("*.txt", "dir/a.txt", false),
        ("?.c", "a.c", true),
        ("?.c", "ab.c", false),
        ("?", "é", true),
        ("[abc].o", "b.o", true),
        ("[a-c].o", "d.o", false),
        ("[^a-c].o", "d.o", true),
        ("[!a].o", "!.o", true),
        ("[!a].o", "b.o", false),
        ("x[\\]]", "x]", true),
        ("\\[x\\]", "[x]", true),
        ("\\*", "*", true),
        ("\\*", "a", false),
        ("a\\?", "a?", true),
        ("a\\?", "ab", false),
        ("\\#notes", "#notes", true),
        ("a]b", "a]b", true),
        ("[[:digit:]]*", "7up", true),
        ("[[:digit:]]*", "up", false),
        ("f\\d", "f1", true),
        ("f\\d", "fd", false),
        ("[é-ë]", "ê", true),
        ("ü*", "über", true),
        ("^foo", "^foo", true),
        ("^foo*", "foobar", true),
        ("^foo*", "^foobar", false),
    ]);
}

// Reading a file: comments only in column 1, blank lines, whitespace, CRLF,
// BOM, `!` with spaces. Cases from moby/patternmatcher ignorefile_test.go.
#[test]
fn reading_the_file() {
    let text =
        "test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n";
    let m = IgnoreMatcher::parse(text).unwrap();
    assert_eq!(
        m.patterns(),
        [
            "test1",
            "test2",
            "a/file/here",
            "lastfile",
            "!inverted/abs/path"
        ]
    );
    assert!(m.has_exceptions());
    assert_eq!(m.len(), 5);

    let m = IgnoreMatcher::parse(
        "\u{feff}# bom comment\r\n  spaced.txt  \r\n\t\r\n  # not a comment\n",
    )
    .unwrap();
    assert_eq!(m.patterns(), ["spaced.txt", "# not a comment"]);
    assert!(m.is_excluded("spaced.txt"));
    assert!(m.is_excluded("# not a comment"));

    let m = IgnoreMatcher::parse("").unwrap();
    assert!(m.is_empty());
    assert!(!m.is_excluded("a"));

    // `from_patterns` does not treat `#` as a comment.
    let m = matcher(&["#x", "", "  "]);
    assert_eq!(m.patterns(), ["#x"]);
}

// Bad patterns: an error naming the line and the pattern, never a panic.
#[test]
fn bad_patterns_name_line_and_pattern() {
    let err = IgnoreMatcher::parse("ok\n# comment\n\nsrc/[abc\n").unwrap_err();
    assert_eq!(err.line, 4);
    assert_eq!(err.pattern, "src/[abc");
    let shown = err.to_string();
    assert!(shown.contains("line 4"), "{shown}");
    assert!(shown.contains("src/[abc"), "{shown}");
    assert!(shown.contains("unterminated"), "{shown}");

    let err = IgnoreMatcher::parse("a\n!\n").unwrap_err();
    assert_eq!((err.line, err.pattern.as_str()), (2, "!"));
    let err = IgnoreMatcher::parse("a\n  !   \n").unwrap_err();
    assert_eq!((err.line, err.pattern.as_str()), (2, "!"));
    // "!/" cleans to a lone "!" once the leading slash is handled.
    assert!(IgnoreMatcher::parse("!/").is_err());

    let err = IgnoreMatcher::from_patterns(&["a", "b", "[z-a]"]).unwrap_err();
    assert_eq!(err.line, 3);
    assert!(err.message.contains("range"), "{}", err.message);

    for bad in [
        "[",
        "a[",
        "[]",
        "[]a]",
        "[-]",
        "[x-]",
        "[a-b-c]",
        "\\",
        "foo\\",
        "[^",
        "x/[^bc",
        "\\y",
        "[[:nope:]]",
        "\\pL",
    ] {
        let err = IgnoreMatcher::from_patterns(&[bad]).unwrap_err();
        assert_eq!(err.line, 1, "{bad}");
        assert!(!err.message.is_empty(), "{bad}");
    }
}

// `can_skip_dir`: true only when nothing beneath can be re-included.
#[test]
fn skipping_directories() {
    let rows: &[(&[&str], &str, bool)] = &[
        (&["node_modules"], "node_modules", true),
        (&["node_modules"], "node_modules/pkg", true),
        (&["node_modules"], "src", false),
        (&["*.o"], "lib", false),
        (&["build", "!build/keep"], "build", false),
        (&["build", "!build/keep"], "build/other", true),
        (&["build", "!build/keep"], "build/keep", false),
        (&["build", "!**/keep"], "build", false),
        (&["build", "!**/keep"], "build/a", false),
        (&["build", "!*.md"], "build", true),
        (&["build", "!build/*.md"], "build", false),
        (&["build", "!build/*.md"], "build/sub", true),
        (&["build", "!build/**"], "build", false),
        (&["build", "!bui*/x"], "build", false),
        (&["build", "!other/x"], "build", true),
        // An exception before the exclusion is overridden by it.
        (&["!build/keep", "build"], "build", true),
        (&["**", "!src/**", "src/gen"], "src/gen", true),
        (&["**", "!src/**"], "src", false),
        (&["**", "!src/**"], "docs", true),
        (&["**", "!**/*.rs"], "docs", false),
        (&["**", "!**.rs"], "docs", false),
        (&["foo"], ".", false),
        (&[], "anything", false),
    ];
    for (patterns, dir, want) in rows {
        let got = matcher(patterns).can_skip_dir(dir);
        assert_eq!(got, *want, "patterns {patterns:?}, dir {dir:?}");
    }
}

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

/// A fresh empty directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let n = UNIQUE.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!(
            "mxbuild-dockerignore-{tag}-{}-{n}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// Which file applies: `<dockerfile>.dockerignore` beats `<context>/.dockerignore`.
#[test]
fn load_for_precedence() {
    let ctx = TempDir::new("precedence");
    let dockerfile = ctx.write("build/app.Dockerfile", "FROM scratch\n");
    ctx.write("Dockerfile", "FROM scratch\n");

    // Neither file.
    assert!(load_for(ctx.path(), &dockerfile).unwrap().is_none());

    // Only the context's.
    ctx.write(".dockerignore", "from-context\n");
    let m = load_for(ctx.path(), &dockerfile).unwrap().unwrap();
    assert!(m.is_excluded("from-context"));

    // Both: the Dockerfile-specific one wins, wholesale.
    let specific = ctx.write("build/app.Dockerfile.dockerignore", "from-specific\n");
    let (used, m) = load_for_with_path(ctx.path(), &dockerfile)
        .unwrap()
        .unwrap();
    assert_eq!(used, specific);
    assert!(m.is_excluded("from-specific"));
    assert!(!m.is_excluded("from-context"));

    // Another Dockerfile in the same context still gets the context's file.
    let m = load_for(ctx.path(), &ctx.path().join("Dockerfile"))
        .unwrap()
        .unwrap();
    assert!(m.is_excluded("from-context"));

    // An empty specific file still takes precedence (and excludes nothing).
    ctx.write("build/app.Dockerfile.dockerignore", "# nothing\n");
    let m = load_for(ctx.path(), &dockerfile).unwrap().unwrap();
    assert!(m.is_empty());

    // Dockerfile from stdin: only the context's file.
    let m = load_for(ctx.path(), Path::new("-")).unwrap().unwrap();
    assert!(m.is_excluded("from-context"));
}

// Errors from `load_for`: bad pattern (with line and file) and unreadable file.
#[test]
fn load_for_errors() {
    let ctx = TempDir::new("errors");
    let dockerfile = ctx.write("Dockerfile", "FROM scratch\n");
    ctx.write(".dockerignore", "ok\n[oops\n");
    let err = load_for(ctx.path(), &dockerfile).unwrap_err();
    assert_eq!(err.line, 2);
    assert_eq!(err.pattern, "[oops");
    assert!(err.to_string().contains(".dockerignore"), "{err}");

    let other = TempDir::new("errors-dir");
    std::fs::create_dir_all(other.path().join(".dockerignore")).unwrap();
    let err = load_for(other.path(), &other.path().join("Dockerfile")).unwrap_err();
    assert_eq!(err.line, 0);
    assert!(err.to_string().contains("cannot read"), "{err}");

    // A context that is not there is simply "no ignore file".
    let missing = ctx.path().join("missing");
    assert!(
        load_for(&missing, &missing.join("Dockerfile"))
            .unwrap()
            .is_none()
    );
}

/// A tiny xorshift64 generator: reproducible pseudo-random cases, no crates.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn string(&mut self, alphabet: &[&str], max_len: usize) -> String {
        let len = self.below(max_len + 1);
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len())])
            .collect()
    }
}

const PATTERN_ALPHABET: &[&str] = &[
    "a",
    "b",
    "/",
    "*",
    "?",
    "**",
    "[",
    "]",
    "!",
    "\\",
    ".",
    "^",
    "-",
    " ",
    "é",
    "[:digit:]",
    "\n",
    "#",
];
const PATH_ALPHABET: &[&str] = &["a", "b", "/", ".", "é", "*", "-", "]"];
/// Names below a directory: no `.` or `..` element, which would climb out.
const CHILD_ALPHABET: &[&str] = &["a", "b", "/", ".a", "é", "*", "-", "]"];

// Property: thousands of random pattern sets and paths never panic, and
// whenever `can_skip_dir` says yes, every path beneath is indeed excluded.
#[test]
fn property_no_panics_and_sound_skips() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let (mut parsed, mut skipped) = (0, 0);
    for _ in 0..4000 {
        let count = 1 + rng.below(4);
        let patterns: Vec<String> = (0..count)
            .map(|_| rng.string(PATTERN_ALPHABET, 8))
            .collect();
        let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
        let _ = IgnoreMatcher::parse(&patterns.join("\n"));
        let Ok(m) = IgnoreMatcher::from_patterns(&refs) else {
            continue;
        };
        parsed += 1;
        for _ in 0..6 {
            let dir = rng.string(PATH_ALPHABET, 6);
            let skip = m.can_skip_dir(&dir);
            let _ = m.is_excluded(&dir);
            if !skip {
                continue;
            }
            skipped += 1;
            assert!(
                m.is_excluded(&dir),
                "{refs:?}: skippable {dir:?} must be excluded"
            );
            for _ in 0..8 {
                let below = format!("{dir}/{}", rng.string(CHILD_ALPHABET, 6));
                assert!(
                    m.is_excluded(&below),
                    "{refs:?}: {dir:?} skippable but {below:?} is included"
                );
            }
        }
    }
    eprintln!("{parsed} pattern sets parsed, {skipped} skippable directories checked");
    assert!(parsed > 1000, "only {parsed} pattern sets parsed");
    assert!(
        skipped > 100,
        "only {skipped} skippable directories checked"
    );
}
