//! Workflow specs from YAML or JSON text (JSON is read as YAML, which it is
//! a subset of), with errors that name the task and the field at fault.

use crate::Error;
use maos_domain::workflow::{WorkflowSpec, validate_spec};

/// Parses and validates a workflow spec.
///
/// A shape error reads like `task "build" (tasks[1]): field on_exhausted:
/// unknown variant `retry`, expected `fail` or `escalate` at line 9 column
/// 19`; a rule error like `task "test" needs unknown task "biuld"`.
pub fn parse_workflow_spec(text: &str) -> Result<WorkflowSpec, Error> {
    let spec: WorkflowSpec =
        serde_norway::from_str(text).map_err(|e| Error::Spec(locate(text, &e.to_string())))?;
    validate_spec(&spec).map_err(|e| Error::Spec(e.to_string()))?;
    Ok(spec)
}

/// Rewrites a `tasks[i].field: …` message to name the task by its id.
fn locate(text: &str, message: &str) -> String {
    let Some(rest) = message.strip_prefix("tasks[") else {
        return message.to_owned();
    };
    let Some((index, rest)) = rest.split_once(']') else {
        return message.to_owned();
    };
    let Ok(index) = index.parse::<usize>() else {
        return message.to_owned();
    };
    let task_id = serde_norway::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v["tasks"][index]["id"].as_str().map(str::to_owned));
    let place = match task_id {
        Some(id) => format!("task \"{id}\" (tasks[{index}])"),
        None => format!("task #{index} (tasks[{index}])"),
    };
    match rest.strip_prefix('.') {
        Some(field_and_reason) => match field_and_reason.split_once(": ") {
            Some((field, reason)) => format!("{place}: field {field}: {reason}"),
            None => format!("{place}: {field_and_reason}"),
        },
        None => format!("{place}{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_workflow_spec(text).unwrap_err().to_string()
    }

    #[test]
    fn it_parses_yaml_and_json_alike() {
        let yaml =
            "name: demo\ntasks:\n  - id: a\n    capability: shell\n    instruction: echo hi\n";
        let json =
            r#"{"name":"demo","tasks":[{"id":"a","capability":"shell","instruction":"echo hi"}]}"#;
        assert_eq!(
            parse_workflow_spec(yaml).unwrap(),
            parse_workflow_spec(json).unwrap()
        );
    }

    #[test]
    fn it_names_the_task_and_field_of_a_shape_error() {
        let text = "name: demo\ntasks:\n  - id: a\n    capability: shell\n    instruction: x\n  - id: build\n    capability: shell\n    instruction: x\n    on_exhausted: retry\n";
        let message = err(text);
        assert!(
            message
                .contains("task \"build\" (tasks[1]): field on_exhausted: unknown variant `retry`"),
            "{message}"
        );
    }

    #[test]
    fn it_refuses_unknown_fields() {
        let text = "name: demo\ntasks:\n  - id: a\n    capability: shell\n    instruction: x\n    retires: 3\n";
        let message = err(text);
        assert!(message.contains("task \"a\" (tasks[0])"), "{message}");
        assert!(message.contains("unknown field `retires`"), "{message}");
    }

    #[test]
    fn it_refuses_rule_breaking_specs_precisely() {
        let cycle = "name: c\ntasks:\n  - {id: a, capability: s, instruction: x, needs: [b]}\n  - {id: b, capability: s, instruction: x, needs: [a]}\n";
        assert!(
            err(cycle).contains("tasks form a cycle: a -> b -> a"),
            "{}",
            err(cycle)
        );
        let unknown = "name: u\ntasks:\n  - {id: a, capability: s, instruction: x, needs: [zz]}\n";
        assert!(err(unknown).contains("task \"a\" needs unknown task \"zz\""));
        let dup = "name: d\ntasks:\n  - {id: a, capability: s, instruction: x}\n  - {id: a, capability: s, instruction: y}\n";
        assert!(err(dup).contains("task id \"a\" is used more than once"));
    }

    #[test]
    fn it_reports_malformed_text() {
        assert!(err("name: [unclosed").starts_with("invalid workflow spec:"));
    }
}
