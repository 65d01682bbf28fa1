//! The function's environment as the pod's processes read it: of-watchdog (`config.New`) and the
//! golang-middleware child, which reads the same variables with its own defaults. Every reader
//! returns each value with its [`Source`], so a caller records provenance from this one reading;
//! `config` builds `WatchdogConfig` and `ChildConfig` from the same readings.

use std::collections::BTreeMap;

use crate::config::{ChildConfig, ConfigError, Mode};
use crate::duration::{self, Reading, WATCHDOG_DEFAULT_TIMEOUT_NS};
use crate::sourced::{Source, Sourced};

/// of-watchdog's mode when `mode` is unset (`config.New`: streaming).
pub const WATCHDOG_DEFAULT_MODE: Mode = Mode::Streaming;

/// The variable `name` read with `parseIntOrDurationValue` (bare integers are seconds, invalid
/// values fall back to `default_ns`), with its source. `derived_from` names the value the
/// default follows, if it is not a constant (`healthcheck_interval` follows `write_timeout`).
pub fn read_duration(
    env: &BTreeMap<String, String>,
    name: &str,
    default_ns: i64,
    derived_from: Option<&str>,
) -> Sourced<i64> {
    let raw = env.get(name).map(String::as_str);
    let reading = duration::read_int_or_duration(raw, default_ns);
    let from = match &reading {
        Reading::Set { .. } => Source::Env {
            name: name.to_string(),
            raw: raw.unwrap_or_default().to_string(),
        },
        Reading::Unset { .. } => {
            let empty = raw.is_some();
            match derived_from {
                Some(from) => Source::Derived {
                    from: from.to_string(),
                    empty,
                },
                None => Source::Default { empty },
            }
        }
        Reading::Fallback { raw, .. } => Source::Fallback {
            name: name.to_string(),
            raw: raw.clone(),
            warning: reading.warning().unwrap_or_default(),
        },
    };
    Sourced {
        value: reading.ns(),
        from,
    }
}

/// of-watchdog's `max_inflight`: unset or empty is 0 (no limit), a negative integer is 0, and a
/// non-integer silently falls back to 0.
pub fn read_max_inflight(env: &BTreeMap<String, String>) -> Sourced<u32> {
    const NAME: &str = "max_inflight";
    match env.get(NAME) {
        None => Sourced {
            value: 0,
            from: Source::Default { empty: false },
        },
        Some(raw) if raw.is_empty() => Sourced {
            value: 0,
            from: Source::Default { empty: true },
        },
        Some(raw) => match raw.trim_start_matches('+').parse::<i64>() {
            Ok(n) => Sourced {
                value: if n >= 0 {
                    u32::try_from(n).unwrap_or(u32::MAX)
                } else {
                    0
                },
                from: Source::Env {
                    name: NAME.to_string(),
                    raw: raw.clone(),
                },
            },
            Err(_) => Sourced {
                value: 0,
                from: Source::Fallback {
                    name: NAME.to_string(),
                    raw: raw.clone(),
                    warning: format!(
                        "\"{raw}\" is not an integer: of-watchdog silently uses 0 (no limit)"
                    ),
                },
            },
        },
    }
}

/// of-watchdog's `mode`. `serializing`, `static` and `inproc` run no child server behind the
/// watchdog and are modelled as streaming (the source keeps the text as written); an unknown mode
/// makes of-watchdog panic at start.
pub fn read_mode(env: &BTreeMap<String, String>) -> Result<Sourced<Mode>, ConfigError> {
    const NAME: &str = "mode";
    let Some(raw) = env.get(NAME) else {
        return Ok(Sourced {
            value: WATCHDOG_DEFAULT_MODE,
            from: Source::Default { empty: false },
        });
    };
    let value = match raw.as_str() {
        "" => {
            return Ok(Sourced {
                value: WATCHDOG_DEFAULT_MODE,
                from: Source::Default { empty: true },
            });
        }
        "http" => Mode::Http,
        "streaming" | "serializing" | "static" | "inproc" => Mode::Streaming,
        other => {
            return Err(ConfigError {
                key: NAME.to_string(),
                message: format!(
                    "of-watchdog does not know mode `{other}` and panics at start (\"unknown \
                     watchdog mode\"); use http, streaming, serializing, static or inproc"
                ),
            });
        }
    };
    Ok(Sourced {
        value,
        from: Source::Env {
            name: NAME.to_string(),
            raw: raw.clone(),
        },
    })
}

/// of-watchdog's reading of the function's environment (`config.New`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchdogEnv {
    /// `write_timeout`, default 30 s (0 is fatal, which `WatchdogConfig` reports).
    pub write_timeout: Sourced<i64>,
    /// `read_timeout`, default 30 s.
    pub read_timeout: Sourced<i64>,
    /// `exec_timeout`, default 30 s.
    pub exec_timeout: Sourced<i64>,
    /// `healthcheck_interval`, defaulting to the effective `write_timeout`.
    pub healthcheck_interval: Sourced<i64>,
    /// `max_inflight`, default 0 (no limit).
    pub max_inflight: Sourced<u32>,
}

impl WatchdogEnv {
    /// Read every setting once, as of-watchdog does.
    pub fn read(env: &BTreeMap<String, String>) -> WatchdogEnv {
        let default_ns = WATCHDOG_DEFAULT_TIMEOUT_NS;
        let write_timeout = read_duration(env, "write_timeout", default_ns, None);
        let read_timeout = read_duration(env, "read_timeout", default_ns, None);
        let exec_timeout = read_duration(env, "exec_timeout", default_ns, None);
        let healthcheck_interval = read_duration(
            env,
            "healthcheck_interval",
            write_timeout.value,
            Some("write_timeout"),
        );
        WatchdogEnv {
            write_timeout,
            read_timeout,
            exec_timeout,
            healthcheck_interval,
            max_inflight: read_max_inflight(env),
        }
    }

    /// The classic watchdog's reading (openfaas/classic-watchdog readconfig.go @23db914): the
    /// same `parseIntOrDurationValue` and 30 s read/write defaults, but `exec_timeout` defaults
    /// to 0, "no hard i.e. \"exec\" timeout".
    pub fn read_classic(env: &BTreeMap<String, String>) -> WatchdogEnv {
        let mut reading = WatchdogEnv::read(env);
        reading.exec_timeout = read_duration(env, "exec_timeout", 0, None);
        reading
    }

    /// The four durations with their variable names, in the order of-watchdog reads them.
    pub fn durations(&self) -> [(&'static str, &Sourced<i64>); 4] {
        [
            ("write_timeout", &self.write_timeout),
            ("read_timeout", &self.read_timeout),
            ("exec_timeout", &self.exec_timeout),
            ("healthcheck_interval", &self.healthcheck_interval),
        ]
    }
}

/// The golang-middleware child's reading of the same environment: its own defaults (those of
/// `ChildConfig::default`), and `healthcheck_interval` defaulting to its own write timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildEnv {
    /// `write_timeout`, default 10 s.
    pub write_timeout: Sourced<i64>,
    /// `read_timeout`, default 10 s.
    pub read_timeout: Sourced<i64>,
    /// `healthcheck_interval`, defaulting to the child's effective `write_timeout`.
    pub healthcheck_interval: Sourced<i64>,
}

impl ChildEnv {
    /// Read every setting once, as the template does.
    pub fn read(env: &BTreeMap<String, String>) -> ChildEnv {
        let defaults = ChildConfig::default();
        let ns = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        let write_timeout =
            read_duration(env, "write_timeout", ns(defaults.write_timeout_ns), None);
        let read_timeout = read_duration(env, "read_timeout", ns(defaults.read_timeout_ns), None);
        let healthcheck_interval = read_duration(
            env,
            "healthcheck_interval",
            write_timeout.value,
            Some("write_timeout"),
        );
        ChildEnv {
            write_timeout,
            read_timeout,
            healthcheck_interval,
        }
    }

    /// The three durations with their variable names, in the order the template reads them.
    pub fn durations(&self) -> [(&'static str, &Sourced<i64>); 3] {
        [
            ("write_timeout", &self.write_timeout),
            ("read_timeout", &self.read_timeout),
            ("healthcheck_interval", &self.healthcheck_interval),
        ]
    }
}

/// The watchdog and child settings faasim reads from a function's environment. Environment
/// variable names are case-sensitive (Go's `os.Getenv`), so `EXEC_TIMEOUT` is not
/// `exec_timeout`: of-watchdog's `config/config.go` and the golang-middleware child read these
/// lower-case names only.
pub const READ_VARIABLES: &[&str] = &[
    "write_timeout",
    "read_timeout",
    "exec_timeout",
    "healthcheck_interval",
    "max_inflight",
    "mode",
];

/// The variable `name` was probably meant to be, when it differs from one faasim reads only in
/// case (`EXEC_TIMEOUT`); `None` when it is one of them, or unlike all.
pub fn miscased_variable(name: &str) -> Option<&'static str> {
    READ_VARIABLES
        .iter()
        .copied()
        .find(|known| *known != name && known.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_S;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn each_value_says_where_it_came_from() {
        let read = WatchdogEnv::read(&env(&[
            ("write_timeout", "2m"),
            ("read_timeout", ""),
            ("exec_timeout", "2 minutes"),
        ]));
        assert_eq!(
            read.write_timeout.from,
            Source::Env {
                name: "write_timeout".into(),
                raw: "2m".into()
            }
        );
        assert_eq!(read.read_timeout.from, Source::Default { empty: true });
        assert!(matches!(read.exec_timeout.from, Source::Fallback { .. }));
        assert_eq!(read.exec_timeout.value, WATCHDOG_DEFAULT_TIMEOUT_NS);
        assert_eq!(
            read.healthcheck_interval,
            Sourced {
                value: 120 * NS_PER_S as i64,
                from: Source::Derived {
                    from: "write_timeout".into(),
                    empty: false
                }
            }
        );
        assert_eq!(read.max_inflight.from, Source::Default { empty: false });
    }

    #[test]
    fn the_child_defaults_are_its_own() {
        let read = ChildEnv::read(&env(&[]));
        assert_eq!(read.write_timeout.value, 10 * NS_PER_S as i64);
        assert_eq!(read.write_timeout.from, Source::Default { empty: false });
        assert!(matches!(
            read.healthcheck_interval.from,
            Source::Derived { .. }
        ));
    }

    #[test]
    fn the_classic_watchdog_has_no_exec_timeout_by_default() {
        let read = WatchdogEnv::read_classic(&env(&[]));
        assert_eq!(read.exec_timeout.value, 0);
        assert_eq!(read.write_timeout.value, WATCHDOG_DEFAULT_TIMEOUT_NS);
        let read = WatchdogEnv::read_classic(&env(&[("exec_timeout", "5m")]));
        assert_eq!(read.exec_timeout.value, 300 * NS_PER_S as i64);
    }

    #[test]
    fn modes() {
        let mode = |raw: &str| read_mode(&env(&[("mode", raw)])).map(|m| m.value);
        assert_eq!(mode("http"), Ok(Mode::Http));
        assert_eq!(mode("static"), Ok(Mode::Streaming));
        assert_eq!(mode(""), Ok(WATCHDOG_DEFAULT_MODE));
        assert_eq!(mode("fast").map_err(|e| e.key), Err("mode".to_string()));
        assert_eq!(
            read_mode(&env(&[])).map(|m| m.from),
            Ok(Source::Default { empty: false })
        );
    }

    #[test]
    fn max_inflight() {
        let read = |raw: &str| read_max_inflight(&env(&[("max_inflight", raw)]));
        assert_eq!(read("+10").value, 10);
        assert_eq!(read("-1").value, 0);
        assert!(read("-1").is_set());
        assert!(read("lots").warning().is_some());
    }
}
