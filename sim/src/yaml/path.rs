//! The key path of the YAML node at a line and column, found by walking the parser's events up
//! to there: it works on malformed text (up to where the parser stops), which is what a
//! serde-saphyr error's position needs (scenario loading).

use serde_saphyr::granit_parser::{Event as YamlEvent, Parser as YamlParser};

use super::Segment;

/// A key path as scenario errors print it: keys joined by `.`, indexes as `[N]`
/// (`events[2].drainNode.notice`).
pub fn format_path(segments: &[Segment]) -> String {
    let mut out = String::new();
    for segment in segments {
        match segment {
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Index(index) => {
                out.push_str(&format!("[{index}]"));
            }
        }
    }
    out
}

/// A node of the first document: where it starts and ends, the key path it has, and whether
/// it is a mapping key (whose path is the path of its value).
struct NodeAt {
    /// Where it starts (line, column).
    start: (usize, usize),
    /// Where it ends (line, column).
    end: (usize, usize),
    /// Its key path.
    path: Vec<Segment>,
    /// How many collections it is inside.
    depth: usize,
    /// Whether it is a mapping key.
    is_key: bool,
}

/// What a collection being read expects next.
enum Frame {
    /// A mapping: `key` is the last key read, `at_key` whether the next node is a key.
    Map {
        /// The last key read.
        key: Option<String>,
        /// Whether the next node is a key.
        at_key: bool,
        /// The collection's own entry in the nodes found.
        node: usize,
    },
    /// A sequence: `index` of the next item.
    Seq {
        /// The index of the next item.
        index: usize,
        /// The collection's own entry in the nodes found.
        node: usize,
    },
}

fn path_of(stack: &[Frame]) -> Vec<Segment> {
    let mut path = Vec::new();
    for frame in stack {
        match frame {
            Frame::Map { key, at_key, .. } => {
                if !*at_key {
                    path.push(Segment::Key(key.clone().unwrap_or_else(|| "?".to_string())));
                }
            }
            Frame::Seq { index, .. } => path.push(Segment::Index(*index)),
        }
    }
    path
}

/// After a node ends, its parent moves on.
fn advance(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Map { at_key, .. }) => *at_key = !*at_key,
        Some(Frame::Seq { index, .. }) => *index += 1,
        None => {}
    }
}

/// The key path of the YAML node at 1-based `line`, `column` of `text`'s first document:
/// the node starting exactly there (a mapping key counts as its entry; `prefer_key` picks the
/// key over a collection starting at the same place), else the innermost node containing it.
/// Works on malformed text up to where the parser stops: collections left open extend to the
/// end.
pub fn key_path_at(
    text: &str,
    line: usize,
    column: usize,
    prefer_key: bool,
) -> Option<Vec<Segment>> {
    const EVENT_CAP: usize = 1_000_000;
    let target = (line, column);
    let mut nodes: Vec<NodeAt> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut parser = YamlParser::new_from_str(text);
    let mut seen_document = false;
    for _ in 0..EVENT_CAP {
        let Some(Ok((event, span))) = parser.next_event() else {
            break;
        };
        let start = (span.start.line(), span.start.col() + 1);
        let end = (span.end.line(), span.end.col() + 1);
        match event {
            YamlEvent::DocumentStart(..) => {
                if seen_document {
                    break;
                }
                seen_document = true;
            }
            YamlEvent::DocumentEnd | YamlEvent::StreamEnd => break,
            YamlEvent::Scalar(value, ..) => {
                let is_key = matches!(stack.last(), Some(Frame::Map { at_key: true, .. }));
                if is_key {
                    if let Some(Frame::Map { key, .. }) = stack.last_mut() {
                        *key = Some(value.into_owned());
                    }
                    // Path of the entry: as if the value were being read.
                    advance(&mut stack);
                    let path = path_of(&stack);
                    nodes.push(NodeAt {
                        start,
                        end,
                        path,
                        depth: stack.len(),
                        is_key: true,
                    });
                } else {
                    let path = path_of(&stack);
                    nodes.push(NodeAt {
                        start,
                        end,
                        path,
                        depth: stack.len(),
                        is_key: false,
                    });
                    advance(&mut stack);
                }
            }
            YamlEvent::Alias(..) => {
                let path = path_of(&stack);
                nodes.push(NodeAt {
                    start,
                    end,
                    path,
                    depth: stack.len(),
                    is_key: false,
                });
                advance(&mut stack);
            }
            YamlEvent::MappingStart(..) | YamlEvent::SequenceStart(..) => {
                let node = nodes.len();
                let path = path_of(&stack);
                nodes.push(NodeAt {
                    start,
                    end: (usize::MAX, usize::MAX),
                    path,
                    depth: stack.len(),
                    is_key: false,
                });
                if matches!(event, YamlEvent::MappingStart(..)) {
                    stack.push(Frame::Map {
                        key: None,
                        at_key: true,
                        node,
                    });
                } else {
                    stack.push(Frame::Seq { index: 0, node });
                }
            }
            YamlEvent::MappingEnd | YamlEvent::SequenceEnd => {
                if let Some(Frame::Map { node, .. } | Frame::Seq { node, .. }) = stack.pop()
                    && let Some(entry) = nodes.get_mut(node)
                {
                    entry.end = end;
                }
                advance(&mut stack);
            }
            _ => {}
        }
    }

    let exact = nodes.iter().filter(|node| node.start == target);
    let chosen = if prefer_key {
        exact.max_by_key(|node| (node.is_key, node.depth))
    } else {
        exact.min_by_key(|node| (node.is_key, node.depth))
    };
    let chosen = chosen.or_else(|| {
        nodes
            .iter()
            .filter(|node| node.start <= target && target < node.end)
            .max_by_key(|node| node.depth)
    });
    chosen.map(|node| node.path.clone())
}
