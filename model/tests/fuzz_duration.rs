//! Fuzzing the duration readers every input goes through: Go's `time.ParseDuration`
//! (`parse_go`), OpenFaaS's `parseIntOrDurationValue` (`read_int_or_duration`), the strict
//! reader, faas-netes's Pro grace derivation, and the watchdog and child environment readers
//! built on them. Inputs are mutated from `fuzz/corpus/duration/` (one value per file) or
//! written from scratch out of digits, signs, dots and unit letters. Each must be read without
//! a panic; Go's errors must carry the input and a place inside it; an accepted value must
//! print and read back to itself. `FAASIM_FUZZ_CASES=N` raises the case count
//! (`docs/fuzzing.md`).

#[path = "../../fuzz/mutate.rs"]
mod mutate;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use faasim_model::duration::{
    DurationErrorKind, Reading, format_go, parse_go, pro_grace_seconds, read_int_or_duration,
    read_strict,
};
use faasim_model::environment::{ChildEnv, WatchdogEnv, read_max_inflight, read_mode};
use proptest::prelude::*;

/// A default no input can produce by accident, to tell a fallback from a value.
const DEFAULT_NS: i64 = 30_000_000_017;

fn corpus() -> Arc<Vec<Vec<u8>>> {
    static CORPUS: OnceLock<Arc<Vec<Vec<u8>>>> = OnceLock::new();
    mutate::corpus_once(&CORPUS, env!("CARGO_MANIFEST_DIR"), "duration")
}

fn check(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let text = text.as_ref();
    match parse_go(text) {
        Ok(ns) => {
            // Go's String() of the value reads back to it (the round trip faasim relies on
            // when it prints effective values users copy into their files).
            let shown = format_go(ns);
            assert_eq!(
                parse_go(&shown),
                Ok(ns),
                "{text:?} read as {ns} shown as {shown:?}"
            );
            assert_eq!(
                read_strict(text),
                Ok(ns),
                "the strict reader disagrees on {text:?}"
            );
        }
        Err(error) => {
            assert_eq!(error.input, text, "the error does not carry the input");
            if let DurationErrorKind::ExpectedNumber { at_byte } = error.kind {
                assert!(
                    at_byte < text.len() && text.is_char_boundary(at_byte),
                    "{text:?}: the place {at_byte} is not a character of the input"
                );
            }
            let shown = error.to_string();
            assert!(!shown.contains('\n') || text.contains('\n'), "{shown:?}");
        }
    }
    // parseIntOrDurationValue: a non-negative integer is seconds (Go's int64 product wraps),
    // anything else is Go's reading, and what Go refuses falls back to the default.
    let expected = match text.parse::<i64>() {
        Ok(seconds) if seconds >= 0 => Ok(seconds.wrapping_mul(1_000_000_000)),
        _ => parse_go(text).map_err(|_| ()),
    };
    match read_int_or_duration(Some(text), DEFAULT_NS) {
        Reading::Set { ns } => assert_eq!(Ok(ns), expected, "{text:?}"),
        Reading::Unset { default_ns } => {
            assert_eq!(default_ns, DEFAULT_NS);
            assert!(text.is_empty(), "{text:?} read as unset");
        }
        fallback @ Reading::Fallback { .. } => {
            assert_eq!(expected, Err(()), "{text:?} fell back");
            assert_eq!(fallback.ns(), DEFAULT_NS);
            assert!(fallback.warning().is_some_and(|w| w.contains("default")));
        }
    }
    let (grace_s, _warning) = pro_grace_seconds(Some(text));
    // `time.Duration.Seconds()` of an int64 lies within i64's seconds.
    assert!(
        grace_s.unsigned_abs() <= i64::MAX as u64 / 1_000_000_000 + 1,
        "{grace_s}"
    );

    // The environment readers see the value under every name they read.
    let env: BTreeMap<String, String> = [
        "read_timeout",
        "write_timeout",
        "exec_timeout",
        "healthcheck_interval",
        "max_inflight",
        "mode",
        "upstream_timeout",
    ]
    .iter()
    .map(|name| (name.to_string(), text.to_string()))
    .collect();
    let _ = WatchdogEnv::read(&env);
    let _ = WatchdogEnv::read_classic(&env);
    let _ = ChildEnv::read(&env);
    let _ = read_max_inflight(&env);
    let _ = read_mode(&env);
}

/// Durations from scratch: signs, digits, dots, unit letters (ASCII and the two micro signs),
/// spaces and the odd character, in any order.
fn scratch() -> impl Strategy<Value = mutate::Input> {
    let piece = prop_oneof![
        Just("-"),
        Just("+"),
        Just("."),
        Just("0"),
        Just("1"),
        Just("9"),
        Just("9223372036854775807"),
        Just("18446744073709551616"),
        Just("000000000000000000000"),
        Just("ns"),
        Just("us"),
        Just("µs"),
        Just("μs"),
        Just("ms"),
        Just("s"),
        Just("m"),
        Just("h"),
        Just("d"),
        Just(" "),
        Just("e"),
        Just("é"),
        Just("\0"),
        Just("_"),
    ];
    proptest::collection::vec(piece, 0..12)
        .prop_map(|pieces| mutate::Input(pieces.concat().into_bytes()))
}

proptest! {
    #![proptest_config(mutate::config(mutate::DEFAULT_CASES * 4))]

    #[test]
    fn mutated_durations_are_read_or_refused_with_a_place(input in mutate::mutated(corpus())) {
        check(&input);
    }

    #[test]
    fn generated_durations_are_read_or_refused_with_a_place(input in scratch()) {
        check(&input);
    }
}

/// Every corpus entry as committed, and the corpus holds both accepted and refused values.
#[test]
fn every_corpus_entry_is_read_or_refused_with_a_place() {
    let corpus = corpus();
    let accepted = corpus
        .iter()
        .filter(|entry| parse_go(&String::from_utf8_lossy(entry)).is_ok())
        .count();
    for entry in corpus.iter() {
        check(entry);
    }
    assert!(
        accepted >= 10 && corpus.len() - accepted >= 10,
        "{accepted} of {}",
        corpus.len()
    );
}
