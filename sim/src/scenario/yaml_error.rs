//! serde-saphyr's errors as [`ScenarioError`]s: the key path recovered from the position, and
//! messages that say what a scenario file should hold there.

use serde_saphyr::{MessageFormatter, UserMessageFormatter};

use super::ScenarioError;
use super::convert::loc_of;
use crate::yaml::{format_path, key_path_at, one_line};

/// Unwraps the snippet and alias wrappers serde-saphyr puts around the error that happened.
fn original(mut error: &serde_saphyr::Error) -> &serde_saphyr::Error {
    loop {
        match error {
            serde_saphyr::Error::WithSnippet { error: inner, .. }
            | serde_saphyr::Error::AliasError { error: inner, .. } => error = inner,
            _ => return error,
        }
    }
}

/// A serde-saphyr error on `text` of `file` as a one-line [`ScenarioError`].
pub(super) fn yaml_error(file: &str, text: &str, error: &serde_saphyr::Error) -> ScenarioError {
    let inner = original(error);
    let loc = error.location().as_ref().and_then(loc_of);
    // serde's `duplicate field` is placed at the mapping, if at all; the tree names the key.
    let duplicate = UserMessageFormatter
        .format_message(inner)
        .starts_with("duplicate field");
    if (loc.is_none() || duplicate)
        && let Some(located) = tree_error(file, text)
    {
        return located;
    }
    let unknown_key = matches!(inner, serde_saphyr::Error::SerdeUnknownField { .. });
    let path = loc.and_then(|(line, column)| key_path_at(text, line, column, unknown_key));
    let message = match inner {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let parent = path.as_ref().map(|segments| {
                let end = segments.len().saturating_sub(1);
                format_path(segments.get(..end).unwrap_or_default())
            });
            let place = match parent.as_deref() {
                None | Some("") => "at the top level".to_string(),
                Some(parent) => format!("in `{parent}`"),
            };
            if expected.is_empty() {
                format!("unknown key `{field}` {place}, which takes no keys")
            } else {
                format!(
                    "unknown key `{field}` {place}; expected one of: {}",
                    expected.join(", ")
                )
            }
        }
        serde_saphyr::Error::Unexpected { expected, .. } => {
            let what = match *expected {
                "string scalar" | "scalar" => "a single value here, not a list or a mapping",
                "mapping start" => "a mapping (`key: value` lines or `{...}`) here",
                "sequence start" => "a list (`- item` lines or `[...]`) here",
                other => other,
            };
            format!("expected {what}")
        }
        other => UserMessageFormatter.format_message(other).into_owned(),
    };
    let key = path
        .map(|segments| format_path(&segments))
        .filter(|key| !key.is_empty());
    ScenarioError {
        file: file.to_string(),
        line: loc.map(|(line, _)| line),
        column: loc.map(|(_, column)| column),
        key,
        message: one_line(&message),
    }
}

/// serde's own errors carry no place (`duplicate field` from a derived struct, when the second
/// key is tagged, `!tag seed: 2`, so that serde-saphyr's own check of equal keys misses it:
/// found by fuzz_scenario). The YAML tree `faasim check` reads files with finds the problem
/// with its place; its error stands in for the unlocated one.
fn tree_error(file: &str, text: &str) -> Option<ScenarioError> {
    let error = crate::yaml::parse_documents(text).err()?;
    let (line, column) = line_column(text, error.pos.index);
    let message = match error.first {
        Some(first) => format!(
            "{} (first at line {})",
            error.message,
            line_column(text, first.index).0
        ),
        None => error.message,
    };
    let key = key_path_at(text, line, column, true)
        .map(|segments| format_path(&segments))
        .filter(|key| !key.is_empty());
    Some(ScenarioError {
        file: file.to_string(),
        line: Some(line),
        column: Some(column),
        key,
        message: one_line(&message),
    })
}

/// 1-based line and column (in characters) of character `index` of `text`.
fn line_column(text: &str, index: usize) -> (usize, usize) {
    let mut line = 1;
    let mut column = 1;
    for c in text.chars().take(index) {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    (line, column)
}
