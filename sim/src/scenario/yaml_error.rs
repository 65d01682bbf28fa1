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
