//! `faasim check` output: snapshots of every format on hand-built reports, the SARIF output
//! validated against the SARIF 2.1.0 JSON schema (vendored in `tests/fixtures`), and the
//! escaping and grouping rules each format promises.

#[path = "support/sarif.rs"]
mod sarif;
use sarif::{assert_valid_sarif, sarif_validator};

use faasim_check::output::{
    self, Format, INPUT_RULES, RenderOptions, escape_github_data, escape_github_property,
    explain_function, fingerprint, render,
};
use faasim_check::{
    Counterexample, Finding, FunctionInput, Location, Origin, Provenance, Report, SafeValue,
    Severity,
};
use faasim_model::config::{Config, Edition, GraceSource, Span};
use faasim_model::rules::RULES;
use faasim_model::time::{NS_PER_MS, NS_PER_S};
use serde_json::Value;

fn at(file: &str, line: usize, column: usize) -> Location {
    Location {
        file: file.to_string(),
        line,
        column,
    }
}

fn prov(key: &str, value: &str, origin: Origin) -> Provenance {
    Provenance {
        key: key.to_string(),
        value: value.to_string(),
        origin,
    }
}

fn options() -> RenderOptions<'static> {
    RenderOptions {
        color: false,
        tool_version: "0.1.0",
        rule_help_base: Some("https://example.org/faasim/rules.html".to_string()),
        src_root: None,
    }
}

/// A clean function.
fn clean() -> FunctionInput {
    let mut config = Config::default();
    config.function.name = "hello".to_string();
    FunctionInput {
        name: "hello".to_string(),
        location: at("stack.yml", 4, 3),
        config,
        provenance: vec![
            prov(
                "function.environment.exec_timeout",
                "10s",
                Origin::File(at("stack.yml", 8, 21)),
            ),
            prov("gateway.upstreamTimeout", "1m0s", Origin::Default),
        ],
        ignored_rules: vec![],
        input_findings: vec![],
    }
}

/// go-long with the chart's gateway: exec_timeout 2m against upstreamTimeout 1m.
fn go_long() -> FunctionInput {
    let mut config = Config::default();
    config.function.name = "go-long".to_string();
    config.function.watchdog.write_timeout_ns = 120 * NS_PER_S;
    config.function.watchdog.read_timeout_ns = 120 * NS_PER_S;
    config.function.watchdog.exec_timeout_ns = 120 * NS_PER_S;
    config.function.watchdog.healthcheck_interval_ns = 5 * NS_PER_S as i64;
    config.function.child.write_timeout_ns = 120 * NS_PER_S;
    config.function.child.read_timeout_ns = 120 * NS_PER_S;
    config.function.child.healthcheck_interval_ns = 5 * NS_PER_S as i64;
    config.function.handler_ns = Span::fixed(90 * NS_PER_S);
    config.kubernetes.edition = Edition::Pro;
    config.kubernetes.grace_s = 122;
    config.kubernetes.grace_source = GraceSource::ProDerived;
    config.kubernetes.endpoint_lag_ns = Span {
        lo_ns: 0,
        hi_ns: 100 * NS_PER_MS,
    };
    config.load.timeout_ns = 125 * NS_PER_S;
    FunctionInput {
        name: "go-long".to_string(),
        location: at("stack.yml", 11, 3),
        config,
        provenance: vec![
            prov(
                "function.environment.write_timeout",
                "2m0s",
                Origin::File(at("stack.yml", 16, 22)),
            ),
            prov(
                "function.environment.read_timeout",
                "2m0s",
                Origin::File(at("stack.yml", 17, 21)),
            ),
            prov(
                "function.environment.exec_timeout",
                "2m0s",
                Origin::File(at("stack.yml", 18, 21)),
            ),
            prov(
                "function.environment.healthcheck_interval",
                "5s",
                Origin::File(at("stack.yml", 19, 29)),
            ),
            prov(
                "gateway.upstreamTimeout",
                "1m0s",
                Origin::File(at("values.yaml", 3, 20)),
            ),
            prov("gateway.readTimeout", "1m5s", Origin::Default),
            prov("gateway.writeTimeout", "1m5s", Origin::Default),
            prov(
                "kubernetes.terminationGracePeriodSeconds",
                "122",
                Origin::Derived("Pro: write_timeout + 2s".to_string()),
            ),
            prov(
                "kubernetes.edition",
                "pro",
                Origin::Flag("--edition".to_string()),
            ),
            prov(
                "function.labels.com.openfaas.scale.min",
                "1",
                Origin::File(at("stack.yml", 21, 31)),
            ),
        ],
        ignored_rules: vec!["max-inflight-covers-load".to_string()],
        input_findings: vec![],
    }
}

/// A function whose write_timeout is silently replaced, on CE with the 30 s default grace.
fn typo() -> FunctionInput {
    let mut config = Config::default();
    config.function.name = "typo".to_string();
    config.function.watchdog.exec_timeout_ns = 45 * NS_PER_S;
    config.function.handler_ns = Span {
        lo_ns: 40 * NS_PER_S,
        hi_ns: 44 * NS_PER_S,
    };
    FunctionInput {
        name: "typo".to_string(),
        location: at("stack.yml", 24, 3),
        config,
        provenance: vec![
            prov(
                "function.environment.write_timeout",
                "30s",
                Origin::Fallback {
                    location: at("stack.yml", 27, 22),
                    raw: "45 seconds".to_string(),
                },
            ),
            prov(
                "function.environment.exec_timeout",
                "45s",
                Origin::File(at("stack.yml", 28, 21)),
            ),
            prov(
                "kubernetes.terminationGracePeriodSeconds",
                "30",
                Origin::Default,
            ),
        ],
        ignored_rules: vec![],
        input_findings: vec![],
    }
}

fn report() -> Report {
    let scenario = "name: go-long with the chart's gateway\nseed: 7\nfunction:\n  name: go-long\n  environment:\n    exec_timeout: 2m\n    write_timeout: 2m\ngateway:\n  upstreamTimeout: 1m\nload:\n  concurrency: 1\n  requests: 1\n";
    Report {
        functions: vec![clean(), go_long(), typo()],
        findings: vec![
            Finding {
                rule: "exec-within-upstream".to_string(),
                severity: Severity::Error,
                function: "go-long".to_string(),
                key: "gateway.upstreamTimeout".to_string(),
                location: Some(at("values.yaml", 3, 20)),
                message: "exec_timeout 2m0s is not below the gateway's upstream_timeout 1m0s: a call longer than 1m0s gets 502 from the gateway while the function keeps running".to_string(),
                fix: "set gateway.upstreamTimeout to 2m1s (above exec_timeout), and gateway read/write timeouts above that".to_string(),
                counterexample: Some(Counterexample {
                    scenario_yaml: scenario.to_string(),
                    seed: 7,
                    saw: "request 0: 502 at 60.000s (gateway upstream_timeout)".to_string(),
                    statuses: vec![("502".to_string(), 1)],
                    violated: vec!["no-timeout".to_string()],
                }),
                safe_value: Some(SafeValue {
                    key: "gateway.upstreamTimeout".to_string(),
                    simulated: "1m30.001s".to_string(),
                    inequality: "2m0.001s".to_string(),
                    differs: true,
                }),
            },
            Finding {
                rule: "grace-covers-drain".to_string(),
                severity: Severity::Error,
                function: "typo".to_string(),
                key: "kubernetes.terminationGracePeriodSeconds".to_string(),
                location: None,
                message: "grace 30s (the Kubernetes default on CE) is shorter than healthcheck_interval 30s + the longest call 44s: SIGKILL cuts calls in flight".to_string(),
                fix: "set terminationGracePeriodSeconds to 75 (or use OpenFaaS Pro, which derives write_timeout + 2s)".to_string(),
                counterexample: Some(Counterexample {
                    scenario_yaml: "name: typo\nseed: 3\n".to_string(),
                    seed: 3,
                    saw: "request 2: 500 at 30.000s (SIGKILL, pod typo-1)".to_string(),
                    statuses: vec![("200".to_string(), 4), ("500".to_string(), 1)],
                    violated: vec![
                        "no-dropped-in-flight".to_string(),
                        "graceful-exit".to_string(),
                    ],
                }),
                safe_value: Some(SafeValue {
                    key: "kubernetes.terminationGracePeriodSeconds".to_string(),
                    simulated: "75".to_string(),
                    inequality: "75".to_string(),
                    differs: false,
                }),
            },
            Finding {
                rule: "invalid-duration-fallback".to_string(),
                severity: Severity::Warning,
                function: "typo".to_string(),
                key: "function.environment.write_timeout".to_string(),
                location: Some(at("stack.yml", 27, 22)),
                message: "write_timeout `45 seconds` is not a duration of-watchdog reads: it silently uses 30s".to_string(),
                fix: "write_timeout: 45s".to_string(),
                counterexample: None,
                safe_value: None,
            },
        ],
    }
}

#[test]
fn human_output() {
    let text = render(&report(), Format::Human, &options());
    assert!(!text.contains('\x1b'), "no colour unless asked");
    insta::assert_snapshot!("human", text);
}

#[test]
fn human_output_in_colour() {
    let coloured = render(
        &report(),
        Format::Human,
        &RenderOptions {
            color: true,
            ..options()
        },
    );
    assert!(coloured.contains("\x1b[1;31merror[exec-within-upstream]\x1b[0m"));
    let plain: String = {
        // Strip the escapes: the text must be the uncoloured output exactly.
        let mut out = String::new();
        let mut chars = coloured.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    };
    assert_eq!(plain, render(&report(), Format::Human, &options()));
}

#[test]
fn json_output() {
    let text = render(&report(), Format::Json, &options());
    let value: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(value["summary"]["errors"], 2);
    assert_eq!(value["summary"]["warnings"], 1);
    assert_eq!(value["functions"].as_array().map(Vec::len), Some(3));
    insta::assert_snapshot!("json", text);
}

#[test]
fn sarif_output() {
    // In full, rule descriptors included: they are what code scanning shows, so a change to a
    // rule's wording shows up here for review.
    let text = render(&report(), Format::Sarif, &options());
    insta::assert_snapshot!("sarif", text);
}

#[test]
fn github_output() {
    let text = render(&report(), Format::Github, &options());
    assert_eq!(text.lines().count(), 3, "one command per finding");
    for line in text.lines() {
        assert!(line.starts_with("::error ") || line.starts_with("::warning "));
    }
    insta::assert_snapshot!("github", text);
}

#[test]
fn explain_go_long() {
    insta::assert_snapshot!("explain_go_long", explain_function(&go_long()));
}

#[test]
fn explain_typo() {
    insta::assert_snapshot!("explain_typo", explain_function(&typo()));
}

#[test]
fn sarif_is_valid_against_the_2_1_0_schema() {
    let sarif = assert_valid_sarif(&render(&report(), Format::Sarif, &options()));
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), RULES.len() + INPUT_RULES.len());
    for (i, rule) in RULES.iter().enumerate() {
        assert_eq!(rules[i]["id"], rule.id);
        assert_eq!(rules[i]["shortDescription"]["text"], rule.inequality);
        assert_eq!(rules[i]["fullDescription"]["text"], rule.explanation);
        assert_eq!(
            rules[i]["helpUri"],
            format!("https://example.org/faasim/rules.html#{}", rule.id)
        );
    }
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 3);
    for result in results {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().is_some());
    }
    // The location-less finding points at its function.
    assert_eq!(results[1]["ruleId"], "grace-covers-drain");
    assert_eq!(
        results[1]["locations"][0]["physicalLocation"]["region"]["startLine"],
        24
    );
    assert_eq!(
        results[0]["partialFingerprints"]["faasim/v1"],
        fingerprint("go-long", "exec-within-upstream")
    );
}

#[test]
fn sarif_stays_valid_with_awkward_input() {
    // Absolute, spaced and stdin paths, a relative rule base (no helpUri then), an unknown
    // rule id, a finding for a function the report does not list, and an empty report.
    let mut report = report();
    report.functions[1].location.file = "/abs/dir with space/stack.yml".to_string();
    report.findings[0].location = Some(at("<stdin>", 1, 1));
    report.findings[2].location = Some(at("C:\\work\\stack.yml", 2, 5));
    report.findings.push(Finding {
        rule: "some-future-rule".to_string(),
        severity: Severity::Note,
        function: "elsewhere".to_string(),
        key: "x".to_string(),
        location: None,
        message: "m".to_string(),
        fix: "f".to_string(),
        counterexample: None,
        safe_value: None,
    });
    report.findings[1].location = Some(at("/elsewhere/values.yaml", 3, 1));
    let relative = RenderOptions {
        rule_help_base: Some("docs/rules.md".to_string()),
        src_root: Some(std::path::PathBuf::from("/abs")),
        ..options()
    };
    let sarif = assert_valid_sarif(&render(&report, Format::Sarif, &relative));
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert!(rules.iter().all(|r| r.get("helpUri").is_none()));
    assert!(
        rules[0]["help"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("docs/rules.md#handler-within-exec"))
    );
    assert_eq!(rules.last().expect("a rule")["id"], "some-future-rule");
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let artifacts: Vec<&Value> = results
        .iter()
        .flat_map(|r| {
            let related = r["relatedLocations"].as_array().into_iter().flatten();
            std::iter::once(&r["locations"][0]).chain(related)
        })
        .map(|l| &l["physicalLocation"]["artifactLocation"])
        .filter(|a| !a.is_null())
        .collect();
    let uris: Vec<(&str, Option<&str>)> = artifacts
        .iter()
        .map(|a| (a["uri"].as_str().unwrap_or(""), a["uriBaseId"].as_str()))
        .collect();
    // Standard input has no file: no physical location, the place in words instead.
    assert!(
        uris.iter().all(|(uri, _)| !uri.contains("stdin")),
        "{uris:?}"
    );
    let stdin = &results[0]["locations"][0];
    assert!(stdin.get("physicalLocation").is_none(), "{stdin}");
    assert_eq!(stdin["message"]["text"], "standard input, line 1, column 1");
    // Absolute paths become relative to %SRCROOT% (the working directory), `..` outside it.
    assert!(
        uris.contains(&("dir%20with%20space/stack.yml", Some("%SRCROOT%"))),
        "{uris:?}"
    );
    assert!(
        uris.contains(&("../elsewhere/values.yaml", Some("%SRCROOT%"))),
        "{uris:?}"
    );
    // Another drive cannot be made relative: it stays an absolute URI, with no base.
    assert!(
        uris.contains(&("file:///C:/work/stack.yml", None)),
        "{uris:?}"
    );
    assert!(
        uris.iter().all(|(uri, _)| !uri.starts_with("file:///abs")),
        "{uris:?}"
    );

    let empty = Report {
        functions: vec![],
        findings: vec![],
    };
    assert_valid_sarif(&render(
        &empty,
        Format::Sarif,
        &RenderOptions {
            rule_help_base: None,
            ..options()
        },
    ));
    assert_eq!(render(&empty, Format::Github, &options()), "");
    assert!(
        render(&empty, Format::Human, &options())
            .ends_with("0 functions, 0 errors, 0 warnings, 0 notes\n")
    );
}

#[test]
fn input_findings_are_merged_unless_ignored_or_already_reported() {
    let mut report = report();
    let bare = Finding {
        rule: "bare-int-duration".to_string(),
        severity: Severity::Note,
        function: "go-long".to_string(),
        key: "function.labels.com.openfaas.scale.zero-duration".to_string(),
        location: Some(at("stack.yml", 22, 40)),
        message: "`15` is not a Go duration".to_string(),
        fix: "com.openfaas.scale.zero-duration: 15m".to_string(),
        counterexample: None,
        safe_value: None,
    };
    report.functions[1].input_findings.push(bare.clone());
    // Already in the report: not repeated.
    report.functions[2]
        .input_findings
        .push(report.findings[2].clone());
    let counts = output::counts(&report);
    assert_eq!((counts.errors, counts.warnings, counts.notes), (2, 1, 1));
    let human = render(&report, Format::Human, &options());
    assert_eq!(human.matches("note[bare-int-duration]").count(), 1);
    assert_eq!(
        human.matches("warning[invalid-duration-fallback]").count(),
        1
    );
    // Errors come before notes within a function.
    let error = human.find("error[exec-within-upstream]").expect("error");
    let note = human.find("note[bare-int-duration]").expect("note");
    assert!(error < note);

    report.functions[1]
        .ignored_rules
        .push("bare-int-duration".to_string());
    assert_eq!(output::counts(&report).notes, 0);
}

#[test]
fn github_escaping() {
    assert_eq!(
        escape_github_data("50% done\r\nnext"),
        "50%25 done%0D%0Anext"
    );
    assert_eq!(
        escape_github_property("a:b,c%\n"),
        "a%3Ab%2Cc%25%0A".to_string()
    );
    let mut report = report();
    report.findings[0].location = Some(at("dir,with:odd/stack.yml", 3, 20));
    report.findings[0].message = "line one\nline two, 100%".to_string();
    let text = render(&report, Format::Github, &options());
    let first = text.lines().next().expect("a line");
    assert!(
        first.starts_with(
            "::error file=dir%2Cwith%3Aodd/stack.yml,line=3,col=20,title=faasim exec-within-upstream::"
        ),
        "{first}"
    );
    assert!(first.contains("line one line two, 100%25"), "{first}");
}

#[test]
fn formats_parse_by_name() {
    for format in Format::ALL {
        assert_eq!(format.name().parse::<Format>(), Ok(format));
    }
    assert!("xml".parse::<Format>().is_err());
}

#[test]
fn output_is_deterministic() {
    for format in Format::ALL {
        assert_eq!(
            render(&report(), format, &options()),
            render(&report(), format, &options())
        );
    }
}

#[test]
fn the_schema_check_rejects_broken_sarif() {
    // The validator is not vacuous: each of these breaks SARIF 2.1.0.
    let validator = sarif_validator();
    let good: Value =
        serde_json::from_str(&render(&report(), Format::Sarif, &options())).expect("valid JSON");
    assert!(validator.is_valid(&good));
    let mut bad_level = good.clone();
    bad_level["runs"][0]["results"][0]["level"] = Value::from("fatal");
    let mut bad_line = good.clone();
    bad_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    let mut bad_field = good.clone();
    bad_field["runs"][0]["results"][0]["ruleName"] = Value::from("x");
    let mut bad_uri = good.clone();
    bad_uri["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] = Value::from("not a uri");
    let mut bad_version = good;
    bad_version["version"] = Value::from("2.0.0");
    for (what, bad) in [
        ("level", bad_level),
        ("startLine", bad_line),
        ("unknown field", bad_field),
        ("uri format", bad_uri),
        ("version", bad_version),
    ] {
        assert!(!validator.is_valid(&bad), "{what} should be rejected");
    }
}

#[test]
fn human_output_names_the_edition_and_where_it_came_from() {
    let text = render(&report(), Format::Human, &options());
    // The first function that records it: go-long, from the flag.
    assert!(
        text.starts_with("edition pro, from flag --edition\n\n"),
        "{text}"
    );
    let mut from_values = report();
    from_values.functions.retain(|f| f.name == "go-long");
    from_values.functions[0]
        .provenance
        .iter_mut()
        .filter(|p| p.key == "kubernetes.edition")
        .for_each(|p| p.origin = Origin::File(at("values-pro.yaml", 5, 14)));
    let text = render(&from_values, Format::Human, &options());
    assert!(
        text.starts_with("edition pro, from values-pro.yaml:5:14\n"),
        "{text}"
    );
}

#[test]
fn human_output_prints_a_finding_shared_by_functions_once() {
    // `typo` and a copy of it, `typo-2`, have the same grace finding (the counterexample names
    // each one's own pods): one block names both; the summary still counts each function's.
    let mut report = report();
    let mut twin = typo();
    twin.name = "typo-2".to_string();
    twin.location = at("stack.yml", 40, 3);
    report.functions.push(twin);
    let mut shared = report
        .findings
        .iter()
        .find(|f| f.function == "typo" && f.rule == "grace-covers-drain")
        .cloned()
        .expect("typo's grace finding");
    shared.function = "typo-2".to_string();
    if let Some(cx) = shared.counterexample.as_mut() {
        cx.saw = cx.saw.replace("typo", "typo-2");
    }
    report.findings.push(shared);
    let text = render(&report, Format::Human, &options());
    assert_eq!(
        text.matches("error[grace-covers-drain]").count(),
        1,
        "{text}"
    );
    assert!(
        text.contains("typo, typo-2  stack.yml:24, stack.yml:40 (2 functions, the same finding)"),
        "{text}"
    );
    assert!(
        text.contains("functions at stack.yml:24:3, stack.yml:40:3"),
        "{text}"
    );
    assert!(text.contains("simulated (typo): "), "{text}");
    // typo's own finding keeps its section; typo-2 has none of its own.
    assert!(text.contains("typo  stack.yml:24\n"), "{text}");
    assert!(!text.contains("typo-2  stack.yml:40\n"), "{text}");
    assert!(
        text.ends_with("4 functions, 3 errors, 1 warning, 0 notes\n"),
        "{text}"
    );
}
