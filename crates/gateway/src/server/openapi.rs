//! The OpenAPI 3.1 document, made from the route table and the types'
//! JSON Schemas (2020-12, which OpenAPI 3.1 uses as is).

use super::auth::Access;
use super::routes::{Answer, ENDPOINTS, Endpoint};
use actix_web::HttpResponse;
use schemars::generate::SchemaSettings;
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
    let mut generator = settings.into_generator();
    let mut paths = Map::new();
    for e in ENDPOINTS {
        let item = paths.entry(e.path.to_owned()).or_insert_with(|| json!({}));
        item[e.method.to_ascii_lowercase()] = operation(e, &mut generator);
    }
    let mut schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
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
        let schema = (body.schema)(generator);
        let mut content = json!({"application/json": {"schema": schema}});
        if body.yaml {
            content["application/yaml"] = json!({"schema": schema});
        }
        op["requestBody"] = json!({"required": body.required, "content": content});
    }
    op
}

fn responses(e: &Endpoint, generator: &mut schemars::SchemaGenerator) -> Value {
    let (status, success) = match e.answer {
        Answer::Data { status, schema } => (
            status,
            json!({"description": "OK", "content": {"application/json": {"schema": {
                "type": "object", "required": ["data", "meta"],
                "properties": {"data": schema(generator), "meta": {"$ref": "#/components/schemas/Meta"}},
            }}}}),
        ),
        Answer::Page { schema } => (
            200,
            json!({"description": "One page; `meta.next` continues it", "content": {"application/json": {"schema": {
                "type": "object", "required": ["data", "meta"],
                "properties": {
                    "data": {"type": "array", "items": schema(generator)},
                    "meta": {"$ref": "#/components/schemas/Meta"},
                },
            }}}}),
        ),
        Answer::EventStream => (
            200,
            json!({"description": "Server-Sent Events", "content": {"text/event-stream": {"schema": {"type": "string"}}}}),
        ),
        Answer::Raw { content_type } => (
            200,
            json!({"description": "OK", "content": {content_type: {"schema": {"type": "string"}}}}),
        ),
    };
    let error = json!({"description": "See `error.code`", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}});
    let mut out = Map::new();
    out.insert(status.to_string(), success);
    out.insert("4XX".to_owned(), error.clone());
    out.insert("5XX".to_owned(), error);
    Value::Object(out)
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
