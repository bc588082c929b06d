//! The command line's HTTP client: finds the server (or starts an embedded
//! one in-process when none answers), authenticates with the data dir's
//! admin token unless given another, and turns error answers into one line.

use crate::cli::Ctx;
use crate::service::{Mode, Service};
use anyhow::{Context, anyhow};
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;

/// Largest answer read into memory (audit exports stream line by line).
const MAX_ANSWER: usize = 256 << 20;

/// A connection to a maos server.
pub struct Client {
    http: awc::Client,
    base: String,
    token: Option<String>,
    /// The in-process server, when none was running.
    embedded: Option<Service>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("embedded", &self.embedded.is_some())
            .finish()
    }
}

/// One Server-Sent Event.
#[derive(Debug, Clone, Default)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: String,
    pub data: String,
}

impl Client {
    /// Talks to the server at `settings.url`; if nothing answers there and
    /// the URL was not given explicitly, starts an embedded service
    /// in-process (with a node when `mode` is [`Mode::Full`]).
    pub async fn connect(ctx: &Ctx, mode: Mode) -> anyhow::Result<Client> {
        let settings = &ctx.settings;
        let http = awc::Client::builder()
            .timeout(Duration::from_secs(600))
            .finish();
        let answers = !ctx.embedded
            && http
                .get(format!("{}/healthz", settings.url))
                .timeout(Duration::from_millis(800))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
        let (base, embedded) = match answers {
            true => (settings.url.clone(), None),
            false if ctx.url_explicit && !ctx.embedded => {
                return Err(anyhow!("no maos server answers at {}", settings.url));
            }
            false => {
                let service = Service::start(settings, mode, ([127, 0, 0, 1], 0).into()).await?;
                (format!("http://{}", service.server.addr), Some(service))
            }
        };
        let token = match &settings.token {
            Some(t) => Some(t.clone()),
            None => {
                std::fs::read_to_string(settings.data_dir.join(crate::server::ADMIN_TOKEN_FILE))
                    .ok()
                    .map(|t| t.trim().to_owned())
            }
        };
        Ok(Client {
            http,
            base,
            token,
            embedded,
        })
    }

    /// Whether the server runs in this process.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Stops the embedded server, if any.
    pub async fn close(self) {
        if let Some(service) = self.embedded {
            service.stop().await;
        }
    }

    fn request(&self, method: awc::http::Method, path: &str) -> awc::ClientRequest {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        req
    }

    /// `GET path` → the answer's `{data, meta}`.
    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .request(awc::http::Method::GET, path)
            .send()
            .await
            .map_err(|e| anyhow!("GET {path}: {e}"))?;
        answer(response).await
    }

    /// A command with a JSON body (or none) → the answer's `{data, meta}`.
    pub async fn send_json(
        &self,
        method: awc::http::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let req = self.request(method.clone(), path);
        let response = match body {
            Some(b) => req.send_json(b).await,
            None => req.send().await,
        }
        .map_err(|e| anyhow!("{method} {path}: {e}"))?;
        answer(response).await
    }

    /// A command whose body is a file's text (YAML or JSON).
    pub async fn send_text(&self, path: &str, text: String, yaml: bool) -> anyhow::Result<Value> {
        let content_type = if yaml {
            "application/yaml"
        } else {
            "application/json"
        };
        let response = self
            .request(awc::http::Method::POST, path)
            .content_type(content_type)
            .send_body(text)
            .await
            .map_err(|e| anyhow!("POST {path}: {e}"))?;
        answer(response).await
    }

    /// The raw body of `GET path`.
    pub async fn get_raw(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        let mut response = self
            .request(awc::http::Method::GET, path)
            .send()
            .await
            .map_err(|e| anyhow!("GET {path}: {e}"))?;
        if !response.status().is_success() {
            return answer(response).await.map(|_| Vec::new());
        }
        Ok(response.body().limit(MAX_ANSWER).await?.to_vec())
    }

    /// Follows a Server-Sent Events stream, calling `on_event` for each
    /// event until it returns `false` or the stream ends.
    pub async fn follow(
        &self,
        method: awc::http::Method,
        path: &str,
        mut on_event: impl FnMut(SseEvent) -> bool,
    ) -> anyhow::Result<()> {
        let mut response = self
            .request(method.clone(), path)
            .insert_header(("accept", "text/event-stream"))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| anyhow!("{method} {path}: {e}"))?;
        if !response.status().is_success() {
            return answer(response).await.map(|_| ());
        }
        let mut buffer = String::new();
        while let Some(chunk) = response.next().await {
            let chunk = chunk.context("the event stream broke")?;
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let frame: String = buffer.drain(..end + 2).collect();
                if let Some(event) = parse_frame(&frame)
                    && !on_event(event)
                {
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

fn parse_frame(frame: &str) -> Option<SseEvent> {
    let mut event = SseEvent {
        event: "message".to_owned(),
        ..SseEvent::default()
    };
    let mut any = false;
    for line in frame.lines() {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        any = true;
        match field {
            "id" => event.id = Some(value.to_owned()),
            "event" => event.event = value.to_owned(),
            "data" => {
                if !event.data.is_empty() {
                    event.data.push('\n');
                }
                event.data.push_str(value);
            }
            _ => {}
        }
    }
    any.then_some(event)
}

/// `{data, meta}` of a success; one line `CODE: message` of an error.
async fn answer<S>(mut response: awc::ClientResponse<S>) -> anyhow::Result<Value>
where
    S: futures_util::Stream<Item = Result<actix_web::web::Bytes, awc::error::PayloadError>> + Unpin,
{
    let status = response.status();
    let body = response
        .body()
        .limit(MAX_ANSWER)
        .await
        .map_err(|e| anyhow!("reading the answer: {e}"))?;
    let value: Value = serde_json::from_slice(&body)
        .map_err(|_| anyhow!("HTTP {status}: {}", String::from_utf8_lossy(&body)))?;
    if status.is_success() {
        return Ok(value);
    }
    let code = value["error"]["code"].as_str().unwrap_or("ERROR");
    let message = value["error"]["message"].as_str().unwrap_or("no message");
    Err(anyhow!("{code}: {message}"))
}
