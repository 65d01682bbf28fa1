//! The progress bars of long work on stderr: `faasim explore`'s seeds and a long `faasim run`'s
//! requests, each with an estimate of the time left. Shown only when stderr is a terminal and
//! `--quiet` is not given; otherwise the bar is hidden and writes nothing, so stdout and every
//! report are the same bytes with or without it.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether to draw a bar: only for a person watching stderr who did not ask for quiet.
pub fn shown(stderr_is_terminal: bool, quiet: bool) -> bool {
    stderr_is_terminal && !quiet
}

/// A bar of `len` units named `unit` on stderr, or a hidden one (see [`shown`]).
pub fn bar(len: u64, unit: &str, quiet: bool) -> ProgressBar {
    if !shown(std::io::stderr().is_terminal(), quiet) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = format!("{{bar:40}} {{human_pos}}/{{human_len}} {unit}, {{eta}} left {{msg}}");
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bar_only_on_a_terminal_and_never_when_quiet() {
        assert!(shown(true, false));
        assert!(!shown(true, true));
        assert!(!shown(false, false));
        assert!(!shown(false, true));
    }

    #[test]
    fn without_a_terminal_the_bar_is_hidden() {
        // The tests run with stderr captured, not a terminal (or, under a terminal, quiet).
        let quiet = std::io::stderr().is_terminal();
        let bar = bar(10, "seeds", quiet);
        assert!(bar.is_hidden());
        bar.inc(5);
        assert_eq!(bar.position(), 5, "a hidden bar still counts");
    }
}
