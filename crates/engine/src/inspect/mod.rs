//! Project inspection: facts about the project a skill lands in, computed once before planning
//! and handed to the skill as data, under the context key `project` (so a step's `when`, a
//! `refuse` rule, a `let` value, a template or a command can read `project.python.manager`).
//!
//! Each submodule finds one kind of fact and knows nothing of any skill:
//! - [`python`]: the package manager, where the dependencies live (PEP 621, Poetry, uv, pdm,
//!   `requirements*.txt`, a `requirements/` directory, the file a Dockerfile installs), the lock
//!   and the versions declared and locked;
//! - [`settings`]: the settings module (pydantic-settings v2, pydantic v1 `BaseSettings`, plain
//!   constants), its class, how it is reached (instance, getter), its fields and the one holding
//!   a URL whose name the skill lists (`inspect.settings.urlFields` in `skill.json`);
//! - [`alembic`]: an existing Alembic setup (ini, script location, env.py, revisions);
//! - [`layout`]: the import root (`.` or `src`) and the top-level packages;
//! - [`sqlalchemy`]: a database engine the project already makes (async or sync).
//!
//! Every read goes through the project's [`ProjectDir`] handle (bounded, no link followed); a file
//! that cannot be read is, for inspection, a file that is not there, except where the plan itself
//! would read it (see [`Reader::must`]). Files the skill wrote itself on an earlier run (listed in
//! the answers file) are not the project's own and are left out of the facts, so a second run
//! sees the project as the first one did. The JSON shape is documented in the README ("What
//! database-setup detects and adopts").

pub mod alembic;
pub mod layout;
pub mod python;
pub mod settings;
pub mod sqlalchemy;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Result;
use crate::paths::RelPath;
use crate::project_dir::{FsError, Kind, ProjectDir};

/// The largest file inspection reads (a lock file of a large project fits).
const MAX_INSPECT_BYTES: u64 = 4 * 1024 * 1024;

/// What a skill asks inspection to look for (`inspect` in `skill.json`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    #[serde(default)]
    pub settings: settings::Spec,
}

/// Every fact, as the context's `project` value.
#[derive(Debug, Clone, Serialize)]
pub struct Facts {
    pub python: python::Facts,
    pub settings: settings::Facts,
    pub alembic: alembic::Facts,
    pub layout: layout::Facts,
    pub sqlalchemy: sqlalchemy::Facts,
}

impl Facts {
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("facts serialize")
    }
}

/// Inspects `project` (`None`: a directory that does not exist yet, so every fact is empty).
/// `owned` are the files the skill wrote itself on an earlier run.
///
/// The Python project may sit in a subdirectory (a repository with `backend/` and `frontend/`):
/// then every fact is found there ([`layout::python_root`]), and every path in the facts is
/// still relative to the project directory, except `python.installFile`, an argument of a
/// command run in the Python root.
pub fn inspect(project: Option<&ProjectDir>, spec: &Spec, owned: &BTreeSet<String>) -> Result<Facts> {
    let top = Reader { project, owned, base: String::new() };
    let base = layout::python_root(&top);
    let reader = Reader { project, owned, base: base.clone() };
    let mut layout = layout::inspect(&reader);
    layout.python_root = base.clone();
    let mut facts = Facts {
        python: python::inspect(&reader)?,
        settings: settings::inspect(&reader, &spec.settings, &layout),
        alembic: alembic::inspect(&reader),
        sqlalchemy: sqlalchemy::inspect(&reader, &layout),
        layout,
    };
    // Paths found under the Python root, as paths of the project.
    let up = |p: &mut String| *p = join(&base, p);
    let py = &mut facts.python;
    up(&mut py.dependency_file);
    py.dockerfile_requirements.iter_mut().chain(&mut py.lock_file).for_each(up);
    let settings = &mut facts.settings;
    settings.file.iter_mut().for_each(up);
    // `env_file` is read from where the app starts: the Python root.
    settings.env_path = settings.env_file.as_deref().and_then(|f| python::normalize(&join(&base, f)));
    settings.env_file_outside = settings.env_file.is_some() && settings.env_path.is_none();
    let alembic = &mut facts.alembic;
    alembic.ini.iter_mut().chain(&mut alembic.script_location).chain(&mut alembic.env_py).for_each(up);
    facts.sqlalchemy.file.iter_mut().for_each(up);
    Ok(facts)
}

/// Reads a project for inspection, beneath `base` (the Python root).
pub struct Reader<'a> {
    project: Option<&'a ProjectDir>,
    owned: &'a BTreeSet<String>,
    base: String,
}

impl Reader<'_> {
    /// A UTF-8 file's text, `None` when it is missing, unreadable, not text or the skill's own.
    pub fn text(&self, path: &str) -> Option<String> {
        match self.read(path) {
            Ok(text) => text,
            Err(e) => {
                tracing::debug!(path, error = %e, "inspection skips a file it cannot read");
                None
            }
        }
    }

    /// Like [`Reader::text`], but an unreadable file (a FIFO, a link, a device, too large) is an
    /// error: for files the plan would read anyway, whose problem must be reported, not hidden.
    pub fn must(&self, path: &str) -> Result<Option<String>> {
        Ok(self.read(path)?)
    }

    fn read(&self, path: &str) -> std::result::Result<Option<String>, FsError> {
        let path = join(&self.base, path);
        let (Some(project), Ok(rel)) = (self.project, RelPath::parse(&path)) else { return Ok(None) };
        if self.owned.contains(rel.as_str()) {
            return Ok(None);
        }
        Ok(project.read(&rel, MAX_INSPECT_BYTES)?.and_then(|b| String::from_utf8(b).ok()))
    }

    /// Whether a regular file is at `path` (not followed if a link).
    pub fn is_file(&self, path: &str) -> bool {
        self.kind(path) == Some(Kind::File)
    }

    pub fn is_dir(&self, path: &str) -> bool {
        self.kind(path) == Some(Kind::Dir)
    }

    fn kind(&self, path: &str) -> Option<Kind> {
        let rel = RelPath::parse(&join(&self.base, path)).ok()?;
        self.project?.stat(&rel).ok().flatten().map(|m| m.kind)
    }

    /// The names in directory `path` (`""`: the top) with their kinds, sorted; empty when it is
    /// missing or cannot be listed.
    pub fn list(&self, path: &str) -> Vec<(String, Kind)> {
        let Some(project) = self.project else { return Vec::new() };
        let path = join(&self.base, path);
        let path = path.as_str();
        let rel = if path.is_empty() { None } else { RelPath::parse(path).ok() };
        if !path.is_empty() && rel.is_none() {
            return Vec::new();
        }
        project.list(rel.as_ref()).ok().flatten().unwrap_or_default()
    }
}

/// `a/b` joined, where either may be empty (the top).
pub fn join(dir: &str, name: &str) -> String {
    match (dir.is_empty(), name.is_empty()) {
        (true, _) => name.to_owned(),
        (_, true) => dir.to_owned(),
        _ => format!("{dir}/{name}"),
    }
}

/// The value at a dotted path of the context (`project.python.manager`).
pub fn lookup<'a>(context: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = context.get(parts.next()?)?;
    for part in parts {
        value = value.get(part)?;
    }
    Some(value)
}

/// A context value as `when` compares it: a string as it is, a boolean as `true`/`false`, a
/// number in decimal, null or a missing value as `null`, a list or object as `set` (and `null`
/// when empty).
pub fn when_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "null".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(a)) if a.is_empty() => "null".into(),
        Some(Value::Object(o)) if o.is_empty() => "null".into(),
        Some(_) => "set".into(),
    }
}
