//! The one way through: skill -> validated input -> plan -> apply -> report. Every transport
//! (CLI, MCP server, chat) calls [`run`]; none holds skill logic of its own.

use serde_json::Value;

use crate::error::{Error, Result};
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
/// invalid input); `Err` for an unknown skill, an unsafe path, an I/O failure or cancellation.
pub fn run(registry: &Registry, request: &Request, observe: &mut dyn FnMut(Stage) -> bool) -> Result<Report> {
    let skill = registry.get(&request.skill)?;
    skill.validator()?; // compiled on first use: a broken schema is a registry error, not bad input
    let lang = request.lang.unwrap_or(Lang::En);
    let input = match crate::input::prepare(skill, &request.input, lang) {
        Ok(input) => input,
        Err(errors) => return Ok(Report::invalid(skill, lang, errors)),
    };
    if !observe(Stage::Validated) {
        return Err(Error::Cancelled);
    }
    let plan = match crate::plan::plan(skill, &input, request.force, lang) {
        Err(Error::NotADirectory { path }) => {
            // The project path is input: report it as a field error, in the request's language.
            let error = crate::input::FieldError {
                field: "/projectPath".into(),
                message: match lang {
                    Lang::Ko => format!("{}은(는) 파일입니다. 프로젝트 디렉터리를 지정하세요", path.display()),
                    Lang::En => format!("{} is a file; give the project's directory", path.display()),
                },
            };
            return Ok(Report::invalid(skill, lang, vec![error]));
        }
        other => other?,
    };
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
        backups = crate::apply::apply(&plan)?.backups;
    }
    let mut report = Report::new(skill, status, lang).with_plan(&plan, &backups);
    report.notes = input.notes.clone();
    report.message = crate::report::message(&report);
    observe(Stage::Done);
    tracing::info!(skill = %skill.id(), status = ?report.status, files = report.files.len(), "run finished");
    Ok(report.scrub(&input.secrets))
}
