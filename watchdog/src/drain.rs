//! The drain coordinator: how many connections are admitted, whether the listener is closed,
//! and the wake-up for the one task that waits for the last connection to leave.
//!
//! This file has no dependencies on purpose: `faasim-watchdog-loom` includes it by path and
//! model-checks it with loom, which cannot run tokio or hyper (`watchdog/loom/`).
//!
//! The whole state is ONE atomic word, `CLOSED` bit | count. loom models `SeqCst` as `AcqRel`
//! (measured.md §3c), so the classic two-variable protocol (a flag and a counter, each read by
//! the other side) would need sequential consistency that loom cannot check; with one word every
//! admission, departure and close is a read-modify-write in one modification order, so exactly
//! one of them sees the transition to "closed and empty" and raises the waiter's signal.
//!
//! The signal is a trait so that the same logic wakes a blocked thread (`Latch`, used by the
//! loom models) or an async task (`tokio::sync::Notify` in the real watchdog). Both keep a
//! permit when raised with nobody waiting, which is what makes a lost wake-up impossible.

#[cfg(loom)]
use loom::sync::{
    Arc, Condvar, Mutex,
    atomic::{AtomicUsize, Ordering},
};
#[cfg(not(loom))]
use std::sync::{
    Arc, Condvar, Mutex,
    atomic::{AtomicUsize, Ordering},
};

/// Set once the listener is closed; never cleared.
const CLOSED: usize = 1 << (usize::BITS - 1);
/// The admitted count lives in the other bits.
const COUNT: usize = CLOSED - 1;

/// Wakes whoever waits for the drain. Raised exactly once per transition to "closed and
/// empty"; implementations must remember a raise that happened before anyone waited.
pub trait Signal {
    /// Wake the waiter, or leave a permit for it.
    fn raise(&self);
}

/// Admission control and accounting for a draining server.
#[derive(Debug)]
pub struct Drain<S> {
    /// The one word: the `CLOSED` bit and the admitted count.
    state: AtomicUsize,
    /// Raised when the count reaches zero after the close.
    signal: S,
}

impl<S: Signal> Drain<S> {
    /// An open coordinator with nothing admitted.
    pub fn new(signal: S) -> Drain<S> {
        Drain {
            state: AtomicUsize::new(0),
            signal,
        }
    }

    /// The waiter's signal.
    pub fn signal(&self) -> &S {
        &self.signal
    }

    /// Admit one unit of work unless the listener is closed. The check and the increment are
    /// one compare-and-swap, so a close can never slip between them.
    pub fn try_begin(&self) -> bool {
        #[cfg(not(feature = "planted-bug"))]
        {
            let mut current = self.state.load(Ordering::Acquire);
            loop {
                if current & CLOSED != 0 {
                    return false;
                }
                assert!(current & COUNT < COUNT, "drain: admitted count overflow");
                match self.state.compare_exchange(
                    current,
                    current + 1,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return true,
                    Err(actual) => current = actual,
                }
            }
        }
        #[cfg(feature = "planted-bug")]
        {
            // Planted bug (faasim-watchdog-loom's `planted-bug` feature): check, then
            // increment. A close between the two admits work that the closer never counted.
            if self.state.load(Ordering::Acquire) & CLOSED != 0 {
                return false;
            }
            self.state.fetch_add(1, Ordering::AcqRel);
            true
        }
    }

    /// One admitted unit ends. Release ordering publishes its work to the waiter.
    pub fn end(&self) {
        let prior = self.state.fetch_sub(1, Ordering::AcqRel);
        debug_assert!(prior & COUNT > 0, "drain: end without begin");
        #[cfg(not(feature = "planted-lost-wakeup"))]
        let last_after_close = prior == CLOSED | 1;
        // Planted bug (`planted-lost-wakeup`): forgets the closed bit, so the last departure
        // after a close never wakes the waiter.
        #[cfg(feature = "planted-lost-wakeup")]
        let last_after_close = prior == 1;
        if last_after_close {
            self.signal.raise();
        }
    }

    /// Close the listener: no admission succeeds from now on. Returns how many units were
    /// admitted and still running at that instant (the ones the waiter must outlive).
    pub fn close(&self) -> usize {
        let prior = self.state.fetch_or(CLOSED, Ordering::AcqRel);
        if prior == 0 {
            // Open and empty: closing is itself the transition to drained.
            self.signal.raise();
        }
        prior & COUNT
    }

    /// The listener is closed.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Units admitted and not yet ended.
    pub fn in_flight(&self) -> usize {
        self.state.load(Ordering::Acquire) & COUNT
    }

    /// Closed and empty: the shutdown may return. Acquire ordering makes every ended unit's
    /// work visible to the caller.
    pub fn is_drained(&self) -> bool {
        self.state.load(Ordering::Acquire) == CLOSED
    }
}

/// One admitted unit; ends on drop, so a panic or a cancelled task cannot leak a count.
#[derive(Debug)]
pub struct Ticket<S: Signal> {
    /// The drain it was admitted on, to leave on drop.
    drain: Arc<Drain<S>>,
}

impl<S: Signal> Ticket<S> {
    /// Admit one unit on `drain`, or `None` once its listener is closed.
    pub fn admit(drain: &Arc<Drain<S>>) -> Option<Ticket<S>> {
        if drain.try_begin() {
            Some(Ticket {
                drain: Arc::clone(drain),
            })
        } else {
            None
        }
    }
}

impl<S: Signal> Drop for Ticket<S> {
    fn drop(&mut self) {
        self.drain.end();
    }
}

/// A blocking signal for threads: a raised flag under a mutex plus a condition variable.
/// `wait` consumes the permit, like `tokio::sync::Notify::notify_one`.
#[derive(Debug)]
pub struct Latch {
    /// The permit: raised and not yet consumed.
    raised: Mutex<bool>,
    /// Wakes the waiter when the permit is raised.
    wake: Condvar,
}

impl Latch {
    /// A lowered latch.
    pub fn new() -> Latch {
        Latch {
            raised: Mutex::new(false),
            wake: Condvar::new(),
        }
    }

    /// Block until raised, then lower it again.
    pub fn wait(&self) {
        let mut raised = self.raised.lock().unwrap_or_else(|e| e.into_inner());
        while !*raised {
            raised = self.wake.wait(raised).unwrap_or_else(|e| e.into_inner());
        }
        *raised = false;
    }
}

impl Default for Latch {
    fn default() -> Self {
        Latch::new()
    }
}

impl Signal for Latch {
    fn raise(&self) {
        *self.raised.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_all();
    }
}

impl Drain<Latch> {
    /// Block the calling thread until the listener is closed and every admitted unit ended.
    /// The re-check after each wake makes a stale permit harmless.
    pub fn wait_drained(&self) {
        while !self.is_drained() {
            self.signal.wait();
        }
    }
}

#[cfg(all(
    test,
    not(loom),
    not(feature = "planted-bug"),
    not(feature = "planted-lost-wakeup")
))]
mod tests {
    use super::*;

    #[test]
    fn close_when_empty_is_drained_at_once() {
        let drain = Drain::new(Latch::new());
        assert_eq!(drain.close(), 0);
        assert!(drain.is_drained());
        drain.wait_drained();
        assert!(!drain.try_begin());
    }

    #[test]
    fn last_ticket_after_close_drains() {
        let drain = Arc::new(Drain::new(Latch::new()));
        let a = Ticket::admit(&drain).unwrap();
        let b = Ticket::admit(&drain).unwrap();
        assert_eq!(drain.in_flight(), 2);
        assert_eq!(drain.close(), 2);
        assert!(Ticket::admit(&drain).is_none());
        drop(a);
        assert!(!drain.is_drained());
        let waiter = {
            let drain = Arc::clone(&drain);
            std::thread::spawn(move || drain.wait_drained())
        };
        drop(b);
        waiter.join().unwrap();
        assert!(drain.is_drained());
    }

    #[test]
    fn a_second_close_reports_and_raises_nothing_new() {
        let drain = Drain::new(Latch::new());
        assert!(drain.try_begin());
        assert_eq!(drain.close(), 1);
        assert_eq!(drain.close(), 1);
        drain.end();
        assert!(drain.is_drained());
    }
}
