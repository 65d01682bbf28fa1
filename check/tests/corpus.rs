//! `faasim check` over every entry of the corpus of real public files (`tests/corpus`, see its
//! README): the file alone, and with the chart's `values.yaml` (values-only entries with
//! 24's stack), compared with the committed output in `tests/corpus/expected/NN.txt`.
//! `FAASIM_BLESS_CORPUS=1 cargo test -p faasim-check --test corpus` rewrites them; review the
//! diff and the README's table before committing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use faasim_check::command::{CheckArgs, check};

/// Each entry: its directory, the working directory within it, and the runs (files in order).
const ENTRIES: &[(&str, &[&[&str]])] = &[
    (
        "01-store-functions",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "02-store-functions-amd64",
        &[&["stack-amd64.yml"], &["stack-amd64.yml", VALUES]],
    ),
    ("03-ofc-stack", &[&["stack.yml"], &["stack.yml", VALUES]]),
    ("04-ofc-gitlab", &[&["gitlab.yml"], &["gitlab.yml", VALUES]]),
    (
        "05-ofc-dashboard",
        &[&["dashboard/stack.yml"], &["dashboard/stack.yml", VALUES]],
    ),
    (
        "06-workshop-hmac-protected",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "07-workshop-issue-bot",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "08-chart-values",
        &[&["values.yaml"], &[GUMROAD, "values.yaml"]],
    ),
    (
        "09-chart-values-pro",
        &[
            &[VALUES, "values-pro.yaml"],
            &[GUMROAD, VALUES, "values-pro.yaml"],
        ],
    ),
    (
        "10-gateway-dep",
        &[&["gateway-dep.yml"], &[GUMROAD, "gateway-dep.yml"]],
    ),
    (
        "11-faas-netes-alpine-fn",
        &[&["alpine-fn.yaml"], &["alpine-fn.yaml", VALUES]],
    ),
    (
        "12-operator-nodeinfo",
        &[&["nodeinfo.yaml"], &["nodeinfo.yaml", VALUES]],
    ),
    (
        "13-operator-kubesec",
        &[&["kubesec.yaml"], &["kubesec.yaml", VALUES]],
    ),
    ("14-certifier", &[&["stack.yml"], &["stack.yml", VALUES]]),
    (
        "15-faas-sample-functions",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "16-faas-cli-stack",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "17-faas-cli-inproc",
        &[&["stack.yaml"], &["stack.yaml", VALUES]],
    ),
    (
        "18-veba-java11",
        &[&["veeam-vm-backup.yml"], &["veeam-vm-backup.yml", VALUES]],
    ),
    (
        "19-veba-python3-flask",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "20-veba-python3-http",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "21-veba-golang-http",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "22-veba-powercli",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "23-veba-python3-classic",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "24-gumroad-node20",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "25-comment-vibes",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "26-leaderboard-app",
        &[&["stack.yml"], &["stack.yml", VALUES]],
    ),
    (
        "27-metaspan-node12",
        &[
            &["w3f-1kv-prometheus-exporters.yml"],
            &["w3f-1kv-prometheus-exporters.yml", VALUES],
        ],
    ),
    ("28-derek", &[&["derek.yml"], &["derek.yml", VALUES]]),
];

/// The chart's values, from an entry's directory.
const VALUES: &str = "../08-chart-values/values.yaml";
/// 24's stack, paired with the values-only entries.
const GUMROAD: &str = "../24-gumroad-node20/stack.yml";

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

/// What `faasim check --color never` prints for each run of an entry, with its command line
/// and exit code.
fn output(dir: &str, runs: &[&[&str]]) -> String {
    let mut out = String::new();
    for files in runs {
        let args = CheckArgs {
            paths: files.iter().map(|f| f.to_string()).collect(),
            ..CheckArgs::default()
        };
        let outcome = check(&args, corpus().join(dir), BTreeMap::new(), None);
        let flags: Vec<String> = files.iter().map(|f| format!("-f {f}")).collect();
        let _ = writeln!(
            out,
            "$ cd check/tests/corpus/{dir} && faasim check --color never {}\n(exit {})\n{}{}",
            flags.join(" "),
            outcome.code,
            outcome.stdout,
            outcome.stderr
        );
    }
    out
}

#[test]
fn every_corpus_entry_gives_its_committed_findings() {
    let bless = std::env::var_os("FAASIM_BLESS_CORPUS").is_some();
    let expected_dir = corpus().join("expected");
    let mut differ = Vec::new();
    for (dir, runs) in ENTRIES {
        assert!(corpus().join(dir).is_dir(), "{dir}");
        let got = output(dir, runs);
        let path = expected_dir.join(format!("{}.txt", &dir[..2]));
        if bless {
            std::fs::create_dir_all(&expected_dir).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if got != want {
            differ.push(format!("{dir}:\n{got}"));
        }
    }
    assert!(
        differ.is_empty(),
        "{} corpus entries differ from tests/corpus/expected (FAASIM_BLESS_CORPUS=1 rewrites \
         them):\n{}",
        differ.len(),
        differ.join("\n")
    );
}

#[test]
fn every_corpus_directory_is_run() {
    let mut dirs: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.as_bytes().first().is_some_and(u8::is_ascii_digit))
        .collect();
    dirs.sort();
    let listed: Vec<String> = ENTRIES.iter().map(|(d, _)| d.to_string()).collect();
    assert_eq!(dirs, listed);
}
