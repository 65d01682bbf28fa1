//! Rule pages: the text of `faasim explain RULE`, of docs/rules.md and of the docs site's
//! docs/rules/RULE.md. Each page states the interaction, the inequality, where the exact
//! boundary differs from domain.md, the fix, and a timeline produced by running the rule's
//! example scenario, which ships inside the binary; the docs add the picture of that run
//! (docs/pictures/STEM.svg, drawn by [`example_picture`]).

use std::fmt::Write as _;

use faasim_model::rules::{self, RULES, Rule};
use faasim_model::time::stamp;

use crate::{DEFAULT_SEED, report, scenario, simulate_scenario};

/// The example scenarios, compiled in so `faasim explain` needs no files.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "async-ce-ack-wait-below-call.yaml",
        include_str!("../../scenarios/async-ce-ack-wait-below-call.yaml"),
    ),
    (
        "async-ce-restart-queue-worker.yaml",
        include_str!("../../scenarios/async-ce-restart-queue-worker.yaml"),
    ),
    (
        "async-pro-restart-sigkill-redelivers.yaml",
        include_str!("../../scenarios/async-pro-restart-sigkill-redelivers.yaml"),
    ),
    (
        "async-pro-upstream-below-call.yaml",
        include_str!("../../scenarios/async-pro-upstream-below-call.yaml"),
    ),
    (
        "go-long-ce.yaml",
        include_str!("../../scenarios/go-long-ce.yaml"),
    ),
    (
        "gateway-rollout-ce.yaml",
        include_str!("../../scenarios/gateway-rollout-ce.yaml"),
    ),
    (
        "ingress-read-timeout.yaml",
        include_str!("../../scenarios/ingress-read-timeout.yaml"),
    ),
    (
        "go-long-fixed-wait.yaml",
        include_str!("../../scenarios/go-long-fixed-wait.yaml"),
    ),
    (
        "mechanism-02-routed-after-listener-closed.yaml",
        include_str!("../../scenarios/mechanism-02-routed-after-listener-closed.yaml"),
    ),
    (
        "mechanism-05-exec-timeout.yaml",
        include_str!("../../scenarios/mechanism-05-exec-timeout.yaml"),
    ),
    (
        "mechanism-06-write-timeout-below-exec-timeout.yaml",
        include_str!("../../scenarios/mechanism-06-write-timeout-below-exec-timeout.yaml"),
    ),
    (
        "mechanism-08-gateway-upstream-timeout.yaml",
        include_str!("../../scenarios/mechanism-08-gateway-upstream-timeout.yaml"),
    ),
    (
        "mechanism-11-client-timeout-cold-start.yaml",
        include_str!("../../scenarios/mechanism-11-client-timeout-cold-start.yaml"),
    ),
    (
        "mechanism-13-child-exits-on-sigterm.yaml",
        include_str!("../../scenarios/mechanism-13-child-exits-on-sigterm.yaml"),
    ),
    (
        "mechanism-19-scale-to-zero-no-endpoints.yaml",
        include_str!("../../scenarios/mechanism-19-scale-to-zero-no-endpoints.yaml"),
    ),
    (
        "mechanism-22-spot-node.yaml",
        include_str!("../../scenarios/mechanism-22-spot-node.yaml"),
    ),
    (
        "mechanism-25-healthcheck-interval-zero.yaml",
        include_str!("../../scenarios/mechanism-25-healthcheck-interval-zero.yaml"),
    ),
    (
        "rule-child-listens-while-routed.yaml",
        include_str!("../../scenarios/rule-child-listens-while-routed.yaml"),
    ),
    (
        "rule-child-ready-before-routing.yaml",
        include_str!("../../scenarios/rule-child-ready-before-routing.yaml"),
    ),
    (
        "rule-cold-start-within-gateway-hold.yaml",
        include_str!("../../scenarios/rule-cold-start-within-gateway-hold.yaml"),
    ),
    (
        "rule-exec-within-provider-timeout.yaml",
        include_str!("../../scenarios/rule-exec-within-provider-timeout.yaml"),
    ),
    (
        "rule-exec-within-provider-write.yaml",
        include_str!("../../scenarios/rule-exec-within-provider-write.yaml"),
    ),
    (
        "rule-gateway-write-covers-response.yaml",
        include_str!("../../scenarios/rule-gateway-write-covers-response.yaml"),
    ),
    (
        "rule-handler-within-child-write.yaml",
        include_str!("../../scenarios/rule-handler-within-child-write.yaml"),
    ),
    (
        "rule-max-inflight-covers-load.yaml",
        include_str!("../../scenarios/rule-max-inflight-covers-load.yaml"),
    ),
    (
        "rule-no-disruption-during-cold-start.yaml",
        include_str!("../../scenarios/rule-no-disruption-during-cold-start.yaml"),
    ),
    (
        "rule-provider-idle-below-watchdog-idle.yaml",
        include_str!("../../scenarios/rule-provider-idle-below-watchdog-idle.yaml"),
    ),
    (
        "rule-schedulable-node-remains.yaml",
        include_str!("../../scenarios/rule-schedulable-node-remains.yaml"),
    ),
    (
        "boundary-grace-s6-conservative.yaml",
        include_str!("../../scenarios/boundary-grace-s6-conservative.yaml"),
    ),
    (
        "boundary-write-below-exec.yaml",
        include_str!("../../scenarios/boundary-write-below-exec.yaml"),
    ),
];

/// Where the model's exact boundary differs from domain.md §4, and the scenario that decides it.
static BOUNDARIES: &[(&Rule, &str, Option<&str>)] = &[
    (
        &rules::GRACE_COVERS_DRAIN,
        "domain.md's S6 asks hc + E <= G (and hc + W <= G in its strong form). That is safe but not exact: requests stop arriving once the provider's view drops the pod, so only the last of them, reaching the pod up to a dial (1.5 rtt) after d_prop and answering min(D_max, E) later, has to finish (and the watchdog notice it, within one Shutdown poll of at most 550 ms) before SIGKILL. The 550 ms poll margin is the one place this rule is conservative.",
        Some("boundary-grace-s6-conservative.yaml"),
    ),
    (
        &rules::EXEC_WITHIN_WRITE,
        "domain.md's S3 orders D < E <= W. The exact condition is min(D_max, E) <= W: write_timeout has to cover the response, which comes at the handler's end or at exec_timeout, whichever is first. Equality is safe: Go fails the write only past the deadline.",
        Some("boundary-write-below-exec.yaml"),
    ),
    (
        &rules::EXEC_WITHIN_UPSTREAM,
        "domain.md's S1 (from the docs) asks E <= U. Exactly, the gateway's timer runs from its forward, and the answer reaches it a network path after the watchdog sends it: up to 2 rtt (the provider's dial, 3 hops, and the hop back) on top of min(D_max, E). So U must exceed min(D_max, E) + 2 rtt, and at E = U a call that ends just before exec_timeout still gets the gateway's 502.",
        None,
    ),
    (
        &rules::HEALTHCHECK_COVERS_ENDPOINT_LAG,
        "domain.md's S5 asks hc >= d_prop. A preStop sleep runs before SIGTERM and counts too, and the last request the provider sends before its view drops the pod is still on the wire: on a pooled connection it arrives a hop (rtt/2) later, and meets a connection the watchdog closed at ts + hc if the close came first; on a new one its SYN arrives a hop later and the request a round trip after that, when a child that closed with the watchdog refuses it. So d_prop + 1.5 rtt <= preStop + hc.",
        None,
    ),
    (
        &rules::FIXED_WAIT_GRACE,
        "domain.md's S7 asks 2W <= G for a clean exit. Exactly, the old watchdog exits W after its Shutdown returns, which is at preStop + W with nothing in flight, or one poll after the last request: max(preStop + W, d_prop + 1.5 rtt + min(D_max, E) + poll) + W < G, strictly, since the kubelet's SIGKILL was scheduled first.",
        None,
    ),
    (
        &rules::CHILD_DRAINS_ON_SIGTERM,
        "A child that dies on SIGTERM loses nothing when nothing can be in flight or routed to the pod at SIGTERM: when d_prop + 1.5 rtt + min(D_max, E) <= preStop, a preStop sleep covers it.",
        None,
    ),
    (
        &rules::SPOT_NOTICE_COVERS_DRAIN,
        "domain.md's S13 asks notice - drain latency >= hc + D_max. The exact drain time after eviction is the watchdog's exit, max(preStop + hc, d_prop + 1.5 rtt + min(D_max, E) + poll), capped by its Shutdown deadline preStop + hc + W.",
        None,
    ),
    (
        &rules::PROVIDER_IDLE_BELOW_WATCHDOG_IDLE,
        "domain.md's S10 (client idle timeout < server idle timeout) matters only for requests Go does not retry: a bodiless GET that meets the close is retried on a new connection to the same, still listening, pod. The race also needs a request that reaches the pod after the server's close but leaves before its FIN is back at the provider (a window of one round trip, centred on the close), so the rule flags a possibility, not a certainty.",
        None,
    ),
];

fn example_text(file: &str) -> Option<&'static str> {
    EXAMPLES
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, text)| *text)
}

/// The outcome summary and timeline excerpt of running an example scenario.
fn run_example(file: &str) -> Result<(String, Vec<String>, u64), String> {
    let text = example_text(file).ok_or_else(|| format!("example {file} is not compiled in"))?;
    let source = format!("scenarios/{file}");
    let loaded = scenario::parse(text, &source).map_err(|e| e.to_string())?;
    let seed = loaded.seed.unwrap_or(DEFAULT_SEED);
    let run = simulate_scenario(&loaded, seed, true);
    let statuses: Vec<String> = report::status_counts(&run)
        .iter()
        .map(|(status, count)| format!("{count} x {status}"))
        .collect();
    let violated: Vec<&str> = run.violations.iter().map(|v| v.property.name()).collect();
    let summary = format!(
        "{}; {}",
        statuses.join(", "),
        if violated.is_empty() {
            "no property violated".to_string()
        } else {
            format!("violates {}", violated.join(", "))
        }
    );
    let mut lines = Vec::new();
    let mut failing_shown = 0;
    let mut failing_hidden = 0;
    for line in &run.result.trace {
        let request_ok = line.who == "client" && line.what.contains("(ok,");
        if request_ok {
            continue;
        }
        if line.who == "client" {
            if failing_shown >= 4 {
                failing_hidden += 1;
                continue;
            }
            failing_shown += 1;
        }
        lines.push(format!(
            "{:>10}  {:<20} {}",
            stamp(line.at_ns),
            line.who,
            line.what
        ));
    }
    if failing_hidden > 0 {
        lines.push(format!(
            "{:>10}  {:<20} ... and {failing_hidden} more failed requests",
            "", "client"
        ));
    }
    Ok((summary, lines, seed))
}

const TIMELINE_LINES_MAX: usize = 28;

/// The page for one rule, in Markdown: what `faasim explain RULE` prints.
pub fn rule_page(rule: &Rule) -> String {
    rule_section(rule, "##", None)
}

/// Where the docs keep the picture of example scenario `file`, relative to docs/:
/// `pictures/STEM.svg`.
pub fn picture_path(file: &str) -> String {
    format!(
        "pictures/{}.svg",
        file.strip_suffix(".yaml").unwrap_or(file)
    )
}

/// The rule's own page of the docs site, docs/rules/RULE.md: the `faasim explain` page with a
/// title, a way back to the list, and the picture of its example run.
pub fn rule_doc_page(rule: &Rule) -> String {
    let mut out = rule_section(
        rule,
        "#",
        Some(&format!("../{}", picture_path(rule.example))),
    );
    let _ = writeln!(
        out,
        "\nEvery rule on one page, with the notation: [Safe-configuration rules](../rules.md). The same page in a terminal: `faasim explain {}`.",
        rule.id
    );
    out
}

/// The SVG of the example scenario `file` (one compiled into the binary) run at its own seed:
/// the picture docs/pictures/STEM.svg holds, drawn as `faasim run --format svg` draws it.
pub fn example_picture(file: &str) -> Result<String, String> {
    let text = example_text(file).ok_or_else(|| format!("example {file} is not compiled in"))?;
    let source = format!("scenarios/{file}");
    let loaded = scenario::parse(text, &source).map_err(|e| e.to_string())?;
    let seed = loaded.seed.unwrap_or(DEFAULT_SEED);
    let run = simulate_scenario(&loaded, seed, true);
    let header = report::Header::of_run(&loaded, &run);
    Ok(crate::picture::svg(&run, &header, &loaded.events))
}

/// A rule's page under `heading` (`##` in rules.md and `faasim explain`, `#` on its own page),
/// with the picture at `picture` (a relative path) above the example's timeline when given.
fn rule_section(rule: &Rule, heading: &str, picture: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{heading} `{}`\n", rule.id);
    let _ = writeln!(out, "**Inequality:** `{}`  ", rule.inequality);
    let mechanisms: Vec<String> = rule.mechanisms.iter().map(|m| m.to_string()).collect();
    let _ = writeln!(
        out,
        "**Breaking it violates:** `{}`  \n**Mechanisms (domain.md §3):** {}\n",
        rule.property,
        if mechanisms.is_empty() {
            "none (outside the function's chain that domain.md covers)".to_string()
        } else {
            mechanisms.join(", ")
        }
    );
    let _ = writeln!(out, "{}\n", rule.explanation);
    let _ = writeln!(out, "**Fix:** {}.\n", rule.fix);
    if let Some((_, note, decider)) = BOUNDARIES.iter().find(|(r, _, _)| *r == rule) {
        let _ = writeln!(out, "**Exact boundary:** {note}");
        if let Some(file) = decider {
            match run_example(file) {
                Ok((summary, _, seed)) => {
                    let _ = writeln!(
                        out,
                        "The run that decides it: `scenarios/{file}` (seed {seed}): {summary}."
                    );
                }
                Err(error) => {
                    let _ = writeln!(out, "The run that decides it could not run: {error}");
                }
            }
        }
        let _ = writeln!(out);
    }
    match run_example(rule.example) {
        Ok((summary, lines, seed)) => {
            let _ = writeln!(
                out,
                "**Example:** `scenarios/{}` (seed {seed}): {summary}.\n",
                rule.example
            );
            if let Some(picture) = picture {
                let _ = writeln!(
                    out,
                    "![The run of scenarios/{}: a lane per client worker, gateway and pod, a bar per request coloured by outcome]({picture})\n",
                    rule.example
                );
            }
            let _ = writeln!(out, "```text");
            let shown = lines.len().min(TIMELINE_LINES_MAX);
            for line in &lines[..shown] {
                let _ = writeln!(out, "{line}");
            }
            if lines.len() > shown {
                let _ = writeln!(
                    out,
                    "{:>10}  ... {} more lines (faasim run scenarios/{})",
                    "",
                    lines.len() - shown,
                    rule.example
                );
            }
            let _ = writeln!(out, "```");
        }
        Err(error) => {
            let _ = writeln!(
                out,
                "**Example:** `scenarios/{}` could not run: {error}",
                rule.example
            );
        }
    }
    out
}

/// The one-line list of `faasim rules`.
pub fn rule_list() -> String {
    let mut out = String::new();
    let width = RULES.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for rule in RULES {
        let _ = writeln!(
            out,
            "{:<width$}  {:<22} {}",
            rule.id, rule.property, rule.inequality
        );
    }
    out
}

/// docs/rules.md: every rule's page, generated.
pub fn rules_document() -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Safe-configuration rules\n");
    let _ = writeln!(
        out,
        "Generated by `faasim explain` from `model/src/rules/` (a test checks this file is current; \
`FAASIM_BLESS=1 cargo test -p faasim-sim --test docs` rewrites it). Every timeline below is a run \
of the example scenario, and `cargo test` proves each rule two ways: 2,000 generated \
configurations that break no rule violate no property (sufficiency), and for each rule, 200 \
configurations that break it alone violate the property it predicts (necessity).\n"
    );
    let _ = writeln!(
        out,
        "Notation (domain.md §3): D = handler duration, E = exec_timeout, W = write_timeout, \
R = read_timeout, hc = healthcheck_interval, G = grace period, U = the gateway's upstream_timeout, \
GWw = the gateway's write_timeout, PR / PW = faas-netes's read / write timeout, IR = the read \
timeout of an ingress in front of the gateway (`ingress.readTimeout`), Tc = the client's timeout, d_prop = endpoint propagation delay (`endpointLag`), T_hold = the longest the gateway \
holds a request for a cold start, poll = Go's Shutdown poll (at most 550 ms), rtt = the network's \
round trip (`network.rtt`, 500 µs unless set; a message takes half, a dial 1.5 rtt before the \
request arrives). domain.md's inequalities leave the network out; here a timer outside the pod \
counts the way there and back, so at the default rtt they move by a millisecond or two.\n"
    );
    for rule in RULES {
        let _ = writeln!(out, "- [`{}`](#{}): {}", rule.id, rule.id, rule.inequality);
    }
    let _ = writeln!(out);
    for rule in RULES {
        out.push_str(&rule_section(rule, "##", Some(&picture_path(rule.example))));
        let _ = writeln!(
            out,
            "\nIts own page: [rules/{}.md](rules/{}.md).\n",
            rule.id, rule.id
        );
    }
    out
}

/// The rule a user named on the command line (`faasim explain RULE`): parses input, through
/// [`Rule::parse_id`]; code names rules by their values.
pub fn find(id: &str) -> Option<&'static Rule> {
    Rule::parse_id(id)
}
