//! A small YAML tree with positions, built from serde-saphyr's event parser (`granit_parser`),
//! so that every value `faasim check` reads can be traced back to its line and column, across
//! several documents per file and whatever shape each document has.
//!
//! The tree follows what Go's `gopkg.in/yaml.v3` (faas-cli) and `sigs.k8s.io/yaml` (Helm,
//! kubectl) give a `map[string]string`: scalars keep their text (`65` is `"65"`), YAML null is
//! told apart, aliases are expanded (positions stay those of the anchored node, which is where a
//! user changes the value), `<<` merge keys are applied, and a key given twice in one mapping is
//! an error as it is for yaml.v3.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{Event, Marker, Parser, ScalarStyle};

use super::{Segment, one_line};

/// A position in the parsed text, in characters from its start (the source map turns it into a
/// line and column of the file as written).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// Characters from the start of the text.
    pub index: usize,
}

impl Pos {
    fn of(marker: &Marker) -> Pos {
        Pos {
            index: marker.index(),
        }
    }
}

/// One node of a document.
#[derive(Clone, Debug)]
pub struct Node {
    /// Where the node starts.
    pub start: Pos,
    /// Where it ends (exclusive; for block collections, where the next node starts).
    pub end: Pos,
    /// What it is.
    pub kind: Kind,
    /// Nesting depth (1 for a scalar).
    pub depth: usize,
}

/// The three kinds of YAML node.
#[derive(Clone, Debug)]
pub enum Kind {
    /// A scalar with its text after YAML escapes; `plain` when written without quotes or block
    /// indicators (only plain scalars can be null or booleans).
    Scalar { text: String, plain: bool },
    /// A mapping, in file order (merge keys applied).
    Map(Vec<(Node, Node)>),
    /// A sequence.
    Seq(Vec<Node>),
}

/// A YAML syntax or structure problem, at a position of the parsed text.
#[derive(Clone, Debug)]
pub struct YamlError {
    /// Where.
    pub pos: Pos,
    /// What, on one line.
    pub message: String,
    /// A related earlier position (the first of two equal keys).
    pub first: Option<Pos>,
}

/// Nodes a file may expand to, aliases included (the "billion laughs" guard).
const NODE_BUDGET: usize = 2_000_000;

/// Deepest nesting accepted, aliases included (keeps recursion in clone and drop shallow).
const MAX_DEPTH: usize = 400;

impl Node {
    /// The text of a scalar (null included, as its literal text).
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// True for YAML null: an empty plain scalar, `~`, `null`, `Null`, `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { text, plain: true }
            if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    /// True for a plain scalar: written without quotes.
    pub fn is_plain(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { plain: true, .. })
    }

    /// The entries of a mapping.
    pub fn entries(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            Kind::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items of a sequence.
    pub fn items(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|(k, _)| k.scalar() == Some(key))
            .map(|(_, v)| v)
    }

    /// The value under `key`, unless it is absent or null.
    pub fn get_present(&self, key: &str) -> Option<&Node> {
        self.get(key).filter(|node| !node.is_null())
    }

    /// The value under the path of keys `keys`, each present and not null.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        let mut node = self;
        for key in keys {
            node = node.get_present(key)?;
        }
        Some(node)
    }

    /// The text of the scalar under `key`, when it is one and not null.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get_present(key)?.scalar()
    }

    /// What a node is, for messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            Kind::Scalar { .. } if self.is_null() => "null",
            Kind::Scalar { .. } => "a single value",
            Kind::Map(_) => "a mapping",
            Kind::Seq(_) => "a list",
        }
    }

    /// The innermost chain of mapping keys and list indexes from this node to the node that
    /// contains `pos`.
    pub fn path_to(&self, pos: Pos) -> Vec<Segment> {
        let mut out = Vec::new();
        let mut node = self;
        'descend: loop {
            match &node.kind {
                Kind::Map(entries) => {
                    // The entry the position is in: the last one starting at or before it
                    // (an empty value is reported where its key ends, before the position).
                    let Some((key, value)) = entries.iter().rev().find(|(k, _)| k.start <= pos)
                    else {
                        return out;
                    };
                    out.push(Segment::Key(key.scalar().unwrap_or("?").to_string()));
                    if contains(value, pos) && !matches!(value.kind, Kind::Scalar { .. }) {
                        node = value;
                        continue 'descend;
                    }
                    return out;
                }
                Kind::Seq(items) => {
                    let Some((index, item)) = items
                        .iter()
                        .enumerate()
                        .rev()
                        .find(|(_, item)| item.start <= pos)
                    else {
                        return out;
                    };
                    out.push(Segment::Index(index));
                    if contains(item, pos) && !matches!(item.kind, Kind::Scalar { .. }) {
                        node = item;
                        continue 'descend;
                    }
                    return out;
                }
                Kind::Scalar { .. } => return out,
            }
        }
    }

    fn size(&self) -> usize {
        match &self.kind {
            Kind::Scalar { .. } => 1,
            Kind::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| k.size() + v.size())
                    .sum::<usize>()
            }
            Kind::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
        }
    }
}

/// True when `pos` lies within `node` (its end included: an empty scalar has start == end).
pub fn contains(node: &Node, pos: Pos) -> bool {
    node.start <= pos && pos <= node.end && (node.start < node.end || node.start == pos)
}

/// A collection being read.
enum Open {
    /// A mapping.
    Map {
        /// Where it starts.
        start: Pos,
        /// Its anchor's id (0: none), to record it when it closes.
        anchor: usize,
        /// The entries read so far.
        entries: Vec<(Node, Node)>,
        /// A key read whose value has not come yet.
        key: Option<Node>,
    },
    /// A sequence.
    Seq {
        /// Where it starts.
        start: Pos,
        /// Its anchor's id (0: none), to record it when it closes.
        anchor: usize,
        /// The items read so far.
        items: Vec<Node>,
    },
}

/// Parses every document of `text`. Empty documents (nothing but comments, as `helm template`
/// prints between resources) are left out.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut documents = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut root: Option<Node> = None;
    let mut budget = NODE_BUDGET;

    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|error| YamlError {
            pos: Pos::of(error.marker()),
            message: one_line(&error.info()).trim_end().to_string(),
            first: None,
        })?;
        let start = Pos::of(&span.start);
        let end = Pos::of(&span.end);
        let finished: Option<(Node, usize)> = match event {
            Event::DocumentStart(..) => {
                root = None;
                anchors.clear();
                None
            }
            Event::DocumentEnd => {
                if let Some(node) = root.take()
                    && !node.is_null()
                {
                    documents.push(node);
                }
                None
            }
            Event::Scalar(value, style, anchor, _tag) => {
                let plain = matches!(style, ScalarStyle::Plain);
                Some((
                    Node {
                        start,
                        end,
                        kind: Kind::Scalar {
                            text: value.into_owned(),
                            plain,
                        },
                        depth: 1,
                    },
                    anchor,
                ))
            }
            Event::Alias(id) => {
                let Some((node, size)) = anchors.get(&id) else {
                    return Err(YamlError {
                        pos: start,
                        message: "alias to an unknown anchor".to_string(),
                        first: None,
                    });
                };
                budget = budget.checked_sub(*size).ok_or_else(|| YamlError {
                    pos: start,
                    message: format!(
                        "aliases expand to more than {NODE_BUDGET} nodes; refusing to read further"
                    ),
                    first: None,
                })?;
                Some((node.clone(), 0))
            }
            Event::MappingStart(_, anchor, _) => {
                stack.push(Open::Map {
                    start,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
                None
            }
            Event::SequenceStart(_, anchor, _) => {
                stack.push(Open::Seq {
                    start,
                    anchor,
                    items: Vec::new(),
                });
                None
            }
            Event::MappingEnd => match stack.pop() {
                Some(Open::Map {
                    start,
                    anchor,
                    entries,
                    ..
                }) => {
                    let depth = 1 + entries
                        .iter()
                        .map(|(k, v)| k.depth.max(v.depth))
                        .max()
                        .unwrap_or(0);
                    Some((
                        Node {
                            start,
                            end,
                            kind: Kind::Map(merge_and_check(entries)?),
                            depth,
                        },
                        anchor,
                    ))
                }
                _ => None,
            },
            Event::SequenceEnd => match stack.pop() {
                Some(Open::Seq {
                    start,
                    anchor,
                    items,
                }) => {
                    let depth = 1 + items.iter().map(|i| i.depth).max().unwrap_or(0);
                    Some((
                        Node {
                            start,
                            end,
                            kind: Kind::Seq(items),
                            depth,
                        },
                        anchor,
                    ))
                }
                _ => None,
            },
            _ => None,
        };
        let Some((node, anchor)) = finished else {
            continue;
        };
        if node.depth > MAX_DEPTH {
            return Err(YamlError {
                pos: node.start,
                message: format!(
                    "nested more than {MAX_DEPTH} levels deep; refusing to read further"
                ),
                first: None,
            });
        }
        budget = budget.checked_sub(1).ok_or_else(|| YamlError {
            pos: node.start,
            message: format!("more than {NODE_BUDGET} nodes; refusing to read further"),
            first: None,
        })?;
        if anchor != 0 {
            let size = node.size();
            anchors.insert(anchor, (node.clone(), size));
        }
        match stack.last_mut() {
            Some(Open::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
            Some(Open::Seq { items, .. }) => items.push(node),
            None => root = Some(node),
        }
    }
    Ok(documents)
}

/// Applies `<<` merge keys (explicit keys win, then earlier merged mappings) and rejects a key
/// given twice.
fn merge_and_check(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, YamlError> {
    let mut explicit: Vec<(Node, Node)> = Vec::with_capacity(entries.len());
    let mut seen: HashMap<String, Pos> = HashMap::with_capacity(entries.len());
    let mut merged: Vec<Node> = Vec::new();
    for (key, value) in entries {
        if key.is_plain() && key.scalar() == Some("<<") {
            merged.push(value);
            continue;
        }
        if let Some(text) = key.scalar() {
            if let Some(first) = seen.get(text) {
                return Err(YamlError {
                    pos: key.start,
                    message: format!("mapping key `{text}` is given twice; YAML readers reject it"),
                    first: Some(*first),
                });
            }
            seen.insert(text.to_string(), key.start);
        }
        explicit.push((key, value));
    }
    for source in merged {
        let maps: Vec<&Node> = match &source.kind {
            Kind::Map(_) => vec![&source],
            Kind::Seq(items) => items.iter().collect(),
            Kind::Scalar { .. } if source.is_null() => Vec::new(),
            Kind::Scalar { .. } => {
                return Err(YamlError {
                    pos: source.start,
                    message: "a `<<` merge key needs a mapping or a list of mappings".to_string(),
                    first: None,
                });
            }
        };
        for map in maps {
            let Some(map_entries) = map.entries() else {
                return Err(YamlError {
                    pos: map.start,
                    message: "a `<<` merge key needs a mapping or a list of mappings".to_string(),
                    first: None,
                });
            };
            for (key, value) in map_entries {
                let text = key.scalar().unwrap_or_default().to_string();
                if let std::collections::hash_map::Entry::Vacant(slot) = seen.entry(text) {
                    slot.insert(key.start);
                    explicit.push((key.clone(), value.clone()));
                }
            }
        }
    }
    Ok(explicit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keep_their_text_and_positions() {
        let docs = parse_documents("a:\n  b: 65 # seconds\n  c: \"2m\"\n  d:\n").unwrap();
        assert_eq!(docs.len(), 1);
        let a = docs[0].get("a").unwrap();
        let b = a.get("b").unwrap();
        assert_eq!(b.scalar(), Some("65"));
        assert_eq!(b.start.index, 8);
        assert!(a.get("d").unwrap().is_null());
        assert!(!a.get("c").unwrap().is_plain());
    }

    #[test]
    fn several_documents_and_empty_ones() {
        let docs = parse_documents("---\n# only a comment\n---\na: 1\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
    }

    #[test]
    fn aliases_and_merge_keys() {
        let text = "base: &env\n  write_timeout: 2m\n  read_timeout: 1m\nfn:\n  <<: *env\n  read_timeout: 5s\n";
        let docs = parse_documents(text).unwrap();
        let f = docs[0].get("fn").unwrap();
        assert_eq!(f.get_str("write_timeout"), Some("2m"));
        assert_eq!(f.get_str("read_timeout"), Some("5s"));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let error = parse_documents("a: 1\na: 2\n").unwrap_err();
        assert!(error.message.contains("twice"), "{}", error.message);
        assert_eq!(error.pos.index, 5);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
            ));
        }
        let error = parse_documents(&text).unwrap_err();
        assert!(error.message.contains("nodes"), "{}", error.message);
    }

    #[test]
    fn deep_nesting_through_aliases_is_refused() {
        let mut text = String::from("a0: &a0 [[[[[[[[[[x]]]]]]]]]]\n");
        for i in 1..60 {
            text.push_str(&format!("a{i}: &a{i} [[[[[[[[[[*a{}]]]]]]]]]]\n", i - 1));
        }
        let error = parse_documents(&text).unwrap_err();
        assert!(error.message.contains("nested"), "{}", error.message);
    }

    #[test]
    fn path_to_a_position() {
        let text = "functions:\n  f:\n    environment:\n      write_timeout: \n";
        let docs = parse_documents(text).unwrap();
        let pos = Pos {
            index: text.find("write_timeout").unwrap() + 15,
        };
        let path: Vec<String> = docs[0].path_to(pos).iter().map(|s| s.to_string()).collect();
        assert_eq!(path, vec!["functions", "f", "environment", "write_timeout"]);
    }
}
