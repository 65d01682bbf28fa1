//! The control plane driven alone, without a world: inputs in, effects out.

use super::*;
use crate::config::{Config, Span};
use crate::time::NS_PER_S;

/// Takes the low end of every range and the first of every pick.
struct Low;

impl Chooser for Low {
    fn pick_u64(&mut self, _: Stream, lo: u64, _: u64) -> u64 {
        lo
    }
    fn pick_index(&mut self, _: Stream, _: usize) -> usize {
        0
    }
}

fn config(min: u32, warm: bool) -> Config {
    let mut config = Config::default();
    config.function.name = "fn".into();
    config.function.scale_min = min;
    config.function.start = if warm { Start::Warm } else { Start::Cold };
    config.function.startup_ns = Span::fixed(2 * NS_PER_S);
    config.kubernetes.endpoint_lag_ns = Span::fixed(NS_PER_S);
    config.kubernetes.grace_s = 30;
    config.kubernetes.pre_stop_sleep_s = 0;
    config.kubernetes.nodes = 2;
    config
}

fn handle(cluster: &mut Cluster, now: Nanos, input: Input) -> Vec<Effect> {
    let mut out = Vec::new();
    cluster.handle(now, input, &mut Low, &mut out);
    out
}

fn arms(effects: &[Effect]) -> Vec<(Nanos, Timer)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Arm { at_ns, timer } => Some((*at_ns, *timer)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_warm_start_routes_its_pods_at_once_and_spreads_them_over_the_nodes() {
    let mut cluster = Cluster::new(&config(2, true), false);
    let out = handle(&mut cluster, 0, Input::Setup);
    assert_eq!(
        out,
        vec![
            Effect::Created {
                pod: 0,
                name: "fn-r1-0".into()
            },
            Effect::Warm { pod: 0 },
            Effect::Created {
                pod: 1,
                name: "fn-r1-1".into()
            },
            Effect::Warm { pod: 1 },
        ]
    );
    let nodes: Vec<_> = cluster.pods().iter().map(|p| p.node).collect();
    assert_eq!(nodes, vec![Some(0), Some(1)]);
}

#[test]
fn a_cold_pod_starts_is_probed_and_is_routed_after_the_lag() {
    let mut config = config(1, false);
    config.kubernetes.readiness.initial_delay_s = 0;
    let mut cluster = Cluster::new(&config, true);
    let out = handle(&mut cluster, 0, Input::Setup);
    assert_eq!(
        arms(&out),
        vec![(
            2 * NS_PER_S,
            Timer::Start {
                pod: 0,
                generation: 0
            }
        )]
    );
    let out = handle(
        &mut cluster,
        2 * NS_PER_S,
        Input::Timer(Timer::Start {
            pod: 0,
            generation: 0,
        }),
    );
    assert_eq!(
        out[0],
        Effect::Start {
            pod: 0,
            generation: 0
        }
    );
    assert_eq!(
        arms(&out),
        vec![(
            2 * NS_PER_S,
            Timer::Probe {
                pod: 0,
                generation: 0
            }
        )]
    );
    let out = handle(
        &mut cluster,
        2 * NS_PER_S,
        Input::Timer(Timer::Probe {
            pod: 0,
            generation: 0,
        }),
    );
    assert_eq!(
        out,
        vec![Effect::Probe {
            pod: 0,
            generation: 0
        }]
    );
    let out = handle(
        &mut cluster,
        2 * NS_PER_S,
        Input::Probed {
            pod: 0,
            generation: 0,
            healthy: true,
        },
    );
    assert!(out.contains(&Effect::Route {
        pod: 0,
        routed: true,
        at_ns: 3 * NS_PER_S
    }));
    assert!(cluster.pods()[0].ready);
}

#[test]
fn scale_down_removes_the_endpoint_and_signals_from_the_same_instant() {
    let mut cluster = Cluster::new(&config(2, true), false);
    handle(&mut cluster, 0, Input::Setup);
    let now = 10 * NS_PER_S;
    let out = handle(&mut cluster, now, Input::Action(Action::Scale(1)));
    let victim = match out[0] {
        Effect::Route {
            pod,
            routed: false,
            at_ns,
        } => {
            assert_eq!(at_ns, now + NS_PER_S);
            pod
        }
        ref other => panic!("expected the endpoint removal first, got {other:?}"),
    };
    assert_eq!(
        arms(&out),
        vec![
            (now, Timer::Sigterm { pod: victim }),
            (now + 30 * NS_PER_S, Timer::Sigkill { pod: victim }),
        ]
    );
    // The pod drains and exits before the grace period ends: SIGKILL finds nothing.
    handle(
        &mut cluster,
        now + 5 * NS_PER_S,
        Input::Exited { pod: victim },
    );
    let out = handle(
        &mut cluster,
        now + 30 * NS_PER_S,
        Input::Timer(Timer::Sigkill { pod: victim }),
    );
    assert!(out.is_empty());
    assert_eq!(cluster.pods()[victim as usize].end, PodEnd::Exited);
}

#[test]
fn a_pre_stop_longer_than_the_grace_period_gets_sigterm_at_its_end_and_two_seconds() {
    let mut config = config(1, true);
    config.kubernetes.pre_stop_sleep_s = 40;
    let mut cluster = Cluster::new(&config, false);
    handle(&mut cluster, 0, Input::Setup);
    let out = handle(&mut cluster, 0, Input::Action(Action::Scale(0)));
    assert_eq!(
        arms(&out),
        vec![
            (30 * NS_PER_S, Timer::Sigterm { pod: 0 }),
            (32 * NS_PER_S, Timer::Sigkill { pod: 0 }),
        ]
    );
}

#[test]
fn a_crash_unreadies_restarts_later_and_stale_timers_do_nothing() {
    let mut config = config(1, true);
    config.kubernetes.restart_delay_ns = 4 * NS_PER_S;
    let mut cluster = Cluster::new(&config, false);
    handle(&mut cluster, 0, Input::Setup);
    let out = handle(
        &mut cluster,
        NS_PER_S,
        Input::Action(Action::KillPod { pod: None }),
    );
    assert_eq!(
        out[0],
        Effect::Crash {
            pod: 0,
            generation: 1
        }
    );
    assert_eq!(
        arms(&out),
        vec![(
            5 * NS_PER_S,
            Timer::Restart {
                pod: 0,
                generation: 1
            }
        )]
    );
    assert_eq!(cluster.pods()[0].restarts, 1);
    // A probe armed for the old incarnation finds nothing to probe.
    let out = handle(
        &mut cluster,
        2 * NS_PER_S,
        Input::Timer(Timer::Probe {
            pod: 0,
            generation: 0,
        }),
    );
    assert!(out.is_empty());
    let out = handle(
        &mut cluster,
        5 * NS_PER_S,
        Input::Timer(Timer::Restart {
            pod: 0,
            generation: 1,
        }),
    );
    assert_eq!(
        arms(&out),
        vec![(
            7 * NS_PER_S,
            Timer::Start {
                pod: 0,
                generation: 1
            }
        )]
    );
}

#[test]
fn a_drained_node_evicts_its_pods_then_dies_and_takes_the_rest_without_a_signal() {
    let mut config = config(2, true);
    config.kubernetes.nodes = 1;
    let mut cluster = Cluster::new(&config, false);
    handle(&mut cluster, 0, Input::Setup);
    let out = handle(
        &mut cluster,
        NS_PER_S,
        Input::Action(Action::DrainNode {
            notice_ns: 120 * NS_PER_S,
            node: None,
        }),
    );
    // Both evicted; their replacements have no schedulable node and stay Pending.
    assert!(arms(&out).contains(&(121 * NS_PER_S, Timer::NodeDies { node: 0 })));
    assert!(cluster.pods()[2..].iter().all(|p| p.node.is_none()));
    let out = handle(
        &mut cluster,
        121 * NS_PER_S,
        Input::Timer(Timer::NodeDies { node: 0 }),
    );
    assert_eq!(
        out,
        vec![Effect::NodeLost { pod: 0 }, Effect::NodeLost { pod: 1 }]
    );
    assert!(cluster.pods()[..2].iter().all(|p| p.end == PodEnd::Killed));
}

#[test]
fn scale_from_zero_is_taken_only_while_the_deployment_wants_zero() {
    let mut cluster = Cluster::new(&config(0, false), true);
    handle(&mut cluster, 0, Input::Setup);
    let out = handle(&mut cluster, NS_PER_S, Input::ScaleFromZero { replicas: 1 });
    assert!(matches!(&out[0], Effect::Note { who, .. } if who == "gateway"));
    assert_eq!(cluster.desired(), 1);
    let out = handle(&mut cluster, NS_PER_S, Input::ScaleFromZero { replicas: 1 });
    assert!(out.is_empty());
    assert_eq!(cluster.pods().len(), 1);
}

#[test]
fn a_rollout_surges_within_max_surge_and_keeps_the_old_pods_until_the_new_are_ready() {
    let mut cluster = Cluster::new(&config(2, true), false);
    handle(&mut cluster, 0, Input::Setup);
    let out = handle(&mut cluster, NS_PER_S, Input::Action(Action::Rollout));
    let created: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            Effect::Created { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    // Default maxSurge 1 and maxUnavailable 0 (faas-netes): one new pod, nobody deleted.
    assert_eq!(created, vec!["fn-r2-2".to_string()]);
    assert!(
        !out.iter()
            .any(|e| matches!(e, Effect::Route { routed: false, .. }))
    );
}

#[test]
fn a_deploy_rolls_and_resets_the_replicas_to_scale_min() {
    let mut cluster = Cluster::new(&config(2, true), false);
    handle(&mut cluster, 0, Input::Setup);
    handle(&mut cluster, NS_PER_S, Input::Action(Action::Scale(6)));
    assert_eq!(cluster.desired(), 6);
    let out = handle(
        &mut cluster,
        2 * NS_PER_S,
        Input::Action(Action::Deploy { scale_min: Some(2) }),
    );
    assert_eq!(
        cluster.desired(),
        2,
        "the label overwrites the scaled count"
    );
    assert_eq!(
        cluster.revision, 2,
        "a deploy is always a new template revision"
    );
    assert!(
        out.iter()
            .any(|e| matches!(e, Effect::Created { name, .. } if name.contains("-r2-"))),
        "the rollout starts with a pod of the new revision: {out:?}"
    );
}

#[test]
fn a_deploy_without_the_label_keeps_the_replicas_and_ce_clamps_to_five() {
    let mut cluster = Cluster::new(&config(1, true), false);
    handle(&mut cluster, 0, Input::Setup);
    handle(&mut cluster, NS_PER_S, Input::Action(Action::Scale(3)));
    handle(
        &mut cluster,
        2 * NS_PER_S,
        Input::Action(Action::Deploy { scale_min: None }),
    );
    assert_eq!((cluster.desired(), cluster.revision), (3, 2));
    handle(
        &mut cluster,
        3 * NS_PER_S,
        Input::Action(Action::Deploy { scale_min: Some(8) }),
    );
    assert_eq!(
        (cluster.desired(), cluster.revision),
        (5, 3),
        "CE: at most 5"
    );
}

#[test]
fn a_graceful_node_shutdown_signals_without_a_delete_and_unroutes_at_the_next_pass() {
    let mut cluster = Cluster::new(&config(2, true), false);
    handle(&mut cluster, 0, Input::Setup);
    let now = 12 * NS_PER_S;
    let out = handle(
        &mut cluster,
        now,
        Input::Action(Action::ShutdownNode {
            node: 0,
            grace_period_ns: 30 * NS_PER_S,
            critical_pods_ns: 5 * NS_PER_S,
        }),
    );
    assert_eq!(
        arms(&out),
        vec![
            (now, Timer::Sigterm { pod: 0 }),
            (now + 25 * NS_PER_S, Timer::Sigkill { pod: 0 }),
            (15 * NS_PER_S, Timer::NodeMonitor { node: 0 }),
        ],
        "grace min(30 s, 30 s - 5 s); the controller looks at its next 5 s pass"
    );
    assert!(!out.iter().any(|e| matches!(e, Effect::Route { .. })));
    assert_eq!(cluster.pods()[0].deletion_ns, None, "no API delete");
    let out = handle(
        &mut cluster,
        15 * NS_PER_S,
        Input::Timer(Timer::NodeMonitor { node: 0 }),
    );
    assert!(out.contains(&Effect::Route {
        pod: 0,
        routed: false,
        at_ns: 16 * NS_PER_S
    }));
    // The pod drains and exits: the ReplicaSet replaces it on the other node.
    let out = handle(&mut cluster, 20 * NS_PER_S, Input::Exited { pod: 0 });
    assert!(
        out.iter()
            .any(|e| matches!(e, Effect::Created { pod: 2, .. })),
        "{out:?}"
    );
    assert_eq!(cluster.pods()[2].node, Some(1));
}

#[test]
fn a_lost_node_keeps_its_pods_routed_until_the_controller_marks_it_unknown() {
    let mut cluster = Cluster::new(&config(2, true), false);
    handle(&mut cluster, 0, Input::Setup);
    let now = 30 * NS_PER_S;
    let out = handle(
        &mut cluster,
        now,
        Input::Action(Action::LoseNode { node: 0 }),
    );
    assert!(out.contains(&Effect::NodeLost { pod: 0 }));
    assert!(
        !out.iter()
            .any(|e| matches!(e, Effect::Route { .. } | Effect::Created { .. })),
        "no API call: still routed, still counted: {out:?}"
    );
    // The low draw: the last heartbeat was at the loss, so the first pass after 70 s.
    assert_eq!(
        arms(&out),
        vec![(75 * NS_PER_S, Timer::NodeMonitor { node: 0 })]
    );
    let out = handle(
        &mut cluster,
        75 * NS_PER_S,
        Input::Timer(Timer::NodeMonitor { node: 0 }),
    );
    assert!(out.contains(&Effect::Route {
        pod: 0,
        routed: false,
        at_ns: 76 * NS_PER_S
    }));
    assert_eq!(
        arms(&out),
        vec![(375 * NS_PER_S, Timer::TaintEviction { node: 0 })]
    );
    assert!(!out.iter().any(|e| matches!(e, Effect::Created { .. })));
    let out = handle(
        &mut cluster,
        375 * NS_PER_S,
        Input::Timer(Timer::TaintEviction { node: 0 }),
    );
    assert_eq!(cluster.pods()[0].deletion_ns, Some(375 * NS_PER_S));
    assert!(
        out.iter()
            .any(|e| matches!(e, Effect::Created { pod: 2, .. })),
        "replaced once evicted: {out:?}"
    );
    assert_eq!(cluster.pods()[2].node, Some(1));
}

#[test]
fn a_scale_down_during_a_node_shutdown_does_not_signal_twice() {
    let mut cluster = Cluster::new(&config(2, true), false);
    handle(&mut cluster, 0, Input::Setup);
    handle(
        &mut cluster,
        NS_PER_S,
        Input::Action(Action::ShutdownNode {
            node: 0,
            grace_period_ns: 30 * NS_PER_S,
            critical_pods_ns: 5 * NS_PER_S,
        }),
    );
    handle(
        &mut cluster,
        5 * NS_PER_S,
        Input::Timer(Timer::NodeMonitor { node: 0 }),
    );
    // The shutting-down pod is not ready: the first victim of a scale-down.
    let out = handle(&mut cluster, 6 * NS_PER_S, Input::Action(Action::Scale(1)));
    assert_eq!(cluster.pods()[0].deletion_ns, Some(6 * NS_PER_S));
    assert!(arms(&out).is_empty(), "no second SIGTERM: {out:?}");
}

/// The first probe and the retries after a failed one, for a container starting `phase_ns`
/// after a tick of the prober (kubernetes pkg/kubelet/prober/worker.go `run`, `doProbe`).
fn probe_times(delay_s: u32, period_s: u32, phase_ns: Nanos, start_ns: Nanos) -> Vec<Nanos> {
    let mut config = config(1, false);
    config.kubernetes.readiness.initial_delay_s = delay_s;
    config.kubernetes.readiness.period_s = period_s;
    config.kubernetes.readiness_phase_ns = Some(Span::fixed(phase_ns));
    let mut cluster = Cluster::new(&config, false);
    handle(&mut cluster, 0, Input::Setup);
    let start = Timer::Start {
        pod: 0,
        generation: 0,
    };
    let mut at_ns = arms(&handle(&mut cluster, start_ns, Input::Timer(start)))[0].0;
    let mut times = vec![at_ns];
    for _ in 0..2 {
        let probed = Input::Probed {
            pod: 0,
            generation: 0,
            healthy: false,
        };
        at_ns = arms(&handle(&mut cluster, at_ns, probed))[0].0;
        times.push(at_ns);
    }
    times
}

#[test]
fn the_first_probe_is_the_first_tick_once_the_whole_delay_has_passed() {
    let ms = |n: u64| n * crate::time::NS_PER_MS;
    // On a tick: exactly initialDelaySeconds after the start, then every period.
    assert_eq!(
        probe_times(2, 2, 0, ms(2_000)),
        [ms(4_000), ms(6_000), ms(8_000)]
    );
    // 100 ms into the period: the tick 1.9 s after the start is skipped (1.9 s truncates to
    // 1 s, below the delay), so the first probe is 3.9 s after it.
    assert_eq!(
        probe_times(2, 2, ms(100), ms(2_000)),
        [ms(5_900), ms(7_900), ms(9_900)]
    );
    // 1.9 s into the period: the next tick but one, 2.1 s after the start.
    assert_eq!(
        probe_times(2, 2, ms(1_900), ms(2_000)),
        [ms(4_100), ms(6_100), ms(8_100)]
    );
    // A delay shorter than the period, and a start whose tick would fall before time 0.
    assert_eq!(
        probe_times(1, 10, ms(300), ms(200)),
        [ms(9_900), ms(19_900), ms(29_900)]
    );
    // No delay: at the start (the status sync's manual trigger), then on the ticks.
    assert_eq!(
        probe_times(0, 2, ms(500), ms(2_000)),
        [ms(2_000), ms(3_500), ms(5_500)]
    );
}
