//! faas-cli's environment substitution of stack files (`--envsubst`, on by default), which uses
//! `github.com/drone/envsubst` on the whole file before YAML parsing, with a map from positions
//! in the substituted text back to the file as written, so that locations stay right.
//!
//! What drone/envsubst does, and this reproduces:
//! - `${VAR}` is the variable's value, or an empty string when it is not set (faas-cli's mapper
//!   returns `""` for a missing variable, without an error);
//! - `${VAR:-default}`, `${VAR:=default}`, `${VAR=default}`, and also `${VAR:?x}` and
//!   `${VAR:+x}` (drone treats them all alike): the value, or the default when the value is empty;
//!   the default may itself contain `${...}`;
//! - `${#VAR}` (length in bytes), `${VAR^}`, `${VAR^^}`, `${VAR,}`, `${VAR,,}` (case);
//! - names are letters, digits, `_` and `-` (so `${VAR-x}` is the variable `VAR-x`);
//! - `$VAR` without braces is left alone; `$$` is a literal `$`; `\\` and `\/` lose their
//!   backslash (drone's escapes apply to the whole text);
//! - anything else after `${` (`${}`, `${ VAR}`, an unclosed `${VAR`) fails the whole file with
//!   "bad substitution", as faas-cli does.
//!
//! Substring, pattern-removal and replacement operators (`${VAR:1:2}`, `${VAR#x}`, `${VAR%x}`,
//! `${VAR/x/y}`) are not implemented: they are reported as errors naming the operator rather than
//! guessed.

use std::collections::BTreeMap;

use faasim_model::limits;

/// A run of the substituted text and where it comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// First character of the run in the substituted text.
    pub out_start: usize,
    /// Where it comes from in the original text (for an expansion: its `$`).
    pub in_start: usize,
    /// Copied character for character (else an expansion, all mapped to its `$`).
    pub literal: bool,
}

/// A `${VAR}` whose variable is not set and has no default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unset {
    /// The variable.
    pub name: String,
    /// The expression as written, e.g. `${WRITE_TIMEOUT}`.
    pub expression: String,
    /// Character index of its `$` in the original text.
    pub in_index: usize,
    /// Character index of what replaced it in the substituted text.
    pub out_index: usize,
}

/// The substituted text, how to map it back, and the unset variables met.
#[derive(Clone, Debug, Default)]
pub(crate) struct Substitution {
    /// The text after substitution.
    pub text: String,
    /// Runs in order of `out_start`.
    pub segments: Vec<Segment>,
    /// Unset variables without a default, in order.
    pub unset: Vec<Unset>,
}

/// Why the text cannot be substituted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SubstError {
    /// Character index of the offending `$` in the original text.
    pub in_index: usize,
    /// What is wrong.
    pub message: String,
}

impl Substitution {
    /// The original character index of substituted character index `out`.
    pub fn original_index(&self, out: usize) -> usize {
        let after = self.segments.partition_point(|s| s.out_start <= out);
        let Some(found) = after.checked_sub(1).and_then(|i| self.segments.get(i)) else {
            return out;
        };
        // An expansion to nothing shares its start with the run after it: a node starting
        // there was written as the expansion.
        if found.literal
            && found.out_start == out
            && let Some(previous) = after.checked_sub(2).and_then(|i| self.segments.get(i))
            && !previous.literal
            && previous.out_start == out
        {
            return previous.in_start;
        }
        if found.literal {
            found.in_start + (out - found.out_start)
        } else {
            found.in_start
        }
    }
}

/// Builds the substituted text and its segments.
struct Writer {
    /// The substituted text so far.
    out: String,
    /// Its length in characters.
    out_len: usize,
    /// Its runs so far, in order.
    segments: Vec<Segment>,
}

impl Writer {
    fn literal(&mut self, c: char, in_index: usize) {
        let contiguous = self.segments.last().is_some_and(|last| {
            last.literal && last.in_start + (self.out_len - last.out_start) == in_index
        });
        if !contiguous {
            self.segments.push(Segment {
                out_start: self.out_len,
                in_start: in_index,
                literal: true,
            });
        }
        self.out.push(c);
        self.out_len += 1;
    }

    fn expansion(&mut self, value: &str, in_index: usize) {
        self.segments.push(Segment {
            out_start: self.out_len,
            in_start: in_index,
            literal: false,
        });
        self.out.push_str(value);
        self.out_len += value.chars().count();
    }
}

/// Substitutes `text` with the variables of `env`, as faas-cli does.
pub(crate) fn substitute(
    text: &str,
    env: &BTreeMap<String, String>,
) -> Result<Substitution, SubstError> {
    let chars: Vec<char> = text.chars().collect();
    let mut writer = Writer {
        out: String::with_capacity(text.len()),
        out_len: 0,
        segments: Vec::new(),
    };
    let mut unset = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let next = chars.get(i + 1).copied();
        match (c, next) {
            ('$', Some('{')) => {
                let mut expander = Expander {
                    chars: &chars,
                    env,
                    unset: Vec::new(),
                };
                let (value, end) = expander.function(i)?;
                let out_index = writer.out_len;
                for mut missing in expander.unset {
                    missing.out_index = out_index;
                    unset.push(missing);
                }
                writer.expansion(&value, i);
                // The expanded text is parsed as a file is: bound it as a file read is.
                if writer.out.len() > limits::ENVSUBST_OUTPUT_MAX_BYTES {
                    return Err(SubstError {
                        in_index: i,
                        message: format!(
                            "substituting the variables makes the file larger than the limit of \
                             {} bytes, the size of the largest file faasim reads \
                             (docs/check.md, \"Limits\")",
                            limits::ENVSUBST_OUTPUT_MAX_BYTES
                        ),
                    });
                }
                i = end;
            }
            ('$', Some('$')) => {
                writer.literal('$', i);
                i += 2;
            }
            ('\\', Some(escaped @ ('\\' | '/'))) => {
                writer.literal(escaped, i + 1);
                i += 2;
            }
            _ => {
                writer.literal(c, i);
                i += 1;
            }
        }
    }
    Ok(Substitution {
        text: writer.out,
        segments: writer.segments,
        unset,
    })
}

/// Reads one `${...}` expression.
struct Expander<'a> {
    /// The original text, as characters.
    chars: &'a [char],
    /// The variables.
    env: &'a BTreeMap<String, String>,
    /// Unset variables without a default met in the expression.
    unset: Vec<Unset>,
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

impl Expander<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.chars.get(i).copied()
    }

    fn excerpt(&self, start: usize, end: usize) -> String {
        let end = end.min(self.chars.len()).min(start + 40);
        self.chars
            .get(start..end)
            .map(|s| s.iter().collect())
            .unwrap_or_default()
    }

    fn bad(&self, start: usize) -> SubstError {
        let mut end = start;
        while let Some(c) = self.at(end) {
            end += 1;
            if c == '}' || c == '\n' {
                break;
            }
        }
        SubstError {
            in_index: start,
            message: format!(
                "bad substitution `{}`: faas-cli's envsubst rejects the whole file (write `$${{` \
                 for a literal `${{`, or turn substitution off)",
                self.excerpt(start, end).trim_end()
            ),
        }
    }

    fn unsupported(&self, start: usize, operator: &str) -> SubstError {
        SubstError {
            in_index: start,
            message: format!(
                "faasim does not implement the `{operator}` operator of envsubst in `{}`; \
                 substitute the file first (or turn substitution off)",
                self.excerpt(start, start + 40)
                    .split('}')
                    .next()
                    .map(|s| format!("{s}}}"))
                    .unwrap_or_default()
            ),
        }
    }

    fn lookup(&mut self, name: &str, start: usize, end: usize) -> String {
        match self.env.get(name) {
            Some(value) => value.clone(),
            None => {
                self.unset.push(Unset {
                    name: name.to_string(),
                    expression: self.excerpt(start, end),
                    in_index: start,
                    out_index: 0,
                });
                String::new()
            }
        }
    }

    /// Expands the `${...}` whose `$` is at `start`; returns the value and the index after `}`.
    fn function(&mut self, start: usize) -> Result<(String, usize), SubstError> {
        let mut j = start + 2;
        if self.at(j) == Some('#') {
            j += 1;
            let name_start = j;
            while self.at(j).is_some_and(is_name_char) {
                j += 1;
            }
            if j == name_start || self.at(j) != Some('}') {
                return Err(self.bad(start));
            }
            let name: String = self.excerpt(name_start, j);
            let value = self.lookup(&name, start, j + 1);
            return Ok((value.len().to_string(), j + 1));
        }
        let name_start = j;
        while self.at(j).is_some_and(is_name_char) {
            j += 1;
        }
        if j == name_start {
            return Err(self.bad(start));
        }
        let name: String = self
            .chars
            .get(name_start..j)
            .unwrap_or_default()
            .iter()
            .collect();
        match self.at(j) {
            Some('}') => {
                let value = self.lookup(&name, start, j + 1);
                Ok((value, j + 1))
            }
            Some(':') => match self.at(j + 1) {
                Some('=' | '-' | '?' | '+') => self.default(&name, start, j + 2),
                _ => Err(self.unsupported(start, ":offset")),
            },
            Some('=') => self.default(&name, start, j + 1),
            Some(',' | '^') => {
                let op_start = j;
                while j < op_start + 2 && matches!(self.at(j), Some(',' | '^')) {
                    j += 1;
                }
                if self.at(j) != Some('}') {
                    return Err(self.bad(start));
                }
                let op: String = self.excerpt(op_start, j);
                let value = self.lookup(&name, start, j + 1);
                let cased = match op.as_str() {
                    "^^" => value.to_uppercase(),
                    ",," => value.to_lowercase(),
                    "^" => first_char_mapped(&value, true),
                    "," => first_char_mapped(&value, false),
                    _ => value,
                };
                Ok((cased, j + 1))
            }
            Some('/') => Err(self.unsupported(start, "/")),
            Some('#') => Err(self.unsupported(start, "#")),
            Some('%') => Err(self.unsupported(start, "%")),
            _ => Err(self.bad(start)),
        }
    }

    /// `${NAME:-default}` and its siblings; `j` is the first character of the default.
    fn default(
        &mut self,
        name: &str,
        start: usize,
        mut j: usize,
    ) -> Result<(String, usize), SubstError> {
        let mut default = String::new();
        let mut nested_unset = Vec::new();
        let mut pieces = 0;
        loop {
            match self.at(j) {
                None => return Err(self.bad(start)),
                Some('}') => {
                    j += 1;
                    break;
                }
                Some('$') if self.at(j + 1) == Some('{') => {
                    let before = self.unset.len();
                    let (value, end) = self.function(j)?;
                    nested_unset.extend(self.unset.drain(before..));
                    default.push_str(&value);
                    pieces += 1;
                    j = end;
                }
                Some(_) => {
                    while let Some(c) = self.at(j) {
                        if c == '}' || (c == '$' && self.at(j + 1) == Some('{')) {
                            break;
                        }
                        default.push(c);
                        j += 1;
                    }
                    pieces += 1;
                }
            }
        }
        let value = self.env.get(name).cloned().unwrap_or_default();
        if value.is_empty() && pieces > 0 {
            self.unset.extend(nested_unset);
            Ok((default, j))
        } else {
            Ok((value, j))
        }
    }
}

fn first_char_mapped(value: &str, upper: bool) -> String {
    let mut chars = value.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let mapped: String = if upper {
                first.to_uppercase().collect()
            } else {
                first.to_lowercase().collect()
            };
            mapped + chars.as_str()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn variables_defaults_and_escapes() {
        let e = env(&[("WT", "2m"), ("EMPTY", "")]);
        let cases = [
            ("t: ${WT}", "t: 2m"),
            ("t: ${NOPE:-30s}", "t: 30s"),
            ("t: ${EMPTY:-30s}", "t: 30s"),
            ("t: ${EMPTY=30s}", "t: 30s"),
            ("t: ${WT:-30s}", "t: 2m"),
            ("t: ${NOPE:-${WT}}", "t: 2m"),
            ("t: ${NOPE:-}", "t: "),
            ("t: $WT", "t: $WT"),
            ("t: $${WT}", "t: ${WT}"),
            ("t: a\\\\b\\/c", "t: a\\b/c"),
            ("t: ${#WT}", "t: 2"),
            ("t: ${WT^^}", "t: 2M"),
        ];
        for (input, want) in cases {
            let got = substitute(input, &e).unwrap();
            assert_eq!(got.text, want, "{input}");
        }
    }

    #[test]
    fn unset_variables_are_recorded_with_positions() {
        let got = substitute("a: 1\nb: ${MISSING}\nc: 2\n", &env(&[])).unwrap();
        assert_eq!(got.text, "a: 1\nb: \nc: 2\n");
        assert_eq!(got.unset.len(), 1);
        assert_eq!(got.unset[0].name, "MISSING");
        assert_eq!(got.unset[0].expression, "${MISSING}");
        assert_eq!(got.unset[0].in_index, 8);
        assert_eq!(got.unset[0].out_index, 8);
        // "c" is at 9 in the output and 19 in the input.
        assert_eq!(got.original_index(9), 19);
        assert_eq!(got.original_index(8), 8);
        assert!(
            substitute("x: ${A:-1}", &env(&[]))
                .unwrap()
                .unset
                .is_empty()
        );
    }

    #[test]
    fn positions_after_a_longer_expansion() {
        let got = substitute("a: ${X}\nb: 1\n", &env(&[("X", "a-long-value")])).unwrap();
        let out_b = got.text.find("b:").unwrap();
        assert_eq!(got.original_index(out_b), 8);
        assert_eq!(got.original_index(4), 3);
    }

    #[test]
    fn bad_and_unsupported_substitutions() {
        for bad in ["${}", "${ X}", "${X", "a ${X:-1"] {
            let error = substitute(bad, &env(&[])).unwrap_err();
            assert!(
                error.message.contains("bad substitution"),
                "{bad}: {}",
                error.message
            );
        }
        let error = substitute("x: ${X%.*}", &env(&[])).unwrap_err();
        assert!(error.message.contains("`%`"), "{}", error.message);
        assert_eq!(error.in_index, 3);
    }
}
