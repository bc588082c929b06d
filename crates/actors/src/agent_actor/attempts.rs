//! Running attempts: each on the multi-threaded runtime, reported back to
//! its workflow; a panic fails the attempt and restarts the actor.

use super::{AgentActor, PROGRESS_INTERVAL, Running};
use crate::executor::{Outcome, Progress};
use crate::messages::*;
use actix::prelude::*;
use std::sync::Arc;

impl Handler<RunTask> for AgentActor {
    type Result = ();
    fn handle(&mut self, msg: RunTask, ctx: &mut Context<Self>) {
        let RunTask { job, reply_to } = msg;
        let Some(to) = reply_to.upgrade() else {
            return;
        };
        let key = (job.workflow_id, job.task_id.clone());
        let (task_id, attempt) = (job.task_id.clone(), job.attempt);
        let executor = if self.done {
            None
        } else {
            self.executor.clone()
        };
        let Some(executor) = executor else {
            to.do_send(AttemptReport {
                task_id,
                attempt,
                report: Report::Finished(Outcome::Failed {
                    error: if self.done {
                        "the agent has stopped".to_owned()
                    } else {
                        "the agent has no working executor (see its registration)".to_owned()
                    },
                }),
            });
            return;
        };
        to.do_send(AttemptReport {
            task_id: task_id.clone(),
            attempt,
            report: Report::Started,
        });
        let progress_to = reply_to.clone();
        let progress_task = task_id.clone();
        let progress = Progress::new(
            executor.progress_interval().unwrap_or(PROGRESS_INTERVAL),
            Arc::new(move |line| {
                if let Some(to) = progress_to.upgrade() {
                    to.do_send(AttemptReport {
                        task_id: progress_task.clone(),
                        attempt,
                        report: Report::Progress(line),
                    });
                }
            }),
        );
        let started = std::time::Instant::now();
        let join = tokio::spawn(executor.run(job, progress));
        let abort = join.abort_handle();
        let done_key = key.clone();
        let handle = ctx.spawn(join.into_actor(self).map(move |result, act, ctx| {
            let Some(running) = act.running.remove(&done_key) else {
                return;
            };
            let send = |report| {
                if let Some(to) = running.reply_to.upgrade() {
                    to.do_send(AttemptReport {
                        task_id: task_id.clone(),
                        attempt,
                        report,
                    });
                }
            };
            act.shared
                .metrics
                .attempt_seconds
                .observe(started.elapsed());
            match result {
                Ok(outcome) => send(Report::Finished(outcome)),
                Err(e) if e.is_panic() => {
                    let reason = format!("executor panicked: {}", panic_message(e.into_panic()));
                    send(Report::Finished(Outcome::Failed {
                        error: reason.clone(),
                    }));
                    act.crash(reason, ctx);
                }
                Err(_) => {} // aborted on purpose; the workflow already knows
            }
        }));
        self.running.insert(
            key,
            Running {
                attempt,
                abort,
                handle,
                reply_to,
            },
        );
    }
}

impl Handler<AbortTask> for AgentActor {
    type Result = ();
    fn handle(&mut self, msg: AbortTask, ctx: &mut Context<Self>) {
        let key = (msg.workflow_id, msg.task_id);
        if self
            .running
            .get(&key)
            .is_some_and(|r| r.attempt == msg.attempt)
            && let Some(running) = self.running.remove(&key)
        {
            running.abort.abort();
            ctx.cancel_future(running.handle);
        }
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}
