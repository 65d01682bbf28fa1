//! The `faasim` command: parse the arguments, run, map the verdict to an exit code
//! (0 pass, 1 a property violated, 2 usage or input error).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use faasim_sim::report::{self, Header};
use faasim_sim::{DEFAULT_LIMIT_NS, DEFAULT_SEED, scenario, simulate};

#[derive(Parser)]
#[command(
    name = "faasim",
    version,
    about = "Can an in-flight request be dropped when my OpenFaaS function is scaled down, rolled out or evicted?"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
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
        /// Report format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Leave the timeline out of the report.
        #[arg(long)]
        no_timeline: bool,
    },
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
        } => {
            let loaded = match scenario::load(&file) {
                Ok(loaded) => loaded,
                Err(error) => {
                    eprintln!("error: {error}");
                    return ExitCode::from(2);
                }
            };
            let seed = seed.or(loaded.seed).unwrap_or(DEFAULT_SEED);
            let limit_ns = loaded.limit_ns.unwrap_or(DEFAULT_LIMIT_NS);
            let run = simulate(&loaded.config, &loaded.events, limit_ns, seed, !no_timeline);
            let header = Header {
                name: loaded.name.clone(),
                source: loaded.source.clone(),
                warnings: loaded
                    .warnings
                    .iter()
                    .map(|w| format!("{}: {}", w.key, w.message))
                    .collect(),
            };
            let text = match format {
                Format::Text => report::text(&run, &header),
                Format::Json => report::json(&run, &header),
            };
            print!("{text}");
            if run.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}
