//! BuildKit's `util/suggest.Search`: the closest name within a Levenshtein
//! distance under 3, for "did you mean …?" in UndefinedVar and
//! UndefinedArgInFrom.

/// The option closest to `val` (case-sensitive), or `None` when one equals
/// it or none is close. Options are tried in the order given; the first of
/// equally close ones wins, as in BuildKit (callers sort them, where
/// BuildKit's order comes from a map).
pub fn search<'a>(val: &str, options: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best = None;
    let mut min = 3;
    for opt in options {
        if opt == val {
            return None;
        }
        let d = levenshtein(val, opt);
        if d < min {
            min = d;
            best = Some(opt.to_string());
        }
    }
    best
}

/// Edit distance (insertions, deletions, substitutions cost 1), by chars.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(
            search("BULIDPLATFORM", ["BUILDPLATFORM", "TARGETOS"]).as_deref(),
            Some("BUILDPLATFORM")
        );
        assert_eq!(
            search("DIR_ASSET", ["DIR_ASSETS", "DIR_BINARIES"]).as_deref(),
            Some("DIR_ASSETS")
        );
        assert_eq!(search("foo", ["foo", "fo"]), None);
        assert_eq!(search("abc", ["xyz"]), None);
    }
}
