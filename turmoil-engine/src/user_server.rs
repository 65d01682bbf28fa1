//! The hook `crate::server` uses to run a user's server in every pod instead of the watchdog
//! and its child. Installed for one run on the calling thread (turmoil runs every host on it),
//! so [`crate::harness::run_turmoil_with`] needs no parameter for it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use faasim_model::ledger::{Cause, PodId};
use tokio::sync::watch;

use crate::shared::{HostResult, PORT, SharedRef, handler_duration_ns, now_ns, request_id};

/// What a pod gets: its listener on :8080, its SIGTERM, its readiness flag (set while the
/// server accepts) and the handler duration of a request (the model's draw for it).
pub(crate) struct PodIo {
    /// The pod's listener on :8080.
    pub(crate) listener: turmoil::net::TcpListener,
    /// Becomes `true` at SIGTERM.
    pub(crate) sigterm: watch::Receiver<bool>,
    /// Set while the server accepts: what the readiness probe reads.
    pub(crate) ready: Arc<AtomicBool>,
    /// A request's handler duration, from its headers.
    pub(crate) handler_delay: HandlerDelay,
}

/// A request's handler duration, from its headers.
pub(crate) type HandlerDelay = Rc<dyn Fn(&hyper::HeaderMap) -> Duration>;

/// The user's server, type-erased: runs until the process exits.
pub(crate) type PodServer = Rc<dyn Fn(PodIo) -> Pin<Box<dyn Future<Output = ()>>>>;

/// The server installed for this run.
struct Installed {
    /// The user's server, called once per pod.
    server: PodServer,
    /// Each pod's readiness flag.
    ready: BTreeMap<PodId, Arc<AtomicBool>>,
}

thread_local! {
    static INSTALLED: RefCell<Option<Installed>> = const { RefCell::new(None) };
}

/// Uninstalls on drop, so a panicking run leaves no server behind for the next.
struct Uninstall;

impl Drop for Uninstall {
    fn drop(&mut self) {
        INSTALLED.with(|i| i.borrow_mut().take());
    }
}

/// Run `run` (a `run_turmoil_with`) with `server` in every pod.
pub(crate) fn with<T>(server: PodServer, run: impl FnOnce() -> T) -> T {
    INSTALLED.with(|i| {
        *i.borrow_mut() = Some(Installed {
            server,
            ready: BTreeMap::new(),
        })
    });
    let _uninstall = Uninstall;
    run()
}

/// The installed server and a fresh readiness flag for `pod`, if a user server is installed.
pub(crate) fn for_pod(pod: PodId) -> Option<(PodServer, Arc<AtomicBool>)> {
    INSTALLED.with(|i| {
        let mut i = i.borrow_mut();
        let installed = i.as_mut()?;
        let ready = Arc::new(AtomicBool::new(false));
        installed.ready.insert(pod, ready.clone());
        Some((installed.server.clone(), ready))
    })
}

/// A user server is installed for this run.
pub(crate) fn installed() -> bool {
    INSTALLED.with(|i| i.borrow().is_some())
}

/// The readiness probe of a user-server pod: its server is accepting on :8080.
pub(crate) fn ready(pod: PodId) -> bool {
    INSTALLED.with(|i| {
        i.borrow()
            .as_ref()
            .and_then(|i| i.ready.get(&pod))
            .is_some_and(|r| r.load(Ordering::Acquire))
    })
}

/// One pod running the user's server. Its return is the process exiting.
pub(crate) async fn pod_main(
    shared: SharedRef,
    pod: PodId,
    server: PodServer,
    ready: Arc<AtomicBool>,
) -> HostResult {
    let (sigterm, handler) = {
        let s = shared.lock();
        (
            s.pods[pod as usize].sigterm.subscribe(),
            s.config.function.handler_ns,
        )
    };
    let listener = turmoil::net::TcpListener::bind(("0.0.0.0", PORT)).await?;
    let draw = shared.clone();
    let handler_delay: HandlerDelay = Rc::new(move |headers: &hyper::HeaderMap| {
        let id = request_id(headers);
        Duration::from_nanos(handler_duration_ns(&draw, id, handler))
    });
    server(PodIo {
        listener,
        sigterm,
        ready: ready.clone(),
        handler_delay,
    })
    .await;
    ready.store(false, Ordering::Release);
    shared
        .lock()
        .exited(pod, now_ns(), Cause::WatchdogExit, 0, "server exits".into());
    // As for the watchdog: the pod's IP stays, connects are refused.
    std::future::pending::<()>().await;
    Ok(())
}
