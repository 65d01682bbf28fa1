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

fn docs() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs")
}

fn bless() -> bool {
    std::env::var_os("FAASIM_BLESS").is_some()
}

/// The Markdown files of docs/ and docs/rules/, as paths relative to docs/.
fn markdown_pages() -> Vec<String> {
    let mut pages = Vec::new();
    for dir in ["", "rules"] {
        let Ok(entries) = std::fs::read_dir(docs().join(dir)) else {
            continue;
        };
        for entry in entries {
            let name = entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            if name.ends_with(".md") {
                pages.push(if dir.is_empty() {
                    name
                } else {
                    format!("{dir}/{name}")
                });
            }
        }
    }
    pages.sort();
    pages
}

/// Every rule has its own page, docs/rules/RULE.md (the site's page and SARIF's help page), and
/// the page is the generated one; no page is left for a rule that is gone.
#[test]
fn rule_pages_are_current() {
    let dir = docs().join("rules");
    let mut stale = Vec::new();
    let mut expected = std::collections::BTreeSet::new();
    for rule in faasim_model::rules::RULES {
        let name = format!("{}.md", rule.id);
        let page = faasim_sim::explain::rule_doc_page(rule);
        let path = dir.join(&name);
        if bless() {
            std::fs::create_dir_all(&dir).expect("docs/rules/ created");
            std::fs::write(&path, &page).expect("rule page written");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(page.as_str()) {
            stale.push(name.clone());
        }
        expected.insert(name);
    }
    for entry in std::fs::read_dir(&dir).expect("docs/rules/ lists") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        if !expected.contains(&name) {
            if bless() {
                std::fs::remove_file(entry.path()).expect("old rule page removed");
            } else {
                stale.push(format!("{name} (no such rule)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/rules/ is stale ({}): run FAASIM_BLESS=1 cargo test -p faasim-sim --test docs",
        stale.join(", ")
    );
}

/// The pictures the docs show (every `pictures/NAME.svg` a page names) are exactly the files in
/// docs/pictures/, and each is the SVG `faasim run --format svg` draws of scenarios/NAME.yaml
/// now: a change of the model or of the drawing that moves a picture fails here until blessed.
#[test]
fn pictures_are_current() {
    let mut named = std::collections::BTreeSet::new();
    for page in markdown_pages() {
        let text = std::fs::read_to_string(docs().join(&page)).expect("page reads");
        for (at, _) in text.match_indices("pictures/") {
            let rest = &text[at + "pictures/".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
                .unwrap_or(rest.len());
            if let Some(stem) = rest[..end].strip_suffix(".svg") {
                named.insert(stem.to_string());
            }
        }
    }
    assert!(
        named.len() >= 20,
        "the docs show their pictures ({named:?})"
    );
    let dir = docs().join("pictures");
    if bless() {
        std::fs::create_dir_all(&dir).expect("docs/pictures/ created");
    }
    let mut stale = Vec::new();
    for stem in &named {
        let svg = faasim_sim::explain::example_picture(&format!("{stem}.yaml"))
            .unwrap_or_else(|error| panic!("pictures/{stem}.svg: {error}"));
        roxmltree::Document::parse(&svg).expect("the picture is XML");
        assert!(
            svg.len() < 300_000,
            "pictures/{stem}.svg is {} bytes: the docs' pictures stay small",
            svg.len()
        );
        let path = dir.join(format!("{stem}.svg"));
        if bless() {
            std::fs::write(&path, &svg).expect("picture written");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(svg.as_str()) {
            stale.push(format!("{stem}.svg"));
        }
    }
    for entry in std::fs::read_dir(&dir).expect("docs/pictures/ lists") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let shown = name
            .strip_suffix(".svg")
            .is_some_and(|stem| named.contains(stem));
        if !shown {
            if bless() {
                std::fs::remove_file(entry.path()).expect("unused picture removed");
            } else {
                stale.push(format!("{name} (no page shows it)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/pictures/ is stale ({}): run FAASIM_BLESS=1 cargo test -p faasim-sim --test docs",
        stale.join(", ")
    );
}

/// Every rule `faasim rules` lists has a page on the site, listed in SUMMARY.md, that shows the
/// picture of its example run; so does the timeout chain's page.
#[test]
fn every_rule_page_and_the_timeout_chain_show_a_picture() {
    let summary = std::fs::read_to_string(docs().join("SUMMARY.md")).expect("docs/SUMMARY.md");
    let listed = faasim_sim::explain::rule_list();
    assert_eq!(listed.lines().count(), faasim_model::rules::RULES.len());
    for rule in faasim_model::rules::RULES {
        assert!(
            listed
                .lines()
                .any(|l| l.split_whitespace().next() == Some(rule.id)),
            "faasim rules lists {}",
            rule.id
        );
        let page_path = format!("rules/{}.md", rule.id);
        assert!(
            summary.contains(&format!("]({page_path})")),
            "SUMMARY.md lists {page_path}"
        );
        let page = std::fs::read_to_string(docs().join(&page_path))
            .unwrap_or_else(|_| panic!("docs/{page_path} exists"));
        let picture = faasim_sim::explain::picture_path(rule.example);
        assert!(
            page.contains(&format!("](../{picture})")),
            "docs/{page_path} shows {picture}"
        );
        assert!(docs().join(&picture).is_file(), "docs/{picture} exists");
    }
    let timeouts = std::fs::read_to_string(docs().join("timeouts.md")).expect("timeouts.md");
    assert!(
        timeouts.contains("](pictures/"),
        "docs/timeouts.md shows a picture"
    );
}

/// SUMMARY.md, the site's table of contents, lists every page of docs/ and docs/rules/, and
/// names no page that does not exist (mdBook would otherwise leave it out of the site, or, with
/// `create-missing = false`, fail).
#[test]
fn the_summary_lists_every_page() {
    let summary = std::fs::read_to_string(docs().join("SUMMARY.md")).expect("docs/SUMMARY.md");
    let mut linked = std::collections::BTreeSet::new();
    for (at, _) in summary.match_indices("](") {
        let rest = &summary[at + 2..];
        let target = &rest[..rest.find(')').expect("a closed link")];
        assert!(
            docs().join(target).is_file(),
            "SUMMARY.md links {target}, which is missing"
        );
        linked.insert(target.to_string());
    }
    for page in markdown_pages() {
        if page != "SUMMARY.md" {
            assert!(linked.contains(&page), "SUMMARY.md lists {page}");
        }
    }
}

/// The docs stand on their own: no page links to or names the project's private notes.
#[test]
fn the_docs_do_not_point_outside_the_project() {
    for page in markdown_pages() {
        let text = std::fs::read_to_string(docs().join(&page)).expect("page reads");
        assert!(!text.contains("../shared"), "docs/{page} names ../shared");
    }
}
