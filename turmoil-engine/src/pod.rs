//! A pod's host: the real watchdog on :8080, in HTTP mode in front of a child HTTP server (on
//! an in-memory pipe) or in streaming mode forking a simulated process per request. It waits
//! at the pod's start gate, takes SIGTERM from the pod's watch channel, and records its own
//! exit for the step loop to tell the cluster.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use faasim_model::config::{Mode, OnSigterm, Span};
use faasim_model::ledger::{Cause, PodId};
use faasim_watchdog::memory::{self, MemoryConnector, MemoryListener};
use faasim_watchdog::{Accept, Connect, Fork, Forked, Invocation, Settings, Watchdog};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

use crate::shared::{
    AbortOnDrop, HostResult, PORT, SharedRef, handler_duration_ns, now_ns, request_id,
};

/// turmoil's listener as the watchdog's `Accept`.
struct TurmoilListener(turmoil::net::TcpListener);

impl Accept for TurmoilListener {
    type Io = turmoil::net::TcpStream;

    async fn accept(&mut self) -> io::Result<Self::Io> {
        let (stream, _) = self.0.accept().await?;
        Ok(stream)
    }
}

/// The watchdog's dial to the child on :8082: refused until the child listens and after it
/// closed its listener (an in-memory pipe inside the pod host).
struct ChildConnector {
    /// The in-memory pipe's dialer.
    inner: MemoryConnector,
    /// The child listens.
    up: Arc<AtomicBool>,
}

impl Connect for ChildConnector {
    type Io = tokio::io::DuplexStream;

    async fn connect(&self) -> io::Result<Self::Io> {
        if !self.up.load(Ordering::Acquire) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "child not listening",
            ));
        }
        self.inner.dial()
    }
}

/// One pod: the real watchdog on :8080, in HTTP mode in front of a child HTTP server, or in
/// streaming mode forking one simulated process per request. SIGTERM is the watchdog's
/// shutdown future (and the child's own signal); SIGKILL bounces the host behind a closed start gate.
pub(crate) async fn pod_main(shared: SharedRef, pod: PodId) -> HostResult {
    // A crashed container's host is bounced at once; its software waits for the restart.
    let mut gate = shared.lock().pods[pod as usize].gate.subscribe();
    let _ = gate.wait_for(|open| *open).await;
    let (watchdog_config, child, handler, held_ns, sigterm) = {
        let s = shared.lock();
        (
            s.config.function.watchdog.clone(),
            s.config.function.child.clone(),
            s.config.function.handler_ns,
            s.config.function.stdout_held_after_kill_ns,
            s.pods[pod as usize].sigterm.subscribe(),
        )
    };
    let listener = TurmoilListener(turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?);
    let shutdown = {
        let mut rx = sigterm.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let exit_of = |exit: faasim_watchdog::Exit| {
        let cause = if exit.drained {
            Cause::WatchdogExit
        } else {
            Cause::DrainDeadline
        };
        (cause, exit.requests_at_exit as u32)
    };
    let (cause, at_exit) = if watchdog_config.mode == Mode::Streaming {
        let watchdog = Watchdog::streaming(
            Settings::streaming(watchdog_config, "faasim-handler"),
            handler_process(shared.clone(), handler, held_ns),
        );
        shared.lock().pods[pod as usize].monitor = Some(watchdog.monitor());
        exit_of(watchdog.run(listener, shutdown).await)
    } else {
        let settings = Settings::new(watchdog_config, "http://127.0.0.1:8082");
        let (child_listener, connector) = memory::listener();
        let up = Arc::new(AtomicBool::new(false));
        let watchdog = Watchdog::new(
            settings,
            ChildConnector {
                inner: connector,
                up: up.clone(),
            },
        );
        shared.lock().pods[pod as usize].monitor = Some(watchdog.monitor());
        let exits_on_sigterm = child.on_sigterm == OnSigterm::Exit;
        let mut child_task = AbortOnDrop(tokio::task::spawn_local(child_main(
            shared.clone(),
            pod,
            child_listener,
            up,
            child,
            handler,
            sigterm,
        )));
        let run = watchdog.run(listener, shutdown);
        tokio::select! {
            exit = run => exit_of(exit),
            _ = &mut child_task.0, if exits_on_sigterm => {
                // The child died of the signal: of-watchdog's cmd.Wait fails and it log.Fatalfs.
                (Cause::ChildExited, 0)
            }
        }
    };
    {
        let what = format!("watchdog exits ({})", cause.name());
        shared.lock().exited(pod, now_ns(), cause, at_exit, what);
    }
    // The pod's IP stays until the pod object goes: connects are refused, not black-holed.
    std::future::pending::<()>().await;
    Ok(())
}

/// Streaming mode's `fprocess`: each request's process sleeps the handler duration (drawn from
/// the model's handler stream when the watchdog forks it, where the model draws it), writes
/// "done\n" and exits 0. Killed at exec_timeout, it has written nothing. With `held_ns` above
/// 0 it is a script whose child (its `sleep`) shares its stdout: the kill reaches the script
/// alone, and the child keeps the pipe open `held_ns` longer, or to the handler's end if that
/// comes first.
fn handler_process(shared: SharedRef, handler: Span, held_ns: u64) -> impl Fork {
    move |invocation: Invocation| {
        let id = request_id(&invocation.headers);
        let duration_ns = handler_duration_ns(&shared, id, handler);
        let (stdout, read_end) = tokio::io::duplex(64);
        let stdout = Arc::new(tokio::sync::Mutex::new(stdout));
        // The script's end of the killed-or-not signal: dropped when it ends or is killed.
        let (alive, gone) = tokio::sync::oneshot::channel::<()>();
        if held_ns > 0 {
            let held = stdout.clone();
            let end = tokio::time::Instant::now() + Duration::from_nanos(duration_ns);
            // Not aborted with the script: a child the kill does not reach. The pod's own
            // end (its host bounced or crashed) still ends it.
            tokio::task::spawn(async move {
                let _ = gone.await;
                let close = (tokio::time::Instant::now() + Duration::from_nanos(held_ns)).min(end);
                tokio::time::sleep_until(close).await;
                drop(held);
            });
        }
        // The process runs on its own whether or not the watchdog polls its exit; the exit
        // future owns its abort guard, so dropping it kills the process.
        let process = AbortOnDrop(tokio::task::spawn(async move {
            let _alive = alive;
            tokio::time::sleep(Duration::from_nanos(duration_ns)).await;
            let _ = stdout.lock().await.write_all(b"done\n").await;
        }));
        Ok(Forked::new(read_end, async move {
            let mut process = process;
            (&mut process.0).await.map_err(io::Error::other)
        }))
    }
}

/// The child: an HTTP server whose handler sleeps the handler duration, then answers 200.
/// On SIGTERM it drains like the golang-middleware template (listens on for its
/// healthcheck_interval, then closes its listener; requests in flight finish), or dies at once.
async fn child_main(
    shared: SharedRef,
    pod: PodId,
    mut listener: MemoryListener,
    up: Arc<AtomicBool>,
    config: faasim_model::config::ChildConfig,
    handler: Span,
    mut sigterm: watch::Receiver<bool>,
) {
    let startup = shared.lock().pods[pod as usize].child_startup_ns;
    if startup > 0 {
        tokio::time::sleep(Duration::from_nanos(startup)).await;
    }
    up.store(true, Ordering::Release);
    let mut connections: Vec<AbortOnDrop> = Vec::new();
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut close_at: Option<tokio::time::Instant> = None;
    let mut signalled = false;
    loop {
        let close = async {
            match close_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            accepted = listener.accept() => {
                let Ok(io) = accepted else { break };
                let shared = shared.clone();
                let write_timeout_ns = config.write_timeout_ns;
                let service = service_fn(move |req: Request<Incoming>| {
                    let id = request_id(req.headers());
                    let d = handler_duration_ns(&shared, id, handler);
                    let shared = shared.clone();
                    async move {
                        tokio::time::sleep(Duration::from_nanos(d)).await;
                        if d > write_timeout_ns {
                            // Go's WriteTimeout passed: the write fails, the connection closes.
                            if let Some(id) = id {
                                shared.lock().hint_mut(id).child_write_timeout = true;
                            }
                            return Err(io::Error::other("child write_timeout"));
                        }
                        Ok::<_, io::Error>(Response::new(Full::new(Bytes::from_static(b"done\n"))))
                    }
                });
                let mut closing = closing_rx.clone();
                connections.push(AbortOnDrop(tokio::task::spawn_local(async move {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(io), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = closing.wait_for(|c| *c) => {
                            // Go's Shutdown: idle connections close now, active ones after
                            // their response.
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                })));
            }
            _ = sigterm.wait_for(|s| *s), if !signalled => {
                signalled = true;
                match config.on_sigterm {
                    OnSigterm::Exit => {
                        up.store(false, Ordering::Release);
                        shared.lock().pods[pod as usize].child_died = true;
                        // Dropping `connections` kills every request the child serves.
                        return;
                    }
                    OnSigterm::Drain if config.healthcheck_interval_ns > 0 => {
                        close_at = Some(
                            tokio::time::Instant::now()
                                + Duration::from_nanos(config.healthcheck_interval_ns as u64),
                        );
                    }
                    // `<-time.Tick(d <= 0)` never fires: the child listens on.
                    OnSigterm::Drain => {}
                    // Closes at once and lets its requests finish (its own shutdown deadline
                    // is not modelled here, as the drain's is not); the watchdog lives on.
                    OnSigterm::Stop { .. } => close_at = Some(tokio::time::Instant::now()),
                }
            }
            _ = close => break,
        }
    }
    // Listener closed; requests in flight finish (the child's drain deadline is not modelled).
    up.store(false, Ordering::Release);
    drop(listener);
    closing_tx.send_replace(true);
    std::future::pending::<()>().await;
}
