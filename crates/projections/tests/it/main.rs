//! The read side on real databases: every test body runs on SQLite (a fresh
//! file) and on PostgreSQL (a fresh database).

mod agent_directory;
mod audit;
mod board;
mod exactly_once;
mod history;
mod rebuild;
mod support;

macro_rules! on_both_backends {
    ($($module:ident :: $name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let store = crate::support::sqlite().await;
                    crate::$module::$name(&store).await;
                    crate::support::cleanup(store).await;
                }
            )+
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let store = crate::support::postgres().await;
                    crate::$module::$name(&store).await;
                    crate::support::cleanup(store).await;
                }
            )+
        }
    };
}

on_both_backends!(
    agent_directory::the_agent_directory_lists_agents_by_status_a_page_at_a_time,
    audit::it_answers_every_filter,
    audit::every_entry_is_its_events_columns_and_metadata,
    audit::the_causation_tree_of_a_completion_leads_back_to_the_submission,
    audit::bad_queries_get_precise_errors,
    audit::an_export_writes_the_matching_envelopes_as_json_lines,
    board::the_board_follows_workflows_and_agents,
    exactly_once::a_failing_projector_does_not_stop_the_others,
    history::state_as_of_any_point_equals_the_fold,
    history::state_as_of_a_long_stream_equals_the_fold,
    history::a_fork_reruns_only_the_tasks_not_completed_at_the_fork_point,
    rebuild::rebuilding_gives_the_rows_incremental_projection_gave,
    rebuild::a_rebuild_puts_back_the_indexes_it_set_aside,
    rebuild::two_rebuilds_at_once_give_the_rows_incremental_projection_gave,
    rebuild::a_rebuild_overtaken_by_another_run_upserts_what_that_run_wrote,
    exactly_once::a_projector_stopped_mid_run_applies_every_event_exactly_once,
    exactly_once::a_live_projector_gathers_events_that_come_faster_than_it_commits,
    exactly_once::a_hurried_projector_writes_its_batch_before_its_interval_ends,
);
