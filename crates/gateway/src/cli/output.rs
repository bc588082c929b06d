//! Printing results: aligned tables for people, JSON for programs, colours
//! only when stdout is a terminal.

use serde_json::Value;
use std::io::IsTerminal;

/// Percent-encodes a query-string value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?a=1&b=2` from the pairs that have a value.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v))))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// The elements of a JSON array; none if `value` is not one.
pub fn items(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Prints `value` as pretty JSON.
pub fn json(value: &Value) {
    println!("{value:#}");
}

/// A cell of a JSON row as text (`-` for null or missing).
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "-".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Renders rows under headers, columns padded to fit.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let colour = std::io::stdout().is_terminal();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<String>, out: &mut String| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    let header_cells = headers.iter().map(|h| h.to_uppercase()).collect();
    line(header_cells, &mut out);
    for row in rows {
        let cells = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if colour && headers.get(i) == Some(&"status") {
                    paint(c)
                } else {
                    c.clone()
                }
            })
            .collect::<Vec<_>>();
        // Colour codes don't take room on screen: pad on the plain text.
        let padded: Vec<String> = cells
            .iter()
            .zip(row)
            .zip(&widths)
            .map(|((shown, plain), w)| {
                let pad = w.saturating_sub(plain.chars().count());
                format!("{shown}{}", " ".repeat(pad))
            })
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// A status in its colour.
fn paint(status: &str) -> String {
    let code = match status {
        "completed" => "32",
        "running" | "assigned" | "started" => "36",
        "failed" | "cancelled" | "timed_out" => "31",
        "escalated" | "retry_waiting" => "33",
        "skipped" => "35",
        _ => return status.to_owned(),
    };
    format!("\x1b[{code}m{status}\x1b[0m")
}

/// Milliseconds as `12ms`, `1.2s`, `3m04s`, `2h05m`: sub-second tasks
/// (most of a scripted workflow's) keep their milliseconds.
pub fn duration(ms: &Value) -> String {
    let Some(ms) = ms.as_i64() else {
        return "-".to_owned();
    };
    if ms < 1_000 {
        format!("{}ms", ms.max(0))
    } else if ms < 60_000 {
        // Tenths cut, not rounded: 59,999 ms is not yet a minute.
        format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms % 60_000) / 1000)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms % 3_600_000) / 60_000)
    }
}

/// The first 8 characters of an id.
pub fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

/// A workflow state's tasks as a table; agent ids cut to 8 characters when
/// `short_ids`.
pub fn task_table(state: &Value, short_ids: bool) -> String {
    let rows: Vec<Vec<String>> = state["tasks"]
        .as_object()
        .map(|tasks| {
            tasks
                .iter()
                .map(|(id, t)| {
                    // Who holds it now, else who had it last.
                    let agent = match &t["assignee"] {
                        Value::Null => cell(&t["last_agent"]),
                        held => cell(held),
                    };
                    vec![
                        id.clone(),
                        cell(&t["status"]),
                        cell(&t["spec"]["capability"]),
                        if short_ids { short(&agent) } else { agent },
                        cell(&t["attempt"]),
                        cell(&t["last_error"]),
                    ]
                })
                .collect()
        })
        .unwrap_or_default();
    table(
        &[
            "task",
            "status",
            "capability",
            "agent",
            "attempt",
            "last error",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::{duration, task_table};
    use serde_json::json;

    #[test]
    fn durations_keep_the_precision_their_size_needs() {
        let shown = [
            0, 12, 999, 1_000, 1_250, 59_999, 60_000, 184_000, 3_600_000, 7_500_000,
        ]
        .map(|ms| duration(&json!(ms)));
        assert_eq!(
            shown,
            [
                "0ms", "12ms", "999ms", "1.0s", "1.2s", "59.9s", "1m00s", "3m04s", "1h00m", "2h05m"
            ]
        );
        assert_eq!(duration(&json!(null)), "-");
    }

    #[test]
    fn the_task_table_names_the_agent_holding_a_task_or_the_last_one() {
        let state = json!({"tasks": {
            "build": {"status": "completed", "assignee": null, "last_agent": "aaaaaaaa-1111",
                      "spec": {"capability": "backend"}, "attempt": 1, "last_error": null},
            "test": {"status": "running", "assignee": "bbbbbbbb-2222", "last_agent": "bbbbbbbb-2222",
                     "spec": {"capability": "qa"}, "attempt": 1, "last_error": null},
            "ship": {"status": "pending", "assignee": null, "last_agent": null,
                     "spec": {"capability": "release"}, "attempt": 0, "last_error": null},
        }});
        let table = task_table(&state, true);
        let line = |task: &str| {
            table
                .lines()
                .find(|l| l.starts_with(task))
                .unwrap_or_else(|| panic!("no {task} in {table}"))
                .split_whitespace()
                .nth(3)
                .unwrap()
                .to_owned()
        };
        assert_eq!(line("build"), "aaaaaaaa");
        assert_eq!(line("test"), "bbbbbbbb");
        assert_eq!(line("ship"), "-");
    }
}
