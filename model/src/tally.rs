//! The ledger folded as it goes: counts per status and outcome, the first send and the last
//! answer, exact fastest, slowest and mean latency, a fixed-size latency sketch, and the ids of
//! the requests each outcome other than `ok` holds (all of them, or the first
//! [`Tally::listed_max`] in a streamed run). A report needs nothing else, so a run too long to
//! keep its ledger keeps this instead, in memory that does not grow with its requests.

use std::collections::BTreeMap;

use crate::ledger::{Outcome, Record, RequestId, Status};
use crate::time::Nanos;

/// Sub-buckets per power of two in [`Sketch`]: 2^7 = 128, so a bucket's width is at most 1/128
/// of its lower bound (0.8 %).
const SKETCH_BITS: u32 = 7;
/// Buckets in [`Sketch`]: every `u64` of nanoseconds has one (exact below 128 ns).
const SKETCH_BUCKETS: usize = ((64 - SKETCH_BITS as usize) << SKETCH_BITS) + (1 << SKETCH_BITS);

/// A log-linear histogram of latencies (HdrHistogram's layout with two significant binary
/// digits of seven bits): 7 424 counters, 58 KiB, whatever the number of values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sketch {
    /// Values counted per bucket.
    counts: Vec<u64>,
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch {
            counts: vec![0; SKETCH_BUCKETS],
        }
    }
}

impl Sketch {
    /// The bucket of `value`.
    fn bucket(value: u64) -> usize {
        if value < (1 << SKETCH_BITS) {
            return value as usize;
        }
        let exponent = 63 - value.leading_zeros();
        let shift = exponent - SKETCH_BITS;
        let mantissa = (value >> shift) - (1 << SKETCH_BITS);
        (((shift + 1) as usize) << SKETCH_BITS) + mantissa as usize
    }

    /// The smallest value of bucket `bucket`.
    fn lower(bucket: usize) -> u64 {
        let unit = 1usize << SKETCH_BITS;
        if bucket < unit {
            return bucket as u64;
        }
        let shift = (bucket >> SKETCH_BITS) - 1;
        let mantissa = (bucket & (unit - 1)) as u64 + unit as u64;
        mantissa << shift
    }

    /// Count `value`.
    pub fn add(&mut self, value: u64) {
        self.counts[Self::bucket(value)] += 1;
    }

    /// Each non-empty bucket as (its middle value, its count), in increasing order.
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(bucket, count)| {
                let low = Self::lower(bucket);
                let high = if bucket + 1 < SKETCH_BUCKETS {
                    Self::lower(bucket + 1) - 1
                } else {
                    u64::MAX
                };
                (low + (high - low) / 2, *count)
            })
    }
}

/// The ids of the requests of one outcome: the first ones listed, the rest counted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Listed {
    /// The first ids, in id order.
    pub ids: Vec<RequestId>,
    /// Requests of the outcome not listed.
    pub omitted: u64,
}

/// The ledger folded: see the module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    /// Requests folded.
    pub requests: u64,
    /// Requests per status the client saw.
    pub statuses: BTreeMap<Status, u64>,
    /// Requests per outcome class.
    pub outcomes: BTreeMap<Outcome, u64>,
    /// The earliest send.
    pub first_start_ns: Option<Nanos>,
    /// The latest answer.
    pub last_end_ns: Option<Nanos>,
    /// Requests with no answer (unfinished, or an async invocation never completed).
    pub unanswered: u64,
    /// The fastest answer's latency.
    pub fastest_ns: Nanos,
    /// The slowest answer's latency.
    pub slowest_ns: Nanos,
    /// The sum of the answers' latencies.
    pub latency_sum_ns: u128,
    /// The answers' latencies.
    pub sketch: Sketch,
    /// The ids of the requests of each outcome but `ok`.
    pub listed: BTreeMap<Outcome, Listed>,
    /// Ids listed per outcome at most (`usize::MAX`: every one).
    pub listed_max: usize,
    /// Most requests the run held open at once, seen each time it retired requests and at its
    /// end (a streamed run's memory follows it; 0 when folded from a kept ledger).
    pub open_peak: u64,
}

impl Tally {
    /// An empty tally that lists at most `listed_max` requests per outcome.
    pub fn new(listed_max: usize) -> Tally {
        Tally {
            requests: 0,
            statuses: BTreeMap::new(),
            outcomes: BTreeMap::new(),
            first_start_ns: None,
            last_end_ns: None,
            unanswered: 0,
            fastest_ns: Nanos::MAX,
            slowest_ns: 0,
            latency_sum_ns: 0,
            sketch: Sketch::default(),
            listed: BTreeMap::new(),
            listed_max,
            open_peak: 0,
        }
    }

    /// Every record of `ledger` folded, every id listed.
    pub fn of(ledger: &[Record]) -> Tally {
        let mut tally = Tally::new(usize::MAX);
        for record in ledger {
            tally.add(record);
        }
        tally
    }

    /// Fold `record` in (records come in id order).
    pub fn add(&mut self, record: &Record) {
        self.requests += 1;
        if let Some(status) = record.status {
            *self.statuses.entry(status).or_insert(0) += 1;
        }
        *self.outcomes.entry(record.outcome).or_insert(0) += 1;
        self.first_start_ns = Some(
            self.first_start_ns
                .map_or(record.start_ns, |first| first.min(record.start_ns)),
        );
        match record.end_ns {
            Some(end) => {
                self.last_end_ns = Some(self.last_end_ns.map_or(end, |last| last.max(end)));
                let latency = end - record.start_ns;
                self.fastest_ns = self.fastest_ns.min(latency);
                self.slowest_ns = self.slowest_ns.max(latency);
                self.latency_sum_ns += u128::from(latency);
                self.sketch.add(latency);
            }
            None => self.unanswered += 1,
        }
        if record.outcome != Outcome::Ok {
            let listed = self.listed.entry(record.outcome).or_default();
            if listed.ids.len() < self.listed_max {
                listed.ids.push(record.id);
            } else {
                listed.omitted += 1;
            }
        }
    }

    /// Requests answered.
    pub fn answered(&self) -> u64 {
        self.requests - self.unanswered
    }

    /// Requests of `outcome`.
    pub fn count(&self, outcome: Outcome) -> u64 {
        self.outcomes.get(&outcome).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_falls_in_a_bucket_no_wider_than_its_eighth_of_a_percent() {
        let mut values: Vec<u64> = (0..5000).collect();
        values.extend((0..64).map(|shift| 1u64 << shift));
        values.extend((1..64).map(|shift| (1u64 << shift) - 1));
        values.extend([u64::MAX, 1_234_567_891, 60_000_000_000]);
        for value in values {
            let bucket = Sketch::bucket(value);
            assert!(bucket < SKETCH_BUCKETS, "{value} has a bucket");
            let low = Sketch::lower(bucket);
            assert!(low <= value, "{value} at or above its bucket's floor {low}");
            if bucket + 1 < SKETCH_BUCKETS {
                let next = Sketch::lower(bucket + 1);
                assert!(value < next, "{value} below the next bucket's floor {next}");
                assert!(
                    (next - low) * 128 <= low.max(128),
                    "bucket of {value} narrow enough"
                );
            }
        }
    }

    #[test]
    fn each_bucket_is_reported_at_its_middle() {
        let mut sketch = Sketch::default();
        sketch.add(0);
        sketch.add(5);
        sketch.add(1_000_000);
        let buckets: Vec<(u64, u64)> = sketch.buckets().collect();
        // 5 ns is exact; 1 ms falls in a bucket 2^12 ns wide from 999 424 ns.
        let low = Sketch::lower(Sketch::bucket(1_000_000));
        let width = Sketch::lower(Sketch::bucket(1_000_000) + 1) - low;
        assert_eq!((low, width), (999_424, 4_096));
        // 0 ns (an answer with no network between) is the first bucket, exact too.
        assert_eq!(buckets, vec![(0, 1), (5, 1), (low + (width - 1) / 2, 1)]);
    }

    fn record(id: RequestId, start_ns: Nanos, end: Option<(Nanos, Outcome)>) -> Record {
        let mut record = Record::new(id, 0, start_ns);
        if let Some((end_ns, outcome)) = end {
            record.end_ns = Some(end_ns);
            record.outcome = outcome;
            record.status = Some(Status::Code(if outcome == Outcome::Ok { 200 } else { 502 }));
        }
        record
    }

    #[test]
    fn a_tally_counts_what_the_report_prints_and_lists_the_first_ids() {
        let mut tally = Tally::new(2);
        tally.add(&record(0, 0, Some((5, Outcome::Ok))));
        tally.add(&record(1, 1, Some((31, Outcome::TimedOut))));
        tally.add(&record(2, 2, Some((4, Outcome::TimedOut))));
        tally.add(&record(3, 3, Some((9, Outcome::TimedOut))));
        tally.add(&record(4, 4, None));
        assert_eq!(tally.requests, 5);
        assert_eq!(tally.answered(), 4);
        assert_eq!((tally.fastest_ns, tally.slowest_ns), (2, 30));
        assert_eq!(tally.latency_sum_ns, 5 + 30 + 2 + 6);
        assert_eq!(
            (tally.first_start_ns, tally.last_end_ns),
            (Some(0), Some(31))
        );
        assert_eq!(tally.count(Outcome::TimedOut), 3);
        assert_eq!(tally.statuses[&Status::Code(502)], 3);
        let timed_out = &tally.listed[&Outcome::TimedOut];
        assert_eq!((timed_out.ids.clone(), timed_out.omitted), (vec![1, 2], 1));
        assert_eq!(tally.listed[&Outcome::Unfinished].ids, vec![4]);
        assert_eq!(tally.sketch.buckets().map(|(_, c)| c).sum::<u64>(), 4);
    }
}
