//! Criterion benches of whole scenarios: the time of one `simulate` call, with throughput in
//! simulated events (criterion's "elem/s" is simulated events per wall second).
//!
//! Scenario files are read once, outside the timed loop. The event count per run is measured
//! from one untimed run (runs are deterministic, so every run has the same count).
//!
//! `cargo bench -p faasim-benches -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use faasim_benches::Prepared;

fn bench_scenario(c: &mut Criterion, label: &str, file: &str, tracing: bool, samples: usize) {
    bench_prepared(c, label, file, Prepared::load(file), tracing, samples);
}

fn bench_prepared(
    c: &mut Criterion,
    label: &str,
    file: &str,
    prepared: Prepared,
    tracing: bool,
    samples: usize,
) {
    let probe = prepared.run(tracing);
    assert!(
        probe.passed(),
        "{file} no longer passes: {:?}",
        probe.violations
    );
    let events = probe.result.events;
    let sim_s = probe.result.end_ns as f64 / 1e9;
    eprintln!(
        "{label}: {events} simulated events, {} requests, {sim_s:.3} simulated s per run",
        probe.tally.requests
    );
    let mut group = c.benchmark_group("simulate");
    group.sample_size(samples);
    if samples <= 10 {
        // Long runs: every sample gets the same iteration count, so the ten samples fit the
        // measurement time (linear sampling gives sample k k units: 55 units instead of 10).
        group.sampling_mode(SamplingMode::Flat);
    }
    group.throughput(Throughput::Elements(events));
    group.bench_function(label, |b| {
        b.iter(|| {
            let run = prepared.run(black_box(tracing));
            black_box(run.result.events)
        })
    });
    group.finish();
}

fn go_long(c: &mut Criterion) {
    bench_scenario(c, "go-long", "go-long.yaml", false, 100);
}

fn go_long_traced(c: &mut Criterion) {
    bench_scenario(c, "go-long-traced", "go-long.yaml", true, 100);
}

fn rolling_update(c: &mut Criterion) {
    bench_scenario(
        c,
        "rolling-update-200rps",
        "rolling-update-200rps.yaml",
        false,
        10,
    );
}

/// The hour-long scenario's steady state, one minute of it (600 000 requests, streamed): the
/// hour's goal is 30 s, so about 0.5 s here (docs/performance.md).
fn hour_steady_minute(c: &mut Criterion) {
    let file = "minute-10k-rps-1000-replicas.yaml";
    bench_prepared(
        c,
        "hour-steady-minute",
        file,
        Prepared::load_bench(file),
        false,
        10,
    );
}

criterion_group!(
    benches,
    go_long,
    go_long_traced,
    rolling_update,
    hour_steady_minute
);
criterion_main!(benches);
