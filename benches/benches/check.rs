//! `faasim check` on a stack file of 50 functions behind the OpenFaaS chart's default gateway
//! values: reading, the rules, a simulated counterexample and a safe-value search per finding,
//! and the human report. The aim: under a second. Then 1 000 and 4 000 functions, whose ratio
//! shows whether `check` is linear in the number of functions (4 000 took 7.6 s when grouping
//! the findings was quadratic; the aim is 10 000 in under 2 s).

use std::collections::BTreeMap;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use faasim_benches::stack_file;
use faasim_check::command::{CheckArgs, check};

fn bench_check(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("faasim-bench-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("stack.yml"), stack_file(50)).expect("stack file");
    let values = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../check/tests/fixtures/check/chart-values.yaml");
    std::fs::copy(values, dir.join("values.yaml")).expect("chart values");
    let args = CheckArgs {
        paths: vec!["stack.yml".to_string(), "values.yaml".to_string()],
        edition: Some("pro".to_string()),
        ..CheckArgs::default()
    };
    let first = check(&args, dir.clone(), BTreeMap::new(), None);
    assert_eq!(first.code, 1, "the stack has findings: {}", first.stderr);
    assert!(first.stdout.contains("50 functions"), "{}", first.stdout);
    let mut group = c.benchmark_group("check");
    group.sample_size(10);
    group.bench_function("stack-50-functions", |b| {
        b.iter(|| check(&args, dir.clone(), BTreeMap::new(), None))
    });
    for count in [1_000, 4_000] {
        std::fs::write(dir.join(format!("stack-{count}.yml")), stack_file(count))
            .expect("stack file");
        let args = CheckArgs {
            paths: vec![format!("stack-{count}.yml"), "values.yaml".to_string()],
            edition: Some("pro".to_string()),
            ..CheckArgs::default()
        };
        let first = check(&args, dir.clone(), BTreeMap::new(), None);
        assert!(
            first.stdout.contains(&format!("{count} functions")),
            "{}",
            first.stderr
        );
        group.bench_function(format!("stack-{count}-functions"), |b| {
            b.iter(|| check(&args, dir.clone(), BTreeMap::new(), None))
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
