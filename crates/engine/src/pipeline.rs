//! The one way through: skill -> validated input -> project -> plan -> apply -> report. Every
//! transport (CLI, MCP server, chat) calls [`run`]; none holds skill logic of its own.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::input::FieldError;
use crate::locate::{LocateError, Location, Roots};
use crate::registry::Registry;
use crate::report::{Report, Status};
use crate::trigger::Lang;

/// A request to run one skill.
/// Build one with [`Request::new`] and struct update syntax (`..Request::new(id, input)`), so new
/// options do not break callers.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub skill: String,
    pub input: Value,
    pub dry_run: bool,
    pub force: bool,
    /// Write the files that do not conflict and leave the conflicting ones as they are.
    pub skip_existing: bool,
    /// Language of errors and messages; English when not given.
    pub lang: Option<Lang>,
    /// Where the project must lie (handles opened once, see [`crate::locate`]); a server sets
    /// them, the command line leaves them empty (anywhere).
    pub roots: Arc<Roots>,
}

impl Request {
    /// A request that applies `input` to skill `skill`, with every option off.
    pub fn new(skill: impl Into<String>, input: Value) -> Self {
        Request { skill: skill.into(), input, ..Default::default() }
    }
}

/// Where a run is; an observer may stop it before `Applying` by returning `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Validated,
    Planned { files: usize },
    Applying,
    Done,
}

impl Stage {
    /// Progress as (step, total) for progress notifications.
    pub fn progress(self) -> (u32, u32) {
        match self {
            Stage::Validated => (1, 4),
            Stage::Planned { .. } => (2, 4),
            Stage::Applying => (3, 4),
            Stage::Done => (4, 4),
        }
    }
}

/// Runs a skill and reports. `Ok` for every outcome a user can act on (applied, dry run, conflict,
/// invalid input); `Err` for an unknown skill, an unsafe path, an I/O failure, a journal skillrun
/// will not act on, or cancellation.
///
/// The project is opened once ([`crate::locate`]); every later file operation goes through that
/// handle. A writing run locks the project (a second run on it waits), first undoes a run that
/// died part-way (see [`crate::journal`]), then plans and applies under the same lock.
pub fn run(registry: &Registry, request: &Request, observe: &mut dyn FnMut(Stage) -> bool) -> Result<Report> {
    let skill = registry.get(&request.skill)?;
    skill.validator()?; // compiled on first use: a broken schema is a registry error, not bad input
    let lang = request.lang.unwrap_or(Lang::En);
    let mut given = request.input.clone();
    let resolved = match given.get(skill.project_field()).and_then(Value::as_str).map(|p| request.roots.locate(p)) {
        Some(Ok(Location::Existing(dir))) => crate::requires::resolve(registry, skill, &mut given, Some(&dir), lang)?,
        Some(Ok(Location::New { .. })) => crate::requires::resolve(registry, skill, &mut given, None, lang)?,
        // No project, or one that cannot be opened: said below, with the field.
        _ => crate::requires::Resolved::default(),
    };
    if !resolved.unmet.is_empty() {
        return Ok(Report::unmet(skill, lang, resolved.unmet).scrub());
    }
    let input = match crate::input::prepare(skill, &given, lang) {
        Ok(input) => input,
        Err(errors) => return Ok(Report::invalid(skill, lang, errors)),
    };
    let field = skill.project_field();
    let project = input.context.get(field).and_then(Value::as_str).unwrap_or(".");
    let location = match request.roots.locate(project) {
        Ok(location) => location,
        Err(e) => return Ok(Report::invalid(skill, lang, vec![project_error(&e, field, lang)])),
    };
    if !observe(Stage::Validated) {
        return Err(Error::Cancelled);
    }
    let writing = !request.dry_run;
    if writing && !location.writable() {
        let path = location.path().to_path_buf();
        return Ok(Report::invalid(skill, lang, vec![not_writable(&path, field, lang)]));
    }
    let root = location.path().to_path_buf();
    let mut notes = Vec::new();
    let (project, _lock) = if writing {
        let (dir, lock) = crate::locate::lock(location)?;
        match crate::journal::recover(&dir)? {
            Some(crate::journal::Recovered::Suspicious { reason }) => return Err(Error::SuspiciousJournal { reason }),
            Some(recovered) => notes.push(recovered_note(&recovered, lang)),
            None => {}
        }
        (Some(dir), Some(lock))
    } else {
        let dir = match location {
            Location::Existing(dir) => Some(dir),
            Location::New { .. } => None,
        };
        if dir.as_ref().is_some_and(crate::journal::pending) {
            notes.push(lang.say().journal_waiting());
        }
        (dir, None)
    };
    // Inspection: the project's facts, the skill's `let` values over them, then its refusals,
    // all before anything is planned.
    let mut input = input;
    input.context.extend(resolved.values.clone());
    let owned = owned_files(project.as_ref(), skill.id())?;
    let facts = crate::inspect::inspect(project.as_ref(), &skill.spec.inspect, &owned)?;
    input.context.insert("project".into(), facts.to_value());
    for item in &skill.spec.lets {
        let text = crate::plan::render_inline(skill, &item.value, "let", &input.context)?;
        let value = match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text),
        };
        input.context.insert(item.name.clone(), value);
    }
    for rule in &skill.spec.refuse {
        if crate::plan::applies(&rule.when, &input.context) {
            let message = crate::plan::render_inline(skill, rule.message.get(lang), "refuse", &input.context)?;
            tracing::info!(skill = %skill.id(), "the skill refuses this project");
            let mut report =
                Report::invalid(skill, lang, vec![FieldError { field: format!("/{field}"), message: message.clone() }]);
            report.message = message;
            return Ok(report.scrub());
        }
    }
    let mut skill_notes = Vec::new();
    for rule in &skill.spec.notes {
        if crate::plan::applies(&rule.when, &input.context) {
            skill_notes.push(crate::plan::render_inline(skill, rule.message.get(lang), "notes", &input.context)?);
        }
    }
    let options = crate::plan::Options { force: request.force, skip_existing: request.skip_existing };
    let plan = crate::plan::plan(skill, &input, project.as_ref(), root, options, lang)?;
    if !observe(Stage::Planned { files: plan.files.len() }) {
        return Err(Error::Cancelled);
    }
    let status = if plan.has_conflicts() {
        Status::Conflict
    } else if request.dry_run {
        Status::DryRun
    } else {
        Status::Applied
    };
    let mut backups = Vec::new();
    if status == Status::Applied {
        if !observe(Stage::Applying) {
            return Err(Error::Cancelled);
        }
        let project = project.as_ref().expect("a writing run holds its project");
        backups = crate::apply::apply(&plan, project)?.backups;
    }
    let mut report = Report::new(skill, status, lang).with_plan(&plan, &backups);
    report.notes = notes;
    report.notes.extend(resolved.notes);
    report.notes.extend(input.notes.iter().cloned());
    report.notes.extend(plan.notes.iter().cloned());
    report.notes.extend(skill_notes);
    report.message = crate::report::message(&report);
    observe(Stage::Done);
    tracing::info!(skill = %skill.id(), status = ?report.status, files = report.files.len(), "run finished");
    Ok(report.scrub())
}

/// The files `skill` wrote as a whole on an earlier run here (its answers), which inspection
/// does not count as the project's own.
/// An answers file that cannot be read (a link, a FIFO) is the error the plan would give.
fn owned_files(
    project: Option<&crate::project_dir::ProjectDir>,
    skill: &str,
) -> Result<std::collections::BTreeSet<String>> {
    let Some(project) = project else { return Ok(Default::default()) };
    let rel = crate::paths::RelPath::parse(crate::provenance::FILE).expect("a relative path");
    let bytes = project.read(&rel, crate::state::MAX_STATE_BYTES)?.unwrap_or_default();
    Ok(crate::provenance::Answers::parse(&bytes)
        .and_then(|a| a.skill(skill).map(|s| s.files.keys().cloned().collect()))
        .unwrap_or_default())
}

/// A project path that cannot be used, as a field error in the request's language.
fn project_error(error: &LocateError, field: &str, lang: Lang) -> FieldError {
    let say = lang.say();
    let message = match error {
        LocateError::NotADirectory { path } => say.project_is_file(&path.display().to_string()),
        LocateError::Missing { path } => say.project_missing(&path.display().to_string()),
        LocateError::Outside { roots, .. } => say.project_outside(&roots.to_string()),
        other => say.project_unusable(&other.to_string()),
    };
    FieldError { field: format!("/{field}"), message }
}

fn not_writable(path: &Path, field: &str, lang: Lang) -> FieldError {
    let message = lang.say().project_not_writable(&path.display().to_string());
    FieldError { field: format!("/{field}"), message }
}

fn recovered_note(recovered: &crate::journal::Recovered, lang: Lang) -> String {
    use crate::journal::Recovered;
    match recovered {
        Recovered::RolledBack { files } => lang.say().recovered_rolled_back(*files),
        Recovered::CleanedUp => lang.say().recovered_cleaned_up(),
        Recovered::Suspicious { reason } => reason.clone(),
    }
}

/// `Ok` when `project` lies under one of `roots` (or there are none), else the field error for
/// the skill's project field. Used by chat to refuse a project as soon as it is named; a path that
/// cannot be opened for another reason is left to the run, which refuses it with its own error.
pub fn check_root(project: &str, field: &str, roots: &Roots, lang: Lang) -> Result<(), FieldError> {
    match roots.locate(project) {
        Err(e @ LocateError::Outside { .. }) => Err(project_error(&e, field, lang)),
        _ => Ok(()),
    }
}
