//! The watchdog's settings, read from the same environment variables as of-watchdog's
//! `config.New`. The timers come from `faasim_model::config::WatchdogConfig::from_env`, so the
//! real watchdog and the model can never disagree on how a value such as `"60"`, `"2m30s"` or
//! `"0"` is understood.

use std::collections::BTreeMap;
use std::time::Duration;

use faasim_model::config::{ConfigError, ConfigWarning, Mode, WatchdogConfig, WatchdogKind};
use faasim_model::server::DrainPolicy;

/// of-watchdog's `Content-Type` for streaming responses when `content_type` is unset.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// Everything one watchdog needs besides its listener, its function (an upstream connector
/// or a `Fork`) and its shutdown signal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Timers, `max_inflight`, the shutdown sequence (`kind`) and the `mode` the environment
    /// asked for. The `Watchdog` constructor, not this field, decides how requests are run.
    pub watchdog: WatchdogConfig,
    /// `upstream_url` / `http_upstream_url` (HTTP mode): where requests are proxied, e.g.
    /// `http://127.0.0.1:8082`. Only its path part is used here (prefixed to every request
    /// URI, as Go concatenates the strings); the connector decides where to dial.
    pub upstream_url: String,
    /// `fprocess` / `function_process` (streaming mode): the command forked per request.
    pub fprocess: String,
    /// `content_type` (streaming mode): the `Content-Type` of every function response.
    pub content_type: String,
    /// Streaming mode passes the request to its process as CGI-like `Http_*` variables.
    /// of-watchdog always does (no variable turns it off); a simulator may skip the work.
    pub inject_cgi_headers: bool,
    /// `port`: the binary listens on it; of-watchdog defaults to 8080.
    pub port: u16,
    /// `suppress_lock`: no lock file is written, so, as in of-watchdog, `/_/health` never
    /// reports healthy.
    pub suppress_lock: bool,
    /// `ready_path`: when set, `/_/ready` asks the function for this path (HTTP mode: a GET
    /// to the upstream; streaming mode: a process forked for a GET on it).
    pub ready_path: String,
}

impl Settings {
    /// HTTP-mode settings with of-watchdog's defaults for everything but the upstream.
    pub fn new(watchdog: WatchdogConfig, upstream_url: impl Into<String>) -> Settings {
        Settings {
            watchdog,
            upstream_url: upstream_url.into(),
            fprocess: String::new(),
            content_type: DEFAULT_CONTENT_TYPE.to_string(),
            inject_cgi_headers: true,
            port: 8080,
            suppress_lock: false,
            ready_path: String::new(),
        }
    }

    /// Streaming-mode settings (`watchdog.mode` set to `Streaming`) with of-watchdog's
    /// defaults for everything but the command.
    pub fn streaming(mut watchdog: WatchdogConfig, fprocess: impl Into<String>) -> Settings {
        watchdog.mode = Mode::Streaming;
        Settings {
            fprocess: fprocess.into(),
            ..Settings::new(watchdog, "")
        }
    }

    /// Read the environment as of-watchdog does. Refuses what of-watchdog refuses
    /// (`write_timeout` 0, an unknown `mode`, no `fprocess` in streaming mode, no upstream
    /// URL in HTTP mode) and what this watchdog does not implement (`serializing`, `static`,
    /// `inproc`); silent fall-backs come back as warnings. An unset `mode` is streaming, as in
    /// of-watchdog.
    pub fn from_env(
        env: &BTreeMap<String, String>,
    ) -> Result<(Settings, Vec<ConfigWarning>), ConfigError> {
        let mode = match env.get("mode").map(String::as_str) {
            None | Some("") | Some("streaming") => Mode::Streaming,
            Some("http") => Mode::Http,
            Some(other @ ("serializing" | "static" | "inproc")) => {
                return Err(ConfigError {
                    key: "mode".to_string(),
                    message: format!(
                        "faasim-watchdog implements mode=streaming and mode=http, not {other:?}"
                    ),
                });
            }
            Some(other) => {
                return Err(ConfigError {
                    key: "mode".to_string(),
                    message: format!(
                        "{other:?} is not a watchdog mode: of-watchdog panics with \"unknown \
                         watchdog mode\""
                    ),
                });
            }
        };
        let (watchdog, mut warnings) =
            WatchdogConfig::from_env(env, WatchdogKind::OfWatchdog, mode)?;
        // of-watchdog reads `fprocess`, then lets `function_process` override it.
        let fprocess = env
            .get("function_process")
            .or_else(|| env.get("fprocess"))
            .cloned()
            .unwrap_or_default();
        // of-watchdog reads `upstream_url`, then lets `http_upstream_url` override it.
        let upstream_url = env
            .get("http_upstream_url")
            .or_else(|| env.get("upstream_url"))
            .cloned()
            .unwrap_or_default();
        match mode {
            // of-watchdog requires fprocess in HTTP mode too, to start its child; this
            // watchdog does not start one, so it only needs the URL there.
            Mode::Streaming if fprocess.is_empty() => {
                return Err(ConfigError {
                    key: "fprocess".to_string(),
                    message: "provide a \"function_process\" or \"fprocess\" environmental \
                              variable for your function"
                        .to_string(),
                });
            }
            Mode::Streaming => {}
            Mode::Http => {
                if upstream_url.is_empty() {
                    return Err(ConfigError {
                        key: "http_upstream_url".to_string(),
                        message:
                            "For \"mode=http\" you must specify a valid URL for \"http_upstream_url\""
                                .to_string(),
                    });
                }
                if let Err(e) = upstream_url.parse::<hyper::Uri>() {
                    return Err(ConfigError {
                        key: "http_upstream_url".to_string(),
                        message: format!("{upstream_url:?} is not a valid URL: {e}"),
                    });
                }
            }
        }
        let content_type = env
            .get("content_type")
            .cloned()
            .unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_string());
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
                fprocess,
                content_type,
                inject_cgi_headers: true,
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
    pub(crate) fn exec_timeout(&self) -> Option<Duration> {
        non_zero(self.watchdog.exec_timeout_ns)
    }

    /// `exec_timeout` as Go's signed duration, which `X-Timeout` may lower (HTTP mode).
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
            ("mode", "http"),
            ("upstream_url", "http://127.0.0.1:8082"),
            ("write_timeout", "2m30s"),
            ("exec_timeout", "120"),
            ("healthcheck_interval", "5s"),
            ("max_inflight", "3"),
            ("port", "9000"),
        ]))
        .unwrap();
        assert!(warnings.is_empty());
        assert_eq!(s.watchdog.mode, Mode::Http);
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
            ("mode", "http"),
            ("upstream_url", "http://a:1"),
            ("http_upstream_url", "http://b:2/base"),
        ]))
        .unwrap();
        assert_eq!(s.upstream_url, "http://b:2/base");
        assert_eq!(s.upstream_base_path(), "/base");
        let err = Settings::from_env(&env(&[("mode", "http")])).unwrap_err();
        assert_eq!(err.key, "http_upstream_url");
    }

    #[test]
    fn streaming_is_the_default_and_reads_its_variables() {
        let (s, warnings) = Settings::from_env(&env(&[("fprocess", "cat")])).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(s.watchdog.mode, Mode::Streaming);
        assert_eq!(s.fprocess, "cat");
        assert_eq!(s.content_type, "application/octet-stream");
        assert!(s.inject_cgi_headers);
        let (s, _) = Settings::from_env(&env(&[
            ("mode", "streaming"),
            ("fprocess", "cat"),
            ("function_process", "node index.js"),
            ("content_type", "text/plain"),
        ]))
        .unwrap();
        assert_eq!(s.fprocess, "node index.js");
        assert_eq!(s.content_type, "text/plain");
    }

    #[test]
    fn streaming_requires_fprocess() {
        let err = Settings::from_env(&env(&[("mode", "streaming")])).unwrap_err();
        assert_eq!(err.key, "fprocess");
        // An upstream URL is no substitute, as in of-watchdog.
        let err = Settings::from_env(&env(&[("upstream_url", "http://a:1")])).unwrap_err();
        assert_eq!(err.key, "fprocess");
    }

    #[test]
    fn refuses_what_of_watchdog_refuses_and_other_modes() {
        let err = Settings::from_env(&env(&[
            ("mode", "http"),
            ("upstream_url", "http://a:1"),
            ("write_timeout", "0"),
        ]))
        .unwrap_err();
        assert_eq!(err.key, "write_timeout");
        for mode in ["serializing", "static", "inproc", "afterburn", "Streaming"] {
            let err = Settings::from_env(&env(&[
                ("upstream_url", "http://a:1"),
                ("fprocess", "cat"),
                ("mode", mode),
            ]))
            .unwrap_err();
            assert_eq!(err.key, "mode", "{mode}");
            assert!(
                err.message.contains(&format!("{mode:?}")),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn bad_port_is_port_zero_with_a_warning() {
        let (s, warnings) =
            Settings::from_env(&env(&[("fprocess", "cat"), ("port", "x")])).unwrap();
        assert_eq!(s.port, 0);
        assert_eq!(warnings[0].key, "port");
    }

    #[test]
    fn zero_healthcheck_interval_means_never_close() {
        let (s, _) =
            Settings::from_env(&env(&[("fprocess", "cat"), ("healthcheck_interval", "0")]))
                .unwrap();
        assert_eq!(s.policy().wait_ns, None);
    }

    #[test]
    fn streaming_settings_set_the_mode() {
        let s = Settings::streaming(WatchdogConfig::default(), "cat");
        assert_eq!(s.watchdog.mode, Mode::Streaming);
        assert_eq!(s.fprocess, "cat");
        assert_eq!(s.upstream_url, "");
    }
}
