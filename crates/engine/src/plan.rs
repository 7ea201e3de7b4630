//! Planning: runs a skill's steps in memory. Every file is rendered (or merged with what is on
//! disk) and compared with the disk, giving each a [`FileAction`]. Nothing here writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::input::ValidInput;
use crate::paths::RelPath;
use crate::project_dir::{MAX_READ_BYTES, ProjectDir};
use crate::registry::{IfExists, Skill, Step, When};
use crate::trigger::Lang;

/// What happens (or would happen) to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    Created,
    Updated,
    Unchanged,
    Skipped,
    Conflict,
}

impl FileAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FileAction::Created => "created",
            FileAction::Updated => "updated",
            FileAction::Unchanged => "unchanged",
            FileAction::Skipped => "skipped",
            FileAction::Conflict => "conflict",
        }
    }
    /// Whether applying the plan writes this file.
    pub fn writes(self) -> bool {
        matches!(self, FileAction::Created | FileAction::Updated)
    }
}

/// One file of the plan: its new content and what is on disk now.
#[derive(Debug, Clone)]
pub struct PlannedFile {
    /// Where it is written, inside the project.
    pub path: RelPath,
    pub action: FileAction,
    pub content: Vec<u8>,
    pub existing: Option<Vec<u8>>,
    /// Holds secrets: never shown in a diff, created with owner-only permissions.
    pub secret: bool,
    /// A replaced file whose old content is kept as a backup (`--force` over a conflict).
    pub backup: bool,
    /// Why a file is skipped or in conflict, in the request's language.
    pub reason: Option<String>,
    /// The skill owns the whole file (a `render` step): its hash goes to the answers file.
    pub owned: bool,
}

/// A follow-up command for the user.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedCommand {
    pub run: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// The skill names it as the next thing to run (`next` in skill.json).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub next: bool,
}

/// Everything a run would do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The project directory, as the request named it (absolute), for reports.
    pub root: PathBuf,
    pub files: Vec<PlannedFile>,
    pub commands: Vec<PlannedCommand>,
    /// What the plan changed in the user's own files and why (a raised version floor).
    pub notes: Vec<String>,
}

impl Plan {
    pub fn has_conflicts(&self) -> bool {
        self.files.iter().any(|f| f.action == FileAction::Conflict)
    }
}

/// How a plan treats files that already exist with other content.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Replace them, keeping a backup.
    pub force: bool,
    /// Leave them as they are and write the rest.
    pub skip_existing: bool,
}

/// Plans `skill` for `input` into `project` (`None`: a directory that does not exist yet, so
/// nothing is on disk), named `root` in the report. Every read goes through the project's handle.
pub fn plan(
    skill: &Skill,
    input: &ValidInput,
    project: Option<&ProjectDir>,
    root: PathBuf,
    options: Options,
    lang: Lang,
) -> Result<Plan> {
    let mut context = input.context.clone();
    let answers_path = crate::state::ANSWERS;
    let mut planner =
        Planner { project, files: Vec::new(), disk: BTreeMap::new(), lang, force: options.force, answers: None };
    let answers = planner.disk(answers_path)?.as_deref().and_then(crate::provenance::Answers::parse);
    planner.answers = answers.as_ref().and_then(|a| a.skill(skill.id())).cloned();
    let mut secret_files = Vec::new();
    let mut notes = Vec::new();
    for step in &skill.spec.steps {
        match step {
            Step::Render { path, template, if_exists, vars, when } if applies(when, &context) => {
                let path = step_path(&render_str(skill, path, path, &context)?)?;
                let path = path.as_str();
                let mut ctx = context.clone();
                ctx.extend(vars.clone());
                let text = render(skill, template, path, &ctx)?;
                planner.whole(path, text.into_bytes(), *if_exists, false)?;
            }
            Step::EnvFile { path, secret, set, keep_existing, same_database, when } if applies(when, &context) => {
                let path = step_path(&render_str(skill, path, path, &context)?)?;
                let path = path.as_str();
                // Only a file that holds secrets is rendered with them; any other sees them redacted.
                let context = if *secret { input.secrets.reveal(&context) } else { context.clone() };
                let mut values = BTreeMap::new();
                for (key, value) in set {
                    let key = render_str(skill, key, path, &context)?;
                    values.insert(key, render_str(skill, value, path, &context)?);
                }
                let same = |existing: &str, wanted: &str| same_database_url(skill, existing, wanted);
                let env_options = crate::merge::EnvOptions {
                    force: options.force,
                    keep_existing: *keep_existing,
                    same: same_database.then_some(&same as &dyn Fn(&str, &str) -> bool),
                };
                planner.env_file(path, &values, *secret, env_options)?;
                secret_files.extend(secret.then(|| path.to_owned()));
            }
            Step::PythonClassField { path, class, name, line, when } if applies(when, &context) => {
                let path = render_str(skill, path, path, &context)?;
                let path = step_path(&path)?;
                let path = path.as_str();
                let class = render_str(skill, class, path, &context)?;
                let name = render_str(skill, name, path, &context)?;
                let line = render_str(skill, line, path, &context)?;
                planner.merge(path, |current| crate::merge::python_class_field(current, &class, &name, &line))?;
                if let Some(f) =
                    planner.files.iter_mut().find(|f| f.path.as_str() == path && f.action == FileAction::Updated)
                {
                    f.reason = Some(lang.say().plan_class_field(&class, &line));
                }
            }
            Step::PythonStatement { path, statement, replace, keep, after, imports, when }
                if applies(when, &context) =>
            {
                let path = step_path(&render_str(skill, path, path, &context)?)?;
                let path = path.as_str();
                let mut ctx = context.clone();
                let name = replace.as_ref().map(|r| render_str(skill, r, path, &context)).transpose()?;
                // The file as the plan has it before this step: for `current`, and to tell whether
                // this step changed it.
                let unedited = planner.current(path)?;
                let mut before = None;
                if let Some(name) = &name {
                    let text = unedited.as_deref().and_then(|b| std::str::from_utf8(b).ok());
                    before = text.and_then(|t| crate::pystmt::assigned_value(t, name).ok().flatten());
                    ctx.insert("current".into(), before.clone().map_or(Value::Null, Value::String));
                }
                let each = |t: &String| render_str(skill, t, path, &ctx);
                let statement = each(statement)?;
                let keep = keep.as_ref().map(each).transpose()?;
                let after = after.as_ref().map(each).transpose()?;
                let imports = imports.iter().map(each).collect::<Result<Vec<_>>>()?;
                let place = match (&name, &after) {
                    (Some(name), _) => crate::pystmt::Place::Replace { name, keep: keep.as_deref() },
                    (None, anchor) => crate::pystmt::Place::After { anchor: anchor.as_deref().unwrap_or_default() },
                };
                let lang = planner.lang;
                planner.merge(path, |current| {
                    let with_imports = match current {
                        Some(text) => {
                            Some(crate::pyedit::ensure(Some(text), &imports, &[]).map_err(|p| p.get(lang).to_owned())?)
                        }
                        None => None,
                    };
                    crate::pystmt::ensure(with_imports.as_deref(), &statement, place)
                        .map_err(|p| p.get(lang).to_owned())
                })?;
                let one_line = statement.split_whitespace().collect::<Vec<_>>().join(" ");
                let say = lang.say();
                let why = match (&name, &before, &after) {
                    (Some(name), Some(old), _) => say.plan_statement_replaced(name, old, &one_line),
                    (_, _, Some(anchor)) => say.plan_statement_after(anchor, &one_line),
                    _ => say.plan_statement_added(&one_line),
                };
                if let Some(f) = planner.files.iter_mut().find(|f| {
                    f.path.as_str() == path && f.action == FileAction::Updated && unedited.as_ref() != Some(&f.content)
                }) {
                    f.reason = Some(match f.reason.take() {
                        Some(earlier) if !earlier.contains(&why) => format!("{earlier}; {why}"),
                        _ => why,
                    });
                }
            }
            Step::Lines { path, lines, when } if applies(when, &context) => {
                let path = step_path(&render_str(skill, path, path, &context)?)?;
                let path = path.as_str();
                planner.merge(path, |current| crate::merge::lines(current, lines))?;
            }
            Step::PythonImports { path, template, imports, all, when } if applies(when, &context) => {
                let path = step_path(&render_str(skill, path, path, &context)?)?;
                let path = path.as_str();
                let initial = match template {
                    Some(template) if planner.current(path)?.is_none() => {
                        Some(render(skill, template, path, &context)?)
                    }
                    _ => None,
                };
                let each = |texts: &[String]| -> Result<Vec<String>> {
                    texts.iter().map(|t| render_str(skill, t, path, &context)).collect()
                };
                let (imports, all) = (each(imports)?, each(all)?);
                let lang = planner.lang;
                planner.merge(path, |current| {
                    crate::pyedit::ensure(current.or(initial.as_deref()), &imports, &all)
                        .map_err(|p| p.get(lang).to_owned())
                })?;
            }
            Step::PythonDependencies { packages, by_field, when } if applies(when, &context) => {
                let mut wanted = packages.clone();
                for (field, by_value) in by_field {
                    if let Some(extra) = context.get(field).and_then(Value::as_str).and_then(|v| by_value.get(v)) {
                        wanted.extend(extra.iter().cloned());
                    }
                }
                let fact = |key: &str| {
                    crate::inspect::lookup(&context, &format!("project.python.{key}")).and_then(Value::as_str)
                };
                let path = fact("dependencyFile").unwrap_or("requirements.txt").to_owned();
                let style = crate::merge::DependencyStyle::parse(fact("dependencyStyle").unwrap_or(""));
                let mut raised = Vec::new();
                planner.merge(&path, |current| {
                    let (text, changes) = crate::merge::dependencies(style, current, &wanted)?;
                    raised = changes;
                    Ok(text)
                })?;
                let written = planner.files.iter().any(|f| f.path.as_str() == path && f.action.writes());
                for r in raised.iter().filter(|_| written) {
                    notes.push(lang.say().plan_raised(&path, &r.name, &r.from, &r.to));
                }
                context.insert("dependencies".into(), Value::Array(wanted.into_iter().map(Value::String).collect()));
            }
            _ => {}
        }
    }
    // Judged once every step is planned: a `.gitignore` line this run adds counts.
    for path in secret_files {
        planner.out_of_git(&root, &path);
    }
    let mut commands = Vec::new();
    for command in skill.spec.commands.iter().filter(|c| applies(&c.when, &context)) {
        let run = render_str(skill, &command.run, "commands", &context)?;
        if !run.trim().is_empty() {
            let about = command.about.as_ref().map(|a| a.get(lang).to_owned());
            commands.push(PlannedCommand { run, about, next: command.next });
        }
    }
    if options.skip_existing {
        planner.skip_conflicts();
    }
    let owned: BTreeMap<String, String> = planner
        .files
        .iter()
        .filter(|f| {
            f.owned
                && !f.secret
                && matches!(f.action, FileAction::Created | FileAction::Updated | FileAction::Unchanged)
        })
        .map(|f| (f.path.to_string(), crate::provenance::hash(&f.content)))
        .collect();
    let text = answers.unwrap_or_default().with_run(skill, input, owned).to_json();
    planner.state_file(answers_path, text.into_bytes())?;
    let files = planner.files;
    Ok(Plan { root, files, commands, notes })
}

/// Whether two URLs name the same database: both read through the skill's `database-url` derive
/// step give the same async URL (`postgresql://u:p@h/db` and `postgresql+asyncpg://u:p@h/db`).
fn same_database_url(skill: &Skill, existing: &str, wanted: &str) -> bool {
    let Some(crate::registry::Derive::DatabaseUrl(spec)) = skill.spec.derive.first() else { return false };
    match (crate::dburl::derive(spec, existing, None, Lang::En), crate::dburl::derive(spec, wanted, None, Lang::En)) {
        (Ok(a), Ok(b)) => a.url.expose() == b.url.expose(),
        _ => false,
    }
}

/// Whether every field of `when` (a dotted path into the context) has one of its values.
pub fn applies(when: &When, context: &Map<String, Value>) -> bool {
    when.iter().all(|(field, values)| {
        let v = crate::inspect::when_text(crate::inspect::lookup(context, field));
        values.contains(&v)
    })
}

pub(crate) fn render_inline(skill: &Skill, text: &str, path: &str, context: &Map<String, Value>) -> Result<String> {
    render_str(skill, text, path, context)
}

fn render(skill: &Skill, template: &str, path: &str, context: &Map<String, Value>) -> Result<String> {
    let ctx = tera::Context::from_value(Value::Object(context.clone())).expect("an object is a context");
    skill.templates.render(template, &ctx).map_err(|e| Error::Render {
        template: template.to_owned(),
        path: path.to_owned(),
        message: crate::registry::tera_message(&e),
    })
}

fn render_str(skill: &Skill, text: &str, path: &str, context: &Map<String, Value>) -> Result<String> {
    if !text.contains("{{") && !text.contains("{%") {
        return Ok(text.to_owned());
    }
    if let Some(filled) = crate::fill::fill(text, context) {
        return Ok(filled);
    }
    let ctx = tera::Context::from_value(Value::Object(context.clone())).expect("an object is a context");
    skill.templates.render_inline(text, &ctx).map_err(|e| Error::Render {
        template: "(inline)".to_owned(),
        path: path.to_owned(),
        message: crate::registry::tera_message(&e),
    })
}

struct Planner<'a> {
    project: Option<&'a ProjectDir>,
    files: Vec<PlannedFile>,
    /// What each path holds on disk, read once.
    disk: BTreeMap<RelPath, Option<Vec<u8>>>,
    lang: Lang,
    force: bool,
    /// What the skill recorded of its previous run in this project.
    answers: Option<crate::provenance::SkillAnswers>,
}

impl Planner<'_> {
    /// What the disk holds at `path` (read once, through the project's handle).
    fn disk(&mut self, path: &str) -> Result<&Option<Vec<u8>>> {
        let rel = step_path(path)?;
        if !self.disk.contains_key(&rel) {
            // skillrun's own state is small; a large file there is not one it wrote.
            let limit = if rel.starts_with(&crate::state::rel(crate::state::DIR)) {
                crate::state::MAX_STATE_BYTES
            } else {
                MAX_READ_BYTES
            };
            let existing = match self.project {
                Some(project) => project.read(&rel, limit)?,
                None => None,
            };
            self.disk.insert(rel.clone(), existing);
        }
        Ok(&self.disk[&rel])
    }

    /// The file's content as the plan has it so far: an earlier step's output, else the disk's.
    fn current(&mut self, path: &str) -> Result<Option<Vec<u8>>> {
        if let Some(f) = self.files.iter().find(|f| f.path.as_str() == path) {
            return Ok(Some(f.content.clone()));
        }
        Ok(self.disk(path)?.clone())
    }

    fn record(
        &mut self,
        path: &str,
        content: Vec<u8>,
        action: FileAction,
        secret: bool,
        reason: Option<String>,
    ) -> Result<()> {
        if let Some(f) = self.files.iter_mut().find(|f| f.path.as_str() == path) {
            // A later step that cannot merge into a file an earlier step planned: a conflict.
            if action == FileAction::Conflict {
                f.action = action;
                f.reason = reason;
                return Ok(());
            }
            f.content = content;
            f.secret |= secret;
            if f.existing.as_deref() == Some(f.content.as_slice()) {
                f.action = FileAction::Unchanged;
            } else if f.action == FileAction::Unchanged {
                f.action = action;
            }
            return Ok(());
        }
        let existing = self.disk(path)?.clone();
        let backup = self.force && action == FileAction::Updated && reason.is_some();
        self.files.push(PlannedFile {
            path: step_path(path)?,
            action,
            content,
            existing,
            secret,
            backup,
            reason,
            owned: false,
        });
        Ok(())
    }

    /// `--skip-existing`: every conflict becomes a file left as it is.
    fn skip_conflicts(&mut self) {
        let tag = self.lang.say().plan_skipped();
        for f in self.files.iter_mut().filter(|f| f.action == FileAction::Conflict) {
            f.action = FileAction::Skipped;
            f.content = f.existing.clone().unwrap_or_default();
            let why = f.reason.take().unwrap_or_default();
            f.reason = Some(if why.is_empty() { tag.to_owned() } else { format!("{tag}: {why}") });
        }
    }

    /// A file the runtime itself keeps in the project: always brought up to date, never a conflict.
    fn state_file(&mut self, path: &str, content: Vec<u8>) -> Result<()> {
        let action = match self.disk(path)? {
            None => FileAction::Created,
            Some(c) if *c == content => FileAction::Unchanged,
            Some(_) => FileAction::Updated,
        };
        self.record(path, content, action, false, None)
    }

    /// Whether the file on disk is exactly what this skill wrote there last time (so the user
    /// has not edited it, and a new version may replace it without asking).
    fn written_by_skill(&self, path: &str, current: &[u8]) -> bool {
        self.answers.as_ref().and_then(|a| a.files.get(path)).is_some_and(|h| *h == crate::provenance::hash(current))
    }

    /// A file the skill owns as a whole.
    fn whole(&mut self, path: &str, content: Vec<u8>, if_exists: IfExists, secret: bool) -> Result<()> {
        let current = self.current(path)?;
        let (action, reason) = match &current {
            None => (FileAction::Created, None),
            Some(c) if *c == content => (FileAction::Unchanged, None),
            Some(_) if if_exists == IfExists::Keep => (FileAction::Skipped, Some(self.lang.say().plan_kept())),
            Some(c) if self.written_by_skill(path, c) => {
                (FileAction::Updated, Some(self.lang.say().plan_ours_updated()))
            }
            Some(_) if self.force => (FileAction::Updated, Some(self.lang.say().plan_forced())),
            Some(_) => (FileAction::Conflict, Some(self.lang.say().plan_differs())),
        };
        let ours = matches!(&current, Some(c) if self.written_by_skill(path, c)) && action == FileAction::Updated;
        let content = match current {
            Some(kept) if action == FileAction::Skipped => kept,
            _ => content,
        };
        self.record(path, content, action, secret, reason)?;
        if let Some(f) = self.files.iter_mut().find(|f| f.path.as_str() == path) {
            f.owned = true;
            // The skill's own unedited output is reproducible: it needs no backup.
            f.backup &= !ours;
        }
        Ok(())
    }

    /// A file merged with what exists (`.gitignore`, requirements).
    fn merge(&mut self, path: &str, f: impl FnOnce(Option<&str>) -> std::result::Result<String, String>) -> Result<()> {
        let current = self.current(path)?;
        let text = match current.as_deref().map(std::str::from_utf8) {
            Some(Err(_)) => return self.unmergeable(path, current.unwrap_or_default(), None),
            Some(Ok(text)) => Some(text),
            None => None,
        };
        let merged = match f(text) {
            Ok(merged) => merged,
            Err(message) => return self.unmergeable(path, current.unwrap_or_default(), Some(message)),
        };
        let action = match &current {
            None => FileAction::Created,
            Some(c) if c == merged.as_bytes() => FileAction::Unchanged,
            Some(_) => FileAction::Updated,
        };
        self.record(path, merged.into_bytes(), action, false, None)
    }

    /// A file the skill must merge into but cannot read: a conflict that says why.
    fn unmergeable(&mut self, path: &str, current: Vec<u8>, problem: Option<String>) -> Result<()> {
        let reason = match problem {
            Some(problem) => self.lang.say().plan_unmergeable(&problem),
            None => self.lang.say().plan_not_utf8(),
        };
        self.record(path, current, FileAction::Conflict, false, Some(reason))
    }

    fn env_file(
        &mut self,
        path: &str,
        values: &BTreeMap<String, String>,
        secret: bool,
        options: crate::merge::EnvOptions<'_>,
    ) -> Result<()> {
        let current = self.current(path)?;
        let text = match current.as_deref().map(std::str::from_utf8) {
            Some(Err(_)) => return self.unmergeable(path, current.unwrap_or_default(), None),
            Some(Ok(text)) => Some(text),
            None => None,
        };
        let merged = crate::merge::env_file(text, values, options);
        let (action, reason) = match (&current, &merged.conflicts[..]) {
            (_, [_, ..]) => {
                let keys = merged.conflicts.join(", ");
                (FileAction::Conflict, Some(self.lang.say().plan_env_conflict(&keys)))
            }
            (None, _) => (FileAction::Created, None),
            (Some(c), _) if c == merged.text.as_bytes() => (FileAction::Unchanged, None),
            (Some(_), _) if merged.replaced => (FileAction::Updated, Some(self.lang.say().plan_env_forced())),
            (Some(_), _) => (FileAction::Updated, None),
        };
        self.record(path, merged.text.into_bytes(), action, secret, reason)
    }

    /// A file holding secrets that git would commit (tracked, or not ignored once the plan's
    /// `.gitignore`s are written) is a conflict, even with `--force`, with the reason. `root` is
    /// the project's canonical path (git's rules reach above the project).
    fn out_of_git(&mut self, root: &Path, path: &str) {
        let verdict = crate::gitignore::check(root, path, &mut |rel| self.current(rel).ok().flatten());
        if let Some(reason) = verdict.conflict(path, self.lang)
            && let Some(f) = self.files.iter_mut().find(|f| f.path.as_str() == path)
        {
            f.action = FileAction::Conflict;
            f.reason = Some(reason);
            f.backup = false;
        }
    }
}

/// A step's path as a path inside the project, refused with the reason otherwise.
fn step_path(path: &str) -> Result<RelPath> {
    RelPath::parse(path).map_err(|e| Error::UnsafePath { path: path.to_owned(), reason: e.to_string() })
}
