//! Every user-facing sentence of the front ends (conversation, Slack, Mattermost, MCP), in one
//! home, the same shape as the engine's [`skillrun_engine::messages`]: [`Replies`] names each
//! message once, [`en`] and [`ko`] implement all of them (a message missing in one language does
//! not compile), and callers write `messages::of(lang).name(args)`. Messages the engine already
//! has (a report's summary, the "Next" heading) are used from there, not copied.

mod en;
mod ko;

use skillrun_engine::Lang;

/// The front ends' messages in `lang`.
pub fn of(lang: Lang) -> &'static dyn Replies {
    match lang {
        Lang::En => &en::En,
        Lang::Ko => &ko::Ko,
    }
}

/// Each message of the front ends. Arguments are already-rendered text and numbers.
pub trait Replies: Sync {
    // --- conversation: refusals before a turn ---
    fn too_long(&self, max: usize) -> String;
    fn too_many(&self, max: usize) -> String;
    fn too_many_for_caller(&self, max: usize) -> String;
    fn store_unavailable(&self) -> String;
    fn turn_busy(&self) -> String;

    // --- conversation: turns ---
    fn no_conversation(&self) -> String;
    /// A button pressed when no conversation is in progress.
    fn nothing_to_press(&self) -> String;
    fn cancelled(&self) -> String;
    fn dry_run_only(&self) -> String;
    fn declined(&self) -> String;
    fn skill_gone(&self) -> String;
    fn answer_yes_or_no(&self) -> String;
    fn run_busy(&self) -> String;
    fn stale_plan(&self) -> String;
    fn already_applying(&self) -> String;
    /// Another skill must run first: `first`, then `then` continues.
    fn prerequisite_first(&self, first: &str, then: &str) -> String;
    fn plan_for(&self, project: &str) -> String;
    fn go_ahead(&self) -> String;
    fn files_heading(&self) -> String;

    // --- chat buttons (Slack, Mattermost) ---
    fn button_apply(&self) -> String;
    fn button_dry_run_only(&self) -> String;
    fn button_cancel(&self) -> String;
    fn button_back(&self) -> String;
    fn apply_this_plan(&self) -> String;
    fn apply_will_write(&self) -> String;
    /// A Slack button pressed by someone other than `owner`.
    fn not_yours(&self, owner: &str) -> String;
    /// A Mattermost button pressed by someone other than the person who started.
    fn not_the_starter(&self) -> String;

    // --- MCP progress ---
    fn stage_validated(&self) -> String;
    fn stage_planned(&self, files: usize) -> String;
    fn stage_applying(&self) -> String;
    fn stage_done(&self) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each language's text is its own: no Korean in English, Korean in every Korean sample.
    #[test]
    fn each_reply_is_worded_in_each_language() {
        let samples = |m: &dyn Replies| {
            vec![m.too_long(9), m.cancelled(), m.stale_plan(), m.button_apply(), m.not_yours("U1"), m.stage_done()]
        };
        let hangul = |s: &str| s.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c));
        for (e, k) in samples(of(Lang::En)).iter().zip(&samples(of(Lang::Ko))) {
            assert!(!hangul(e), "English reply with Korean text: {e}");
            assert!(hangul(k), "Korean reply without Korean text: {k}");
        }
    }
}
