//! The engine's messages in English.

use super::{Messages, TypeName, UrlPart};

pub struct En;

/// "It sets up ..." from "Sets up ...": an `about` sentence continued after a subject.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

impl Messages for En {
    fn chat_ambiguous(&self, skills: &str) -> String {
        format!("More than one skill fits this request: {skills}. Say which one.")
    }
    fn chat_ready(&self, title: &str) -> String {
        format!("{title}: every required input is there; ready to run.")
    }
    fn chat_question(&self, topic: &str, skill: &str, about: &str, example: &str) -> String {
        format!(
            "That reads as a question about {topic}, not a request to run a skill, so nothing was started. {skill}: {about} To run it, say e.g. \"{example}\"."
        )
    }
    fn chat_near_miss(&self, skill: &str, about: &str, example: &str) -> String {
        format!(
            "No skill matches that request. Did you mean {skill}? It {} To run it, say e.g. \"{example}\".",
            lower_first(about)
        )
    }
    fn chat_no_match(&self, example: &str) -> String {
        format!("No skill matches that request. Try e.g. \"{example}\".")
    }
    fn ask_field(&self, field: &str, hint: &str) -> String {
        format!("What is {field}? ({hint})")
    }

    fn input_not_object(&self, project_field: &str) -> String {
        format!("the input must be a JSON object, e.g. {{\"{project_field}\": \".\"}}")
    }
    fn input_url_rewritten(&self, field: &str, from: &str, to: &str) -> String {
        format!("{field}: {from} was rewritten to the async driver's {to}://")
    }
    fn input_type_from_url(&self, field: &str, kind: &str) -> String {
        format!("{field} \"{kind}\" was taken from the URL")
    }
    fn input_enum_read_as(&self, field: &str, given: &str, value: &str) -> String {
        format!("{field} \"{given}\" was read as \"{value}\"")
    }
    fn input_required(&self) -> String {
        "is required but missing".into()
    }
    fn input_unknown_field(&self, suggestion: Option<&str>, known: &str) -> String {
        match suggestion {
            Some(s) => format!("is not a known field; did you mean \"{s}\"? (known: {known})"),
            None => format!("is not a known field; remove it (known: {known})"),
        }
    }
    fn input_wrong_type(&self, expected: TypeName<'_>) -> String {
        let article = if expected.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        format!("must be {article} {expected}")
    }
    fn input_not_one_of(&self, options: &str) -> String {
        format!("must be one of {options}")
    }
    fn input_empty(&self) -> String {
        "must not be empty".into()
    }
    fn input_too_long(&self, limit: u64) -> String {
        format!("is longer than {limit} characters")
    }
    fn input_pattern(&self, pattern: &str) -> String {
        format!("does not match the expected form ({pattern})")
    }
    fn input_with_hint(&self, what: &str, hint: &str) -> String {
        format!("{what}; {hint}")
    }

    fn url_dollar_brace(&self) -> String {
        "holds `${`, which .env readers expand as a variable; remove it from the database name, path or query, or write `$` as `%24`".into()
    }
    fn url_no_scheme(&self) -> String {
        "is not a database URL (no `scheme://`); write it as e.g. `postgresql://user:password@localhost:5432/app` or `sqlite:///./app.db`".into()
    }
    fn url_bad_scheme(&self) -> String {
        "does not start with a scheme (`postgresql://`, `mysql://`, `sqlite://`); write it as e.g. `postgresql://user:password@localhost:5432/app`".into()
    }
    fn url_two_schemes(&self) -> String {
        "holds a second `://`; give one URL, and percent-encode `:` and `/` in a password (`%3A`, `%2F`)".into()
    }
    fn url_unsupported(&self, scheme: &str, kinds: &str) -> String {
        format!("uses `{scheme}://`, which this skill does not support; use a {kinds} URL")
    }
    fn url_type_mismatch(&self, given: &str, url_field: &str, kind: &str, type_field: &str) -> String {
        format!(
            "is \"{given}\" but {url_field} is a {kind} URL; set {type_field} to \"{kind}\" or leave it out (the URL decides), or give a {given} URL"
        )
    }
    fn url_escaped_name(&self, part: UrlPart) -> String {
        let part = if part == UrlPart::Path { "path" } else { "database name" };
        format!(
            "holds a percent-escape (`%XX`) in its {part}, which SQLAlchemy 2.0 keeps as written and 2.1 decodes; write the character itself, or rename it"
        )
    }
    fn url_file_host(&self, scheme: &str) -> String {
        format!(
            "names a host for a file database; use three slashes for a relative path (`{scheme}:///./app.db`) or four for an absolute one (`{scheme}:////data/app.db`)"
        )
    }
    fn url_file_secret(&self) -> String {
        "holds what reads as a password or a secret value, which a file database does not use; remove it".into()
    }
    fn url_unreadable(&self, scheme: &str) -> String {
        format!("cannot be read: expected `{scheme}://user:password@host:port/database`")
    }
    fn url_space(&self, part: UrlPart) -> String {
        let part = part_name(part);
        format!("has a space or control character in its {part}; remove it, or percent-encode it (a space is `%20`)")
    }
    fn url_bad_port(&self) -> String {
        "has a port that is not a port number (1-65535), e.g. `localhost:5432`; if a user name and password come before the host, end them with `@`".into()
    }
    fn url_no_database(&self, scheme: &str) -> String {
        format!("names no database; add it after the host, e.g. `{scheme}://user:password@localhost:3306/app`")
    }
    fn url_not_utf8(&self, part: UrlPart) -> String {
        let part = part_name(part);
        format!("has percent-escapes in its {part} that are not UTF-8 text; SQLAlchemy would read them as `\u{FFFD}`")
    }
    fn url_ambiguous(&self, quoted: &str, fixes: &str) -> String {
        format!(
            "can be read in more than one way, so it is not guessed: {quoted} may be part of the password or split the URL; percent-encode each one inside the password, user name, database name or a query value ({fixes}), so that the only raw `@` is the one just before the host"
        )
    }

    fn journal_waiting(&self) -> String {
        "a journal is waiting in .skillrun/journal; the next run without --dry-run first checks it and, if an interrupted run of this machine left it, puts the project back as it was".into()
    }
    fn project_is_file(&self, path: &str) -> String {
        format!("{path} is a file; give the project's directory")
    }
    fn project_missing(&self, path: &str) -> String {
        format!("neither {path} nor its parent directory exists; check the path, or create the parent first (mkdir -p)")
    }
    fn project_outside(&self, roots: &str) -> String {
        format!("is outside the allowed directories; give a path under {roots}")
    }
    fn project_unusable(&self, error: &str) -> String {
        format!("cannot open the project directory: {error}")
    }
    fn project_not_writable(&self, path: &str) -> String {
        format!("{path} is not writable by this user; grant write permission or give another directory")
    }
    fn recovered_rolled_back(&self, files: usize) -> String {
        format!("an interrupted earlier run was rolled back first ({files} files put back as they were)")
    }
    fn recovered_cleaned_up(&self) -> String {
        "removed the journal an earlier run left behind".into()
    }

    fn plan_class_field(&self, class: &str, line: &str) -> String {
        format!("added `{line}` to class {class}")
    }
    fn plan_raised(&self, path: &str, name: &str, from: &str, to: &str) -> String {
        format!("{path}: raised {name} from {from} to {to}, which the generated code needs")
    }
    fn plan_skipped(&self) -> String {
        "skipped (--skip-existing)".into()
    }
    fn plan_kept(&self) -> String {
        "exists; kept as it is".into()
    }
    fn plan_ours_updated(&self) -> String {
        "written by this skill and not edited since; updated".into()
    }
    fn plan_forced(&self) -> String {
        "replaced (--force); the old file is backed up".into()
    }
    fn plan_differs(&self) -> String {
        "exists with other content; review it, then re-run with --force to replace it (a backup is kept)".into()
    }
    fn plan_unmergeable(&self, problem: &str) -> String {
        format!("cannot be merged: {problem}; fix it, then run again")
    }
    fn plan_not_utf8(&self) -> String {
        "is not UTF-8 text, so it cannot be merged; convert it to UTF-8, then run again".into()
    }
    fn plan_env_conflict(&self, keys: &str) -> String {
        format!(
            "already sets {keys} to another value; edit it yourself, or re-run with --force to replace it (a backup is kept)"
        )
    }
    fn plan_env_forced(&self) -> String {
        "value replaced (--force); the old file is backed up".into()
    }
    fn plan_statement_replaced(&self, name: &str, old: &str, statement: &str) -> String {
        format!("replaced `{name} = {old}` with `{statement}`")
    }
    fn plan_statement_after(&self, anchor: &str, statement: &str) -> String {
        format!("added `{statement}` after `{anchor}`")
    }
    fn plan_statement_added(&self, statement: &str) -> String {
        format!("added `{statement}`")
    }

    fn py_not_a_name(&self, name: &str) -> String {
        format!("`{name}` is not a Python name, so it cannot go in `__all__`")
    }
    fn py_not_an_import(&self, line: &str) -> String {
        format!("`{line}` is not a one-line `from module import name` or `import module` statement")
    }
    fn py_unclosed(&self, string: bool, line: usize) -> String {
        let what = if string { "a string" } else { "a bracket" };
        format!("it cannot be read as Python: {what} opened on line {line} is never closed")
    }
    fn py_name_taken(&self, name: &str, from: &str, line: usize, module: &str) -> String {
        format!(
            "`{name}` is already imported from `{from}` (line {line}); the skill would import it from `{module}`. Rename one of them, then run again"
        )
    }
    fn py_all_dynamic(&self, line: usize, names: &str) -> String {
        format!(
            "`__all__` is built at run time (line {line}), so the skill cannot add {names} to it safely; add them yourself, or make `__all__` a plain list of names"
        )
    }
    fn py_all_commented(&self, line: usize, names: &str) -> String {
        format!(
            "`__all__` (line {line}) holds comments and several names per line, so the skill cannot add {names} without moving them; add it yourself"
        )
    }
    fn py_assigned_several(&self, name: &str, lines: &str) -> String {
        format!(
            "`{name}` is assigned at the top level more than once (lines {lines}), so which one counts is not clear"
        )
    }
    fn py_statement_no_file(&self, statement: &str) -> String {
        format!("the file is missing; add `{statement}` by hand")
    }
    fn py_statement_no_assignment(&self, name: &str, statement: &str) -> String {
        format!("it has no top-level `{name} = ...` assignment to change; add `{statement}` by hand")
    }
    fn py_statement_several(&self, name: &str, lines: &str, statement: &str) -> String {
        format!("{}; add `{statement}` by hand", self.py_assigned_several(name, lines))
    }
    fn py_statement_no_anchor(&self, anchor: &str, statement: &str) -> String {
        format!("it has no top-level `{anchor}` to put the line after; add `{statement}` by hand")
    }

    fn git_tracked(&self, rel: &str) -> String {
        format!(
            "is tracked by git, so the password would be committed; untrack it (`git rm --cached {rel}`), then run again"
        )
    }
    fn git_reincluded(&self, rel: &str, pattern: &str, source: &str, line: usize) -> String {
        format!(
            "would be committed by git, password and all: `{pattern}` ({source}, line {line}) re-includes it; remove that line, or ignore `{rel}` after it, then run again"
        )
    }
    fn git_not_ignored(&self, rel: &str) -> String {
        format!(
            "would be committed by git, password and all: no ignore rule covers it; add `{rel}` to .gitignore, then run again"
        )
    }
    fn git_unknown(&self, rel: &str, why: &str) -> String {
        format!(
            "cannot tell whether git would commit it ({why}); fix that, or check with `git check-ignore -v {rel}`, then run again"
        )
    }

    fn requires_taken(&self, field: &str, value: &str, skill: &str) -> String {
        format!("{field} {value} was taken from {skill}'s answers")
    }
    fn requires_unmet(&self, me: &str, need: &str, missing: &str, project_field: &str, inputs: &str) -> String {
        format!(
            "{me} needs {need} applied to this project first (missing: {missing}). Run {need} on the same {project_field} first (it also needs: {inputs}), then run {me} again"
        )
    }

    fn next_heading(&self) -> String {
        "Next".into()
    }
    fn report_nothing_to_do(&self, skill: &str, unchanged: usize) -> String {
        format!("{skill}: nothing to do; every file is already up to date ({unchanged} unchanged).")
    }
    fn report_applied(
        &self,
        skill: &str,
        [created, updated, unchanged, skipped]: [usize; 4],
        next: Option<&str>,
    ) -> String {
        let next = next.map(|c| format!(" Next: {c}")).unwrap_or_default();
        format!("{skill}: {created} files created, {updated} updated, {unchanged} unchanged, {skipped} skipped.{next}")
    }
    fn report_dry_run(&self, [created, updated, unchanged, skipped, conflict]: [usize; 5]) -> String {
        format!(
            "Dry run: would create {created} files, update {updated}, leave {unchanged} unchanged, skip {skipped}; {conflict} conflicts. Nothing was written."
        )
    }
    fn report_conflict(&self, skill: &str, conflicts: usize, paths: &str, backups: &str) -> String {
        format!(
            "Nothing was written: {conflicts} existing files differ from what {skill} would write ({paths}). Review them, then re-run with --force to replace them; the old files are backed up under {backups}/."
        )
    }
    fn report_invalid(&self, fields: &str) -> String {
        format!("The input is invalid, nothing was written: {fields}.")
    }
}

fn part_name(part: UrlPart) -> &'static str {
    match part {
        UrlPart::Host => "host",
        UrlPart::Database => "database",
        UrlPart::Query => "query",
        UrlPart::Path => "path",
        UrlPart::User => "user name",
        UrlPart::Password => "password",
    }
}
