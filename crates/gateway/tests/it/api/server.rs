//! A real `maos up` process on a free port, with its own store, data dir and
//! agents, driven only through HTTP and the `maos` command line.

use serde_json::Value;
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Agents for the end-to-end tests: shell commands.
pub const AGENTS: &str = r#"
agents:
  - name: worker-1
    capabilities: [work]
    max_concurrency: 2
    executor: {kind: process, argv: ["sh", "-c", "{instruction}"]}
  - name: worker-2
    capabilities: [work]
    max_concurrency: 2
    executor: {kind: process, argv: ["sh", "-c", "{instruction}"]}
"#;

/// A running server and how to reach it.
pub struct Server {
    pub url: String,
    pub token: String,
    /// The database `maos up` runs on.
    pub database_url: String,
    pub dir: tempfile::TempDir,
    child: Child,
    http: awc::Client,
}

/// An answer: status, the `Idempotent-Replayed` header, and the body as
/// JSON (`Null` when it isn't JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub replayed: bool,
    pub body: Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl Server {
    pub async fn start(database_url: String) -> Server {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("agents.yaml"), AGENTS).unwrap();
        // Port 0: the server takes a free port itself and says which. (A
        // port probed here first could be taken by another test's server
        // before this one binds it.)
        let mut child = Command::new(env!("CARGO_BIN_EXE_maos"))
            .args(["up", "--agents", "agents.yaml"])
            .args(["--http-addr", "127.0.0.1:0"])
            .args(["--database-url", &database_url])
            .current_dir(dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start maos up");
        let url = announced_url(child.stdout.take().expect("piped stdout")).await;
        let http = awc::Client::builder()
            .timeout(Duration::from_secs(60))
            .finish();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = http.get(format!("{url}/readyz")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "maos up did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let token = std::fs::read_to_string(dir.path().join(".maos/admin.token"))
            .expect("maos up wrote no admin token")
            .trim()
            .to_owned();
        Server {
            url,
            token,
            database_url,
            dir,
            child,
            http,
        }
    }

    /// Waits until the workflow a submission answered is running; returns
    /// its id.
    pub async fn running(&self, submitted: &Answer) -> String {
        let id = submitted.body["data"]["workflow_id"]
            .as_str()
            .unwrap_or_else(|| panic!("not a submission's answer: {:?}", submitted.body))
            .to_owned();
        self.eventually(&format!("/api/v1/workflows/{id}"), |d| {
            d["state"]["status"] == "running"
        })
        .await;
        id
    }

    /// Runs one statement on the server's database beside it (to set up a
    /// state no request can make); returns the rows it changed.
    pub async fn sql(&self, statement: &str, params: Vec<maos_projections::Cell>) -> u64 {
        let store = maos_store::Store::open(&self.database_url).await.unwrap();
        maos_projections::db::execute(&store, statement.to_owned(), params)
            .await
            .unwrap()
    }

    /// `path` with the admin token.
    pub async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, Some(&self.token.clone()), &[], None)
            .await
    }

    /// A JSON command with the admin token.
    pub async fn post_json(&self, path: &str, body: &Value) -> Answer {
        let bytes = serde_json::to_vec(body).unwrap();
        self.call(
            "POST",
            path,
            Some(&self.token.clone()),
            &[],
            Some(("application/json", bytes)),
        )
        .await
    }

    /// Any request.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<(&str, Vec<u8>)>,
    ) -> Answer {
        let method = awc::http::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = token {
            req = req.insert_header(("authorization", format!("Bearer {t}")));
        }
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let sent = match body {
            Some((content_type, bytes)) => {
                req.insert_header(("content-type", content_type))
                    .send_body(bytes)
                    .await
            }
            None => req.send().await,
        };
        let mut response = sent.expect("request failed");
        let status = response.status().as_u16();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let bytes = response.body().limit(64 << 20).await.unwrap();
        Answer {
            status,
            replayed,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// The log's head position: to prove a refused request appended nothing.
    pub async fn head(&self) -> u64 {
        let ready = self.call("GET", "/readyz", None, &[], None).await;
        ready.body["data"]["head_position"]
            .as_u64()
            .expect("no head position")
    }

    /// The value of one Prometheus sample on `/metrics` (`name{labels}`),
    /// once `until` holds for it (or 30 s pass).
    pub async fn metric(&self, sample: &str, until: impl Fn(f64) -> bool) -> f64 {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut response = self
                .http
                .get(format!("{}/metrics", self.url))
                .send()
                .await
                .expect("no /metrics");
            assert_eq!(response.status().as_u16(), 200, "/metrics refused");
            let text = String::from_utf8(response.body().await.unwrap().to_vec()).unwrap();
            let value = text
                .lines()
                .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok());
            if let Some(value) = value
                && until(value)
            {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "{sample} is {value:?} on /metrics:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Reads Server-Sent Events of `path` until `stop` says so (or 60 s
    /// pass); returns the `(id, event, data)` of each.
    pub async fn events(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        stop: impl Fn(&[(String, String, Value)]) -> bool,
    ) -> Vec<(String, String, Value)> {
        use futures_util::StreamExt;
        let mut req = self
            .http
            .get(format!("{}{path}", self.url))
            .insert_header(("authorization", format!("Bearer {}", self.token)));
        for (k, v) in headers {
            req = req.insert_header((*k, *v));
        }
        let mut response = req.send().await.expect("no event stream");
        assert_eq!(response.status().as_u16(), 200, "event stream refused");
        let mut seen = Vec::new();
        let mut buffer = String::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while !stop(&seen) {
            let chunk = tokio::time::timeout_at(deadline, response.next())
                .await
                .unwrap_or_else(|_| panic!("timed out on {path}; saw {seen:?}"))
                .expect("the event stream ended")
                .unwrap();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                let (mut id, mut event, mut data) = (String::new(), String::new(), Value::Null);
                for line in frame.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = v.to_owned();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = serde_json::from_str(v).unwrap_or(Value::Null);
                    }
                }
                if !event.is_empty() {
                    seen.push((id, event, data));
                }
            }
        }
        seen
    }

    /// Runs the `maos` command line against this server (finding the admin
    /// token in the data dir).
    pub fn cli(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_maos"))
            .args(["--url", &self.url])
            .args(args)
            .current_dir(self.dir.path())
            .env("RUST_LOG", "warn")
            .output()
            .expect("cannot run maos")
    }

    /// Runs the command line and parses its `--json` output.
    pub fn cli_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.cli(&all);
        assert!(
            out.status.success(),
            "maos {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "maos {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Waits until `check` holds for `GET path` (read models follow the
    /// log a moment later).
    pub async fn eventually(&self, path: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let answer = self.get(path).await;
            if answer.status == 200 && check(&answer.body["data"]) {
                return answer.body["data"].clone();
            }
            assert!(
                Instant::now() < deadline,
                "timed out on {path}: {:?}",
                answer.body
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn stop(mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }
}

/// The URL `maos up` prints once it listens. Its standard output is read
/// to the end on a thread of its own, so the pipe never fills or closes.
async fn announced_url(stdout: ChildStdout) -> String {
    use std::io::BufRead;
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(url) = line.strip_prefix("maos listening on ")
                && let Some(tx) = tx.take()
            {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(60), rx)
        .await
        .expect("maos up did not say where it listens within 60 s")
        .expect("maos up ended without saying where it listens")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
