//! Row changes: what a read model asks to be written, independent of the
//! database. Each change renders to one SQL statement that both SQLite and
//! PostgreSQL accept (`INSERT … ON CONFLICT … DO UPDATE`, `$n` parameters).

/// A typed value of a read-model column (typed even when NULL, as
/// PostgreSQL needs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
}

impl Cell {
    pub fn int(value: impl Into<i64>) -> Cell {
        Cell::Int(Some(value.into()))
    }

    pub fn text(value: impl Into<String>) -> Cell {
        Cell::Text(Some(value.into()))
    }
}

/// One row change of a read model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Inserts the row; if its key exists, sets only the given columns.
    Upsert {
        table: &'static str,
        key: Vec<(&'static str, Cell)>,
        set: Vec<(&'static str, Cell)>,
    },
    /// Adds to integer columns, creating the row with these values first.
    Add {
        table: &'static str,
        key: Vec<(&'static str, Cell)>,
        add: Vec<(&'static str, i64)>,
    },
}

impl Change {
    /// The statement, with `$1…$n` in the order of [`Change::params`].
    pub fn sql(&self) -> String {
        self.sql_for_rows(1)
    }

    /// The statement for `rows` rows of this change's shape, one `VALUES`
    /// tuple each, parameters numbered row after row. Rows apply in order,
    /// as that many single-row statements would.
    pub fn sql_for_rows(&self, rows: usize) -> String {
        let (table, key, others) = self.shape();
        let columns: Vec<&str> = key.iter().chain(&others).copied().collect();
        let width = columns.len();
        let tuples: Vec<String> = (0..rows)
            .map(|row| {
                let placeholders: Vec<String> = (1..=width)
                    .map(|i| format!("${}", row * width + i))
                    .collect();
                format!("({})", placeholders.join(", "))
            })
            .collect();
        format!(
            "INSERT INTO {table} ({}) VALUES {} ON CONFLICT ({}) {}",
            columns.join(", "),
            tuples.join(", "),
            key.join(", "),
            self.conflict(table, &others)
        )
    }

    /// The statement for many rows of this change's shape at once, for
    /// PostgreSQL: one array parameter per column (`unnest`), in the order
    /// of [`Change::columns`].
    pub fn bulk_sql_postgres(&self) -> String {
        self.bulk_postgres(true)
    }

    /// [`Change::bulk_sql_postgres`] for rows known not to exist yet: a
    /// plain insert, without `ON CONFLICT` (an existing row fails it).
    pub(crate) fn bulk_insert_sql_postgres(&self) -> String {
        self.bulk_postgres(false)
    }

    fn bulk_postgres(&self, upsert: bool) -> String {
        let (table, key, others) = self.shape();
        let columns: Vec<&str> = key.iter().chain(&others).copied().collect();
        let arrays: Vec<String> = self
            .params()
            .iter()
            .enumerate()
            .map(|(i, cell)| match cell {
                Cell::Int(_) => format!("${}::int8[]", i + 1),
                Cell::Text(_) => format!("${}::text[]", i + 1),
            })
            .collect();
        let insert = format!(
            "INSERT INTO {table} ({}) SELECT * FROM unnest({})",
            columns.join(", "),
            arrays.join(", ")
        );
        if !upsert {
            return insert;
        }
        format!(
            "{insert} ON CONFLICT ({}) {}",
            key.join(", "),
            self.conflict(table, &others)
        )
    }

    /// Whether `self` and `other` can be written by one statement: same
    /// kind, table, columns and column types.
    pub(crate) fn same_shape(&self, other: &Change) -> bool {
        match (self, other) {
            (
                Change::Upsert { table, key, set },
                Change::Upsert {
                    table: t,
                    key: k,
                    set: s,
                },
            ) => table == t && same_columns(key, k) && same_columns(set, s),
            (
                Change::Add { table, key, add },
                Change::Add {
                    table: t,
                    key: k,
                    add: a,
                },
            ) => {
                table == t
                    && same_columns(key, k)
                    && add.len() == a.len()
                    && add.iter().zip(a).all(|((x, _), (y, _))| x == y)
            }
            _ => false,
        }
    }

    /// A hash of what [`same_shape`](Change::same_shape) compares.
    pub(crate) fn shape_hash(&self) -> u64 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let mut hasher = foldhash::fast::FixedState::default().build_hasher();
        let columns = |cells: &[(&'static str, Cell)],
                       hasher: &mut foldhash::fast::FoldHasher<'_>| {
            for (name, cell) in cells {
                name.hash(hasher);
                matches!(cell, Cell::Int(_)).hash(hasher);
            }
        };
        match self {
            Change::Upsert { table, key, set } => {
                (true, table).hash(&mut hasher);
                columns(key, &mut hasher);
                columns(set, &mut hasher);
            }
            Change::Add { table, key, add } => {
                (false, table).hash(&mut hasher);
                columns(key, &mut hasher);
                for (name, _) in add {
                    name.hash(&mut hasher);
                }
            }
        }
        hasher.finish()
    }

    fn shape(&self) -> (&'static str, Vec<&'static str>, Vec<&'static str>) {
        match self {
            Change::Upsert { table, key, set } => (table, names(key), names(set)),
            Change::Add { table, key, add } => {
                (table, names(key), add.iter().map(|(n, _)| *n).collect())
            }
        }
    }

    fn conflict(&self, table: &str, others: &[&str]) -> String {
        if others.is_empty() {
            return "DO NOTHING".to_owned();
        }
        let assignments: Vec<String> = others
            .iter()
            .map(|c| match self {
                Change::Upsert { .. } => format!("{c} = excluded.{c}"),
                Change::Add { .. } => format!("{c} = {table}.{c} + excluded.{c}"),
            })
            .collect();
        format!("DO UPDATE SET {}", assignments.join(", "))
    }

    /// The values for the statement's parameters, in order.
    pub fn params(&self) -> Vec<Cell> {
        match self {
            Change::Upsert { key, set, .. } => {
                key.iter().chain(set).map(|(_, c)| c.clone()).collect()
            }
            Change::Add { key, add, .. } => key
                .iter()
                .map(|(_, c)| c.clone())
                .chain(add.iter().map(|(_, n)| Cell::Int(Some(*n))))
                .collect(),
        }
    }
}

impl Change {
    /// [`Change::params`], consuming the change.
    pub fn into_params(self) -> Vec<Cell> {
        match self {
            Change::Upsert { key, set, .. } => key.into_iter().chain(set).map(|(_, c)| c).collect(),
            Change::Add { key, add, .. } => key
                .into_iter()
                .map(|(_, c)| c)
                .chain(add.into_iter().map(|(_, n)| Cell::Int(Some(n))))
                .collect(),
        }
    }
}

/// Same column names with the same types, in the same order.
fn same_columns(a: &[(&'static str, Cell)], b: &[(&'static str, Cell)]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((x, c), (y, d))| {
            x == y && matches!(c, Cell::Int(_)) == matches!(d, Cell::Int(_))
        })
}

fn names(columns: &[(&'static str, Cell)]) -> Vec<&'static str> {
    columns.iter().map(|(n, _)| *n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_renders_upserts_and_additions() {
        let upsert = Change::Upsert {
            table: "board",
            key: vec![("workflow", Cell::text("w")), ("task", Cell::text("t"))],
            set: vec![("status", Cell::text("running")), ("attempt", Cell::int(2))],
        };
        assert_eq!(
            upsert.sql(),
            "INSERT INTO board (workflow, task, status, attempt) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (workflow, task) DO UPDATE SET status = excluded.status, attempt = excluded.attempt"
        );
        assert_eq!(upsert.params().len(), 4);
        let add = Change::Add {
            table: "stats",
            key: vec![("agent", Cell::text("a"))],
            add: vec![("done", 1)],
        };
        assert_eq!(
            add.sql(),
            "INSERT INTO stats (agent, done) VALUES ($1, $2) ON CONFLICT (agent) DO UPDATE SET done = stats.done + excluded.done"
        );
        assert_eq!(add.params()[1], Cell::Int(Some(1)));
        assert_eq!(
            upsert.bulk_insert_sql_postgres(),
            "INSERT INTO board (workflow, task, status, attempt) \
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[])"
        );
        assert_eq!(
            upsert.bulk_sql_postgres(),
            format!(
                "{} ON CONFLICT (workflow, task) DO UPDATE SET status = excluded.status, attempt = excluded.attempt",
                upsert.bulk_insert_sql_postgres()
            )
        );
        assert_eq!(
            add.sql_for_rows(2),
            "INSERT INTO stats (agent, done) VALUES ($1, $2), ($3, $4) ON CONFLICT (agent) DO UPDATE SET done = stats.done + excluded.done"
        );
    }
}
