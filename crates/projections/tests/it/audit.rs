use chrono::{DateTime, Utc};
use maos_domain::workflow::{self, WorkflowCommand};
use maos_domain::{Attempt, Metadata, TaskId, WorkflowId};
use maos_projections::audit::{self, AuditLog, AuditQuery};
use maos_projections::{Error, Projector, ProjectorConfig};
use maos_store::{EventStore, ExpectedVersion, NewEvent, Store};
use uuid::Uuid;

/// Runs a one-task workflow through the domain, one decision per append.
/// Within a decision the first event is caused by what triggered it (the
/// user's command, or the previous decision's last event) and the others
/// by that first event. Returns the stream.
pub async fn run_workflow(store: &Store, user: &str, correlation: Uuid) -> String {
    let id = WorkflowId(Uuid::now_v7());
    let stream = id.stream();
    let agent = maos_domain::AgentId(Uuid::now_v7());
    let now = DateTime::<Utc>::from_timestamp(1_763_719_200, 0).unwrap();
    let spec = serde_json::from_value(serde_json::json!({
        "name": "audit", "tasks": [{"id": "build", "capability": "backend", "instruction": "make"}]
    }))
    .unwrap();
    let task = TaskId::from("build");
    let mut commands = crate::support::submit_and_start(id, spec, &task, agent, now);
    commands.push(WorkflowCommand::CompleteTask {
        task_id: task,
        attempt: Attempt(1),
        output: serde_json::json!({}),
        usage: workflow::Usage::default(),
        added_tasks: vec![],
        now,
    });
    let mut state = workflow::WorkflowState::default();
    let mut cause = Uuid::now_v7(); // the user's command
    for command in commands {
        let events = workflow::decide(&state, command).unwrap();
        let mut new: Vec<NewEvent> = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let caused_by = if i == 0 { cause } else { new[0].id };
            new.push(NewEvent::from_domain(
                e,
                Metadata::new(correlation)
                    .caused_by(caused_by)
                    .by_user(user),
            ));
        }
        cause = new.last().unwrap().id;
        store
            .append(&stream, ExpectedVersion::after(state.version), new)
            .await
            .unwrap();
        state = events.iter().fold(state, workflow::evolve);
    }
    stream
}

async fn project(store: &Store) {
    Projector::new(store.clone(), AuditLog, ProjectorConfig::default())
        .catch_up(|_, _| {})
        .await
        .unwrap();
}

async fn positions(store: &Store, q: AuditQuery) -> Vec<u64> {
    let mut out = Vec::new();
    let mut q = AuditQuery { limit: 2, ..q };
    loop {
        let page = audit::query(store, &q).await.unwrap();
        out.extend(page.entries.iter().map(|e| e.position));
        match page.next_after {
            Some(after) => q.after_position = after,
            None => return out,
        }
    }
}

pub async fn it_answers_every_filter(store: &Store) {
    let (c1, c2) = (Uuid::now_v7(), Uuid::now_v7());
    let s1 = run_workflow(store, "alice", c1).await;
    let s2 = run_workflow(store, "bob", c2).await;
    project(store).await;
    let all = store.read_all(0, 1000).await.unwrap();
    let expect = |f: &dyn Fn(&maos_domain::EventEnvelope) -> bool| -> Vec<u64> {
        all.iter().filter(|e| f(e)).map(|e| e.position).collect()
    };
    assert_eq!(
        positions(store, AuditQuery::default()).await,
        expect(&|_| true)
    );
    let by_stream = positions(
        store,
        AuditQuery {
            stream: Some(s1.clone()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_stream, expect(&|e| e.stream == s1));
    let tasks = positions(
        store,
        AuditQuery {
            types: Some("workflows.task.*".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        tasks,
        expect(&|e| e.event_type.starts_with("workflows.task."))
    );
    assert!(!tasks.is_empty());
    let started = positions(
        store,
        AuditQuery {
            types: Some("workflows.*.started".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(started, expect(&|e| e.event_type.ends_with(".started")));
    let none = positions(
        store,
        AuditQuery {
            types: Some("agents.>".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(none.is_empty());
    let by_correlation = positions(
        store,
        AuditQuery {
            correlation_id: Some(c2),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_correlation, expect(&|e| e.stream == s2));
    let by_user = positions(
        store,
        AuditQuery {
            user_id: Some("alice".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        by_user,
        expect(&|e| e.metadata.user_id.as_deref() == Some("alice"))
    );
    // Time: from the second workflow's first event, up to (not incl.) its last.
    let first_of_2 = all.iter().find(|e| e.stream == s2).unwrap().timestamp;
    let last = all.last().unwrap().timestamp;
    let in_range = positions(
        store,
        AuditQuery {
            from: Some(first_of_2),
            to: Some(last),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        in_range,
        expect(&|e| e.timestamp >= first_of_2 && e.timestamp < last)
    );
    assert!(!in_range.is_empty());
}

/// The database makes the audit rows from the log in SQL: each must be
/// exactly what the event's typed columns and metadata say, events with and
/// without a cause or a user alike.
pub async fn every_entry_is_its_events_columns_and_metadata(store: &Store) {
    // Enough events for one batch to need both of SQLite's statement
    // shapes (64 rows, and single rows for the rest).
    while store.head_position().await.unwrap() < 150 {
        run_workflow(store, "alice", Uuid::now_v7()).await;
    }
    let id = WorkflowId(Uuid::now_v7());
    let stream = id.stream();
    let spec = serde_json::from_value(serde_json::json!({
        "name": "no user", "tasks": [{"id": "a", "capability": "c", "instruction": "i"}]
    }))
    .unwrap();
    let submitted = workflow::decide(
        &workflow::WorkflowState::default(),
        WorkflowCommand::Submit {
            workflow_id: id,
            spec,
            now: Utc::now(),
        },
    )
    .unwrap();
    let new: Vec<NewEvent> = submitted
        .iter()
        .map(|e| NewEvent::from_domain(e, Metadata::new(Uuid::now_v7())))
        .collect();
    store
        .append(&stream, ExpectedVersion::NoStream, new)
        .await
        .unwrap();
    project(store).await;
    let all = store.read_all(0, 1000).await.unwrap();
    let query = AuditQuery {
        limit: audit::MAX_PAGE,
        ..AuditQuery::default()
    };
    let entries = audit::query(store, &query).await.unwrap().entries;
    assert!(entries.len() > 150 && entries.len() % 64 != 0);
    let expected: Vec<audit::AuditEntry> = all
        .iter()
        .map(|e| audit::AuditEntry {
            position: e.position,
            id: e.id,
            stream: e.stream.clone(),
            event_type: e.event_type.clone(),
            correlation_id: e.metadata.correlation_id,
            causation_id: e.metadata.causation_id,
            user_id: e.metadata.user_id.clone(),
            recorded_at: e.timestamp,
        })
        .collect();
    assert_eq!(entries, expected);
    assert!(
        entries
            .iter()
            .any(|e| e.user_id.is_none() && e.causation_id.is_none())
    );
    assert!(
        entries
            .iter()
            .any(|e| e.user_id.is_some() && e.causation_id.is_some())
    );
}

pub async fn the_causation_tree_of_a_completion_leads_back_to_the_submission(store: &Store) {
    run_workflow(store, "alice", Uuid::now_v7()).await;
    project(store).await;
    let all = store.read_all(0, 1000).await.unwrap();
    let completed = all
        .iter()
        .find(|e| e.event_type == "workflows.task.completed")
        .unwrap();
    let tree = audit::causation_tree(store, completed.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tree.event.id, completed.id);
    let chain: Vec<&str> = tree.causes.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        chain,
        [
            "workflows.workflow.submitted",
            "workflows.task.ready",
            "workflows.task.assigned",
            "workflows.task.started"
        ]
    );
    // The completion caused the workflow's completion.
    let effects: Vec<(u32, &str)> = tree
        .effects
        .iter()
        .map(|(d, e)| (*d, e.event_type.as_str()))
        .collect();
    assert_eq!(effects, [(1, "workflows.workflow.completed")]);
    // The submission caused everything else, three and more levels deep.
    let submitted = &tree.causes[0];
    let from_root = audit::causation_tree(store, submitted.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from_root.effects.len(), all.len() - 1);
    assert!(from_root.causes.is_empty());
    assert_eq!(from_root.effects.iter().map(|(d, _)| *d).max(), Some(5));
    assert!(
        audit::causation_tree(store, Uuid::now_v7())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn bad_queries_get_precise_errors(store: &Store) {
    let now = Utc::now();
    let cases = [
        (
            AuditQuery {
                limit: 0,
                ..Default::default()
            },
            "invalid query: page size 0 is outside 1..=1000",
        ),
        (
            AuditQuery {
                limit: 1001,
                ..Default::default()
            },
            "invalid query: page size 1001 is outside 1..=1000",
        ),
        (
            AuditQuery {
                types: Some("workflows..x".into()),
                ..Default::default()
            },
            "invalid query: invalid type pattern \"workflows..x\": segments are lower snake case or '*'; only the last may be '>' or '#'",
        ),
    ];
    for (q, message) in cases {
        let err = audit::query(store, &q).await.unwrap_err();
        assert!(matches!(err, Error::InvalidQuery(_)));
        assert_eq!(err.to_string(), message);
    }
    let inverted = AuditQuery {
        from: Some(now),
        to: Some(now - chrono::TimeDelta::seconds(1)),
        ..Default::default()
    };
    let err = audit::query(store, &inverted)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("invalid query: time range is inverted or empty"),
        "{err}"
    );
}

pub async fn an_export_writes_the_matching_envelopes_as_json_lines(store: &Store) {
    run_workflow(store, "alice", Uuid::now_v7()).await;
    let c = Uuid::now_v7();
    run_workflow(store, "bob", c).await;
    project(store).await;
    let q = AuditQuery {
        correlation_id: Some(c),
        limit: 3,
        ..Default::default()
    };
    let mut out = Vec::new();
    let written = audit::export_json_lines(store, &q, &mut out).await.unwrap();
    let lines: Vec<maos_domain::EventEnvelope> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let expected: Vec<maos_domain::EventEnvelope> = store
        .read_all(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.metadata.correlation_id == c)
        .collect();
    assert_eq!(written, expected.len() as u64);
    assert_eq!(lines, expected);
}
