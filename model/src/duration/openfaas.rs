//! How OpenFaaS components read a timeout: of-watchdog's and the gateway's
//! `parseIntOrDurationValue` (bare integers are seconds, invalid values silently fall back to
//! the default, returned as a [`Reading`] the simulator can warn about), and the strict
//! `time.ParseDuration` reading faas-netes and the Pro autoscaler use.

use super::{DurationError, NS_PER_SECOND, format_go, parse_go};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::{GATEWAY_DEFAULT_TIMEOUT_NS, NS_PER_MINUTE, WATCHDOG_DEFAULT_TIMEOUT_NS};

    const SEC: i64 = NS_PER_SECOND;
    const MIN: i64 = NS_PER_MINUTE;

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
}
