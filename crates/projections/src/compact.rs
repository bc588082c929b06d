//! Merging a batch's row changes before writing: every row is written once
//! per batch, and same-shaped rows go to the database together.
//!
//! Merging preserves the result: upserts of one row combine column by
//! column (a later value wins), additions to one row sum. A row that gets
//! both an upsert and an addition in one batch keeps them apart, in order.

use crate::{Cell, Change};
use std::collections::HashMap;

/// The changes of a batch, one per row where they can merge, in the order
/// each row was first changed.
pub(crate) fn compact(changes: Vec<Change>) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::with_capacity(changes.len());
    // (kind, table, key) -> index in `out`.
    let mut index: HashMap<(bool, &'static str, Vec<Cell>), usize> = HashMap::new();
    for change in changes {
        let slot: (bool, &'static str, Vec<Cell>) = match &change {
            Change::Upsert { table, key, .. } => {
                (true, *table, key.iter().map(|(_, c)| c.clone()).collect())
            }
            Change::Add { table, key, .. } => {
                (false, *table, key.iter().map(|(_, c)| c.clone()).collect())
            }
        };
        let other_kind = (!slot.0, slot.1, slot.2.clone());
        if index.contains_key(&other_kind) {
            // Both kinds on one row: keep order, stop merging this row.
            index.remove(&other_kind);
            index.remove(&slot);
            out.push(change);
            continue;
        }
        match index.get(&slot) {
            Some(&i) => merge(&mut out[i], change),
            None => {
                index.insert(slot, out.len());
                out.push(change);
            }
        }
    }
    out
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
        assert_eq!(
            out,
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
}
