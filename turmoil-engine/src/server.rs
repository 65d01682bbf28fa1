//! Your own tokio server in every pod: run a scenario against any server written as a function
//! of a [`Listener`] (its socket on :8080) and a [`Shutdown`] (SIGTERM).
//!
//! ```no_run
//! # #[cfg(feature = "axum")] {
//! use axum::{Router, routing::any};
//! use faasim_turmoil::server::{handler_delay, run_server_scenario};
//!
//! let path = std::path::Path::new("scenarios/mechanism-02-routed-after-listener-closed.yaml");
//! let scenario = faasim_sim::scenario::load(path).unwrap();
//! let run = run_server_scenario(&scenario, 1, |listener, shutdown| async move {
//!     let app = Router::new().fallback(any(|headers: axum::http::HeaderMap| async move {
//!         tokio::time::sleep(handler_delay(&headers)).await;
//!         "done\n"
//!     }));
//!     let _ = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
//! })
//! .unwrap();
//! println!("{:?}", run.violations);
//! # }
//! ```
//!
//! What the pod does with your server:
//! - The pod's host binds :8080 and hands your function the [`Listener`]; your function's
//!   future is the process: when it returns, the process has exited (connections to the pod are
//!   refused from then on). Tasks it spawned keep running until SIGKILL, so return only once
//!   they are done (as `axum::serve(..).with_graceful_shutdown(..)` does).
//! - **Readiness**: the pod is Ready (after the scenario's readiness probe timing) once your
//!   server is accepting: it has called [`Listener::accept`] (axum and the watchdog do as soon
//!   as they run) and has not dropped the listener. There is no HTTP `/ready` probe.
//! - **SIGTERM** resolves [`Shutdown`]; **SIGKILL** (the grace period's end) crashes the host:
//!   everything in flight is lost.
//! - **Handler duration**: sleep [`handler_delay`]`(request.headers())` in each request; it is
//!   the model's draw of `function.handler.duration` for that request (found by the
//!   `x-faasim-id` header the client sends through every hop), so both engines give every
//!   request the same duration for one seed.
//! - The result is a [`faasim_sim::Run`]: the same ledger, properties and reports as the model's
//!   and the watchdog's runs. A pod's exit is recorded with the watchdog's exit cause, and the
//!   requests active at SIGKILL are not counted (`killed_with` is 0).

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use faasim_sim::Run;
use faasim_sim::scenario::Scenario;

use crate::harness::{TICK, run_turmoil_with};
use crate::user_server::{self, HandlerDelay, PodIo, PodServer};

/// The pod's listening socket on :8080 (a turmoil TCP listener). Implements
/// `axum::serve::Listener` (feature `axum`, on by default) and the watchdog's
/// [`faasim_watchdog::Accept`].
pub struct Listener {
    /// The turmoil listener on :8080.
    inner: turmoil::net::TcpListener,
    /// Set while the server accepts: the pod's readiness.
    ready: Arc<AtomicBool>,
}

impl Listener {
    /// Accept one connection. The first call marks the pod as accepting (Ready to the probe).
    pub async fn accept(&mut self) -> io::Result<(turmoil::net::TcpStream, SocketAddr)> {
        self.ready.store(true, Ordering::Release);
        self.inner.accept().await
    }

    /// The address bound: `0.0.0.0:8080`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        // Closed: no longer accepting.
        self.ready.store(false, Ordering::Release);
    }
}

#[cfg(feature = "axum")]
impl axum::serve::Listener for Listener {
    type Io = turmoil::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match Listener::accept(self).await {
                Ok(accepted) => return accepted,
                // As axum does for tokio's listener: back off, retry.
                Err(_) => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Listener::local_addr(self)
    }
}

impl faasim_watchdog::Accept for Listener {
    type Io = turmoil::net::TcpStream;

    async fn accept(&mut self) -> io::Result<Self::Io> {
        let (stream, _) = Listener::accept(self).await?;
        Ok(stream)
    }
}

/// Resolves when the pod receives SIGTERM. `Send + 'static`, as `with_graceful_shutdown`
/// wants; cheap to clone.
pub struct Shutdown {
    /// Becomes `true` at SIGTERM.
    sigterm: tokio::sync::watch::Receiver<bool>,
    /// The wait for it, made at the first poll.
    wait: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl Shutdown {
    fn new(sigterm: tokio::sync::watch::Receiver<bool>) -> Shutdown {
        Shutdown {
            sigterm,
            wait: None,
        }
    }

    /// SIGTERM has been received.
    pub fn signalled(&self) -> bool {
        *self.sigterm.borrow()
    }
}

impl Clone for Shutdown {
    fn clone(&self) -> Shutdown {
        Shutdown::new(self.sigterm.clone())
    }
}

impl Future for Shutdown {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let wait = this.wait.get_or_insert_with(|| {
            let mut rx = this.sigterm.clone();
            Box::pin(async move {
                // Err: the pod is gone with the simulation; then nothing will signal it.
                if rx.wait_for(|s| *s).await.is_err() {
                    std::future::pending::<()>().await;
                }
            })
        });
        wait.as_mut().poll(cx)
    }
}

thread_local! {
    static HANDLER_DELAY: RefCell<Option<HandlerDelay>> = const { RefCell::new(None) };
}

/// The duration of one request's handler, given the request's headers: the model's draw of
/// the scenario's `function.handler.duration` for that request (its `x-faasim-id` header names
/// it). Inside a server run by [`run_server_scenario`]; outside one it returns zero.
pub fn handler_delay(headers: &hyper::HeaderMap) -> Duration {
    let draw = HANDLER_DELAY.with(|d| d.borrow().clone());
    draw.map(|draw| draw(headers)).unwrap_or_default()
}

/// Run `scenario` with `seed` on turmoil, with `server` in every pod in place of the watchdog
/// and its child (see the module documentation for what the pod does with it). `server` is
/// called once per pod, with the pod's listener and shutdown signal.
pub fn run_server_scenario<F, Fut>(scenario: &Scenario, seed: u64, server: F) -> Result<Run, String>
where
    F: Fn(Listener, Shutdown) -> Fut + Clone + 'static,
    Fut: Future<Output = ()> + 'static,
{
    run_server_scenario_with(scenario, seed, TICK, server)
}

/// [`run_server_scenario`] with turmoil tick `tick`.
pub fn run_server_scenario_with<F, Fut>(
    scenario: &Scenario,
    seed: u64,
    tick: Duration,
    server: F,
) -> Result<Run, String>
where
    F: Fn(Listener, Shutdown) -> Fut + Clone + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let pod_server: PodServer = Rc::new(move |io: PodIo| {
        let PodIo {
            listener,
            sigterm,
            ready,
            handler_delay,
        } = io;
        HANDLER_DELAY.with(|d| *d.borrow_mut() = Some(handler_delay));
        let listener = Listener {
            inner: listener,
            ready,
        };
        Box::pin(server(listener, Shutdown::new(sigterm))) as Pin<Box<dyn Future<Output = ()>>>
    });
    let run = user_server::with(pod_server, || run_turmoil_with(scenario, seed, tick));
    HANDLER_DELAY.with(|d| d.borrow_mut().take());
    run
}
