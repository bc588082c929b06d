use crate::board::run_with_a_retry;
use maos_domain::workflow::{self, TaskStatus, WorkflowEvent};
use maos_domain::{AgentId, Metadata, TaskId, WorkflowId};
use maos_projections::board::{self, TaskQuery, WorkflowBoard};
use maos_projections::history::{self, AsOf};
use maos_projections::{Error, Projector, ProjectorConfig};
use maos_store::{EventStore, Store};
use uuid::Uuid;

/// State "as of" every version, every position and every recorded time of
/// a run equals folding the run's events up to that point with `evolve`.
pub async fn state_as_of_any_point_equals_the_fold(store: &Store) {
    let id = run_with_a_retry(store, AgentId(Uuid::now_v7()), AgentId(Uuid::now_v7())).await;
    // Another workflow interleaved in the global log.
    crate::audit::run_workflow(store, "dave", Uuid::now_v7()).await;
    let envelopes = store.read_stream(&id.stream(), 0, 1000).await.unwrap();
    let events: Vec<WorkflowEvent> = envelopes
        .iter()
        .map(|e| WorkflowEvent::from_parts(&e.event_type, &e.data).unwrap())
        .collect();
    let fold_while = |keep: &dyn Fn(&maos_domain::EventEnvelope) -> bool| {
        let upto: Vec<&WorkflowEvent> = envelopes
            .iter()
            .zip(&events)
            .filter(|(e, _)| keep(e))
            .map(|(_, ev)| ev)
            .collect();
        (!upto.is_empty()).then(|| {
            upto.into_iter()
                .fold(workflow::WorkflowState::default(), workflow::evolve)
        })
    };
    for e in &envelopes {
        let by_version = history::state_as_of(store, id, AsOf::Version(e.version))
            .await
            .unwrap();
        assert_eq!(
            by_version,
            fold_while(&|x| x.version <= e.version),
            "version {}",
            e.version
        );
        let by_position = history::state_as_of(store, id, AsOf::Position(e.position))
            .await
            .unwrap();
        assert_eq!(
            by_position,
            fold_while(&|x| x.position <= e.position),
            "position {}",
            e.position
        );
        let by_time = history::state_as_of(store, id, AsOf::Time(e.timestamp))
            .await
            .unwrap();
        assert_eq!(
            by_time,
            fold_while(&|x| x.timestamp <= e.timestamp),
            "time {}",
            e.timestamp
        );
    }
    // A time in the middle of the run: between two appends.
    let middle = envelopes[envelopes.len() / 2].timestamp;
    let state = history::state_as_of(store, id, AsOf::Time(middle))
        .await
        .unwrap()
        .unwrap();
    assert!(state.version > 0 && state.version < envelopes.len() as u64);
    let before = envelopes[0].timestamp - chrono::TimeDelta::microseconds(1);
    assert_eq!(
        history::state_as_of(store, id, AsOf::Time(before))
            .await
            .unwrap(),
        None
    );
    let listed = history::checkpoints(store, id, 0, 1000).await.unwrap();
    assert_eq!(listed.len(), envelopes.len());
    assert!(listed.windows(2).all(|w| w[0].version + 1 == w[1].version));
    assert!(matches!(
        history::checkpoints(store, id, 0, 0).await,
        Err(Error::InvalidQuery(_))
    ));
}

/// A fork from a checkpoint where task `a` had completed and `b` was
/// running: the fork names its origin, keeps `a`'s output, and only `b`
/// becomes ready to run again.
pub async fn a_fork_reruns_only_the_tasks_not_completed_at_the_fork_point(store: &Store) {
    let origin = run_with_a_retry(store, AgentId(Uuid::now_v7()), AgentId(Uuid::now_v7())).await;
    let at_origin = history::state_as_of(store, origin, AsOf::Version(u64::MAX))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        at_origin.tasks[&TaskId::from("a")].status,
        TaskStatus::Completed
    );
    assert_eq!(
        at_origin.tasks[&TaskId::from("b")].status,
        TaskStatus::Running
    );

    let fork = WorkflowId(Uuid::now_v7());
    let version = history::fork(
        store,
        origin,
        AsOf::Version(u64::MAX),
        fork,
        Metadata::new(Uuid::now_v7()),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(version, at_origin.version);
    let first = &store.read_stream(&fork.stream(), 0, 1).await.unwrap()[0];
    assert_eq!(first.event_type, "workflows.workflow.submitted");
    assert_eq!(
        first.data["forked_from"]["workflow_id"],
        origin.0.to_string()
    );
    assert_eq!(first.data["forked_from"]["version"], version);

    let state = history::state_as_of(store, fork, AsOf::Version(u64::MAX))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        state.tasks[&TaskId::from("a")].status,
        TaskStatus::Completed
    );
    assert_eq!(
        state.tasks[&TaskId::from("a")].output,
        at_origin.tasks[&TaskId::from("a")].output
    );
    assert_eq!(state.tasks[&TaskId::from("b")].status, TaskStatus::Ready);

    Projector::new(store.clone(), WorkflowBoard, ProjectorConfig::default())
        .catch_up(|_, _| {})
        .await
        .unwrap();
    let rows = board::tasks(
        store,
        &TaskQuery {
            workflow_id: Some(fork),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let view: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.task_id.as_str(), r.status.as_str()))
        .collect();
    assert_eq!(view, [("a", "completed"), ("b", "ready")]);

    let err = history::fork(
        store,
        WorkflowId(Uuid::now_v7()),
        AsOf::Version(3),
        WorkflowId(Uuid::now_v7()),
        Metadata::new(Uuid::now_v7()),
        chrono::Utc::now(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::InvalidQuery(_)), "{err}");
}

/// A stream of several pages (read ahead several at once): state as of
/// points on and around the page edges, by version, position and time,
/// equals the fold.
pub async fn state_as_of_a_long_stream_equals_the_fold(store: &Store) {
    use maos_domain::Attempt;
    use maos_domain::workflow::{WorkflowCommand, WorkflowState};
    use maos_store::{ExpectedVersion, NewEvent};
    let id = WorkflowId(Uuid::now_v7());
    let agent = AgentId(Uuid::now_v7());
    let task = TaskId::from("t0");
    let now = chrono::Utc::now();
    let spec = serde_json::from_value(serde_json::json!({
        "name": "long", "tasks": [{"id": "t0", "capability": "backend", "instruction": "go"}]
    }))
    .unwrap();
    let mut commands = crate::support::submit_and_start(id, spec, &task, agent, now);
    commands.extend((0..4_500).map(|n| WorkflowCommand::ReportProgress {
        task_id: task.clone(),
        attempt: Attempt(1),
        message: format!("line {n}"),
    }));
    let mut state = WorkflowState::default();
    let mut events = Vec::new();
    for command in commands {
        let decided = workflow::decide(&state, command).unwrap();
        state = decided.iter().fold(state, workflow::evolve);
        events.extend(decided);
    }
    // Appends of 700 events: each has its own time, and pages straddle them.
    for chunk in events.chunks(700) {
        let new: Vec<NewEvent> = chunk
            .iter()
            .map(|e| NewEvent::from_domain(e, Metadata::new(Uuid::now_v7())))
            .collect();
        store
            .append(&id.stream(), ExpectedVersion::Any, new)
            .await
            .unwrap();
        // Another workflow's events in between, in the global log.
        crate::audit::run_workflow(store, "erin", Uuid::now_v7()).await;
    }
    let mut envelopes = Vec::new();
    loop {
        let page = store
            .read_stream(&id.stream(), envelopes.len() as u64, 1_000)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        envelopes.extend(page);
    }
    assert_eq!(envelopes.len(), events.len());
    let fold_upto = |n: usize| {
        events[..n]
            .iter()
            .fold(WorkflowState::default(), workflow::evolve)
    };
    let last = events.len() as u64;
    for version in [1, 1_999, 2_000, 2_001, 3_999, 4_000, 4_001, last - 1, last] {
        let e = &envelopes[version as usize - 1];
        let expected = Some(fold_upto(version as usize));
        assert_eq!(
            history::state_as_of(store, id, AsOf::Version(version))
                .await
                .unwrap(),
            expected,
            "version {version}"
        );
        assert_eq!(
            history::state_as_of(store, id, AsOf::Position(e.position))
                .await
                .unwrap(),
            expected,
            "position {}",
            e.position
        );
        // All events of one append share its time: as of that time, the
        // whole append.
        let same_time = envelopes
            .iter()
            .filter(|x| x.timestamp <= e.timestamp)
            .count();
        assert_eq!(
            history::state_as_of(store, id, AsOf::Time(e.timestamp))
                .await
                .unwrap(),
            Some(fold_upto(same_time)),
            "time of version {version}"
        );
    }
    assert_eq!(
        history::state_as_of(store, id, AsOf::Version(last + 10))
            .await
            .unwrap(),
        Some(fold_upto(events.len())),
        "past the end: the whole stream"
    );
}
