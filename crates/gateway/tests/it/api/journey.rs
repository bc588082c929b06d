//! What a user does: submit, watch, answer an escalation, cancel, read the
//! board and the audit trail, read state as of a point, fork.

use super::Server;
use serde_json::{Value, json};

const ESCALATING: &str = r#"
name: journey
tasks:
  - {id: build, capability: work, instruction: "echo built"}
  - id: check
    capability: work
    needs: [build]
    instruction: "echo failing >&2; exit 3"
    retries: {max_retries: 0}
    on_exhausted: escalate
  - {id: ship, capability: work, needs: [check], instruction: "echo shipped"}
"#;

fn types(events: &[(String, String, Value)]) -> Vec<&str> {
    events.iter().map(|(_, t, _)| t.as_str()).collect()
}

fn saw(events: &[(String, String, Value)], event_type: &str) -> bool {
    events.iter().any(|(_, t, _)| t == event_type)
}

async fn submit(server: &Server, spec: &str) -> (String, String) {
    let answer = server
        .call(
            "POST",
            "/api/v1/workflows",
            Some(&server.token.clone()),
            &[],
            Some(("application/yaml", spec.as_bytes().to_vec())),
        )
        .await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let data = &answer.body["data"];
    (
        data["workflow_id"].as_str().unwrap().to_owned(),
        data["correlation_id"].as_str().unwrap().to_owned(),
    )
}

pub async fn a_workflow_escalates_is_answered_completes_and_can_be_audited_replayed_and_forked(
    server: &Server,
) {
    let (id, correlation) = submit(server, ESCALATING).await;
    let live = format!("/api/v1/workflows/{id}/live");

    // Watch it over SSE until it waits for a human.
    let events = server
        .events(&live, &[], |seen| saw(seen, "workflows.workflow.escalated"))
        .await;
    let seen = types(&events);
    let built = seen
        .iter()
        .position(|t| *t == "workflows.task.completed")
        .unwrap();
    let escalated = seen
        .iter()
        .position(|t| *t == "workflows.task.escalated")
        .unwrap();
    assert!(built < escalated, "{seen:?}");
    assert!(
        events
            .iter()
            .all(|(_, _, e)| e["stream"] == format!("workflow-{id}"))
    );

    // A human answers through the command line: skip the check.
    let out = server.cli(&["workflow", "input", &id, "check", "skip"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = server
        .events(&live, &[], |seen| saw(seen, "workflows.workflow.completed"))
        .await;
    assert!(saw(&events, "workflows.workflow.input_received"));

    // The board, through HTTP and the command line.
    let board = server
        .eventually(&format!("/api/v1/board?workflow_id={id}"), |rows| {
            rows.as_array().is_some_and(|r| {
                r.iter()
                    .any(|t| t["task_id"] == "ship" && t["status"] == "completed")
            })
        })
        .await;
    let status_of = |rows: &Value, task: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|t| t["task_id"] == task)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status_of(&board, "build"), "completed");
    assert_eq!(status_of(&board, "check"), "skipped");
    let cli_board = server.cli_json(&["board", "--workflow", &id]);
    assert_eq!(cli_board, board);

    // The agents with their records: a listing carries the stats each
    // agent's own view has, and counts the build just done.
    let builder = board
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["task_id"] == "build")
        .unwrap()["assignee"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = server.get("/api/v1/agents").await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    let listed = listed.body["data"].as_array().unwrap().clone();
    assert!(listed.len() > 1, "{listed:?}");
    for agent in &listed {
        let own = server
            .get(&format!(
                "/api/v1/agents/{}",
                agent["agent_id"].as_str().unwrap()
            ))
            .await;
        assert_eq!(own.body["data"], *agent);
    }
    let record = listed
        .iter()
        .find(|a| a["agent_id"] == builder)
        .unwrap_or_else(|| panic!("{builder} not in {listed:?}"));
    let completed: u64 = record["stats"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["completed"].as_u64())
        .sum();
    assert!(completed >= 1, "{record}");

    // The audit trail: who did what, and why.
    let audit = server
        .eventually(
            &format!("/api/v1/audit?correlation_id={correlation}&limit=1000"),
            |rows| {
                rows.as_array().is_some_and(|r| {
                    r.iter()
                        .any(|e| e["event_type"] == "workflows.workflow.completed")
                })
            },
        )
        .await;
    let entry = |event_type: &str, task: Option<&str>| -> Value {
        audit
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["event_type"] == event_type && task.is_none_or(|_| true))
            .unwrap_or_else(|| panic!("no {event_type} in {audit}"))
            .clone()
    };
    assert_eq!(
        entry("workflows.workflow.submitted", None)["user_id"],
        "admin"
    );
    assert_eq!(
        entry("workflows.workflow.input_received", None)["user_id"],
        "admin"
    );
    let completions = server
        .get(&format!(
            "/api/v1/audit?stream=workflow-{id}&types=workflows.task.completed"
        ))
        .await;
    let completions = completions.body["data"].as_array().unwrap().clone();
    let root_cause = |event: &Value| {
        let id = event["id"].as_str().unwrap().to_owned();
        async move {
            let tree = server.get(&format!("/api/v1/audit/events/{id}/tree")).await;
            assert_eq!(tree.status, 200, "{:?}", tree.body);
            tree.body["data"].clone()
        }
    };
    // build's completion leads back to the submission; ship's, which ran
    // because a human skipped the check, to that human's input.
    let tree = root_cause(&completions[0]).await;
    assert_eq!(tree["event"]["event_type"], "workflows.task.completed");
    assert_eq!(
        tree["causes"][0]["event_type"], "workflows.workflow.submitted",
        "{tree}"
    );
    assert_eq!(tree["causes"][0]["user_id"], "admin");
    let last = completions.last().unwrap();
    let tree = root_cause(last).await;
    assert_eq!(
        tree["causes"][0]["event_type"], "workflows.workflow.input_received",
        "{tree}"
    );
    let cli_tree = server.cli_json(&["audit", "tree", last["id"].as_str().unwrap()]);
    assert_eq!(cli_tree, tree);

    // State as of the escalation equals what the checkpoints say then.
    let checkpoints = server
        .get(&format!("/api/v1/workflows/{id}/checkpoints?limit=1000"))
        .await;
    let at_escalation = checkpoints.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["event_type"] == "workflows.workflow.escalated")
        .unwrap()
        .clone();
    let position = at_escalation["position"].as_u64().unwrap().to_string();
    let state = server.cli_json(&["state", &id, "--at", &position]);
    assert_eq!(state["version"], at_escalation["version"]);
    assert_eq!(state["tasks"]["check"]["status"], "escalated");
    assert_eq!(state["tasks"]["ship"]["status"], "pending");
    let by_http = server
        .get(&format!("/api/v1/workflows/{id}/state?position={position}"))
        .await;
    assert_eq!(by_http.body["data"], state);

    // A fork from that checkpoint re-runs only what was not completed.
    let version = at_escalation["version"].as_u64().unwrap().to_string();
    let fork = server.cli_json(&["workflow", "fork", &id, "--version", &version]);
    let fork_id = fork["workflow_id"].as_str().unwrap().to_owned();
    let fork_events = server
        .events(&format!("/api/v1/workflows/{fork_id}/live"), &[], |seen| {
            saw(seen, "workflows.workflow.escalated")
        })
        .await;
    assert!(
        fork_events[0].2["data"].to_string().contains(&id),
        "the fork's first event names its origin"
    );
    let started: Vec<&str> = fork_events
        .iter()
        .filter(|(_, t, _)| t == "workflows.task.started")
        .map(|(_, _, e)| e["data"]["task_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        started,
        ["check"],
        "only the task not completed at the fork point runs again"
    );
}

pub async fn a_cancelled_workflow_kills_its_work_and_a_second_cancel_is_a_conflict(
    server: &Server,
) {
    let spec = r#"
name: slow
tasks:
  - id: wait
    capability: work
    timeout_secs: 120
    instruction: 'echo $$ > "$MAOS_WORKFLOW_DIR/pid"; sleep 100'
"#;
    let (id, _) = submit(server, spec).await;
    let live = format!("/api/v1/workflows/{id}/live");
    server
        .events(&live, &[], |seen| saw(seen, "workflows.task.started"))
        .await;
    let pid_file = server
        .dir
        .path()
        .join(".maos/workspaces")
        .join(&id)
        .join("pid");
    let pid = maos_testkit::written_pid(&pid_file).await;

    let out = server.cli(&["workflow", "cancel", &id, "--reason", "not needed"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server
        .events(&live, &[], |seen| saw(seen, "workflows.workflow.cancelled"))
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the task's process survived the cancel"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let head = server.head().await;
    let again = server
        .post_json(
            &format!("/api/v1/workflows/{id}/actions/cancel"),
            &json!({}),
        )
        .await;
    assert_eq!(again.status, 409, "{:?}", again.body);
    assert_eq!(again.code(), "ILLEGAL_TRANSITION");
    assert_eq!(
        again.body["error"]["details"]["workflow_status"],
        "cancelled"
    );
    assert_eq!(
        server.head().await,
        head,
        "a refused cancel appends nothing"
    );
    let summary = server
        .eventually(&format!("/api/v1/workflows/{id}"), |d| {
            d["summary"]["status"] == "cancelled"
        })
        .await;
    assert_eq!(summary["state"]["status"], "cancelled");
}

pub async fn live_events_resume_after_last_event_id(server: &Server) {
    submit(
        server,
        "name: idle\ntasks: [{id: t, capability: nobody, instruction: x}]",
    )
    .await;
    let all = server
        .events("/api/v1/events/live?after=0", &[], |seen| seen.len() >= 4)
        .await;
    let positions: Vec<u64> = all.iter().map(|(id, _, _)| id.parse().unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    // Reconnecting with the second event's id resumes right after it.
    let resumed = server
        .events(
            "/api/v1/events/live",
            &[("last-event-id", &all[1].0)],
            |seen| !seen.is_empty(),
        )
        .await;
    assert_eq!(resumed[0].0, all[2].0);
    assert_eq!(resumed[0].2, all[2].2);
    // A type filter keeps only what matches.
    let agents = server
        .events(
            "/api/v1/events/live?after=0&types=agents.agent.*",
            &[],
            |seen| seen.len() >= 2,
        )
        .await;
    assert!(
        agents
            .iter()
            .all(|(_, t, _)| t.starts_with("agents.agent.")),
        "{agents:?}"
    );
    // The audit log's projector has committed what it projected.
    server
        .metric(
            r#"maos_projector_transactions_total{projector="audit"}"#,
            |n| n >= 1.0,
        )
        .await;
}
