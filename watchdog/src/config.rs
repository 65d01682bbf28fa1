//! The watchdog's settings, read from the same environment variables as of-watchdog's
//! `config.New`. The timers come from `faasim_model::config::WatchdogConfig::from_env`, so the
//! real watchdog and the model can never disagree on how a value such as `"60"`, `"2m30s"` or
//! `"0"` is understood.

use std::collections::BTreeMap;
use std::time::Duration;

use faasim_model::config::{ConfigError, ConfigWarning, Mode, WatchdogConfig, WatchdogKind};
use faasim_model::server::DrainPolicy;

/// Everything one watchdog needs besides its listener, connector and shutdown signal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Timers, `max_inflight` and the shutdown sequence (`kind`). `mode` must be `Http`.
    pub watchdog: WatchdogConfig,
    /// `upstream_url` / `http_upstream_url`: where requests are proxied, e.g.
    /// `http://127.0.0.1:8082`. Only its path part is used here (prefixed to every request
    /// URI, as Go concatenates the strings); the connector decides where to dial.
    pub upstream_url: String,
    /// `port`: the binary listens on it; of-watchdog defaults to 8080.
    pub port: u16,
    /// `suppress_lock`: no lock file is written, so, as in of-watchdog, `/_/health` never
    /// reports healthy.
    pub suppress_lock: bool,
    /// `ready_path`: when set, `/_/ready` proxies a GET to this upstream path.
    pub ready_path: String,
}

impl Settings {
    /// Settings with of-watchdog's defaults for everything but the upstream.
    pub fn new(watchdog: WatchdogConfig, upstream_url: impl Into<String>) -> Settings {
        Settings {
            watchdog,
            upstream_url: upstream_url.into(),
            port: 8080,
            suppress_lock: false,
            ready_path: String::new(),
        }
    }

    /// Read the environment as of-watchdog does. Refuses what of-watchdog refuses
    /// (`write_timeout` 0, no upstream URL in HTTP mode) and what this watchdog does not
    /// implement (any `mode` but `http`); silent fall-backs come back as warnings.
    pub fn from_env(
        env: &BTreeMap<String, String>,
    ) -> Result<(Settings, Vec<ConfigWarning>), ConfigError> {
        match env.get("mode").map(String::as_str) {
            None | Some("") | Some("http") => {}
            Some(other) => {
                return Err(ConfigError {
                    key: "mode".to_string(),
                    message: format!("faasim-watchdog implements mode=http only, not {other:?}"),
                });
            }
        }
        let (watchdog, mut warnings) =
            WatchdogConfig::from_env(env, WatchdogKind::OfWatchdog, Mode::Http)?;
        // of-watchdog reads `upstream_url`, then lets `http_upstream_url` override it.
        let upstream_url = env
            .get("http_upstream_url")
            .or_else(|| env.get("upstream_url"))
            .cloned()
            .unwrap_or_default();
        if upstream_url.is_empty() {
            return Err(ConfigError {
                key: "http_upstream_url".to_string(),
                message: "For \"mode=http\" you must specify a valid URL for \"http_upstream_url\""
                    .to_string(),
            });
        }
        if let Err(e) = upstream_url.parse::<hyper::Uri>() {
            return Err(ConfigError {
                key: "http_upstream_url".to_string(),
                message: format!("{upstream_url:?} is not a valid URL: {e}"),
            });
        }
        // `getInt`: a value Atoi rejects becomes 0 (a random port) without a word.
        let port = match env.get("port") {
            None => 8080,
            Some(raw) => match raw.parse::<i64>() {
                Ok(n) => u16::try_from(n).map_err(|_| ConfigError {
                    key: "port".to_string(),
                    message: format!("{n} is not a TCP port"),
                })?,
                Err(_) => {
                    warnings.push(ConfigWarning {
                        key: "port".to_string(),
                        message: format!(
                            "{raw:?} is not an integer: of-watchdog silently listens on port 0"
                        ),
                    });
                    0
                }
            },
        };
        // `getBool`: exactly "true" or "1".
        let suppress_lock = matches!(
            env.get("suppress_lock").map(String::as_str),
            Some("true" | "1")
        );
        let ready_path = env.get("ready_path").cloned().unwrap_or_default();
        Ok((
            Settings {
                watchdog,
                upstream_url,
                port,
                suppress_lock,
                ready_path,
            },
            warnings,
        ))
    }

    /// The shutdown sequence, exactly as the model's server runs it.
    pub fn policy(&self) -> DrainPolicy {
        DrainPolicy::watchdog(&self.watchdog)
    }

    /// `read_timeout` (0: none).
    pub(crate) fn read_timeout(&self) -> Option<Duration> {
        non_zero(self.watchdog.read_timeout_ns)
    }

    /// `write_timeout` (0: none; of-watchdog refuses 0 but a hand-built config may have it).
    pub(crate) fn write_timeout(&self) -> Option<Duration> {
        non_zero(self.watchdog.write_timeout_ns)
    }

    /// `exec_timeout` (0: none).
    pub(crate) fn exec_timeout_ns(&self) -> i64 {
        i64::try_from(self.watchdog.exec_timeout_ns).unwrap_or(i64::MAX)
    }

    /// The path part of the upstream URL, which Go prefixes to every request URI by string
    /// concatenation (`http://h:p` gives "", `http://h:p/` gives "/").
    pub(crate) fn upstream_base_path(&self) -> &str {
        let url = self.upstream_url.as_str();
        let after_scheme = url.find("://").map_or(url, |i| &url[i + 3..]);
        match after_scheme.find(['/', '?']) {
            Some(i) if after_scheme[i..].starts_with('/') => {
                let rest = &after_scheme[i..];
                rest.split('?').next().unwrap_or("")
            }
            _ => "",
        }
    }

    /// The upstream's `host:port`, used as the Host header only when the client sent none.
    pub(crate) fn upstream_authority(&self) -> String {
        self.upstream_url
            .parse::<hyper::Uri>()
            .ok()
            .and_then(|u| u.authority().map(|a| a.to_string()))
            .unwrap_or_default()
    }
}

fn non_zero(ns: u64) -> Option<Duration> {
    (ns > 0).then(|| Duration::from_nanos(ns))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faasim_model::time::NS_PER_S;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_of_watchdog_variables() {
        let (s, warnings) = Settings::from_env(&env(&[
            ("upstream_url", "http://127.0.0.1:8082"),
            ("write_timeout", "2m30s"),
            ("exec_timeout", "120"),
            ("healthcheck_interval", "5s"),
            ("max_inflight", "3"),
            ("port", "9000"),
        ]))
        .unwrap();
        assert!(warnings.is_empty());
        assert_eq!(s.watchdog.write_timeout_ns, 150 * NS_PER_S);
        assert_eq!(s.watchdog.exec_timeout_ns, 120 * NS_PER_S);
        assert_eq!(s.watchdog.read_timeout_ns, 30 * NS_PER_S);
        assert_eq!(s.watchdog.healthcheck_interval_ns, 5 * NS_PER_S as i64);
        assert_eq!(s.watchdog.max_inflight, 3);
        assert_eq!(s.port, 9000);
        assert_eq!(s.upstream_base_path(), "");
        assert_eq!(s.upstream_authority(), "127.0.0.1:8082");
    }

    #[test]
    fn http_upstream_url_wins_and_is_required() {
        let (s, _) = Settings::from_env(&env(&[
            ("upstream_url", "http://a:1"),
            ("http_upstream_url", "http://b:2/base"),
        ]))
        .unwrap();
        assert_eq!(s.upstream_url, "http://b:2/base");
        assert_eq!(s.upstream_base_path(), "/base");
        let err = Settings::from_env(&env(&[])).unwrap_err();
        assert_eq!(err.key, "http_upstream_url");
    }

    #[test]
    fn refuses_what_of_watchdog_refuses_and_other_modes() {
        let err = Settings::from_env(&env(&[
            ("upstream_url", "http://a:1"),
            ("write_timeout", "0"),
        ]))
        .unwrap_err();
        assert_eq!(err.key, "write_timeout");
        let err = Settings::from_env(&env(&[
            ("upstream_url", "http://a:1"),
            ("mode", "streaming"),
        ]))
        .unwrap_err();
        assert_eq!(err.key, "mode");
    }

    #[test]
    fn bad_port_is_port_zero_with_a_warning() {
        let (s, warnings) =
            Settings::from_env(&env(&[("upstream_url", "http://a:1"), ("port", "x")])).unwrap();
        assert_eq!(s.port, 0);
        assert_eq!(warnings[0].key, "port");
    }

    #[test]
    fn zero_healthcheck_interval_means_never_close() {
        let (s, _) = Settings::from_env(&env(&[
            ("upstream_url", "http://a:1"),
            ("healthcheck_interval", "0"),
        ]))
        .unwrap();
        assert_eq!(s.policy().wait_ns, None);
    }
}
