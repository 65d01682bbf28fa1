//! The user-server API (`faasim_turmoil::server`): a plain axum service reproduces mechanism 2
//! (connections refused after SIGTERM while the gateway still routes to the pod), the same
//! service with a drain delay passes, and faasim's watchdog through the API passes a safe
//! scenario.

use std::convert::Infallible;
use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::any;
use faasim_model::ledger::{Cause, Status};
use faasim_model::properties::Property;
use faasim_sim::{Run, scenario};
use faasim_turmoil::server::{Listener, Shutdown, handler_delay, run_server_scenario};
use faasim_watchdog::memory::{self, MemoryListener};
use faasim_watchdog::{Accept, Settings, Watchdog};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

fn load(name: &str) -> scenario::Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(name);
    scenario::load(&path).expect("scenario loads")
}

fn app() -> Router {
    Router::new().fallback(any(|headers: axum::http::HeaderMap| async move {
        tokio::time::sleep(handler_delay(&headers)).await;
        "done\n"
    }))
}

async fn plain_axum(listener: Listener, shutdown: Shutdown) {
    let _ = axum::serve(listener, app())
        .with_graceful_shutdown(shutdown)
        .await;
}

fn violated(run: &Run) -> Vec<Property> {
    run.violations.iter().map(|v| v.property).collect()
}

fn show(label: &str, run: &Run, wall: Duration) {
    let refused = run.result.ledger.iter().filter(|r| r.refused).count();
    let ok = run
        .result
        .ledger
        .iter()
        .filter(|r| r.status == Some(Status::Code(200)))
        .count();
    eprintln!(
        "{label}: {} requests, {ok} x 200, {refused} refused, violations {:?}; {:.1} simulated s in {:.2} wall s",
        run.result.ledger.len(),
        violated(run),
        run.result.end_ns as f64 / 1e9,
        wall.as_secs_f64()
    );
}

#[test]
fn plain_axum_refuses_connections_after_sigterm_under_endpoint_lag() {
    let scenario = load("mechanism-02-routed-after-listener-closed.yaml");
    let wall = Instant::now();
    let run = run_server_scenario(&scenario, scenario.seed.unwrap_or(1), plain_axum).expect("runs");
    show("plain axum", &run, wall.elapsed());
    for line in &run.result.trace {
        eprintln!(
            "{:>10.3} {} {}",
            line.at_ns as f64 / 1e9,
            line.who,
            line.what
        );
    }
    assert_eq!(run.result.ledger.len(), 400);
    assert_eq!(violated(&run), vec![Property::NoRefusedRouting]);
    let refused: Vec<_> = run.result.ledger.iter().filter(|r| r.refused).collect();
    assert!(!refused.is_empty());
    for r in &refused {
        assert_eq!(r.status, Some(Status::Code(500)), "{r:?}");
        assert_eq!(r.cause, Some(Cause::ConnectionRefused), "{r:?}");
    }
    // axum closes its listener at SIGTERM (10 s, no preStop sleep); the provider routes to
    // the pod until the endpoint lag (5 s) has passed: refusals fall in [10 s, 15 s].
    for r in &refused {
        assert!(
            (10_000_000_000..=15_000_000_000).contains(&r.start_ns),
            "{r:?}"
        );
    }
}

#[test]
fn axum_with_a_drain_delay_passes() {
    let scenario = load("mechanism-02-routed-after-listener-closed.yaml");
    let drain = Duration::from_nanos(scenario.config.kubernetes.endpoint_lag_ns.hi_ns);
    let wall = Instant::now();
    let run = run_server_scenario(
        &scenario,
        scenario.seed.unwrap_or(1),
        move |listener, shutdown| async move {
            let signal = async move {
                shutdown.await;
                tokio::time::sleep(drain).await;
            };
            let _ = axum::serve(listener, app())
                .with_graceful_shutdown(signal)
                .await;
        },
    )
    .expect("runs");
    show("axum with a drain delay", &run, wall.elapsed());
    assert_eq!(run.result.ledger.len(), 400);
    assert!(run.passed(), "{:?}", run.violations);
    assert!(
        run.result
            .ledger
            .iter()
            .all(|r| r.status == Some(Status::Code(200)))
    );
}

async fn child(mut listener: MemoryListener) {
    while let Ok(io) = listener.accept().await {
        tokio::spawn(async move {
            let service = service_fn(|req: Request<Incoming>| async move {
                tokio::time::sleep(handler_delay(req.headers())).await;
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"done\n"))))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(io), service)
                .await;
        });
    }
}

/// faasim's watchdog in front of a child that answers after the handler duration (and dies
/// with the watchdog).
fn watchdog_run(scenario: &scenario::Scenario) -> Run {
    let settings = Settings::new(
        scenario.config.function.watchdog.clone(),
        "http://127.0.0.1:8082",
    );
    run_server_scenario(
        scenario,
        scenario.seed.unwrap_or(1),
        move |listener, shutdown| {
            let settings = settings.clone();
            async move {
                let (child_listener, connector) = memory::listener();
                let child = tokio::spawn(child(child_listener));
                Watchdog::new(settings, connector)
                    .run(listener, shutdown)
                    .await;
                child.abort();
            }
        },
    )
    .expect("runs")
}

#[test]
fn the_watchdog_through_the_api_passes_a_safe_scenario() {
    let scenario = load("go-long.yaml");
    let wall = Instant::now();
    let run = watchdog_run(&scenario);
    show("watchdog through the API", &run, wall.elapsed());
    assert_eq!(run.result.ledger.len(), 10);
    assert!(run.passed(), "{:?}", run.violations);
    assert!(
        run.result
            .ledger
            .iter()
            .all(|r| r.status == Some(Status::Code(200)))
    );
}

/// The API's pod (readiness = accepting) and the built-in pod (readiness = the watchdog's
/// health) give the same outcome per request on mechanism 2, where the watchdog itself
/// closes its listener 2 s after SIGTERM with 5 s of endpoint lag.
#[test]
fn the_watchdog_through_the_api_agrees_with_the_built_in_pod() {
    let scenario = load("mechanism-02-routed-after-listener-closed.yaml");
    let wall = Instant::now();
    let api = watchdog_run(&scenario);
    show("watchdog through the API", &api, wall.elapsed());
    let built_in =
        faasim_turmoil::run_turmoil(&scenario, scenario.seed.unwrap_or(1)).expect("runs");
    let outcomes = |run: &Run| -> Vec<_> {
        run.result
            .ledger
            .iter()
            .map(|r| (r.status, r.outcome, r.refused))
            .collect()
    };
    assert_eq!(outcomes(&api), outcomes(&built_in));
    assert_eq!(violated(&api), vec![Property::NoRefusedRouting]);
}
