//! The deterministic engine: integer simulated time, the event queue and its tie rule, and the
//! seeded PRNG chooser.
//!
//! Tie rule: events due at the same instant run in the order they were scheduled (a sequence
//! number breaks ties), unless the chooser says it orders ties itself.
//!
//! PRNG: xoshiro256** (Blackman and Vigna), seeded per stream with SplitMix64 from
//! `seed ^ fnv1a64(stream name)`. It is written out here so that no crate update can change a
//! trace.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use faasim_model::choice::{Chooser, Stream};
use faasim_model::time::Nanos;

/// An event and when it is due.
#[derive(Debug)]
struct Entry<E> {
    /// When it is due.
    at_ns: Nanos,
    /// Insertion sequence: breaks ties between events due at the same instant.
    seq: u64,
    /// The event.
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.at_ns, self.seq) == (other.at_ns, other.seq)
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at_ns, self.seq).cmp(&(other.at_ns, other.seq))
    }
}

/// The order of an entry as one number: time first, then insertion sequence.
fn key(at_ns: Nanos, seq: u64) -> u128 {
    (u128::from(at_ns) << 64) | u128::from(seq)
}

/// How many FIFO lanes of events a queue has; an event pushed on a lane past these goes to the
/// heap.
pub const LANES: usize = 4;

/// How many FIFO lanes of ids a queue has: lanes whose events are all the same variant with a
/// number (a request's wake-up), kept as that number.
pub const ID_LANES: usize = 5;

/// An entry of an id lane: the event is rebuilt from `id` when it pops. At 24 bytes against
/// an event entry's 48, the long lanes (a request timer's wake-ups wait 10 s or more, a few
/// hundred thousand of them at 10 000 requests/s) take half the cache lines.
#[derive(Clone, Copy, Debug)]
struct IdEntry {
    /// When it is due.
    at_ns: Nanos,
    /// Insertion sequence.
    seq: u64,
    /// What the event is about.
    id: u32,
}

impl IdEntry {
    /// Its order, as an event entry's.
    fn key(&self) -> u128 {
        key(self.at_ns, self.seq)
    }

    /// The event entry it stands for.
    fn entry<E>(self, id_event: fn(u32) -> E) -> Entry<E> {
        Entry {
            at_ns: self.at_ns,
            seq: self.seq,
            event: id_event(self.id),
        }
    }
}

/// The least of `fronts` and its index.
fn least(fronts: &[u128]) -> (u128, usize) {
    let mut least = (u128::MAX, 0);
    for (index, &front) in fronts.iter().enumerate() {
        if front < least.0 {
            least = (front, index);
        }
    }
    least
}

/// A min-queue of events by (time, insertion sequence).
///
/// Besides the heap it keeps FIFO lanes for timers whose deadlines are scheduled in time order
/// (a fixed delay after a monotone instant): pushing and popping them is O(1), and since every
/// entry carries the one global sequence number, the order of events is exactly the heap's.
#[derive(Debug)]
pub struct Queue<E> {
    /// Events in no lane, earliest first.
    heap: BinaryHeap<Reverse<Entry<E>>>,
    /// FIFO lanes, by lane id: each holds events pushed in time order.
    lanes: [VecDeque<Entry<E>>; LANES],
    /// FIFO lanes of ids, by lane id.
    ids: [VecDeque<IdEntry>; ID_LANES],
    /// The event an id lane's entry stands for.
    id_event: fn(u32) -> E,
    /// Each lane's first entry as `key(at_ns, seq)`, `u128::MAX` when the lane is empty: the
    /// next event is found by scanning this short array without a branch, not the lanes.
    fronts: [u128; LANES],
    /// Each id lane's first entry, as `fronts`.
    id_fronts: [u128; ID_LANES],
    /// The least of `id_fronts` and its lane: the id lanes' fronts change at a quarter of the
    /// events or fewer (a wake-up is due seconds after it is queued), so their least is kept
    /// rather than scanned for at every event.
    id_least: (u128, usize),
    /// False once a chooser orders ties: then every event is in the heap.
    lanes_enabled: bool,
    /// The last insertion sequence number given out.
    seq: u64,
}

impl<E> Queue<E> {
    /// An empty queue whose id lanes hold events `id_event` builds from a number.
    pub fn new(id_event: fn(u32) -> E) -> Self {
        Queue {
            heap: BinaryHeap::new(),
            lanes: std::array::from_fn(|_| VecDeque::new()),
            ids: std::array::from_fn(|_| VecDeque::new()),
            id_event,
            fronts: [u128::MAX; LANES],
            id_fronts: [u128::MAX; ID_LANES],
            id_least: (u128::MAX, 0),
            lanes_enabled: true,
            seq: 0,
        }
    }

    /// Schedule `event` at `at_ns`.
    pub fn push(&mut self, at_ns: Nanos, event: E) {
        self.seq += 1;
        self.heap.push(Reverse(Entry {
            at_ns,
            seq: self.seq,
            event,
        }));
    }

    /// Schedule `event` at `at_ns` on FIFO lane `lane`; it goes to the heap instead when it
    /// would come before the lane's last entry.
    pub fn push_lane(&mut self, lane: usize, at_ns: Nanos, event: E) {
        if !self.lanes_enabled || lane >= LANES {
            return self.push(at_ns, event);
        }
        if self.lanes[lane]
            .back()
            .is_some_and(|last| last.at_ns > at_ns)
        {
            return self.push(at_ns, event);
        }
        self.seq += 1;
        if self.lanes[lane].is_empty() {
            self.fronts[lane] = key(at_ns, self.seq);
        }
        self.lanes[lane].push_back(Entry {
            at_ns,
            seq: self.seq,
            event,
        });
    }

    /// Schedule `(self.id_event)(id)` at `at_ns` on id lane `lane`; as an event to the heap
    /// instead when it would come before the lane's last entry.
    pub fn push_id(&mut self, lane: usize, at_ns: Nanos, id: u32) {
        if !self.lanes_enabled
            || lane >= ID_LANES
            || self.ids[lane].back().is_some_and(|last| last.at_ns > at_ns)
        {
            return self.push(at_ns, (self.id_event)(id));
        }
        self.seq += 1;
        let entry = IdEntry {
            at_ns,
            seq: self.seq,
            id,
        };
        if self.ids[lane].is_empty() {
            self.id_fronts[lane] = entry.key();
            if entry.key() < self.id_least.0 {
                self.id_least = (entry.key(), lane);
            }
        }
        self.ids[lane].push_back(entry);
    }

    fn take_next(&mut self) -> Option<Entry<E>> {
        let mut best = self
            .heap
            .peek()
            .map_or(u128::MAX, |Reverse(e)| key(e.at_ns, e.seq));
        let mut best_lane = usize::MAX;
        // Selects, not branches: which lane holds the next event is data the branch predictor
        // cannot learn.
        for (index, &front) in self.fronts.iter().enumerate() {
            let earlier = front < best;
            best = if earlier { front } else { best };
            best_lane = if earlier { index } else { best_lane };
        }
        if self.id_least.0 < best {
            let id_lane = self.id_least.1;
            let lane = &mut self.ids[id_lane];
            let entry = lane.pop_front()?;
            self.id_fronts[id_lane] = lane.front().map_or(u128::MAX, IdEntry::key);
            self.id_least = least(&self.id_fronts);
            return Some(entry.entry(self.id_event));
        }
        if best_lane == usize::MAX {
            return self.heap.pop().map(|Reverse(e)| e);
        }
        let lane = &mut self.lanes[best_lane];
        let entry = lane.pop_front();
        self.fronts[best_lane] = lane.front().map_or(u128::MAX, |e| key(e.at_ns, e.seq));
        entry
    }

    /// The next event, by the tie rule; with a chooser that orders ties, it picks among the
    /// events due at the same instant.
    pub fn pop(&mut self, chooser: &mut dyn Chooser) -> Option<(Nanos, E)> {
        if !chooser.orders_ties() {
            return self.take_next().map(|e| (e.at_ns, e.event));
        }
        if self.lanes_enabled {
            // Choosing among ties needs every candidate in one place.
            self.lanes_enabled = false;
            self.fronts = [u128::MAX; LANES];
            self.id_fronts = [u128::MAX; ID_LANES];
            self.id_least = (u128::MAX, 0);
            for lane in &mut self.ids {
                let lane = std::mem::take(lane);
                let id_event = self.id_event;
                self.heap
                    .extend(lane.into_iter().map(|e| Reverse(e.entry(id_event))));
            }
            for lane in &mut self.lanes {
                let lane = std::mem::take(lane);
                self.heap.extend(lane.into_iter().map(Reverse));
            }
        }
        let Reverse(first) = self.heap.pop()?;
        let mut tied = vec![first];
        while let Some(Reverse(next)) = self.heap.peek() {
            if next.at_ns != tied[0].at_ns {
                break;
            }
            if let Some(Reverse(entry)) = self.heap.pop() {
                tied.push(entry);
            }
        }
        let index = if tied.len() > 1 {
            chooser.pick_index(Stream::Ties, tied.len())
        } else {
            0
        };
        let chosen = tied.swap_remove(index);
        for entry in tied {
            self.heap.push(Reverse(entry));
        }
        Some((chosen.at_ns, chosen.event))
    }

    /// Pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
            + self.lanes.iter().map(VecDeque::len).sum::<usize>()
            + self.ids.iter().map(VecDeque::len).sum::<usize>()
    }

    /// No pending events.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// SplitMix64, used only to expand seeds.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, 64 bits: a stable hash of stream names.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash = 0xCBF2_9CE4_8422_2325u64;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
    }
    hash
}

/// xoshiro256** generator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Xoshiro256StarStar {
    /// The generator's state.
    s: [u64; 4],
}

impl Xoshiro256StarStar {
    /// Seeded through SplitMix64, as the authors recommend.
    pub fn seed_from(seed: u64) -> Self {
        let mut state = seed;
        let s = [
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
            splitmix64(&mut state),
        ];
        Xoshiro256StarStar { s }
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..bound` without modulo bias (Lemire's method with rejection).
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            return 0;
        }
        loop {
            let wide = u128::from(self.next_u64()) * u128::from(bound);
            let low = wide as u64;
            if low >= bound || low >= bound.wrapping_neg() % bound {
                return (wide >> 64) as u64;
            }
        }
    }
}

/// The simulation's chooser: one xoshiro256** stream per component.
#[derive(Clone, Debug)]
pub struct SeedChooser {
    /// One generator per `Stream`, indexed by the stream.
    streams: Vec<Xoshiro256StarStar>,
    /// Each stream's sub-seed, from which keyed draws derive their own generator.
    sub_seeds: Vec<u64>,
    /// Choices made, for reports.
    pub draws: u64,
}

impl SeedChooser {
    /// Sub-seeds derived from `seed` and each stream's name.
    pub fn new(seed: u64) -> Self {
        let sub_seeds: Vec<u64> = Stream::ALL
            .iter()
            .map(|stream| seed ^ fnv1a64(stream.name().as_bytes()))
            .collect();
        let streams = sub_seeds
            .iter()
            .map(|sub| Xoshiro256StarStar::seed_from(*sub))
            .collect();
        SeedChooser {
            streams,
            sub_seeds,
            draws: 0,
        }
    }

    fn stream(&mut self, stream: Stream) -> &mut Xoshiro256StarStar {
        let index = Stream::ALL.iter().position(|s| *s == stream).unwrap_or(0);
        &mut self.streams[index]
    }

    /// A generator of its own for one key of one stream: xoshiro256** seeded (through
    /// SplitMix64) from the stream's sub-seed and the key, mixed once more so that
    /// neighbouring keys start far apart.
    fn keyed(&self, stream: Stream, key: u64) -> Xoshiro256StarStar {
        let index = Stream::ALL.iter().position(|s| *s == stream).unwrap_or(0);
        let mut mixed = key;
        Xoshiro256StarStar::seed_from(self.sub_seeds[index] ^ splitmix64(&mut mixed))
    }
}

impl Chooser for SeedChooser {
    fn pick_u64(&mut self, stream: Stream, lo: u64, hi: u64) -> u64 {
        self.draws += 1;
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        if span == u64::MAX {
            return self.stream(stream).next_u64();
        }
        lo + self.stream(stream).below(span + 1)
    }

    fn pick_index(&mut self, stream: Stream, n: usize) -> usize {
        self.draws += 1;
        if n <= 1 {
            return 0;
        }
        self.stream(stream).below(n as u64) as usize
    }

    fn pick_u64_keyed(&mut self, stream: Stream, key: u64, lo: u64, hi: u64) -> u64 {
        self.draws += 1;
        if hi <= lo {
            return lo;
        }
        let mut rng = self.keyed(stream, key);
        let span = hi - lo;
        if span == u64::MAX {
            return rng.next_u64();
        }
        lo + rng.below(span + 1)
    }

    fn pick_index_keyed(&mut self, stream: Stream, key: u64, n: usize) -> usize {
        self.draws += 1;
        if n <= 1 {
            return 0;
        }
        self.keyed(stream, key).below(n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xoshiro_matches_the_reference_sequence() {
        // Reference: the C implementation seeded with s = {1, 2, 3, 4}.
        let mut rng = Xoshiro256StarStar { s: [1, 2, 3, 4] };
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(first, vec![11520, 0, 1509978240]);
    }

    #[test]
    fn keyed_draws_ignore_the_order_they_are_made_in() {
        let mut a = SeedChooser::new(7);
        let mut b = SeedChooser::new(7);
        let forward: Vec<u64> = (0..50)
            .map(|key| a.pick_u64_keyed(Stream::Handler, key, 0, 1_000_000))
            .collect();
        let mut backward: Vec<u64> = (0..50)
            .rev()
            .map(|key| b.pick_u64_keyed(Stream::Handler, key, 0, 1_000_000))
            .collect();
        backward.reverse();
        assert_eq!(forward, backward);
        // Different keys, different values; other streams, other values.
        assert!(forward.windows(2).any(|w| w[0] != w[1]));
        let provider: Vec<u64> = (0..50)
            .map(|key| a.pick_u64_keyed(Stream::Provider, key, 0, 1_000_000))
            .collect();
        assert_ne!(forward, provider);
        // Keyed draws do not move the stream's own sequence.
        let mut c = SeedChooser::new(7);
        assert_eq!(
            a.pick_u64(Stream::Handler, 0, 1_000_000),
            c.pick_u64(Stream::Handler, 0, 1_000_000)
        );
    }

    #[test]
    fn ties_run_in_insertion_order() {
        let mut queue = Queue::new(|_| "");
        queue.push(5, "b");
        queue.push(5, "c");
        queue.push(1, "a");
        let mut chooser = SeedChooser::new(1);
        let order: Vec<&str> =
            std::iter::from_fn(|| queue.pop(&mut chooser).map(|(_, e)| e)).collect();
        assert_eq!(order, vec!["a", "b", "c"]);
    }

    #[test]
    fn lanes_keep_the_heaps_order() {
        // Events pushed on lanes and id lanes (in time order per lane, as the world does,
        // sometimes out of order to exercise the fallback, sometimes past the last lane) and
        // on the heap come out exactly by (time, insertion sequence), as from one heap.
        let mut rng = Xoshiro256StarStar::seed_from(3);
        let mut queue = Queue::new(|id| id);
        let mut expected = Vec::new();
        let mut now = 0u64;
        let mut chooser = SeedChooser::new(1);
        let mut seq = 0u32;
        let mut popped = Vec::new();
        for _ in 0..5_000 {
            if rng.next_u64().is_multiple_of(3) {
                if let Some((at_ns, event)) = queue.pop(&mut chooser) {
                    assert!(at_ns >= now, "time runs forward");
                    now = at_ns;
                    popped.push((at_ns, event));
                }
                continue;
            }
            seq += 1;
            let roll = rng.next_u64() % 12;
            let lane = (roll % 10) as usize;
            let at_ns = if roll == 11 {
                now + rng.next_u64() % 50
            } else {
                now + 10 * (lane as u64 + 1)
            };
            if roll == 10 {
                queue.push(at_ns, seq);
            } else if lane < LANES + 1 {
                queue.push_lane(lane, at_ns, seq);
            } else {
                queue.push_id(lane - LANES - 1, at_ns, seq);
            }
            expected.push((at_ns, seq));
        }
        while let Some(entry) = queue.pop(&mut chooser) {
            popped.push(entry);
        }
        assert!(queue.is_empty());
        expected.sort();
        assert_eq!(popped.len(), expected.len());
        // Popping interleaved with pushing can't reorder anything already queued: the whole
        // sequence is sorted by (time, sequence) exactly when no event was pushed before the
        // last popped time, which the pushes above guarantee.
        let mut sorted = popped.clone();
        sorted.sort();
        assert_eq!(popped, sorted);
        assert_eq!(sorted, expected);
    }
}
