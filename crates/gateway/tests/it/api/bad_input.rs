//! Bad input never yields a 5xx or a half-written state: each refusal has
//! its code, and the log's head does not move.

use super::Server;
use serde_json::{Value, json};

/// A workflow that waits forever (no agent has its capability), so the log
/// stays still while the test runs.
const IDLE: &str = "name: idle\ntasks: [{id: t, capability: nobody, instruction: x}]";

/// Method, path, body (content type and bytes), then the expected status,
/// code, and a word the message must contain.
type Case<'a> = (
    &'a str,
    String,
    Option<(&'a str, Vec<u8>)>,
    u16,
    &'a str,
    &'a str,
);

fn check_error_shape(body: &Value) {
    assert!(body["error"]["code"].is_string(), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    assert!(body["error"]["details"].is_object(), "{body}");
    assert!(body["meta"]["request_id"].is_string(), "{body}");
    assert!(body["meta"]["timestamp"].is_string(), "{body}");
}

pub async fn bad_requests_get_precise_errors_and_append_nothing(server: &Server) {
    let token = server.token.clone();
    let t = Some(token.as_str());
    let yaml = |text: &str| Some(("application/yaml", text.as_bytes().to_vec()));
    let json_body = |text: &str| Some(("application/json", text.as_bytes().to_vec()));
    let idle = server
        .call("POST", "/api/v1/workflows", t, &[], yaml(IDLE))
        .await;
    // Let the idle workflow's first steps land before measuring.
    let idle_id = server.running(&idle).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let head = server.head().await;
    let unknown = uuid::Uuid::now_v7();
    let unknown_text = unknown.to_string();
    let big = format!(
        "name: big\ninput: {{pad: \"{}\"}}\ntasks: []",
        "x".repeat(2 << 20)
    );
    let cyclic = "name: c\ntasks:\n  - {id: a, capability: work, instruction: x, needs: [b]}\n  - {id: b, capability: work, instruction: x, needs: [a]}";
    let cases: Vec<Case> = vec![
        (
            "POST",
            "/api/v1/workflows".into(),
            json_body("{not json"),
            400,
            "MALFORMED_BODY",
            "JSON",
        ),
        (
            "POST",
            "/api/v1/workflows".into(),
            yaml("tasks: [unclosed"),
            400,
            "MALFORMED_BODY",
            "YAML",
        ),
        (
            "POST",
            "/api/v1/workflows".into(),
            Some(("text/plain", IDLE.into())),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
            "text/plain",
        ),
        (
            "POST",
            "/api/v1/workflows".into(),
            yaml(&big),
            413,
            "PAYLOAD_TOO_LARGE",
            "limit",
        ),
        (
            "POST",
            "/api/v1/workflows".into(),
            yaml(cyclic),
            422,
            "INVALID_SPEC",
            "cycle",
        ),
        (
            "POST",
            "/api/v1/workflows".into(),
            yaml(
                "name: x\ntasks:\n  - {id: a, capability: w, instruction: x, on_exhausted: retry}",
            ),
            422,
            "INVALID_SPEC",
            "on_exhausted",
        ),
        (
            "GET",
            format!("/api/v1/workflows/{unknown}"),
            None,
            404,
            "WORKFLOW_NOT_FOUND",
            &unknown_text,
        ),
        (
            "GET",
            "/api/v1/workflows/not-an-id".into(),
            None,
            404,
            "WORKFLOW_NOT_FOUND",
            "not-an-id",
        ),
        (
            "POST",
            format!("/api/v1/workflows/{unknown}/actions/cancel"),
            None,
            404,
            "WORKFLOW_NOT_FOUND",
            "does not exist",
        ),
        (
            "POST",
            format!("/api/v1/workflows/{idle_id}/tasks/nope/actions/resolve"),
            json_body(r#"{"kind":"skip"}"#),
            404,
            "TASK_NOT_FOUND",
            "nope",
        ),
        (
            "POST",
            format!("/api/v1/workflows/{idle_id}/tasks/t/actions/resolve"),
            json_body(r#"{"kind":"skip"}"#),
            409,
            "ILLEGAL_TRANSITION",
            "not allowed",
        ),
        (
            "POST",
            format!("/api/v1/workflows/{idle_id}/tasks/t/actions/resolve"),
            json_body(r#"{"kind":"maybe"}"#),
            400,
            "MALFORMED_BODY",
            "maybe",
        ),
        (
            "DELETE",
            format!("/api/v1/agents/{unknown}"),
            None,
            404,
            "AGENT_NOT_FOUND",
            &unknown_text,
        ),
        (
            "POST",
            "/api/v1/agents".into(),
            json_body(r#"{"name": "x", "capabilities": [], "executor": {"kind": "instant"}}"#),
            422,
            "INVALID_AGENT",
            "capabilit",
        ),
        (
            "POST",
            "/api/v1/agents".into(),
            json_body(r#"{"name": "x", "capabilities": ["a"], "executor": {"kind": "teleport"}}"#),
            422,
            "INVALID_AGENT",
            "teleport",
        ),
        (
            "GET",
            "/api/v1/audit?types=workflows..x".into(),
            None,
            400,
            "INVALID_QUERY",
            "workflows..x",
        ),
        (
            "GET",
            "/api/v1/audit?from=2026-11-21T10:00:00Z&to=2026-11-21T09:00:00Z".into(),
            None,
            400,
            "INVALID_QUERY",
            "inverted",
        ),
        (
            "GET",
            "/api/v1/board?limit=100000".into(),
            None,
            400,
            "INVALID_QUERY",
            "page size",
        ),
        (
            "GET",
            "/api/v1/board?colour=blue".into(),
            None,
            400,
            "INVALID_QUERY",
            "colour",
        ),
        (
            "GET",
            format!("/api/v1/workflows/{idle_id}/state?version=1&position=2"),
            None,
            400,
            "INVALID_QUERY",
            "exactly one",
        ),
        (
            "GET",
            "/api/v1/nothing-here".into(),
            None,
            404,
            "ROUTE_NOT_FOUND",
            "nothing-here",
        ),
        (
            "PUT",
            "/api/v1/workflows".into(),
            None,
            405,
            "METHOD_NOT_ALLOWED",
            "PUT",
        ),
    ];
    for (method, path, body, status, code, mentions) in cases {
        let answer = server.call(method, &path, t, &[], body).await;
        assert_eq!(answer.status, status, "{method} {path}: {:?}", answer.body);
        assert_eq!(answer.code(), code, "{method} {path}: {:?}", answer.body);
        check_error_shape(&answer.body);
        let message = answer.body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(mentions),
            "{method} {path}: {message:?} should mention {mentions:?}"
        );
        assert_eq!(
            server.head().await,
            head,
            "{method} {path} appended something"
        );
    }
    // The 409 says where the task is.
    let conflict = server
        .call(
            "POST",
            &format!("/api/v1/workflows/{idle_id}/tasks/t/actions/resolve"),
            t,
            &[],
            json_body(r#"{"kind":"retry"}"#),
        )
        .await;
    assert_eq!(
        conflict.body["error"]["details"]["workflow_status"],
        "running"
    );
    assert!(
        conflict.body["error"]["details"]["task_status"].is_string(),
        "{:?}",
        conflict.body
    );
}

pub async fn tokens_and_roles_guard_every_route(server: &Server) {
    let head = server.head().await;
    for (token, code) in [(None, 401), (Some("maos_wrong"), 401)] {
        let answer = server
            .call("GET", "/api/v1/workflows", token, &[], None)
            .await;
        assert_eq!(answer.status, code);
        assert_eq!(answer.code(), "UNAUTHORIZED");
        check_error_shape(&answer.body);
    }
    let basic = server
        .call(
            "GET",
            "/api/v1/board",
            None,
            &[("authorization", "Basic YWRtaW46YWRtaW4=")],
            None,
        )
        .await;
    assert_eq!(basic.status, 401);

    // Tokens made with the command line; the token is printed once.
    let make = |role: &str, subject: &str| {
        let out = server.cli(&["token", "create", "--role", role, "--subject", subject]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let viewer = make("viewer", "vera");
    let operator = make("operator", "olga");
    let agent = make("agent", "remote-1");
    assert!(viewer.starts_with("maos_") && viewer != operator);

    let reads = server
        .call("GET", "/api/v1/workflows", Some(&viewer), &[], None)
        .await;
    assert_eq!(reads.status, 200);
    let spec = Some(("application/yaml", IDLE.as_bytes().to_vec()));
    let refused = server
        .call(
            "POST",
            "/api/v1/workflows",
            Some(&viewer),
            &[],
            spec.clone(),
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.code(), "FORBIDDEN");
    assert_eq!(refused.body["error"]["details"]["needed"], "operator");
    let refused = server
        .call(
            "POST",
            "/api/v1/tokens",
            Some(&agent),
            &[],
            Some((
                "application/json",
                br#"{"subject":"x","role":"admin"}"#.to_vec(),
            )),
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(
        server.head().await,
        head,
        "refused requests appended something"
    );

    // The operator's subject is the user on the events its command caused.
    let submitted = server
        .call("POST", "/api/v1/workflows", Some(&operator), &[], spec)
        .await;
    assert_eq!(submitted.status, 201, "{:?}", submitted.body);
    let correlation = submitted.body["data"]["correlation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let audit = server
        .eventually(
            &format!("/api/v1/audit?correlation_id={correlation}"),
            |rows| rows.as_array().is_some_and(|r| !r.is_empty()),
        )
        .await;
    assert_eq!(audit[0]["event_type"], "workflows.workflow.submitted");
    assert_eq!(audit[0]["user_id"], "olga");

    // A revoked token stops working at once (it was cached as valid), and
    // is listed as revoked; revoking it again, or an unknown id, is refused.
    let tokens = server.cli_json(&["token", "list"]);
    let vera = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["subject"] == "vera")
        .cloned()
        .unwrap();
    assert!(vera["revoked_at"].is_null(), "{tokens}");
    assert!(vera.get("hash").is_none() && vera.get("token").is_none());
    let vera_id = vera["id"].as_str().unwrap().to_owned();
    let out = server.cli(&["token", "revoke", &vera_id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = server
        .call("GET", "/api/v1/workflows", Some(&viewer), &[], None)
        .await;
    assert_eq!(after.status, 401);
    assert_eq!(after.code(), "UNAUTHORIZED");
    let listed = server.cli_json(&["token", "list"]);
    let vera = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == vera_id.as_str())
        .cloned()
        .unwrap();
    assert!(vera["revoked_at"].is_string(), "{listed}");
    let again = server
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{vera_id}"),
            Some(&server.token),
            &[],
            None,
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "TOKEN_ALREADY_REVOKED");
    check_error_shape(&again.body);
    let unknown = server
        .call(
            "DELETE",
            "/api/v1/tokens/no-such-token",
            Some(&server.token),
            &[],
            None,
        )
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.code(), "TOKEN_NOT_FOUND");
    let by_operator = server
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{vera_id}"),
            Some(&operator),
            &[],
            None,
        )
        .await;
    assert_eq!(by_operator.status, 403);
    // The operator's token still works.
    let still = server
        .call("GET", "/api/v1/workflows", Some(&operator), &[], None)
        .await;
    assert_eq!(still.status, 200);

    // The data dir's admin token is the only admin token: revoking it
    // would lock every admin out, so it is refused and keeps working.
    let admin_id = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "admin" && t["revoked_at"].is_null())
        .and_then(|t| t["id"].as_str())
        .unwrap()
        .to_owned();
    let out = server.cli(&["token", "revoke", &admin_id]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the last admin token was revoked");
    assert!(
        stderr.contains("last active admin token") && stderr.trim().lines().count() == 1,
        "{stderr}"
    );
    let last = server
        .call(
            "DELETE",
            &format!("/api/v1/tokens/{admin_id}"),
            Some(&server.token),
            &[],
            None,
        )
        .await;
    assert_eq!(last.status, 409);
    assert_eq!(last.code(), "LAST_ADMIN_TOKEN");
    check_error_shape(&last.body);
    let admin_still = server
        .call("GET", "/api/v1/tokens", Some(&server.token), &[], None)
        .await;
    assert_eq!(admin_still.status, 200);

    // Health, readiness, metrics and the API document need no token.
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(
            server.call("GET", path, None, &[], None).await.status,
            200,
            "{path}"
        );
    }
    let openapi = server
        .call("GET", "/api/v1/openapi.json", None, &[], None)
        .await;
    assert_eq!(openapi.body["openapi"], "3.1.0");
    assert!(openapi.body["paths"]["/api/v1/workflows"]["post"].is_object());
    let out = server.cli(&["openapi"]);
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        printed, openapi.body,
        "maos openapi prints what the server serves"
    );
}

pub async fn a_repeated_idempotency_key_returns_the_first_answer_and_appends_nothing(
    server: &Server,
) {
    let token = server.token.clone();
    let spec = || Some(("application/yaml", IDLE.as_bytes().to_vec()));
    let key = [("idempotency-key", "submit-1")];
    let first = server
        .call("POST", "/api/v1/workflows", Some(&token), &key, spec())
        .await;
    assert_eq!(first.status, 201);
    assert!(!first.replayed);
    let id = server.running(&first).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let head = server.head().await;

    let again = server
        .call("POST", "/api/v1/workflows", Some(&token), &key, spec())
        .await;
    assert_eq!(again.status, 201);
    assert!(again.replayed);
    assert_eq!(again.body["data"], first.body["data"]);
    assert_eq!(
        server.head().await,
        head,
        "a replayed command appended something"
    );

    let other = Some((
        "application/yaml",
        IDLE.replace("idle", "other").into_bytes(),
    ));
    let reused = server
        .call("POST", "/api/v1/workflows", Some(&token), &key, other)
        .await;
    assert_eq!(reused.status, 422);
    assert_eq!(reused.code(), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(server.head().await, head);

    // A cancel retried with its key answers as the first time (not 409).
    let cancel_key = [("idempotency-key", "cancel-1")];
    let path = format!("/api/v1/workflows/{id}/actions/cancel");
    let body = || Some(("application/json", br#"{"reason": "test"}"#.to_vec()));
    let first = server
        .call("POST", &path, Some(&token), &cancel_key, body())
        .await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    let head = server.head().await;
    let again = server
        .call("POST", &path, Some(&token), &cancel_key, body())
        .await;
    assert_eq!(again.status, 200);
    assert!(again.replayed);
    assert_eq!(again.body["data"], first.body["data"]);
    assert_eq!(server.head().await, head);
    assert_eq!(json!(again.body["data"]["id"]), json!(id));
}

/// A run cut off between its events and its recorded answer (the process
/// stopped) leaves the key claimed; a retry after the lease answers from
/// what the run made and makes nothing twice. A claim inside its lease is
/// another run's: the retry is told to wait.
pub async fn a_retry_after_a_run_cut_off_before_its_answer_makes_nothing_twice(server: &Server) {
    use maos_projections::Cell;
    let token = server.token.clone();
    let spec = || Some(("application/yaml", IDLE.as_bytes().to_vec()));
    let post = |key: &'static str| {
        let token = token.clone();
        async move {
            server
                .call(
                    "POST",
                    "/api/v1/workflows",
                    Some(&token),
                    &[("idempotency-key", key)],
                    spec(),
                )
                .await
        }
    };
    let an_hour_ago = || Cell::int(chrono::Utc::now().timestamp_micros() - 3_600_000_000);
    // Cut off after its events: its record goes back to a stale claim.
    let first = post("cut-after").await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    server.running(&first).await;
    let stale = "UPDATE maos_idempotency SET status = 0, body = '', created_at = $1 WHERE key = $2";
    assert_eq!(
        server
            .sql(stale, vec![an_hour_ago(), Cell::text("cut-after")])
            .await,
        1
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let head = server.head().await;
    let again = post("cut-after").await;
    assert_eq!(again.status, 201, "{:?}", again.body);
    assert_eq!(
        again.body["data"], first.body["data"],
        "answered from the stream"
    );
    assert_eq!(server.head().await, head, "the workflow was made twice");
    let replayed = post("cut-after").await;
    assert!(replayed.replayed, "the answer is recorded now");
    assert_eq!(replayed.body["data"], first.body["data"]);

    // Cut off before its events: a stale claim (same request) with an id
    // reserved; the retry makes the workflow, with that id.
    let reserved = uuid::Uuid::now_v7();
    let claim = "INSERT INTO maos_idempotency (subject, key, fingerprint, status, body, created_at, reserved) \
         SELECT subject, $1, fingerprint, 0, '', $2, $3 FROM maos_idempotency WHERE key = $4";
    let params = vec![
        Cell::text("cut-before"),
        an_hour_ago(),
        Cell::text(reserved.to_string()),
        Cell::text("cut-after"),
    ];
    assert_eq!(server.sql(claim, params).await, 1);
    let made = post("cut-before").await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert!(!made.replayed);
    assert_eq!(
        made.body["data"]["workflow_id"],
        json!(reserved.to_string())
    );
    server
        .eventually(&format!("/api/v1/workflows/{reserved}"), |d| {
            d["state"]["status"] == "running"
        })
        .await;

    // A claim inside its lease belongs to a run still going.
    let fresh = "INSERT INTO maos_idempotency (subject, key, fingerprint, status, body, created_at, reserved) \
         SELECT subject, $1, fingerprint, 0, '', $2, $3 FROM maos_idempotency WHERE key = $4";
    let params = vec![
        Cell::text("running"),
        Cell::int(chrono::Utc::now().timestamp_micros()),
        Cell::text(uuid::Uuid::now_v7().to_string()),
        Cell::text("cut-after"),
    ];
    assert_eq!(server.sql(fresh, params).await, 1);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let head = server.head().await;
    let busy = post("running").await;
    assert_eq!(busy.status, 409, "{:?}", busy.body);
    assert_eq!(busy.code(), "IDEMPOTENCY_KEY_IN_USE");
    assert_eq!(server.head().await, head);
}
