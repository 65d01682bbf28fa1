//! The `faasim` command: parse the arguments, run, map the verdict to an exit code
//! (0 pass, 1 a property violated, a run cut by its limit, a seed failed or a replay
//! mismatched, 2 usage or input error).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use faasim_check::Severity;
use faasim_check::command::{self, CheckArgs, Outcome};
use faasim_check::output::Format as CheckOutput;
use faasim_sim::explain;
use faasim_sim::explore::{self, Options, Summary};
use faasim_sim::picture;
use faasim_sim::regression;
use faasim_sim::report::{self, Header};
use faasim_sim::world::Mutation;
use faasim_sim::{
    DEFAULT_SEED, Verdict, emit, failures, scenario, simulate_scenario_observed, swarm,
};

mod progress;

#[derive(Parser)]
#[command(
    name = "faasim",
    version,
    about = "Can an in-flight request be dropped when my OpenFaaS function is scaled down, rolled out or evicted?"
)]
struct Cli {
    /// The subcommand to run.
    #[command(subcommand)]
    command: Command,
}

/// Which engine runs a scenario.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Engine {
    /// The discrete-event model.
    Model,
    /// Real code (the watchdog, hyper clients and gateway) on turmoil's simulated network.
    Turmoil,
}

/// What `run` prints.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// hey's summary, the outcomes, the violations, the pods and the timeline.
    Text,
    /// One JSON object with every request, pod and timeline line.
    Json,
    /// A swimlane picture: a bar per request coloured by outcome (density rows and the failing
    /// requests when there are many), each pod's life, the endpoint view's lag, signals and
    /// timers, the scenario's events.
    Svg,
    /// One self-contained page: the picture, the summary, the violations linked to the requests
    /// and pods they name, the timeline as a table.
    Html,
    /// Trace Event Format JSON for ui.perfetto.dev or chrome://tracing.
    Perfetto,
}

/// Planted bugs, for showing that `explore` catches one.
#[derive(Clone, Copy, ValueEnum)]
enum MutationArg {
    /// The watchdog closes its listener at SIGTERM instead of after healthcheck_interval.
    WatchdogClosesListenerAtSigterm,
}

impl MutationArg {
    fn mutation(self) -> Mutation {
        match self {
            MutationArg::WatchdogClosesListenerAtSigterm => {
                Mutation::WatchdogClosesListenerAtSigterm
            }
        }
    }
}

/// `I/N`: shard I (0-based) of N.
#[derive(Clone, Copy, Debug)]
struct Shard {
    /// Which shard, 0-based.
    index: u64,
    /// How many shards.
    count: u64,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let (index, count) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not I/N (e.g. 0/4)"))?;
    let index: u64 = index
        .parse()
        .map_err(|_| format!("`{index}` is not a whole number"))?;
    let count: u64 = count
        .parse()
        .map_err(|_| format!("`{count}` is not a whole number"))?;
    if count == 0 || index >= count {
        return Err(format!("shard {index}/{count}: need 0 <= I < N"));
    }
    Ok(Shard { index, count })
}

fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) | Err(_) => Err(format!("`{text}` is not a whole number >= 1")),
        Ok(jobs) => Ok(jobs),
    }
}

#[derive(Subcommand)]
enum Command {
    /// Simulate one scenario file and report what happened to every request.
    Run {
        /// The scenario YAML file.
        file: PathBuf,
        /// Seed for every random choice (overrides the scenario's `seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// Report format: text and json report; svg, html and perfetto draw the run
        /// (write them to a file: `> run.svg`).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Leave the timeline out of the report.
        #[arg(long)]
        no_timeline: bool,
        /// The model (fast, exhaustive) or turmoil: the real watchdog and hyper on simulated TCP.
        #[arg(long, value_enum, default_value = "model")]
        engine: Engine,
        /// No progress bar on stderr (there is none anyway when stderr is not a terminal).
        #[arg(short, long)]
        quiet: bool,
    },
    /// Swarm testing: run many generated cases (swarm-v1), each seed first drawing which
    /// features and faults are on, and report the seeds whose violations no rule predicts.
    Explore {
        /// How many seeds: the range is FROM..FROM+SEEDS.
        #[arg(long, default_value_t = 1000)]
        seeds: u64,
        /// First seed of the range.
        #[arg(long, default_value_t = 0)]
        from: u64,
        /// Threads [default: the available parallelism].
        #[arg(long, value_parser = parse_jobs)]
        jobs: Option<usize>,
        /// Run only shard I of N: the seeds with (seed - FROM) % N == I. Shards never overlap.
        #[arg(long, value_name = "I/N", value_parser = parse_shard)]
        shard: Option<Shard>,
        /// Run each seed twice and compare the hashes of the full trace and ledger.
        #[arg(long)]
        check_determinism: bool,
        /// Append failing seeds here, in the regression-seed format; each shrunk
        /// reproduction is written as a scenario file beside it.
        #[arg(long, default_value = "explore-failures.txt")]
        failures: PathBuf,
        /// One line per seed with the features drawn and the classification.
        #[arg(short, long)]
        verbose: bool,
        /// Do not shrink failing seeds.
        #[arg(long)]
        no_shrink: bool,
        /// Plant a bug in the model (mutation testing of the explorer).
        #[arg(long, value_enum, hide = true)]
        mutation: Option<MutationArg>,
        /// No progress bar on stderr (there is none anyway when stderr is not a terminal).
        #[arg(short, long)]
        quiet: bool,
    },
    /// Replay regression seeds and check that each gives its recorded classification and trace
    /// hash, bit for bit.
    Replay {
        /// The regression file.
        #[arg(default_value = "regressions/seeds.txt")]
        file: PathBuf,
        /// Replay only the row on this line of the file.
        #[arg(long)]
        line: Option<usize>,
        /// Rewrite the EXPECTED and HASH of every replayed row with what the run gives now
        /// (after a deliberate change of the model or the rules; review the diff).
        #[arg(long)]
        bless: bool,
    },
    /// Print the case a swarm-v1 seed draws, as a scenario file `faasim run` reads.
    Swarm {
        /// The seed.
        seed: u64,
    },
    /// Lint OpenFaaS and Kubernetes files (stack files, Function resources, Helm values,
    /// rendered manifests) for timeout interactions; every finding is proven by a simulated run.
    Check {
        /// The files to read, which of their functions, and what the files cannot say.
        #[command(flatten)]
        inputs: InputArgs,
        /// Output format.
        #[arg(
            short = 'o',
            long = "output-format",
            value_enum,
            default_value = "human"
        )]
        output: CheckFormat,
        /// Exit 1 when a finding is at least this severe [default: error, or .faasim.yaml's].
        #[arg(long, value_enum)]
        fail_on: Option<SeverityArg>,
        /// Do not report this rule (repeatable).
        #[arg(long, value_name = "RULE")]
        ignore: Vec<String>,
        /// Callers in the simulated runs (hey -c).
        #[arg(long, default_value_t = 5)]
        concurrency: u32,
        /// The longest a handler runs [default: just under exec_timeout].
        #[arg(long, value_name = "DURATION")]
        max_duration: Option<String>,
        /// The callers' own timeout [default: unknown, the client rule is skipped].
        #[arg(long, value_name = "DURATION")]
        client_timeout: Option<String>,
        /// The callers' method: POST is never retried, GET may be.
        #[arg(long, default_value = "POST")]
        method: String,
        /// Do not search the smallest safe value with the simulator.
        #[arg(long)]
        no_search: bool,
        /// Colour: auto (a terminal and no NO_COLOR), always or never.
        #[arg(long, value_enum, default_value = "auto")]
        color: ColorArg,
    },
    /// List the rules `faasim check` applies.
    Rules,
    /// `faasim explain RULE` prints a rule's page (the text of docs/rules.md);
    /// `faasim explain --function NAME [FILES]` prints that function's timeout chain from the
    /// client to its handler, with effective values, where each came from and which limit
    /// fires first.
    Explain {
        /// A function in the inputs: print its timeout chain (the positional arguments are then
        /// the files to read).
        #[arg(long, value_name = "NAME")]
        function: Option<String>,
        /// The files to read with `--function`, as `check` reads them.
        #[command(flatten)]
        inputs: InputArgs,
        /// With `--function`: the longest a handler runs [default: just under exec_timeout,
        /// as `check` assumes].
        #[arg(long, value_name = "DURATION")]
        max_duration: Option<String>,
    },
}

/// The inputs `check` and `explain --function` read.
#[derive(clap::Args, Clone, Debug)]
struct InputArgs {
    /// Files to read; `-` is standard input [default: stack.yaml, else stack.yml].
    paths: Vec<String>,
    /// A file to read, as faas-cli's -f (repeatable).
    #[arg(short = 'f', long = "yaml", value_name = "FILE")]
    yaml: Vec<String>,
    /// Only functions whose name matches this wildcard.
    #[arg(long)]
    filter: Option<String>,
    /// Only functions whose name matches this regular expression.
    #[arg(long)]
    regex: Option<String>,
    /// Substitute ${VAR} and ${VAR:-default} in stack files, as faas-cli does.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    envsubst: bool,
    /// The file name standard input's findings point to (e.g. where `helm template` writes
    /// it), so that SARIF locations name a file in the repository [default: <stdin>].
    #[arg(long, value_name = "FILE")]
    stdin_name: Option<String>,
    /// OpenFaaS edition [default: the chart values' openfaasPro, else ce].
    #[arg(long, value_name = "ce|pro")]
    edition: Option<String>,
    /// Endpoint propagation delay, a duration or a range A..B [default: 0s..1s].
    #[arg(long, value_name = "DURATION")]
    endpoint_lag: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum CheckFormat {
    Human,
    Json,
    Sarif,
    Github,
    Html,
}

impl CheckFormat {
    /// The library's format of the same name.
    fn format(self) -> CheckOutput {
        match self {
            CheckFormat::Human => CheckOutput::Human,
            CheckFormat::Json => CheckOutput::Json,
            CheckFormat::Sarif => CheckOutput::Sarif,
            CheckFormat::Github => CheckOutput::Github,
            CheckFormat::Html => CheckOutput::Html,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum SeverityArg {
    Error,
    Warning,
    Note,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

impl InputArgs {
    fn check_args(&self) -> CheckArgs {
        let mut paths = self.paths.clone();
        paths.extend(self.yaml.iter().cloned());
        CheckArgs {
            paths,
            filter: self.filter.clone(),
            regex: self.regex.clone(),
            envsubst: self.envsubst,
            stdin_name: self.stdin_name.clone(),
            edition: self.edition.clone(),
            endpoint_lag: self.endpoint_lag.clone(),
            ..CheckArgs::default()
        }
    }
}

/// The process's working directory, environment and (when `-` is an input) standard input.
fn process_inputs(
    args: &CheckArgs,
) -> (
    PathBuf,
    std::collections::BTreeMap<String, String>,
    Option<String>,
) {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let env = std::env::vars().collect();
    let stdin = args.paths.iter().any(|p| p == "-").then(|| {
        // Bounded like any input file: an endless pipe must not fill memory.
        faasim_sim::input_file::read_bounded(std::io::stdin().lock()).unwrap_or_else(|error| {
            eprintln!("error: standard input: {error}");
            std::process::exit(2)
        })
    });
    (cwd, env, stdin)
}

fn emit_outcome(outcome: &Outcome) -> ExitCode {
    print!("{}", outcome.stdout);
    eprint!("{}", outcome.stderr);
    ExitCode::from(outcome.code)
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Run {
            file,
            seed,
            format,
            no_timeline,
            engine,
            quiet,
        } => run(&file, seed, format, no_timeline, engine, quiet),
        Command::Explore {
            seeds,
            from,
            jobs,
            shard,
            check_determinism,
            failures,
            verbose,
            no_shrink,
            mutation,
            quiet,
        } => {
            let options = Options {
                check_determinism,
                shrink: !no_shrink,
                mutation: mutation.map_or(Mutation::None, MutationArg::mutation),
            };
            explore_command(
                seeds, from, jobs, shard, &options, &failures, verbose, quiet,
            )
        }
        Command::Replay { file, line, bless } => replay(&file, line, bless),
        Command::Check {
            inputs,
            output,
            fail_on,
            ignore,
            concurrency,
            max_duration,
            client_timeout,
            method,
            no_search,
            color,
        } => {
            let color = match color {
                ColorArg::Always => true,
                ColorArg::Never => false,
                ColorArg::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            let args = CheckArgs {
                format: output.format(),
                fail_on: fail_on.map(|s| match s {
                    SeverityArg::Error => Severity::Error,
                    SeverityArg::Warning => Severity::Warning,
                    SeverityArg::Note => Severity::Note,
                }),
                ignore,
                concurrency,
                max_duration,
                client_timeout,
                method: Some(method),
                no_search,
                color,
                ..inputs.check_args()
            };
            let (cwd, env, stdin) = process_inputs(&args);
            emit_outcome(&command::check(&args, cwd, env, stdin))
        }
        Command::Rules => {
            print!("{}", explain::rule_list());
            ExitCode::SUCCESS
        }
        Command::Explain {
            function,
            inputs,
            max_duration,
        } => match function {
            Some(name) => {
                let args = CheckArgs {
                    max_duration,
                    ..inputs.check_args()
                };
                let (cwd, env, stdin) = process_inputs(&args);
                emit_outcome(&command::explain_function(&args, &name, cwd, env, stdin))
            }
            None => match inputs.paths.as_slice() {
                [id] => match explain::find(id) {
                    Some(rule) => {
                        print!("{}", explain::rule_page(rule));
                        ExitCode::SUCCESS
                    }
                    None => {
                        eprintln!("error: no rule `{id}` (faasim rules lists them)");
                        ExitCode::from(2)
                    }
                },
                _ => {
                    eprintln!(
                        "error: give one rule id (faasim rules lists them), or --function NAME"
                    );
                    ExitCode::from(2)
                }
            },
        },
        Command::Swarm { seed } => {
            let case = swarm::case(seed);
            let meta = emit::Meta {
                name: format!("{} seed {seed}", swarm::GENERATOR),
                seed: Some(seed),
                limit_ns: Some(swarm::LIMIT_NS),
                comments: vec![format!("features: {}", case.feature_line())],
            };
            print!("{}", emit::scenario(&meta, &case.config, &case.events).yaml);
            ExitCode::SUCCESS
        }
    }
}

fn run(
    file: &Path,
    seed: Option<u64>,
    format: Format,
    no_timeline: bool,
    engine: Engine,
    quiet: bool,
) -> ExitCode {
    let loaded = match scenario::load(file) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let seed = seed.or(loaded.seed).unwrap_or(DEFAULT_SEED);
    let requests = loaded.config.load.requests;
    if matches!(format, Format::Svg | Format::Html | Format::Perfetto)
        && requests > faasim_model::limits::LEDGER_KEPT_MAX
    {
        // A run past the ledger's limit streams and keeps no request to draw.
        eprintln!(
            "error: --format {}: a picture draws every request, and {} sends {requests} \
             (load.requests), more than the {} a run keeps whole; use --format text or json",
            format
                .to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_string()),
            file.display(),
            faasim_model::limits::LEDGER_KEPT_MAX
        );
        return ExitCode::from(2);
    }
    let run = match engine {
        Engine::Model => {
            // The bar draws only once the run has simulated a batch of events: a short run
            // ends before it shows.
            let bar = progress::bar(loaded.config.load.requests, "requests", quiet);
            let mut observe = |at: faasim_sim::progress::Progress| {
                bar.set_position(at.sent.min(at.total));
            };
            let run = simulate_scenario_observed(&loaded, seed, !no_timeline, &mut observe);
            bar.finish_and_clear();
            run
        }
        Engine::Turmoil => match faasim_turmoil::run_turmoil(&loaded, seed) {
            Ok(run) => run,
            Err(error) => {
                eprintln!(
                    "error: {}: the turmoil engine cannot run it: {error}",
                    file.display()
                );
                return ExitCode::from(2);
            }
        },
    };
    let mut header = Header::of_run(&loaded, &run);
    if engine == Engine::Turmoil
        && let Some(warning) = faasim_turmoil::rtt_warning(loaded.config.network.rtt_ns)
    {
        header.warnings.push(warning);
    }
    let text = match format {
        Format::Text => report::text(&run, &header),
        Format::Json => report::json(&run, &header),
        Format::Svg => picture::svg(&run, &header, &loaded.events),
        Format::Html => picture::html(&run, &header, &loaded.events),
        Format::Perfetto => picture::perfetto(&run, &header, &loaded.events),
    };
    print!("{text}");
    // A run cut by its limit proves nothing about the requests it cut: not a pass.
    if run.verdict() == Verdict::Pass {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[allow(clippy::too_many_arguments)] // one per flag of `faasim explore`
fn explore_command(
    count: u64,
    from: u64,
    jobs: Option<usize>,
    shard: Option<Shard>,
    options: &Options,
    failures_path: &Path,
    verbose: bool,
    quiet: bool,
) -> ExitCode {
    if from.checked_add(count).is_none() {
        eprintln!("error: --from {from} --seeds {count} runs past the largest seed");
        return ExitCode::from(2);
    }
    let shard = shard.unwrap_or(Shard { index: 0, count: 1 });
    let jobs = jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get));
    let seeds: Vec<u64> = explore::shard_seeds(from, count, shard.index, shard.count).collect();
    println!(
        "{}: seeds {from}..{} shard {}/{}: {} seeds on {jobs} threads",
        swarm::GENERATOR,
        from + count,
        shard.index,
        shard.count,
        seeds.len()
    );
    let progress = progress::bar(seeds.len() as u64, "seeds", quiet);
    let mut summary = Summary::default();
    let mut failures_file: Option<std::fs::File> = None;
    let mut error: Option<String> = None;
    let started = Instant::now();
    explore::sweep(&seeds, jobs, options, |report| {
        summary.add(&report);
        let failed = report.failed();
        if verbose || failed {
            let prefix = if failed { "FAIL " } else { "" };
            progress.suspend(|| println!("{prefix}{}", explore::seed_line(&report)));
        }
        if failed && error.is_none() {
            if failures_file.is_none() {
                match failures::open(failures_path) {
                    Ok(file) => failures_file = Some(file),
                    Err(e) => error = Some(e),
                }
            }
            if let Some(file) = failures_file.as_mut() {
                match failures::record(file, failures_path, &report, options.mutation) {
                    Ok(Some(yaml)) => {
                        let shrunk = report.shrunk.as_ref();
                        progress.suspend(|| {
                            println!(
                                "  shrunk to {} ({} events, {} requests, {} replicas): {}",
                                yaml.display(),
                                shrunk.map_or(0, |s| s.events.len()),
                                shrunk.map_or(0, |s| s.config.load.requests),
                                shrunk.map_or(0, |s| s.config.function.scale_min),
                                shrunk.map_or_else(String::new, |s| s.verdict.expected())
                            );
                        });
                    }
                    Ok(None) => {}
                    Err(e) => error = Some(e),
                }
            }
        }
        progress.inc(1);
    });
    progress.finish_and_clear();
    // The one place wall time is read: the rate, printed, never recorded.
    let elapsed = started.elapsed().as_secs_f64();
    let rate = if elapsed > 0.0 {
        summary.seeds as f64 / elapsed
    } else {
        0.0
    };
    println!(
        "seeds run: {} in {elapsed:.2} s: {rate:.1} seeds/s ({} simulated events)",
        summary.seeds, summary.events
    );
    println!("classes: {}", summary.class_line());
    if summary.failures.is_empty() {
        println!("failures: none");
    } else {
        let shown: Vec<String> = summary
            .failures
            .iter()
            .take(20)
            .map(u64::to_string)
            .collect();
        let more = summary.failures.len().saturating_sub(20);
        println!(
            "failures: {} (seeds {}{}), appended to {}",
            summary.failures.len(),
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            },
            failures_path.display()
        );
    }
    if let Some(error) = error {
        eprintln!("error: {error}");
        return ExitCode::from(2);
    }
    if summary.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn replay(file: &Path, line: Option<usize>, bless: bool) -> ExitCode {
    let rows = match regression::load(file) {
        Ok(rows) => rows,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let rows: Vec<_> = match line {
        None => rows,
        Some(line) => {
            let chosen: Vec<_> = rows.into_iter().filter(|r| r.line == line).collect();
            if chosen.is_empty() {
                eprintln!("error: {}:{line}: no row on this line", file.display());
                return ExitCode::from(2);
            }
            chosen
        }
    };
    let base = regression::base_of(file);
    let mut mismatches = 0;
    let mut blessed: Vec<(usize, String)> = Vec::new();
    for row in &rows {
        match regression::replay(row, &base) {
            Ok(replayed) => {
                if !replayed.matches() {
                    mismatches += 1;
                    blessed.push((
                        row.line,
                        regression::format_row(
                            row.seed,
                            &row.source,
                            &replayed.expected,
                            replayed.hash,
                        ),
                    ));
                }
                println!("{}", replayed.line());
            }
            Err(error) => {
                eprintln!("error: {}:{}: {error}", file.display(), row.line);
                return ExitCode::from(2);
            }
        }
    }
    println!(
        "{} rows: {} match, {mismatches} mismatch",
        rows.len(),
        rows.len() - mismatches
    );
    if bless && !blessed.is_empty() {
        if let Err(error) = regression::rewrite_rows(file, &blessed) {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
        println!("blessed {} rows in {}", blessed.len(), file.display());
        return ExitCode::SUCCESS;
    }
    if mismatches == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `-o` takes exactly the library's format names.
    #[test]
    fn format_names_match_clap() {
        let names: Vec<&str> = CheckFormat::value_variants()
            .iter()
            .map(|format| {
                let value = format.to_possible_value().expect("a value");
                assert_eq!(value.get_name(), format.format().name());
                format.format().name()
            })
            .collect();
        let library: Vec<&str> = CheckOutput::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names, library);
    }
}
