//! The one way through: skill -> validated input -> plan -> apply -> report. Every transport
//! (CLI, MCP server, chat) calls [`run`]; none holds skill logic of its own.

use std::path::{Path, PathBuf};

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
    /// When not empty, the project must lie under one of these directories (canonical paths,
    /// see [`crate::plan::resolve_root`]); a server sets them, the command line does not.
    pub roots: Vec<PathBuf>,
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
    let lang = request.lang.unwrap_or(Lang::En);
    let input = match crate::input::prepare(skill, &request.input, lang) {
        Ok(input) => input,
        Err(errors) => return Ok(Report::invalid(skill, lang, errors)),
    };
    if let Some(error) = outside_roots(&input, &request.roots, lang) {
        return Ok(Report::invalid(skill, lang, vec![error]));
    }
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

/// A field error when the project lies outside every allowed root.
fn outside_roots(input: &crate::input::ValidInput, roots: &[PathBuf], lang: Lang) -> Option<crate::input::FieldError> {
    let project = input.context.get("projectPath").and_then(Value::as_str).unwrap_or(".");
    check_root(project, roots, lang).err()
}

/// `Ok` when `project` resolves (symbolic links followed, a path that does not exist yet through
/// its nearest existing ancestor) to a directory under one of `roots`, or when `roots` is empty;
/// else the field error for `/projectPath`. A path that cannot be resolved is left to the
/// planner, which fails on it with its own error before anything is written.
pub fn check_root(project: &str, roots: &[PathBuf], lang: Lang) -> Result<(), crate::input::FieldError> {
    if roots.is_empty() {
        return Ok(());
    }
    match crate::plan::resolve_root(Path::new(project)) {
        Err(_) => return Ok(()),
        Ok(resolved) if roots.iter().any(|root| resolved.starts_with(root)) => return Ok(()),
        Ok(_) => {}
    }
    let list = roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(", ");
    Err(crate::input::FieldError {
        field: "/projectPath".into(),
        message: match lang {
            Lang::Ko => format!("허용된 디렉터리 밖입니다. 다음 디렉터리 안의 경로를 지정하세요: {list}"),
            Lang::En => format!("is outside the allowed directories; give a path under {list}"),
        },
    })
}
