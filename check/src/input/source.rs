//! One input text: its name, the text as written, the text given to the YAML parser (after
//! envsubst), and the map between the two, so that every position is reported in the file as
//! the user sees it.

use super::envsubst::Substitution;
use super::error::InputError;
use crate::Location;
use faasim_sim::yaml::{Node, Pos, YamlError};

/// A file (or standard input) being read.
pub(crate) struct Source {
    /// The name used in locations and errors.
    pub name: String,
    /// The text as written (a byte-order mark removed).
    pub original: String,
    /// The text given to the parser (after envsubst), when different.
    substituted: Option<Substitution>,
    /// Character index of the start of each line of `original`.
    line_starts: Vec<usize>,
    /// Byte offset of the start of each line of `original`, to cut a line's text out without
    /// scanning the file (a stack with an error per function stays linear).
    line_byte_starts: Vec<usize>,
}

impl Source {
    /// A text read as it is.
    pub fn new(name: impl Into<String>, text: &str) -> Source {
        let original = text.strip_prefix('\u{feff}').unwrap_or(text).to_string();
        let mut line_starts = vec![0];
        let mut line_byte_starts = vec![0];
        for (index, (byte, c)) in original.char_indices().enumerate() {
            if c == '\n' {
                line_starts.push(index + 1);
                line_byte_starts.push(byte + 1);
            }
        }
        Source {
            name: name.into(),
            original,
            substituted: None,
            line_starts,
            line_byte_starts,
        }
    }

    /// Use `substitution` of the original text as the parsed text.
    pub fn substitute(&mut self, substitution: Substitution) {
        self.substituted = Some(substitution);
    }

    /// The substitution applied, if any.
    pub fn substitution(&self) -> Option<&Substitution> {
        self.substituted.as_ref()
    }

    /// The text to parse.
    pub fn parsed(&self) -> &str {
        match &self.substituted {
            Some(substitution) => &substitution.text,
            None => &self.original,
        }
    }

    /// The character index in the original text of parsed-text position `pos`.
    fn original_index(&self, pos: Pos) -> usize {
        match &self.substituted {
            Some(substitution) => substitution.original_index(pos.index),
            None => pos.index,
        }
    }

    /// 1-based line and column of an original character index.
    fn line_column(&self, index: usize) -> (usize, usize) {
        let line = self
            .line_starts
            .partition_point(|start| *start <= index)
            .max(1);
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        (line, index - start + 1)
    }

    /// The location of original character index `index`.
    pub fn location_of_original(&self, index: usize) -> Location {
        let (line, column) = self.line_column(index);
        Location {
            file: self.name.clone(),
            line,
            column,
        }
    }

    /// The location of a parsed-text position.
    pub fn location(&self, pos: Pos) -> Location {
        self.location_of_original(self.original_index(pos))
    }

    /// The location of a node's start.
    pub fn node_location(&self, node: &Node) -> Location {
        self.location(node.start)
    }

    /// How many characters a node spans on its first line as written (at least 1).
    pub fn width(&self, node: &Node) -> usize {
        let start = self.original_index(node.start);
        let end = self.original_index(node.end);
        let (line, _) = self.line_column(start);
        let line_end = self
            .line_starts
            .get(line)
            .map(|next| next.saturating_sub(1))
            .unwrap_or(usize::MAX);
        end.min(line_end).saturating_sub(start).max(1)
    }

    /// The text of 1-based line `line` as written.
    pub fn line_text(&self, line: usize) -> Option<String> {
        let start = *self.line_byte_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_byte_starts
            .get(line)
            .map_or(self.original.len(), |next| next - 1);
        self.original.get(start..end).map(str::to_string)
    }

    /// An error at a location of this source.
    pub fn error_at(
        &self,
        location: &Location,
        width: usize,
        key: Option<String>,
        message: impl Into<String>,
    ) -> InputError {
        InputError::at(
            self.name.clone(),
            location.line,
            location.column,
            key,
            message,
            self.line_text(location.line),
            width,
        )
    }

    /// An error about a node.
    pub fn error(
        &self,
        node: &Node,
        key: Option<String>,
        message: impl Into<String>,
    ) -> InputError {
        let location = self.node_location(node);
        self.error_at(&location, self.width(node), key, message)
    }

    /// A YAML problem as an input error.
    pub fn yaml_error(&self, error: &YamlError) -> InputError {
        let location = self.location(error.pos);
        let mut message = error.message.clone();
        if let Some(first) = error.first {
            message.push_str(&format!(" (first at line {})", self.location(first).line));
        }
        self.error_at(&location, 1, None, format!("invalid YAML: {message}"))
    }
}

/// An error that reads the same whatever source it comes from, for a `Location` already known.
pub(crate) fn error_at_location(
    sources: &[Source],
    location: &Location,
    width: usize,
    key: Option<String>,
    message: impl Into<String>,
) -> InputError {
    match sources.iter().find(|s| s.name == location.file) {
        Some(source) => source.error_at(location, width, key, message),
        None => InputError::at(
            location.file.clone(),
            location.line,
            location.column,
            key,
            message,
            None,
            width,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::envsubst::substitute;
    use std::collections::BTreeMap;

    #[test]
    fn locations_map_through_substitution() {
        let text = "a: ${X}\nb: value\n";
        let env: BTreeMap<String, String> = [("X".to_string(), "long-expansion".to_string())]
            .into_iter()
            .collect();
        let mut source = Source::new("f.yml", text);
        source.substitute(substitute(text, &env).unwrap());
        let parsed = source.parsed().to_string();
        let b = parsed
            .chars()
            .take_while(|_| true)
            .collect::<String>()
            .find("value")
            .unwrap();
        let location = source.location(Pos { index: b });
        assert_eq!((location.line, location.column), (2, 4));
        let x = parsed.find("long").unwrap();
        let location = source.location(Pos { index: x });
        assert_eq!((location.line, location.column), (1, 4));
    }
}
