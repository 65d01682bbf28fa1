//! Input errors: one line for the command line (`FILE:LINE:COL: message`) and a plain-text
//! snippet of the offending line with a caret under the value, like rustc and miette print,
//! without colour (so it reads the same in CI logs, files and terminals).

use std::error::Error as StdError;
use std::fmt;

use faasim_sim::yaml::one_line;

/// Why the inputs cannot be checked (exit code 2). Displays on one line:
/// `FILE:LINE:COL: key `a.b`: message`, leaving out what is not known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file as given (`<stdin>` for standard input).
    pub file: String,
    /// 1-based line, when the error has a place in the file.
    pub line: Option<usize>,
    /// 1-based column in characters, when known.
    pub column: Option<usize>,
    /// The dotted key the error is about, when known (e.g. `function.environment.write_timeout`).
    pub key: Option<String>,
    /// What is wrong, on one line.
    pub message: String,
    /// The offending line and how much of it to underline, for [`InputError::render`].
    snippet: Option<Box<Snippet>>,
}

/// The text of the offending line and the characters to underline from the column.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Snippet {
    /// The offending line.
    text: String,
    /// How many characters to underline from the column.
    width: usize,
}

impl InputError {
    /// An error about a whole file (cannot read it, nothing found ...).
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> InputError {
        InputError {
            file: file.into(),
            line: None,
            column: None,
            key: None,
            message: one_line(&message.into()).trim_end().to_string(),
            snippet: None,
        }
    }

    /// An error at `line`:`column` of `file`, with the text of that line (`snippet`) to show
    /// under it and `width` characters to underline.
    pub fn at(
        file: impl Into<String>,
        line: usize,
        column: usize,
        key: Option<String>,
        message: impl Into<String>,
        snippet: Option<String>,
        width: usize,
    ) -> InputError {
        InputError {
            file: file.into(),
            line: Some(line),
            column: Some(column),
            key,
            message: one_line(&message.into()).trim_end().to_string(),
            snippet: snippet.map(|text| Box::new(Snippet { text, width })),
        }
    }

    /// The text of the offending line, when known.
    pub fn snippet(&self) -> Option<&str> {
        self.snippet.as_ref().map(|s| s.text.as_str())
    }

    /// An error that concerns no file (bad flags).
    pub fn usage(message: impl Into<String>) -> InputError {
        InputError::file(String::new(), message)
    }

    /// The error with a snippet of the line and a caret under the value, several lines of plain
    /// text ending with a line break:
    ///
    /// ```text
    /// error: of-watchdog refuses to start: HTTP write timeout must be over 0s
    ///   --> stack.yml:7:22
    ///    |
    ///  7 |       write_timeout: 0
    ///    |                      ^ function.environment.write_timeout
    /// ```
    ///
    /// Without a line to show, one line: `error: FILE[:LINE[:COL]]: message`.
    pub fn render(&self) -> String {
        let (Some(line), Some(snippet)) = (self.line, self.snippet.as_deref()) else {
            // No line to show: the one line names the file (and line) itself, as every exit 2
            // must, rather than leaving the path alone on a line of its own.
            return format!("error: {self}\n");
        };
        let mut out = format!("error: {}\n", self.message);
        let column = self.column.unwrap_or(1).max(1);
        let number = line.to_string();
        let pad = " ".repeat(number.len());
        out.push_str(&format!("{pad}--> {}:{line}:{column}\n", self.file));
        out.push_str(&format!("{pad} |\n"));
        let text = snippet.text.trim_end_matches(['\r', '\n']);
        out.push_str(&format!("{number} | {text}\n"));
        // Keep tabs so the caret lines up under a tab-indented value.
        let lead: String = text
            .chars()
            .take(column - 1)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        let available = text.chars().count().saturating_sub(column - 1).max(1);
        let carets = "^".repeat(snippet.width.clamp(1, available));
        out.push_str(&format!("{pad} | {lead}{carets}"));
        if let Some(key) = &self.key {
            out.push_str(&format!(" {}", one_line(key)));
        }
        out.push('\n');
        out
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.file.is_empty() {
            f.write_str(&self.file)?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(column) = self.column {
                    write!(f, ":{column}")?;
                }
            }
            f.write_str(": ")?;
        }
        if let Some(key) = &self.key {
            // A key may be any YAML scalar, a multi-line one included: it stays on the line.
            write!(f, "key `{}`: ", one_line(key))?;
        }
        f.write_str(&self.message)
    }
}

impl StdError for InputError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_and_snippet() {
        let error = InputError::at(
            "stack.yml",
            7,
            22,
            Some("function.environment.write_timeout".into()),
            "must be over 0s",
            Some("      write_timeout: 0".into()),
            1,
        );
        assert_eq!(
            error.to_string(),
            "stack.yml:7:22: key `function.environment.write_timeout`: must be over 0s"
        );
        let rendered = error.render();
        assert_eq!(
            rendered,
            "error: must be over 0s\n \
             --> stack.yml:7:22\n  \
             |\n\
             7 |       write_timeout: 0\n  \
             |                      ^ function.environment.write_timeout\n"
        );
        let bare = InputError::file("x.yml", "cannot read");
        assert_eq!(bare.to_string(), "x.yml: cannot read");
        assert_eq!(bare.render(), "error: x.yml: cannot read\n");
    }

    /// The bug `fuzz_scenario` found in scenario errors, here too: a key with a line break in it
    /// (a quoted or multi-line YAML key) stays on the error's one line and on the caret line.
    #[test]
    fn a_multi_line_key_stays_on_one_line() {
        let error = InputError::at(
            "stack.yml",
            2,
            3,
            Some("functions.a\nb".into()),
            "unknown",
            Some("  \"a\\nb\": 1".into()),
            1,
        );
        assert_eq!(
            error.to_string(),
            "stack.yml:2:3: key `functions.a b`: unknown"
        );
        let rendered = error.render();
        assert_eq!(rendered.lines().count(), 5, "{rendered}");
        assert!(
            rendered
                .lines()
                .last()
                .unwrap()
                .ends_with("^ functions.a b"),
            "{rendered}"
        );
    }
}
