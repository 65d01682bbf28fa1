//! The gateway's Deployment and its Service: the gateway pods' lives (creation, readiness on
//! the probe's ticker, the rolling update of a `helm upgrade`, SIGTERM with the endpoint
//! removal, SIGKILL at the end of the grace period), kube-proxy's lagging view of which pods
//! back the Service, and the conntrack entry that pins each client connection to one pod.
//!
//! Sources: the chart (openfaas/faas-netes@662ce9ce chart/openfaas) sets `gateway.replicas`
//! (values.yaml: 1; values-pro.yaml: 3), no strategy (Kubernetes's RollingUpdate 25%/25%), no
//! `terminationGracePeriodSeconds` (30 s), and a readiness probe on `/healthz` with
//! Kubernetes's 10 s period unless `gateway.readinessProbe` is set (gateway-dep.yaml). A
//! Service balances connections, not requests: kube-proxy picks a backend when a connection
//! opens and conntrack keeps it there.

use crate::choice::{Chooser, Stream};
use crate::config::{GatewayConfig, IntOrPercent, Span};
use crate::deployment::{self, PodView};
use crate::ledger::{PodId, RequestId};
use crate::time::Nanos;

/// A gateway pod, by creation order (pod `0` to `replicas - 1` exist from the start).
pub type GatewayId = u16;

/// The Kubernetes default rolling-update budget (the chart sets no strategy): 25% surge
/// (rounded up), 25% unavailable (rounded down).
const ROLLING_BUDGET: IntOrPercent = IntOrPercent::Percent(25);

/// A timer of the gateway's Deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// The readiness probe passes for the first time.
    Ready {
        /// The pod.
        gateway: GatewayId,
    },
    /// kube-proxy's view of the Service's backends changes.
    View {
        /// The pod.
        gateway: GatewayId,
        /// A backend from now on.
        routed: bool,
    },
    /// The grace period is over: SIGKILL.
    Kill {
        /// The pod.
        gateway: GatewayId,
    },
}

/// One input to the gateway's Deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// The run starts: `replicas` ready pods, already behind the Service.
    Setup,
    /// `helm upgrade`: a rolling update to a new revision.
    Rollout,
    /// A timer armed earlier is due.
    Timer(Timer),
    /// A caller sends `req`, on a new connection (`dial`) or on an open one.
    Connect {
        /// The request.
        req: RequestId,
        /// The request's draw key (`choice::request_key`): kube-proxy's pick for a new
        /// connection is the request's own draw, so callers that dial at the same instant in
        /// another order (two engines, two schedulers) still reach the same pods.
        key: u64,
        /// Who sends it, and on which of its connections.
        caller: Caller,
        /// The caller dials a new connection.
        dial: bool,
    },
    /// A gateway closed its listener (a drain): its idle connections are closed.
    Closed {
        /// The pod.
        gateway: GatewayId,
    },
    /// A gateway process ended.
    Exited {
        /// The pod.
        gateway: GatewayId,
    },
}

/// Who opens connections to the gateway's Service: each caller's connections are numbered
/// apart, and each is pinned to the pod kube-proxy picked when it was dialled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The load generator, on connection `conn` of its transport. A connection it reuses was
    /// pinned when it was dialled; if its pod has closed it since, the transport had seen the
    /// FIN, and the request takes another ([`Effect::Stale`]).
    Client {
        /// The connection's number in the client's transport.
        conn: u32,
    },
    /// The ingress, upstream for client worker `worker`: a warm pool, so a first use pays
    /// no dial, and a connection its pod closed is redialled.
    Ingress {
        /// The client worker.
        worker: u32,
    },
    /// Queue-worker `member`'s connection: redialled when its pod closed it.
    QueueWorker {
        /// The queue-worker.
        member: u32,
    },
}

/// What the gateway's Deployment asks of its engine, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// A gateway pod is created: its gateway and its provider (faas-netes in the same pod,
    /// whose informer lists the endpoints afresh) come to be.
    Spawn {
        /// The pod.
        gateway: GatewayId,
    },
    /// Send `req` to `gateway` (`dial`: a new connection, a round trip first).
    Via {
        /// The request.
        req: RequestId,
        /// The pod kube-proxy chose, or the one the connection is pinned to.
        gateway: GatewayId,
        /// A new connection.
        dial: bool,
    },
    /// The client's idle connection `conn`, taken for `req`, was closed by its pod: the
    /// client's transport drops it and takes another.
    Stale {
        /// The request.
        req: RequestId,
        /// The client's connection.
        conn: u32,
    },
    /// The connection is refused: kube-proxy chose a pod that is gone, or the Service has
    /// no backend.
    Refused {
        /// The request.
        req: RequestId,
        /// The gone pod kube-proxy chose (an engine with real hosts dials it and meets the
        /// refusal itself); `None` when the Service has no backend.
        gateway: Option<GatewayId>,
    },
    /// The kubelet's SIGTERM to a gateway pod.
    Sigterm {
        /// The pod.
        gateway: GatewayId,
    },
    /// The kubelet's SIGKILL.
    Sigkill {
        /// The pod.
        gateway: GatewayId,
    },
    /// Arm a timer.
    Arm {
        /// When.
        at_ns: Nanos,
        /// Which.
        timer: Timer,
    },
    /// A line for the timeline.
    Note {
        /// Who.
        who: String,
        /// What happened.
        what: String,
    },
}

/// Where a gateway pod is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Phase {
    /// Created, not ready yet.
    Starting,
    /// Ready since the instant given.
    Ready(Nanos),
    /// SIGTERM sent; no longer counted by the Deployment.
    Terminating,
    /// The process has ended.
    Gone,
}

/// One gateway pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Pod {
    /// The template revision it was created from.
    revision: u32,
    /// When it was created.
    created_ns: Nanos,
    /// Where it is in its life.
    phase: Phase,
    /// A backend in kube-proxy's view.
    routed: bool,
    /// Its listener is closed (drained or exited): connections to it are refused.
    closed: bool,
}

/// The gateway's Deployment and Service: a plain value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayDeployment {
    /// The gateway's settings (replicas, grace, start-up, readiness period).
    config: GatewayConfig,
    /// How long kube-proxy takes to see a backend come or go.
    lag_ns: Span,
    /// The current template revision.
    revision: u32,
    /// The pods, by id.
    pods: Vec<Pod>,
    /// The pod each of the client's connections is pinned to, by connection number.
    client_pins: Vec<Option<GatewayId>>,
    /// The pod the ingress's upstream connection is pinned to, by client worker.
    ingress_pins: Vec<Option<GatewayId>>,
    /// The pod each queue-worker's connection is pinned to, by queue-worker.
    worker_pins: Vec<Option<GatewayId>>,
    /// When kube-proxy applies the latest change it has been sent: the changes are versions
    /// of one Endpoints object, seen in order, so none lands before the one before it.
    view_ns: Nanos,
}

impl GatewayDeployment {
    /// The Deployment of `config.replicas` gateway pods behind a Service whose view lags by
    /// `lag_ns`.
    pub fn new(config: &GatewayConfig, lag_ns: Span) -> GatewayDeployment {
        GatewayDeployment {
            config: config.clone(),
            lag_ns,
            revision: 0,
            pods: Vec::new(),
            client_pins: Vec::new(),
            ingress_pins: Vec::new(),
            worker_pins: Vec::new(),
            view_ns: 0,
        }
    }

    /// The timeline's name of a gateway pod.
    pub fn name(gateway: GatewayId) -> String {
        format!("gateway-{gateway}")
    }

    /// Take one input at `now`; effects go to `out` in order.
    pub fn handle(
        &mut self,
        now: Nanos,
        input: Input,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        match input {
            Input::Setup => {
                assert!(self.pods.is_empty(), "set up once");
                for _ in 0..self.config.replicas.max(1) {
                    let gateway = self.create(now, out);
                    let pod = &mut self.pods[usize::from(gateway)];
                    pod.phase = Phase::Ready(0);
                    pod.routed = true;
                }
            }
            Input::Rollout => {
                self.revision += 1;
                out.push(Effect::Note {
                    who: "gateway".into(),
                    what: format!("helm upgrade: rolling update to revision {}", self.revision),
                });
                self.reconcile(now, chooser, out);
            }
            Input::Timer(Timer::Ready { gateway }) => {
                let pod = &mut self.pods[usize::from(gateway)];
                if pod.phase != Phase::Starting {
                    return;
                }
                pod.phase = Phase::Ready(now);
                out.push(Effect::Note {
                    who: Self::name(gateway),
                    what: "ready".into(),
                });
                self.view(now, gateway, true, chooser, out);
                self.reconcile(now, chooser, out);
            }
            Input::Timer(Timer::View { gateway, routed }) => {
                let pod = &mut self.pods[usize::from(gateway)];
                // A backend that went away before kube-proxy added it stays out.
                let live = matches!(pod.phase, Phase::Ready(_));
                if routed && !live {
                    return;
                }
                pod.routed = routed;
                let what = if routed {
                    "kube-proxy routes new connections here"
                } else {
                    "kube-proxy stops routing new connections here"
                };
                out.push(Effect::Note {
                    who: Self::name(gateway),
                    what: what.into(),
                });
            }
            Input::Timer(Timer::Kill { gateway }) => {
                if self.pods[usize::from(gateway)].phase != Phase::Gone {
                    out.push(Effect::Note {
                        who: Self::name(gateway),
                        what: "grace period over: SIGKILL".into(),
                    });
                    out.push(Effect::Sigkill { gateway });
                }
            }
            Input::Connect {
                req,
                key,
                caller,
                dial,
            } => self.connect(req, key, caller, dial, chooser, out),
            Input::Closed { gateway } => {
                self.pods[usize::from(gateway)].closed = true;
                out.push(Effect::Note {
                    who: Self::name(gateway),
                    what: "listener closed: idle connections closed, calls in flight finish".into(),
                });
            }
            Input::Exited { gateway } => {
                let pod = &mut self.pods[usize::from(gateway)];
                pod.closed = true;
                pod.phase = Phase::Gone;
                out.push(Effect::Note {
                    who: Self::name(gateway),
                    what: "gateway process exited".into(),
                });
            }
        }
    }

    /// A new pod of the current revision: ready at the first readiness probe after its
    /// process answers (the prober's ticker starts with the pod).
    fn create(&mut self, now: Nanos, out: &mut Vec<Effect>) -> GatewayId {
        let gateway = GatewayId::try_from(self.pods.len()).expect("gateway pods fit in u16");
        self.pods.push(Pod {
            revision: self.revision,
            created_ns: now,
            phase: Phase::Starting,
            routed: false,
            closed: false,
        });
        out.push(Effect::Spawn { gateway });
        if now > 0 || self.revision > 0 {
            let period_ns = self.config.readiness_period_ns.max(1);
            let ticks = self.config.startup_ns.div_ceil(period_ns);
            out.push(Effect::Note {
                who: Self::name(gateway),
                what: format!("created (revision {})", self.revision),
            });
            out.push(Effect::Arm {
                at_ns: now + ticks * period_ns,
                timer: Timer::Ready { gateway },
            });
        }
        gateway
    }

    /// kube-proxy's view of `gateway` changes after its lag, and not before the change made
    /// before it.
    fn view(
        &mut self,
        now: Nanos,
        gateway: GatewayId,
        routed: bool,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let Span { lo_ns, hi_ns } = self.lag_ns;
        let lag_ns = if hi_ns > lo_ns {
            chooser.pick_u64(Stream::Gateways, lo_ns, hi_ns)
        } else {
            lo_ns
        };
        self.view_ns = self.view_ns.max(now + lag_ns);
        out.push(Effect::Arm {
            at_ns: self.view_ns,
            timer: Timer::View { gateway, routed },
        });
    }

    /// The Deployment controller's passes until it has nothing more to do at `now`: each
    /// deletion it makes is seen at once (a terminating pod no longer counts), which may make
    /// room for the next new pod. Each pass creates or deletes a pod, and a pass that creates
    /// one cannot create more until that one is ready, so a few passes suffice.
    fn reconcile(&mut self, now: Nanos, chooser: &mut dyn Chooser, out: &mut Vec<Effect>) {
        let bound = 2 * self.config.replicas.max(1) as usize + 2;
        for _ in 0..bound {
            if !self.reconcile_once(now, chooser, out) {
                return;
            }
        }
        panic!("the gateway's Deployment did not settle in {bound} passes");
    }

    /// One pass of the Deployment controller over the pods not terminating; whether it did
    /// anything.
    fn reconcile_once(
        &mut self,
        now: Nanos,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) -> bool {
        let views: Vec<PodView> = self
            .pods
            .iter()
            .enumerate()
            .filter(|(_, pod)| matches!(pod.phase, Phase::Starting | Phase::Ready(_)))
            .map(|(id, pod)| PodView {
                id: id as PodId,
                revision: pod.revision,
                assigned: true,
                running: true,
                ready: matches!(pod.phase, Phase::Ready(_)),
                ready_since_ns: match pod.phase {
                    Phase::Ready(since_ns) => Some(since_ns),
                    _ => None,
                },
                pods_on_node: 1,
                restarts: 0,
                created_ns: pod.created_ns,
                // The chart annotates no gateway pod.
                deletion_cost: 0,
            })
            .collect();
        let plan = deployment::reconcile(
            now,
            self.config.replicas.max(1),
            self.revision,
            &views,
            ROLLING_BUDGET,
            ROLLING_BUDGET,
            chooser,
        );
        let acted = plan.create > 0 || !plan.delete.is_empty();
        for _ in 0..plan.create {
            self.create(now, out);
        }
        for victim in plan.delete {
            let gateway = GatewayId::try_from(victim).expect("gateway ids fit in u16");
            self.terminate(now, gateway, chooser, out);
        }
        acted
    }

    /// Delete a pod: SIGTERM and the endpoint removal start together; SIGKILL after the grace.
    fn terminate(
        &mut self,
        now: Nanos,
        gateway: GatewayId,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        self.pods[usize::from(gateway)].phase = Phase::Terminating;
        out.push(Effect::Note {
            who: Self::name(gateway),
            what: "deleted: SIGTERM, endpoint removal under way".into(),
        });
        self.view(now, gateway, false, chooser, out);
        out.push(Effect::Sigterm { gateway });
        out.push(Effect::Arm {
            at_ns: now + self.config.grace_ns,
            timer: Timer::Kill { gateway },
        });
    }

    /// The pin of `caller`'s connection, its table grown to hold it.
    fn pin(&mut self, caller: Caller) -> &mut Option<GatewayId> {
        let (pins, index) = match caller {
            Caller::Client { conn } => (&mut self.client_pins, conn),
            Caller::Ingress { worker } => (&mut self.ingress_pins, worker),
            Caller::QueueWorker { member } => (&mut self.worker_pins, member),
        };
        let index = index as usize;
        if pins.len() <= index {
            pins.resize(index + 1, None);
        }
        &mut pins[index]
    }

    /// The connection `req` goes out on: the caller's pinned one, or a new one to the pod
    /// kube-proxy picks among its backends. A client's pinned connection whose pod closed it
    /// is stale (its transport takes another); another caller's is redialled. A caller with a
    /// warm pool and no pin yet (the ingress's keep-alive connections upstream) pays no dial.
    fn connect(
        &mut self,
        req: RequestId,
        key: u64,
        caller: Caller,
        dial: bool,
        chooser: &mut dyn Chooser,
        out: &mut Vec<Effect>,
    ) {
        let pinned = *self.pin(caller);
        if !dial && let Some(gateway) = pinned {
            if !self.pods[usize::from(gateway)].closed {
                out.push(Effect::Via {
                    req,
                    gateway,
                    dial: false,
                });
                return;
            }
            if let Caller::Client { conn } = caller {
                *self.pin(caller) = None;
                out.push(Effect::Stale { req, conn });
                return;
            }
        }
        assert!(
            dial || pinned.is_some() || !matches!(caller, Caller::Client { .. }),
            "a client reuses only a connection it dialled"
        );
        let backends = self.pods.iter().filter(|pod| pod.routed).count();
        if backends == 0 {
            *self.pin(caller) = None;
            out.push(Effect::Refused { req, gateway: None });
            return;
        }
        let nth = if backends > 1 {
            chooser.pick_index_keyed(Stream::Gateways, key, backends)
        } else {
            0
        };
        let (id, pod) = self
            .pods
            .iter()
            .enumerate()
            .filter(|(_, pod)| pod.routed)
            .nth(nth)
            .expect("nth < backends");
        let gateway = GatewayId::try_from(id).expect("gateway ids fit in u16");
        if pod.closed {
            // kube-proxy still routes to a pod whose process is gone: the SYN is refused.
            *self.pin(caller) = None;
            out.push(Effect::Refused {
                req,
                gateway: Some(gateway),
            });
            return;
        }
        *self.pin(caller) = Some(gateway);
        out.push(Effect::Via {
            req,
            gateway,
            dial: dial || pinned.is_some(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GatewaySigterm;
    use crate::time::NS_PER_S;

    use crate::choice::{First, Last};

    fn deployment(replicas: u32) -> GatewayDeployment {
        let config = GatewayConfig {
            replicas,
            on_sigterm: GatewaySigterm::Exit,
            ..GatewayConfig::default()
        };
        let lag = Span {
            lo_ns: NS_PER_S,
            hi_ns: NS_PER_S,
        };
        let mut d = GatewayDeployment::new(&config, lag);
        let mut out = Vec::new();
        d.handle(0, Input::Setup, &mut First, &mut out);
        assert_eq!(
            out.iter()
                .filter(|e| matches!(e, Effect::Spawn { .. }))
                .count(),
            replicas as usize
        );
        d
    }

    fn run(d: &mut GatewayDeployment, now: Nanos, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        d.handle(now, input, &mut First, &mut out);
        out.retain(|e| !matches!(e, Effect::Note { .. }));
        out
    }

    fn connect(req: RequestId, caller: Caller, dial: bool) -> Input {
        Input::Connect {
            req,
            key: 0,
            caller,
            dial,
        }
    }

    #[test]
    fn a_connection_stays_on_its_pod_and_one_its_pod_closed_is_stale_or_redialled() {
        let mut d = deployment(1);
        let client = Caller::Client { conn: 0 };
        assert_eq!(
            run(&mut d, 0, connect(0, client, true)),
            vec![Effect::Via {
                req: 0,
                gateway: 0,
                dial: true
            }]
        );
        assert!(matches!(
            run(&mut d, 1, connect(1, client, false))[0],
            Effect::Via { dial: false, .. }
        ));
        let worker = Caller::QueueWorker { member: 0 };
        run(&mut d, 1, connect(2, worker, true));
        run(&mut d, 2, Input::Exited { gateway: 0 });
        // The client's transport had seen the FIN: the request takes another connection.
        assert_eq!(
            run(&mut d, 3, connect(3, client, false)),
            vec![Effect::Stale { req: 3, conn: 0 }]
        );
        // Still a backend in kube-proxy's view, but gone: a new connection is refused, the
        // client's and the queue-worker's, whose connection is redialled.
        let refused = |req| {
            vec![Effect::Refused {
                req,
                gateway: Some(0),
            }]
        };
        assert_eq!(run(&mut d, 3, connect(4, client, true)), refused(4));
        assert_eq!(run(&mut d, 3, connect(5, worker, false)), refused(5));
    }

    #[test]
    fn each_caller_numbers_its_connections_apart() {
        let mut d = deployment(2);
        // Last: kube-proxy picks the second pod for the client's connection 0.
        let mut out = Vec::new();
        d.handle(
            0,
            connect(0, Caller::Client { conn: 0 }, true),
            &mut Last,
            &mut out,
        );
        assert_eq!(
            out,
            vec![Effect::Via {
                req: 0,
                gateway: 1,
                dial: true
            }]
        );
        // The ingress's upstream for worker 0 has no pin of its own yet: a first pick, no dial.
        let upstream = run(&mut d, 0, connect(1, Caller::Ingress { worker: 0 }, false));
        assert_eq!(
            upstream,
            vec![Effect::Via {
                req: 1,
                gateway: 0,
                dial: false
            }]
        );
        let member = run(
            &mut d,
            0,
            connect(2, Caller::QueueWorker { member: 0 }, true),
        );
        assert!(matches!(member[0], Effect::Via { gateway: 0, .. }));
        assert!(matches!(
            run(&mut d, 0, connect(3, Caller::Client { conn: 0 }, false))[0],
            Effect::Via {
                gateway: 1,
                dial: false,
                ..
            }
        ));
    }

    #[test]
    fn a_one_replica_rollout_surges_then_terminates_the_old_pod_when_the_new_is_ready() {
        let mut d = deployment(1);
        let out = run(&mut d, 30 * NS_PER_S, Input::Rollout);
        assert_eq!(out[0], Effect::Spawn { gateway: 1 });
        // Start-up 2 s, probe period 10 s: ready at the first tick after start-up.
        assert_eq!(
            out[1],
            Effect::Arm {
                at_ns: 40 * NS_PER_S,
                timer: Timer::Ready { gateway: 1 }
            }
        );
        assert_eq!(out.len(), 2, "maxUnavailable 0: the old pod stays for now");
        let out = run(
            &mut d,
            40 * NS_PER_S,
            Input::Timer(Timer::Ready { gateway: 1 }),
        );
        assert!(out.contains(&Effect::Sigterm { gateway: 0 }));
        assert!(out.contains(&Effect::Arm {
            at_ns: 41 * NS_PER_S,
            timer: Timer::View {
                gateway: 0,
                routed: false
            }
        }));
        assert!(out.contains(&Effect::Arm {
            at_ns: 70 * NS_PER_S,
            timer: Timer::Kill { gateway: 0 }
        }));
    }

    #[test]
    fn kube_proxy_sees_a_gateway_pod_after_a_lag_drawn_in_its_range() {
        let config = GatewayConfig {
            replicas: 1,
            on_sigterm: GatewaySigterm::Exit,
            ..GatewayConfig::default()
        };
        let lag = Span {
            lo_ns: NS_PER_S,
            hi_ns: 3 * NS_PER_S,
        };
        let mut d = GatewayDeployment::new(&config, lag);
        let mut out = Vec::new();
        d.handle(0, Input::Setup, &mut Last, &mut out);
        d.handle(30 * NS_PER_S, Input::Rollout, &mut Last, &mut out);
        out.clear();
        let ready = Input::Timer(Timer::Ready { gateway: 1 });
        d.handle(40 * NS_PER_S, ready, &mut Last, &mut out);
        // The lag drawn at its high end: 3 s after the pod is ready, not 1 s.
        assert!(out.contains(&Effect::Arm {
            at_ns: 43 * NS_PER_S,
            timer: Timer::View {
                gateway: 1,
                routed: true
            }
        }));
    }

    #[test]
    fn a_rollout_at_the_first_instant_still_waits_for_its_new_pods_readiness() {
        // `helm upgrade` at 0 s: the new pod is made like any other, with its readiness
        // timer (only the pods of the set-up are ready at once).
        let mut d = deployment(1);
        let out = run(&mut d, 0, Input::Rollout);
        assert_eq!(
            out,
            vec![
                Effect::Spawn { gateway: 1 },
                Effect::Arm {
                    at_ns: 10 * NS_PER_S,
                    timer: Timer::Ready { gateway: 1 }
                }
            ]
        );
    }

    #[test]
    fn the_grace_period_ends_in_sigkill_unless_the_process_exited_first() {
        let mut d = deployment(1);
        run(&mut d, 30 * NS_PER_S, Input::Rollout);
        run(
            &mut d,
            40 * NS_PER_S,
            Input::Timer(Timer::Ready { gateway: 1 }),
        );
        let kill = Input::Timer(Timer::Kill { gateway: 0 });
        // Still running (a gateway that drains, or one stuck in its calls) at 70 s: killed.
        assert_eq!(
            run(&mut d.clone(), 70 * NS_PER_S, kill),
            vec![Effect::Sigkill { gateway: 0 }]
        );
        // Gone before its grace ran out: the timer finds nothing to kill.
        run(&mut d, 50 * NS_PER_S, Input::Exited { gateway: 0 });
        assert_eq!(run(&mut d, 70 * NS_PER_S, kill), vec![]);
    }

    #[test]
    fn a_new_pod_gets_connections_only_once_kube_proxy_routes_it() {
        let mut d = deployment(1);
        run(&mut d, 0, Input::Rollout);
        run(
            &mut d,
            10 * NS_PER_S,
            Input::Timer(Timer::Ready { gateway: 1 }),
        );
        run(&mut d, 10 * NS_PER_S, Input::Exited { gateway: 0 });
        let first = connect(0, Caller::Client { conn: 0 }, true);
        assert_eq!(
            run(&mut d, 10 * NS_PER_S, first),
            vec![Effect::Refused {
                req: 0,
                gateway: Some(0)
            }]
        );
        for (gateway, routed) in [(1, true), (0, false)] {
            let timer = Timer::View { gateway, routed };
            run(&mut d, 11 * NS_PER_S, Input::Timer(timer));
        }
        let second = connect(1, Caller::Client { conn: 0 }, true);
        assert_eq!(
            run(&mut d, 11 * NS_PER_S, second),
            vec![Effect::Via {
                req: 1,
                gateway: 1,
                dial: true
            }]
        );
    }

    #[test]
    fn a_rollout_deletes_the_most_recently_ready_gateway_pod_first() {
        // Four pods of one revision: pod 3 ready since 50 s, the others since 0 s (set here
        // directly; a rollout leaves pods of one revision ready at different times). A rollout at 52 s may take one pod down at once (25 % of 4
        // unavailable): LogarithmicScaleDown deletes first the pod ready most recently (2 s
        // ago, in a lower log2 bucket than 52 s), not the first in id order.
        let mut d = deployment(4);
        d.pods[3].phase = Phase::Ready(50 * NS_PER_S);
        let out = run(&mut d, 52 * NS_PER_S, Input::Rollout);
        let terminated: Vec<GatewayId> = out
            .iter()
            .filter_map(|e| match e {
                Effect::Sigterm { gateway } => Some(*gateway),
                _ => None,
            })
            .collect();
        assert_eq!(terminated, vec![3], "{out:?}");
    }
}
