//! The front ends' messages in English.

use super::Replies;

pub struct En;

impl Replies for En {
    fn too_long(&self, max: usize) -> String {
        format!("the message is too long; send at most {max} bytes")
    }
    fn too_many(&self, max: usize) -> String {
        format!("too many conversations in progress (at most {max}); try again later")
    }
    fn too_many_for_caller(&self, max: usize) -> String {
        format!("too many conversations in progress for this caller (at most {max}); finish or cancel one first")
    }
    fn store_unavailable(&self) -> String {
        "the conversation store is unavailable, so nothing was done; send the message again shortly".into()
    }
    fn turn_busy(&self) -> String {
        "an earlier message of this conversation is still being handled; send this one again shortly".into()
    }

    fn no_conversation(&self) -> String {
        "There is no conversation in progress.".into()
    }
    fn nothing_to_press(&self) -> String {
        "There is no conversation in progress (it ended or expired), so nothing was done.".into()
    }
    fn cancelled(&self) -> String {
        "Cancelled; nothing was written.".into()
    }
    fn dry_run_only(&self) -> String {
        "Dry run only: nothing was written.".into()
    }
    fn declined(&self) -> String {
        "OK; nothing was written.".into()
    }
    fn skill_gone(&self) -> String {
        "The skill is gone.".into()
    }
    fn answer_yes_or_no(&self) -> String {
        "Go ahead? Please answer yes or no.".into()
    }
    fn run_busy(&self) -> String {
        "Another run is writing there, so nothing was written. Try again? (yes/no)".into()
    }
    fn stale_plan(&self) -> String {
        "That plan is no longer the current one, so nothing was done; answer the latest message instead.".into()
    }
    fn already_applying(&self) -> String {
        "This conversation's plan was already being applied, so it was not applied again; check the project.".into()
    }
    fn prerequisite_first(&self, first: &str, then: &str) -> String {
        format!("Let's run {first} first; once it is applied, {then} continues.")
    }
    fn plan_for(&self, project: &str) -> String {
        format!("Plan for {project}:")
    }
    fn go_ahead(&self) -> String {
        "Go ahead? (yes/no)".into()
    }
    fn files_heading(&self) -> String {
        "Files".into()
    }

    fn button_apply(&self) -> String {
        "Apply".into()
    }
    fn button_dry_run_only(&self) -> String {
        "Dry run only".into()
    }
    fn button_cancel(&self) -> String {
        "Cancel".into()
    }
    fn button_back(&self) -> String {
        "Back".into()
    }
    fn apply_this_plan(&self) -> String {
        "Apply this plan?".into()
    }
    fn apply_will_write(&self) -> String {
        "skillrun will write the files above into the project.".into()
    }
    fn not_yours(&self, owner: &str) -> String {
        format!("Only <@{owner}> can answer this plan; nothing was done.")
    }
    fn not_the_starter(&self) -> String {
        "Only the person who started this conversation can answer its plan; nothing was done.".into()
    }

    fn stage_validated(&self) -> String {
        "input validated".into()
    }
    fn stage_planned(&self, files: usize) -> String {
        format!("planned {files} files")
    }
    fn stage_applying(&self) -> String {
        "writing files".into()
    }
    fn stage_done(&self) -> String {
        "done".into()
    }
}
