//! faasim's engine and everything around the pure model: the event queue and PRNG (`engine`),
//! the world that wires the components (`world`), scenario loading (`scenario`), and the text
//! and JSON reports (`report`), writing scenarios back (`emit`), the swarm generator
//! (`swarm`), the explorer (`explore`) and its failures file (`failures`), and the regression
//! seeds (`regression`).

pub mod emit;
pub mod engine;
pub mod explain;
pub mod explore;
pub mod failures;
pub mod input_file;
pub mod picture;
pub mod progress;
pub mod regression;
pub mod report;
pub mod scenario;
pub mod swarm;
pub mod world;
pub mod yaml;

use faasim_model::config::Config;
use faasim_model::ledger::Outcome;
use faasim_model::properties::{self, PodFate, Violation};
use faasim_model::schedule::Event;
use faasim_model::tally::Tally;
use faasim_model::time::{NS_PER_S, Nanos};

use crate::engine::SeedChooser;
use crate::world::{Mutation, PodEnd, RunResult, World};

/// Simulated time a run may last when the scenario sets no `limit`.
pub const DEFAULT_LIMIT_NS: Nanos = 3600 * NS_PER_S;

/// Seed used when neither the scenario nor the command line gives one.
pub const DEFAULT_SEED: u64 = 1;

/// A finished run and its verdict.
#[derive(Clone, Debug)]
pub struct Run {
    /// The seed it ran with.
    pub seed: u64,
    /// What happened.
    pub result: RunResult,
    /// Violated properties.
    pub violations: Vec<Violation>,
    /// The ledger folded: what the reports count (a streamed run's own, else the ledger's).
    pub tally: Tally,
}

impl Run {
    /// A run's result with the properties it violates, judged from its ledger and the fates of
    /// its pods (either engine's result).
    pub fn judged(seed: u64, mut result: RunResult) -> Run {
        let fates: Vec<PodFate> = result
            .pods
            .iter()
            .map(|p| PodFate {
                name: p.name.clone(),
                terminating: p.terminating,
                killed: p.end == PodEnd::Killed,
            })
            .collect();
        let tally = result
            .tally
            .take()
            .unwrap_or_else(|| Tally::of(&result.ledger));
        let mut violations = properties::evaluate(&tally, &fates);
        if let Some(invocations) = &result.invocations {
            violations.extend(properties::evaluate_async(&result.ledger, invocations));
        }
        Run {
            seed,
            result,
            violations,
            tally,
        }
    }

    /// The run streamed: past the ledger's limit it folded its records as they ended and kept
    /// none (`result.ledger` is empty; `tally` has what the reports print).
    pub fn streamed(&self) -> bool {
        self.result.ledger.is_empty() && self.tally.requests > 0
    }

    /// True when no property is violated.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Requests still in flight when the run stopped (outcome `unfinished`): the run was cut
    /// by its `limit`.
    pub fn unfinished(&self) -> usize {
        self.tally.count(Outcome::Unfinished) as usize
    }

    /// The run's verdict: `fail` when a property is violated, else `unfinished` when the limit
    /// cut requests short (what became of them is unknown), else `pass`.
    pub fn verdict(&self) -> Verdict {
        if !self.passed() {
            Verdict::Fail
        } else if self.unfinished() > 0 {
            Verdict::Unfinished
        } else {
            Verdict::Pass
        }
    }
}

/// What a run says about its scenario; `faasim run` exits 0 only on `Pass`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every request ended and no property is violated.
    Pass,
    /// A property is violated.
    Fail,
    /// No property is violated by the requests that ended, but the run stopped at its limit
    /// with requests in flight: it proves nothing about them.
    Unfinished,
}

impl Verdict {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unfinished => "unfinished",
        }
    }
}

/// Simulate `config` and `events` with `seed`. `tracing` records the timeline.
pub fn simulate(
    config: &Config,
    events: &[Event],
    limit_ns: Nanos,
    seed: u64,
    tracing: bool,
) -> Run {
    simulate_mutated(config, events, limit_ns, seed, tracing, Mutation::None)
}

/// Simulate a loaded scenario at `seed` within its own `limit` (or [`DEFAULT_LIMIT_NS`]).
pub fn simulate_scenario(scenario: &scenario::Scenario, seed: u64, tracing: bool) -> Run {
    simulate(
        &scenario.config,
        &scenario.events,
        scenario.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
        seed,
        tracing,
    )
}

/// `simulate_scenario` telling `observer` how far it has got while it runs (for a progress
/// bar); the run is the same, byte for byte.
pub fn simulate_scenario_observed(
    scenario: &scenario::Scenario,
    seed: u64,
    tracing: bool,
    observer: progress::Observer<'_>,
) -> Run {
    let mut chooser = SeedChooser::new(seed);
    let result = World::new(
        scenario.config.clone(),
        scenario.events.clone(),
        scenario.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
        &mut chooser,
        tracing,
    )
    .with_observer(observer)
    .run();
    Run::judged(seed, result)
}

/// `simulate` streamed whatever the run's size, as a run past
/// `faasim_model::limits::LEDGER_KEPT_MAX` requests is: no timeline, no ledger kept, the
/// reports from the tally folded as requests retired (tests compare it with the kept run).
pub fn simulate_streamed(config: &Config, events: &[Event], limit_ns: Nanos, seed: u64) -> Run {
    simulate_streamed_retiring_every(config, events, limit_ns, seed, world::RETIRE_EVERY_EVENTS)
}

/// `simulate_streamed`, retiring settled requests every `every` events instead of every
/// [`world::RETIRE_EVERY_EVENTS`]: a test that retirement keeps only what is in flight open.
pub fn simulate_streamed_retiring_every(
    config: &Config,
    events: &[Event],
    limit_ns: Nanos,
    seed: u64,
    every: u64,
) -> Run {
    simulate_shaped(config, events, limit_ns, seed, false, |world| {
        world.streamed().retiring_every(every)
    })
}

/// `simulate` with the timeline on, retiring settled requests every `every` events instead of
/// every [`world::RETIRE_EVERY_EVENTS`]: a test that the moment of retirement changes nothing.
pub fn simulate_retiring_every(
    config: &Config,
    events: &[Event],
    limit_ns: Nanos,
    seed: u64,
    every: u64,
) -> Run {
    simulate_shaped(config, events, limit_ns, seed, true, |world| {
        world.retiring_every(every)
    })
}

/// Simulate with the world shaped by `shape` before it runs.
fn simulate_shaped(
    config: &Config,
    events: &[Event],
    limit_ns: Nanos,
    seed: u64,
    tracing: bool,
    shape: impl FnOnce(World<'_>) -> World<'_>,
) -> Run {
    let mut chooser = SeedChooser::new(seed);
    let world = World::new(
        config.clone(),
        events.to_vec(),
        limit_ns,
        &mut chooser,
        tracing,
    );
    Run::judged(seed, shape(world).run())
}

/// `simulate` with a deliberate bug planted (mutation testing of the property tests).
pub fn simulate_mutated(
    config: &Config,
    events: &[Event],
    limit_ns: Nanos,
    seed: u64,
    tracing: bool,
    mutation: Mutation,
) -> Run {
    simulate_shaped(config, events, limit_ns, seed, tracing, |world| {
        world.with_mutation(mutation)
    })
}
