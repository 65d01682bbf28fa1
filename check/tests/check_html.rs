//! `faasim check -o html` as a person would look at it: the page parsed with an XML parser, one
//! finding per finding of the JSON output, the picture of each witness run inline in its finding
//! (and none in a finding without a witness), the pictures drawn from the witness's own run
//! (their bars are its requests, coloured by its outcomes), ids unique across pictures, and the
//! same inputs giving the same bytes. Over the fixtures of check/tests/fixtures/check/.

use std::collections::BTreeSet;

use faasim_check::output::Format;
use roxmltree::{Document, Node};

#[path = "support/run.rs"]
mod support_run;
use support_run::run;

/// The page starts with `<!DOCTYPE html>`.
fn parse(text: &str) -> Document<'_> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    Document::parse_with_options(text, options).expect("the page is well-formed XML")
}

fn classes<'a>(node: &Node<'a, '_>) -> Vec<&'a str> {
    node.attribute("class")
        .map(|c| c.split_whitespace().collect())
        .unwrap_or_default()
}

/// A finding of the JSON output: its rule, whether it has a counterexample, and the witness
/// run's status counts.
type JsonFinding = (String, bool, Vec<(String, u64)>);

/// Every finding of the JSON output, in output order.
fn json_findings(paths: &[&str], edition: &str) -> Vec<JsonFinding> {
    let json = run(paths, edition, Format::Json);
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let mut out = Vec::new();
    for function in value["functions"].as_array().expect("functions") {
        for finding in function["findings"].as_array().expect("findings") {
            let cx = &finding["counterexample"];
            let statuses = cx["statuses"]
                .as_array()
                .map(|s| {
                    s.iter()
                        .map(|s| {
                            (
                                s["status"].as_str().expect("status").to_string(),
                                s["count"].as_u64().expect("count"),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push((
                finding["rule"].as_str().expect("rule").to_string(),
                !cx.is_null(),
                statuses,
            ));
        }
    }
    out
}

/// Checks the page of `paths` against their JSON findings; returns the request bars' outcome
/// classes of each picture, in finding order.
fn check_page(paths: &[&str], edition: &str) -> Vec<Vec<String>> {
    let outcome = run(paths, edition, Format::Html);
    assert_eq!(outcome.stderr, "");
    let doc = parse(&outcome.stdout);
    let expected = json_findings(paths, edition);
    let articles: Vec<Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("article") && classes(n).contains(&"finding"))
        .collect();
    assert_eq!(articles.len(), expected.len(), "one finding per finding");
    let mut ids = BTreeSet::new();
    for node in doc.descendants() {
        if let Some(id) = node.attribute("id") {
            assert!(ids.insert(id.to_string()), "id {id} is unique");
        }
    }
    let mut outcomes = Vec::new();
    for (article, (rule, witnessed, statuses)) in articles.iter().zip(&expected) {
        assert_eq!(article.attribute("data-rule"), Some(rule.as_str()));
        let pictures: Vec<Node> = article
            .descendants()
            .filter(|n| n.has_tag_name("svg"))
            .collect();
        assert_eq!(
            pictures.len(),
            usize::from(*witnessed),
            "{rule}: one picture per witnessed finding"
        );
        let text: String = article
            .descendants()
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(text.contains("Fix:"), "{rule}: the fix is shown");
        let Some(picture) = pictures.first() else {
            continue;
        };
        // The bars are the witness's requests: as many as its statuses count.
        let bars: Vec<Node> = picture
            .descendants()
            .filter(|n| n.has_tag_name("rect") && classes(n).contains(&"req"))
            .collect();
        let requests: u64 = statuses.iter().map(|(_, count)| count).sum();
        assert_eq!(bars.len() as u64, requests, "{rule}: a bar per request");
        assert!(
            text.contains("faasim run FILE --seed"),
            "{rule}: the scenario to rerun is shown"
        );
        outcomes.push(
            bars.iter()
                .map(|b| classes(b)[1].to_string())
                .collect::<Vec<_>>(),
        );
    }
    outcomes
}

#[test]
fn go_long_behind_the_chart_defaults_draws_each_finding_with_its_502s() {
    let paths = ["go-long/stack.yml", "chart-values.yaml"];
    let outcomes = check_page(&paths, "pro");
    assert!(!outcomes.is_empty(), "the findings have witnesses");
    // exec-within-upstream's witness: the gateway's 502 at 60 s, a timed-out bar.
    assert!(
        outcomes
            .iter()
            .any(|bars| bars.iter().any(|o| o == "timed-out")),
        "{outcomes:?}"
    );
    let page = run(&paths, "pro", Format::Html).stdout;
    assert!(page.contains("href=\"docs/rules.md#exec-within-upstream\""));
    assert!(page.contains("chart-values.yaml:30:20"), "file:line:col");
}

#[test]
fn go_long_on_ce_draws_the_five_calls_the_grace_kills() {
    let outcomes = check_page(&["go-long/stack.yml", "timeout-tutorial/values.yaml"], "ce");
    assert!(
        outcomes
            .iter()
            .any(|bars| bars.iter().filter(|o| *o == "dropped").count() == 5),
        "five dropped bars: {outcomes:?}"
    );
}

#[test]
fn a_clean_stack_has_no_picture_and_says_ok() {
    let outcome = run(
        &["go-long/stack.yml", "timeout-tutorial/values.yaml"],
        "pro",
        Format::Html,
    );
    assert_eq!(outcome.code, 0);
    let doc = parse(&outcome.stdout);
    assert_eq!(
        doc.descendants().filter(|n| n.has_tag_name("svg")).count(),
        0
    );
    assert!(
        doc.descendants()
            .any(|n| classes(&n).contains(&"ok") && n.text() == Some("ok: no rule broken"))
    );
}

#[test]
fn several_functions_and_their_input_findings_each_get_their_page_part() {
    let pictures = check_page(&["several.yml"], "ce");
    assert!(!pictures.is_empty());
}

#[test]
fn the_same_inputs_give_the_same_page() {
    let paths = ["go-long/stack.yml", "timeout-tutorial/values.yaml"];
    assert_eq!(
        run(&paths, "ce", Format::Html).stdout,
        run(&paths, "ce", Format::Html).stdout
    );
}
