//! The `faasim check` and `faasim explain --function` commands as library calls: flags in,
//! text and an exit code out (0 clean, 1 findings at or above `--fail-on`, 2 usage or input
//! error), so that `main` stays a few lines and tests can call them directly.

use std::collections::BTreeMap;
use std::path::PathBuf;

use faasim_model::config::Method;
use faasim_model::duration;

use super::analyze::{self, Options};
use super::input::{self, InputRequest};
use super::output::{self, Format, RenderOptions};
use super::{Finding, FunctionInput, Location, Origin, Provenance, Severity};

/// The flags of `faasim check` (and the input flags of `explain --function`).
#[derive(Clone, Debug)]
pub struct CheckArgs {
    /// Files (`-` for standard input); none: stack.yaml / stack.yml in the working directory.
    pub paths: Vec<String>,
    /// faas-cli `--filter`.
    pub filter: Option<String>,
    /// faas-cli `--regex`.
    pub regex: Option<String>,
    /// faas-cli `--envsubst`.
    pub envsubst: bool,
    /// `--stdin-name`: the file name standard input's locations carry.
    pub stdin_name: Option<String>,
    /// `--edition ce|pro`.
    pub edition: Option<String>,
    /// `--endpoint-lag DURATION|A..B`.
    pub endpoint_lag: Option<String>,
    /// `-o`.
    pub format: Format,
    /// `--fail-on`.
    pub fail_on: Option<Severity>,
    /// `--ignore RULE` (repeatable).
    pub ignore: Vec<String>,
    /// `--concurrency`: callers in the witness runs.
    pub concurrency: u32,
    /// `--max-duration`: the longest handler (default just under exec_timeout).
    pub max_duration: Option<String>,
    /// `--client-timeout`: the callers' timeout (unknown by default).
    pub client_timeout: Option<String>,
    /// `--method GET|POST` of the callers (default POST, never retried).
    pub method: Option<String>,
    /// Skip the search for the smallest safe value.
    pub no_search: bool,
    /// ANSI colour in human output.
    pub color: bool,
    /// Where rule pages are, for SARIF helpUri and help text.
    pub rule_help_base: Option<String>,
}

impl Default for CheckArgs {
    fn default() -> Self {
        CheckArgs {
            paths: Vec::new(),
            filter: None,
            regex: None,
            envsubst: true,
            stdin_name: None,
            edition: None,
            endpoint_lag: None,
            format: Format::Human,
            fail_on: None,
            ignore: Vec::new(),
            concurrency: 5,
            max_duration: None,
            client_timeout: None,
            method: None,
            no_search: false,
            color: false,
            rule_help_base: Some("docs/rules.md".to_string()),
        }
    }
}

/// What a command prints and how it exits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// For standard output.
    pub stdout: String,
    /// For standard error.
    pub stderr: String,
    /// Exit code.
    pub code: u8,
}

fn usage(message: String) -> Outcome {
    Outcome {
        stdout: String::new(),
        stderr: format!("error: {message}\n"),
        code: 2,
    }
}

fn strict_duration(flag: &str, text: &str) -> Result<u64, String> {
    let ns = match text.parse::<u64>() {
        Ok(seconds) => seconds.saturating_mul(1_000_000_000),
        Err(_) => {
            let ns = duration::parse_go(text).map_err(|e| format!("{flag}: {e}"))?;
            u64::try_from(ns).map_err(|_| format!("{flag}: {text} is negative"))?
        }
    };
    Ok(ns)
}

/// Read and resolve the inputs, with `.faasim.yaml` from `cwd`.
fn read(
    args: &CheckArgs,
    cwd: PathBuf,
    env: BTreeMap<String, String>,
    stdin: Option<String>,
) -> Result<(input::Inputs, Option<input::CheckConfig>), Outcome> {
    let config_file = match input::find_config_file(&cwd) {
        Ok(found) => found.map(|(_, config)| config),
        Err(error) => return Err(input_error(&error)),
    };
    let edition = match &args.edition {
        Some(text) => Some(
            input::parse_edition(text)
                .ok_or_else(|| usage(format!("--edition: `{text}` is not ce or pro")))?,
        ),
        None => None,
    };
    let endpoint_lag = match &args.endpoint_lag {
        Some(text) => {
            Some(input::parse_span(text).map_err(|e| usage(format!("--endpoint-lag: {e}")))?)
        }
        None => None,
    };
    let request = InputRequest {
        paths: args.paths.clone(),
        stdin,
        stdin_name: args.stdin_name.clone(),
        cwd,
        filter: args.filter.clone(),
        regex: args.regex.clone(),
        envsubst: args.envsubst,
        env,
        edition,
        endpoint_lag,
        config: config_file.clone(),
    };
    match input::read_all(&request) {
        Ok(inputs) => Ok((inputs, config_file)),
        Err(error) => Err(input_error(&error)),
    }
}

fn input_error(error: &input::InputError) -> Outcome {
    let mut text = error.render();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Outcome {
        stdout: String::new(),
        stderr: text,
        code: 2,
    }
}

fn options(args: &CheckArgs, config: Option<&input::CheckConfig>) -> Result<Options, Outcome> {
    // A rule id nobody reports would silence nothing: say so rather than accept it.
    if let Some(unknown) = args.ignore.iter().find(|id| !crate::is_rule_id(id)) {
        return Err(usage(format!(
            "--ignore: {}",
            crate::unknown_rule_message(unknown)
        )));
    }
    let mut ignore = args.ignore.clone();
    if let Some(config) = config {
        ignore.extend(config.ignore.iter().map(|s| s.value.clone()));
    }
    let method = match args
        .method
        .as_deref()
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        None | Some("POST") => Method::Post,
        Some("GET") => Method::Get,
        Some(other) => return Err(usage(format!("--method: `{other}` is not GET or POST"))),
    };
    let max_duration_ns = match &args.max_duration {
        Some(text) => Some(strict_duration("--max-duration", text).map_err(usage)?),
        None => None,
    };
    let client_timeout_ns = match &args.client_timeout {
        Some(text) => Some(strict_duration("--client-timeout", text).map_err(usage)?),
        None => None,
    };
    if args.concurrency == 0 {
        return Err(usage("--concurrency must be at least 1".to_string()));
    }
    // Each simulated run sends twice this many requests: the scenario's limit on workers.
    if args.concurrency > faasim_model::limits::CONCURRENCY_MAX {
        return Err(usage(format!(
            "--concurrency {} is above the limit of {} callers (docs/check.md, \"Limits\")",
            args.concurrency,
            faasim_model::limits::CONCURRENCY_MAX
        )));
    }
    Ok(Options {
        concurrency: args.concurrency,
        max_duration_ns,
        client_timeout_ns,
        method,
        ignore,
        seed: 1,
        search: !args.no_search,
    })
}

/// `faasim check`.
pub fn check(
    args: &CheckArgs,
    cwd: PathBuf,
    env: BTreeMap<String, String>,
    stdin: Option<String>,
) -> Outcome {
    let src_root = cwd.clone();
    let (inputs, config) = match read(args, cwd, env, stdin) {
        Ok(read) => read,
        Err(outcome) => return outcome,
    };
    let options = match options(args, config.as_ref()) {
        Ok(options) => options,
        Err(outcome) => return outcome,
    };
    if inputs.functions.is_empty() && inputs.invalid.is_empty() {
        return usage(no_function_message(&inputs.files));
    }
    let mut report = analyze::analyze(&inputs.functions, &options);
    report
        .findings
        .extend(inputs.invalid.iter().map(invalid_finding));
    let render_options = RenderOptions {
        color: args.color,
        tool_version: env!("CARGO_PKG_VERSION"),
        rule_help_base: args.rule_help_base.clone(),
        src_root: Some(src_root),
    };
    let stdout = output::render(&report, args.format, &render_options);
    let fail_on = args
        .fail_on
        .or_else(|| {
            config
                .as_ref()
                .and_then(|c| c.fail_on.as_ref().map(|s| s.value))
        })
        .unwrap_or(Severity::Error);
    let failing = output::rendered_findings(&report)
        .iter()
        .any(|f| f.severity >= fail_on);
    Outcome {
        stdout,
        stderr: String::new(),
        code: u8::from(failing),
    }
}

/// "No function found", naming the files read.
fn no_function_message(files: &[String]) -> String {
    let names: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
    format!(
        "no OpenFaaS function found in {} (a stack file's `functions`, a Function resource or \
         a function's Deployment)",
        match names.len() {
            0 => "the input".to_string(),
            1 => names[0].clone(),
            _ => format!("any of {}", names.join(", ")),
        }
    )
}

/// A function that could not be read or resolved, as its one finding: the error at its
/// place, so that the others are still checked.
fn invalid_finding(invalid: &input::InvalidFunction) -> Finding {
    let error = &invalid.error;
    let location = error.line.map(|line| Location {
        file: error.file.clone(),
        line,
        column: error.column.unwrap_or(1),
    });
    Finding {
        rule: input::INVALID_FUNCTION.to_string(),
        severity: Severity::Error,
        function: invalid.name.clone(),
        key: error.key.clone().unwrap_or_default(),
        location,
        message: error.message.clone(),
        fix: "correct the value; the function's rules are checked once it reads".to_string(),
        counterexample: None,
        safe_value: None,
    }
}

/// `faasim explain --function NAME`.
pub fn explain_function(
    args: &CheckArgs,
    name: &str,
    cwd: PathBuf,
    env: BTreeMap<String, String>,
    stdin: Option<String>,
) -> Outcome {
    let (inputs, config) = match read(args, cwd, env, stdin) {
        Ok(read) => read,
        Err(outcome) => return outcome,
    };
    // `explain` needs the function itself: its own error is the answer.
    if let Some(invalid) = inputs.invalid.iter().find(|f| f.name == name) {
        return input_error(&invalid.error);
    }
    let functions = inputs.functions;
    let options = match options(args, config.as_ref()) {
        Ok(options) => options,
        Err(outcome) => return outcome,
    };
    match functions.iter().find(|f| f.name == name) {
        Some(function) => Outcome {
            stdout: output::explain_function(&with_judged_handler(function, &options)),
            stderr: String::new(),
            code: 0,
        },
        None => {
            let names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
            usage(format!(
                "--function: no function `{name}` in the input (found: {})",
                names.join(", ")
            ))
        }
    }
}

/// `function` with the handler duration `check` judges it by (just under exec_timeout, or
/// `--max-duration`), recorded with where it came from, so that `explain --function` and
/// `check` reason about the same calls.
fn with_judged_handler(function: &FunctionInput, options: &Options) -> FunctionInput {
    let mut function = function.clone();
    let judged = analyze::judged_config(&function, options);
    function.config.function.handler_ns = judged.function.handler_ns;
    let origin = match options.max_duration_ns {
        Some(_) => Origin::Flag("--max-duration".to_string()),
        None => Origin::Derived(analyze::LONGEST_HANDLER_ASSUMPTION.to_string()),
    };
    function.provenance.push(Provenance {
        key: "function.handler.duration".to_string(),
        value: faasim_model::duration::format_go(
            i64::try_from(judged.function.handler_ns.hi_ns).unwrap_or(i64::MAX),
        ),
        origin,
    });
    function
}
