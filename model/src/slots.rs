//! A component's records of the requests it has seen, indexed by request id. Requests are
//! numbered densely from 0, so a vector grown on first sight is the whole table; a long run
//! retires the records of requests nobody will touch again from its front, so the table holds
//! only the requests still open (the window between the oldest open one and the newest).

use crate::ledger::RequestId;

/// The record at `index` of a plain table, created (default) if the table has not reached it
/// yet (the asynchronous path's tables, which a run keeps whole).
pub(crate) fn slot<T: Clone + Default>(records: &mut Vec<T>, index: usize) -> &mut T {
    if records.len() <= index {
        records.resize(index + 1, T::default());
    }
    &mut records[index]
}

/// The records of requests `base..base + len`, by id: those below `base` are retired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window<T> {
    /// The id of the first record kept.
    base: RequestId,
    /// The records kept, from `base` on, with `dead` retired ones still at the front.
    items: Vec<T>,
    /// Records at the front of `items` already retired (`base` counts them): the vector is
    /// compacted when they are three times the live ones, so a retirement costs amortised O(1).
    dead: usize,
    /// `base - dead`: the id of `items[0]`, so an id's index is one subtraction.
    shift: usize,
}

impl<T> Default for Window<T> {
    fn default() -> Self {
        Window {
            base: 0,
            items: Vec::new(),
            dead: 0,
            shift: 0,
        }
    }
}

impl<T: Clone + Default> Window<T> {
    /// The record of `id`, created (default) if the table has not reached it yet.
    ///
    /// Panics when `id` was retired: a component touched a request the router had declared
    /// settled, which would make the run's outcome depend on when it retires.
    pub fn slot(&mut self, id: RequestId) -> &mut T {
        let index = self.index(id);
        if self.items.len() <= index {
            self.items.resize(index + 1, T::default());
        }
        &mut self.items[index]
    }
}

impl<T> Window<T> {
    /// Room for `more` records up front: a table grown by doubling copies itself and touches
    /// fresh pages at every step of a long run.
    pub fn reserve(&mut self, more: usize) {
        self.items.reserve(more);
    }

    #[inline]
    fn index(&self, id: RequestId) -> usize {
        assert!(
            id >= self.base,
            "request {id} was retired (records kept from {})",
            self.base
        );
        id as usize - self.shift
    }

    /// The record of `id`, if the table has reached it and it is not retired.
    #[inline]
    pub fn get(&self, id: RequestId) -> Option<&T> {
        if id < self.base {
            return None;
        }
        self.items.get(id as usize - self.shift)
    }

    /// One past the newest id the table has reached.
    pub fn end(&self) -> RequestId {
        self.base + (self.items.len() - self.dead) as RequestId
    }

    /// The first id kept.
    pub fn base(&self) -> RequestId {
        self.base
    }

    /// Records kept (the live part of the window).
    pub fn len(&self) -> usize {
        self.items.len() - self.dead
    }

    /// True when no record is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append the record of id `end()`.
    pub fn push(&mut self, record: T) {
        self.items.push(record);
    }

    /// Every record kept, with its id, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = (RequestId, &T)> {
        let base = self.base;
        self.items[self.dead..]
            .iter()
            .enumerate()
            .map(move |(offset, record)| (base + offset as RequestId, record))
    }

    /// Retire every record below `id`: the router knows no event and no component will touch
    /// those requests again. Records the table never reached are retired too.
    pub fn retire_below(&mut self, id: RequestId) {
        if id <= self.base {
            return;
        }
        let live = self.items.len() - self.dead;
        self.dead += ((id - self.base) as usize).min(live);
        // Ids the table never reached (a component that never saw them) move the base alone.
        self.base = id;
        let live = self.items.len() - self.dead;
        // Compacting moves the live records: waiting until the dead are three times as many
        // moves each record a third of a time on average.
        if self.dead >= (3 * live).max(4096) {
            self.items.drain(..self.dead);
            self.dead = 0;
        }
        self.shift = self.base as usize - self.dead;
        debug_assert!(self.items.len() >= self.dead);
    }

    /// Retire every record below `id`, handing each one kept to `take` first, oldest first.
    pub fn retire_below_with(&mut self, id: RequestId, mut take: impl FnMut(&T)) {
        let upto = self.end().min(id);
        for kept in self.base..upto {
            take(&self[kept]);
        }
        self.retire_below(id);
    }

    /// Take every record kept, oldest first, leaving the window empty from `end()` on.
    pub fn take_all(&mut self) -> Vec<T> {
        let end = self.end();
        let mut items = std::mem::take(&mut self.items);
        items.drain(..self.dead);
        self.dead = 0;
        self.base = end;
        self.shift = end as usize;
        items
    }
}

impl<T> std::ops::Index<RequestId> for Window<T> {
    type Output = T;
    /// The record of `id`, which the table has reached and not retired.
    #[inline]
    fn index(&self, id: RequestId) -> &T {
        let index = self.index(id);
        &self.items[index]
    }
}

impl<T> std::ops::IndexMut<RequestId> for Window<T> {
    /// The record of `id`, which the table has reached and not retired.
    #[inline]
    fn index_mut(&mut self, id: RequestId) -> &mut T {
        let index = self.index(id);
        &mut self.items[index]
    }
}

#[cfg(test)]
mod tests {
    use super::Window;

    #[test]
    fn a_slot_grows_the_table_and_retired_records_are_gone() {
        let mut window: Window<u32> = Window::default();
        *window.slot(3) = 7;
        assert_eq!(window.end(), 4);
        assert_eq!(window.get(3), Some(&7));
        assert_eq!(window.get(2), Some(&0));
        window.retire_below(3);
        assert_eq!(window.get(2), None);
        assert_eq!(window.get(3), Some(&7));
        assert_eq!(window.len(), 1);
        assert_eq!(window.iter().collect::<Vec<_>>(), vec![(3, &7)]);
        *window.slot(5) = 9;
        assert_eq!(window.end(), 6);
        assert_eq!(window.take_all(), vec![7, 0, 9]);
        assert_eq!(window.base(), 6);
    }

    #[test]
    fn retiring_past_the_end_moves_the_base_alone() {
        let mut window: Window<u32> = Window::default();
        *window.slot(1) = 1;
        window.retire_below(10);
        assert!(window.is_empty());
        assert_eq!(window.base(), 10);
        assert_eq!(window.end(), 10);
        *window.slot(12) = 5;
        assert!(!window.is_empty());
        assert_eq!(window.get(12), Some(&5));
        assert_eq!(window.get(10), Some(&0));
    }

    #[test]
    fn a_long_run_keeps_only_the_open_records() {
        let mut window: Window<u64> = Window::default();
        for id in 0..100_000u32 {
            window.push(u64::from(id));
            if id >= 10 {
                window.retire_below(id - 10);
            }
            assert!(window.items.len() <= 4096 + 20, "compacted as it goes");
        }
        assert_eq!(window.len(), 11, "ids 99 989 to 99 999");
        assert_eq!(window.get(99_990), Some(&99_990));
    }

    #[test]
    fn the_dead_are_compacted_away_only_once_three_times_the_live() {
        // Compacting moves the live records; waiting for three dead per live one keeps each
        // record's moves to a third on average, and a large window is not moved at every retire.
        let mut window: Window<u32> = Window::default();
        for id in 0..40_000 {
            window.push(id);
        }
        window.retire_below(25_000);
        assert_eq!(window.len(), 15_000);
        assert_eq!(
            window.items.len(),
            40_000,
            "25 000 dead < 3 x 15 000 live: kept"
        );
        assert_eq!(window.get(25_000), Some(&25_000));
        window.retire_below(35_000);
        assert_eq!(
            window.items.len(),
            5_000,
            "35 000 dead >= 3 x 5 000 live: compacted"
        );
        assert_eq!(window.get(35_000), Some(&35_000));
        assert_eq!(window.get(34_999), None);
    }

    #[test]
    #[should_panic(expected = "was retired")]
    fn touching_a_retired_request_is_a_bug() {
        let mut window: Window<u32> = Window::default();
        window.push(1);
        window.retire_below(1);
        window.slot(0);
    }
}
