//! The OpenFaaS function templates, one row per faas-cli `lang`, each read from the template's
//! own source (repository, commit, file): which watchdog runs it and how, the child server
//! behind the watchdog, what that child does on the SIGTERM of-watchdog forwards to it, the
//! child's own timeouts, and the watchdog environment its Dockerfile sets.
//!
//! The template decides what happens to calls in flight at a scale-down or rollout: of-watchdog
//! forwards SIGTERM to its child at once (`cmd.Process.Signal`) and calls `log.Fatalf` when the
//! child exits with an error or by a signal, so a child with no SIGTERM handler (node, python,
//! java) takes the watchdog and every call with it (openfaas/of-watchdog
//! executor/http_runner.go @9bdadb1e). A child that exits 0 leaves the watchdog listening with
//! nothing behind it. Every template's Dockerfile runs the watchdog as PID 1 (exec-form
//! `CMD ["fwatchdog"]`), so its forks die with it.
//!
//! Facts that were not read in code are marked in `assumption`, with the value used.

use std::collections::BTreeMap;

use crate::config::{ChildConfig, Mode, OnSigterm, Span, WatchdogKind};
use crate::environment::ChildEnv;
use crate::time::NS_PER_S;

/// The child server's own timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildTimeouts {
    /// A Go `http.Server` that reads `read_timeout`, `write_timeout` and `healthcheck_interval`
    /// from the function's environment with `parseIntOrDurationValue`, 10 s defaults
    /// (golang-http-template's `main.go`).
    GoEnv,
    /// A server with no write timeout of Go's kind, whatever the environment says; it closes
    /// idle keep-alive connections after `idle_ns` (0: never).
    NoWrite {
        /// Its keep-alive idle timeout.
        idle_ns: u64,
    },
    /// No child server: the watchdog forks per request or serves in process.
    NoChild,
}

/// One template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Template {
    /// The faas-cli `lang`.
    pub lang: &'static str,
    /// The watchdog and its drain sequence.
    pub watchdog: WatchdogKind,
    /// The watchdog's image as the Dockerfile pins it.
    pub watchdog_image: &'static str,
    /// How the watchdog runs the function.
    pub mode: Mode,
    /// The child server (HTTP mode), or what is forked per request.
    pub process: &'static str,
    /// What the child does on the SIGTERM the watchdog forwards (`None`: no child; forks are
    /// not signalled, they die with the watchdog).
    pub on_sigterm: Option<OnSigterm>,
    /// The child's own timeouts.
    pub child_timeouts: ChildTimeouts,
    /// Watchdog environment the Dockerfile (or the entry point) sets; the function's own
    /// `environment` wins over each.
    pub env: &'static [(&'static str, &'static str)],
    /// Where each fact was read: repository, commit, files.
    pub source: &'static str,
    /// What was not read in code, and the value used for it; empty when everything was.
    pub assumption: &'static str,
}

impl Template {
    /// The child's configuration for this template under the function's environment `env`
    /// (the Dockerfile's defaults already applied): a Go child reads the environment, any
    /// other child has the timeouts of its own server.
    pub fn child_config(&self, env: &BTreeMap<String, String>, startup_ns: Span) -> ChildConfig {
        let on_sigterm = self.on_sigterm.unwrap_or(OnSigterm::Drain);
        match self.child_timeouts {
            // No child runs without one; the configuration keeps the Go reading, as a
            // function without a template does.
            ChildTimeouts::GoEnv | ChildTimeouts::NoChild => {
                ChildConfig::from_reading(&ChildEnv::read(env), on_sigterm, startup_ns)
            }
            ChildTimeouts::NoWrite { idle_ns } => ChildConfig {
                on_sigterm,
                write_timeout_ns: 0,
                read_timeout_ns: idle_ns,
                healthcheck_interval_ns: 0,
                startup_ns,
            },
        }
    }

    /// The environment with the template's defaults under it: what the function sets wins.
    pub fn environment(&self, env: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut merged: BTreeMap<String, String> = self
            .env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        merged.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged
    }
}

/// The template of faas-cli `lang`, or `None` for one this table does not know (the caller then
/// states its assumption).
pub fn template(lang: &str) -> Option<&'static Template> {
    TEMPLATES.iter().find(|t| t.lang == lang)
}

/// Node's http server closes idle keep-alive connections after 5 s (`keepAliveTimeout`,
/// Node 18-22) and has no write timeout.
const NODE: ChildTimeouts = ChildTimeouts::NoWrite {
    idle_ns: 5 * NS_PER_S,
};
/// waitress: no request timeouts; `channel_timeout` 120 s closes idle connections only.
const WAITRESS: ChildTimeouts = ChildTimeouts::NoWrite {
    idle_ns: 120 * NS_PER_S,
};
/// A server whose idle timeout was not read: none assumed (the watchdog's own pool closes its
/// idle connections to the child after 500 ms anyway).
const UNREAD: ChildTimeouts = ChildTimeouts::NoWrite { idle_ns: 0 };

/// The node templates' Dockerfile (openfaas/templates template/node22/Dockerfile:54-56).
const NODE_ENV: &[(&str, &str)] = &[
    ("exec_timeout", "10s"),
    ("write_timeout", "15s"),
    ("read_timeout", "15s"),
];

/// golang-middleware-inproc's `main.go` sets these when unset (defaultTimeout 10 s, read and
/// write 100 ms longer) before the embedded of-watchdog reads them.
const INPROC_ENV: &[(&str, &str)] = &[
    ("exec_timeout", "10s"),
    ("read_timeout", "10.1s"),
    ("write_timeout", "10.1s"),
];

/// A child with no SIGTERM handler dies by the signal.
const DIES: Option<OnSigterm> = Some(OnSigterm::Exit);

/// ASP.NET Core: ConsoleLifetime stops the host, Kestrel stops accepting and drains for
/// HostOptions.ShutdownTimeout, then the process exits 0.
const STOPS: Option<OnSigterm> = Some(OnSigterm::Stop {
    shutdown_timeout_ns: 30 * NS_PER_S,
});

/// Shorthand for a row of a classic-watchdog template (fork per request, nothing signalled).
const fn classic(
    lang: &'static str,
    image: &'static str,
    process: &'static str,
    source: &'static str,
) -> Template {
    Template {
        lang,
        watchdog: WatchdogKind::Classic,
        watchdog_image: image,
        mode: Mode::Streaming,
        process,
        on_sigterm: None,
        child_timeouts: ChildTimeouts::NoChild,
        env: &[],
        source,
        assumption: "",
    }
}

/// Shorthand for a row of an of-watchdog HTTP-mode template.
#[allow(clippy::too_many_arguments)]
const fn http(
    lang: &'static str,
    image: &'static str,
    process: &'static str,
    on_sigterm: Option<OnSigterm>,
    child_timeouts: ChildTimeouts,
    env: &'static [(&'static str, &'static str)],
    source: &'static str,
    assumption: &'static str,
) -> Template {
    Template {
        lang,
        watchdog: WatchdogKind::OfWatchdog,
        watchdog_image: image,
        mode: Mode::Http,
        process,
        on_sigterm,
        child_timeouts,
        env,
        source,
        assumption,
    }
}

const GOLANG_SOURCE: &str = "openfaas/golang-http-template @9644d651 template/golang-middleware/main.go:22-75 \
     (SIGTERM: <-time.Tick(healthcheck_interval), Shutdown(write_timeout), exit 0; read/write \
     10 s defaults), Dockerfile:1,56-61 (of-watchdog 0.11.3, mode http, no timeouts)";
const NODE_SOURCE: &str = "openfaas/templates @69ca16ae template/node22/index.js (express app.listen(3000), no \
     SIGTERM handler), Dockerfile:1,50-56,62 (of-watchdog 0.10.9; exec 10s, write 15s, read \
     15s); openfaas/templates#305";
const PYTHON_SOURCE: &str = "openfaas/python-flask-template @e01a8826 template/python3-http/index.py:3,72 (waitress \
     serve, no SIGTERM handler), Dockerfile:3,55-62 (of-watchdog 0.11.3, mode http, no timeouts)";
const JAVA_SOURCE: &str = "openfaas/templates @69ca16ae template/java17/Dockerfile:32,52-61 (of-watchdog 0.10.9, mode \
     http, no timeouts); openfaas/templates-sdk @5981c545 java11 entrypoint App.java:29-34 \
     (com.sun.net.httpserver.HttpServer on 8082, no shutdown hook: the JVM exits 143)";
const CLASSIC_EOL: &str = "openfaas/templates c5224a6 (2025-01-23, \"Remove EOL templates\": moved to \
     openfaas/templates-classic @a1a0c83f, each Dockerfile on classic-watchdog 0.3.1, fork per request)";

/// Every template the table knows, by `lang`.
pub static TEMPLATES: &[Template] = &[
    http(
        "golang-http",
        "ghcr.io/openfaas/of-watchdog:0.11.3",
        "./handler: Go http.Server on 8082",
        Some(OnSigterm::Drain),
        ChildTimeouts::GoEnv,
        &[],
        "openfaas/golang-http-template @9644d651 template/golang-http/main.go:25-77, \
         Dockerfile:1,58-63",
        "",
    ),
    http(
        "golang-middleware",
        "ghcr.io/openfaas/of-watchdog:0.11.3",
        "./handler: Go http.Server on 8082",
        Some(OnSigterm::Drain),
        ChildTimeouts::GoEnv,
        &[],
        GOLANG_SOURCE,
        "",
    ),
    Template {
        lang: "golang-middleware-inproc",
        watchdog: WatchdogKind::OfWatchdog,
        watchdog_image: "of-watchdog library in ./handler (CMD [\"./handler\"])",
        // No child: the embedded watchdog serves the handler in its own process, which the
        // model runs like streaming mode (as `environment::read_mode` does for `inproc`).
        mode: Mode::Streaming,
        process: "the handler, in the watchdog's process",
        on_sigterm: None,
        child_timeouts: ChildTimeouts::NoChild,
        env: INPROC_ENV,
        source: "openfaas/golang-http-template @9644d651 template/golang-middleware-inproc/main.go:21-79 \
                 (SIGTERM cancels the context, then of-watchdog's listenUntilShutdown), \
                 Dockerfile:54-59",
        assumption: "main.go turns a healthcheck_interval that time.ParseDuration reads as <= 0 \
                     (a bare integer such as \"30\" included) into 1ms; not modelled",
    },
    http(
        "node18",
        "ghcr.io/openfaas/of-watchdog:0.10.9",
        "node index.js: express on 3000",
        DIES,
        NODE,
        NODE_ENV,
        NODE_SOURCE,
        "",
    ),
    http(
        "node20",
        "ghcr.io/openfaas/of-watchdog:0.10.9",
        "node index.js: express on 3000",
        DIES,
        NODE,
        NODE_ENV,
        NODE_SOURCE,
        "",
    ),
    http(
        "node22",
        "ghcr.io/openfaas/of-watchdog:0.10.9",
        "node index.js: express on 3000",
        DIES,
        NODE,
        NODE_ENV,
        NODE_SOURCE,
        "",
    ),
    http(
        "python3-http",
        "ghcr.io/openfaas/of-watchdog:0.11.3",
        "python index.py: waitress on 5000",
        DIES,
        WAITRESS,
        &[],
        PYTHON_SOURCE,
        "",
    ),
    http(
        "python3-http-debian",
        "ghcr.io/openfaas/of-watchdog:0.11.3",
        "python index.py: waitress on 5000",
        DIES,
        WAITRESS,
        &[],
        PYTHON_SOURCE,
        "",
    ),
    http(
        "python3-flask",
        "ghcr.io/openfaas/of-watchdog:0.11.3",
        "python index.py: waitress on 5000",
        DIES,
        WAITRESS,
        &[],
        "openfaas/python-flask-template @e01a8826 template/python3-flask/index.py:6,41 \
         (waitress serve, no SIGTERM handler), Dockerfile:3,59-67",
        "",
    ),
    http(
        "python3-flask-debian",
        "ghcr.io/openfaas/of-watchdog:0.11.3",
        "python index.py: waitress on 5000",
        DIES,
        WAITRESS,
        &[],
        "openfaas/python-flask-template @e01a8826 template/python3-flask-debian/index.py, \
         Dockerfile:5,62-70",
        "",
    ),
    http(
        "python27-flask",
        "ghcr.io/openfaas/of-watchdog:0.11.3",
        "python index.py: Flask app.run (werkzeug) on 5000",
        DIES,
        UNREAD,
        &[],
        "openfaas/python-flask-template @e01a8826 template/python27-flask/index.py:28, \
         Dockerfile:1,41-49",
        "werkzeug's idle timeout not read: none assumed",
    ),
    http(
        "java11",
        "ghcr.io/openfaas/of-watchdog:0.10.9",
        "java com.openfaas.entrypoint.App: HttpServer on 8082",
        DIES,
        UNREAD,
        &[],
        JAVA_SOURCE,
        "HttpServer's idle timeout not read: none assumed",
    ),
    http(
        "java17",
        "ghcr.io/openfaas/of-watchdog:0.10.9",
        "java com.openfaas.entrypoint.App: HttpServer on 8082",
        DIES,
        UNREAD,
        &[],
        JAVA_SOURCE,
        "HttpServer's idle timeout not read: none assumed",
    ),
    http(
        "java11-vert-x",
        "ghcr.io/openfaas/of-watchdog:0.10.9",
        "java -jar app.jar: Vert.x HttpServer on 8082",
        DIES,
        UNREAD,
        &[],
        "openfaas/templates @69ca16ae template/java11-vert-x/entrypoint App.java:13-33, \
         Dockerfile:30,47-56",
        "no shutdown code was found, so the JVM is assumed to exit 143 on SIGTERM (dies); \
         Vert.x's idle timeout not read: none assumed",
    ),
    http(
        "dotnet8-csharp",
        "ghcr.io/openfaas/of-watchdog:0.10.1",
        "ASP.NET Core Kestrel on 127.0.0.1:3000",
        STOPS,
        UNREAD,
        &[],
        "openfaas/dotnet-templates @a1bdbb90 template/dotnet8-csharp Program.cs:6-16, \
         Dockerfile:1,29-33",
        "ConsoleLifetime stops Kestrel at once and drains for HostOptions.ShutdownTimeout, \
         assumed 30 s (the .NET 8 default); the exit status is assumed 0, so the watchdog keeps \
         listening and later calls get 500",
    ),
    http(
        "ruby-http",
        "ghcr.io/openfaas/of-watchdog:0.10.9",
        "Sinatra on Puma on 5000",
        DIES,
        UNREAD,
        &[],
        "openfaas/ruby-http @bb42896b index.rb:6-35, Gemfile, Dockerfile:1,44-52",
        "Puma's TERM handling not read: modelled as dying by the signal (Puma may drain first, \
         then exit non-zero, which the watchdog log.Fatalf's on as well)",
    ),
    Template {
        lang: "bash-streaming",
        watchdog: WatchdogKind::OfWatchdog,
        watchdog_image: "ghcr.io/openfaas/of-watchdog:0.9.11",
        mode: Mode::Streaming,
        process: "sh ./index.sh, forked per request",
        on_sigterm: None,
        child_timeouts: ChildTimeouts::NoChild,
        env: &[],
        source: "alexellis/openfaas-streaming-templates @323f0e2b bash-streaming/Dockerfile:1,37-44; \
                 openfaas/of-watchdog executor/streaming_runner.go:24-31",
        assumption: "",
    },
    Template {
        assumption: "the function's own Dockerfile decides the watchdog; the template's \
                     starting point (classic-watchdog, fork per request) is assumed",
        ..classic(
            "dockerfile",
            "ghcr.io/openfaas/classic-watchdog:0.3.3",
            "fprocess (cat by default), forked per request",
            "openfaas/templates @69ca16ae template/dockerfile/function/Dockerfile:1,19,27",
        )
    },
    classic(
        "php7",
        "ghcr.io/openfaas/classic-watchdog:0.3.2",
        "php index.php, forked per request",
        "openfaas/templates @69ca16ae template/php7/Dockerfile:4,54-56",
    ),
    classic(
        "php8",
        "ghcr.io/openfaas/classic-watchdog:0.3.2",
        "php index.php, forked per request",
        "openfaas/templates @69ca16ae template/php8/Dockerfile:4,54-56",
    ),
    classic(
        "go",
        "ghcr.io/openfaas/classic-watchdog:0.3.1",
        "./handler, forked per request",
        CLASSIC_EOL,
    ),
    classic(
        "node",
        "ghcr.io/openfaas/classic-watchdog:0.3.1",
        "node index.js, forked per request",
        CLASSIC_EOL,
    ),
    classic(
        "python3",
        "ghcr.io/openfaas/classic-watchdog:0.3.1",
        "python3 index.py, forked per request",
        CLASSIC_EOL,
    ),
    classic(
        "python3-debian",
        "ghcr.io/openfaas/classic-watchdog:0.3.1",
        "python3 index.py, forked per request",
        CLASSIC_EOL,
    ),
    classic(
        "python",
        "ghcr.io/openfaas/classic-watchdog:0.3.1",
        "python index.py, forked per request",
        CLASSIC_EOL,
    ),
    classic(
        "python27",
        "ghcr.io/openfaas/classic-watchdog:0.3.1",
        "python index.py, forked per request",
        CLASSIC_EOL,
    ),
    classic(
        "ruby",
        "ghcr.io/openfaas/classic-watchdog:0.3.1",
        "ruby index.rb, forked per request",
        CLASSIC_EOL,
    ),
    classic(
        "csharp",
        "ghcr.io/openfaas/classic-watchdog:0.3.1",
        "dotnet ./root.dll, forked per request",
        CLASSIC_EOL,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_lang_is_listed_once_and_cites_its_source() {
        let mut langs: Vec<&str> = TEMPLATES.iter().map(|t| t.lang).collect();
        langs.sort_unstable();
        let count = langs.len();
        langs.dedup();
        assert_eq!(langs.len(), count, "a lang is listed twice");
        for t in TEMPLATES {
            assert!(
                t.source.contains('@') || t.source.contains("c5224a6"),
                "{}",
                t.lang
            );
            // A child's behaviour is stated exactly when there is a child.
            assert_eq!(
                t.on_sigterm.is_some(),
                t.mode == Mode::Http,
                "{}: on_sigterm iff http mode",
                t.lang
            );
            assert_eq!(
                t.child_timeouts == ChildTimeouts::NoChild,
                t.mode != Mode::Http,
                "{}",
                t.lang
            );
        }
    }

    #[test]
    fn the_rows_that_decide_a_drop() {
        for lang in [
            "node18",
            "node20",
            "node22",
            "python3-http",
            "python3-flask-debian",
            "java17",
        ] {
            assert_eq!(
                template(lang).unwrap().on_sigterm,
                Some(OnSigterm::Exit),
                "{lang}"
            );
        }
        assert_eq!(
            template("golang-middleware").unwrap().on_sigterm,
            Some(OnSigterm::Drain)
        );
        assert!(matches!(
            template("dotnet8-csharp").unwrap().on_sigterm,
            Some(OnSigterm::Stop { .. })
        ));
        for lang in ["python3", "php8", "dockerfile", "go", "csharp"] {
            let t = template(lang).unwrap();
            assert_eq!(
                (t.watchdog, t.mode),
                (WatchdogKind::Classic, Mode::Streaming),
                "{lang}"
            );
        }
        assert!(template("cobol").is_none());
    }

    #[test]
    fn the_dockerfile_env_sits_under_the_functions_own() {
        let node = template("node20").unwrap();
        let merged = node.environment(&env(&[("write_timeout", "1m")]));
        assert_eq!(merged.get("write_timeout").map(String::as_str), Some("1m"));
        assert_eq!(merged.get("exec_timeout").map(String::as_str), Some("10s"));
        assert_eq!(merged.get("read_timeout").map(String::as_str), Some("15s"));
    }

    #[test]
    fn only_a_go_child_reads_the_environment() {
        let e = env(&[("write_timeout", "1m")]);
        let go = template("golang-middleware")
            .unwrap()
            .child_config(&e, Span::fixed(0));
        assert_eq!(go.write_timeout_ns, 60 * NS_PER_S);
        let go_default = template("golang-http")
            .unwrap()
            .child_config(&env(&[]), Span::fixed(0));
        assert_eq!(go_default.write_timeout_ns, 10 * NS_PER_S);
        let node = template("node20").unwrap().child_config(&e, Span::fixed(0));
        assert_eq!(node.write_timeout_ns, 0, "node has no write timeout");
        assert_eq!(node.read_timeout_ns, 5 * NS_PER_S);
    }
}
