//! A Go `net/http` server process that drains on SIGTERM: the watchdog on :8080 and the HTTP-mode
//! child on :8082 are both one of these. It owns the listener state, the count of active
//! connections and the `Server.Shutdown` sequence (domain.md §1.6, §2a, §2b); the world turns the
//! instants it returns into timer events.

use crate::config::{ChildConfig, OnSigterm, WatchdogConfig, WatchdogKind};
use crate::time::{NS_PER_MS, Nanos};

/// `shutdownPollIntervalMax` in net/http.
pub const SHUTDOWN_POLL_MAX_NS: Nanos = 500 * NS_PER_MS;

/// Where the process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Not started yet: connections are refused.
    Starting,
    /// Accepting connections.
    Serving,
    /// SIGTERM received, listener still open (the healthcheck_interval or fixed wait).
    Draining,
    /// Listener closed, `Shutdown` waiting for active connections.
    ShuttingDown,
    /// `Shutdown` returned; the old watchdog sleeps write_timeout again before exiting.
    Lingering,
    /// The process is gone.
    Exited,
}

/// How a server behaves from SIGTERM on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrainPolicy {
    /// Wait between SIGTERM and closing the listener; `None`: forever (time.Tick(<=0) is nil).
    pub wait_ns: Option<Nanos>,
    /// `Shutdown` deadline after the listener closes; `None`: `context.Background()`.
    pub deadline_ns: Option<Nanos>,
    /// Sleep after `Shutdown` returns, before exiting.
    pub linger_ns: Nanos,
    /// Dies at once on SIGTERM instead (a child with no handler).
    pub dies_on_sigterm: bool,
}

impl DrainPolicy {
    /// The 2021 sequence both the watchdog and the golang-middleware child run: wait with
    /// `<-time.Tick(hc)` (a nil channel for hc <= 0: never close, domain.md §1.1, mechanism 25;
    /// golang-http-template b77a0ec, a693532), then `Shutdown(write_timeout)`.
    fn draining(healthcheck_interval_ns: i64, write_timeout_ns: u64) -> DrainPolicy {
        DrainPolicy {
            wait_ns: u64::try_from(healthcheck_interval_ns)
                .ok()
                .filter(|ns| *ns > 0),
            deadline_ns: Some(write_timeout_ns),
            linger_ns: 0,
            dies_on_sigterm: false,
        }
    }

    /// The pre-2021 sequence: sleep write_timeout, `Shutdown` with no deadline, sleep
    /// write_timeout again.
    fn fixed_wait(write_timeout_ns: u64) -> DrainPolicy {
        DrainPolicy {
            wait_ns: Some(write_timeout_ns),
            deadline_ns: None,
            linger_ns: write_timeout_ns,
            dies_on_sigterm: false,
        }
    }

    /// The watchdog's sequence for its kind.
    pub fn watchdog(config: &WatchdogConfig) -> DrainPolicy {
        match config.kind {
            // openfaas/classic-watchdog main.go @23db914 `listenUntilShutdown`: the same
            // `<-time.Tick(healthcheckInterval)` and `Shutdown(ctx with writeTimeout)`.
            WatchdogKind::OfWatchdog | WatchdogKind::Classic => {
                DrainPolicy::draining(config.healthcheck_interval_ns, config.write_timeout_ns)
            }
            WatchdogKind::FixedWait => DrainPolicy::fixed_wait(config.write_timeout_ns),
        }
    }

    /// The HTTP-mode child's sequence: the golang-middleware template's, the pre-2021
    /// template's fixed wait, or dying at once when it has no SIGTERM handler.
    pub fn child(config: &ChildConfig, kind: WatchdogKind) -> DrainPolicy {
        match config.on_sigterm {
            OnSigterm::Exit => {
                return DrainPolicy {
                    wait_ns: Some(0),
                    deadline_ns: Some(0),
                    linger_ns: 0,
                    dies_on_sigterm: true,
                };
            }
            // Closes its listener at once and drains on its own deadline, then exits (0).
            OnSigterm::Stop {
                shutdown_timeout_ns,
            } => {
                return DrainPolicy {
                    wait_ns: Some(0),
                    deadline_ns: Some(shutdown_timeout_ns),
                    linger_ns: 0,
                    dies_on_sigterm: false,
                };
            }
            OnSigterm::Drain => {}
        }
        match kind {
            WatchdogKind::OfWatchdog | WatchdogKind::Classic => {
                DrainPolicy::draining(config.healthcheck_interval_ns, config.write_timeout_ns)
            }
            WatchdogKind::FixedWait => DrainPolicy::fixed_wait(config.write_timeout_ns),
        }
    }
}

/// What the world must do after a server input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing more.
    Idle,
    /// Close the listener at this instant.
    CloseListenerAt(Nanos),
    /// Poll again (`closeIdleConns`) at this instant; give up at the deadline if any.
    PollAt {
        /// Next poll.
        poll_ns: Nanos,
        /// The `Shutdown` context deadline, if any.
        deadline_ns: Option<Nanos>,
    },
    /// The process exits at this instant (now or after lingering).
    ExitAt(Nanos),
    /// The process dies now, with whatever is active.
    DieNow,
}

/// One draining Go HTTP server process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    /// Life phase.
    pub phase: Phase,
    /// `/_/health` would answer 200 (lock file present, accepting).
    pub healthy: bool,
    /// Requests whose connection is active (the handler has not returned).
    pub active: u32,
    /// Drain behaviour.
    pub policy: DrainPolicy,
    /// `Shutdown` deadline once the listener has closed.
    pub deadline_ns: Option<Nanos>,
    /// Next poll interval base, doubling from 1 ms to 500 ms.
    poll_base_ns: Nanos,
    /// SIGTERM instant.
    pub sigterm_ns: Option<Nanos>,
}

impl Server {
    /// A process that has not started.
    pub fn new(policy: DrainPolicy) -> Server {
        Server {
            phase: Phase::Starting,
            healthy: false,
            active: 0,
            policy,
            deadline_ns: None,
            poll_base_ns: NS_PER_MS,
            sigterm_ns: None,
        }
    }

    /// The process starts listening (lock file written at once).
    pub fn start(&mut self) {
        if self.phase == Phase::Starting {
            self.phase = Phase::Serving;
            self.healthy = true;
        }
    }

    /// A TCP connect reaches the listener.
    pub fn listening(&self) -> bool {
        matches!(self.phase, Phase::Serving | Phase::Draining)
    }

    /// The process is alive (may hold connections).
    pub fn alive(&self) -> bool {
        !matches!(self.phase, Phase::Exited)
    }

    /// SIGTERM: mark unhealthy; return when to close the listener, or that the process dies.
    pub fn sigterm(&mut self, now: Nanos) -> Step {
        if !self.alive() || self.sigterm_ns.is_some() {
            return Step::Idle;
        }
        self.sigterm_ns = Some(now);
        self.healthy = false;
        if self.policy.dies_on_sigterm {
            return Step::DieNow;
        }
        // A process still starting has nothing to drain yet, but Go's signal handler runs the
        // same sequence: it drains what it will accept until its listener closes.
        self.phase = Phase::Draining;
        match self.policy.wait_ns {
            Some(wait) => Step::CloseListenerAt(now + wait),
            None => Step::Idle,
        }
    }

    /// `Shutdown`: close the listener (and idle connections, which the caller does), then the
    /// first `closeIdleConns` check runs at once.
    pub fn close_listener(&mut self, now: Nanos) -> Step {
        if self.phase != Phase::Draining {
            return Step::Idle;
        }
        self.phase = Phase::ShuttingDown;
        self.deadline_ns = self.policy.deadline_ns.map(|d| now + d);
        self.check(now, 0)
    }

    /// A poll of `Shutdown`'s loop; `jitter_ns` is drawn in `0..base/10` by the caller.
    pub fn poll(&mut self, now: Nanos, jitter_ns: Nanos) -> Step {
        if self.phase != Phase::ShuttingDown {
            return Step::Idle;
        }
        self.check(now, jitter_ns)
    }

    /// The jitter range for the next poll: `0..base/10`.
    pub fn poll_jitter_max_ns(&self) -> Nanos {
        (self.poll_base_ns / 10).saturating_sub(1)
    }

    fn check(&mut self, now: Nanos, jitter_ns: Nanos) -> Step {
        if self.active == 0 {
            self.phase = Phase::Lingering;
            return Step::ExitAt(now + self.policy.linger_ns);
        }
        if let Some(deadline) = self.deadline_ns
            && now >= deadline
        {
            return Step::DieNow;
        }
        let interval = self.poll_base_ns + jitter_ns;
        self.poll_base_ns = (self.poll_base_ns * 2).min(SHUTDOWN_POLL_MAX_NS);
        Step::PollAt {
            poll_ns: now + interval,
            deadline_ns: self.deadline_ns,
        }
    }

    /// The `Shutdown` deadline passed: it returns `ctx.Err()` and the process exits with
    /// connections still active.
    pub fn deadline(&mut self, now: Nanos) -> Step {
        if self.phase != Phase::ShuttingDown {
            return Step::Idle;
        }
        match self.deadline_ns {
            Some(deadline) if now >= deadline => Step::DieNow,
            _ => Step::Idle,
        }
    }

    /// The process is gone (exit, SIGKILL, crash): nothing is active any more.
    pub fn exit(&mut self) {
        self.phase = Phase::Exited;
        self.healthy = false;
        self.active = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_S;

    fn of_watchdog(hc_s: i64, write_s: u64) -> Server {
        let config = WatchdogConfig {
            healthcheck_interval_ns: hc_s * NS_PER_S as i64,
            write_timeout_ns: write_s * NS_PER_S,
            ..WatchdogConfig::default()
        };
        let mut server = Server::new(DrainPolicy::watchdog(&config));
        server.start();
        server
    }

    #[test]
    fn listener_stays_open_for_healthcheck_interval_then_exits_when_idle() {
        let mut server = of_watchdog(5, 150);
        assert_eq!(
            server.sigterm(10 * NS_PER_S),
            Step::CloseListenerAt(15 * NS_PER_S)
        );
        assert!(server.listening());
        assert!(!server.healthy);
        assert_eq!(
            server.close_listener(15 * NS_PER_S),
            Step::ExitAt(15 * NS_PER_S)
        );
        assert!(!server.listening());
    }

    #[test]
    fn an_exited_process_is_not_alive_and_ignores_sigterm() {
        let mut server = of_watchdog(5, 150);
        assert!(server.alive());
        server.exit();
        assert!(!server.alive());
        assert!(!server.listening());
        assert_eq!(server.sigterm(NS_PER_S), Step::Idle);
        assert!(server.sigterm_ns.is_none(), "the signal found no process");
    }

    #[test]
    fn non_positive_healthcheck_interval_never_closes_the_listener() {
        let mut server = of_watchdog(0, 30);
        assert_eq!(server.sigterm(NS_PER_S), Step::Idle);
        assert!(server.listening());
    }

    #[test]
    fn polls_double_to_half_a_second_and_the_deadline_kills() {
        let mut server = of_watchdog(1, 2);
        server.active = 1;
        server.sigterm(0);
        let mut step = server.close_listener(NS_PER_S);
        let mut intervals = Vec::new();
        let mut last = NS_PER_S;
        while let Step::PollAt { poll_ns, .. } = step {
            intervals.push(poll_ns - last);
            last = poll_ns;
            step = server.poll(poll_ns, 0);
        }
        assert_eq!(intervals[0], NS_PER_MS);
        assert_eq!(intervals[1], 2 * NS_PER_MS);
        assert!(intervals.iter().all(|i| *i <= SHUTDOWN_POLL_MAX_NS));
        assert_eq!(step, Step::DieNow);
        assert!(last >= 3 * NS_PER_S);
    }

    #[test]
    fn each_poll_waits_its_interval_plus_a_tenth_of_it_at_most_drawn_by_the_caller() {
        let mut server = of_watchdog(1, 2);
        server.active = 1;
        server.sigterm(0);
        // The first check runs at once and the next comes 1 ms later; the one after waits
        // 2 ms and a jitter the caller draws in 0..200 us.
        assert!(matches!(
            server.close_listener(NS_PER_S),
            Step::PollAt { poll_ns, .. } if poll_ns == NS_PER_S + NS_PER_MS
        ));
        assert_eq!(server.poll_jitter_max_ns(), 2 * NS_PER_MS / 10 - 1);
        let jitter = 70_000;
        assert_eq!(
            server.poll(2 * NS_PER_S, jitter),
            Step::PollAt {
                poll_ns: 2 * NS_PER_S + 2 * NS_PER_MS + jitter,
                deadline_ns: Some(3 * NS_PER_S)
            }
        );
        assert_eq!(server.poll_jitter_max_ns(), 4 * NS_PER_MS / 10 - 1);
    }

    #[test]
    fn the_shutdown_deadline_kills_at_its_instant_and_not_before() {
        let mut server = of_watchdog(1, 2);
        server.active = 1;
        // Before Shutdown began there is no deadline to meet.
        assert_eq!(server.deadline(10 * NS_PER_S), Step::Idle);
        server.sigterm(0);
        assert_eq!(server.deadline(10 * NS_PER_S), Step::Idle);
        server.close_listener(NS_PER_S);
        // Shutdown runs for write_timeout from the listener's close.
        assert_eq!(server.deadline(3 * NS_PER_S - 1), Step::Idle);
        assert_eq!(server.deadline(3 * NS_PER_S), Step::DieNow);
        // Once it has exited, a stale deadline timer finds nothing.
        server.exit();
        assert_eq!(server.deadline(3 * NS_PER_S), Step::Idle);
    }

    #[test]
    fn child_with_non_positive_healthcheck_interval_never_closes_its_listener() {
        // golang-middleware's `<-time.Tick(healthInterval)` blocks forever on 0, as the
        // watchdog's does: the child keeps serving what the open watchdog accepts.
        for hc_ns in [0, -5 * NS_PER_S as i64] {
            let config = ChildConfig {
                healthcheck_interval_ns: hc_ns,
                ..ChildConfig::default()
            };
            let mut child = Server::new(DrainPolicy::child(&config, WatchdogKind::OfWatchdog));
            child.start();
            assert_eq!(child.sigterm(NS_PER_S), Step::Idle);
            assert!(child.listening());
        }
        let config = ChildConfig {
            healthcheck_interval_ns: 5 * NS_PER_S as i64,
            ..ChildConfig::default()
        };
        let mut child = Server::new(DrainPolicy::child(&config, WatchdogKind::OfWatchdog));
        child.start();
        assert_eq!(child.sigterm(NS_PER_S), Step::CloseListenerAt(6 * NS_PER_S));
    }

    #[test]
    fn a_stopping_child_closes_at_once_and_drains_on_its_own_deadline() {
        let config = ChildConfig {
            on_sigterm: OnSigterm::Stop {
                shutdown_timeout_ns: 30 * NS_PER_S,
            },
            ..ChildConfig::default()
        };
        let mut child = Server::new(DrainPolicy::child(&config, WatchdogKind::OfWatchdog));
        child.start();
        child.active = 1;
        assert_eq!(child.sigterm(NS_PER_S), Step::CloseListenerAt(NS_PER_S));
        assert_eq!(
            child.close_listener(NS_PER_S),
            Step::PollAt {
                poll_ns: NS_PER_S + NS_PER_MS,
                deadline_ns: Some(31 * NS_PER_S)
            }
        );
        assert!(!child.listening());
    }

    #[test]
    fn fixed_wait_lingers_a_second_write_timeout() {
        let config = WatchdogConfig {
            kind: WatchdogKind::FixedWait,
            write_timeout_ns: 150 * NS_PER_S,
            ..WatchdogConfig::default()
        };
        let mut server = Server::new(DrainPolicy::watchdog(&config));
        server.start();
        assert_eq!(
            server.sigterm(30 * NS_PER_S),
            Step::CloseListenerAt(180 * NS_PER_S)
        );
        assert_eq!(
            server.close_listener(180 * NS_PER_S),
            Step::ExitAt(330 * NS_PER_S)
        );
    }
}
