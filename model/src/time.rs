//! Simulated time: integer nanoseconds since the start of a run, and the unit constants.

/// Simulated instant or span, nanoseconds.
pub type Nanos = u64;

/// Nanoseconds per microsecond.
pub const NS_PER_US: u64 = 1_000;
/// Nanoseconds per millisecond.
pub const NS_PER_MS: u64 = 1_000_000;
/// Nanoseconds per second.
pub const NS_PER_S: u64 = 1_000_000_000;

/// Seconds as a decimal, for reports only: no ordering is ever decided on it.
pub fn seconds(ns: Nanos) -> f64 {
    ns as f64 / NS_PER_S as f64
}

/// `t+12.345s` style stamp with millisecond precision, integer arithmetic only.
pub fn stamp(ns: Nanos) -> String {
    let ms = ns / NS_PER_MS;
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}
