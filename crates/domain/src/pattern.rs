//! Event type patterns, as people write them (`workflows.task.*`,
//! `agents.>`), and their translations: a NATS subject filter, an AMQP
//! binding key, an SQL condition.

use crate::NameError;

/// A pattern over event types: dot-separated segments, where `*` matches
/// exactly one segment and a final `>` (or `#`) matches one or more. A
/// pattern without wildcards matches one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypePattern {
    segments: Vec<String>,
    /// The last segment was `>`/`#`.
    open_ended: bool,
}

impl TypePattern {
    /// Parses a pattern.
    pub fn parse(pattern: &str) -> Result<TypePattern, NameError> {
        let fail = |reason| NameError::TypePattern {
            pattern: pattern.to_owned(),
            reason,
        };
        if pattern.is_empty() {
            return Err(fail("it is empty"));
        }
        let mut segments: Vec<String> = pattern.split('.').map(str::to_owned).collect();
        let open_ended = matches!(segments.last().map(String::as_str), Some(">" | "#"));
        if open_ended {
            segments.pop();
        }
        for s in &segments {
            let literal = !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !(literal || s == "*") {
                return Err(fail(
                    "segments are lower snake case or '*'; only the last may be '>' or '#'",
                ));
            }
        }
        Ok(TypePattern {
            segments,
            open_ended,
        })
    }

    /// The pattern that matches every type.
    pub fn all() -> TypePattern {
        TypePattern {
            segments: Vec::new(),
            open_ended: true,
        }
    }

    /// Whether `event_type` matches.
    pub fn matches(&self, event_type: &str) -> bool {
        let parts: Vec<&str> = event_type.split('.').collect();
        let fixed_ok = self
            .segments
            .iter()
            .zip(&parts)
            .all(|(p, t)| p == "*" || p == t);
        let len_ok = if self.open_ended {
            parts.len() > self.segments.len()
        } else {
            parts.len() == self.segments.len()
        };
        fixed_ok && len_ok
    }

    /// The NATS subject filter under `prefix` (e.g. `maos.events`).
    pub fn nats_subject(&self, prefix: &str) -> String {
        self.render(prefix, ">")
    }

    /// The AMQP topic binding key (routing keys are the bare types).
    pub fn amqp_binding_key(&self) -> String {
        self.render("", "#")
    }

    /// The pattern as SQL: a `LIKE` pattern (escape character backslash,
    /// which guards the `_` of type names), the number of dots a matching
    /// type has, and whether that number is a minimum (open-ended pattern)
    /// rather than exact. `*` becomes `%`; the dot count keeps it to one
    /// segment.
    pub fn sql_like(&self) -> (String, usize, bool) {
        let mut parts: Vec<String> = self
            .segments
            .iter()
            .map(|s| {
                if s == "*" {
                    "%".to_owned()
                } else {
                    s.replace('_', "\\_")
                }
            })
            .collect();
        if self.open_ended {
            parts.push("%".to_owned());
        }
        let dots = parts.len().saturating_sub(1);
        (parts.join("."), dots, self.open_ended)
    }

    fn render(&self, prefix: &str, rest: &str) -> String {
        let mut parts: Vec<&str> = Vec::new();
        if !prefix.is_empty() {
            parts.push(prefix);
        }
        parts.extend(self.segments.iter().map(String::as_str));
        if self.open_ended {
            parts.push(rest);
        }
        parts.join(".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_matches_and_translates_patterns() {
        let p = TypePattern::parse("workflows.task.*").unwrap();
        assert!(p.matches("workflows.task.assigned"));
        assert!(!p.matches("workflows.workflow.started"));
        assert!(!p.matches("workflows.task"));
        assert_eq!(
            p.nats_subject("maos.events"),
            "maos.events.workflows.task.*"
        );
        assert_eq!(p.amqp_binding_key(), "workflows.task.*");

        let p = TypePattern::parse("workflows.>").unwrap();
        assert!(p.matches("workflows.task.assigned"));
        assert!(!p.matches("agents.agent.registered"));
        assert_eq!(p.nats_subject("maos.events"), "maos.events.workflows.>");
        assert_eq!(p.amqp_binding_key(), "workflows.#");

        assert!(TypePattern::all().matches("agents.agent.retired"));
        assert_eq!(
            TypePattern::all().nats_subject("maos.events"),
            "maos.events.>"
        );
    }

    #[test]
    fn it_renders_patterns_as_sql_like_conditions() {
        let p = TypePattern::parse("workflows.task_x.*").unwrap();
        assert_eq!(p.sql_like(), ("workflows.task\\_x.%".to_owned(), 2, false));
        let p = TypePattern::parse("agents.>").unwrap();
        assert_eq!(p.sql_like(), ("agents.%".to_owned(), 1, true));
        assert_eq!(TypePattern::all().sql_like(), ("%".to_owned(), 0, true));
    }

    #[test]
    fn it_refuses_malformed_patterns() {
        for bad in ["", "workflows..x", "Workflows.*", "a.>.b", "a.b c", "a.**"] {
            assert!(TypePattern::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
