//! What a workflow actor does with each message: commands from the node's
//! API, grants from the dispatcher, agents' reports, its own timers.

use super::{DeadlineDue, Finish, RetryDue, WorkflowActor, WorkflowCommandMsg};
use crate::Error;
use crate::executor::Outcome;
use crate::messages::*;
use actix::prelude::*;
use maos_domain::workflow::{self, WorkflowCommand};
use maos_domain::{Attempt, TaskId};

impl Handler<WorkflowCommandMsg> for WorkflowActor {
    type Result = AtomicResponse<Self, Result<u64, Error>>;
    fn handle(&mut self, msg: WorkflowCommandMsg, _: &mut Context<Self>) -> Self::Result {
        let cause = crate::persist::Cause::from_context(msg.context, self.cause(None));
        AtomicResponse::new(self.execute(msg.command, cause))
    }
}

impl Handler<Granted> for WorkflowActor {
    type Result = ();
    fn handle(&mut self, msg: Granted, ctx: &mut Context<Self>) {
        self.agents.insert(msg.task_id.clone(), msg.agent.clone());
        self.requested.insert(msg.task_id.clone(), msg.requested_at);
        let command = WorkflowCommand::AssignTask {
            task_id: msg.task_id.clone(),
            agent_id: msg.agent_id,
            candidates: msg.candidates,
            now: chrono::Utc::now(),
        };
        let cause = self.cause(Some(&msg.task_id));
        let (id, task_id) = (self.id, msg.task_id);
        ctx.wait(self.execute(command, cause).map(move |result, act, _| {
            if let Err(e) = result {
                tracing::debug!(workflow = %id, task = %task_id, error = %e, "grant not used");
                act.agents.remove(&task_id);
                act.requested.remove(&task_id);
                act.shared.dispatcher.do_send(Release {
                    workflow_id: id,
                    task_id,
                    ending: Ending::Unused,
                });
            }
        }));
    }
}

impl Handler<AttemptReport> for WorkflowActor {
    type Result = ();
    fn handle(&mut self, msg: AttemptReport, ctx: &mut Context<Self>) {
        let now = chrono::Utc::now();
        let AttemptReport {
            task_id,
            attempt,
            report,
        } = msg;
        let command = match report {
            Report::Started => WorkflowCommand::StartTask {
                task_id: task_id.clone(),
                attempt,
                now,
            },
            Report::Progress(message) => WorkflowCommand::ReportProgress {
                task_id: task_id.clone(),
                attempt,
                message,
            },
            Report::Finished(outcome) => self.result_command(&task_id, attempt, outcome, now),
        };
        self.run_internal(command, &task_id, ctx);
    }
}

impl WorkflowActor {
    /// The command for an attempt's outcome. A planner's output that adds
    /// invalid tasks fails the attempt instead of being lost.
    fn result_command(
        &self,
        task_id: &TaskId,
        attempt: Attempt,
        outcome: Outcome,
        now: chrono::DateTime<chrono::Utc>,
    ) -> WorkflowCommand {
        let command = outcome.into_command(task_id.clone(), attempt, now);
        let adds_tasks = matches!(
            &command,
            WorkflowCommand::CompleteTask { added_tasks, .. } if !added_tasks.is_empty()
        );
        if !adds_tasks {
            return command;
        }
        match workflow::decide(&self.state, command.clone()) {
            Err(e @ (maos_domain::Error::InvalidSpec(_) | maos_domain::Error::NotAPlanner(_))) => {
                WorkflowCommand::FailTask {
                    task_id: task_id.clone(),
                    attempt,
                    error: format!("the attempt's output was refused: {e}"),
                    now,
                }
            }
            _ => command,
        }
    }
}

impl Handler<DeadlineDue> for WorkflowActor {
    type Result = ();
    fn handle(&mut self, msg: DeadlineDue, ctx: &mut Context<Self>) {
        self.timers.remove(&msg.task_id);
        let command = WorkflowCommand::TimeOutTask {
            task_id: msg.task_id.clone(),
            attempt: msg.attempt,
            now: chrono::Utc::now(),
        };
        self.run_internal(command, &msg.task_id, ctx);
    }
}

impl Handler<RetryDue> for WorkflowActor {
    type Result = ();
    fn handle(&mut self, msg: RetryDue, ctx: &mut Context<Self>) {
        self.timers.remove(&msg.task_id);
        self.request(&msg.task_id, ctx);
    }
}

impl Handler<TakeBack> for WorkflowActor {
    type Result = ();
    fn handle(&mut self, msg: TakeBack, ctx: &mut Context<Self>) {
        let Some(task) = self.state.tasks.get(&msg.task_id) else {
            return;
        };
        let command = WorkflowCommand::ReassignTask {
            task_id: msg.task_id.clone(),
            attempt: task.attempt,
            reason: msg.reason,
        };
        self.run_internal(command, &msg.task_id, ctx);
    }
}

impl Handler<Finish> for WorkflowActor {
    type Result = ();
    fn handle(&mut self, _: Finish, ctx: &mut Context<Self>) {
        self.finished = true;
        for (_, timer) in self.timers.drain() {
            ctx.cancel_future(timer);
        }
        for task_id in std::mem::take(&mut self.requested).into_keys() {
            self.shared.dispatcher.do_send(Withdraw {
                workflow_id: self.id,
                task_id,
            });
        }
        // The actor stops by itself once the callers holding its address
        // are done with it.
        self.shared.forget_workflow(self.id);
    }
}
