//! The kubelet's part of the control plane: starting a pod's container, its readiness probes,
//! deletion (endpoints removal, preStop, SIGTERM and the grace timer, all from the same
//! instant; a pod on a lost node is only marked Terminating) and a crashed container's
//! restart.
//!
//! The readiness prober follows kubernetes/kubernetes pkg/kubelet/prober/worker.go: one worker
//! per container, started with the pod (before image pull and container start), runs `doProbe`
//! at once and then on every tick of `time.NewTicker(period)` (`run`); `doProbe` skips while
//! the container is not running or while `int32(time.Since(StartedAt).Seconds())` is below
//! `initialDelaySeconds`. So the first probe is the first tick at or after container start plus
//! the delay (the truncation makes 1.9 s count as 1 s: the whole delay must have passed), and
//! where the start falls in the ticker's period (its phase) is a parameter, by default a
//! seeded draw (stream `prober`).

use super::{Cluster, Effect, Timer};
use crate::choice::{Chooser, Stream};
use crate::config::Span;
use crate::ledger::PodId;
use crate::run::PodEnd;
use crate::time::{NS_PER_S, Nanos};

/// The prober's ticker period: `periodSeconds`, at least 1 s (the API server's minimum).
fn probe_period_ns(period_s: u32) -> Nanos {
    u64::from(period_s.max(1)) * NS_PER_S
}

/// The first tick at or after `at_ns` of a ticker whose ticks are congruent to `tick_ns`
/// modulo `period_ns`.
fn next_tick_ns(at_ns: Nanos, tick_ns: Nanos, period_ns: Nanos) -> Nanos {
    at_ns + (tick_ns + period_ns - at_ns % period_ns) % period_ns
}

impl Cluster {
    /// The container of incarnation `generation` starts, unless the pod went away meanwhile;
    /// the first probe is the prober's first tick at or after `initialDelaySeconds` from now.
    /// With no delay it is now: the status sync that sees the container running triggers a
    /// probe at once (prober_manager.go `UpdatePodStatus`, the worker's `manualTriggerCh`),
    /// which the model puts at the start itself.
    pub(super) fn start(
        &mut self,
        now: Nanos,
        pod: PodId,
        generation: u32,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        if !self.current(pod, generation) || self.pods[pod as usize].deletion_ns.is_some() {
            return;
        }
        let k = &self.config.kubernetes;
        let period_ns = probe_period_ns(k.readiness.period_s);
        let phase_span = k.readiness_phase_ns.unwrap_or(Span {
            lo_ns: 0,
            hi_ns: period_ns - 1,
        });
        let delay_ns = u64::from(k.readiness.initial_delay_s) * NS_PER_S;
        let p = &mut self.pods[pod as usize];
        p.started = true;
        let tick_ns = *p.probe_tick_ns.get_or_insert_with(|| {
            // The container starts `phase` after a tick: ticks fall at `now - phase` modulo
            // the period (added a period ahead so nothing goes below 0).
            let phase_ns = phase_span.draw(chooser, Stream::Prober) % period_ns;
            (now % period_ns + period_ns - phase_ns) % period_ns
        });
        out.push(Effect::Start { pod, generation });
        let at_ns = if delay_ns == 0 {
            now
        } else {
            next_tick_ns(now + delay_ns, tick_ns, period_ns)
        };
        out.push(Effect::Arm {
            at_ns,
            timer: Timer::Probe { pod, generation },
        });
    }

    /// The pod answered a probe: after `successThreshold` successes in a row it is Ready,
    /// the endpoints controller adds it and the controllers look again; otherwise the next
    /// probe comes at the prober's next tick.
    pub(super) fn probed(
        &mut self,
        now: Nanos,
        pod: PodId,
        generation: u32,
        healthy: bool,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let probe = self.config.kubernetes.readiness;
        let p = &mut self.pods[pod as usize];
        assert!(
            p.generation == generation && !p.ready && p.deletion_ns.is_none(),
            "{}: a probe answer for a pod that was not probed",
            p.name
        );
        if healthy {
            p.probe_successes += 1;
        } else {
            p.probe_successes = 0;
        }
        if p.probe_successes >= probe.success_threshold {
            p.ready = true;
            p.ready_since_ns = Some(now);
            let name = p.name.clone();
            self.note(out, || name, || "readiness probe passed: Ready".into());
            self.route(now, pod, true, chooser, out);
            self.reconcile(now, chooser, out);
        } else {
            let period_ns = probe_period_ns(probe.period_s);
            let tick_ns = p.probe_tick_ns.unwrap_or(now % period_ns);
            out.push(Effect::Arm {
                at_ns: next_tick_ns(now + 1, tick_ns, period_ns),
                timer: Timer::Probe { pod, generation },
            });
        }
    }

    /// Deletion: the pod leaves the endpoints (seen after the lag) while the kubelet runs
    /// preStop, SIGTERM and the grace timer, all from the same instant (domain.md §2c). A
    /// preStop still running at the grace period's end gets SIGTERM then and a one-off 2 s
    /// extension.
    pub(super) fn delete_pod(
        &mut self,
        now: Nanos,
        pod: PodId,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let p = &mut self.pods[pod as usize];
        if p.unreachable && p.deletion_ns.is_none() {
            // Its node is lost: the API marks it Terminating, no kubelet runs anything.
            p.deletion_ns = Some(now);
            let name = p.name.clone();
            self.note(
                out,
                || name,
                || "deleted: Terminating, nothing to signal".into(),
            );
            self.unready(now, pod, chooser, out);
            return;
        }
        if p.deletion_ns.is_some() || p.end != PodEnd::Running {
            return;
        }
        p.deletion_ns = Some(now);
        p.ready = false;
        let name = p.name.clone();
        if !p.started {
            // Never ran: nothing to signal.
            p.end = PodEnd::Exited;
            p.end_ns = Some(now);
            out.push(Effect::Removed { pod });
            self.note(out, || name, || "deleted before it started".into());
            return;
        }
        let (grace_s, pre_stop_s) = (
            self.config.kubernetes.grace_s,
            self.config.kubernetes.pre_stop_sleep_s,
        );
        self.note(
            out,
            || name,
            || format!("deleted: endpoints removal starts, grace {grace_s}s, preStop sleep {pre_stop_s}s"),
        );
        self.route(now, pod, false, chooser, out);
        let shutting_down = self.pods[pod as usize]
            .node
            .is_some_and(|n| self.nodes[n as usize].shutting_down);
        if !shutting_down {
            // On a node shutting down the kubelet is already terminating it, with the
            // shorter grace: its signals are armed.
            self.signal_termination(now, pod, grace_s * NS_PER_S, out);
        }
    }

    /// The kubelet's termination of a running pod with `grace_ns`: preStop, then SIGTERM, and
    /// SIGKILL at the grace period's end. A preStop still running then gets SIGTERM and a
    /// one-off 2 s extension.
    pub(super) fn signal_termination(
        &mut self,
        now: Nanos,
        pod: PodId,
        grace_ns: Nanos,
        out: &mut Vec<Effect>,
    ) {
        assert!(
            self.pods[pod as usize].started,
            "only a running container is signalled"
        );
        let pre_stop_ns = self.config.kubernetes.pre_stop_sleep_s * NS_PER_S;
        let (sigterm_ns, sigkill_ns) = if pre_stop_ns < grace_ns {
            (now + pre_stop_ns, now + grace_ns)
        } else {
            (now + grace_ns, now + grace_ns + 2 * NS_PER_S)
        };
        out.push(Effect::Arm {
            at_ns: sigterm_ns,
            timer: Timer::Sigterm { pod },
        });
        out.push(Effect::Arm {
            at_ns: sigkill_ns,
            timer: Timer::Sigkill { pod },
        });
    }

    /// A container crash (no signal): the pod is unready at once, leaves the endpoints after
    /// the lag, and starts again after `restartDelay` plus its start-up time.
    pub(super) fn crash(
        &mut self,
        now: Nanos,
        pod: PodId,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let p = &mut self.pods[pod as usize];
        assert!(
            p.started && p.end == PodEnd::Running,
            "{}: only a running container crashes",
            p.name
        );
        p.generation += 1;
        p.restarts += 1;
        p.started = false;
        p.ready = false;
        p.probe_successes = 0;
        let generation = p.generation;
        out.push(Effect::Crash { pod, generation });
        self.route(now, pod, false, chooser, out);
        out.push(Effect::Arm {
            at_ns: now + self.config.kubernetes.restart_delay_ns,
            timer: Timer::Restart { pod, generation },
        });
        self.reconcile(now, chooser, out);
    }
}
