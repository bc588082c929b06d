//! Fresh stores per test (from maos-testkit), and a store's rows read back
//! for comparison.

use maos_store::Store;

pub use maos_testkit::{cleanup, postgres, sqlite};

/// Every row of `table`, each as text, in key order: what a read model
/// holds, comparable across runs.
pub async fn rows(store: &Store, table: &str, order: &str) -> Vec<String> {
    let sql = format!("SELECT * FROM {table} ORDER BY {order}");
    match store {
        Store::Sqlite(s) => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(s.readers())
                .await
                .unwrap();
            rows.iter().map(|r| format!("{:?}", row_text(r))).collect()
        }
        Store::Postgres(p) => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(p.pool())
                .await
                .unwrap();
            rows.iter().map(|r| format!("{:?}", row_text(r))).collect()
        }
    }
}

/// A row's columns as text, whatever the backend.
fn row_text<R>(row: &R) -> Vec<String>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..row.len())
        .map(|i| {
            row.try_get::<Option<i64>, _>(i)
                .map(|v| format!("{v:?}"))
                .or_else(|_| {
                    row.try_get::<Option<String>, _>(i)
                        .map(|v| format!("{v:?}"))
                })
                .unwrap_or_default()
        })
        .collect()
}

/// The secondary indexes of `table` (not its primary key's) with their
/// definitions, by name.
pub async fn indexes(store: &Store, table: &str) -> Vec<(String, String)> {
    match store {
        Store::Sqlite(s) => sqlx::query_as(
            "SELECT name, sql FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL ORDER BY name",
        )
        .bind(table)
        .fetch_all(s.readers())
        .await
        .unwrap(),
        Store::Postgres(p) => sqlx::query_as(
            "SELECT indexname::text, indexdef FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename = $1 \
             AND indexname NOT LIKE '%_pkey' ORDER BY indexname",
        )
        .bind(table)
        .fetch_all(p.pool())
        .await
        .unwrap(),
    }
}

/// Appends a decision's `events` to `stream`, whose version was `after`.
pub async fn append_decided(
    store: &Store,
    stream: &str,
    after: u64,
    events: &[impl maos_domain::DomainEvent],
) {
    use maos_store::{EventStore, ExpectedVersion, NewEvent};
    let new: Vec<NewEvent> = events
        .iter()
        .map(|e| NewEvent::from_domain(e, maos_domain::Metadata::new(uuid::Uuid::now_v7())))
        .collect();
    store
        .append(stream, ExpectedVersion::after(after), new)
        .await
        .unwrap();
}

/// One eligible candidate with a fixed score: what an assignment records.
pub fn one_candidate(agent: maos_domain::AgentId) -> Vec<maos_domain::scoring::CandidateScore> {
    vec![maos_domain::scoring::CandidateScore {
        agent_id: agent,
        eligible: true,
        score: 500,
        reasons: vec![],
    }]
}

/// Submits `spec` as `id`, assigns `task` to `agent` and starts its first
/// attempt, all at `now`.
pub fn submit_and_start(
    id: maos_domain::WorkflowId,
    spec: maos_domain::workflow::WorkflowSpec,
    task: &maos_domain::TaskId,
    agent: maos_domain::AgentId,
    now: chrono::DateTime<chrono::Utc>,
) -> Vec<maos_domain::workflow::WorkflowCommand> {
    use maos_domain::workflow::WorkflowCommand;
    vec![
        WorkflowCommand::Submit {
            workflow_id: id,
            spec,
            now,
        },
        WorkflowCommand::AssignTask {
            task_id: task.clone(),
            agent_id: agent,
            candidates: one_candidate(agent),
            now,
        },
        WorkflowCommand::StartTask {
            task_id: task.clone(),
            attempt: maos_domain::Attempt(1),
            now,
        },
    ]
}
