//! Behaviour pinned bit for bit: the SHA-256 of the JSON report (timeline included) that
//! `faasim run scenarios/NAME --format json` prints for every shipped scenario on the model
//! engine. A refactor that must not change behaviour keeps every line of
//! `scenarios/report-hashes.sha256`; a change meant to alter a run updates the lines it
//! alters, in its own commit that says why (`FAASIM_BLESS=1` rewrites the model lines).
//! The turmoil engine's lines are checked by `turmoil-engine/tests/differential.rs`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use faasim_sim::report::{self, Header};
use faasim_sim::scenario;
use faasim_sim::{
    DEFAULT_LIMIT_NS, DEFAULT_SEED, simulate, simulate_retiring_every, simulate_scenario,
};
use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `engine/file` to hex digest, as the file lists them.
fn pinned() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join("scenarios/report-hashes.sha256"))
        .expect("scenarios/report-hashes.sha256 is committed");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (hash, name) = l.split_once("  ").expect("`HASH  engine/file` lines");
            (name.to_string(), hash.to_string())
        })
        .collect()
}

/// The JSON report of `file` on the model, as `faasim run scenarios/FILE --format json`.
fn model_report(file: &str) -> String {
    let source = format!("scenarios/{file}");
    let text = std::fs::read_to_string(root().join(&source)).expect("scenario reads");
    let loaded = scenario::parse(&text, &source).expect("scenario parses");
    let run = simulate_scenario(&loaded, loaded.seed.unwrap_or(DEFAULT_SEED), true);
    report::json(&run, &Header::of_run(&loaded, &run))
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn shipped() -> Vec<String> {
    common::shipped()
}

#[test]
fn every_shipped_scenario_reports_its_pinned_hash_on_the_model() {
    let pinned = pinned();
    let observed: BTreeMap<String, String> = shipped()
        .iter()
        .map(|file| (format!("model/{file}"), sha256_hex(&model_report(file))))
        .collect();
    if std::env::var_os("FAASIM_BLESS").is_some() {
        let mut lines: BTreeMap<String, String> = pinned
            .into_iter()
            .filter(|(name, _)| !name.starts_with("model/"))
            .collect();
        lines.extend(observed);
        let mut text = String::from(
            "# SHA-256 of `faasim run scenarios/FILE --format json` (engine model or turmoil).\n\
             # Checked by sim/tests/report_hashes.rs and turmoil-engine/tests/differential.rs.\n",
        );
        for (name, hash) in lines {
            text.push_str(&format!("{hash}  {name}\n"));
        }
        std::fs::write(root().join("scenarios/report-hashes.sha256"), text).expect("writes");
        return;
    }
    let mut differ = Vec::new();
    for (name, hash) in &observed {
        match pinned.get(name) {
            Some(expected) if expected == hash => {}
            Some(expected) => differ.push(format!("{name}: pinned {expected}, now {hash}")),
            None => differ.push(format!("{name}: not pinned (now {hash})")),
        }
    }
    for name in pinned.keys().filter(|n| n.starts_with("model/")) {
        if !observed.contains_key(name) {
            differ.push(format!("{name}: pinned but no longer shipped"));
        }
    }
    assert!(
        differ.is_empty(),
        "reports changed:\n{}\n(an intended change: FAASIM_BLESS=1 cargo test -p faasim-sim \
         --test report_hashes, in its own commit with its reason)",
        differ.join("\n")
    );
}

/// Retiring settled requests changes nothing a report shows, however often it happens: with
/// a retirement after every event (the run does one every 4 096), every synchronous
/// scenario's JSON report keeps its pinned hash. (An asynchronous run never retires.)
#[test]
fn every_report_keeps_its_hash_when_requests_retire_after_every_event() {
    let pinned = pinned();
    let mut checked = 0;
    for file in shipped() {
        let source = format!("scenarios/{file}");
        let text = std::fs::read_to_string(root().join(&source)).expect("scenario reads");
        let loaded = scenario::parse(&text, &source).expect("scenario parses");
        if loaded.config.asynchronous.is_some() {
            continue;
        }
        let run = simulate_retiring_every(
            &loaded.config,
            &loaded.events,
            loaded.limit_ns.unwrap_or(DEFAULT_LIMIT_NS),
            loaded.seed.unwrap_or(DEFAULT_SEED),
            1,
        );
        let hash = sha256_hex(&report::json(&run, &Header::of_run(&loaded, &run)));
        assert_eq!(
            Some(&hash),
            pinned.get(&format!("model/{file}")),
            "{file}: retiring after every event changed the report"
        );
        checked += 1;
    }
    assert!(checked >= 40, "most scenarios are synchronous: {checked}");
}

/// The pin is worth something only if it sees a change: a different seed changes the report.
#[test]
fn the_hash_sees_a_one_request_difference() {
    let file = "mechanism-03-keep-alive-race.yaml";
    let source = format!("scenarios/{file}");
    let text = std::fs::read_to_string(root().join(&source)).expect("scenario reads");
    let mut loaded = scenario::parse(&text, &source).expect("scenario parses");
    loaded.config.load.requests -= 1;
    let run = simulate(&loaded.config, &loaded.events, DEFAULT_LIMIT_NS, 16, true);
    let changed = sha256_hex(&report::json(&run, &Header::of_run(&loaded, &run)));
    assert_ne!(Some(&changed), pinned().get(&format!("model/{file}")));
}
