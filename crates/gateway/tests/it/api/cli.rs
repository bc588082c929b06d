//! The command line's other commands against the same server: agents,
//! events, projections, settings and JSON logs.

use super::Server;
use serde_json::Value;

const AGENT: &str = r#"
name: reviewer
capabilities: [review]
max_concurrency: 3
executor: {kind: process, argv: ["sh", "-c", "{instruction}"]}
"#;

pub async fn agents_are_registered_listed_and_retired_from_the_command_line(server: &Server) {
    std::fs::write(server.dir.path().join("reviewer.yaml"), AGENT).unwrap();
    let out = server.cli(&["agent", "register", "reviewer.yaml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let find = |agents: &Value| -> Value {
        agents
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["state"]["name"] == "reviewer")
            .cloned()
            .unwrap_or(Value::Null)
    };
    let agents = server.cli_json(&["agent", "list"]);
    let reviewer = find(&agents);
    assert_eq!(reviewer["state"]["status"], "healthy", "{agents}");
    assert_eq!(reviewer["state"]["max_concurrency"], 3);
    assert_eq!(
        agents.as_array().unwrap().len(),
        3,
        "two from the agents file and this one"
    );
    // A page at a time, in id order, with the cursor to go on from.
    let first = server.cli_json(&["agent", "list", "--limit", "2"]);
    assert_eq!(
        first,
        Value::Array(agents.as_array().unwrap()[..2].to_vec())
    );
    let table = server.cli(&["agent", "list", "--limit", "2"]);
    let table = String::from_utf8_lossy(&table.stdout);
    let cursor = first[1]["agent_id"].as_str().unwrap();
    assert!(
        table.contains(&format!("(more: --after {cursor})")),
        "{table}"
    );
    let rest = server.cli_json(&["agent", "list", "--after", cursor]);
    assert_eq!(rest, Value::Array(agents.as_array().unwrap()[2..].to_vec()));
    let bad = server.cli(&["agent", "list", "--status", "asleep"]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("asleep"), "{stderr}");

    let out = server.cli(&["agent", "retire", "reviewer", "--reason", "done"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let retired = server.cli_json(&["agent", "list", "--status", "retired"]);
    assert_eq!(retired.as_array().unwrap().len(), 1);
    assert_eq!(find(&retired)["state"]["status"], "retired");
    // Retiring it again is refused with one line and a non-zero exit.
    let again = server.cli(&["agent", "retire", "reviewer"]);
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("retired"), "{stderr}");
}

pub async fn events_tail_and_projection_rebuilds_work_from_the_command_line(server: &Server) {
    let out = server.cli(&[
        "--json",
        "events",
        "tail",
        "--from-start",
        "--limit",
        "2",
        "--filter",
        "agents.>",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines.iter().all(|e| e["type"] == "agents.agent.registered"),
        "{lines:?}"
    );

    // The live projectors have caught up, so "before" is the whole log.
    server
        .eventually("/api/v1/projections", |views| {
            views
                .as_array()
                .is_some_and(|v| v.iter().all(|p| p["lag"] == 0))
        })
        .await;
    let before = server.cli_json(&["audit", "query", "--limit", "1000"]);
    let out = server.cli(&["projections", "rebuild", "audit"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("audit rebuilt"), "{stdout}");
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains("100%"), "no progress bar: {progress}");
    let after = server.cli_json(&["audit", "query", "--limit", "1000"]);
    assert_eq!(before, after, "a rebuilt audit log answers as before");

    let board_before = server.cli_json(&["board"]);
    let out = server.cli(&["projections", "rebuild", "all"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        server.cli_json(&["audit", "query", "--limit", "1000"]),
        before,
        "every model rebuilt in one pass: the audit log answers as before"
    );
    assert_eq!(server.cli_json(&["board"]), board_before, "and the board");

    let status = server.cli_json(&["projections", "status"]);
    assert!(
        status
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "workflow_board")
    );
    let unknown = server.cli(&["projections", "rebuild", "nope"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("PROJECTION_NOT_FOUND"));
}

pub async fn settings_come_from_maos_toml_and_logs_can_be_json(server: &Server) {
    // A workflow only this server has: an embedded fallback (on the data
    // dir's own store) would not list it.
    let submitted = server
        .call(
            "POST",
            "/api/v1/workflows",
            Some(&server.token.clone()),
            &[],
            Some((
                "application/yaml",
                b"name: listed\ntasks: [{id: t, capability: nobody, instruction: x}]".to_vec(),
            )),
        )
        .await;
    assert_eq!(submitted.status, 201, "{:?}", submitted.body);
    let id = submitted.body["data"]["workflow_id"].clone();
    server
        .eventually("/api/v1/workflows", |rows| {
            rows.as_array()
                .is_some_and(|r| r.iter().any(|w| w["workflow_id"] == id))
        })
        .await;
    // A settings file naming the server; the flag --url is not given.
    std::fs::write(
        server.dir.path().join("maos.toml"),
        format!("url = \"{}\"\nlog_format = \"json\"\n", server.url),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_maos"))
        .args(["--json", "workflow", "list"])
        .current_dir(server.dir.path())
        .env("RUST_LOG", "info")
        .env_remove("MAOS_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["workflow_id"] == id),
        "the command went to the server the file names: {listed}"
    );
    // A wrong key in the file is one line naming it.
    std::fs::write(server.dir.path().join("maos.toml"), "colour = \"blue\"\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_maos"))
        .args(["workflow", "list"])
        .current_dir(server.dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("maos.toml") && stderr.contains("colour"),
        "{stderr}"
    );
    std::fs::remove_file(server.dir.path().join("maos.toml")).unwrap();

    // MAOS_LOG_FORMAT=json: every log line on stderr is a JSON object.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_maos"))
        .args(["--embedded", "--data-dir", "json-logs", "workflow", "list"])
        .current_dir(server.dir.path())
        .env("RUST_LOG", "info")
        .env("MAOS_LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.trim().is_empty(), "no logs at info");
    for line in stderr.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(v["level"].is_string(), "{line}");
    }
}
