//! YAML positions, shared by scenario loading and `faasim check`: a YAML tree whose every node
//! knows where it starts and ends (`tree`), the key path of a line and column on text that may
//! be malformed (`path`), the [`Segment`]s both name keys with, and [`one_line`] for messages.

mod path;
mod tree;

use std::fmt;

pub use path::{format_path, key_path_at};
pub use tree::{Kind, Node, Pos, YamlError, contains, parse_documents};

/// One step of a key path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A list index, 0-based.
    Index(usize),
}

impl fmt::Display for Segment {
    /// A key as written; an index as `[N]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Key(key) => f.write_str(key),
            Segment::Index(index) => write!(f, "[{index}]"),
        }
    }
}

/// Replaces control characters (line breaks included) by spaces, so a message stays on one
/// line.
pub fn one_line(message: &str) -> String {
    message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
