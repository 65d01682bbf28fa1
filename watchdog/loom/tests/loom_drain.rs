//! Models of the drain coordinator (`watchdog/src/drain.rs`) under loom: every interleaving of
//! request threads (admit, work, leave) against the shutdown thread (close the listener, wait
//! for the drain, exit), with at most two preemptions (measured.md §3c: unbounded search
//! explodes at three threads).
//!
//! Properties:
//! 1. Shutdown never returns while an admitted request is running.
//! 2. No request is admitted after the listener closed: every admission happened before the
//!    close and was counted by it.
//! 3. No wake-up is lost: the shutdown returns once the last request ends (a lost wake-up
//!    leaves the waiter blocked, which loom reports as a deadlock).
//!
//! Each planted bug (a feature of this crate) makes the models for the property it breaks
//! fail; they are `should_panic(expected = ..)` under it, so the suite shows the models catch
//! the bug for the right reason:
//! - `planted-bug` (check-then-increment admission) breaks properties 1 and 2;
//! - `planted-lost-wakeup` (the last departure forgets the closed bit) breaks 1 and 3, as a
//!   loom-detected deadlock of the waiting thread.

#![cfg(loom)]

use faasim_watchdog_loom::drain::{Drain, Latch, Ticket};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(f);
}

/// Property 1, with `requests` request threads and the shutdown on the main thread.
fn shutdown_waits_for_admitted_requests(requests: usize) {
    model(move || {
        let drain = Arc::new(Drain::new(Latch::new()));
        let exited = Arc::new(AtomicBool::new(false));
        let running = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..requests)
            .map(|_| {
                let (drain, exited, running) = (
                    Arc::clone(&drain),
                    Arc::clone(&exited),
                    Arc::clone(&running),
                );
                thread::spawn(move || {
                    if let Some(ticket) = Ticket::admit(&drain) {
                        // Relaxed on purpose: only the coordinator's own ordering may make
                        // this visible to the shutdown thread.
                        running.fetch_add(1, Ordering::Relaxed);
                        assert!(
                            !exited.load(Ordering::Acquire),
                            "a request runs after shutdown returned"
                        );
                        running.fetch_sub(1, Ordering::Relaxed);
                        drop(ticket);
                    }
                })
            })
            .collect();
        drain.close();
        drain.wait_drained();
        assert_eq!(
            running.load(Ordering::Relaxed),
            0,
            "shutdown returned while a request was running"
        );
        exited.store(true, Ordering::Release);
        for t in threads {
            t.join().unwrap();
        }
    });
}

#[test]
#[cfg_attr(feature = "planted-bug", should_panic(expected = "shutdown returned"))]
#[cfg_attr(
    all(feature = "planted-lost-wakeup", not(feature = "planted-bug")),
    should_panic(expected = "deadlock")
)]
fn shutdown_never_returns_while_a_request_is_in_flight() {
    shutdown_waits_for_admitted_requests(2);
}

#[test]
#[cfg_attr(feature = "planted-bug", should_panic(expected = "shutdown returned"))]
#[cfg_attr(
    all(feature = "planted-lost-wakeup", not(feature = "planted-bug")),
    should_panic(expected = "deadlock")
)]
fn shutdown_never_returns_while_a_request_is_in_flight_three_requests() {
    shutdown_waits_for_admitted_requests(3);
}

#[test]
#[cfg_attr(
    feature = "planted-bug",
    should_panic(expected = "admitted after a close")
)]
fn no_request_is_admitted_after_the_listener_closed() {
    model(|| {
        let drain = Arc::new(Drain::new(Latch::new()));
        // What close() counted, published after it returned (usize::MAX: not yet closed).
        let counted = Arc::new(AtomicUsize::new(usize::MAX));
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (drain, counted) = (Arc::clone(&drain), Arc::clone(&counted));
                thread::spawn(move || {
                    if let Some(ticket) = Ticket::admit(&drain) {
                        // Still holding the ticket: if the close already returned, it must
                        // have counted this request as in flight.
                        let at_close = counted.load(Ordering::Acquire);
                        assert!(
                            at_close == usize::MAX || at_close >= 1,
                            "admitted after a close that counted {at_close} in flight"
                        );
                        drop(ticket);
                    }
                })
            })
            .collect();
        let at_close = drain.close();
        counted.store(at_close, Ordering::Release);
        // After the close has returned, nothing more is admitted.
        assert!(Ticket::admit(&drain).is_none());
        for t in threads {
            t.join().unwrap();
        }
    });
}

#[test]
#[cfg_attr(feature = "planted-lost-wakeup", should_panic(expected = "deadlock"))]
fn no_wake_up_is_lost() {
    model(|| {
        let drain = Arc::new(Drain::new(Latch::new()));
        // Both requests admitted before the shutdown starts; they end at any point of it.
        let tickets: Vec<_> = (0..2)
            .map(|_| Ticket::admit(&drain).expect("open"))
            .collect();
        let threads: Vec<_> = tickets
            .into_iter()
            .map(|ticket| thread::spawn(move || drop(ticket)))
            .collect();
        assert!(drain.close() <= 2);
        // Blocks until the last request leaves; a lost wake-up deadlocks here.
        drain.wait_drained();
        assert!(drain.is_drained());
        assert_eq!(drain.in_flight(), 0);
        for t in threads {
            t.join().unwrap();
        }
    });
}

#[test]
fn closing_an_empty_coordinator_drains_at_once() {
    model(|| {
        let drain = Arc::new(Drain::new(Latch::new()));
        let closer = {
            let drain = Arc::clone(&drain);
            thread::spawn(move || {
                drain.close();
            })
        };
        // The waiter may start before or after the close; either way it returns.
        drain.wait_drained();
        closer.join().unwrap();
        assert!(drain.is_drained());
    });
}
