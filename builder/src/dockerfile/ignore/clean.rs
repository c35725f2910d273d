//! Go's `filepath.Clean` for `/`-separated paths. BuildKit cleans every
//! `.dockerignore` pattern with it (twice: once when reading the file and once
//! when compiling the pattern list), so `./a//b/` and `a/b` must mean the same
//! thing here, quirks included.

/// `path` simplified lexically as Go's `path/filepath.Clean` does on Unix:
/// repeated `/` collapse, `.` elements vanish, `x/..` cancels, a trailing `/`
/// goes, `..` at the root of an absolute path is dropped, and an empty result
/// becomes `.`. Only `/` is a separator (`\` is an ordinary character).
pub(super) fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for element in path.split('/') {
        match element {
            "" | "." => {}
            ".." => pop_parent(&mut parts, rooted),
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    if rooted {
        format!("/{body}")
    } else if body.is_empty() {
        ".".to_string()
    } else {
        body
    }
}

/// Applies one `..`: it cancels the previous real element; with nothing to
/// cancel it stays (relative path) or is dropped (absolute path, `/..` = `/`).
fn pop_parent(parts: &mut Vec<&str>, rooted: bool) {
    match parts.last() {
        Some(&last) if last != ".." => {
            parts.pop();
        }
        _ if rooted => {}
        _ => parts.push(".."),
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn matches_go_filepath_clean() {
        // Cases from Go's path/filepath tests.
        let cases = [
            ("", "."),
            ("abc", "abc"),
            ("abc/def", "abc/def"),
            ("a/b/c", "a/b/c"),
            (".", "."),
            ("..", ".."),
            ("../..", "../.."),
            ("../../abc", "../../abc"),
            ("/abc", "/abc"),
            ("/", "/"),
            ("abc/", "abc"),
            ("abc/def/", "abc/def"),
            ("/abc/", "/abc"),
            ("abc//def//ghi", "abc/def/ghi"),
            ("//abc", "/abc"),
            ("///abc", "/abc"),
            ("abc//", "abc"),
            ("abc/./def", "abc/def"),
            ("/./abc/def", "/abc/def"),
            ("abc/.", "abc"),
            ("abc/def/ghi/../jkl", "abc/def/jkl"),
            ("abc/def/../ghi/../jkl", "abc/jkl"),
            ("abc/def/..", "abc"),
            ("abc/def/../..", "."),
            ("/abc/def/../..", "/"),
            ("abc/def/../../..", ".."),
            ("/abc/def/../../..", "/"),
            ("abc/def/../../../ghi/jkl/../../../mno", "../../mno"),
            ("/../abc", "/abc"),
            ("abc/./../def", "def"),
            ("abc//./../def", "def"),
            ("abc/../../././../def", "../../def"),
            ("!../../x", "x"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), want, "clean({input:?})");
        }
    }
}
