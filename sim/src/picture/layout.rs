//! Geometry without drawing: the time scale and its ticks, packing requests into rows where
//! none overlaps, folding many requests into density bins, and the choice between drawing each
//! request and folding them. Integer nanoseconds in, pixels out, with one decimal so that the
//! same run gives the same bytes.

use faasim_model::ledger::{Outcome, Record};
use faasim_model::time::{NS_PER_MS, NS_PER_S, Nanos};

/// Up to this many requests, each one is drawn as its own bar.
pub const INDIVIDUAL_MAX: usize = 600;
/// Up to this many rows of bars in the client section; past it, requests are folded.
pub const ROWS_MAX: usize = 60;
/// Up to this many failing requests are drawn one by one when the rest are folded.
pub const FAILING_MAX: usize = 2000;
/// The narrowest bar of a failing request, pixels: one that took a millisecond still shows.
pub const FAILING_MIN_W: f64 = 3.0;
/// Up to this many client workers get a lane each; more are drawn as one aggregate lane.
pub const WORKER_LANES_MAX: usize = 12;
/// How many time bins a density row has.
pub const DENSITY_BINS: usize = 400;

/// Maps simulated time to x, over `[0, end_ns]`.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    /// The right edge of the axis, nanoseconds (at least 1).
    pub end_ns: Nanos,
    /// x of time 0, pixels.
    pub x0: f64,
    /// Width of the plot, pixels.
    pub width: f64,
}

impl Scale {
    /// A scale over `[0, end_ns]` drawn from `x0` over `width` pixels.
    pub fn new(end_ns: Nanos, x0: f64, width: f64) -> Scale {
        Scale {
            end_ns: end_ns.max(1),
            x0,
            width,
        }
    }

    /// x of `ns`, clamped to the plot, rounded to a tenth of a pixel.
    pub fn x(&self, ns: Nanos) -> f64 {
        let ns = ns.min(self.end_ns);
        let x = self.x0 + self.width * (ns as f64 / self.end_ns as f64);
        (x * 10.0).round() / 10.0
    }

    /// How many nanoseconds one pixel is (at least 1).
    pub fn ns_per_px(&self) -> Nanos {
        ((self.end_ns as f64 / self.width) as Nanos).max(1)
    }
}

/// `ns` as seconds, with no trailing zeros (`0.5s`, `60s`, `0.025s`).
pub fn seconds_label(ns: Nanos) -> String {
    let whole = ns / NS_PER_S;
    let frac = ns % NS_PER_S;
    if frac == 0 {
        return format!("{whole}s");
    }
    let digits = format!("{frac:09}");
    format!("{whole}.{}s", digits.trim_end_matches('0'))
}

/// A tick step of 1, 2 or 5 times a power of ten nanoseconds, so that `[0, end_ns]` has about
/// `target` ticks.
pub fn tick_step(end_ns: Nanos, target: u64) -> Nanos {
    let raw = (end_ns / target.max(1)).max(1);
    let mut power: Nanos = 1;
    loop {
        for factor in [1, 2, 5] {
            let step = power.saturating_mul(factor);
            if step >= raw {
                return step;
            }
        }
        if power > Nanos::MAX / 10 {
            return power;
        }
        power *= 10;
    }
}

/// The ticks of the time axis: multiples of [`tick_step`] from 0 to `end_ns`, with labels.
pub fn ticks(end_ns: Nanos, target: u64) -> Vec<(Nanos, String)> {
    let step = tick_step(end_ns, target);
    let mut ticks = Vec::new();
    let mut at: Nanos = 0;
    while at <= end_ns {
        ticks.push((at, seconds_label(at)));
        match at.checked_add(step) {
            Some(next) => at = next,
            None => break,
        }
    }
    ticks
}

/// A request's end for drawing: its answer, or the run's end when unfinished.
pub fn end_of(record: &Record, run_end_ns: Nanos) -> Nanos {
    record.end_ns.unwrap_or(run_end_ns).max(record.start_ns)
}

/// Pack `records` (in ledger order) into rows where no two bars overlap or touch within
/// `pad_ns`: the row index of each, and the number of rows. First fit, in order of sending.
pub fn pack(records: &[&Record], run_end_ns: Nanos, pad_ns: Nanos) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by_key(|&i| (records[i].start_ns, records[i].id));
    let mut row_ends: Vec<Nanos> = Vec::new();
    let mut rows = vec![0; records.len()];
    for i in order {
        let record = records[i];
        let end = end_of(record, run_end_ns).saturating_add(pad_ns);
        let row = match row_ends.iter().position(|&e| e <= record.start_ns) {
            Some(row) => row,
            None => {
                row_ends.push(0);
                row_ends.len() - 1
            }
        };
        row_ends[row] = end;
        rows[i] = row;
    }
    (rows, row_ends.len())
}

/// One density row: how many requests of one outcome were sent in each time bin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Density {
    /// The outcome class.
    pub outcome: Outcome,
    /// Requests sent per bin.
    pub counts: Vec<u64>,
    /// All of them.
    pub total: u64,
}

/// The width of a density bin for a run ending at `end_ns`: about [`DENSITY_BINS`] bins, of a
/// round width (1, 2 or 5 times a power of ten, a millisecond at least).
pub fn bin_ns(end_ns: Nanos) -> Nanos {
    tick_step(end_ns, DENSITY_BINS as u64).max(NS_PER_MS)
}

/// One density row per outcome class that occurs, in report order.
pub fn densities(ledger: &[Record], end_ns: Nanos) -> Vec<Density> {
    let width = bin_ns(end_ns);
    let bins = (end_ns / width) as usize + 1;
    Outcome::ALL
        .iter()
        .filter_map(|&outcome| {
            let mut counts = vec![0u64; bins];
            let mut total = 0;
            for record in ledger.iter().filter(|r| r.outcome == outcome) {
                let bin = ((record.start_ns / width) as usize).min(bins - 1);
                counts[bin] += 1;
                total += 1;
            }
            (total > 0).then_some(Density {
                outcome,
                counts,
                total,
            })
        })
        .collect()
}

/// Whether the client section draws every request (`true`) or folds them into density rows
/// and draws only the failing ones.
pub fn draws_each(ledger: &[Record], run_end_ns: Nanos, pad_ns: Nanos) -> bool {
    if ledger.len() > INDIVIDUAL_MAX {
        return false;
    }
    let all: Vec<&Record> = ledger.iter().collect();
    pack(&all, run_end_ns, pad_ns).1 <= ROWS_MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(185 * NS_PER_S, 10), 20 * NS_PER_S);
        assert_eq!(tick_step(NS_PER_S, 10), 100 * NS_PER_MS);
        let ticks = ticks(185 * NS_PER_S, 10);
        assert_eq!(ticks.first().map(|t| t.1.as_str()), Some("0s"));
        assert_eq!(ticks.last().map(|t| t.1.as_str()), Some("180s"));
        assert_eq!(seconds_label(2_500 * NS_PER_MS), "2.5s");
        assert_eq!(seconds_label(25 * NS_PER_MS), "0.025s");
    }

    #[test]
    fn packing_never_overlaps() {
        let mut a = Record::new(0, 0, 0);
        a.end_ns = Some(10);
        let mut b = Record::new(1, 0, 5);
        b.end_ns = Some(20);
        let mut c = Record::new(2, 0, 12);
        c.end_ns = Some(30);
        let (rows, count) = pack(&[&a, &b, &c], 100, 1);
        assert_eq!(rows, vec![0, 1, 0]);
        assert_eq!(count, 2);
    }
}
