//! DELEGATE: who should take a task. A pure function of what the caller
//! knows about each candidate; the result keeps every candidate's score and
//! the reasons behind it, and is recorded in `workflows.task.assigned`.
//!
//! Scores are integer points (0–1000), so recorded choices compare and
//! replay exactly:
//! - free capacity: up to 400 points, in proportion to free slots;
//! - success rate: up to 400 points, `(completed + 1) / (finished + 2)`
//!   (Laplace smoothing: an agent with no history scores 200);
//! - latency: up to 200 points, fastest mean duration among the candidates
//!   divided by this one's (100 with no history);
//! - an agent that just failed the task loses 300 points, so a retry prefers
//!   another agent but still falls back to it when it is the only one.
//!
//! A candidate that lacks the capability, is unhealthy or is at capacity is
//! not eligible. Ties go to the smaller agent id.

use crate::ids::{AgentId, Capability};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;

const LOAD_POINTS: u64 = 400;
const SUCCESS_POINTS: u64 = 400;
const LATENCY_POINTS: u64 = 200;
const NO_LATENCY_HISTORY_POINTS: u32 = 100;
const RECENT_FAILURE_PENALTY: u32 = 300;

/// What the caller knows about one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub agent_id: AgentId,
    /// Shared, not copied: a node's agents share a few sets, and every
    /// capable agent is a candidate for every task.
    pub capabilities: std::sync::Arc<[Capability]>,
    pub healthy: bool,
    /// Attempts the agent holds now.
    pub load: u32,
    pub max_concurrency: u32,
    /// History for the task's capability, if the agent has any.
    pub history: Option<History>,
}

/// An agent's record on one capability (from the agent-stats read model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct History {
    pub completed: u64,
    pub failed: u64,
    /// Mean duration of completed attempts.
    pub mean_duration_ms: u64,
}

/// One candidate's score and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CandidateScore {
    pub agent_id: AgentId,
    pub eligible: bool,
    /// 0–1000; 0 when not eligible.
    pub score: u32,
    pub reasons: Vec<ScoreReason>,
}

/// One component of a score, or the reason a candidate was excluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScoreReason {
    MissingCapability {
        capability: Capability,
    },
    Unhealthy,
    AtCapacity {
        load: u32,
        max_concurrency: u32,
    },
    FreeCapacity {
        load: u32,
        max_concurrency: u32,
        points: u32,
    },
    SuccessRate {
        completed: u64,
        failed: u64,
        points: u32,
    },
    Latency {
        mean_duration_ms: u64,
        fastest_ms: u64,
        points: u32,
    },
    NoLatencyHistory {
        points: u32,
    },
    RecentlyFailed {
        penalty: u32,
    },
}

/// Scores every candidate for a task needing `capability`, best first.
/// `avoid` is the agent that just failed the task, if any.
pub fn score_candidates(
    capability: &Capability,
    avoid: Option<AgentId>,
    candidates: &[Candidate],
) -> Vec<CandidateScore> {
    let fastest_ms = candidates
        .iter()
        .filter(|c| c.capabilities.contains(capability))
        .filter_map(|c| c.history.filter(|h| h.completed > 0))
        .map(|h| h.mean_duration_ms.max(1))
        .min();
    let mut scores: Vec<CandidateScore> = candidates
        .iter()
        .map(|c| score_one(capability, avoid, fastest_ms, c))
        .collect();
    scores.sort_by_key(|s| (Reverse(s.eligible), Reverse(s.score), s.agent_id));
    scores
}

/// The best eligible candidate of a scored list.
pub fn best(scores: &[CandidateScore]) -> Option<&CandidateScore> {
    scores.first().filter(|s| s.eligible)
}

fn score_one(
    capability: &Capability,
    avoid: Option<AgentId>,
    fastest_ms: Option<u64>,
    c: &Candidate,
) -> CandidateScore {
    let mut reasons = Vec::new();
    if !c.capabilities.contains(capability) {
        reasons.push(ScoreReason::MissingCapability {
            capability: capability.clone(),
        });
    }
    if !c.healthy {
        reasons.push(ScoreReason::Unhealthy);
    }
    if c.load >= c.max_concurrency {
        reasons.push(ScoreReason::AtCapacity {
            load: c.load,
            max_concurrency: c.max_concurrency,
        });
    }
    if !reasons.is_empty() {
        return CandidateScore {
            agent_id: c.agent_id,
            eligible: false,
            score: 0,
            reasons,
        };
    }
    let free = u64::from(c.max_concurrency - c.load);
    let load_points = points(LOAD_POINTS * free, u64::from(c.max_concurrency));
    reasons.push(ScoreReason::FreeCapacity {
        load: c.load,
        max_concurrency: c.max_concurrency,
        points: load_points,
    });
    let (completed, failed) = c.history.map_or((0, 0), |h| (h.completed, h.failed));
    let success_points = points(
        SUCCESS_POINTS * (completed.saturating_add(1)),
        completed.saturating_add(failed).saturating_add(2),
    );
    reasons.push(ScoreReason::SuccessRate {
        completed,
        failed,
        points: success_points,
    });
    let latency_points = match (c.history.filter(|h| h.completed > 0), fastest_ms) {
        (Some(h), Some(fastest_ms)) => {
            let mean = h.mean_duration_ms.max(1);
            let p = points(LATENCY_POINTS * fastest_ms, mean);
            reasons.push(ScoreReason::Latency {
                mean_duration_ms: mean,
                fastest_ms,
                points: p,
            });
            p
        }
        _ => {
            reasons.push(ScoreReason::NoLatencyHistory {
                points: NO_LATENCY_HISTORY_POINTS,
            });
            NO_LATENCY_HISTORY_POINTS
        }
    };
    let mut score = load_points + success_points + latency_points;
    if avoid == Some(c.agent_id) {
        score = score.saturating_sub(RECENT_FAILURE_PENALTY);
        reasons.push(ScoreReason::RecentlyFailed {
            penalty: RECENT_FAILURE_PENALTY,
        });
    }
    CandidateScore {
        agent_id: c.agent_id,
        eligible: true,
        score,
        reasons,
    }
}

/// `numerator / denominator`, rounded down, as points (denominator > 0).
fn points(numerator: u64, denominator: u64) -> u32 {
    u32::try_from(numerator / denominator.max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
