use maos_domain::AgentId;
use maos_domain::agent::{self, AgentCommand, AgentState};
use maos_projections::agent_directory::{self, AgentQuery};
use maos_projections::board::WorkflowBoard;
use maos_projections::{Error, Projector, ProjectorConfig};
use maos_store::Store;
use uuid::Uuid;

/// Decides `commands` for a new agent and appends what they decide.
async fn agent(store: &Store, name: &str, commands: Vec<AgentCommand>) -> AgentId {
    let id = AgentId(Uuid::now_v7());
    let now = chrono::Utc::now();
    let register = AgentCommand::Register {
        agent_id: id,
        name: name.to_owned(),
        capabilities: vec!["build".into()],
        max_concurrency: 2,
        executor: serde_json::json!({"kind": "instant"}),
        now,
    };
    let mut state = AgentState::default();
    for command in std::iter::once(register).chain(commands) {
        let events = agent::decide(&state, command).unwrap();
        crate::support::append_decided(store, &id.stream(), state.version, &events).await;
        state = events.iter().fold(state, agent::evolve);
    }
    id
}

async fn listed(
    store: &Store,
    status: Option<&str>,
    after: Option<&AgentId>,
    limit: usize,
) -> Vec<(String, String)> {
    let q = AgentQuery {
        status: status.map(str::to_owned),
        after: after.map(|a| a.to_string()),
        limit,
    };
    agent_directory::agents(store, &q)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.agent_id, e.status))
        .collect()
}

pub async fn the_agent_directory_lists_agents_by_status_a_page_at_a_time(store: &Store) {
    let now = chrono::Utc::now();
    let healthy = agent(
        store,
        "healthy",
        vec![
            AgentCommand::Update {
                capabilities: Some(vec!["docs".into()]),
                max_concurrency: None,
            },
            AgentCommand::RecordRestart {
                reason: "panic".into(),
                restarts_in_window: 1,
                now,
            },
        ],
    )
    .await;
    let sick = agent(
        store,
        "sick",
        vec![AgentCommand::MarkUnhealthy {
            reason: "3 failures".into(),
            consecutive_failures: 3,
            now,
        }],
    )
    .await;
    let gone = agent(
        store,
        "gone",
        vec![
            AgentCommand::MarkUnhealthy {
                reason: "3 failures".into(),
                consecutive_failures: 3,
                now,
            },
            AgentCommand::Recover {
                reason: "rested".into(),
                now,
            },
            AgentCommand::Retire {
                reason: "done".into(),
                now,
            },
        ],
    )
    .await;
    Projector::new(store.clone(), WorkflowBoard, ProjectorConfig::default())
        .catch_up(|_, _| {})
        .await
        .unwrap();

    // Ids are UUIDv7, made in this order: id order is creation order.
    let all = listed(store, None, None, 10).await;
    assert_eq!(
        all,
        [
            (healthy.to_string(), "healthy".to_owned()),
            (sick.to_string(), "unhealthy".to_owned()),
            (gone.to_string(), "retired".to_owned()),
        ]
    );
    assert_eq!(
        listed(store, Some("unhealthy"), None, 10).await,
        [(sick.to_string(), "unhealthy".to_owned())]
    );
    assert_eq!(listed(store, None, None, 2).await, all[..2]);
    assert_eq!(listed(store, None, Some(&sick), 2).await, all[2..]);
    assert!(
        listed(store, Some("retired"), Some(&gone), 2)
            .await
            .is_empty()
    );

    let bad = agent_directory::agents(
        store,
        &AgentQuery {
            status: Some("asleep".into()),
            after: None,
            limit: 10,
        },
    )
    .await;
    assert!(
        matches!(&bad, Err(Error::InvalidQuery(m)) if m.contains("asleep") && m.contains("healthy, unhealthy, retired")),
        "{bad:?}"
    );
    let too_big = agent_directory::agents(
        store,
        &AgentQuery {
            status: None,
            after: None,
            limit: 1_001,
        },
    )
    .await;
    assert!(
        matches!(too_big, Err(Error::InvalidQuery(_))),
        "{too_big:?}"
    );
}
