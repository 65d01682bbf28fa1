//! The leaves every section reads: non-negative durations (a Go duration or bare integer
//! seconds), ranges `A..B`, bounded integers, int-or-percent, booleans, choices among names and
//! string maps, each with the error naming its key and place; and the warnings.

use std::collections::BTreeMap;

use faasim_model::config::{ConfigWarning, IntOrPercent, Span};
use faasim_model::duration;
use faasim_model::time::NS_PER_S;

use super::super::ScenarioError;
use super::super::raw::StringMap;
use super::{Builder, Field, Loc, spanned_loc};

impl Builder<'_> {
    /// The error at `key`, placed at `loc`.
    pub(super) fn error(&self, key: &str, loc: Loc, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.to_string(),
            line: loc.map(|(line, _)| line),
            column: loc.map(|(_, column)| column),
            key: Some(key.to_string()),
            message: message.into(),
        }
    }

    /// Records a warning about `key`.
    pub(super) fn warn(&mut self, key: &str, message: impl Into<String>) {
        self.warnings.push(ConfigWarning {
            key: key.to_string(),
            message: message.into(),
        });
    }

    /// A non-negative duration (Go duration or bare integer seconds).
    pub(super) fn duration(
        &self,
        key: &str,
        f: Field<'_>,
        default_ns: u64,
    ) -> Result<u64, ScenarioError> {
        match f.raw {
            None => Ok(default_ns),
            Some(raw) => {
                scenario_duration_ns(raw).map_err(|message| self.error(key, f.loc, message))
            }
        }
    }

    /// A Go timeout of the gateway or faas-netes: a duration as `duration` reads it, or a
    /// negative Go duration (`-1s`), which Go treats as 0 at every one of these timers, so it
    /// becomes 0 with a warning. A negative bare integer stays an error: the components'
    /// `parseIntOrDurationValue` would silently replace it with their default.
    pub(super) fn go_timeout(
        &mut self,
        key: &str,
        f: Field<'_>,
        default_ns: u64,
    ) -> Result<u64, ScenarioError> {
        if let Some(raw) = f.raw
            && raw.starts_with('-')
            && raw.parse::<i64>().is_err()
            && let Ok(ns) = duration::parse_go(raw)
            && ns < 0
        {
            self.warn(
                key,
                format!("{raw} is negative: Go treats it as 0 here, so faasim uses 0"),
            );
            return Ok(0);
        }
        self.duration(key, f, default_ns)
    }

    /// A fixed duration, or a range `A..B` with `A <= B`.
    pub(super) fn span(
        &self,
        key: &str,
        f: Field<'_>,
        default: Span,
    ) -> Result<Span, ScenarioError> {
        let Some(raw) = f.raw else { return Ok(default) };
        match raw.split_once("..") {
            None => {
                let ns = scenario_duration_ns(raw).map_err(|m| self.error(key, f.loc, m))?;
                Ok(Span::fixed(ns))
            }
            Some((lo, hi)) => {
                let (lo, hi) = (lo.trim(), hi.trim());
                let side = |text: &str, which: &str| {
                    scenario_duration_ns(text).map_err(|m| {
                        self.error(key, f.loc, format!("{which} of range `{raw}`: {m}"))
                    })
                };
                let lo_ns = side(lo, "start")?;
                let hi_ns = side(hi, "end")?;
                if lo_ns > hi_ns {
                    return Err(self.error(
                        key,
                        f.loc,
                        format!("range `{raw}` starts after it ends (write `A..B` with A <= B)"),
                    ));
                }
                Ok(Span { lo_ns, hi_ns })
            }
        }
    }

    /// A decimal integer in `min..=max`.
    pub(super) fn integer(
        &self,
        key: &str,
        f: Field<'_>,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, ScenarioError> {
        let Some(raw) = f.raw else { return Ok(default) };
        let bound = || {
            if max >= u64::from(u32::MAX) {
                format!("a whole number >= {min}")
            } else {
                format!("a whole number from {min} to {max}")
            }
        };
        let negative = raw.strip_prefix('-').is_some_and(is_decimal);
        if negative {
            return Err(self.error(key, f.loc, format!("must be {}, got {raw}", bound())));
        }
        if !is_decimal(raw) {
            return Err(self.error(key, f.loc, format!("`{raw}` is not {}", bound())));
        }
        let digits = raw.strip_prefix('+').unwrap_or(raw);
        match digits.parse::<u64>() {
            Ok(value) if (min..=max).contains(&value) => Ok(value),
            Ok(value) if value < min => {
                Err(self.error(key, f.loc, format!("must be {}, got {raw}", bound())))
            }
            _ => Err(self.error(key, f.loc, format!("must be at most {max}, got {raw}"))),
        }
    }

    /// A decimal integer from `min` up to the limit `max` of `limits.rs`: a value above it is
    /// an error naming the limit and `why` it exists (docs/scenario-format.md, "Limits").
    pub(super) fn limited(
        &self,
        key: &str,
        f: Field<'_>,
        default: u64,
        min: u64,
        max: u64,
        why: &str,
    ) -> Result<u64, ScenarioError> {
        let over = || {
            self.error(
                key,
                f.loc,
                format!(
                    "{} is above the limit of {max} ({why}; docs/scenario-format.md, \"Limits\")",
                    f.raw.unwrap_or_default()
                ),
            )
        };
        // A number too long for u64 is over the limit too, not "not a number".
        if let Some(raw) = f.raw
            && is_decimal(raw)
            && !raw.starts_with('-')
            && raw.strip_prefix('+').unwrap_or(raw).parse::<u64>().is_err()
        {
            return Err(over());
        }
        let value = self.integer(key, f, default, min, u64::MAX)?;
        if value > max {
            return Err(over());
        }
        Ok(value)
    }

    /// [`Builder::limited`] for a `u32` limit.
    pub(super) fn limited_u32(
        &self,
        key: &str,
        f: Field<'_>,
        default: u32,
        min: u32,
        max: u32,
        why: &str,
    ) -> Result<u32, ScenarioError> {
        let value = self.limited(
            key,
            f,
            u64::from(default),
            u64::from(min),
            u64::from(max),
            why,
        )?;
        Ok(u32::try_from(value).unwrap_or(max))
    }

    /// A decimal integer from `min` to `u32::MAX`.
    pub(super) fn int_u32(
        &self,
        key: &str,
        f: Field<'_>,
        default: u32,
        min: u32,
    ) -> Result<u32, ScenarioError> {
        let value = self.integer(
            key,
            f,
            u64::from(default),
            u64::from(min),
            u64::from(u32::MAX),
        )?;
        Ok(u32::try_from(value).unwrap_or(u32::MAX))
    }

    /// `true` or `false` (any of YAML's three spellings of each).
    pub(super) fn boolean(
        &self,
        key: &str,
        f: Field<'_>,
        default: bool,
    ) -> Result<bool, ScenarioError> {
        match f.raw {
            None => Ok(default),
            Some("true" | "True" | "TRUE") => Ok(true),
            Some("false" | "False" | "FALSE") => Ok(false),
            Some(raw) => Err(self.error(key, f.loc, format!("must be true or false, got `{raw}`"))),
        }
    }

    /// One of the named `options` (`any_case`: ignoring ASCII case).
    pub(super) fn choice<T: Copy>(
        &self,
        key: &str,
        f: Field<'_>,
        default: T,
        options: &[(&str, T)],
        any_case: bool,
    ) -> Result<T, ScenarioError> {
        let Some(raw) = f.raw else { return Ok(default) };
        let found = options.iter().find(|(name, _)| {
            if any_case {
                name.eq_ignore_ascii_case(raw)
            } else {
                *name == raw
            }
        });
        match found {
            Some((_, value)) => Ok(*value),
            None => {
                let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
                Err(self.error(
                    key,
                    f.loc,
                    format!("`{raw}` is not one of: {}", names.join(", ")),
                ))
            }
        }
    }

    /// A map of names to text (null is `""`), and where each value is written.
    pub(super) fn string_map(
        &self,
        map: Option<StringMap>,
    ) -> (BTreeMap<String, String>, BTreeMap<String, Loc>) {
        let mut values = BTreeMap::new();
        let mut locs = BTreeMap::new();
        for (key, value) in map.unwrap_or_default() {
            let (text, loc) = match value {
                Some(spanned) => {
                    let loc = spanned_loc(&spanned);
                    (spanned.value, loc)
                }
                None => (String::new(), None),
            };
            values.insert(key.clone(), text);
            locs.insert(key, loc);
        }
        (values, locs)
    }

    /// A Kubernetes int-or-percent (`1`, `25%`), never negative.
    pub(super) fn int_or_percent(
        &self,
        key: &str,
        f: Field<'_>,
        default: IntOrPercent,
    ) -> Result<IntOrPercent, ScenarioError> {
        let Some(raw) = f.raw else { return Ok(default) };
        match raw.strip_suffix('%') {
            Some(number) => {
                let inner = Field {
                    raw: Some(number),
                    loc: f.loc,
                };
                let value = self
                    .integer(key, inner, 0, 0, u64::from(u32::MAX))
                    .map_err(|_| {
                        self.error(
                            key,
                            f.loc,
                            format!("`{raw}` is not an integer or a percentage like \"25%\""),
                        )
                    })?;
                Ok(IntOrPercent::Percent(
                    u32::try_from(value).unwrap_or(u32::MAX),
                ))
            }
            None => {
                if !is_decimal(raw) {
                    let message = if raw.strip_prefix('-').is_some_and(is_decimal) {
                        format!("must not be negative, got {raw}")
                    } else {
                        format!("`{raw}` is not an integer or a percentage like \"25%\"")
                    };
                    return Err(self.error(key, f.loc, message));
                }
                let value = self.integer(key, f, 0, 0, u64::from(u32::MAX))?;
                Ok(IntOrPercent::Int(u32::try_from(value).unwrap_or(u32::MAX)))
            }
        }
    }
}

/// Durations in scenario keys: a bare integer is seconds, anything else a Go duration; both
/// strictly (no fallback) and never negative.
fn scenario_duration_ns(raw: &str) -> Result<u64, String> {
    let ns = match raw.parse::<i64>() {
        Ok(seconds) if seconds < 0 => {
            return Err(format!("must not be negative, got {raw}"));
        }
        Ok(seconds) => seconds
            .checked_mul(NS_PER_S as i64)
            .ok_or_else(|| format!("{raw} seconds is out of range (at most 9223372036 seconds)"))?,
        Err(_) => duration::parse_go(raw).map_err(|error| {
            format!("{error}; write a Go duration such as `2m30s` or a bare integer of seconds")
        })?,
    };
    u64::try_from(ns).map_err(|_| format!("must not be negative, got {raw}"))
}

/// Decimal digits with an optional `+`.
fn is_decimal(raw: &str) -> bool {
    let digits = raw.strip_prefix('+').unwrap_or(raw);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}
