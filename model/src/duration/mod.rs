//! Durations as OpenFaaS and Go see them: Go's `time.ParseDuration` and `Duration.String()`,
//! and the readers each OpenFaaS component applies to a user-written timeout.
//!
//! This module owns every conversion from a user string to nanoseconds. The components
//! disagree on what they accept, so each gets its own reader, and every silent fallback is
//! returned as a value the simulator can warn about.
//!
//! Go's own parser and formatter are in `go.rs`, OpenFaaS's int-or-duration reader (and the
//! strict reader) in `openfaas.rs`, faas-netes's grace-period derivation in `grace.rs`; this
//! file holds the units and the components' defaults.

mod go;
mod grace;
mod openfaas;

pub use go::{DurationError, DurationErrorKind, format_go, parse_go};
pub use grace::{
    PRO_GRACE_DEFAULT_SECONDS, PRO_GRACE_DEFAULT_WRITE_TIMEOUT_SECONDS, PRO_GRACE_JITTER_SECONDS,
    pro_grace_seconds,
};
pub use openfaas::{Reading, read_int_or_duration, read_strict};

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

/// faas-provider's own default for its `read_timeout` and `write_timeout`, used when the value
/// it is given does not parse (faas-provider `types/read_config.go`).
pub const PROVIDER_DEFAULT_TIMEOUT_NS: i64 = 10 * NS_PER_SECOND;

/// nats-queue-worker's own `ack_wait` default, used when its value does not parse.
pub const QUEUE_WORKER_DEFAULT_ACK_WAIT_NS: i64 = 30 * NS_PER_SECOND;

/// The OpenFaaS chart's `queueWorker.ackWait`.
pub const CHART_ACK_WAIT_NS: i64 = 60 * NS_PER_SECOND;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
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
