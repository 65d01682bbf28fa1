//! Go's `time.ParseDuration` and `time.Duration.String()`, exactly: the grammar, the uint64
//! accumulation and its wrap, float64 scaling of fractions, and the errors.

use std::fmt;

use super::{NS_PER_HOUR, NS_PER_MICROSECOND, NS_PER_MILLISECOND, NS_PER_MINUTE, NS_PER_SECOND};

// Go accumulates the magnitude in a uint64 and allows up to 1<<63 so that the most negative
// duration parses; the sign is applied at the end.
const MAGNITUDE_LIMIT: u64 = 1 << 63;

/// Why a string is not a Go duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationErrorKind {
    /// Nothing after the optional sign.
    Empty,
    /// A number must start here (a digit or `.`), but something else does.
    ExpectedNumber {
        /// Byte offset into the input.
        at_byte: usize,
    },
    /// A `.` with no digit on either side, as in `"."` or `".s"`.
    NoDigits,
    /// A number with no unit after it, as in `"60"` or `"1m5"`.
    MissingUnit,
    /// A unit Go does not know, as in `"1d"`, `"1h30min"` or `"2m 30s"` (unit `"m "`).
    UnknownUnit {
        /// The unit exactly as written (everything up to the next digit or `.`).
        unit: String,
    },
    /// The value does not fit in an i64 count of nanoseconds.
    Overflow,
}

/// A string Go's `time.ParseDuration` rejects, with the input and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError {
    /// The whole string that was parsed.
    pub input: String,
    /// What was wrong with it.
    pub kind: DurationErrorKind,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid duration {:?}: ", self.input)?;
        match &self.kind {
            DurationErrorKind::Empty => f.write_str("no number (expected e.g. \"30s\" or \"0\")"),
            DurationErrorKind::ExpectedNumber { at_byte } => {
                // Characters, not bytes: what a reader counts in the value as written.
                let before = self.input.get(..*at_byte).unwrap_or_default();
                let rest = self.input.get(*at_byte..).unwrap_or_default();
                write!(
                    f,
                    "expected a digit or '.' at character {} (`{rest}`)",
                    before.chars().count() + 1
                )
            }
            DurationErrorKind::NoDigits => f.write_str("a number needs at least one digit"),
            DurationErrorKind::MissingUnit => f.write_str(
                "missing unit (Go durations need one of ns, us, µs, ms, s, m, h, e.g. \"60s\")",
            ),
            DurationErrorKind::UnknownUnit { unit } => write!(
                f,
                "unknown unit {unit:?} (Go accepts only ns, us, µs, μs, ms, s, m, h; no spaces, no days)"
            ),
            DurationErrorKind::Overflow => f.write_str(
                "out of range (a Go duration lies between -2562047h47m16.854775808s and 2562047h47m16.854775807s)",
            ),
        }
    }
}

impl std::error::Error for DurationError {}

/// Parses `s` exactly as Go's `time.ParseDuration` does and returns nanoseconds.
///
/// Grammar: `[-+]?([0-9]*(\.[0-9]*)?(ns|us|µs|μs|ms|s|m|h))+`, or `0` with an optional sign.
/// Fractions are truncated toward zero after Go's float64 scaling, so `"0.5ns"` is 0 and
/// `"0.3333333333333333333h"` is exactly 20 minutes.
pub fn parse_go(s: &str) -> Result<i64, DurationError> {
    let fail = |kind| DurationError {
        input: s.to_owned(),
        kind,
    };
    let mut rest = s.as_bytes();
    let mut negative = false;
    if let Some((&sign, after)) = rest.split_first()
        && (sign == b'-' || sign == b'+')
    {
        negative = sign == b'-';
        rest = after;
    }
    if rest == b"0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(fail(DurationErrorKind::Empty));
    }

    let mut magnitude: u64 = 0;
    while let Some(&first) = rest.first() {
        if !(first == b'.' || first.is_ascii_digit()) {
            return Err(fail(DurationErrorKind::ExpectedNumber {
                at_byte: s.len() - rest.len(),
            }));
        }

        let len_before_int = rest.len();
        let (whole, after_int) =
            leading_int(rest).ok_or_else(|| fail(DurationErrorKind::Overflow))?;
        rest = after_int;
        let has_int_digits = rest.len() != len_before_int;

        let mut fraction: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut has_fraction_digits = false;
        if let Some((&b'.', after_dot)) = rest.split_first() {
            let (digits, digits_scale, after_fraction) = leading_fraction(after_dot);
            has_fraction_digits = after_fraction.len() != after_dot.len();
            fraction = digits;
            scale = digits_scale;
            rest = after_fraction;
        }
        if !has_int_digits && !has_fraction_digits {
            return Err(fail(DurationErrorKind::NoDigits));
        }

        // Go takes the unit as everything up to the next number, so a space or a trailing
        // word becomes part of an unknown unit rather than a separate token.
        let unit_len = rest
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        if unit_len == 0 {
            return Err(fail(DurationErrorKind::MissingUnit));
        }
        let Some((unit_bytes, after_unit)) = rest.split_at_checked(unit_len) else {
            return Err(fail(DurationErrorKind::MissingUnit));
        };
        rest = after_unit;
        let Some(unit_ns) = unit_ns(unit_bytes) else {
            return Err(fail(DurationErrorKind::UnknownUnit {
                unit: String::from_utf8_lossy(unit_bytes).into_owned(),
            }));
        };

        if whole > MAGNITUDE_LIMIT / unit_ns {
            return Err(fail(DurationErrorKind::Overflow));
        }
        let mut component = whole * unit_ns;
        if fraction > 0 {
            // Go scales through float64 (`float64(f) * (float64(unit) / scale)`), and the
            // rounding of that expression is part of its observable behaviour.
            let fraction_ns = (fraction as f64 * (unit_ns as f64 / scale)) as u64;
            component += fraction_ns;
            if component > MAGNITUDE_LIMIT {
                return Err(fail(DurationErrorKind::Overflow));
            }
        }
        // Go adds in uint64 without a carry check. Both operands are at most 1<<63, so the
        // only wrap is 1<<63 + 1<<63 = 0: Go accepts
        // "9223372036854775808ns9223372036854775808ns" as 0, and so do we.
        magnitude = magnitude.wrapping_add(component);
        if magnitude > MAGNITUDE_LIMIT {
            return Err(fail(DurationErrorKind::Overflow));
        }
    }

    if negative {
        // 1<<63 reinterpreted is i64::MIN, and negating it wraps back to itself, as in Go.
        return Ok((magnitude as i64).wrapping_neg());
    }
    if magnitude > MAGNITUDE_LIMIT - 1 {
        return Err(fail(DurationErrorKind::Overflow));
    }
    Ok(magnitude as i64)
}

/// Go's `leadingInt`: `None` when the digits exceed 1<<63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8])> {
    let mut value: u64 = 0;
    let mut consumed = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            break;
        }
        if value > MAGNITUDE_LIMIT / 10 {
            return None;
        }
        value = value * 10 + u64::from(c - b'0');
        if value > MAGNITUDE_LIMIT {
            return None;
        }
        consumed += 1;
    }
    Some((value, s.get(consumed..).unwrap_or_default()))
}

/// Go's `leadingFraction`: digits beyond what fits are consumed but ignored, never an error.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let mut value: u64 = 0;
    let mut scale: f64 = 1.0;
    let mut saturated = false;
    let mut consumed = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            break;
        }
        consumed += 1;
        if saturated {
            continue;
        }
        if value > (MAGNITUDE_LIMIT - 1) / 10 {
            saturated = true;
            continue;
        }
        let next = value * 10 + u64::from(c - b'0');
        if next > MAGNITUDE_LIMIT {
            saturated = true;
            continue;
        }
        value = next;
        scale *= 10.0;
    }
    (value, scale, s.get(consumed..).unwrap_or_default())
}

fn unit_ns(unit: &[u8]) -> Option<u64> {
    const MICRO_SIGN_S: &[u8] = "µs".as_bytes(); // U+00B5
    const GREEK_MU_S: &[u8] = "μs".as_bytes(); // U+03BC
    match unit {
        b"ns" => Some(1),
        b"us" | MICRO_SIGN_S | GREEK_MU_S => Some(NS_PER_MICROSECOND as u64),
        b"ms" => Some(NS_PER_MILLISECOND as u64),
        b"s" => Some(NS_PER_SECOND as u64),
        b"m" => Some(NS_PER_MINUTE as u64),
        b"h" => Some(NS_PER_HOUR as u64),
        _ => None,
    }
}

/// Formats nanoseconds exactly as Go's `time.Duration.String()`: `"1h0m0s"`, `"1.5µs"`, `"0s"`.
pub fn format_go(ns: i64) -> String {
    let mut out = String::new();
    if ns < 0 {
        out.push('-');
    }
    let magnitude = ns.unsigned_abs();
    if magnitude == 0 {
        return "0s".to_owned();
    }
    if magnitude < NS_PER_SECOND as u64 {
        // Below one second Go switches to the largest unit that keeps a non-zero leading digit.
        let (precision, unit) = if magnitude < NS_PER_MICROSECOND as u64 {
            (0, "ns")
        } else if magnitude < NS_PER_MILLISECOND as u64 {
            (3, "µs") // U+00B5, as Go prints it
        } else {
            (6, "ms")
        };
        let (whole, fraction) = split_fraction(magnitude, precision);
        out.push_str(&format!("{whole}{fraction}{unit}"));
        return out;
    }
    let (total_seconds, fraction) = split_fraction(magnitude, 9);
    let total_minutes = total_seconds / 60;
    if total_minutes > 0 {
        let hours = total_minutes / 60;
        if hours > 0 {
            out.push_str(&format!("{hours}h"));
        }
        out.push_str(&format!("{}m", total_minutes % 60));
    }
    out.push_str(&format!("{}{fraction}s", total_seconds % 60));
    out
}

/// Go's `fmtFrac`: splits `value / 10^precision` into the integer part and `".ddd"` without
/// trailing zeros (empty when the fraction is zero).
fn split_fraction(value: u64, precision: u32) -> (u64, String) {
    let divisor = 10u64.pow(precision);
    let fraction = value % divisor;
    if fraction == 0 {
        return (value / divisor, String::new());
    }
    let digits = format!("{fraction:0width$}", width = precision as usize);
    (
        value / divisor,
        format!(".{}", digits.trim_end_matches('0')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NS: i64 = 1;
    const US: i64 = NS_PER_MICROSECOND;
    const MS: i64 = NS_PER_MILLISECOND;
    const SEC: i64 = NS_PER_SECOND;
    const MIN: i64 = NS_PER_MINUTE;
    const HOUR: i64 = NS_PER_HOUR;

    // Go's parseDurationTests (src/time/time_test.go, Go >= 1.17 where -1<<63 parses).
    const GO_PARSE_OK: &[(&str, i64)] = &[
        ("0", 0),
        ("5s", 5 * SEC),
        ("30s", 30 * SEC),
        ("1478s", 1478 * SEC),
        ("-5s", -5 * SEC),
        ("+5s", 5 * SEC),
        ("-0", 0),
        ("+0", 0),
        ("5.0s", 5 * SEC),
        ("5.6s", 5 * SEC + 600 * MS),
        ("5.s", 5 * SEC),
        (".5s", 500 * MS),
        ("1.0s", SEC),
        ("1.00s", SEC),
        ("1.004s", SEC + 4 * MS),
        ("1.0040s", SEC + 4 * MS),
        ("100.00100s", 100 * SEC + MS),
        ("10ns", 10 * NS),
        ("11us", 11 * US),
        ("12µs", 12 * US),
        ("12μs", 12 * US),
        ("13ms", 13 * MS),
        ("14s", 14 * SEC),
        ("15m", 15 * MIN),
        ("16h", 16 * HOUR),
        ("3h30m", 3 * HOUR + 30 * MIN),
        ("10.5s4m", 4 * MIN + 10 * SEC + 500 * MS),
        ("-2m3.4s", -(2 * MIN + 3 * SEC + 400 * MS)),
        (
            "1h2m3s4ms5us6ns",
            HOUR + 2 * MIN + 3 * SEC + 4 * MS + 5 * US + 6 * NS,
        ),
        ("39h9m14.425s", 39 * HOUR + 9 * MIN + 14 * SEC + 425 * MS),
        ("52763797000ns", 52_763_797_000),
        ("0.3333333333333333333h", 20 * MIN),
        ("9007199254740993ns", (1 << 53) + 1),
        ("9223372036854775807ns", i64::MAX),
        ("9223372036854775.807us", i64::MAX),
        ("9223372036s854ms775us807ns", i64::MAX),
        ("-9223372036854775808ns", i64::MIN),
        ("-9223372036854775.808us", i64::MIN),
        ("-9223372036s854ms775us808ns", i64::MIN),
        ("-2562047h47m16.854775808s", i64::MIN),
        ("0.100000000000000000000h", 6 * MIN),
        (
            "0.830103483285477580700h",
            49 * MIN + 48 * SEC + 372_539_827,
        ),
    ];

    // Go's parseDurationErrorTests; the byte-string cases are exercised in
    // go_error_table_with_invalid_utf8 because a &str cannot hold them.
    const GO_PARSE_ERR: &[&str] = &[
        "",
        "3",
        "-",
        "s",
        ".",
        "-.",
        ".s",
        "+.s",
        "1d",
        "\u{FFFD}",
        "\u{FFFD} hello \u{FFFD} world",
        "9223372036854775810ns",
        "9223372036854775808ns",
        "-9223372036854775809ns",
        "9223372036854776us",
        "3000000h",
        "9223372036854775.808us",
        "9223372036854ms775us808ns",
    ];

    // Go's durationTests (src/time/time_test.go); positive entries are also checked negated.
    const GO_FORMAT: &[(&str, i64)] = &[
        ("0s", 0),
        ("1ns", NS),
        ("1.1µs", 1100 * NS),
        ("2.2ms", 2200 * US),
        ("3.3s", 3300 * MS),
        ("4m5s", 4 * MIN + 5 * SEC),
        ("4m5.001s", 4 * MIN + 5001 * MS),
        ("5h6m7.001s", 5 * HOUR + 6 * MIN + 7001 * MS),
        ("8m0.000000001s", 8 * MIN + NS),
        ("2562047h47m16.854775807s", i64::MAX),
        ("-2562047h47m16.854775808s", i64::MIN),
    ];

    #[test]
    fn go_parse_table() {
        for &(input, want) in GO_PARSE_OK {
            assert_eq!(parse_go(input), Ok(want), "parse_go({input:?})");
        }
    }

    #[test]
    fn go_error_table() {
        for &input in GO_PARSE_ERR {
            assert!(parse_go(input).is_err(), "parse_go({input:?}) should fail");
        }
    }

    #[test]
    fn go_error_table_with_invalid_utf8() {
        for bytes in [&b"\x85\x85"[..], b"\xffff", b"hello \xffff world"] {
            let input = String::from_utf8_lossy(bytes);
            assert!(parse_go(&input).is_err(), "parse_go({input:?}) should fail");
        }
    }

    #[test]
    fn go_format_table() {
        for &(want, ns) in GO_FORMAT {
            assert_eq!(format_go(ns), want, "format_go({ns})");
            if ns > 0 {
                assert_eq!(format_go(-ns), format!("-{want}"), "format_go({})", -ns);
            }
        }
    }

    #[test]
    fn format_examples() {
        let cases = [
            (0, "0s"),
            (1500 * MS, "1.5s"),
            (150 * SEC, "2m30s"),
            (HOUR, "1h0m0s"),
            (65 * SEC, "1m5s"),
            (500 * MS, "500ms"),
            (1500 * NS, "1.5µs"),
            (-5 * SEC, "-5s"),
            (HOUR + 1, "1h0m0.000000001s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (ns, want) in cases {
            assert_eq!(format_go(ns), want);
        }
        assert_eq!(format_go(1500 * NS).chars().nth(3), Some('\u{00B5}'));
    }

    #[test]
    fn fractions_truncate_toward_zero() {
        assert_eq!(parse_go("1.0000000001s"), Ok(SEC));
        assert_eq!(parse_go("0.5ns"), Ok(0));
        assert_eq!(parse_go("-0.5ns"), Ok(0));
        assert_eq!(parse_go("1.9ns"), Ok(1));
        assert_eq!(parse_go("-1.9ns"), Ok(-1));
    }

    #[test]
    fn go_uint64_wrap_quirk_is_reproduced() {
        // Two components of exactly 1<<63 ns wrap Go's uint64 sum to 0 and pass its checks.
        assert_eq!(
            parse_go("9223372036854775808ns9223372036854775808ns"),
            Ok(0)
        );
        assert_eq!(
            parse_go("9223372036854775808ns9223372036854775808ns1s"),
            Ok(SEC)
        );
        assert!(parse_go("9223372036854775808ns1ns").is_err());
    }

    #[test]
    fn error_kinds_and_display() {
        let kind = |s: &str| parse_go(s).map_err(|e| e.kind);
        assert_eq!(kind(""), Err(DurationErrorKind::Empty));
        assert_eq!(kind("+"), Err(DurationErrorKind::Empty));
        assert_eq!(kind("60"), Err(DurationErrorKind::MissingUnit));
        assert_eq!(kind("1m5"), Err(DurationErrorKind::MissingUnit));
        assert_eq!(kind("00"), Err(DurationErrorKind::MissingUnit));
        assert_eq!(kind("."), Err(DurationErrorKind::NoDigits));
        assert_eq!(kind("1s."), Err(DurationErrorKind::NoDigits));
        assert_eq!(
            kind("abc"),
            Err(DurationErrorKind::ExpectedNumber { at_byte: 0 })
        );
        assert_eq!(
            kind(" 1s"),
            Err(DurationErrorKind::ExpectedNumber { at_byte: 0 })
        );
        // Shown in characters of the value as written, never as a byte offset.
        assert_eq!(
            parse_go("+abc").unwrap_err().to_string(),
            "invalid duration \"+abc\": expected a digit or '.' at character 2 (`abc`)"
        );
        assert_eq!(
            kind("2m 30s"),
            Err(DurationErrorKind::UnknownUnit { unit: "m ".into() })
        );
        assert_eq!(
            kind("1h30min"),
            Err(DurationErrorKind::UnknownUnit { unit: "min".into() })
        );
        assert_eq!(kind("3000000h"), Err(DurationErrorKind::Overflow));

        let message = parse_go("2m 30s").unwrap_err().to_string();
        assert!(
            message.starts_with("invalid duration \"2m 30s\": unknown unit \"m \""),
            "{message}"
        );
        let error: Box<dyn std::error::Error> = Box::new(parse_go("60").unwrap_err());
        assert!(error.to_string().contains("missing unit"));
    }

    // --- property tests ---

    const UNITS: &[(&str, i64)] = &[
        ("ns", NS),
        ("us", US),
        ("µs", US),
        ("μs", US),
        ("ms", MS),
        ("s", SEC),
        ("m", MIN),
        ("h", HOUR),
    ];

    /// One number-and-unit component of a generated duration string.
    #[derive(Debug, Clone)]
    struct Component {
        /// The digits before the `.`.
        whole: String,
        /// The digits after the `.`, when there is one.
        fraction: Option<String>,
        /// The unit as written.
        unit: &'static str,
        /// The unit in nanoseconds.
        unit_ns: i64,
    }

    impl Component {
        fn text(&self) -> String {
            match &self.fraction {
                Some(fraction) => format!("{}.{}{}", self.whole, fraction, self.unit),
                None => format!("{}{}", self.whole, self.unit),
            }
        }

        /// Exact value, and whether Go's float64 scaling may round it by one nanosecond.
        fn exact_ns(&self) -> (i128, bool) {
            let digits = |s: &str| {
                s.bytes()
                    .fold(0i128, |acc, c| acc * 10 + i128::from(c - b'0'))
            };
            let unit = i128::from(self.unit_ns);
            let mut value = digits(&self.whole) * unit;
            let mut inexact = false;
            if let Some(fraction) = &self.fraction {
                let numerator = digits(fraction);
                if numerator > 0 {
                    let scale = 10i128.pow(fraction.len() as u32);
                    value += numerator * unit / scale;
                    // unit / scale is an exact integer only when scale divides unit.
                    inexact = unit % scale != 0;
                }
            }
            (value, inexact)
        }
    }

    fn component() -> impl Strategy<Value = Component> {
        let whole = prop_oneof![4 => "[0-9]{0,6}", 1 => "[0-9]{7,20}"];
        let fraction = proptest::option::of("[0-9]{0,12}");
        (whole, fraction, proptest::sample::select(UNITS)).prop_map(
            |(mut whole, fraction, (unit, unit_ns))| {
                if whole.is_empty() && fraction.as_deref().is_none_or(str::is_empty) {
                    whole = "0".to_owned();
                }
                Component {
                    whole,
                    fraction,
                    unit,
                    unit_ns,
                }
            },
        )
    }

    fn grammar_string() -> impl Strategy<Value = (&'static str, Vec<Component>)> {
        (
            proptest::sample::select(&["", "+", "-"][..]),
            proptest::collection::vec(component(), 1..=4),
        )
    }

    fn render(sign: &str, components: &[Component]) -> String {
        let mut out = sign.to_owned();
        for c in components {
            out.push_str(&c.text());
        }
        out
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(ns in any::<i64>()) {
            prop_assert_eq!(parse_go(&format_go(ns)), Ok(ns));
        }

        #[test]
        fn grammar_strings_parse_to_the_exact_value((sign, components) in grammar_string()) {
            let text = render(sign, &components);
            let mut magnitude: i128 = 0;
            let mut slack: i128 = 0;
            let mut near_wrap = false;
            for c in &components {
                let (value, inexact) = c.exact_ns();
                magnitude += value;
                slack += i128::from(inexact);
                near_wrap |= (value - (1i128 << 63)).abs() <= 1;
            }
            let negative = sign == "-";
            let limit: i128 = if negative { 1 << 63 } else { (1 << 63) - 1 };
            let parsed = parse_go(&text);
            if magnitude + slack <= limit {
                let want = if negative { -magnitude } else { magnitude };
                let got = parsed.map(i128::from);
                prop_assert!(got.is_ok(), "{:?} -> {:?}", text, got);
                let got = got.unwrap_or_default();
                prop_assert!((got - want).abs() <= slack, "{:?}: got {} want {}", text, got, want);
            } else if magnitude - slack > limit && !near_wrap {
                prop_assert!(
                    matches!(&parsed, Err(DurationError { kind: DurationErrorKind::Overflow, .. })),
                    "{:?} -> {:?}", text, parsed
                );
            }
        }

        #[test]
        fn a_space_anywhere_is_rejected(
            (sign, components) in grammar_string(),
            at in any::<proptest::sample::Index>(),
        ) {
            let text = render(sign, &components);
            let boundaries: Vec<usize> =
                text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
            let position = boundaries[at.index(boundaries.len())];
            let mut spaced = text.clone();
            spaced.insert(position, ' ');
            prop_assert!(parse_go(&spaced).is_err(), "{:?} was accepted", spaced);
        }

        #[test]
        fn an_unknown_unit_is_rejected(
            (sign, mut components) in grammar_string(),
            which in any::<proptest::sample::Index>(),
            unit in proptest::sample::select(
                &["d", "min", "sec", "hr", "w", "y", "S", "H", "Ms", "mins", "µ", "n", "day"][..]
            ),
        ) {
            let index = which.index(components.len());
            components[index].unit = unit;
            let text = render(sign, &components);
            let parsed = parse_go(&text);
            prop_assert!(
                matches!(&parsed, Err(DurationError { kind: DurationErrorKind::UnknownUnit { .. }, .. })
                    | Err(DurationError { kind: DurationErrorKind::Overflow, .. })),
                "{:?} -> {:?}", text, parsed
            );
        }

    }
}
