//! Go-style durations as HEALTHCHECK takes them (`30s`, `1m30s`, `500ms`,
//! `1.5h`), to nanoseconds as the image config stores them.

/// Parses a Go duration; no sign, at least one unit.
pub fn parse_ns(s: &str) -> Result<u64, String> {
    let bad = || format!("invalid duration {s:?}");
    if s == "0" {
        return Ok(0);
    }
    let mut rest = s;
    let mut total: f64 = 0.0;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| format!("{}: missing unit", bad()))?;
        if num_len == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            u => return Err(format!("{}: unknown unit {u:?}", bad())),
        };
        total += n * mult;
        rest = &rest[unit_len..];
    }
    Ok(total.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::parse_ns;

    #[test]
    fn go_durations() {
        assert_eq!(parse_ns("30s").unwrap(), 30_000_000_000);
        assert_eq!(parse_ns("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(parse_ns("500ms").unwrap(), 500_000_000);
        assert_eq!(parse_ns("1.5h").unwrap(), 5_400_000_000_000);
        assert_eq!(parse_ns("0").unwrap(), 0);
        for bad in ["", "s", "10", "5d", "-1s"] {
            assert!(parse_ns(bad).is_err(), "{bad}");
        }
    }
}
