//! faas-netes's grace-period derivation (Pro; CE until Feb 2022): the pod's
//! `terminationGracePeriodSeconds` is `write_timeout + 2s`, read with strict
//! `time.ParseDuration`, so a bare-integer `write_timeout: "60"` gives a 2 s grace.

use super::{
    NS_PER_SECOND, Reading, WATCHDOG_DEFAULT_TIMEOUT_NS, format_go, parse_go, read_int_or_duration,
};

/// Jitter faas-netes (Pro; CE until Feb 2022) adds to `write_timeout` for the grace period.
pub const PRO_GRACE_JITTER_SECONDS: i64 = 2;

/// The `write_timeout` faas-netes (Pro) assumes for the grace period when it is unset.
pub const PRO_GRACE_DEFAULT_WRITE_TIMEOUT_SECONDS: i64 = 30;

/// Grace period faas-netes (Pro) sets when `write_timeout` is unset: 30 s + 2 s jitter.
pub const PRO_GRACE_DEFAULT_SECONDS: i64 =
    PRO_GRACE_DEFAULT_WRITE_TIMEOUT_SECONDS + PRO_GRACE_JITTER_SECONDS;

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
    use crate::duration::NS_PER_MILLISECOND;

    const MS: i64 = NS_PER_MILLISECOND;
    const SEC: i64 = NS_PER_SECOND;

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
}
