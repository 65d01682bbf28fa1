//! The pictures of `faasim run --format svg|html|perfetto`, checked as a person would look at
//! them: the SVG and the HTML parsed with an XML parser, the bars found by their class and
//! placed on the time axis by its own ticks; the Perfetto file checked against the Trace Event
//! Format's shape; every shipped scenario drawn in every format; the same seed giving the same
//! bytes; the rolling update's picture and page under 5 MB.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use faasim_model::time::NS_PER_MS;
use faasim_sim::report::Header;
use faasim_sim::{DEFAULT_SEED, Run, picture, scenario, simulate_scenario};
use roxmltree::{Document, Node};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The run of `scenarios/FILE` and its scenario, as `faasim run` does it.
fn run(file: &str) -> (Run, Header, scenario::Scenario) {
    let source = format!("scenarios/{file}");
    let text = std::fs::read_to_string(root().join(&source)).expect("scenario reads");
    let loaded = scenario::parse(&text, &source).expect("scenario parses");
    let run = simulate_scenario(&loaded, loaded.seed.unwrap_or(DEFAULT_SEED), true);
    let header = Header::of_run(&loaded, &run);
    (run, header, loaded)
}

fn svg_of(file: &str) -> String {
    let (run, header, loaded) = run(file);
    picture::svg(&run, &header, &loaded.events)
}

/// The page starts with `<!DOCTYPE html>`.
fn html_options<'a>() -> roxmltree::ParsingOptions<'a> {
    roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    }
}

fn classes<'a>(node: &Node<'a, '_>) -> Vec<&'a str> {
    node.attribute("class")
        .map(|c| c.split_whitespace().collect())
        .unwrap_or_default()
}

fn attr(node: &Node, name: &str) -> f64 {
    node.attribute(name)
        .unwrap_or_else(|| panic!("<{}> has {name}", node.tag_name().name()))
        .parse()
        .expect("a number")
}

/// x of simulated time `ns`, read off the picture's own axis (two of its ticks).
fn x_of(doc: &Document, ns: u64) -> f64 {
    let ticks: Vec<(f64, f64)> = doc
        .descendants()
        .filter(|n| classes(n).contains(&"tick"))
        .map(|tick| {
            let at: f64 = tick
                .attribute("data-ns")
                .expect("data-ns")
                .parse()
                .expect("ns");
            let line = tick
                .children()
                .find(|c| c.has_tag_name("line"))
                .expect("a tick line");
            (at, attr(&line, "x1"))
        })
        .collect();
    assert!(ticks.len() >= 3, "an axis with ticks");
    let (t0, x0) = ticks[0];
    let (t1, x1) = ticks[ticks.len() - 1];
    x0 + (ns as f64 - t0) * (x1 - x0) / (t1 - t0)
}

/// Every request bar: (id, outcome, left x, right x).
fn bars(doc: &Document) -> Vec<(u32, String, f64, f64)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("rect") && classes(n).first() == Some(&"req"))
        .map(|bar| {
            let id = bar
                .attribute("id")
                .and_then(|id| id.strip_prefix("req-"))
                .expect("req-N id")
                .parse()
                .expect("a number");
            let x = attr(&bar, "x");
            (id, classes(&bar)[1].to_string(), x, x + attr(&bar, "width"))
        })
        .collect()
}

#[test]
fn go_long_ce_shows_five_cut_at_the_sigkill_and_five_answered_after_the_cold_start() {
    let svg = svg_of("go-long-ce.yaml");
    let doc = Document::parse(&svg).expect("the SVG is well-formed XML");
    let sigkill = x_of(&doc, 60_000 * NS_PER_MS);
    let answered = x_of(&doc, 154_602 * NS_PER_MS);
    let bars = bars(&doc);
    assert_eq!(bars.len(), 10, "a bar per request: {bars:?}");
    let dropped: Vec<_> = bars.iter().filter(|b| b.1 == "dropped").collect();
    let ok: Vec<_> = bars.iter().filter(|b| b.1 == "ok").collect();
    assert_eq!(dropped.len(), 5, "{bars:?}");
    assert_eq!(ok.len(), 5, "{bars:?}");
    for (id, _, left, right) in &dropped {
        assert!(*id < 5, "the first wave is cut: {id}");
        assert!(*left < x_of(&doc, NS_PER_MS), "sent at 0: {left}");
        assert!(
            (right - sigkill).abs() <= 1.0,
            "cut at 60 s: {right} vs {sigkill}"
        );
    }
    for (id, _, left, right) in &ok {
        assert!(*id >= 5, "the second wave succeeds: {id}");
        assert!((left - sigkill).abs() <= 1.0, "sent at the SIGKILL: {left}");
        assert!(
            (right - answered).abs() <= 1.0,
            "answered at 154.6 s: {right}"
        );
    }
    // The pod's lane: killed at 60 s, a SIGKILL mark there, its listener's close at 35 s.
    let lane = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("pod-go-long-r1-0"))
        .expect("a lane for the first pod");
    let killed = lane
        .descendants()
        .find(|n| classes(n) == ["end", "killed"])
        .expect("a killed mark");
    assert!(killed.text().is_none());
    let sigkill_mark = lane
        .descendants()
        .find(|n| {
            classes(n) == ["mark", "signal"]
                && n.descendants()
                    .any(|t| t.text().is_some_and(|t| t.contains("SIGKILL")))
        })
        .expect("a SIGKILL mark");
    assert!((attr(&sigkill_mark, "x1") - sigkill).abs() <= 1.0);
    for phase in ["starting", "ready", "terminating", "draining"] {
        assert!(
            lane.descendants().any(|n| classes(&n) == ["phase", phase]),
            "the first pod was {phase}"
        );
    }
    assert!(
        lane.descendants()
            .any(|n| classes(&n) == ["band", "lag-remove"]),
        "the endpoint view's lag after the deletion"
    );
    // The second pod, started by the scale from zero, is still running.
    let second = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("pod-go-long-r1-1"))
        .expect("a lane for the second pod");
    assert!(!second.descendants().any(|n| classes(&n).contains(&"end")));
    // The scale to zero at 30 s is a vertical line.
    let event = doc
        .descendants()
        .find(|n| classes(n) == ["event"])
        .expect("the scenario event");
    assert_eq!(event.attribute("data-ns"), Some("30000000000"));
    assert!(event.descendants().any(|n| n.text() == Some("scale 0")));
}

#[test]
fn mechanism_2_shows_requests_refused_in_the_gap_between_the_close_and_the_view() {
    let svg = svg_of("mechanism-02-routed-after-listener-closed.yaml");
    let doc = Document::parse(&svg).expect("well-formed");
    let lane = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("pod-echo-r1-0"))
        .expect("the deleted pod's lane");
    let gap = lane
        .descendants()
        .find(|n| classes(n) == ["band", "gap"])
        .expect("a gap band: listener closed, still routed");
    let (from, to) = (attr(&gap, "x"), attr(&gap, "x") + attr(&gap, "width"));
    assert!((from - x_of(&doc, 12_000 * NS_PER_MS)).abs() <= 1.0);
    assert!((to - x_of(&doc, 15_000 * NS_PER_MS)).abs() <= 1.0);
    let refused: Vec<_> = bars(&doc)
        .into_iter()
        .filter(|b| b.1 == "refused")
        .collect();
    assert_eq!(refused.len(), 20);
    for (id, _, left, right) in &refused {
        assert!(
            *left >= from - 1.0 && *right <= to + 1.0,
            "request {id} refused inside the gap: {left}..{right} in {from}..{to}"
        );
    }
}

#[test]
fn the_rolling_update_folds_its_requests_and_stays_small() {
    let (run, header, loaded) = run("rolling-update-200rps.yaml");
    let svg = picture::svg(&run, &header, &loaded.events);
    let html = picture::html(&run, &header, &loaded.events);
    assert!(svg.len() < 5 << 20, "SVG {} bytes", svg.len());
    assert!(html.len() < 5 << 20, "HTML {} bytes", html.len());
    let doc = Document::parse(&svg).expect("well-formed");
    let rows: Vec<_> = doc
        .descendants()
        .filter(|n| classes(n).contains(&"density-row"))
        .collect();
    assert!(
        rows.iter()
            .any(|r| r.attribute("data-outcome") == Some("ok")),
        "a density row of the answered requests"
    );
    let pods = doc
        .descendants()
        .filter(|n| classes(n) == ["lane", "pod"])
        .count();
    assert_eq!(pods, run.result.pods.len(), "a lane per pod");
    let events = doc
        .descendants()
        .filter(|n| classes(n) == ["event"])
        .count();
    assert_eq!(events, loaded.events.len(), "a line per rollout");
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    for file in [
        "go-long-ce.yaml",
        "mechanism-02-routed-after-listener-closed.yaml",
    ] {
        let (a, header_a, loaded_a) = run(file);
        let (b, header_b, loaded_b) = run(file);
        assert_eq!(
            picture::svg(&a, &header_a, &loaded_a.events),
            picture::svg(&b, &header_b, &loaded_b.events)
        );
        assert_eq!(
            picture::html(&a, &header_a, &loaded_a.events),
            picture::html(&b, &header_b, &loaded_b.events)
        );
        assert_eq!(
            picture::perfetto(&a, &header_a, &loaded_a.events),
            picture::perfetto(&b, &header_b, &loaded_b.events)
        );
    }
}

#[test]
fn the_html_links_each_violation_to_its_requests_and_pods() {
    let (run, header, loaded) = run("go-long-ce.yaml");
    let html = picture::html(&run, &header, &loaded.events);
    assert!(!html.contains("http://") || !html.contains("src=\"http"));
    assert!(!html.contains("<script src") && !html.contains("<link "));
    let doc =
        Document::parse_with_options(&html, html_options()).expect("the page is well-formed XML");
    let ids: BTreeSet<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("id"))
        .collect();
    let links: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("a"))
        .filter_map(|n| n.attribute("href"))
        .collect();
    for id in 0..5 {
        assert!(links.contains(&format!("#req-{id}").as_str()), "{links:?}");
    }
    assert!(links.contains(&"#pod-go-long-r1-0"));
    for link in &links {
        let target = link.strip_prefix('#').expect("links within the page");
        assert!(ids.contains(target), "{link} points to an element");
    }
    // The bars carry the request's hops for hovering.
    let bar = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("req-0"))
        .expect("request 0's bar");
    let title = bar
        .children()
        .find(|c| c.has_tag_name("title"))
        .and_then(|t| t.text())
        .expect("a title");
    assert!(
        title.contains("go-long-r1-0") && title.contains("SIGKILL"),
        "{title}"
    );
    // The timeline is a table with the SIGKILL line.
    assert!(doc.descendants().filter(|n| n.has_tag_name("td")).any(|n| {
        n.text()
            .is_some_and(|t| t.starts_with("SIGKILL at grace end"))
    }));
}

/// The shape of the Trace Event Format: every event has `ph`, `ts`, `pid`, `tid` and `name`;
/// complete events a non-negative `dur`; every process and thread used is named by metadata.
fn check_trace_shape(text: &str, file: &str) {
    let value: serde_json::Value = serde_json::from_str(text).expect("Perfetto file is JSON");
    let events = value["traceEvents"]
        .as_array()
        .unwrap_or_else(|| panic!("{file}: traceEvents"));
    let mut named_processes = BTreeSet::new();
    let mut named_threads = BTreeSet::new();
    let mut used = BTreeSet::new();
    let mut slices: std::collections::BTreeMap<(u64, u64), Vec<(f64, f64)>> = Default::default();
    for event in events {
        let ph = event["ph"].as_str().expect("ph");
        assert!(event["name"].is_string(), "{file}: name in {event}");
        assert!(event["ts"].as_f64().is_some_and(|t| t >= 0.0), "{file}: ts");
        let pid = event["pid"].as_u64().expect("pid");
        let tid = event["tid"].as_u64().expect("tid");
        match ph {
            "M" => match event["name"].as_str() {
                Some("process_name") => {
                    assert!(event["args"]["name"].is_string());
                    named_processes.insert(pid);
                }
                Some("thread_name") => {
                    assert!(event["args"]["name"].is_string());
                    named_threads.insert((pid, tid));
                }
                Some("process_sort_index") => {}
                other => panic!("{file}: unknown metadata {other:?}"),
            },
            "X" => {
                let dur = event["dur"].as_f64().expect("X has dur");
                assert!(dur >= 0.0, "{file}: negative duration in {event}");
                used.insert((pid, tid));
                let ts = event["ts"].as_f64().expect("ts");
                slices.entry((pid, tid)).or_default().push((ts, ts + dur));
            }
            "i" => {
                assert!(matches!(event["s"].as_str(), Some("t" | "p" | "g")));
                used.insert((pid, tid));
            }
            other => panic!("{file}: unexpected ph {other}"),
        }
    }
    // Complete slices on one thread must nest: none may start inside another and end after it.
    for ((pid, tid), mut spans) in slices {
        spans.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
        let mut open: Vec<f64> = Vec::new();
        for (from, to) in spans {
            while open.last().is_some_and(|end| *end <= from + 1e-3) {
                open.pop();
            }
            if let Some(end) = open.last() {
                assert!(
                    to <= end + 1e-3,
                    "{file}: thread {pid}/{tid}: a slice {from}..{to} overlaps one ending at {end}"
                );
            }
            open.push(to);
        }
    }
    for (pid, tid) in used {
        assert!(
            named_processes.contains(&pid),
            "{file}: process {pid} named"
        );
        assert!(
            named_threads.contains(&(pid, tid)),
            "{file}: thread {pid}/{tid} named"
        );
    }
}

#[test]
fn the_perfetto_file_has_the_trace_event_formats_shape() {
    let (run, header, loaded) = run("go-long-ce.yaml");
    let text = picture::perfetto(&run, &header, &loaded.events);
    check_trace_shape(&text, "go-long-ce.yaml");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let slices: Vec<&serde_json::Value> = value["traceEvents"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["ph"] == "X" && e["name"] == "request 0")
        .collect();
    assert_eq!(slices.len(), 2, "request 0 on its worker and on its pod");
    let dur = slices[0]["dur"].as_f64().expect("dur");
    assert!(
        (dur - 60_000_000.0).abs() < 1000.0,
        "60 s, in microseconds: {dur}"
    );
    assert_eq!(slices[0]["cat"], "dropped");
    assert!(
        value["traceEvents"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["ph"] == "i" && e["name"].as_str().is_some_and(|n| n.starts_with("SIGKILL")))
    );
}

/// Every shipped scenario in every format: no panic, well-formed XML, the trace's shape.
#[test]
fn every_shipped_scenario_draws_in_every_format() {
    let files = common::shipped();
    assert!(files.len() > 40);
    for file in &files {
        let (run, header, loaded) = run(file);
        let svg = picture::svg(&run, &header, &loaded.events);
        let doc = Document::parse(&svg).unwrap_or_else(|e| panic!("{file}: SVG: {e}"));
        let lanes = doc
            .descendants()
            .filter(|n| classes(n) == ["lane", "pod"])
            .count();
        assert_eq!(lanes, run.result.pods.len(), "{file}: a lane per pod");
        let html = picture::html(&run, &header, &loaded.events);
        Document::parse_with_options(&html, html_options())
            .unwrap_or_else(|e| panic!("{file}: HTML: {e}"));
        check_trace_shape(&picture::perfetto(&run, &header, &loaded.events), file);
    }
}

/// `--no-timeline`: the pods' lanes only say how they ended, the requests are all there.
#[test]
fn without_the_timeline_the_picture_still_has_every_request() {
    let source = "scenarios/go-long-ce.yaml";
    let text = std::fs::read_to_string(root().join(source)).expect("scenario reads");
    let loaded = scenario::parse(&text, source).expect("scenario parses");
    let run = simulate_scenario(&loaded, loaded.seed.unwrap_or(DEFAULT_SEED), false);
    assert!(run.result.trace.is_empty());
    let header = Header::of_run(&loaded, &run);
    let svg = picture::svg(&run, &header, &loaded.events);
    let doc = Document::parse(&svg).expect("well-formed");
    assert_eq!(bars(&doc).len(), 10);
    let killed = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("pod-go-long-r1-0"))
        .expect("the pod's lane")
        .descendants()
        .any(|n| classes(&n) == ["end", "killed"]);
    assert!(killed, "the summary still says it was killed");
    let html = picture::html(&run, &header, &loaded.events);
    assert!(html.contains("The timeline was not recorded"));
    check_trace_shape(&picture::perfetto(&run, &header, &loaded.events), source);
}
