//! Orchestration on real stores: every test body runs on SQLite (a fresh
//! file) and on PostgreSQL (a fresh database), inside the actor system,
//! with real processes for the `process` executor.

mod delegation;
mod escalation;
mod fencing;
mod happy_path;
mod planning;
mod process_executor;
mod refusals;
mod submissions;
mod supervision;
mod support;
mod timeouts;

macro_rules! on_both_backends {
    ($($module:ident :: $name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    maos_actors::run(async {
                        let store = maos_testkit::sqlite().await;
                        crate::$module::$name(&store).await;
                        maos_testkit::cleanup(store).await;
                    });
                }
            )+
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    maos_actors::run(async {
                        let store = maos_testkit::postgres().await;
                        crate::$module::$name(&store).await;
                        maos_testkit::cleanup(store).await;
                    });
                }
            )+
        }
    };
}

on_both_backends!(
    happy_path::a_dag_of_20_tasks_over_5_process_agents_runs_in_dependency_order,
    supervision::a_panicking_executor_restarts_its_agent_and_the_task_completes_on_retry,
    supervision::an_agent_past_its_restart_intensity_stops_for_good,
    timeouts::a_task_past_its_deadline_is_killed_timed_out_and_retried_elsewhere,
    fencing::a_late_result_from_an_earlier_attempt_is_rejected_and_recorded,
    escalation::exhausted_retries_escalate_and_each_answer_does_what_it_says,
    escalation::an_agent_that_reports_blocked_escalates_its_task,
    refusals::bad_specs_are_refused_precisely_and_nothing_is_appended,
    delegation::a_task_waits_for_a_capable_agent_and_runs_when_one_registers,
    delegation::an_agent_failing_in_a_row_becomes_unhealthy_and_its_running_task_moves,
    delegation::cancelling_a_workflow_kills_its_running_processes,
    planning::a_plan_adds_tasks_and_a_bad_plan_fails_its_attempt,
    submissions::a_submission_longer_than_a_page_is_read_to_its_end,
    submissions::a_command_racing_a_submission_waits_for_it_and_a_live_id_is_not_made_twice,
);
