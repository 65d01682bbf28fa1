//! The pods driven alone, without a world: a request accepted, answered, timed out, lost
//! with its process, and the drain after SIGTERM.

use super::*;
use crate::choice::{First, Last};
use crate::config::{Config, Mode, Span};
use crate::time::{NS_PER_MS, NS_PER_S};

fn pods(mode: Mode) -> Pods {
    let mut config = Config::default();
    config.function.watchdog.mode = mode;
    pods_of(config)
}

/// One warm pod of `config`, with 2 s handlers and a 10 s exec_timeout.
fn pods_of(config: Config) -> Pods {
    pods_handling(config, 2 * NS_PER_S)
}

/// One warm pod of `config`, with handlers of `handler_ns` and a 10 s exec_timeout.
fn pods_handling(config: Config, handler_ns: Nanos) -> Pods {
    pods_replaying(config, handler_ns, false)
}

/// As `pods_handling`, the requests replayable (a GET) or not.
fn pods_replaying(config: Config, handler_ns: Nanos, replayable: bool) -> Pods {
    let mut pods = created_pods(config, handler_ns, replayable);
    run(&mut pods, 0, Input::Warm { pod: 0 });
    pods
}

/// One pod of `config` created and not started, as `pods_replaying`.
fn created_pods(mut config: Config, handler_ns: Nanos, replayable: bool) -> Pods {
    config.function.handler_ns = Span::fixed(handler_ns);
    config.function.watchdog.exec_timeout_ns = 10 * NS_PER_S;
    let mut pods = Pods::new(
        &config.function,
        DrainPolicy::watchdog(&config.function.watchdog),
        replayable,
        NS_PER_MS,
        true,
    );
    run(
        &mut pods,
        0,
        Input::Created {
            pod: 0,
            name: "fn-r1-0".into(),
        },
    );
    pods
}

fn run(pods: &mut Pods, now: Nanos, input: Input) -> Vec<Effect> {
    run_choosing(pods, now, input, &mut First)
}

fn run_choosing(
    pods: &mut Pods,
    now: Nanos,
    input: Input,
    chooser: &mut dyn Chooser,
) -> Vec<Effect> {
    let mut out = Vec::new();
    pods.handle(now, input, chooser, &mut out);
    out
}

fn request(req: RequestId) -> Input {
    Input::Request {
        req,
        pod: 0,
        reused: false,
        retry: false,
        generation: 0,
        key: 0,
    }
}

fn sent(effects: &[Effect]) -> Vec<Msg> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Send { msg, .. } => Some(*msg),
            _ => None,
        })
        .collect()
}

/// Pod 0's `timer` of its first incarnation is due.
fn timer(timer: Timer) -> Input {
    Input::Timer {
        pod: 0,
        generation: 0,
        timer,
    }
}

/// The cancel of `req` reaches pod 0's first incarnation.
fn cancel(req: RequestId) -> Input {
    Input::Cancel {
        req,
        pod: 0,
        generation: 0,
    }
}

/// When `effects` arm `timer`, if they do.
fn armed_at(effects: &[Effect], timer: Timer) -> Option<Nanos> {
    effects.iter().find_map(|e| match e {
        Effect::Arm {
            at_ns, timer: t, ..
        } if *t == timer => Some(*at_ns),
        _ => None,
    })
}

#[test]
fn a_request_runs_its_handler_and_the_answer_goes_back_on_a_reusable_connection() {
    let mut pods = pods(Mode::Http);
    let out = run(&mut pods, 0, request(0));
    assert_eq!(
        out[0],
        Effect::ExecDeadline {
            req: 0,
            at_ns: Some(10 * NS_PER_S)
        }
    );
    assert!(out.contains(&Effect::Arm {
        at_ns: 2 * NS_PER_S,
        pod: 0,
        generation: 0,
        timer: Timer::HandlerDone { req: 0 }
    }));
    let done = timer(Timer::HandlerDone { req: 0 });
    assert!(pods.holds(0), "the handler runs");
    let out = run(&mut pods, 2 * NS_PER_S, done);
    assert_eq!(
        sent(&out),
        vec![Msg::ToProvider {
            code: 200,
            cause: Cause::Handler,
            reuse: Some(0)
        }]
    );
    assert!(!pods.holds(0), "answered: nothing holds it");
    assert_eq!(pods.name(0), "fn-r1-0", "the name the cluster gave it");
    run(&mut pods, 3 * NS_PER_S, request(1));
    pods.retire_below(1);
    assert!(pods.calls.get(0).is_none(), "retired");
    assert!(pods.holds(1), "kept");
}

#[test]
fn exec_timeout_answers_504_in_http_mode_and_an_empty_200_when_streaming() {
    for (mode, code) in [(Mode::Http, 504), (Mode::Streaming, 200)] {
        let mut pods = pods(mode);
        run(&mut pods, 0, request(0));
        let out = run(&mut pods, 10 * NS_PER_S, Input::ExecTimeout { req: 0 });
        assert!(
            matches!(sent(&out)[..], [Msg::ToProvider { code: c, cause: Cause::ExecTimeout, .. }] if c == code)
        );
        // The handler returning later writes nothing more.
        let done = timer(Timer::HandlerDone { req: 0 });
        assert!(sent(&run(&mut pods, 12 * NS_PER_S, done)).is_empty());
    }
}

#[test]
fn a_killed_script_answers_when_its_children_close_its_stdout() {
    // The handler (2 s) outlives an exec_timeout of 1 s: the kill reaches the script alone.
    let done = timer(Timer::HandlerDone { req: 0 });
    let end = |held_ns: Nanos| {
        let mut config = Config::default();
        config.function.watchdog.mode = Mode::Streaming;
        config.function.stdout_held_after_kill_ns = held_ns;
        let mut pods = pods_of(config);
        pods.function.watchdog.exec_timeout_ns = NS_PER_S;
        run(&mut pods, 0, request(0));
        let out = run(&mut pods, NS_PER_S, Input::ExecTimeout { req: 0 });
        (pods, out)
    };
    // Held past the handler's end: nothing at the kill, the 200 when the handler ends.
    let (mut pods, out) = end(60 * NS_PER_S);
    assert!(sent(&out).is_empty(), "{out:?}");
    assert!(
        !out.iter().any(|e| matches!(e, Effect::Arm { .. })),
        "{out:?}"
    );
    assert!(matches!(
        sent(&run(&mut pods, 2 * NS_PER_S, done.clone()))[..],
        [Msg::ToProvider {
            code: 200,
            cause: Cause::ExecTimeout,
            ..
        }]
    ));
    // Held 500 ms: the close is armed then and answers; the handler's own end finds nothing.
    let (mut pods, out) = end(NS_PER_S / 2);
    assert!(sent(&out).is_empty());
    assert!(out.contains(&Effect::Arm {
        at_ns: NS_PER_S + NS_PER_S / 2,
        pod: 0,
        generation: 0,
        timer: Timer::HandlerDone { req: 0 },
    }));
    assert!(matches!(
        sent(&run(&mut pods, NS_PER_S + NS_PER_S / 2, done.clone()))[..],
        [Msg::ToProvider {
            code: 200,
            cause: Cause::ExecTimeout,
            ..
        }]
    ));
    assert!(sent(&run(&mut pods, 2 * NS_PER_S, done)).is_empty());
}

#[test]
fn the_classic_watchdog_kills_its_fork_with_408() {
    let mut config = Config::default();
    config.function.watchdog.kind = crate::config::WatchdogKind::Classic;
    config.function.watchdog.mode = Mode::Streaming;
    let mut pods = pods_of(config);
    run(&mut pods, 0, request(0));
    let out = run(&mut pods, 10 * NS_PER_S, Input::ExecTimeout { req: 0 });
    assert!(matches!(
        sent(&out)[..],
        [Msg::ToProvider {
            code: 408,
            cause: Cause::ExecTimeout,
            ..
        }]
    ));
}

#[test]
fn a_write_timeout_of_zero_is_none() {
    // A negative write_timeout reaches the config as 0: Go's server then has no WriteTimeout,
    // so a response after any time is still written.
    let mut config = Config::default();
    config.function.watchdog.write_timeout_ns = 0;
    config.function.child.write_timeout_ns = 0;
    let mut pods = pods_of(config);
    run(&mut pods, 0, request(0));
    let done = timer(Timer::HandlerDone { req: 0 });
    assert!(matches!(
        sent(&run(&mut pods, 2 * NS_PER_S, done))[..],
        [Msg::ToProvider {
            code: 200,
            cause: Cause::Handler,
            ..
        }]
    ));
}

#[test]
fn max_inflight_turns_the_next_request_away_with_429() {
    let mut config = Config::default();
    config.function.watchdog.max_inflight = 1;
    let mut pods = Pods::new(
        &config.function,
        DrainPolicy::watchdog(&config.function.watchdog),
        false,
        0,
        false,
    );
    run(
        &mut pods,
        0,
        Input::Created {
            pod: 0,
            name: "p".into(),
        },
    );
    run(&mut pods, 0, Input::Warm { pod: 0 });
    run(&mut pods, 0, request(0));
    let out = run(&mut pods, 0, request(1));
    assert!(matches!(
        sent(&out)[..],
        [Msg::ToProvider {
            code: 429,
            cause: Cause::MaxInflight,
            ..
        }]
    ));
}

#[test]
fn sigkill_loses_what_the_pod_held_and_a_killed_pod_refuses_dials() {
    let mut pods = pods(Mode::Http);
    run(&mut pods, 0, request(0));
    let out = run(&mut pods, NS_PER_S, Input::Sigkill { pod: 0 });
    assert!(out.contains(&Effect::Learn {
        req: 0,
        fact: Fact::Lost(Cause::Sigkill)
    }));
    assert!(
        !out.contains(&Effect::Exited { pod: 0 }),
        "the kubelet killed it: no exit to report"
    );
    assert_eq!(pods.killed_with(0), 1);
    let out = run(
        &mut pods,
        NS_PER_S,
        Input::Syn {
            req: 1,
            pod: 0,
            retry: false,
        },
    );
    assert!(matches!(
        sent(&out)[..],
        [Msg::ToProvider {
            code: 500,
            cause: Cause::ConnectionRefused,
            ..
        }]
    ));
}

#[test]
fn sigterm_keeps_the_listener_open_then_drains_and_exits_on_its_own() {
    let mut pods = pods(Mode::Http);
    let out = run(&mut pods, 0, Input::Sigterm { pod: 0 });
    assert!(!pods.healthy(0));
    let close = armed_at(&out, Timer::WatchdogClose)
        .expect("the listener closes after healthcheck_interval");
    let out = run(&mut pods, close, timer(Timer::WatchdogClose));
    assert!(out.contains(&Effect::ServerClosed { pod: 0 }));
    let exits = out.contains(&Effect::Exited { pod: 0 })
        || out.iter().any(|e| {
            matches!(
                e,
                Effect::Arm {
                    timer: Timer::WatchdogExit | Timer::WatchdogPoll,
                    ..
                }
            )
        });
    assert!(exits, "an idle watchdog exits or waits to: {out:?}");
}

#[test]
fn a_cancel_ends_the_watchdogs_call_and_a_second_one_is_stale() {
    let mut pods = pods(Mode::Http);
    run(&mut pods, 0, request(0));
    let out = run(&mut pods, NS_PER_S, Input::Orphaned { req: 0, hops: 1 });
    assert_eq!(
        out[1],
        Effect::Cancel {
            req: 0,
            pod: 0,
            generation: 0,
            hops: 1
        }
    );
    let cancel = cancel(0);
    assert!(run(&mut pods, NS_PER_S, cancel.clone()).is_empty());
    assert_eq!(run(&mut pods, NS_PER_S, cancel), vec![Effect::Stale]);
}

#[test]
fn the_drain_deadline_ends_the_watchdog_at_its_instant_and_not_before() {
    // healthcheck_interval 1 s, then Shutdown for write_timeout (5 s) while a 30 s call runs.
    let mut config = Config::default();
    config.function.watchdog.healthcheck_interval_ns = NS_PER_S as i64;
    config.function.watchdog.write_timeout_ns = 5 * NS_PER_S;
    let mut pods = pods_handling(config, 30 * NS_PER_S);
    run(&mut pods, 0, request(0));
    run(&mut pods, 0, Input::Sigterm { pod: 0 });
    let close = timer(Timer::WatchdogClose);
    let out = run(&mut pods, NS_PER_S, close);
    assert!(out.contains(&Effect::Arm {
        at_ns: 6 * NS_PER_S,
        pod: 0,
        generation: 0,
        timer: Timer::WatchdogDeadline
    }));
    let deadline = timer(Timer::WatchdogDeadline);
    // Early (a timer the deadline no longer matches): nothing happens.
    assert!(run(&mut pods.clone(), 6 * NS_PER_S - 1, deadline.clone()).is_empty());
    let out = run(&mut pods, 6 * NS_PER_S, deadline);
    assert!(out.contains(&Effect::Exited { pod: 0 }), "{out:?}");
    assert!(!pods.holds(0), "the call is lost with the watchdog");
}

#[test]
fn a_call_is_wanted_until_its_caller_gives_up_and_held_while_the_child_runs_it() {
    let mut config = Config::default();
    config.function.watchdog.mode = Mode::Http;
    let mut pods = pods_of(config);
    run(&mut pods, 0, request(0));
    assert!(pods.wanted(0) && pods.holds(0));
    // The provider's timer gave up: the cancel reaches the watchdog, which stops waiting;
    // the handler in the child runs on, so the pod still holds the request.
    run(&mut pods, NS_PER_S, Input::Orphaned { req: 0, hops: 1 });
    let cancel = cancel(0);
    run(&mut pods, NS_PER_S, cancel);
    assert!(!pods.wanted(0), "nobody waits for it any more");
    assert!(pods.holds(0), "the child still runs it");
}

#[test]
fn after_a_crash_the_next_incarnation_answers_its_own_calls() {
    let mut pods = pods(Mode::Http);
    run(
        &mut pods,
        0,
        Input::Crash {
            pod: 0,
            generation: 1,
        },
    );
    run(&mut pods, 0, Input::Warm { pod: 0 });
    let request = Input::Request {
        req: 0,
        pod: 0,
        reused: false,
        retry: false,
        generation: 1,
        key: 0,
    };
    run(&mut pods, NS_PER_S, request);
    let done = Input::Timer {
        pod: 0,
        generation: 1,
        timer: Timer::HandlerDone { req: 0 },
    };
    assert_eq!(
        sent(&run(&mut pods, 3 * NS_PER_S, done)),
        vec![Msg::ToProvider {
            code: 200,
            cause: Cause::Handler,
            reuse: Some(0)
        }]
    );
    // A call of the new incarnation belongs to it: its cancel goes to incarnation 1.
    let request = Input::Request {
        req: 1,
        pod: 0,
        reused: true,
        retry: false,
        generation: 1,
        key: 1,
    };
    run(&mut pods, 4 * NS_PER_S, request);
    let out = run(&mut pods, 5 * NS_PER_S, Input::Orphaned { req: 1, hops: 1 });
    assert!(out.contains(&Effect::Cancel {
        req: 1,
        pod: 0,
        generation: 1,
        hops: 1
    }));
}

#[test]
fn an_idle_of_watchdog_exits_as_its_listener_closes() {
    // of-watchdog lingers no longer than its drain: with nothing active, the process exits in
    // the same step that closes the listener, not on a timer of its own.
    let mut pods = pods(Mode::Http);
    run(&mut pods, 0, Input::Sigterm { pod: 0 });
    let close = timer(Timer::WatchdogClose);
    let out = run(&mut pods, 5 * NS_PER_S, close);
    assert!(out.contains(&Effect::Exited { pod: 0 }), "{out:?}");
    assert!(!out.iter().any(|e| matches!(
        e,
        Effect::Arm {
            timer: Timer::WatchdogExit,
            ..
        }
    )));
}

#[test]
fn an_idle_child_exits_as_its_own_listener_closes() {
    // of-watchdog forwards SIGTERM to the child at once; the child's server closes its
    // listener after its own interval and, with nothing active, exits in that step.
    let mut pods = pods(Mode::Http);
    let out = run(&mut pods, 0, Input::Sigterm { pod: 0 });
    let close = armed_at(&out, Timer::ChildClose).expect("the child closes its listener later");
    assert!(pods.pods[0].child.alive());
    let timer = timer(Timer::ChildClose);
    let out = run(&mut pods, close, timer);
    assert!(!pods.pods[0].child.alive(), "{out:?}");
    assert!(!out.iter().any(|e| matches!(
        e,
        Effect::Arm {
            timer: Timer::ChildExit,
            ..
        }
    )));
}

#[test]
fn a_response_written_at_its_write_timeout_still_goes_out() {
    // Go's write deadline is passed only after it: a handler of exactly write_timeout is
    // answered, a nanosecond more is not; the child's timeout (2 s, the watchdog's 30 s), then
    // the watchdog's (2 s, the child's 10 s).
    let s2 = 2 * NS_PER_S;
    for (child_ns, watchdog_ns, handler_ns, code, cause) in [
        (s2, 30 * NS_PER_S, s2, 200, Cause::Handler),
        (s2, 30 * NS_PER_S, s2 + 1, 500, Cause::ChildWriteTimeout),
        (10 * NS_PER_S, s2, s2, 200, Cause::Handler),
        (10 * NS_PER_S, s2, s2 + 1, 500, Cause::WatchdogWriteTimeout),
    ] {
        let mut config = Config::default();
        config.function.child.write_timeout_ns = child_ns;
        config.function.watchdog.write_timeout_ns = watchdog_ns;
        let mut pods = pods_handling(config, handler_ns);
        run(&mut pods, 0, request(0));
        let done = timer(Timer::HandlerDone { req: 0 });
        let answer = sent(&run(&mut pods, handler_ns, done));
        assert!(
            matches!(answer[..], [Msg::ToProvider { code: c, cause: k, .. }] if c == code && k == cause),
            "{handler_ns} ns: {answer:?}"
        );
    }
}

#[test]
fn the_child_drains_the_call_it_runs_before_it_exits() {
    let mut pods = pods(Mode::Http);
    run(&mut pods, 0, request(0));
    let out = run(&mut pods, 0, Input::Sigterm { pod: 0 });
    let close = armed_at(&out, Timer::ChildClose).expect("the child closes its listener later");
    let timer = timer(Timer::ChildClose);
    let out = run(&mut pods, close, timer);
    assert!(pods.pods[0].child.alive(), "a call still runs: {out:?}");
    assert!(armed_at(&out, Timer::ChildPoll).is_some());
}

#[test]
fn a_handler_that_returns_after_its_caller_gave_up_writes_nothing() {
    let mut pods = pods(Mode::Http);
    run(&mut pods, 0, request(0));
    // The caller gave up; its cancel is still on its way to the watchdog.
    run(&mut pods, NS_PER_S, Input::Orphaned { req: 0, hops: 1 });
    let done = timer(Timer::HandlerDone { req: 0 });
    assert!(sent(&run(&mut pods, 2 * NS_PER_S, done)).is_empty());
}

#[test]
fn a_pooled_request_sent_before_the_pod_closed_its_connections_meets_a_reset() {
    // Half a round trip (0.5 ms) on the way: a pooled request that arrives at 10.5 ms left at
    // 10 ms, the instant the pod closed every connection (a crash here), so its connection is
    // gone and it meets a reset. One that left a nanosecond after the close went out on a
    // connection made since, and is let in.
    let pooled = |req| Input::Request {
        req,
        pod: 0,
        reused: true,
        retry: false,
        generation: 1,
        key: req.into(),
    };
    let arrival_ns = 10 * NS_PER_MS + NS_PER_MS / 2;
    let mut pods = pods(Mode::Http);
    run(
        &mut pods,
        10 * NS_PER_MS,
        Input::Crash {
            pod: 0,
            generation: 1,
        },
    );
    run(&mut pods, 10 * NS_PER_MS, Input::Warm { pod: 0 });
    assert_eq!(
        sent(&run(&mut pods, arrival_ns, pooled(0))),
        vec![Msg::Reset { pod: 0 }]
    );
    let out = run(&mut pods, arrival_ns + 1, pooled(1));
    assert!(sent(&out).is_empty() && pods.holds(1), "{out:?}");
}

#[test]
fn an_http_child_that_takes_time_to_start_listens_only_then() {
    // (mode, the child's start-up, when its own start is armed: none when at once)
    for (mode, startup_ns, armed) in [
        (Mode::Http, 0, None),
        (Mode::Http, 3 * NS_PER_S, Some(3 * NS_PER_S)),
        // Streaming mode forks a process per request: there is no server to wait for.
        (Mode::Streaming, 3 * NS_PER_S, None),
    ] {
        let mut config = Config::default();
        config.function.watchdog.mode = mode;
        config.function.child.startup_ns = Span::fixed(startup_ns);
        let mut pods = created_pods(config, 2 * NS_PER_S, false);
        let out = run(
            &mut pods,
            0,
            Input::Start {
                pod: 0,
                generation: 0,
            },
        );
        assert_eq!(armed_at(&out, Timer::ChildStart), armed, "{mode:?}");
        assert_eq!(pods.pods[0].child.listening(), armed.is_none(), "{mode:?}");
    }
}

#[test]
fn each_drain_poll_waits_its_interval_and_a_jitter_drawn_up_to_a_tenth_of_it() {
    // Go's Shutdown polls at 1 ms, doubling, each with up to 10 % of jitter: drawn at its
    // high end here.
    let mut pods = pods(Mode::Http);
    run(&mut pods, 0, request(0));
    let out = run(&mut pods, 0, Input::Sigterm { pod: 0 });
    let close = armed_at(&out, Timer::WatchdogClose).expect("the listener closes later");
    let out = run(&mut pods, close, timer(Timer::WatchdogClose));
    let first = armed_at(&out, Timer::WatchdogPoll).expect("a call is active: Shutdown polls");
    assert_eq!(first, close + NS_PER_MS);
    let out = run_choosing(&mut pods, first, timer(Timer::WatchdogPoll), &mut Last);
    assert_eq!(
        armed_at(&out, Timer::WatchdogPoll),
        Some(first + 2 * NS_PER_MS + 2 * NS_PER_MS / 10 - 1)
    );
}

#[test]
fn a_stopping_child_dies_at_its_own_drain_deadline_and_not_before() {
    // A child that stops on SIGTERM (`Shutdown` with a 5 s timeout) while a 30 s call runs.
    let mut config = Config::default();
    config.function.child.on_sigterm = crate::config::OnSigterm::Stop {
        shutdown_timeout_ns: 5 * NS_PER_S,
    };
    let mut pods = pods_handling(config, 30 * NS_PER_S);
    run(&mut pods, 0, request(0));
    let out = run(&mut pods, 0, Input::Sigterm { pod: 0 });
    let close = armed_at(&out, Timer::ChildClose).expect("the child closes its listener");
    let out = run(&mut pods, close, timer(Timer::ChildClose));
    let deadline = armed_at(&out, Timer::ChildDeadline).expect("its Shutdown has a deadline");
    assert_eq!(deadline, close + 5 * NS_PER_S);
    let early = run(&mut pods.clone(), deadline - 1, timer(Timer::ChildDeadline));
    assert!(early.is_empty(), "{early:?}");
    run(&mut pods, deadline, timer(Timer::ChildDeadline));
    assert!(!pods.pods[0].child.alive());
}

#[test]
fn a_call_to_the_child_on_a_connection_it_just_closed_is_retried_only_when_replayable() {
    // The watchdog's transport to its child keeps a connection idle for 500 ms; the child
    // closes it as it stops (SIGTERM at 1.2 s, its listener closes 1 s later, at 2.2 s), and
    // the FIN is back a tenth of a round trip (0.1 ms) later. A call at 2.2 s takes that
    // connection and races the close: Go's transport retries it when it is replayable. At
    // 2.2 s + 0.2 ms the FIN is back and the transport dials.
    let close_ns = 2 * NS_PER_S + 200 * NS_PER_MS;
    for replayable in [true, false] {
        let mut config = Config::default();
        config.function.child.healthcheck_interval_ns = NS_PER_S as i64;
        config.function.watchdog.healthcheck_interval_ns = 10 * NS_PER_S as i64;
        let mut pods = pods_replaying(config, 2 * NS_PER_S, replayable);
        run(&mut pods, 0, request(0));
        let out = run(&mut pods, close_ns - NS_PER_S, Input::Sigterm { pod: 0 });
        assert_eq!(armed_at(&out, Timer::ChildClose), Some(close_ns));
        run(
            &mut pods,
            2 * NS_PER_S,
            timer(Timer::HandlerDone { req: 0 }),
        );
        run(&mut pods, close_ns, timer(Timer::ChildClose));
        for (at_ns, raced) in [(close_ns, true), (close_ns + NS_PER_MS / 5, false)] {
            let out = run(&mut pods.clone(), at_ns, request(1));
            let retried = out.contains(&Effect::Learn {
                req: 1,
                fact: Fact::Retried,
            });
            assert_eq!(
                retried,
                raced && replayable,
                "{replayable} at {at_ns}: {out:?}"
            );
        }
    }
}

#[test]
fn a_child_that_waits_a_fixed_time_lingers_after_its_listener_closes() {
    // The fixed-wait drain: after its listener closes the child sleeps write_timeout (10 s)
    // before it exits, even with nothing active.
    let mut config = Config::default();
    config.function.watchdog.kind = crate::config::WatchdogKind::FixedWait;
    let mut pods = pods_of(config);
    let out = run(&mut pods, 0, Input::Sigterm { pod: 0 });
    let close = armed_at(&out, Timer::ChildClose).expect("the child closes its listener later");
    let out = run(&mut pods, close, timer(Timer::ChildClose));
    assert_eq!(
        armed_at(&out, Timer::ChildExit),
        Some(close + 10 * NS_PER_S)
    );
    assert!(pods.pods[0].child.alive(), "it lingers");
}

/// A replayable 2 s call whose caller gives up at 1.5 s (its cancel 4 hops away), on a pod
/// whose child, signalled at 1.2 s, closes its listener at the instant returned (2.2 s).
fn left_before_the_childs_close() -> (Pods, Nanos) {
    let close_ns = 2 * NS_PER_S + 200 * NS_PER_MS;
    let mut config = Config::default();
    config.function.child.healthcheck_interval_ns = NS_PER_S as i64;
    config.function.watchdog.healthcheck_interval_ns = 10 * NS_PER_S as i64;
    let mut pods = pods_replaying(config, 2 * NS_PER_S, true);
    run(&mut pods, 0, request(0));
    run(&mut pods, close_ns - NS_PER_S, Input::Sigterm { pod: 0 });
    run(
        &mut pods,
        1_500 * NS_PER_MS,
        Input::Orphaned { req: 0, hops: 4 },
    );
    (pods, close_ns)
}

#[test]
fn a_handler_that_returns_before_its_callers_cancel_arrives_ends_the_call_and_pools_the_connection()
{
    // The caller gave up at 1.5 s; its cancel has not reached the watchdog when the child's
    // handler returns at 2 s. The proxy reads the whole response, so the watchdog's handler
    // returns (its write goes nowhere) and the connection goes back to the pool; the cancel,
    // when it comes, finds nothing. Seen through the pool as in the test above: a replayable
    // call at the child's close takes that connection and is retried.
    let (mut pods, close_ns) = left_before_the_childs_close();
    let out = run(
        &mut pods,
        2 * NS_PER_S,
        timer(Timer::HandlerDone { req: 0 }),
    );
    assert!(sent(&out).is_empty(), "nobody reads the answer: {out:?}");
    assert!(!pods.holds(0), "the watchdog's handler returned");
    let cancel = cancel(0);
    assert_eq!(
        run(&mut pods.clone(), 2 * NS_PER_S, cancel),
        vec![Effect::Stale]
    );
    run(&mut pods, close_ns, timer(Timer::ChildClose));
    let out = run(&mut pods, close_ns, request(1));
    let retried = Effect::Learn {
        req: 1,
        fact: Fact::Retried,
    };
    assert!(
        out.contains(&retried),
        "the pooled connection races the close: {out:?}"
    );
}

#[test]
fn a_handler_that_returns_after_its_callers_cancel_leaves_no_connection_in_the_pool() {
    // The same call, the cancel first: Go's transport closes the connection to the child when
    // the request's context ends, so the call at the close dials a child no longer listening.
    let (mut pods, close_ns) = left_before_the_childs_close();
    let cancel = cancel(0);
    run(&mut pods, 1_501 * NS_PER_MS, cancel);
    assert!(pods.holds(0), "the child still runs it");
    let out = run(
        &mut pods,
        2 * NS_PER_S,
        timer(Timer::HandlerDone { req: 0 }),
    );
    assert!(sent(&out).is_empty(), "{out:?}");
    assert!(!pods.holds(0));
    run(&mut pods, close_ns, timer(Timer::ChildClose));
    let out = run(&mut pods, close_ns, request(1));
    let refused = Effect::Learn {
        req: 1,
        fact: Fact::Refused,
    };
    assert!(out.contains(&refused), "no pooled connection: {out:?}");
}

#[test]
fn a_forked_process_that_ends_before_its_callers_cancel_arrives_leaves_the_drain_at_once() {
    // Streaming mode: the caller gave up at 1.5 s and the process ends at 2 s, before the
    // cancel reaches the watchdog. The handler returns then; the cancel finds nothing to keep
    // (it would otherwise hold the call until exec_timeout kills a process already gone).
    let mut pods = pods(Mode::Streaming);
    run(&mut pods, 0, request(0));
    run(
        &mut pods,
        1_500 * NS_PER_MS,
        Input::Orphaned { req: 0, hops: 4 },
    );
    assert!(pods.holds(0));
    let out = run(
        &mut pods,
        2 * NS_PER_S,
        timer(Timer::HandlerDone { req: 0 }),
    );
    assert!(sent(&out).is_empty(), "nobody reads the answer: {out:?}");
    assert!(!pods.holds(0), "the watchdog's handler returned");
    let cancel = cancel(0);
    assert_eq!(run(&mut pods, 2 * NS_PER_S, cancel), vec![Effect::Stale]);
}

#[test]
fn a_fork_whose_caller_left_ends_once_at_the_first_of_its_end_and_its_kill() {
    // The cancel arrives first: the fork stays in the drain, and two timers may end it (the
    // handler's end at 2 s, exec_timeout's kill at 10 s). The first ends it; the second finds
    // it gone.
    let mut pods = pods(Mode::Streaming);
    run(&mut pods, 0, request(0));
    run(&mut pods, NS_PER_S, Input::Orphaned { req: 0, hops: 1 });
    let cancel = cancel(0);
    let out = run(&mut pods, NS_PER_S, cancel);
    assert_eq!(
        armed_at(&out, Timer::HandlerDone { req: 0 }),
        Some(10 * NS_PER_S),
        "the kill"
    );
    assert!(pods.holds(0), "the fork holds up the drain");
    run(
        &mut pods,
        2 * NS_PER_S,
        timer(Timer::HandlerDone { req: 0 }),
    );
    assert!(!pods.holds(0), "the process ended");
    let out = run(
        &mut pods,
        10 * NS_PER_S,
        timer(Timer::HandlerDone { req: 0 }),
    );
    assert!(out.is_empty(), "{out:?}");
    assert!(!pods.holds(0));
}
