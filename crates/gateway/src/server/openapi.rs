//! The OpenAPI 3.1 document, made from the route table and the types'
//! JSON Schemas (2020-12, which OpenAPI 3.1 uses as is). A schema that
//! allows anything is written `{}` rather than `true`: the two mean the
//! same, and more OpenAPI tools read the first.

use super::auth::Access;
use super::routes::{Answer, ENDPOINTS, Endpoint, SchemaFn};
use actix_web::HttpResponse;
use schemars::generate::SchemaSettings;
use schemars::transform::{ReplaceBoolSchemas, Transform};
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

static DOCUMENT: LazyLock<Value> = LazyLock::new(document);

/// `GET /api/v1/openapi.json`
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(&*DOCUMENT)
}

/// The whole document.
pub fn document() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.transforms.push(Box::new(object_schemas()));
    let mut generator = settings.into_generator();
    let mut paths = Map::new();
    for e in ENDPOINTS {
        let item = paths.entry(e.path.to_owned()).or_insert_with(|| json!({}));
        item[e.method.to_ascii_lowercase()] = operation(e, &mut generator);
    }
    let mut schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    add_spec_rules(&mut schemas);
    schemas.insert("Error".to_owned(), error_schema());
    schemas.insert("Meta".to_owned(), meta_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "maos API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Commands, queries and live events of a maos node. Answers are \
                `{data, meta}`; errors are `{error: {code, message, details}, meta: {request_id, timestamp}}`. \
                Commands take an `Idempotency-Key` header; a repeat with the same key gets the first answer.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    })
}

fn operation(e: &Endpoint, generator: &mut schemars::SchemaGenerator) -> Value {
    let mut parameters: Vec<Value> = path_parameters(e.path)
        .into_iter()
        .map(|name| {
            json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
        })
        .collect();
    for (name, description) in e.query {
        parameters.push(json!({
            "name": name, "in": "query", "required": false,
            "description": description, "schema": {"type": "string"},
        }));
    }
    let mut op = json!({
        "operationId": e.operation_id,
        "summary": e.summary,
        "tags": [e.tag],
        "parameters": parameters,
        "responses": responses(e, generator),
    });
    match e.access {
        Access::Public => op["security"] = json!([]),
        Access::Role(role) => {
            op["description"] = json!(format!(
                "Needs a token with the {} role or above.",
                role.as_str()
            ));
        }
    }
    if e.method != "GET" {
        op["parameters"]
            .as_array_mut()
            .expect("parameters is an array")
            .push(json!({
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "a repeat with the same key gets the first answer and changes nothing",
                "schema": {"type": "string"},
            }));
    }
    if let Some(body) = e.body {
        let schema = schema_of(body.schema, generator);
        let mut content = json!({"application/json": {"schema": schema}});
        if body.yaml {
            content["application/yaml"] = json!({"schema": schema});
        }
        op["requestBody"] = json!({"required": body.required, "content": content});
    }
    op
}

fn responses(e: &Endpoint, generator: &mut schemars::SchemaGenerator) -> Value {
    let (status, mut success) = match e.answer {
        Answer::Data { status, schema } => (
            status,
            json!({"description": "OK", "content": {"application/json": {"schema": {
                "type": "object", "required": ["data", "meta"],
                "properties": {"data": schema_of(schema, generator), "meta": {"$ref": "#/components/schemas/Meta"}},
            }}}}),
        ),
        Answer::Page { schema } => (
            200,
            json!({"description": "One page; `meta.next` continues it", "content": {"application/json": {"schema": {
                "type": "object", "required": ["data", "meta"],
                "properties": {
                    "data": {"type": "array", "items": schema_of(schema, generator)},
                    "meta": {"$ref": "#/components/schemas/Meta"},
                },
            }}}}),
        ),
        Answer::EventStream => (
            200,
            json!({"description": "Server-Sent Events", "content": {"text/event-stream": {"schema": server_sent_event()}}}),
        ),
        Answer::Raw { content_type } => (
            200,
            json!({"description": "OK", "content": {content_type: {"schema": raw_schema(content_type)}}}),
        ),
    };
    let error = json!({"description": "See `error.code`", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}});
    let links = links_from(e.operation_id);
    if !links.is_empty() {
        success["links"] = Value::Object(links);
    }
    let mut out = Map::new();
    out.insert(status.to_string(), success);
    out.insert("4XX".to_owned(), error.clone());
    out.insert("5XX".to_owned(), error);
    Value::Object(out)
}

/// Where an answer's ids lead: (the operation answering, the operation
/// whose `id` path parameter it fills, where that id is in the answer). A
/// client, or a test generator, follows these from a new workflow, agent
/// or token to everything that takes its id.
const LINKS: &[(&str, &str, &str)] = &[
    ("submitWorkflow", "showWorkflow", NEW_WORKFLOW),
    ("submitWorkflow", "workflowEvents", NEW_WORKFLOW),
    ("submitWorkflow", "workflowCheckpoints", NEW_WORKFLOW),
    ("submitWorkflow", "stateAsOf", NEW_WORKFLOW),
    ("submitWorkflow", "cancelWorkflow", NEW_WORKFLOW),
    ("submitWorkflow", "forkWorkflow", NEW_WORKFLOW),
    ("forkWorkflow", "showWorkflow", NEW_WORKFLOW),
    (
        "workflowEvents",
        "causationTree",
        "$response.body#/data/0/id",
    ),
    ("registerAgent", "showAgent", NEW_AGENT),
    ("registerAgent", "updateAgent", NEW_AGENT),
    ("registerAgent", "retireAgent", NEW_AGENT),
    ("createToken", "revokeToken", "$response.body#/data/id"),
];

const NEW_WORKFLOW: &str = "$response.body#/data/workflow_id";
const NEW_AGENT: &str = "$response.body#/data/agent_id";

/// The success answer's links of one operation.
fn links_from(operation_id: &str) -> Map<String, Value> {
    LINKS
        .iter()
        .filter(|(from, _, _)| *from == operation_id)
        .map(|&(_, to, id)| {
            let link = json!({"operationId": to, "parameters": {"id": id}});
            (to.to_owned(), link)
        })
        .collect()
}

/// The rules a submitted spec is checked against (`validate_spec`) that
/// a schema can say, by definition and property. They go into this
/// document only: the event catalogue's schemas stay as they were
/// recorded, at their versions.
fn spec_rules() -> [(&'static str, &'static str, Value); 9] {
    use maos_domain::workflow::{
        BACKOFF_MULTIPLIER_PERCENT, MAX_BACKOFF_MS, MAX_RETRIES, MAX_TASK_ID_LEN, MAX_TASKS,
        MAX_TIMEOUT_SECS,
    };
    let not_blank = json!({"pattern": "\\S"});
    [
        ("WorkflowSpec", "name", not_blank.clone()),
        (
            "WorkflowSpec",
            "tasks",
            json!({"minItems": 1, "maxItems": MAX_TASKS}),
        ),
        (
            "TaskSpec",
            "id",
            json!({"minLength": 1, "maxLength": MAX_TASK_ID_LEN, "pattern": "^[A-Za-z0-9_-]+$"}),
        ),
        ("TaskSpec", "capability", not_blank.clone()),
        ("TaskSpec", "instruction", not_blank),
        (
            "TaskSpec",
            "timeout_secs",
            json!({"minimum": 1, "maximum": MAX_TIMEOUT_SECS}),
        ),
        (
            "RetryPolicy",
            "max_retries",
            json!({"maximum": MAX_RETRIES}),
        ),
        (
            "RetryPolicy",
            "backoff_multiplier_percent",
            json!({"minimum": BACKOFF_MULTIPLIER_PERCENT.start(), "maximum": BACKOFF_MULTIPLIER_PERCENT.end()}),
        ),
        (
            "RetryPolicy",
            "backoff_max_ms",
            json!({"maximum": MAX_BACKOFF_MS}),
        ),
    ]
}

/// Writes [`spec_rules`] into the spec's definitions.
fn add_spec_rules(schemas: &mut Map<String, Value>) {
    for (definition, property, rules) in spec_rules() {
        let schema = schemas
            .get_mut(definition)
            .and_then(|d| d.pointer_mut(&format!("/properties/{property}")))
            .and_then(Value::as_object_mut)
            .unwrap_or_else(|| panic!("the spec's schema has no {definition}.{property}"));
        let Value::Object(rules) = rules else {
            panic!("the rules of {definition}.{property} are not an object");
        };
        schema.extend(rules);
    }
}

/// Boolean schemas (`true`, `false`) as objects, but for
/// `additionalProperties: false`, which every tool reads.
fn object_schemas() -> ReplaceBoolSchemas {
    let mut transform = ReplaceBoolSchemas::default();
    transform.skip_additional_properties = true;
    transform
}

/// A type's schema, written as the document's definitions are.
fn schema_of(schema: SchemaFn, generator: &mut schemars::SchemaGenerator) -> Value {
    let mut schema = schema(generator);
    object_schemas().transform(&mut schema);
    schema.into()
}

/// One event of a stream, as a client's SSE parser gives it (the stream's
/// bytes are these fields as `name: value` lines).
fn server_sent_event() -> Value {
    json!({
        "type": "object", "required": ["data"],
        "properties": {
            "event": {"type": "string", "description": "the event's name: its event type on the live streams; `progress`, then `done`, for a rebuild; `error` when the stream fails"},
            "data": {"type": "string", "description": "JSON"},
            "id": {"type": "string", "description": "on the live streams, the event's position in the log: send it back as `Last-Event-ID` to resume after it"},
        },
    })
}

/// The body of a route with its own content type: a JSON document is an
/// object, anything else text.
fn raw_schema(content_type: &str) -> Value {
    if content_type == "application/json" {
        json!({"type": "object"})
    } else {
        json!({"type": "string"})
    }
}

fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

fn meta_schema() -> Value {
    json!({
        "type": "object", "required": ["request_id", "timestamp"],
        "properties": {
            "request_id": {"type": "string"},
            "timestamp": {"type": "string", "format": "date-time"},
            "next": {"type": "string", "description": "cursor of the next page"},
        },
    })
}

fn error_schema() -> Value {
    json!({
        "type": "object", "required": ["error", "meta"],
        "properties": {
            "error": {
                "type": "object", "required": ["code", "message", "details"],
                "properties": {
                    "code": {"type": "string", "description": "stable, machine-readable: WORKFLOW_NOT_FOUND, ILLEGAL_TRANSITION, …"},
                    "message": {"type": "string"},
                    "details": {"type": "object"},
                },
            },
            "meta": {"$ref": "#/components/schemas/Meta"},
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where a boolean is a flag rather than a schema.
    const FLAGS: &[&str] = &["required", "additionalProperties", "uniqueItems"];

    /// The paths of the document's boolean schemas.
    fn boolean_schemas(value: &Value, path: &str, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    if child.is_boolean() && !FLAGS.contains(&key.as_str()) {
                        found.push(format!("{path}/{key}"));
                    }
                    boolean_schemas(child, &format!("{path}/{key}"), found);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    if child.is_boolean() {
                        found.push(format!("{path}/{i}"));
                    }
                    boolean_schemas(child, &format!("{path}/{i}"), found);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn a_schema_that_allows_anything_is_an_empty_object() {
        let document = document();
        let mut found = Vec::new();
        boolean_schemas(&document, "", &mut found);
        assert_eq!(found, Vec::<String>::new());
        // A field of any JSON: a workflow's input.
        let input = &document["components"]["schemas"]["WorkflowState"]["properties"]["input"];
        assert_eq!(input, &json!({}));
    }

    #[test]
    fn the_document_and_the_event_streams_are_described_as_what_they_send() {
        let document = document();
        let ok = |path: &str, method: &str| {
            document["paths"][path][method]["responses"]["200"]["content"].clone()
        };
        assert_eq!(
            ok("/api/v1/openapi.json", "get")["application/json"]["schema"]["type"],
            "object"
        );
        assert_eq!(
            ok("/metrics", "get")["text/plain"]["schema"]["type"],
            "string"
        );
        for (path, method) in [
            ("/api/v1/events/live", "get"),
            ("/api/v1/workflows/{id}/live", "get"),
            ("/api/v1/projections/{name}/rebuild", "post"),
        ] {
            let event = &ok(path, method)["text/event-stream"]["schema"];
            assert_eq!(event["type"], "object", "{path}");
            assert_eq!(event["properties"]["data"]["type"], "string", "{path}");
        }
        // A workflow's events are recorded envelopes, every field required.
        let items = &ok("/api/v1/workflows/{id}/events", "get")["application/json"]["schema"]["properties"]
            ["data"]["items"];
        let name = items["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_else(|| panic!("events are not a named schema: {items}"));
        let envelope = &document["components"]["schemas"][name];
        let mut required: Vec<&str> = envelope["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{name} requires nothing: {envelope}"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        required.sort_unstable();
        assert_eq!(
            required,
            [
                "data",
                "id",
                "metadata",
                "position",
                "source",
                "stream",
                "timestamp",
                "type",
                "version"
            ]
        );
    }

    #[test]
    fn an_agent_is_registered_with_its_definition_and_an_executor_kind() {
        let document = document();
        let body = &document["paths"]["/api/v1/agents"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        let name = body["$ref"]
            .as_str()
            .and_then(|r| r.strip_prefix("#/components/schemas/"))
            .unwrap_or_else(|| panic!("the agent body is not a named schema: {body}"));
        let agent = &document["components"]["schemas"][name];
        assert_eq!(agent["additionalProperties"], false, "{agent}");
        assert_eq!(
            agent["required"],
            json!(["name", "capabilities", "executor"]),
            "{agent}"
        );
        let executor = &agent["properties"]["executor"];
        assert_eq!(executor["type"], "object");
        assert_eq!(executor["required"], json!(["kind"]));
        assert_eq!(executor["properties"]["kind"]["type"], "string");

        // The documented rules are the ones registration enforces: at a
        // bound it passes, one past it it is refused.
        use maos_domain::agent::{AgentCommand, AgentState, decide};
        let register = |name: &str, capabilities: &[&str], max_concurrency: u64| {
            decide(
                &AgentState::default(),
                AgentCommand::Register {
                    agent_id: maos_domain::AgentId(uuid::Uuid::nil()),
                    name: name.to_owned(),
                    capabilities: capabilities
                        .iter()
                        .map(|c| maos_domain::Capability((*c).to_owned()))
                        .collect(),
                    max_concurrency: u32::try_from(max_concurrency).unwrap(),
                    executor: json!({"kind": "instant"}),
                    now: chrono::Utc::now(),
                },
            )
            .map(|_| ())
        };
        let property = |name: &str| &agent["properties"][name];
        let most = property("max_concurrency")["maximum"].as_u64().unwrap();
        let least = property("max_concurrency")["minimum"].as_u64().unwrap();
        assert_eq!(register("a", &["c"], most), Ok(()));
        assert!(register("a", &["c"], most + 1).is_err());
        assert_eq!(register("a", &["c"], least), Ok(()));
        assert!(register("a", &["c"], least - 1).is_err());
        assert_eq!(property("name")["pattern"], "\\S");
        assert!(register(" ", &["c"], 1).is_err());
        assert_eq!(property("capabilities")["minItems"], 1);
        assert!(register("a", &[], 1).is_err());
        assert_eq!(property("capabilities")["items"]["pattern"], "\\S");
        assert!(register("a", &["c", " "], 1).is_err());
    }

    #[test]
    fn every_link_leads_from_an_operation_to_the_id_of_another() {
        let endpoint = |id: &str| ENDPOINTS.iter().find(|e| e.operation_id == id);
        for &(from, to, _) in LINKS {
            assert!(endpoint(from).is_some(), "no operation {from}");
            let to_path = endpoint(to)
                .unwrap_or_else(|| panic!("no operation {to}"))
                .path;
            assert!(
                path_parameters(to_path).contains(&"id"),
                "{to} has no path parameter id"
            );
        }
        let document = document();
        let submitted = &document["paths"]["/api/v1/workflows"]["post"]["responses"]["201"];
        assert_eq!(
            submitted["links"]["cancelWorkflow"],
            json!({"operationId": "cancelWorkflow", "parameters": {"id": NEW_WORKFLOW}})
        );
    }

    /// A spec at every documented bound passes the validator, and one step
    /// past any bound fails it: the document's rules are the validator's.
    #[test]
    fn the_documented_spec_rules_are_the_validators() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        let rule = |definition: &str, property: &str, keyword: &str| {
            schemas[definition]["properties"][property][keyword].clone()
        };
        let spec = |task: Value| -> Result<(), String> {
            let spec: maos_domain::workflow::WorkflowSpec =
                serde_json::from_value(json!({"name": "n", "tasks": [task]}))
                    .map_err(|e| e.to_string())?;
            maos_domain::workflow::validate_spec(&spec).map_err(|e| e.to_string())
        };
        let with = |field: &str, value: Value| {
            let mut task = json!({"id": "t", "capability": "c", "instruction": "i"});
            let (head, tail) = field
                .split_once('.')
                .map_or((field, None), |(h, t)| (h, Some(t)));
            match tail {
                None => task[head] = value,
                Some(inner) => task[head] = json!({ inner: value }),
            }
            task
        };
        let number = |v: &Value| v.as_u64().expect("a documented bound is a number");

        let longest = number(&rule("TaskSpec", "id", "maxLength")) as usize;
        assert_eq!(spec(with("id", json!("a".repeat(longest)))), Ok(()));
        assert!(spec(with("id", json!("a".repeat(longest + 1)))).is_err());
        assert!(spec(with("id", json!("a b"))).is_err());

        for (field, definition, property) in [
            ("timeout_secs", "TaskSpec", "timeout_secs"),
            ("retries.max_retries", "RetryPolicy", "max_retries"),
            (
                "retries.backoff_multiplier_percent",
                "RetryPolicy",
                "backoff_multiplier_percent",
            ),
        ] {
            let most = number(&rule(definition, property, "maximum"));
            let least = number(&rule(definition, property, "minimum"));
            assert_eq!(spec(with(field, json!(most))), Ok(()), "{field} = {most}");
            assert!(
                spec(with(field, json!(most + 1))).is_err(),
                "{field} = {}",
                most + 1
            );
            if least > 0 {
                assert_eq!(spec(with(field, json!(least))), Ok(()), "{field} = {least}");
                assert!(
                    spec(with(field, json!(least - 1))).is_err(),
                    "{field} = {}",
                    least - 1
                );
            }
        }
        // backoff_max_ms also bounds backoff_initial_ms (1,000 by default).
        let most = number(&rule("RetryPolicy", "backoff_max_ms", "maximum"));
        assert_eq!(spec(with("retries.backoff_max_ms", json!(most))), Ok(()));
        assert!(spec(with("retries.backoff_max_ms", json!(most + 1))).is_err());

        assert!(spec(with("capability", json!("  "))).is_err());
        assert_eq!(rule("TaskSpec", "capability", "pattern"), "\\S");
        assert_eq!(rule("WorkflowSpec", "tasks", "minItems"), 1);
    }
}
