//! `faasim explore`'s failures file: a regression file (`regression`'s format) that each failing
//! seed appends to: a comment, its row, and its shrunk reproduction written as a scenario file
//! beside it with a row of its own. Re-simulating and hashing here keeps the command a thin
//! mapping of results to exit codes.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::explore::{self, SeedReport};
use crate::regression::{self, Source};
use crate::report::Header;
use crate::world::Mutation;
use crate::{scenario, simulate_mutated, swarm};

/// Opens the failures file for appending, writing the format's first line when it is new or
/// empty; refuses a file that is not a regression file.
pub fn open(path: &Path) -> Result<std::fs::File, String> {
    let existing = std::fs::read_to_string(path).unwrap_or_default();
    if !existing.is_empty() {
        regression::parse(&existing, &path.display().to_string()).map_err(|e| e.to_string())?;
    }
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: cannot open: {e}", path.display()))?;
    if existing.is_empty() {
        writeln!(file, "{}", regression::HEADER)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    }
    Ok(file)
}

/// Writes one failing seed: a comment, its row, and its shrunk reproduction beside the file
/// with a row of its own.
pub fn record(
    file: &mut std::fs::File,
    path: &Path,
    report: &SeedReport,
    mutation: Mutation,
) -> Result<Option<PathBuf>, String> {
    let case = swarm::case(report.seed);
    let run = simulate_mutated(
        &case.config,
        &case.events,
        swarm::LIMIT_NS,
        report.seed,
        true,
        mutation,
    );
    let hash = explore::trace_hash(&run, &explore::swarm_header(report.seed));
    let mut text = format!(
        "# {} seed {}: {} broken={} features={}\n",
        swarm::GENERATOR,
        report.seed,
        if report.nondeterministic() {
            "nondeterministic (two runs differ)".to_string()
        } else {
            report.verdict.expected()
        },
        report.verdict.broken.join(","),
        report.features.join(",")
    );
    if mutation != Mutation::None {
        text.push_str(&format!(
            "# found with the planted bug {mutation:?}: these rows replay only with it\n"
        ));
    }
    text.push_str(&regression::format_row(
        report.seed,
        &Source::Swarm,
        &report.verdict.expected(),
        hash,
    ));
    text.push('\n');
    let mut written = None;
    if let Some(shrunk) = &report.shrunk {
        let stem = path.file_stem().map_or_else(
            || "explore-failures".to_string(),
            |s| s.to_string_lossy().into_owned(),
        );
        let name = format!("{stem}-{}-seed-{}.yaml", swarm::GENERATOR, report.seed);
        let yaml_path = regression::base_of(path).join(&name);
        let yaml = explore::shrunk_scenario(report, shrunk, mutation);
        std::fs::write(&yaml_path, &yaml)
            .map_err(|e| format!("{}: cannot write: {e}", yaml_path.display()))?;
        let source = Source::Scenario(name);
        let observed =
            scenario::parse(&yaml, &yaml_path.display().to_string()).map_err(|e| e.to_string())?;
        let run = simulate_mutated(
            &observed.config,
            &observed.events,
            swarm::LIMIT_NS,
            report.seed,
            true,
            mutation,
        );
        let header = Header {
            name: observed.name.clone(),
            source: source.to_string(),
            warnings: observed
                .warnings
                .iter()
                .map(|w| format!("{}: {}", w.key, w.message))
                .collect(),
        };
        let verdict = explore::classify(&observed.config, &observed.events, &run);
        text.push_str(&regression::format_row(
            report.seed,
            &source,
            &verdict.expected(),
            explore::trace_hash(&run, &header),
        ));
        text.push('\n');
        written = Some(yaml_path);
    }
    file.write_all(text.as_bytes())
        .map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    Ok(written)
}
