//! Regression seeds: a committed text file of runs whose outcome is pinned bit for bit.
//!
//! Format, version 1:
//!
//! ```text
//! faasim-regressions 1
//! # comments and blank lines are ignored
//! SEED<TAB>SOURCE<TAB>EXPECTED<TAB>HASH
//! ```
//!
//! - The first line names the format and its version. A file of another version, or one without
//!   this line, is refused loudly (it may mean something else), never guessed at.
//! - SEED: the seed of the run (decimal u64). For a scenario it overrides the file's `seed`.
//! - SOURCE: `swarm-v1` (the case is `swarm::case(SEED)`), or `scenario:PATH` with PATH
//!   relative to the regression file's folder. Any other generator is refused loudly: a seed
//!   only means something to the generator that drew it.
//! - EXPECTED: the classification against the rules (`explore::Verdict::expected`): `pass`,
//!   `unexercised`, or `predicted:`, `entailed:`, `excused:`, `fail:` followed by the violated properties,
//!   comma-separated, in report order.
//! - HASH: FNV-1a 64, as 16 lowercase hex digits, of the JSON report with the timeline on, whose
//!   header is fixed by the row (`explore::swarm_header`; for a scenario its `name`, the SOURCE
//!   as written and its warnings), so it does not depend on where faasim runs. The hash covers
//!   every request's ledger entry, every pod's end and the whole timeline: a row replays only if
//!   the run is the same bit for bit.

use std::fmt;
use std::path::{Path, PathBuf};

use faasim_model::properties::Property;

use crate::explore::{self, Class, Verdict};
use crate::report::Header;
use crate::{Run, scenario, simulate, swarm};

/// The first line of a version 1 file.
pub const HEADER: &str = "faasim-regressions 1";

/// The format version this faasim reads and writes.
pub const VERSION: u32 = 1;

/// Where a row's case comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `swarm-v1`.
    Swarm,
    /// `scenario:PATH`, PATH relative to the regression file's folder, as written.
    Scenario(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Swarm => f.write_str(swarm::GENERATOR),
            Source::Scenario(path) => write!(f, "scenario:{path}"),
        }
    }
}

/// One row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// 1-based line in the file.
    pub line: usize,
    /// The run's seed.
    pub seed: u64,
    /// The case.
    pub source: Source,
    /// The classification, as written.
    pub expected: String,
    /// The trace hash.
    pub hash: u64,
}

impl Row {
    /// The row as a line of the file (no newline).
    pub fn format(&self) -> String {
        format_row(self.seed, &self.source, &self.expected, self.hash)
    }
}

/// A row's text.
pub fn format_row(seed: u64, source: &Source, expected: &str, hash: u64) -> String {
    format!("{seed}\t{source}\t{expected}\t{hash:016x}")
}

/// Why a regression file cannot be used; displays as `FILE:LINE: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    /// The file as given.
    pub file: String,
    /// 1-based line, when the error has one.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for FormatError {}

/// Checks an EXPECTED field: a known class, and for the violating classes known properties.
fn check_expected(expected: &str) -> Result<(), String> {
    let (class, properties) = match expected.split_once(':') {
        Some((class, properties)) => (class, Some(properties)),
        None => (expected, None),
    };
    let Some(class) = Class::from_name(class) else {
        return Err(format!(
            "unknown classification `{class}` in `{expected}` (expected one of: {})",
            Class::ALL.map(Class::name).join(", ")
        ));
    };
    let needs_properties = !matches!(class, Class::Pass | Class::Unexercised);
    match properties {
        None if needs_properties => Err(format!(
            "`{expected}` needs the violated properties, e.g. `{}:no-timeout`",
            class.name()
        )),
        Some(_) if !needs_properties => Err(format!(
            "`{}` violates nothing, so takes no properties: `{expected}`",
            class.name()
        )),
        None => Ok(()),
        Some(list) => {
            for name in list.split(',') {
                if Property::from_name(name).is_none() {
                    return Err(format!(
                        "unknown property `{name}` in `{expected}` (expected: {})",
                        Property::ALL.map(Property::name).join(", ")
                    ));
                }
            }
            Ok(())
        }
    }
}

/// Reads the rows of `text`; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Vec<Row>, FormatError> {
    let error = |line: usize, message: String| FormatError {
        file: file.to_string(),
        line: Some(line),
        message,
    };
    let mut lines = text.lines().enumerate();
    let first = lines.next().map(|(_, l)| l.trim_end()).unwrap_or("");
    match first.strip_prefix("faasim-regressions ") {
        Some(version) if version.trim() == VERSION.to_string() => {}
        Some(version) => {
            return Err(error(
                1,
                format!(
                    "unknown format version `{}`: this faasim reads version {VERSION} only \
                     (a newer faasim wrote it, or the file is damaged)",
                    version.trim()
                ),
            ));
        }
        None => {
            return Err(error(
                1,
                format!("not a faasim regression file: the first line must be `{HEADER}`"),
            ));
        }
    }
    let mut rows = Vec::new();
    for (index, raw) in lines {
        let line = index + 1;
        let text = raw.trim_end_matches('\r');
        if text.trim().is_empty() || text.trim_start().starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = text.split('\t').collect();
        if fields.len() != 4 {
            return Err(error(
                line,
                format!(
                    "malformed row: {} tab-separated fields, expected 4 \
                     (SEED<TAB>SOURCE<TAB>EXPECTED<TAB>HASH)",
                    fields.len()
                ),
            ));
        }
        let seed = fields[0].parse::<u64>().map_err(|_| {
            error(
                line,
                format!("malformed row: seed `{}` is not a whole number", fields[0]),
            )
        })?;
        let source = if fields[1] == swarm::GENERATOR {
            Source::Swarm
        } else if let Some(path) = fields[1].strip_prefix("scenario:") {
            if path.is_empty() {
                return Err(error(
                    line,
                    "malformed row: `scenario:` needs a path".to_string(),
                ));
            }
            Source::Scenario(path.to_string())
        } else {
            return Err(error(
                line,
                format!(
                    "unknown generator `{}`: this faasim knows `{}` and `scenario:PATH`",
                    fields[1],
                    swarm::GENERATOR
                ),
            ));
        };
        check_expected(fields[2]).map_err(|m| error(line, format!("malformed row: {m}")))?;
        let hash_ok = fields[3].len() == 16 && fields[3].bytes().all(|b| b.is_ascii_hexdigit());
        let hash = u64::from_str_radix(fields[3], 16)
            .ok()
            .filter(|_| hash_ok)
            .ok_or_else(|| {
                error(
                    line,
                    format!("malformed row: hash `{}` is not 16 hex digits", fields[3]),
                )
            })?;
        rows.push(Row {
            line,
            seed,
            source,
            expected: fields[2].to_string(),
            hash,
        });
    }
    Ok(rows)
}

/// Reads the regression file at `path`.
pub fn load(path: &Path) -> Result<Vec<Row>, FormatError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| FormatError {
        file: file.clone(),
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    parse(&text, &file)
}

/// What a row's run gave.
#[derive(Clone, Debug)]
pub struct Observed {
    /// The classification.
    pub verdict: Verdict,
    /// The trace hash.
    pub hash: u64,
    /// The run itself.
    pub run: Run,
}

impl Observed {
    /// The classification as EXPECTED spells it.
    pub fn expected(&self) -> String {
        self.verdict.expected()
    }
}

/// Runs the case of `seed` from `source`; `base` is the regression file's folder. An error is
/// a scenario that cannot be read (an input error, not a mismatch).
pub fn observe(seed: u64, source: &Source, base: &Path) -> Result<Observed, String> {
    match source {
        Source::Swarm => {
            let case = swarm::case(seed);
            let run = simulate(&case.config, &case.events, swarm::LIMIT_NS, seed, true);
            let verdict = explore::classify(&case.config, &case.events, &run);
            let hash = explore::trace_hash(&run, &explore::swarm_header(seed));
            Ok(Observed { verdict, hash, run })
        }
        Source::Scenario(path) => {
            let full: PathBuf = base.join(path);
            let loaded = scenario::load(&full).map_err(|e| e.to_string())?;
            let limit_ns = loaded.limit_ns.unwrap_or(crate::DEFAULT_LIMIT_NS);
            let run = simulate(&loaded.config, &loaded.events, limit_ns, seed, true);
            let verdict = explore::classify(&loaded.config, &loaded.events, &run);
            let header = Header {
                name: loaded.name.clone(),
                source: source.to_string(),
                warnings: loaded
                    .warnings
                    .iter()
                    .map(|w| format!("{}: {}", w.key, w.message))
                    .collect(),
            };
            let hash = explore::trace_hash(&run, &header);
            Ok(Observed { verdict, hash, run })
        }
    }
}

/// The folder a regression file's relative paths start from.
pub fn base_of(file: &Path) -> PathBuf {
    file.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// A row replayed.
#[derive(Clone, Debug)]
pub struct Replayed {
    /// The row.
    pub row: Row,
    /// What the run gave now.
    pub expected: String,
    /// Its hash now.
    pub hash: u64,
}

impl Replayed {
    /// Same classification and same trace hash.
    pub fn matches(&self) -> bool {
        self.expected == self.row.expected && self.hash == self.row.hash
    }

    /// One line: `LINE SOURCE seed SEED: match` or what differs.
    pub fn line(&self) -> String {
        let head = format!(
            "line {} {} seed {}",
            self.row.line, self.row.source, self.row.seed
        );
        if self.matches() {
            format!(
                "{head}: match ({}, {:016x})",
                self.row.expected, self.row.hash
            )
        } else {
            format!(
                "{head}: MISMATCH: expected {} {:016x}, got {} {:016x}",
                self.row.expected, self.row.hash, self.expected, self.hash
            )
        }
    }
}

/// Replays `row` of the file whose folder is `base`.
pub fn replay(row: &Row, base: &Path) -> Result<Replayed, String> {
    let observed = observe(row.seed, &row.source, base)?;
    Ok(Replayed {
        row: row.clone(),
        expected: observed.expected(),
        hash: observed.hash,
    })
}

/// Rewrites the rows on the given 1-based lines of regression file `file` (`faasim replay
/// --bless`), keeping every other line as it is. The error names the file.
pub fn rewrite_rows(file: &Path, rows: &[(usize, String)]) -> Result<(), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|error| format!("{}: cannot read: {error}", file.display()))?;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    for (line, row) in rows {
        if let Some(slot) = lines.get_mut(line - 1) {
            *slot = row.clone();
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    std::fs::write(file, out).map_err(|error| format!("{}: cannot write: {error}", file.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_their_text() {
        let text = format!(
            "{HEADER}\n# a comment\n\n{}\n{}\n",
            format_row(7, &Source::Swarm, "pass", 0xdead_beef),
            format_row(
                1,
                &Source::Scenario("../scenarios/go-long.yaml".to_string()),
                "fail:no-dropped-in-flight,graceful-exit",
                u64::MAX
            )
        );
        let rows = parse(&text, "r.txt").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 4);
        assert_eq!(rows[0].hash, 0xdead_beef);
        assert_eq!(
            rows[1].source.to_string(),
            "scenario:../scenarios/go-long.yaml"
        );
        let again: Vec<String> = rows.iter().map(Row::format).collect();
        assert_eq!(
            again.join("\n") + "\n",
            text.lines().skip(3).collect::<Vec<_>>().join("\n") + "\n"
        );
    }

    #[test]
    fn bad_files_fail_loudly_naming_file_and_line() {
        let bad = |text: &str| parse(text, "seeds.txt").unwrap_err().to_string();
        assert!(
            bad("faasim-regressions 2\n").starts_with("seeds.txt:1: unknown format version `2`")
        );
        assert!(
            bad("1\tswarm-v1\tpass\t0000000000000000\n").contains("not a faasim regression file")
        );
        let row = |r: &str| format!("{HEADER}\n{r}\n");
        assert!(
            bad(&row("1\tswarm-v9\tpass\t0000000000000000"))
                .starts_with("seeds.txt:2: unknown generator `swarm-v9`")
        );
        assert!(bad(&row("1\tswarm-v1\tpass")).contains("seeds.txt:2: malformed row"));
        assert!(bad(&row("x\tswarm-v1\tpass\t0000000000000000")).contains("seed `x`"));
        assert!(
            bad(&row("1\tswarm-v1\tgood\t0000000000000000")).contains("unknown classification")
        );
        assert!(bad(&row("1\tswarm-v1\tfail\t0000000000000000")).contains("needs the violated"));
        assert!(
            bad(&row("1\tswarm-v1\tfail:no-drops\t0000000000000000")).contains("unknown property")
        );
        assert!(bad(&row("1\tswarm-v1\tpass\t00")).contains("16 hex digits"));
    }
}
