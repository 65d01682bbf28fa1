//! Durations as OpenFaaS and Go see them: Go's `time.ParseDuration` and `Duration.String()`,
//! and the readers each OpenFaaS component applies to a user-written timeout.
//!
//! This module owns every conversion from a user string to nanoseconds. The components
//! disagree on what they accept, so each gets its own reader, and every silent fallback is
//! returned as a value the simulator can warn about.

use std::fmt;

/// Nanoseconds in one microsecond.
pub const NS_PER_MICROSECOND: i64 = 1_000;
/// Nanoseconds in one millisecond.
pub const NS_PER_MILLISECOND: i64 = 1_000_000;
/// Nanoseconds in one second.
pub const NS_PER_SECOND: i64 = 1_000_000_000;
/// Nanoseconds in one minute.
pub const NS_PER_MINUTE: i64 = 60 * NS_PER_SECOND;
/// Nanoseconds in one hour.
pub const NS_PER_HOUR: i64 = 60 * NS_PER_MINUTE;

/// of-watchdog default for `read_timeout`, `write_timeout` and `exec_timeout`.
// openfaas/of-watchdog config/config.go @9bdadb1: `defaultTimeout := time.Second * 30`.
pub const WATCHDOG_DEFAULT_TIMEOUT_NS: i64 = 30 * NS_PER_SECOND;

/// Gateway default for `read_timeout`, `write_timeout` and `upstream_timeout` (unset *and* invalid).
// openfaas/faas gateway/types/readconfig.go @8d803bf9: `defaultDuration := time.Second * 60`, passed
// as the fallback of parseIntOrDurationValue. An unset env var is "" for os.Getenv, which fails
// ParseDuration, so unset and invalid both land on this value. It was 8 s until commit 46042710
// (2022-08-30, "The timeout of 8 seconds was never going to be useful as a default").
pub const GATEWAY_DEFAULT_TIMEOUT_NS: i64 = 60 * NS_PER_SECOND;

/// Gateway default before openfaas/faas commit 46042710 (2022-08-30), for old releases.
pub const GATEWAY_DEFAULT_TIMEOUT_BEFORE_2022_08_NS: i64 = 8 * NS_PER_SECOND;

/// Jitter faas-netes (Pro; CE until Feb 2022) adds to `write_timeout` for the grace period.
pub const PRO_GRACE_JITTER_SECONDS: i64 = 2;

/// The `write_timeout` faas-netes (Pro) assumes for the grace period when it is unset.
pub const PRO_GRACE_DEFAULT_WRITE_TIMEOUT_SECONDS: i64 = 30;

/// Grace period faas-netes (Pro) sets when `write_timeout` is unset: 30 s + 2 s jitter.
pub const PRO_GRACE_DEFAULT_SECONDS: i64 =
    PRO_GRACE_DEFAULT_WRITE_TIMEOUT_SECONDS + PRO_GRACE_JITTER_SECONDS;

/// faas-provider's own default for its `read_timeout` and `write_timeout`, used when the value
/// it is given does not parse (faas-provider `types/read_config.go`).
pub const PROVIDER_DEFAULT_TIMEOUT_NS: i64 = 10 * NS_PER_SECOND;

/// nats-queue-worker's own `ack_wait` default, used when its value does not parse.
pub const QUEUE_WORKER_DEFAULT_ACK_WAIT_NS: i64 = 30 * NS_PER_SECOND;

/// The OpenFaaS chart's `queueWorker.ackWait`.
pub const CHART_ACK_WAIT_NS: i64 = 60 * NS_PER_SECOND;

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
                write!(f, "expected a digit or '.' at byte {at_byte}")
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

/// What an OpenFaaS component made of one duration setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    /// The value was given and understood.
    Set {
        /// The value the component uses.
        ns: i64,
    },
    /// No value (or an empty one) was given, so the default applies.
    Unset {
        /// The default the component uses.
        default_ns: i64,
    },
    /// A value was given but rejected, and the component silently used its default instead.
    Fallback {
        /// The default the component uses.
        default_ns: i64,
        /// The rejected value, as written.
        raw: String,
        /// Why it was rejected.
        reason: String,
    },
}

impl Reading {
    /// The nanoseconds the component actually uses.
    pub fn ns(&self) -> i64 {
        match self {
            Reading::Set { ns } => *ns,
            Reading::Unset { default_ns } | Reading::Fallback { default_ns, .. } => *default_ns,
        }
    }

    /// A message for the user when the component silently replaced their value.
    pub fn warning(&self) -> Option<String> {
        match self {
            Reading::Fallback {
                default_ns,
                raw,
                reason,
            } => Some(format!(
                "{raw:?} is not a valid OpenFaaS duration ({reason}); \
                 the component ignores it without an error and uses its default {}",
                format_go(*default_ns)
            )),
            Reading::Set { .. } | Reading::Unset { .. } => None,
        }
    }
}

/// Reads a timeout the way of-watchdog and the gateway do (`parseIntOrDurationValue`).
///
/// Source: openfaas/of-watchdog `config/config.go` @9bdadb1 (same function since dd56bb9,
/// 2020-01-08) and openfaas/faas `gateway/types/readconfig.go` @8d803bf9, identical code:
/// - a non-empty string that `strconv.Atoi` accepts (optional sign, ASCII digits, fits i64)
///   and that is `>= 0` is that many seconds;
/// - anything else, including a negative integer such as `"-5"`, goes to
///   `time.ParseDuration`, so `"-5"` fails ("missing unit") while `"-1s"` is accepted as -1 s;
/// - a `ParseDuration` error returns the fallback without any log line.
///
/// `None` and `""` give [`Reading::Unset`]: the gateway reads env vars with `os.Getenv`, which
/// returns `""` when unset, and of-watchdog's `getDuration` returns the default when the key is
/// missing; an empty value fails ParseDuration and lands on the same default either way.
///
/// Go computes `time.Duration(n) * time.Second` in wrapping int64 arithmetic, so an integer above
/// 9223372036 seconds wraps to a strange value; this reader reproduces that (it is what the
/// component runs with) rather than reporting it.
pub fn read_int_or_duration(raw: Option<&str>, default_ns: i64) -> Reading {
    let raw = match raw {
        None | Some("") => return Reading::Unset { default_ns },
        Some(raw) => raw,
    };
    // Rust's i64 parser accepts the same language as Go's strconv.Atoi on 64-bit platforms:
    // an optional '+' or '-', then one or more ASCII digits, range-checked, no underscores.
    let as_integer = raw.parse::<i64>().ok();
    if let Some(seconds) = as_integer
        && seconds >= 0
    {
        return Reading::Set {
            ns: seconds.wrapping_mul(NS_PER_SECOND),
        };
    }
    match parse_go(raw) {
        Ok(ns) => Reading::Set { ns },
        Err(error) => {
            let reason = if as_integer.is_some() {
                format!("a negative integer is not taken as seconds, and {error}")
            } else {
                error.to_string()
            };
            Reading::Fallback {
                default_ns,
                raw: raw.to_owned(),
                reason,
            }
        }
    }
}

/// Reads a duration with plain `time.ParseDuration`, as faas-netes does for the grace period
/// and the OpenFaaS Pro autoscaler does for its labels; a bare `"60"` is an error here.
pub fn read_strict(raw: &str) -> Result<i64, DurationError> {
    parse_go(raw)
}

/// faas-netes `getTerminationGracePeriodSeconds` (Pro; CE from f0a81e64 until 09d44a46):
/// the pod's `terminationGracePeriodSeconds` derived from the function's `write_timeout`.
///
/// Returns the seconds and, when the result is not what the user meant, a warning.
pub fn pro_grace_seconds(write_timeout_raw: Option<&str>) -> (i64, Option<String>) {
    // Read in openfaas/faas-netes pkg/handlers/deploy.go @3ab2d578 (2021-11-05, the function as
    // extracted for PR #870) and inline @f0a81e64 (2021-11-04) in both pkg/handlers/deploy.go and
    // pkg/controller/deployment.go; unchanged up to 09d44a46^ when CE dropped it. The Go code:
    //   grace := 30s + 2s
    //   if v, ok := env["write_timeout"]; ok && len(v) > 0 {
    //       period, err := time.ParseDuration(v)   // err only logged; period is 0 on error
    //       grace = period + 2s                     // wrapping int64 addition
    //   }
    //   return int64(grace.Seconds())             // float64, truncated toward zero
    // Today's Pro operator is closed source; this assumes it kept the same derivation.
    let raw = match write_timeout_raw {
        None | Some("") => return (PRO_GRACE_DEFAULT_SECONDS, None),
        Some(raw) => raw,
    };
    let (period_ns, warning) = match parse_go(raw) {
        Ok(ns) => (ns, None),
        Err(error) => {
            let watchdog = match read_int_or_duration(Some(raw), WATCHDOG_DEFAULT_TIMEOUT_NS) {
                Reading::Set { ns } => format!(
                    "of-watchdog reads it as {} (write {:?} to satisfy both)",
                    format_go(ns),
                    format_go(ns)
                ),
                Reading::Unset { default_ns } | Reading::Fallback { default_ns, .. } => format!(
                    "of-watchdog also rejects it and uses {}",
                    format_go(default_ns)
                ),
            };
            let warning = format!(
                "write_timeout {raw:?} fails time.ParseDuration in faas-netes ({error}); it only \
                 logs this and uses 0s + {PRO_GRACE_JITTER_SECONDS}s jitter, so \
                 terminationGracePeriodSeconds = {PRO_GRACE_JITTER_SECONDS}, while {watchdog}"
            );
            (0, Some(warning))
        }
    };
    let grace_ns = period_ns.wrapping_add(PRO_GRACE_JITTER_SECONDS * NS_PER_SECOND);
    let grace_seconds = go_seconds(grace_ns) as i64;
    let warning = warning.or_else(|| {
        (grace_seconds < 0).then(|| {
            format!(
                "write_timeout {raw:?} gives a negative terminationGracePeriodSeconds ({grace_seconds})"
            )
        })
    });
    (grace_seconds, warning)
}

/// Go's `Duration.Seconds()`; its float rounding decides the result at the i64 extremes.
fn go_seconds(ns: i64) -> f64 {
    let whole = ns / NS_PER_SECOND;
    let rest = ns % NS_PER_SECOND;
    whole as f64 + rest as f64 / 1e9
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

    #[test]
    fn openfaas_int_or_duration_cases() {
        let default_ns = WATCHDOG_DEFAULT_TIMEOUT_NS;
        let read = |raw: Option<&str>| read_int_or_duration(raw, default_ns);

        assert_eq!(read(Some("60")), Reading::Set { ns: 60 * SEC });
        assert_eq!(read(Some("1m05s")), Reading::Set { ns: 65 * SEC });
        assert_eq!(read(Some("2m30s")), Reading::Set { ns: 150 * SEC });
        assert_eq!(read(Some("1.5h")), Reading::Set { ns: 90 * MIN });
        assert_eq!(read(Some("0")), Reading::Set { ns: 0 });
        assert_eq!(read(Some("-0")), Reading::Set { ns: 0 });
        assert_eq!(read(Some("+5")), Reading::Set { ns: 5 * SEC });
        assert_eq!(read(Some("007")), Reading::Set { ns: 7 * SEC });
        assert_eq!(read(Some("-1s")), Reading::Set { ns: -SEC });
        assert_eq!(read(Some("")), Reading::Unset { default_ns });
        assert_eq!(read(None), Reading::Unset { default_ns });

        for raw in ["-5", "abc", "60 s", "1d", "99999999999999999999"] {
            let reading = read(Some(raw));
            assert!(
                matches!(&reading, Reading::Fallback { raw: r, default_ns: d, .. } if r == raw && *d == default_ns),
                "{raw:?} -> {reading:?}"
            );
            assert_eq!(reading.ns(), default_ns);
            let warning = reading.warning().unwrap_or_default();
            assert!(warning.contains(&format!("{raw:?}")), "{warning}");
            assert!(warning.contains("30s"), "{warning}");
        }
        let negative = read(Some("-5"));
        assert!(
            negative
                .warning()
                .is_some_and(|w| w.contains("negative integer")),
            "{negative:?}"
        );

        assert_eq!(read(Some("60")).warning(), None);
        assert_eq!(read(None).warning(), None);
        assert_eq!(read(None).ns(), default_ns);
    }

    #[test]
    fn int_seconds_wrap_like_go() {
        // time.Duration(n) * time.Second overflows silently in Go for n > 9223372036.
        let n: i64 = 9_223_372_037;
        assert_eq!(
            read_int_or_duration(Some("9223372037"), 0),
            Reading::Set {
                ns: n.wrapping_mul(SEC)
            }
        );
        assert!(read_int_or_duration(Some("9223372037"), 0).ns() < 0);
        assert_eq!(
            read_int_or_duration(Some("9223372036"), 0),
            Reading::Set {
                ns: 9_223_372_036 * SEC
            }
        );
    }

    #[test]
    fn gateway_default_is_sixty_seconds() {
        let reading = read_int_or_duration(None, GATEWAY_DEFAULT_TIMEOUT_NS);
        assert_eq!(reading.ns(), 60 * SEC);
        let fallback = read_int_or_duration(Some("abc"), GATEWAY_DEFAULT_TIMEOUT_NS);
        assert_eq!(fallback.ns(), 60 * SEC);
        assert!(fallback.warning().is_some_and(|w| w.contains("1m0s")));
    }

    #[test]
    fn strict_rejects_bare_integers() {
        assert!(read_strict("60").is_err());
        assert!(read_strict("-5").is_err());
        assert_eq!(read_strict("60s"), Ok(60 * SEC));
        assert_eq!(read_strict("15m"), Ok(15 * MIN));
        assert_eq!(read_strict("0"), Ok(0));
        assert!(read_strict("").is_err());
    }

    #[test]
    fn pro_grace_cases() {
        assert_eq!(pro_grace_seconds(None), (32, None));
        assert_eq!(pro_grace_seconds(Some("")), (32, None));
        assert_eq!(pro_grace_seconds(Some("1m05s")), (67, None));
        assert_eq!(pro_grace_seconds(Some("2m30s")), (152, None));
        assert_eq!(pro_grace_seconds(Some("1.5h")), (5402, None));
        assert_eq!(pro_grace_seconds(Some("0")), (2, None));
        assert_eq!(pro_grace_seconds(Some("1.9s")), (3, None));
        // (period + 2s).Seconds() truncates toward zero, so -0.5s gives 1, not 2.
        assert_eq!(pro_grace_seconds(Some("-0.5s")), (1, None));
        assert_eq!(pro_grace_seconds(Some("-1s")), (1, None));

        let (seconds, warning) = pro_grace_seconds(Some("60"));
        assert_eq!(seconds, 2);
        let warning = warning.unwrap_or_default();
        assert!(warning.contains("\"60\""), "{warning}");
        assert!(
            warning.contains("terminationGracePeriodSeconds = 2"),
            "{warning}"
        );
        assert!(
            warning.contains("of-watchdog reads it as 1m0s"),
            "{warning}"
        );

        let (seconds, warning) = pro_grace_seconds(Some("abc"));
        assert_eq!(seconds, 2);
        assert!(warning.is_some_and(|w| w.contains("also rejects it and uses 30s")));

        let (seconds, warning) = pro_grace_seconds(Some("-5"));
        assert_eq!(seconds, 2);
        assert!(warning.is_some());

        let (seconds, warning) = pro_grace_seconds(Some("-10s"));
        assert_eq!(seconds, -8);
        assert!(warning.is_some_and(|w| w.contains("negative")));

        // period + 2s wraps in Go's int64 arithmetic.
        let (seconds, warning) = pro_grace_seconds(Some("2562047h47m16.854775807s"));
        assert!(seconds < 0);
        assert!(warning.is_some());
    }

    #[test]
    fn go_seconds_rounds_like_float64() {
        // float64(9e9) + 0.999999999 rounds up to the next integer before truncation.
        assert_eq!(
            go_seconds(9_000_000_000 * SEC + 999_999_999) as i64,
            9_000_000_001
        );
        assert_eq!(go_seconds(-1_500 * MS) as i64, -1);
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

    #[derive(Debug, Clone)]
    struct Component {
        whole: String,
        fraction: Option<String>,
        unit: &'static str,
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

        #[test]
        fn never_panics_on_text(s in ".*") {
            let _ = parse_go(&s);
            let _ = read_int_or_duration(Some(&s), WATCHDOG_DEFAULT_TIMEOUT_NS).warning();
            let _ = pro_grace_seconds(Some(&s));
        }

        #[test]
        fn never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let s = String::from_utf8_lossy(&bytes);
            let _ = parse_go(&s);
            let _ = read_int_or_duration(Some(&s), GATEWAY_DEFAULT_TIMEOUT_NS).warning();
            let _ = pro_grace_seconds(Some(&s));
        }

        #[test]
        fn never_panics_on_digit_heavy_text(s in "[-+]?[0-9.]{0,30}(ns|us|µs|ms|s|m|h|x)?([0-9.]{0,25}(s|h))?") {
            let _ = parse_go(&s);
            let _ = pro_grace_seconds(Some(&s));
        }

        #[test]
        fn format_never_panics(ns in any::<i64>()) {
            let _ = format_go(ns);
            let _ = pro_grace_seconds(Some(&format_go(ns)));
        }
    }
}
