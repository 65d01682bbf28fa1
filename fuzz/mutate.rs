//! The corpus-driven fuzzer every `fuzz_*` test shares (included with `#[path]`, as the tests
//! live in three crates): reading `fuzz/corpus/<parser>/`, the proptest strategies that mutate
//! its entries or write YAML from scratch out of the keys the corpus uses, and the case count.
//!
//! libFuzzer needs a nightly toolchain; proptest runs on stable inside `cargo test`, shrinks a
//! failure to a small input and persists its seed, which is what a bounded CI run needs.

#![allow(dead_code)] // Each test file uses the part it needs.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::Config;

/// The largest input a case builds, bytes: every parser must finish on it quickly, and the
/// limits the parsers enforce (file size, requests, ...) are tested elsewhere with their own
/// inputs.
pub const MAX_INPUT_BYTES: usize = 16 * 1024;

/// Cases per property when `FAASIM_FUZZ_CASES` is not set: small enough that every fuzz test
/// together adds a few seconds to `cargo test --workspace` on 2 cores.
pub const DEFAULT_CASES: u32 = 2048;

/// The case count: `FAASIM_FUZZ_CASES` (a long run), else `default`.
pub fn cases(default: u32) -> u32 {
    match std::env::var("FAASIM_FUZZ_CASES") {
        Ok(text) => text
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("FAASIM_FUZZ_CASES={text:?} is not a case count")),
        Err(_) => default,
    }
}

/// proptest's configuration for a fuzz property: the case count, and no per-case fork or
/// timeout (a panic fails the test by itself; the time bound is asserted per case).
pub fn config(default: u32) -> Config {
    Config {
        cases: cases(default),
        // Shrinking a parser failure rarely needs more; a long run should not stall on it.
        max_shrink_iters: 2048,
        ..Config::default()
    }
}

/// The repository's root (the workspace holding `fuzz/`), from a crate's manifest directory.
pub fn repo_root(manifest_dir: &str) -> PathBuf {
    let dir = Path::new(manifest_dir);
    dir.ancestors()
        .find(|d| d.join("fuzz").join("corpus").is_dir())
        .unwrap_or_else(|| panic!("no fuzz/corpus above {}", dir.display()))
        .to_path_buf()
}

/// Every file of `dir` and its subdirectories, sorted by path (so the corpus, hence every
/// case, is the same on every machine).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// One parser's corpus, read once per test binary into `cell` and shared by its tests.
pub fn corpus_once(
    cell: &'static OnceLock<Arc<Vec<Vec<u8>>>>,
    manifest_dir: &str,
    parser: &str,
) -> Arc<Vec<Vec<u8>>> {
    cell.get_or_init(|| Arc::new(corpus(manifest_dir, &[parser], &[], &[])))
        .clone()
}

/// The entries of `fuzz/corpus/<parser>` (each file one entry), plus the files of `extra`
/// directories whose names end with one of `extensions`.
pub fn corpus(
    manifest_dir: &str,
    parsers: &[&str],
    extra: &[&str],
    extensions: &[&str],
) -> Vec<Vec<u8>> {
    let root = repo_root(manifest_dir);
    let mut entries = Vec::new();
    for parser in parsers {
        let dir = root.join("fuzz").join("corpus").join(parser);
        let files = files_under(&dir);
        assert!(!files.is_empty(), "{} holds no corpus entry", dir.display());
        entries.extend(
            files
                .iter()
                .map(|f| std::fs::read(f).expect("corpus entry")),
        );
    }
    for dir in extra {
        for file in files_under(&root.join(dir)) {
            let name = file.to_string_lossy();
            if extensions.iter().any(|ext| name.ends_with(ext)) {
                entries.push(std::fs::read(&file).expect("corpus entry"));
            }
        }
    }
    entries
}

/// The keys the corpus writes (`key:` at the start of a line, after indentation and `- `), for
/// YAML written from scratch.
pub fn keys_of(corpus: &[Vec<u8>]) -> Vec<String> {
    let mut keys = std::collections::BTreeSet::new();
    for entry in corpus {
        for line in String::from_utf8_lossy(entry).lines() {
            let line = line.trim_start().trim_start_matches("- ");
            if let Some((key, _)) = line.split_once(':') {
                let key = key.trim_matches(['"', '\'']);
                if !key.is_empty()
                    && key.len() < 64
                    && key
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
                {
                    keys.insert(key.to_string());
                }
            }
        }
    }
    keys.into_iter().collect()
}

/// What YAML and the parsers behind it find hard: anchors, aliases and merge keys, flow and
/// block indicators, tags and directives, quotes and escapes, line breaks of every kind, the
/// numbers YAML 1.1 and 1.2 read differently, values beyond every integer type, Go durations at
/// their limits, envsubst's syntax and text that is not ASCII.
pub const TOKENS: &[&str] = &[
    "&a ",
    "*a",
    "<<: *a",
    "<<: ",
    ": ",
    "- ",
    "? ",
    "{",
    "}",
    "[",
    "]",
    ", ",
    "|",
    "|-",
    ">",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!!map ",
    "!tag ",
    "!<tag:x> ",
    "---\n",
    "...\n",
    "%YAML 1.2\n",
    "%TAG ! tag:x,2000:\n",
    "#",
    "\"",
    "'",
    "\\",
    "\\u",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\0",
    " ",
    "~",
    "null",
    "true",
    "yes",
    "no",
    "on",
    "off",
    "0",
    "-1",
    "-9223372036854775808",
    "9223372036854775807",
    "18446744073709551616",
    "99999999999999999999999999999",
    "1e309",
    "-1e309",
    ".nan",
    ".inf",
    "-.inf",
    "0x7fffffff",
    "0o777",
    "1_000",
    "+1",
    "1.",
    "9999999999h",
    "-1ns",
    "2562047h47m16.854775808s",
    "0.0000000001s",
    "1µs",
    "1μs",
    "1d",
    "1h 30m",
    "${",
    "${X}",
    "${X:-1s}",
    "${X:-${Y}}",
    "$$",
    "${#X}",
    "${X^^}",
    "${X:1:2}",
    "${X/a/b}",
    "}",
    "é",
    "\u{202e}",
    "𝔘",
    "\u{feff}",
    "\u{85}",
    "\u{2028}",
    "\u{a0}",
    "\u{7f}",
    "\u{1b}[31m",
];

/// Scalars for YAML written from scratch (besides [`TOKENS`]).
pub const VALUES: &[&str] = &[
    "1",
    "2",
    "3",
    "10",
    "200",
    "0",
    "-1",
    "1s",
    "10s",
    "30s",
    "1m",
    "1m5s",
    "5m",
    "100ms",
    "0.5s",
    "\"60\"",
    "\"1s\"",
    "true",
    "false",
    "ce",
    "pro",
    "http",
    "streaming",
    "drains",
    "dies",
    "node20",
    "golang-middleware",
    "python3-http",
    "classic",
    "{}",
    "[]",
    "",
    "[1, 2]",
    "{at: 1s}",
    "0..1s",
    "1s..0",
    "GET",
    "POST",
];

/// One change to an input. Positions are proptest [`Index`]es, resolved against the input's
/// length when applied, so that a shrunk case stays meaningful.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Cut the input here.
    Truncate(Index),
    /// Keep the input up to `at`, then another entry from `from` on.
    Splice {
        /// Where the input is cut.
        at: Index,
        /// The other entry.
        other: Index,
        /// Where the other entry is taken from.
        from: Index,
    },
    /// Flip one bit of one byte (may leave text that is not UTF-8).
    FlipBit {
        /// The byte.
        at: Index,
        /// The bit, 0..8.
        bit: u8,
    },
    /// Insert one byte.
    InsertByte {
        /// Where.
        at: Index,
        /// The byte.
        byte: u8,
    },
    /// Remove up to `len` bytes.
    Delete {
        /// From where.
        at: Index,
        /// How many at most.
        len: u8,
    },
    /// Insert one of [`TOKENS`].
    Token {
        /// Where.
        at: Index,
        /// Which token.
        token: Index,
    },
    /// Insert a line of another entry, re-indented, at a line start.
    Line {
        /// Before which line.
        at: Index,
        /// The other entry.
        other: Index,
        /// Which of its lines.
        line: Index,
        /// Spaces before it.
        indent: u8,
    },
    /// Nest `depth` flow collections (or block mappings) at `at`.
    Nest {
        /// Where.
        at: Index,
        /// How deep.
        depth: u16,
        /// `[`, `{a: ` or a block mapping level.
        kind: u8,
    },
    /// Replace the value after a line's first `: ` (or the line's item after `- `) by one of
    /// [`VALUES`] or [`TOKENS`]: the YAML stays well formed more often than not, so the input
    /// reaches the checks behind the parser.
    Value {
        /// Which line.
        line: Index,
        /// Which value (over `VALUES` then `TOKENS`).
        value: Index,
    },
    /// Remove one line.
    DeleteLine(Index),
    /// Repeat a slice of the input `times` times in place.
    Repeat {
        /// Where the slice starts.
        at: Index,
        /// Its length at most.
        len: u8,
        /// How many copies.
        times: u16,
    },
}

fn mutation(corpus_len: usize) -> impl Strategy<Value = Mutation> {
    debug_assert!(corpus_len > 0, "an empty corpus cannot be mutated");
    prop_oneof![
        1 => any::<Index>().prop_map(Mutation::Truncate),
        1 => (any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(at, other, from)| Mutation::Splice { at, other, from }),
        1 => (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Mutation::InsertByte { at, byte }),
        1 => (any::<Index>(), 1u8..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(at, token)| Mutation::Token { at, token }),
        3 => (any::<Index>(), any::<Index>(), any::<Index>(), 0u8..12).prop_map(
            |(at, other, line, indent)| Mutation::Line {
                at,
                other,
                line,
                indent
            }
        ),
        6 => (any::<Index>(), any::<Index>())
            .prop_map(|(line, value)| Mutation::Value { line, value }),
        1 => any::<Index>().prop_map(Mutation::DeleteLine),
        1 => (any::<Index>(), 1u16..400, 0u8..3).prop_map(|(at, depth, kind)| Mutation::Nest {
            at,
            depth,
            kind
        }),
        1 => (any::<Index>(), 1u8..40, 2u16..300).prop_map(|(at, len, times)| Mutation::Repeat {
            at,
            len,
            times
        }),
    ]
}

/// One of [`VALUES`] then [`TOKENS`].
fn any_value(index: &Index) -> &'static str {
    let all = VALUES.len() + TOKENS.len();
    match index.index(all) {
        i if i < VALUES.len() => VALUES[i],
        i => TOKENS[i - VALUES.len()],
    }
}

/// A byte position in `bytes` (0..=len).
fn position(at: &Index, bytes: &[u8]) -> usize {
    at.index(bytes.len() + 1)
}

/// The start of the line holding byte `at`.
fn line_start(bytes: &[u8], at: usize) -> usize {
    bytes[..at]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1)
}

impl Mutation {
    /// Applies the change to `input`; `corpus` is where splices and lines come from.
    pub fn apply(&self, input: &mut Vec<u8>, corpus: &[Vec<u8>]) {
        match self {
            Mutation::Truncate(at) => {
                let at = position(at, input);
                input.truncate(at);
            }
            Mutation::Splice { at, other, from } => {
                let at = position(at, input);
                let other = &corpus[other.index(corpus.len())];
                let from = position(from, other);
                input.truncate(at);
                input.extend_from_slice(&other[from..]);
            }
            Mutation::FlipBit { at, bit } => {
                if !input.is_empty() {
                    let at = at.index(input.len());
                    input[at] ^= 1 << bit;
                }
            }
            Mutation::InsertByte { at, byte } => {
                let at = position(at, input);
                input.insert(at, *byte);
            }
            Mutation::Delete { at, len } => {
                let at = position(at, input);
                let end = (at + usize::from(*len)).min(input.len());
                input.drain(at..end);
            }
            Mutation::Token { at, token } => {
                let at = position(at, input);
                let token = TOKENS[token.index(TOKENS.len())];
                input.splice(at..at, token.bytes());
            }
            Mutation::Line {
                at,
                other,
                line,
                indent,
            } => {
                let at = line_start(input, position(at, input));
                let other = &corpus[other.index(corpus.len())];
                let lines: Vec<&[u8]> = other.split(|&b| b == b'\n').collect();
                let chosen = lines[line.index(lines.len())];
                let trimmed = chosen
                    .iter()
                    .position(|&b| b != b' ')
                    .map_or(&[][..], |i| &chosen[i..]);
                let mut text = vec![b' '; usize::from(*indent)];
                text.extend_from_slice(trimmed);
                text.push(b'\n');
                input.splice(at..at, text);
            }
            Mutation::Nest { at, depth, kind } => {
                let at = position(at, input);
                let depth = usize::from(*depth);
                let (open, close): (String, String) = match kind {
                    0 => ("[".repeat(depth), "]".repeat(depth)),
                    1 => ("{a: ".repeat(depth), "}".repeat(depth)),
                    _ => {
                        let mut open = String::from("\n");
                        for level in 0..depth.min(200) {
                            open.push_str(&" ".repeat(level));
                            open.push_str("k:\n");
                        }
                        (open, String::new())
                    }
                };
                let text = format!("{open}x{close}");
                input.splice(at..at, text.into_bytes());
            }
            Mutation::Value { line, value } => {
                let starts: Vec<usize> = std::iter::once(0)
                    .chain(
                        input
                            .iter()
                            .enumerate()
                            .filter(|(_, b)| **b == b'\n')
                            .map(|(i, _)| i + 1),
                    )
                    .collect();
                let start = starts[line.index(starts.len())];
                let end = input[start..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(input.len(), |i| start + i);
                let text = &input[start..end];
                let after = text
                    .windows(2)
                    .position(|w| w == b": ")
                    .map(|i| start + i + 2)
                    .or_else(|| {
                        text.windows(2)
                            .position(|w| w == b"- ")
                            .map(|i| start + i + 2)
                    });
                if let Some(after) = after {
                    input.splice(after..end, any_value(value).bytes());
                }
            }
            Mutation::DeleteLine(line) => {
                let at = line_start(input, position(line, input));
                let end = input[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(input.len(), |i| at + i + 1);
                input.drain(at..end);
            }
            Mutation::Repeat { at, len, times } => {
                let at = position(at, input);
                let end = (at + usize::from(*len)).min(input.len());
                let slice = input[at..end].to_vec();
                let copies = slice.repeat(usize::from(*times));
                input.splice(at..at, copies);
            }
        }
        input.truncate(MAX_INPUT_BYTES);
    }
}

/// One fuzz input. It prints as text (with the bytes that are not UTF-8 replaced) so that a
/// failure shows what to paste into a file.
#[derive(Clone)]
pub struct Input(pub Vec<u8>);

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(text) => write!(f, "{text:?}"),
            Err(_) => write!(f, "(not UTF-8) {:?}", String::from_utf8_lossy(&self.0)),
        }
    }
}

impl std::ops::Deref for Input {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// An input made by mutating one corpus entry 1 to 4 times.
pub fn mutated(corpus: std::sync::Arc<Vec<Vec<u8>>>) -> impl Strategy<Value = Input> {
    let len = corpus.len();
    (
        any::<Index>(),
        proptest::collection::vec(mutation(len), 1..=4),
    )
        .prop_map(move |(entry, mutations)| {
            let mut input = corpus[entry.index(corpus.len())].clone();
            input.truncate(MAX_INPUT_BYTES);
            for mutation in &mutations {
                mutation.apply(&mut input, &corpus);
            }
            Input(input)
        })
}

/// YAML written from scratch: lines `KEY: VALUE` (or `- KEY: VALUE`, or a key opening a
/// mapping) at random depths, keys from `keys` and values from [`VALUES`] and [`TOKENS`].
pub fn generated(keys: std::sync::Arc<Vec<String>>) -> impl Strategy<Value = Input> {
    debug_assert!(!keys.is_empty(), "no keys to write YAML with");
    let line = (0u8..5, any::<Index>(), 0u8..4, any::<Index>());
    proptest::collection::vec(line, 0..40).prop_map(move |lines| {
        let mut text = String::new();
        for (depth, key, shape, value) in lines {
            text.push_str(&"  ".repeat(usize::from(depth)));
            let key = &keys[key.index(keys.len())];
            let value = any_value(&value);
            match shape {
                0 => text.push_str(&format!("{key}:\n")),
                1 => text.push_str(&format!("- {key}: {value}\n")),
                2 => text.push_str(&format!("- {value}\n")),
                _ => text.push_str(&format!("{key}: {value}\n")),
            }
        }
        let mut bytes = text.into_bytes();
        bytes.truncate(MAX_INPUT_BYTES);
        Input(bytes)
    })
}

/// Asserts that one parse took less than `bound`: every input is at most
/// [`MAX_INPUT_BYTES`], so a parser that takes longer is quadratic or worse somewhere.
pub fn assert_bounded(started: std::time::Instant, bound: std::time::Duration, input: &[u8]) {
    let took = started.elapsed();
    assert!(
        took < bound,
        "parsing {} bytes took {took:?} (bound {bound:?}): {:?}",
        input.len(),
        String::from_utf8_lossy(input)
    );
}

/// The lines of `text` as YAML counts them: `\r\n`, `\r` and `\n` each end one (YAML 1.2's
/// line breaks; editors show a lone `\r` as a break too).
pub fn yaml_lines(text: &str) -> usize {
    text.replace("\r\n", "\n").split(['\r', '\n']).count()
}
