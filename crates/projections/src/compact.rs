//! Merging a batch's row changes before writing: every row is written once
//! per batch, and same-shaped rows go to the database together.
//!
//! Merging preserves the result: upserts of one row combine column by
//! column (a later value wins), additions to one row sum. A row that gets
//! both an upsert and an addition in one batch keeps them apart, in order.

use crate::Change;
use foldhash::HashMap;
use foldhash::fast::FixedState;
use std::hash::BuildHasher;

/// A batch's changes after merging.
#[derive(Debug, Default)]
pub(crate) struct Compacted {
    /// One change per row where they could merge, in the order each row
    /// was first changed.
    pub changes: Vec<Change>,
    /// Some row still has more than one change (an upsert and an
    /// addition): the changes must be written in this order, not regrouped.
    pub ordered: bool,
}

/// Merges a batch's changes per row.
pub(crate) fn compact(changes: Vec<Change>) -> Compacted {
    let mut out = Compacted {
        changes: Vec::with_capacity(changes.len()),
        ordered: false,
    };
    // Hash of (kind, table, key) -> index in `out.changes`; a hit is checked
    // against the change there, so the keys are never cloned.
    let mut index: HashMap<u64, usize> = HashMap::default();
    index.reserve(changes.len());
    for change in changes {
        let slot = kind_row_hash(&change, true);
        let other_kind = kind_row_hash(&change, false);
        if let Some(&i) = index.get(&other_kind)
            && same_row(&out.changes[i], &change, false)
        {
            // Both kinds on one row: keep order, stop merging this row.
            index.remove(&other_kind);
            index.remove(&slot);
            out.ordered = true;
            out.changes.push(change);
            continue;
        }
        match index.get(&slot) {
            Some(&i) if same_row(&out.changes[i], &change, true) => {
                merge(&mut out.changes[i], change)
            }
            Some(_) => {
                // Two rows with one hash: keep both, in order.
                out.ordered = true;
                out.changes.push(change);
            }
            None => {
                index.insert(slot, out.changes.len());
                out.changes.push(change);
            }
        }
    }
    out
}

/// The row a change touches, and its kind (or the other kind, with
/// `same_kind` false).
fn kind_row_hash(change: &Change, same_kind: bool) -> u64 {
    let (upsert, table, key) = parts(change);
    FixedState::default().hash_one((upsert == same_kind, table, key))
}

/// The row a change touches (table and key), whatever its kind.
pub(crate) fn row_hash(change: &Change) -> u64 {
    let (_, table, key) = parts(change);
    FixedState::default().hash_one((table, key))
}

/// Whether `a` and `b` touch the same row, with the same kind of change
/// (`same_kind`) or different ones.
fn same_row(a: &Change, b: &Change, same_kind: bool) -> bool {
    let (a_upsert, a_table, a_key) = parts(a);
    let (b_upsert, b_table, b_key) = parts(b);
    (a_upsert == b_upsert) == same_kind && a_table == b_table && a_key == b_key
}

fn parts(change: &Change) -> (bool, &'static str, &[(&'static str, crate::Cell)]) {
    match change {
        Change::Upsert { table, key, .. } => (true, table, key),
        Change::Add { table, key, .. } => (false, table, key),
    }
}

fn merge(into: &mut Change, from: Change) {
    match (into, from) {
        (Change::Upsert { set, .. }, Change::Upsert { set: later, .. }) => {
            for (column, value) in later {
                match set.iter_mut().find(|(c, _)| *c == column) {
                    Some(slot) => slot.1 = value,
                    None => set.push((column, value)),
                }
            }
        }
        (Change::Add { add, .. }, Change::Add { add: more, .. }) => {
            for (column, n) in more {
                match add.iter_mut().find(|(c, _)| *c == column) {
                    Some(slot) => slot.1 += n,
                    None => add.push((column, n)),
                }
            }
        }
        // `compact` only merges changes of one kind.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cell;

    fn upsert(key: &str, set: Vec<(&'static str, Cell)>) -> Change {
        Change::Upsert {
            table: "t",
            key: vec![("k", Cell::text(key))],
            set,
        }
    }

    #[test]
    fn it_merges_rows_and_keeps_first_seen_order() {
        let out = compact(vec![
            upsert("a", vec![("status", Cell::text("ready"))]),
            upsert("b", vec![("status", Cell::text("ready"))]),
            upsert(
                "a",
                vec![("status", Cell::text("running")), ("attempt", Cell::int(1))],
            ),
            Change::Add {
                table: "s",
                key: vec![("k", Cell::text("x"))],
                add: vec![("n", 1)],
            },
            Change::Add {
                table: "s",
                key: vec![("k", Cell::text("x"))],
                add: vec![("n", 2), ("m", 1)],
            },
        ]);
        assert!(!out.ordered);
        assert_eq!(
            out.changes,
            vec![
                upsert(
                    "a",
                    vec![("status", Cell::text("running")), ("attempt", Cell::int(1))]
                ),
                upsert("b", vec![("status", Cell::text("ready"))]),
                Change::Add {
                    table: "s",
                    key: vec![("k", Cell::text("x"))],
                    add: vec![("n", 3), ("m", 1)]
                },
            ]
        );
    }

    #[test]
    fn a_row_with_both_kinds_keeps_its_changes_in_order() {
        let add = |n| Change::Add {
            table: "t",
            key: vec![("k", Cell::text("a"))],
            add: vec![("n", n)],
        };
        let set = upsert("a", vec![("n", Cell::int(10))]);
        let out = compact(vec![add(1), set.clone(), add(2)]);
        assert!(out.ordered, "the changes must not be regrouped");
        assert_eq!(out.changes, vec![add(1), set, add(2)]);
    }
}
