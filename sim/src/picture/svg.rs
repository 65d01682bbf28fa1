//! The swimlane picture as SVG text: a title and legend, the time axis, the client section
//! (each request a bar from send to answer coloured by outcome, or density rows and the
//! failing requests when there are many), the ingress, provider and gateway lanes, one lane
//! per pod with its phases, the endpoint view and its lag, marks for signals and timers, and
//! the scenario's events as vertical lines.
//!
//! Elements a reader (or a test) looks for carry stable ids and classes: `req-N` with
//! `class="req OUTCOME"`, `pod-NAME` and `gateway-NAME` lanes (`class="lane ..."`),
//! `class="phase PHASE"`, `class="band KIND"`, `class="mark KIND"`, `class="event"`, and
//! `class="hit OUTCOME"` for the tick on a pod's lane where a failing request routed to it
//! ended.

use std::fmt::Write as _;

use faasim_model::ledger::{Outcome, Record};
use faasim_model::run::PodEnd;
use faasim_model::time::Nanos;

use super::layout::{self, Scale};
use super::story::{Life, Mark, MarkKind, Story};
use super::{describe, escape, style};
use crate::Run;
use crate::report::Header;

/// Width of the lane labels, pixels.
const LABEL_W: f64 = 210.0;
/// Width of the plot, pixels.
const PLOT_W: f64 = 1200.0;
/// Right margin, pixels.
const RIGHT_W: f64 = 40.0;
/// Height of a row of request bars.
const ROW_H: f64 = 12.0;
/// Height of a request bar.
const BAR_H: f64 = 9.0;
/// Height of a pod's, a gateway's or a component's lane.
const LANE_H: f64 = 18.0;
/// Space between sections.
const GAP_H: f64 = 10.0;

/// The SVG being written, with the vertical cursor.
struct Canvas {
    /// The text so far.
    out: String,
    /// The next free y, pixels.
    y: f64,
    /// The time scale.
    scale: Scale,
}

impl Canvas {
    /// A section heading.
    fn section(&mut self, words: &str) {
        self.y += GAP_H;
        let _ = writeln!(
            self.out,
            "<text class=\"section\" x=\"8\" y=\"{:.1}\">{}</text>",
            self.y + 10.0,
            escape(words)
        );
        self.y += 14.0;
    }

    /// A lane's label and background, `height` high.
    fn lane_label(&mut self, words: &str, title: &str, height: f64) {
        let _ = writeln!(
            self.out,
            "<rect class=\"lane-bg\" x=\"{:.1}\" y=\"{:.1}\" width=\"{PLOT_W:.1}\" height=\"{height:.1}\"/>\
             <text class=\"lane-label\" x=\"{:.1}\" y=\"{:.1}\">{}<title>{}</title></text>",
            self.scale.x0,
            self.y,
            LABEL_W - 6.0,
            self.y + height / 2.0 + 4.0,
            escape(words),
            escape(title)
        );
    }

    /// The marks of one lane at the current y, those within a pixel of the one before (of the
    /// same kind) folded into it.
    fn marks(&mut self, marks: &[Mark]) {
        let mut index = 0;
        while index < marks.len() {
            let mark = &marks[index];
            let x = self.scale.x(mark.at_ns);
            let mut more = 0;
            while marks
                .get(index + 1 + more)
                .is_some_and(|m| m.kind == mark.kind && self.scale.x(m.at_ns) - x < 1.0)
            {
                more += 1;
            }
            index += 1 + more;
            let title = if more > 0 {
                format!("{} (and {more} more here)", mark.label)
            } else {
                mark.label.clone()
            };
            let y = self.y;
            let title = escape(&format!("{} {}", super::stamp(mark.at_ns), title));
            let _ = match mark.kind {
                MarkKind::Signal => writeln!(
                    self.out,
                    "<line class=\"mark signal\" x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"><title>{title}</title></line>",
                    y + LANE_H
                ),
                MarkKind::Timer => writeln!(
                    self.out,
                    "<path class=\"mark timer\" d=\"M{x:.1} {:.1}l4 5l-4 5l-4 -5z\"><title>{title}</title></path>",
                    y + 4.0
                ),
                MarkKind::Note => writeln!(
                    self.out,
                    "<circle class=\"mark note\" cx=\"{x:.1}\" cy=\"{:.1}\" r=\"2\"><title>{title}</title></circle>",
                    y + LANE_H - 3.0
                ),
            };
        }
    }

    /// One pod's or gateway replica's lane, with ticks where the `failing` requests routed to
    /// it ended.
    fn life(&mut self, life: &Life, kind: &str, end_ns: Nanos, failing: &[&Record]) {
        let _ = writeln!(
            self.out,
            "<g class=\"lane {kind}\" id=\"{kind}-{}\" data-name=\"{}\">",
            escape(&life.name),
            escape(&life.name)
        );
        let ended = match life.end_ns {
            Some(at) => format!("{} at {}", life.end.name(), super::stamp(at)),
            None => life.end.name().to_string(),
        };
        self.lane_label(&life.name, &format!("{}: {ended}", life.name), LANE_H);
        let y = self.y;
        for (span, phase) in life.phase_spans(end_ns) {
            let x = self.scale.x(span.from_ns);
            let w = (self.scale.x(span.to_ns) - x).max(0.5);
            let _ = writeln!(
                self.out,
                "<rect class=\"phase {}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"10\"><title>{} {} to {}</title></rect>",
                phase.name(),
                y + 5.0,
                phase.name(),
                super::stamp(span.from_ns),
                super::stamp(span.to_ns)
            );
        }
        for span in &life.routed {
            let x = self.scale.x(span.from_ns);
            let w = (self.scale.x(span.to_ns) - x).max(0.5);
            let _ = writeln!(
                self.out,
                "<rect class=\"routed\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"3\"><title>in the endpoint view {} to {}</title></rect>",
                y + 1.0,
                super::stamp(span.from_ns),
                super::stamp(span.to_ns)
            );
        }
        for band in &life.bands {
            let x = self.scale.x(band.span.from_ns);
            let w = (self.scale.x(band.span.to_ns) - x).max(1.0);
            let _ = writeln!(
                self.out,
                "<rect class=\"band {}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{LANE_H:.1}\"><title>{} {} to {}</title></rect>",
                band.kind.name(),
                band.kind.meaning(),
                super::stamp(band.span.from_ns),
                super::stamp(band.span.to_ns)
            );
        }
        for record in failing {
            let at = layout::end_of(record, end_ns);
            let x = self.scale.x(at);
            let _ = writeln!(
                self.out,
                "<rect class=\"hit {}\" x=\"{:.1}\" y=\"{:.1}\" width=\"2\" height=\"6\"><title>request {} ended here at {}: {}</title></rect>",
                record.outcome.name(),
                x - 1.0,
                y + LANE_H - 6.0,
                record.id,
                super::stamp(at),
                record.cause.map_or("unfinished", |c| c.name())
            );
        }
        self.marks(&life.marks);
        if let Some(at) = life.end_ns {
            let x = self.scale.x(at);
            let _ = match life.end {
                PodEnd::Killed => writeln!(
                    self.out,
                    "<path class=\"end killed\" d=\"M{:.1} {:.1}l8 10M{:.1} {:.1}l-8 10\"><title>killed at {}</title></path>",
                    x - 4.0,
                    y + 4.0,
                    x + 4.0,
                    y + 4.0,
                    super::stamp(at)
                ),
                _ => writeln!(
                    self.out,
                    "<line class=\"end exited\" x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\"><title>exited at {}</title></line>",
                    y + 2.0,
                    y + LANE_H - 2.0,
                    super::stamp(at)
                ),
            };
        }
        self.out.push_str("</g>\n");
        self.y += LANE_H + 2.0;
    }

    /// A lane with marks only.
    fn mark_lane(&mut self, name: &str, marks: &[Mark]) {
        let _ = writeln!(
            self.out,
            "<g class=\"lane component\" id=\"component-{}\">",
            escape(name)
        );
        self.lane_label(name, name, LANE_H);
        self.marks(marks);
        self.out.push_str("</g>\n");
        self.y += LANE_H + 2.0;
    }

    /// Request bars, packed into rows, under one lane label.
    fn request_rows(&mut self, label: &str, records: &[&Record], pods: &[String], end_ns: Nanos) {
        let pad = self.scale.ns_per_px();
        let (rows, count) = layout::pack(records, end_ns, pad);
        let shown = count.min(layout::ROWS_MAX);
        // Many rows are drawn thinner, so that the lanes below stay in view.
        let (row_h, bar_h) = if shown > 20 {
            (ROW_H / 2.0, BAR_H / 2.0)
        } else {
            (ROW_H, BAR_H)
        };
        let height = shown.max(1) as f64 * row_h;
        let _ = writeln!(
            self.out,
            "<g class=\"lane client\" data-name=\"{}\">",
            escape(label)
        );
        self.lane_label(
            label,
            &format!("{label}: {} requests", records.len()),
            height,
        );
        // The failing bars after the others, so that they are drawn on top.
        let mut order: Vec<(&Record, usize)> = records.iter().copied().zip(rows).collect();
        order.sort_by_key(|(record, _)| record.outcome != Outcome::Ok);
        for (record, row) in order {
            let x = self.scale.x(record.start_ns);
            let end = layout::end_of(record, end_ns);
            let narrowest = if record.outcome == Outcome::Ok {
                1.0
            } else {
                layout::FAILING_MIN_W
            };
            let w = (self.scale.x(end) - x).max(narrowest);
            let y = self.y + row.min(shown - 1) as f64 * row_h + 1.5;
            let _ = writeln!(
                self.out,
                "<rect class=\"req {}\" id=\"req-{}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar_h:.1}\"><title>{}</title></rect>",
                record.outcome.name(),
                record.id,
                escape(&describe(record, pods))
            );
        }
        self.out.push_str("</g>\n");
        self.y += height + 2.0;
    }
}

/// The SVG of `run`, told by `story`.
pub fn render(run: &Run, header: &Header, story: &Story) -> String {
    let end_ns = story.end_ns;
    let scale = Scale::new(end_ns, LABEL_W, PLOT_W);
    let mut canvas = Canvas {
        out: String::new(),
        y: 0.0,
        scale,
    };
    let ledger = &run.result.ledger;
    let pods: Vec<String> = story.pods.iter().map(|p| p.name.clone()).collect();
    canvas.y = 78.0;
    let top = canvas.y;
    let axis_y = canvas.y;
    // Room for the axis labels and three staggered levels of event labels.
    canvas.y += 40.0;
    let pad = scale.ns_per_px();
    // The client section.
    if layout::draws_each(ledger, end_ns, pad) {
        canvas.section(&format!("client: {} requests", ledger.len()));
        let workers = story.workers as usize;
        if workers <= layout::WORKER_LANES_MAX {
            for worker in 0..story.workers {
                let records: Vec<&Record> = ledger.iter().filter(|r| r.worker == worker).collect();
                canvas.request_rows(&format!("worker {worker}"), &records, &pods, end_ns);
            }
        } else {
            let records: Vec<&Record> = ledger.iter().collect();
            canvas.request_rows(&format!("{workers} workers"), &records, &pods, end_ns);
        }
    } else {
        density_section(&mut canvas, run, &pods, end_ns);
    }
    // Components with marks only, then the gateways, then the pods.
    if !story.others.is_empty() {
        canvas.section("components");
        for (name, marks) in &story.others {
            canvas.mark_lane(name, marks);
        }
    }
    canvas.section("gateway");
    canvas.life(&story.gateway, "gateway", end_ns, &[]);
    for life in &story.gateways {
        canvas.life(life, "gateway", end_ns, &[]);
    }
    canvas.section(&format!("pods: {}", story.pods.len()));
    let failing: Vec<&Record> = ledger
        .iter()
        .filter(|r| r.outcome != Outcome::Ok && r.pod.is_some())
        .take(layout::FAILING_MAX)
        .collect();
    for (index, life) in story.pods.iter().enumerate() {
        let hits: Vec<&Record> = failing
            .iter()
            .copied()
            .filter(|r| r.pod == Some(index as u32))
            .collect();
        canvas.life(life, "pod", end_ns, &hits);
    }
    let bottom = canvas.y + 4.0;
    let body = std::mem::take(&mut canvas.out);
    let height = bottom + 30.0;
    let width = LABEL_W + PLOT_W + RIGHT_W;
    let mut out = String::with_capacity(body.len() + 8192);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"faasim-timeline\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\">"
    );
    let _ = writeln!(out, "<style>{}</style>", style::css());
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width:.0}\" height=\"{height:.0}\" fill=\"#fff\"/>"
    );
    let _ = writeln!(
        out,
        "<text class=\"title\" x=\"8\" y=\"20\">{}</text>",
        escape(&super::headline(run, header))
    );
    legend(&mut out);
    grid(&mut out, &scale, axis_y, bottom);
    out.push_str(&body);
    events(&mut out, &scale, story, top, bottom);
    out.push_str("</svg>\n");
    out
}

/// The density rows and the failing requests, for runs with too many requests to draw.
fn density_section(canvas: &mut Canvas, run: &Run, pods: &[String], end_ns: Nanos) {
    let ledger = &run.result.ledger;
    let bin = layout::bin_ns(end_ns);
    canvas.section(&format!(
        "client: {} requests, sent per {}",
        ledger.len(),
        layout::seconds_label(bin)
    ));
    let scale = canvas.scale;
    for density in layout::densities(ledger, end_ns) {
        let most = density.counts.iter().copied().max().unwrap_or(1).max(1);
        let _ = writeln!(
            canvas.out,
            "<g class=\"lane density-row\" data-outcome=\"{}\">",
            density.outcome.name()
        );
        canvas.lane_label(
            &format!("{} ({})", density.outcome.name(), density.total),
            &format!(
                "{} requests {}, at most {most} sent in one {}",
                density.total,
                density.outcome.name(),
                layout::seconds_label(bin)
            ),
            LANE_H,
        );
        for (index, count) in density.counts.iter().enumerate() {
            if *count == 0 {
                continue;
            }
            let from = index as Nanos * bin;
            let x = scale.x(from);
            let w = (scale.x(from + bin) - x).max(0.5);
            // Height and opacity both grow with the count: a bin with one request still shows.
            let h = 2.0 + (LANE_H - 4.0) * (*count as f64 / most as f64);
            let opacity = 0.35 + 0.65 * (*count as f64 / most as f64);
            let _ = writeln!(
                canvas.out,
                "<rect class=\"density {}\" x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill-opacity=\"{opacity:.2}\"><title>{} {}: {count} sent</title></rect>",
                density.outcome.name(),
                canvas.y + LANE_H - 2.0 - h,
                super::stamp(from),
                density.outcome.name()
            );
        }
        canvas.out.push_str("</g>\n");
        canvas.y += LANE_H + 2.0;
    }
    let failing: Vec<&Record> = ledger.iter().filter(|r| r.outcome != Outcome::Ok).collect();
    if !failing.is_empty() {
        let shown = &failing[..failing.len().min(layout::FAILING_MAX)];
        let label = if shown.len() < failing.len() {
            format!("failing: first {} of {}", shown.len(), failing.len())
        } else {
            format!("failing: {}", failing.len())
        };
        canvas.request_rows(&label, shown, pods, end_ns);
    }
}

/// The legend under the title.
fn legend(out: &mut String) {
    let mut x = 8.0;
    let y = 36.0;
    for (class, words) in style::legend() {
        let _ = write!(
            out,
            "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"12\" height=\"10\"/><text x=\"{:.1}\" y=\"{:.1}\">{words}</text>",
            x + 15.0,
            y + 9.0
        );
        x += 15.0 + 7.0 * words.len() as f64 + 14.0;
    }
    let y = y + 18.0;
    let _ = writeln!(
        out,
        "\n<line class=\"mark signal\" x1=\"12\" y1=\"{y:.1}\" x2=\"12\" y2=\"{:.1}\"/><text x=\"20\" y=\"{:.1}\">signal</text>\
         <path class=\"mark timer\" d=\"M80 {y:.1}l4 5l-4 5l-4 -5z\"/><text x=\"88\" y=\"{:.1}\">timer fired</text>\
         <circle class=\"mark note\" cx=\"180\" cy=\"{:.1}\" r=\"2\"/><text x=\"186\" y=\"{:.1}\">note</text>\
         <path class=\"end killed\" d=\"M236 {y:.1}l8 10M244 {y:.1}l-8 10\"/><text x=\"250\" y=\"{:.1}\">killed</text>\
         <line class=\"end exited\" x1=\"310\" y1=\"{y:.1}\" x2=\"310\" y2=\"{:.1}\"/><text x=\"316\" y=\"{:.1}\">exited</text>\
         <line class=\"legend-event\" x1=\"380\" y1=\"{y:.1}\" x2=\"380\" y2=\"{:.1}\" stroke=\"#37474f\" stroke-dasharray=\"4 3\"/><text x=\"386\" y=\"{:.1}\">scenario event</text>",
        y + 10.0,
        y + 9.0,
        y + 9.0,
        y + 5.0,
        y + 9.0,
        y + 9.0,
        y + 10.0,
        y + 9.0,
        y + 10.0,
        y + 9.0,
    );
}

/// The time axis above and below the lanes, and the grid lines between.
fn grid(out: &mut String, scale: &Scale, top: f64, bottom: f64) {
    let _ = writeln!(out, "<g class=\"axis\">");
    for (at, label) in layout::ticks(scale.end_ns, 10) {
        let x = scale.x(at);
        let _ = writeln!(
            out,
            "<g class=\"tick\" data-ns=\"{at}\"><line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\"/><text x=\"{x:.1}\" y=\"{:.1}\">{label}</text><text x=\"{x:.1}\" y=\"{:.1}\">{label}</text></g>",
            top + 4.0,
            top + 2.0,
            bottom + 14.0
        );
    }
    out.push_str("</g>\n");
}

/// The scenario's events: a dashed line across every lane and a label on top, staggered when
/// two are close.
fn events(out: &mut String, scale: &Scale, story: &Story, top: f64, bottom: f64) {
    let mut last_x = f64::NEG_INFINITY;
    let mut level = 0;
    for happening in &story.happenings {
        let x = scale.x(happening.at_ns);
        level = if x - last_x < 90.0 {
            (level + 1) % 3
        } else {
            0
        };
        last_x = x;
        let title = if happening.detail.is_empty() {
            happening.label.clone()
        } else {
            happening.detail.clone()
        };
        let _ = writeln!(
            out,
            "<g class=\"event\" data-ns=\"{}\"><line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{bottom:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}<title>{} {}</title></text></g>",
            happening.at_ns,
            top + 4.0,
            x + 3.0,
            top + 16.0 + 12.0 * level as f64,
            escape(&happening.label),
            super::stamp(happening.at_ns),
            escape(&title)
        );
    }
}
