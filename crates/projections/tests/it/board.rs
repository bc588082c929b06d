use crate::audit::run_workflow;
use chrono::{DateTime, TimeDelta, Utc};
use maos_domain::workflow::{self, WorkflowCommand};
use maos_domain::{AgentId, Attempt, TaskId, WorkflowId};
use maos_projections::board::{self, TaskQuery, WorkflowBoard};
use maos_projections::{Error, Projector, ProjectorConfig};
use maos_store::Store;
use uuid::Uuid;

async fn project(store: &Store) {
    Projector::new(store.clone(), WorkflowBoard, ProjectorConfig::default())
        .catch_up(|_, _| {})
        .await
        .unwrap();
}

/// Two tasks: `a` fails on agent 1 and completes on agent 2 after a retry;
/// `b` is still running on agent 1.
pub async fn run_with_a_retry(store: &Store, one: AgentId, two: AgentId) -> WorkflowId {
    let id = WorkflowId(Uuid::now_v7());
    let t0 = DateTime::<Utc>::from_timestamp(1_763_719_200, 0).unwrap();
    let at = |s: i64| t0 + TimeDelta::seconds(s);
    let spec = serde_json::from_value(serde_json::json!({"name": "retry", "tasks": [
        {"id": "a", "capability": "backend", "instruction": "build", "retries": {"max_retries": 1, "backoff_initial_ms": 1000, "backoff_multiplier_percent": 200, "backoff_max_ms": 1000}},
        {"id": "b", "capability": "qa", "instruction": "test"}
    ]}))
    .unwrap();
    let (a, b) = (TaskId::from("a"), TaskId::from("b"));
    let commands = vec![
        WorkflowCommand::Submit {
            workflow_id: id,
            spec,
            now: at(0),
        },
        WorkflowCommand::AssignTask {
            task_id: a.clone(),
            agent_id: one,
            candidates: crate::support::one_candidate(one),
            now: at(1),
        },
        WorkflowCommand::StartTask {
            task_id: a.clone(),
            attempt: Attempt(1),
            now: at(2),
        },
        WorkflowCommand::FailTask {
            task_id: a.clone(),
            attempt: Attempt(1),
            error: "exit 1".into(),
            now: at(5),
        },
        WorkflowCommand::AssignTask {
            task_id: a.clone(),
            agent_id: two,
            candidates: crate::support::one_candidate(two),
            now: at(7),
        },
        WorkflowCommand::StartTask {
            task_id: a.clone(),
            attempt: Attempt(2),
            now: at(8),
        },
        WorkflowCommand::CompleteTask {
            task_id: a,
            attempt: Attempt(2),
            output: serde_json::json!({}),
            usage: workflow::Usage::default(),
            added_tasks: vec![],
            now: at(11),
        },
        WorkflowCommand::AssignTask {
            task_id: b.clone(),
            agent_id: one,
            candidates: crate::support::one_candidate(one),
            now: at(12),
        },
        WorkflowCommand::StartTask {
            task_id: b,
            attempt: Attempt(1),
            now: at(13),
        },
    ];
    let mut state = workflow::WorkflowState::default();
    for command in commands {
        let events = workflow::decide(&state, command).unwrap();
        crate::support::append_decided(store, &id.stream(), state.version, &events).await;
        state = events.iter().fold(state, workflow::evolve);
    }
    id
}

pub async fn the_board_follows_workflows_and_agents(store: &Store) {
    let (one, two) = (AgentId(Uuid::now_v7()), AgentId(Uuid::now_v7()));
    let id = run_with_a_retry(store, one, two).await;
    run_workflow(store, "alice", Uuid::now_v7()).await;
    project(store).await;

    let rows = board::tasks(
        store,
        &TaskQuery {
            workflow_id: Some(id),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let view: Vec<(&str, &str, i64, Option<String>)> = rows
        .iter()
        .map(|r| {
            (
                r.task_id.as_str(),
                r.status.as_str(),
                r.attempt,
                r.assignee.clone(),
            )
        })
        .collect();
    assert_eq!(
        view,
        [
            ("a", "completed", 2, Some(two.to_string())),
            ("b", "running", 1, Some(one.to_string()))
        ]
    );
    assert_eq!(rows[0].duration_ms, Some(3_000));
    assert_eq!(rows[1].finished_at, None);

    let summary = board::workflow_summary(store, id).await.unwrap().unwrap();
    assert_eq!(summary.status, "running");
    assert_eq!(
        summary.tasks,
        [("completed".to_owned(), 1), ("running".to_owned(), 1)].into()
    );
    assert_eq!(summary.name.as_deref(), Some("retry"));
    assert!(
        board::workflow_summary(store, WorkflowId(Uuid::now_v7()))
            .await
            .unwrap()
            .is_none()
    );

    let stats = board::agent_stats(store, Some(&one.to_string()))
        .await
        .unwrap();
    let view: Vec<(&str, u64, u64, u64, Option<u32>)> = stats
        .iter()
        .map(|s| {
            (
                s.capability.as_str(),
                s.completed,
                s.failed,
                s.load,
                s.success_per_mille,
            )
        })
        .collect();
    assert_eq!(view, [("backend", 0, 1, 0, Some(0)), ("qa", 0, 0, 1, None)]);
    let stats = board::agent_stats(store, Some(&two.to_string()))
        .await
        .unwrap();
    assert_eq!(stats.len(), 1);
    // A page's agents in one query: the same stats, in agent order.
    let (one_text, two_text) = (one.to_string(), two.to_string());
    let both = board::agents_stats(store, &[&two_text, &one_text])
        .await
        .unwrap();
    let mut each = board::agent_stats(store, Some(&one_text)).await.unwrap();
    each.extend(stats.iter().cloned());
    each.sort_by(|a, b| (&a.agent_id, &a.capability).cmp(&(&b.agent_id, &b.capability)));
    assert_eq!(both, each);
    assert!(board::agents_stats(store, &[]).await.unwrap().is_empty());
    assert_eq!(
        (
            stats[0].completed,
            stats[0].success_per_mille,
            stats[0].mean_duration_ms
        ),
        (1, Some(1000), Some(3_000))
    );
    assert_eq!(stats[0].p95_duration_ms, Some(3_000));
    let history = stats[0].history();
    assert_eq!(
        (history.completed, history.failed, history.mean_duration_ms),
        (1, 0, 3_000)
    );

    // Filters and pages over the whole board.
    let running = board::tasks(
        store,
        &TaskQuery {
            status: Some("running".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(running.len(), 1);
    let by_agent = board::tasks(
        store,
        &TaskQuery {
            assignee: Some(two.to_string()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(by_agent.len(), 1);
    let qa = board::tasks(
        store,
        &TaskQuery {
            capability: Some("qa".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(qa.len(), 1);
    let all = board::tasks(store, &TaskQuery::default()).await.unwrap();
    assert_eq!(all.len(), 3);
    let mut paged = Vec::new();
    let mut q = TaskQuery {
        limit: 2,
        ..Default::default()
    };
    loop {
        let page = board::tasks(store, &q).await.unwrap();
        let Some(last) = page.last() else { break };
        q.after = Some((last.workflow_id.clone(), last.task_id.clone()));
        paged.extend(page);
    }
    assert_eq!(paged, all);

    let err = board::tasks(
        store,
        &TaskQuery {
            status: Some("done".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::InvalidQuery(ref m) if m.starts_with("unknown task status \"done\"")),
        "{err}"
    );
    let err = board::tasks(
        store,
        &TaskQuery {
            limit: 5000,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid query: page size 5000 is outside 1..=1000"
    );
}
