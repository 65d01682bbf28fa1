//! A component's records of the requests it has seen, indexed by request id: requests are
//! numbered densely from 0, so a vector grown on first sight is the whole table.

/// The record at `index`, created (default) if the table has not reached it yet.
pub(crate) fn slot<T: Clone + Default>(records: &mut Vec<T>, index: usize) -> &mut T {
    if records.len() <= index {
        records.resize(index + 1, T::default());
    }
    &mut records[index]
}
