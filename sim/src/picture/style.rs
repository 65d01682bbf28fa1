//! The look: one colour per outcome class and per phase of a pod's life, as the CSS that the
//! SVG carries in its `<style>` (so every element names a class, not a colour), and the legend.

use faasim_model::ledger::Outcome;

/// The colour of an outcome class (also the fill of its bars and density rows).
pub fn outcome_colour(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Ok => "#43a047",
        Outcome::Dropped => "#d32f2f",
        Outcome::Refused => "#ef6c00",
        Outcome::TimedOut => "#8e24aa",
        Outcome::Rejected => "#f9a825",
        Outcome::Unfinished => "#757575",
        // Asynchronous invocations: never completed, or run more than once.
        Outcome::Lost => "#4e342e",
        Outcome::Duplicated => "#00838f",
    }
}

/// The stylesheet of the SVG: classes for bars, phases, bands, marks, lanes and text.
pub fn css() -> String {
    let mut css = String::from(
        "text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px;fill:#222}\
         .title{font-size:14px;font-weight:bold}\
         .section{font-weight:bold;fill:#555}\
         .lane-label{text-anchor:end}\
         .tick line,.grid{stroke:#e0e0e0;stroke-width:1}\
         .tick text{text-anchor:middle;fill:#666}\
         .lane-bg{fill:#fafafa}\
         .phase.starting{fill:#b3e5fc}.phase.ready{fill:#64b5f6}\
         .phase.terminating{fill:#ffcc80}.phase.draining{fill:#ff8a65}\
         .routed{fill:#0d47a1}\
         .band.lag-add,.band.lag-remove{fill:#ffd54f;fill-opacity:0.45}\
         .band.gap{fill:#d50000;fill-opacity:0.35}\
         .mark.signal{stroke:#b71c1c;stroke-width:2}\
         .mark.timer{fill:#6a1b9a;stroke:#fff;stroke-width:0.5}\
         .mark.note{fill:#616161}\
         .end.killed{stroke:#b71c1c;stroke-width:2.5}\
         .end.exited{stroke:#212121;stroke-width:2.5}\
         .event line{stroke:#37474f;stroke-width:1;stroke-dasharray:4 3}\
         .event text{fill:#37474f;font-weight:bold}\
         .req:hover,.mark:hover{stroke:#000;stroke-width:1}",
    );
    // The async classes too (an async run's bars carry them); the legend lists the six classes
    // every run has.
    for outcome in Outcome::ALL.into_iter().chain(Outcome::ASYNC) {
        css.push_str(&format!(
            ".req.{name},.density.{name},.swatch.{name},.hit.{name}{{fill:{colour}}}",
            name = outcome.name(),
            colour = outcome_colour(outcome)
        ));
    }
    css
}

/// The legend's entries: (CSS classes of the swatch, its words).
pub fn legend() -> Vec<(String, &'static str)> {
    let mut entries: Vec<(String, &'static str)> = Outcome::ALL
        .iter()
        .map(|o| (format!("swatch {}", o.name()), o.name()))
        .collect();
    entries.extend([
        ("phase starting".to_string(), "starting"),
        ("phase ready".to_string(), "ready"),
        ("routed".to_string(), "in endpoint view"),
        ("phase terminating".to_string(), "terminating"),
        ("phase draining".to_string(), "draining"),
        ("band lag-remove".to_string(), "endpoint lag"),
        ("band gap".to_string(), "closed but routed"),
    ]);
    entries
}
