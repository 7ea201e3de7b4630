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
///
/// A writing run locks the project (a second run on it waits), first undoes a run that died
/// part-way (see [`crate::journal`]), then plans and applies under the same lock.
pub fn run(registry: &Registry, request: &Request, observe: &mut dyn FnMut(Stage) -> bool) -> Result<Report> {
    let skill = registry.get(&request.skill)?;
    skill.validator()?; // compiled on first use: a broken schema is a registry error, not bad input
    let lang = request.lang.unwrap_or(Lang::En);
    let input = match crate::input::prepare(skill, &request.input, lang) {
        Ok(input) => input,
        Err(errors) => return Ok(Report::invalid(skill, lang, errors)),
    };
    // The project directory is resolved once, here: the roots check, the writability check, the
    // lock and the planner all use this path.
    let root = crate::plan::project_root(&input);
    if let Ok(resolved) = &root
        && let Err(error) = within_roots(resolved, &request.roots, lang)
    {
        return Ok(Report::invalid(skill, lang, vec![error]));
    }
    if !observe(Stage::Validated) {
        return Err(Error::Cancelled);
    }
    let writing = !request.dry_run;
    let root = match root {
        Ok(root) if writing && !crate::plan::writable(root.ancestors().find(|d| d.is_dir()).unwrap_or(&root)) => {
            Err(Error::NotWritable { path: root })
        }
        other => other,
    };
    let root = match root {
        Err(e @ (Error::NotADirectory { .. } | Error::ProjectMissing { .. } | Error::NotWritable { .. })) => {
            return Ok(Report::invalid(skill, lang, vec![project_error(&e, lang)]));
        }
        other => other?,
    };
    let mut notes = Vec::new();
    let _lock = if writing {
        let lock = crate::apply::lock_project(&root)?;
        if let Some(recovered) = crate::journal::recover(&root)? {
            notes.push(recovered_note(&recovered, lang));
        }
        Some(lock)
    } else {
        if crate::journal::pending(&root) {
            notes.push(match lang {
                Lang::Ko => "중단된 이전 실행의 저널(.skillrun/journal)이 있습니다. --dry-run 없이 실행하면 먼저 프로젝트를 이전 상태로 되돌립니다".into(),
                Lang::En => "an interrupted run left its journal (.skillrun/journal); the next run without --dry-run first puts the project back as it was".into(),
            });
        }
        None
    };
    let options = crate::plan::Options { force: request.force, skip_existing: request.skip_existing };
    let plan = crate::plan::plan(skill, &input, root, options, lang)?;
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
    report.notes = notes;
    report.notes.extend(input.notes.iter().cloned());
    report.message = crate::report::message(&report);
    observe(Stage::Done);
    tracing::info!(skill = %skill.id(), status = ?report.status, files = report.files.len(), "run finished");
    Ok(report.scrub())
}

/// A project path that cannot be used, as a field error in the request's language.
fn project_error(error: &Error, lang: Lang) -> crate::input::FieldError {
    let message = match (error, lang) {
        (Error::NotADirectory { path }, Lang::Ko) => {
            format!("{}은(는) 파일입니다. 프로젝트 디렉터리를 지정하세요", path.display())
        }
        (Error::ProjectMissing { path }, Lang::Ko) => format!(
            "{}도 그 상위 디렉터리도 없습니다. 경로를 확인하거나 상위 디렉터리를 먼저 만드세요 (mkdir -p)",
            path.display()
        ),
        (Error::NotWritable { path }, Lang::Ko) => {
            format!("{}에 쓸 권한이 없습니다. 쓰기 권한을 주거나 다른 디렉터리를 지정하세요", path.display())
        }
        (Error::NotADirectory { path }, Lang::En) => {
            format!("{} is a file; give the project's directory", path.display())
        }
        (Error::ProjectMissing { path }, Lang::En) => format!(
            "neither {} nor its parent directory exists; check the path, or create the parent first (mkdir -p)",
            path.display()
        ),
        (Error::NotWritable { path }, Lang::En) => {
            format!("{} is not writable by this user; grant write permission or give another directory", path.display())
        }
        (other, _) => other.to_string(),
    };
    crate::input::FieldError { field: "/projectPath".into(), message }
}

fn recovered_note(recovered: &crate::journal::Recovered, lang: Lang) -> String {
    use crate::journal::Recovered;
    match (recovered, lang) {
        (Recovered::RolledBack { files }, Lang::Ko) => {
            format!("중단된 이전 실행을 되돌렸습니다 (파일 {files}개 복원). 그 다음에 이번 실행을 했습니다")
        }
        (Recovered::RolledBack { files }, Lang::En) => {
            format!("an interrupted earlier run was rolled back first ({files} files put back as they were)")
        }
        (Recovered::CleanedUp, Lang::Ko) => "이전 실행이 남긴 저널을 정리했습니다".into(),
        (Recovered::CleanedUp, Lang::En) => "removed the journal an earlier run left behind after it finished".into(),
    }
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
        Err(_) => Ok(()),
        Ok(resolved) => within_roots(&resolved, roots, lang),
    }
}

/// `Ok` when the resolved project directory lies under one of `roots` (or there are none).
fn within_roots(resolved: &Path, roots: &[PathBuf], lang: Lang) -> Result<(), crate::input::FieldError> {
    if roots.is_empty() || roots.iter().any(|root| resolved.starts_with(root)) {
        return Ok(());
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
