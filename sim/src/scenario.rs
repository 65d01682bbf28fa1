//! Scenario files: reading the YAML of `scenario-format.md` into a [`Config`] and a sorted
//! schedule, with every default documented here and every error naming file, line and key.
//!
//! Reading happens in two passes. serde-saphyr first deserializes the text into the `Raw*`
//! structs below, which mirror the YAML key for key (`deny_unknown_fields`, every leaf a
//! [`Spanned`] string so numbers, booleans and durations are validated here, with their
//! location; `raw.rs`). Then [`parse`] checks and converts each value into the model's types
//! (`convert.rs`). When serde-saphyr itself fails (malformed YAML, an unknown key, a list where
//! a value belongs), its error only carries a line and column; `yaml_error.rs` names the dotted
//! key (`events[2].drainNode.notice`) the error is about with [`crate::yaml::key_path_at`].

mod convert;
mod raw;
mod yaml_error;

use std::error::Error as StdError;
use std::fmt;
use std::path::Path;

use faasim_model::config::{Config, ConfigWarning};
use faasim_model::schedule::Event;

use crate::yaml::one_line;
use convert::Builder;
use raw::RawScenario;
use yaml_error::yaml_error;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// One scenario, read and checked: the effective configuration and the sorted events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scenario {
    /// `name`, or the file stem when absent.
    pub name: String,
    /// `seed`, when the file gives one (`--seed` overrides it).
    pub seed: Option<u64>,
    /// `limit`: the cap on simulated time, nanoseconds.
    pub limit_ns: Option<u64>,
    /// Every component's settings, defaults filled in.
    pub config: Config,
    /// `events`, sorted by time (stable: equal times keep file order).
    pub events: Vec<Event>,
    /// Values a real component would silently replace, and other things worth telling.
    pub warnings: Vec<ConfigWarning>,
    /// The file name as given to [`load`] (or the `source` given to [`parse`]).
    pub source: String,
}

/// Why a scenario could not be read. Displays as one line:
/// `FILE:LINE:COL: key `a.b.c`: message`, leaving out the parts that are not known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file name as given.
    pub file: String,
    /// 1-based line, when the error has a place in the file.
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    pub column: Option<usize>,
    /// The dotted key path, e.g. `load.concurrency` or `events[2].drainNode.notice`.
    pub key: Option<String>,
    /// What is wrong, on one line.
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        if let Some(key) = &self.key {
            // A key may be any YAML scalar, a multi-line one included: it stays on the line.
            write!(f, "key `{}`: ", one_line(key))?;
        }
        f.write_str(&one_line(&self.message))
    }
}

impl StdError for ScenarioError {}

/// Reads and checks the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = crate::input_file::read_text(path).map_err(|error| {
        // Text that is not UTF-8 has a place: the first byte that is not.
        let (line, column) = match error {
            crate::input_file::InputFileError::NotText { line, column } => {
                (Some(line), Some(column))
            }
            _ => (None, None),
        };
        ScenarioError {
            file: file.clone(),
            line,
            column,
            key: None,
            message: format!("cannot read file: {error}"),
        }
    })?;
    parse(&text, &file)
}

/// Reads and checks scenario `text`; `source` is the file name used in errors and for the
/// default `name`.
pub fn parse(text: &str, source: &str) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario =
        serde_saphyr::from_str(text).map_err(|error| yaml_error(source, text, &error))?;
    Builder {
        file: source,
        warnings: Vec::new(),
    }
    .scenario(raw)
}
