//! Generated cases (`faasim_sim::swarm::case`, swarm-v1) on both engines: the same outcome per
//! request, the same violated properties, times within `common::TOLERANCE_NS`. Cases using what
//! the turmoil engine refuses, or too costly for it, are skipped with a counted reason.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::{compare, counts, max_skew, names};
use faasim_sim::scenario::Scenario;
use faasim_sim::swarm::{self, SwarmCase};
use faasim_sim::{Run, simulate};
use faasim_turmoil::run_turmoil;

/// Swarm-v1 case `seed`, at the network turmoil can simulate (`common::comparable`).
fn case(seed: u64) -> SwarmCase {
    let mut case = swarm::case(seed);
    case.config.network.rtt_ns = faasim_turmoil::turmoil_rtt_ns(case.config.network.rtt_ns);
    case
}

fn scenario(case: &SwarmCase) -> Scenario {
    Scenario {
        name: format!("swarm-v1 seed {}", case.seed),
        seed: Some(case.seed),
        limit_ns: Some(swarm::LIMIT_NS),
        config: case.config.clone(),
        events: case.events.clone(),
        warnings: Vec::new(),
        source: format!("swarm-v1:{}", case.seed),
    }
}

fn model(case: &SwarmCase) -> Run {
    simulate(
        &case.config,
        &case.events,
        swarm::LIMIT_NS,
        case.seed,
        false,
    )
}

/// Survey: every seed in `FAASIM_SWARM_FROM..FAASIM_SWARM_TO` (default 0..40), no skipping,
/// with the wall time of each turmoil run.
#[test]
#[ignore]
fn survey() {
    let env = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    for seed in env("FAASIM_SWARM_FROM", 0)..env("FAASIM_SWARM_TO", 40) {
        let case = case(seed);
        let m = model(&case);
        eprintln!(
            "seed {seed}: {} requests, conc {} rate {}, {} pods, model end {:.1}s, [{}]",
            m.result.ledger.len(),
            case.config.load.concurrency,
            case.config.load.rate_per_s,
            m.result.pods.len(),
            m.result.end_ns as f64 / 1e9,
            case.feature_line()
        );
        if std::env::var("FAASIM_SWARM_DEBUG").is_ok() {
            eprintln!("{:#?}\n{:#?}", case.config, case.events);
        }
        let wall = Instant::now();
        match run_turmoil(&scenario(&case), seed) {
            Err(e) => eprintln!("    refused: {e}"),
            Ok(t) => {
                let diffs = compare(&m, &t);
                eprintln!(
                    "    {} differences, skew {:.3}s, {:.1} wall s\n    model {:?} {:?}\n    turmoil {:?} {:?}",
                    diffs.len(),
                    max_skew(&m, &t) as f64 / 1e9,
                    wall.elapsed().as_secs_f64(),
                    counts(&m),
                    names(&m),
                    counts(&t),
                    names(&t)
                );
                for d in diffs.iter().take(4) {
                    eprintln!("      {d}");
                }
            }
        }
    }
}

/// Generated cases the two engines cannot be expected to agree on request by request, and why.
fn skip_reason(case: &SwarmCase, model: &Run) -> Option<&'static str> {
    let c = &case.config;
    let handler = c.function.handler_ns;
    let near = NEAR_NS;
    let timers = [
        c.gateway.upstream_timeout_ns,
        c.gateway.write_timeout_ns,
        c.provider.read_timeout_ns,
        c.provider.write_timeout_ns,
        c.function.watchdog.exec_timeout_ns,
        c.function.watchdog.write_timeout_ns,
        c.function.child.write_timeout_ns,
        c.load.timeout_ns,
    ];
    if timers
        .iter()
        .any(|&t| t > 0 && t + near >= handler.lo_ns && t <= handler.hi_ns + near)
    {
        return Some(
            "a timer within 20 ms of the handler's range: turmoil's 1 ms hops decide the \
             requests at its edge",
        );
    }
    if model.result.end_ns > COST_NS {
        return Some("longer than 300 simulated seconds (turmoil's cost)");
    }
    None
}

/// How close a timer may come to the handler's range.
const NEAR_NS: u64 = 20_000_000;

/// The longest case (simulated time) run on turmoil.
const COST_NS: u64 = 300_000_000_000;

/// Generated cases compared; each runs in about a second or less on turmoil.
const CASES: usize = 20;

/// Eligible seeds that disagree today, with what is known of why. They are run and reported,
/// not asserted; README "Agreement with the model" lists them as open.
const KNOWN: &[(u64, &str)] = &[
    (
        66,
        "requests held through a scale from zero: the pod is routed 3 ms later on turmoil (its \
         control plane acts on 1 ms ticks), so five held requests whose gateway poll fell in those \
         milliseconds wait one more poll \
         interval (108 ms later; tolerance 100 ms)",
    ),
    (
        80,
        "the same class as 66: after a drain left no endpoint, the replacement enters the \
         provider's view at 16.373 s on the model and 16.375 s on turmoil (1 ms control-plane \
         ticks); the gateway's poll at 16.373 s sees it on the model only, so the held requests \
         go one poll interval later on turmoil (102 ms; tolerance 100 ms) and one of them passes \
         the gateway's write timeout",
    ),
];

/// The first `CASES` eligible seeds of swarm-v1 agree on both engines; the skipped ones are
/// counted by reason.
#[test]
fn generated_cases_agree() {
    let wall = Instant::now();
    let mut skipped: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut ran = Vec::new();
    let mut failures = Vec::new();
    let mut seed = 0;
    while ran.len() < CASES && seed < 500 {
        let case = case(seed);
        let m = model(&case);
        seed += 1;
        if let Some(reason) = skip_reason(&case, &m) {
            *skipped.entry(reason).or_default() += 1;
            continue;
        }
        let known = KNOWN
            .iter()
            .find(|(s, _)| *s == case.seed)
            .map(|(_, why)| *why);
        let one = Instant::now();
        let t = run_turmoil(&scenario(&case), case.seed)
            .unwrap_or_else(|e| panic!("seed {}: {e}", case.seed));
        let diffs = compare(&m, &t);
        eprintln!(
            "seed {}: {} differences, skew {:.3} s, {:.1} wall s, {:?} {:?} [{}]",
            case.seed,
            diffs.len(),
            max_skew(&m, &t) as f64 / 1e9,
            one.elapsed().as_secs_f64(),
            counts(&m),
            names(&m),
            case.feature_line()
        );
        if let Some(why) = known {
            *skipped.entry("known difference (KNOWN)").or_default() += 1;
            eprintln!("    known: {why}");
            continue;
        }
        if !diffs.is_empty() {
            failures.push(format!(
                "seed {}:\n  {}",
                case.seed,
                diffs[..diffs.len().min(5)].join("\n  ")
            ));
        }
        ran.push(case.seed);
    }
    eprintln!(
        "{} cases run (seeds {:?}), skipped {:?}, {:.1} wall s",
        ran.len(),
        ran,
        skipped,
        wall.elapsed().as_secs_f64()
    );
    assert_eq!(ran.len(), CASES, "not enough eligible seeds");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Both engines' timelines of one seed (`FAASIM_SWARM_SEED`), for diagnosis.
#[test]
#[ignore]
fn trace_one() {
    let seed: u64 = std::env::var("FAASIM_SWARM_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let case = case(seed);
    let m = simulate(&case.config, &case.events, swarm::LIMIT_NS, seed, true);
    let t = run_turmoil(&scenario(&case), seed).expect("runs");
    for (engine, run) in [("model", &m), ("turmoil", &t)] {
        for line in &run.result.trace {
            if !line.who.starts_with("client") {
                eprintln!(
                    "{engine} {:>10.3} {} {}",
                    line.at_ns as f64 / 1e9,
                    line.who,
                    line.what
                );
            }
        }
    }
}
