//! The HTTP API and the command line, end to end against a real `maos up`
//! on SQLite and on PostgreSQL.

mod bad_input;
mod cli;
mod journey;
mod server;

pub use server::Server;

/// Runs each test on a fresh SQLite file and on a fresh PostgreSQL database.
macro_rules! on_both_backends {
    ($($module:ident :: $name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    maos_actors::run(async {
                        let dir = tempfile::tempdir().unwrap();
                        let url = maos_testkit::sqlite_url(dir.path());
                        let server = super::Server::start(url).await;
                        super::$module::$name(&server).await;
                        server.stop();
                    });
                }
            )+
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    maos_actors::run(async {
                        let url = maos_testkit::postgres_database().await;
                        let server = super::Server::start(url.clone()).await;
                        super::$module::$name(&server).await;
                        server.stop();
                        let database = url.rsplit('/').next().unwrap().to_owned();
                        maos_testkit::drop_database(&database).await;
                    });
                }
            )+
        }
    };
}

on_both_backends!(
    journey::a_workflow_escalates_is_answered_completes_and_can_be_audited_replayed_and_forked,
    journey::a_cancelled_workflow_kills_its_work_and_a_second_cancel_is_a_conflict,
    journey::live_events_resume_after_last_event_id,
    bad_input::bad_requests_get_precise_errors_and_append_nothing,
    bad_input::tokens_and_roles_guard_every_route,
    bad_input::a_repeated_idempotency_key_returns_the_first_answer_and_appends_nothing,
    bad_input::a_retry_after_a_run_cut_off_before_its_answer_makes_nothing_twice,
    cli::agents_are_registered_listed_and_retired_from_the_command_line,
    cli::events_tail_and_projection_rebuilds_work_from_the_command_line,
    cli::settings_come_from_maos_toml_and_logs_can_be_json,
);
