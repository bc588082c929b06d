use super::*;
use proptest::prelude::*;
use uuid::Uuid;

fn agent(n: u128, load: u32, max: u32, history: Option<History>) -> Candidate {
    Candidate {
        agent_id: AgentId(Uuid::from_u128(n)),
        capabilities: vec!["backend".into()].into(),
        healthy: true,
        load,
        max_concurrency: max,
        history,
    }
}

#[test]
fn it_excludes_agents_without_the_capability_unhealthy_or_full() {
    let mut missing = agent(1, 0, 2, None);
    missing.capabilities = vec!["qa".into()].into();
    let mut sick = agent(2, 0, 2, None);
    sick.healthy = false;
    let full = agent(3, 2, 2, None);
    let scores = score_candidates(&"backend".into(), None, &[missing, sick, full]);
    assert!(scores.iter().all(|s| !s.eligible && s.score == 0));
    assert_eq!(best(&scores), None);
    assert_eq!(
        scores[2].reasons,
        vec![ScoreReason::AtCapacity {
            load: 2,
            max_concurrency: 2
        }]
    );
}

#[test]
fn it_prefers_free_fast_successful_agents_and_says_why() {
    let good = History {
        completed: 9,
        failed: 1,
        mean_duration_ms: 1_000,
    };
    let poor = History {
        completed: 1,
        failed: 9,
        mean_duration_ms: 4_000,
    };
    let scores = score_candidates(
        &"backend".into(),
        None,
        &[agent(1, 1, 2, Some(poor)), agent(2, 0, 2, Some(good))],
    );
    assert_eq!(scores[0].agent_id, AgentId(Uuid::from_u128(2)));
    // 400 (all free) + 400*10/12 = 333 + 200 (fastest) = 933
    assert_eq!(scores[0].score, 933);
    // 200 (half free) + 400*2/12 = 66 + 200*1000/4000 = 50 = 316
    assert_eq!(scores[1].score, 316);
    assert!(scores[1].reasons.contains(&ScoreReason::Latency {
        mean_duration_ms: 4_000,
        fastest_ms: 1_000,
        points: 50
    }));
}

#[test]
fn a_retry_prefers_another_agent_but_falls_back_to_the_one_that_failed() {
    let a = agent(1, 0, 1, None);
    let b = agent(2, 0, 1, None);
    let avoid = Some(a.agent_id);
    let scores = score_candidates(&"backend".into(), avoid, &[a.clone(), b]);
    assert_eq!(best(&scores).unwrap().agent_id, AgentId(Uuid::from_u128(2)));
    let scores = score_candidates(&"backend".into(), avoid, std::slice::from_ref(&a));
    assert_eq!(best(&scores).unwrap().agent_id, a.agent_id);
}

fn arb_candidate() -> impl Strategy<Value = Candidate> {
    (
        any::<bool>(),
        any::<bool>(),
        0u32..5,
        1u32..5,
        proptest::option::of((0u64..50, 0u64..50, 1u64..100_000)),
    )
        .prop_map(|(has_cap, healthy, load, max, h)| Candidate {
            agent_id: AgentId(Uuid::nil()),
            capabilities: if has_cap {
                vec!["backend".into()].into()
            } else {
                vec!["qa".into()].into()
            },
            healthy,
            load,
            max_concurrency: max,
            history: h.map(|(completed, failed, mean_duration_ms)| History {
                completed,
                failed,
                mean_duration_ms,
            }),
        })
}

proptest! {
    #[test]
    fn the_best_candidate_is_always_eligible_and_highest(mut cands in prop::collection::vec(arb_candidate(), 0..8)) {
        for (i, c) in cands.iter_mut().enumerate() {
            c.agent_id = AgentId(Uuid::from_u128(i as u128));
        }
        let scores = score_candidates(&"backend".into(), None, &cands);
        prop_assert_eq!(scores.len(), cands.len());
        for s in &scores {
            let c = cands.iter().find(|c| c.agent_id == s.agent_id).unwrap();
            let should = c.healthy && c.load < c.max_concurrency && c.capabilities.contains(&"backend".into());
            prop_assert_eq!(s.eligible, should);
            prop_assert!(s.score <= 1000);
        }
        if let Some(b) = best(&scores) {
            prop_assert!(scores.iter().filter(|s| s.eligible).all(|s| s.score <= b.score));
        } else {
            prop_assert!(scores.iter().all(|s| !s.eligible));
        }
    }

    #[test]
    fn less_load_never_lowers_a_score(load in 0u32..4, max in 5u32..10) {
        let busier = agent(1, load + 1, max, None);
        let freer = agent(1, load, max, None);
        let s_busy = score_candidates(&"backend".into(), None, &[busier])[0].score;
        let s_free = score_candidates(&"backend".into(), None, &[freer])[0].score;
        prop_assert!(s_free >= s_busy);
    }
}
