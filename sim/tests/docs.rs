//! docs/rules.md is the generated text of `faasim explain` for every rule: checked here, so the
//! docs cannot drift from the rules or from what their example scenarios do.

use std::path::Path;

#[test]
fn rules_md_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md");
    let generated = faasim_sim::explain::rules_document();
    if std::env::var_os("FAASIM_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("docs/rules.md written");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/rules.md is stale: run FAASIM_BLESS=1 cargo test -p faasim-sim --test docs"
    );
}

#[test]
fn every_rule_has_a_page_with_a_timeline() {
    for rule in faasim_model::rules::RULES {
        let page = faasim_sim::explain::rule_page(rule);
        assert!(page.contains(rule.inequality));
        assert!(page.contains("```text"), "{} has a timeline", rule.id);
        assert!(!page.contains("could not run"), "{page}");
    }
}

/// Every scenario docs/timeouts.md cites exists and is run by a test.
#[test]
fn every_scenario_the_timeout_chain_cites_runs_in_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let doc = std::fs::read_to_string(root.join("docs/timeouts.md")).expect("docs/timeouts.md");
    let mut tests = String::new();
    for entry in std::fs::read_dir(root.join("sim/tests")).expect("sim/tests") {
        tests.push_str(&std::fs::read_to_string(entry.expect("entry").path()).unwrap_or_default());
    }
    let rule_examples: Vec<&str> = faasim_model::rules::RULES
        .iter()
        .map(|r| r.example)
        .collect();
    let mut cited = 0;
    for word in doc.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.')) {
        let Some(name) = word.strip_suffix(".yaml") else {
            continue;
        };
        let file = format!("{name}.yaml");
        assert!(
            root.join("scenarios").join(&file).is_file(),
            "docs/timeouts.md cites missing {file}"
        );
        assert!(
            tests.contains(&file) || rule_examples.contains(&file.as_str()),
            "{file} is cited but no test runs it"
        );
        cited += 1;
    }
    assert!(cited >= 15, "the page cites its scenarios ({cited})");
}
