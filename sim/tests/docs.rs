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
