//! The skill registry: loads `manifest.json`, each skill's input schema, steps (`skill.json`),
//! templates and `SKILL.md`, from a set held in memory (the one a binary embeds) or from a
//! directory given at run time, and validates them before anything runs. The engine carries no
//! skill of its own.
//!
//! Opening a set reads and checks the manifest only: listing and matching need nothing else (ids,
//! titles, descriptions, triggers, words), so they cost what the manifest holds, not every skill's
//! files. A skill is read and validated in full (input schema, `skill.json` against the skill
//! schema, `SKILL.md` front matter, its templates, the skills it requires) when it is first used:
//! run, shown, its schema printed, or described as a match. A broken skill is then an
//! [`Error::Registry`] naming its file, whenever that skill is used; the other skills of the set
//! list, match and run as if it were not broken. What needs every skill loads them all and fails on
//! the first broken one ([`Registry::skills`]: the MCP server's tools, the plugin), and
//! `skillrun check` reports each broken skill ([`Registry::load_all`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{OnceLock, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::trigger::{Lang, SkillTriggers, TriggerIndex, Words};

const MANIFEST_SCHEMA: &str = include_str!("../../../schemas/manifest.schema.json");
const SKILL_SCHEMA: &str = include_str!("../../../schemas/skill.schema.json");
/// The report's JSON Schema (MCP `outputSchema`, and what `--json` prints).
pub const REPORT_SCHEMA: &str = include_str!("../../../schemas/report.schema.json");

/// A text in both languages the runtime speaks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Localized {
    pub en: String,
    pub ko: String,
}

impl Localized {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ko => &self.ko,
        }
    }
}

/// Trigger phrases of one skill, per language.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Triggers {
    pub en: Vec<String>,
    pub ko: Vec<String>,
}

/// One entry of `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestEntry {
    pub id: String,
    pub version: String,
    pub title: Localized,
    pub description: Localized,
    pub triggers: Triggers,
    /// What the skill is about, for matching by meaning (objects, intents, context, exclude).
    #[serde(default, skip_serializing_if = "Words::is_empty")]
    pub words: Words,
    pub input_schema: String,
    pub dir: String,
}

#[derive(Deserialize)]
struct Manifest {
    skills: Vec<ManifestEntry>,
}

/// Which values of context fields a step needs in order to run (`{"dbType": ["sqlite"]}`). A key
/// may be a dotted path into the context (`project.python.manager`); a value is compared as text
/// ([`crate::inspect::when_text`]: booleans as `true`/`false`, null or missing as `null`).
pub type When = BTreeMap<String, Vec<String>>;

/// What to do with a rendered file that exists on disk with other content.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IfExists {
    /// The file is the skill's: a different one is a conflict (`--force` replaces it, with a backup).
    #[default]
    Conflict,
    /// The file is the user's once it exists (package `__init__.py`, `.gitkeep`): leave it.
    Keep,
}

/// One generation step of `skill.json`. Every kind is generic: none knows any one skill.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Step {
    /// Render a template to a file.
    #[serde(rename_all = "camelCase")]
    Render {
        path: String,
        template: String,
        #[serde(default)]
        if_exists: IfExists,
        #[serde(default)]
        vars: serde_json::Map<String, Value>,
        #[serde(default)]
        when: When,
    },
    /// Set `KEY=value` lines in a dotenv file, keeping every other line.
    #[serde(rename_all = "camelCase")]
    EnvFile {
        path: String,
        #[serde(default)]
        secret: bool,
        set: BTreeMap<String, String>,
        /// A key already set (to anything: a placeholder, another spelling) is left as it is.
        #[serde(default)]
        keep_existing: bool,
        /// A value already set to the same database URL in another spelling (both read through
        /// the skill's `database-url` derive step) is left as it is.
        #[serde(default)]
        same_database: bool,
        #[serde(default)]
        when: When,
    },
    /// Make sure each line is present in a file (e.g. `.gitignore`), appending the missing ones.
    Lines {
        path: String,
        lines: Vec<String>,
        #[serde(default)]
        when: When,
    },
    /// Make sure a Python file the user may have edited imports names and lists them in its
    /// `__all__` (registering a model in `models/__init__.py`): every other line is kept, the
    /// file is created when missing, and one that cannot be merged safely is a conflict.
    PythonImports {
        path: String,
        /// What a missing file starts as (the imports are then made sure of in it).
        #[serde(default)]
        template: Option<String>,
        imports: Vec<String>,
        #[serde(default)]
        all: Vec<String>,
        #[serde(default)]
        when: When,
    },
    /// Add a line to a Python class's body (after its docstring) unless the class already has
    /// the attribute `name`: a field added to a settings class the project already has. `path`,
    /// `class`, `name` and `line` are templates. A file without that class is a conflict.
    PythonClassField {
        path: String,
        class: String,
        name: String,
        line: String,
        #[serde(default)]
        when: When,
    },
    /// Make sure a top-level statement is in a Python file the user owns ([`crate::pystmt`]):
    /// either in place of the one module-level assignment of `replace` (the template sees its
    /// value as `current`; a value already holding `keep` is left as it is), or right after the
    /// top-level statement `after`. `imports` are made sure of too ([`crate::pyedit`]). Every other
    /// line is kept; a missing file, or one that cannot be edited safely, is a conflict.
    PythonStatement {
        path: String,
        statement: String,
        #[serde(default)]
        replace: Option<String>,
        #[serde(default)]
        keep: Option<String>,
        #[serde(default)]
        after: Option<String>,
        #[serde(default)]
        imports: Vec<String>,
        #[serde(default)]
        when: When,
    },
    /// Add Python requirements where the project keeps them (the `project.python` facts: PEP 621
    /// or Poetry `pyproject.toml`, or its requirements file), raising a lower floor already there.
    #[serde(rename_all = "camelCase")]
    PythonDependencies {
        packages: Vec<String>,
        #[serde(default)]
        by_field: BTreeMap<String, BTreeMap<String, Vec<String>>>,
        #[serde(default)]
        when: When,
    },
}

impl Step {
    /// The path the step writes (an inline template), `""` for a step that picks its own file.
    pub fn path(&self) -> &str {
        match self {
            Step::Render { path, .. }
            | Step::EnvFile { path, .. }
            | Step::Lines { path, .. }
            | Step::PythonImports { path, .. }
            | Step::PythonClassField { path, .. }
            | Step::PythonStatement { path, .. } => path,
            Step::PythonDependencies { .. } => "",
        }
    }
}

/// A value derived from the input before rendering.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Derive {
    DatabaseUrl(crate::dburl::Spec),
}

/// A follow-up command the report lists.
#[derive(Debug, Clone, Deserialize)]
pub struct CommandSpec {
    pub run: String,
    #[serde(default)]
    pub about: Option<Localized>,
    /// The command a report's short message names as next (default: the first one).
    #[serde(default)]
    pub next: bool,
    #[serde(default)]
    pub when: When,
}

/// Another skill that must have been applied to the project first.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// Its id.
    pub skill: String,
    /// Files it wrote that this skill builds on; each must exist. Templates over `values`
    /// (`{{ pkgDir }}/models/base.py`).
    #[serde(default)]
    pub files: Vec<String>,
    /// This skill's input field -> that skill's recorded answer, taken when not given.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
    /// This skill's template value -> a value that skill decided and recorded (its `publish`),
    /// such as where its package is: one copy of the rule, in the skill that made the layout.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// A named value computed after inspection, from the input and the `project` facts (a template).
#[derive(Debug, Clone, Deserialize)]
pub struct LetSpec {
    pub name: String,
    pub value: String,
}

/// A project the skill will not touch: when `when` holds, the run stops before planning, with
/// `message` (a template) as the project field's error.
#[derive(Debug, Clone, Deserialize)]
pub struct RefuseSpec {
    pub when: When,
    pub message: Localized,
}

/// A skill's `skill.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct SkillSpec {
    /// Skills that must have been applied to the project first.
    #[serde(default)]
    pub requires: Vec<Requirement>,
    #[serde(default)]
    pub derive: Vec<Derive>,
    /// What project inspection looks for on the skill's behalf.
    #[serde(default)]
    pub inspect: crate::inspect::Spec,
    #[serde(default, rename = "let")]
    pub lets: Vec<LetSpec>,
    #[serde(default)]
    pub refuse: Vec<RefuseSpec>,
    /// Notes the report carries when their `when` holds (same shape as `refuse`).
    #[serde(default)]
    pub notes: Vec<RefuseSpec>,
    /// `let` values (or input fields) recorded in `.skillrun/answers.json` after a run, for the
    /// skills that build on this one (their `requires[].values`).
    #[serde(default)]
    pub publish: Vec<String>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub commands: Vec<CommandSpec>,
}

/// A loaded, validated skill. Its input validator and templates are compiled on first use
/// (a skill set of thousands starts in milliseconds; a run compiles only its own skill).
pub struct Skill {
    pub entry: ManifestEntry,
    pub input_schema: Value,
    pub spec: SkillSpec,
    pub skill_md: String,
    /// The input field naming the project directory (the property marked `"x-project-dir": true`).
    project_field: String,
    validator: OnceLock<std::result::Result<jsonschema::Validator, String>>,
    pub(crate) templates: Templates,
}

/// A template's text: in memory (the embedded set), or a file read on the first render.
enum Source {
    Text(String),
    File(PathBuf),
}

impl Source {
    fn text(&self) -> std::result::Result<std::borrow::Cow<'_, str>, String> {
        match self {
            Source::Text(text) => Ok(text.into()),
            Source::File(path) => {
                let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
                String::from_utf8(bytes).map(Into::into).map_err(|_| "template is not UTF-8".to_owned())
            }
        }
    }
}

/// A skill's Tera templates: listed at load, read (from disk) and compiled together on the first
/// render.
pub(crate) struct Templates {
    dir: String,
    sources: Vec<(String, Source)>,
    compiled: OnceLock<std::result::Result<tera::Tera, String>>,
    /// The skill's inline templates (`env-file` values, command lines, `let` values, `refuse`
    /// and `notes` messages), sorted: each is compiled on its first render, alone, and kept,
    /// named by its own text. A run parses only the ones it renders (a skill's messages in the
    /// other language, or for projects it is not run on, are never parsed).
    inline: Vec<String>,
    inline_compiled: RwLock<Option<tera::Tera>>,
}

impl Templates {
    /// Renders template `name`; a template that does not compile fails here, with Tera's reason.
    pub(crate) fn render(&self, name: &str, context: &tera::Context) -> tera::Result<String> {
        let compiled = self.compiled.get_or_init(|| {
            let mut tera = crate::names::tera();
            let mut texts = Vec::with_capacity(self.sources.len());
            for (name, source) in &self.sources {
                texts.push((name.as_str(), source.text().map_err(|e| format!("{}/{name}: {e}", self.dir))?));
            }
            tera.add_raw_templates(texts.iter().map(|(n, t)| (*n, t.as_ref())))
                .map_err(|e| format!("{}: {}", self.dir, tera_message(&e)))?;
            Ok(tera)
        });
        match compiled {
            Ok(tera) => tera.render(name, context),
            Err(message) => Err(tera::Error::msg(message.clone())),
        }
    }

    /// Renders an inline template of the skill (compiled on its first render, then kept), or
    /// any other text one-off. A text that does not compile is rendered one-off too, so its error
    /// is its own.
    pub(crate) fn render_inline(&self, text: &str, context: &tera::Context) -> tera::Result<String> {
        if self.inline.binary_search_by(|t| t.as_str().cmp(text)).is_ok() {
            {
                let compiled = self.inline_compiled.read().unwrap_or_else(|e| e.into_inner());
                if let Some(tera) = compiled.as_ref().filter(|t| t.templates.contains_key(text)) {
                    return tera.render(text, context);
                }
            }
            let mut compiled = self.inline_compiled.write().unwrap_or_else(|e| e.into_inner());
            let tera = compiled.get_or_insert_with(crate::names::tera);
            if tera.templates.contains_key(text) {
                return tera.render(text, context);
            }
            if tera.add_raw_template(text, text).is_ok() {
                return tera.render(text, context);
            }
            // A text that parses but does not stand alone (a missing macro file) leaves nothing behind.
            tera.templates.remove(text);
        }
        let mut tera = crate::names::tera();
        tera.add_raw_template("(inline)", text)?;
        tera.render("(inline)", context)
    }
}

impl Skill {
    pub fn id(&self) -> &str {
        &self.entry.id
    }
    /// The input field that names the project directory.
    pub fn project_field(&self) -> &str {
        &self.project_field
    }
    /// The input schema's validator, compiled on first use; a schema that does not compile is a
    /// registry error naming its file.
    pub(crate) fn validator(&self) -> Result<&jsonschema::Validator> {
        self.validator
            .get_or_init(|| {
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&self.input_schema)
                    .map_err(|e| format!("not a valid JSON Schema: {e}"))
            })
            .as_ref()
            .map_err(|message| Error::registry(&self.entry.input_schema, message.clone()))
    }
    /// How to fix `field` (a property name), in `lang`: the schema's `x-hint`.
    pub fn hint(&self, field: &str, lang: Lang) -> Option<&str> {
        self.input_schema.get("properties")?.get(field)?.get("x-hint")?.get(lang.code())?.as_str()
    }
    /// The schema's own words for a failed keyword of a field (`x-errors.<keyword>.<lang>`).
    pub fn error_text(&self, field: &str, keyword: &str, lang: Lang) -> Option<String> {
        let text = self.input_schema.get("properties")?.get(field)?.get("x-errors")?.get(keyword)?.get(lang.code())?;
        text.as_str().map(str::to_owned)
    }
    /// Required input fields that have no default: what a chat front end must ask for.
    pub fn required_inputs(&self) -> Vec<String> {
        let props = self.input_schema.get("properties");
        self.input_schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|name| props.and_then(|p| p.get(*name)).and_then(|p| p.get("default")).is_none())
            .map(str::to_owned)
            .collect()
    }
}

/// One skill set: its manifest, read and checked when the set is opened, and its skills, each
/// read and validated when first used.
///
/// Listing and matching read only the manifest (ids, titles, descriptions, triggers, words), so
/// they cost what the manifest holds whatever the size of the set. A skill's own files (input
/// schema, `skill.json`, `SKILL.md`, its templates' names) are read and checked by [`Registry::get`],
/// once; a broken skill is then an [`Error::Registry`] naming its file, for that skill only: the
/// others list, match and run. What needs every skill ([`Registry::skills`]: the MCP tool list,
/// the plugin, `skillrun check`) loads and checks them all, and fails on the first broken one.
pub struct Registry {
    /// The manifest's entries, in its order.
    entries: Vec<ManifestEntry>,
    /// Position of each skill in `entries`, by id.
    by_id: HashMap<String, usize>,
    /// Where the skills' files are.
    files: SetFiles,
    checks: Checks,
    /// Each skill (by position), loaded and validated on first use; a failure is kept too.
    loaded: Vec<OnceLock<Result<Skill>>>,
    /// Every skill's trigger phrases and words, prepared on the first match (`list` or `run` never
    /// pay it).
    triggers: OnceLock<TriggerIndex>,
}

/// A skill set's files by path relative to the set's root (`manifest.json`, `schemas/...`,
/// `skills/<id>/...`).
pub type Files = BTreeMap<String, Vec<u8>>;
/// Files of a skill set on disk that are read only when needed (templates: on a skill's first
/// render), by path relative to the set's root.
type Deferred = BTreeMap<String, PathBuf>;

/// Where a skill set's files are: in memory (all of them), or under a directory, read one skill
/// at a time as skills are loaded.
enum SetFiles {
    Memory(Files),
    Dir(PathBuf),
}

impl Registry {
    /// A skill set held in memory, such as the one a binary embeds. With `checked`, the manifest
    /// and each `skill.json` are validated against their schemas (a skill's when it is loaded); a
    /// binary's own embedded set is checked by its test suite instead, not on every start.
    pub fn from_memory(files: Files, checked: bool) -> Result<Self> {
        let checks = if checked { Checks::Run } else { Checks::Skip };
        let manifest = files.get("manifest.json").ok_or_else(|| Error::registry("manifest.json", "missing"))?;
        let manifest = parse_manifest(manifest, checks)?;
        Self::from_manifest(manifest, SetFiles::Memory(files), checks)
    }

    /// A skill set on disk: `root/manifest.json` with paths relative to `root`. Only the manifest
    /// is read here; a skill's files are read when it is first used.
    pub fn from_dir(root: &Path) -> Result<Self> {
        let path = root.join("manifest.json");
        let manifest = parse_manifest(&std::fs::read(&path).map_err(|e| Error::io(&path, e))?, Checks::Run)?;
        for entry in &manifest.skills {
            for rel in [&entry.input_schema, &entry.dir] {
                if !is_relative_inside(rel) {
                    return Err(Error::registry(
                        "manifest.json",
                        format!("path `{rel}` must stay inside the skills directory"),
                    ));
                }
            }
        }
        let root = std::path::absolute(root).map_err(|e| Error::io(root, e))?;
        Self::from_manifest(manifest, SetFiles::Dir(root), Checks::Run)
    }

    fn from_manifest(manifest: Manifest, files: SetFiles, checks: Checks) -> Result<Self> {
        let mut by_id = HashMap::with_capacity(manifest.skills.len());
        for (i, entry) in manifest.skills.iter().enumerate() {
            if by_id.insert(entry.id.clone(), i).is_some() {
                return Err(Error::registry("manifest.json", format!("skill id `{}` is listed twice", entry.id)));
            }
            entry
                .words
                .check()
                .map_err(|e| Error::registry("manifest.json", format!("skill `{}`: words: {e}", entry.id)))?;
        }
        let loaded = (0..manifest.skills.len()).map(|_| OnceLock::new()).collect();
        Ok(Registry { entries: manifest.skills, by_id, files, checks, loaded, triggers: OnceLock::new() })
    }

    /// The manifest's entries, in its order: what listing and matching need, read without loading
    /// any skill.
    pub fn entries(&self) -> &[ManifestEntry] {
        &self.entries
    }

    /// Every skill, loaded and validated (on all cores for a large set), in manifest order; the
    /// first broken one, in that order, is the error. For what needs every skill: the MCP tool
    /// list (each tool's input schema), the plugin, `skillrun check`.
    pub fn skills(&self) -> Result<Vec<&Skill>> {
        self.load_all().into_iter().collect()
    }

    /// Every skill loaded and validated as [`Registry::get`] does, in manifest order: each one,
    /// or why it cannot be used.
    pub fn load_all(&self) -> Vec<Result<&Skill>> {
        par_map((0..self.entries.len()).collect(), |i| {
            let _ = self.load(i);
        });
        (0..self.entries.len()).map(|i| self.load(i).and_then(|skill| self.check_requires(skill))).collect()
    }

    /// The trigger index of all skills (Korean phrases, then English, and words, per skill), built
    /// once from the manifest.
    pub fn trigger_index(&self) -> &TriggerIndex {
        self.triggers.get_or_init(|| TriggerIndex::new(&self.trigger_sets()))
    }

    /// What the trigger index is built from: each skill's Korean phrases, then English, and its
    /// words, in manifest order.
    pub fn trigger_sets(&self) -> Vec<SkillTriggers<'_>> {
        self.entries
            .iter()
            .map(|e| SkillTriggers {
                skill: &e.id,
                phrases: e.triggers.ko.iter().chain(&e.triggers.en).map(String::as_str).collect(),
                words: &e.words,
            })
            .collect()
    }

    /// A skill's manifest entry, without loading the skill.
    pub fn entry(&self, id: &str) -> Result<&ManifestEntry> {
        self.position(id).map(|i| &self.entries[i])
    }

    /// The skill `id`, loaded and validated on its first use (its files, and that the skills it
    /// requires are in the set and publish what it takes from them). A broken skill is an
    /// [`Error::Registry`] naming its file, on every call.
    pub fn get(&self, id: &str) -> Result<&Skill> {
        let skill = self.load(self.position(id)?)?;
        self.check_requires(skill)
    }

    fn position(&self, id: &str) -> Result<usize> {
        self.by_id.get(id).copied().ok_or_else(|| Error::UnknownSkill {
            id: id.to_owned(),
            known: self.entries.iter().map(|e| e.id.as_str()).collect::<Vec<_>>().join(", "),
        })
    }

    /// The skill at position `i`, read and validated once (its failure too).
    fn load(&self, i: usize) -> Result<&Skill> {
        let loaded = self.loaded[i].get_or_init(|| {
            let entry = self.entries[i].clone();
            match &self.files {
                SetFiles::Memory(files) => load_skill(entry, files, &Deferred::new(), self.checks),
                SetFiles::Dir(root) => {
                    let (files, deferred) = read_skill_files(root, &entry)?;
                    load_skill(entry, &files, &deferred, self.checks)
                }
            }
        });
        loaded.as_ref().map_err(again)
    }

    /// The skills `skill` requires are in the set, load, and publish the values it takes from
    /// them (their own failure is the error).
    fn check_requires<'a>(&'a self, skill: &'a Skill) -> Result<&'a Skill> {
        for need in &skill.spec.requires {
            let at = || format!("{}/skill.json", skill.entry.dir.trim_end_matches('/'));
            let Some(&i) = self.by_id.get(&need.skill) else {
                return Err(Error::registry(
                    at(),
                    format!("requires skill `{}`, which is not in the skill set", need.skill),
                ));
            };
            // Loaded even when no value is taken from it: a run of this skill may name the
            // required skill's inputs, and a broken skill it builds on is this skill's failure too.
            let required = self.load(i)?;
            if let Some(name) = need.values.values().find(|v| !required.spec.publish.contains(v)) {
                return Err(Error::registry(
                    at(),
                    format!("requires value `{name}` of skill `{}`, which it does not publish", need.skill),
                ));
            }
        }
        Ok(skill)
    }
}

/// A kept load failure, given again: loading fails only with a registry or an I/O error.
fn again(e: &Error) -> Error {
    match e {
        Error::Registry { file, message } => Error::registry(file, message.clone()),
        Error::Io { path, source } => Error::io(path, std::io::Error::new(source.kind(), source.to_string())),
        other => Error::registry("", other.to_string()),
    }
}

/// One skill's files under `root`: its input schema and its directory, whose templates are only
/// listed (read on the skill's first render).
fn read_skill_files(root: &Path, entry: &ManifestEntry) -> Result<(Files, Deferred)> {
    let (mut files, mut deferred) = (Files::new(), Deferred::new());
    collect_dir(root, Path::new(&entry.input_schema), &mut files, &mut deferred, None)?;
    let dir = Path::new(&entry.dir);
    collect_dir(root, dir, &mut files, &mut deferred, Some(&dir.join("templates")))?;
    Ok((files, deferred))
}

/// Every step writes inside the project: a relative path without `..`. Said plainly here, as the
/// schema's own failure would only say that no kind of step matched.
fn check_step_paths(spec_path: &str, spec: &Value) -> Result<()> {
    let steps = spec.get("steps").and_then(Value::as_array).into_iter().flatten();
    for (i, path) in steps.enumerate().filter_map(|(i, s)| Some((i, s.get("path")?.as_str()?))) {
        let p = std::path::Path::new(path);
        if path.is_empty()
            || p.components().any(|c| !matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir))
        {
            return Err(Error::registry(
                spec_path,
                format!(
                    "at `/steps/{i}/path`: `{path}` must be a relative path that stays inside the project (no `..`, no leading `/`)"
                ),
            ));
        }
    }
    Ok(())
}

fn parse_manifest(bytes: &[u8], checks: Checks) -> Result<Manifest> {
    let manifest_json: Value = parse_json("manifest.json", bytes)?;
    static MANIFEST: OnceLock<jsonschema::Validator> = OnceLock::new();
    if checks == Checks::Run {
        check_against("manifest.json", embedded_validator(&MANIFEST, MANIFEST_SCHEMA), &manifest_json)?;
    }
    Manifest::deserialize(manifest_json).map_err(|e| Error::registry("manifest.json", e.to_string()))
}

/// Whether a skill set is checked against the manifest and skill.json schemas while loading.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Checks {
    Run,
    Skip,
}

fn load_skill(entry: ManifestEntry, files: &Files, deferred: &Deferred, checks: Checks) -> Result<Skill> {
    let dir = entry.dir.trim_end_matches('/').to_owned();
    let file = |rel: &str| -> Result<&Vec<u8>> {
        files.get(rel).ok_or_else(|| Error::registry(rel, format!("missing (needed by skill `{}`)", entry.id)))
    };
    let input_schema: Value = parse_json(&entry.input_schema, file(&entry.input_schema)?)?;
    if !input_schema.is_object() {
        return Err(Error::registry(&entry.input_schema, "not a valid JSON Schema: must be an object"));
    }

    let project_field = project_field(&entry.input_schema, &input_schema)?;
    // Compiling each pattern to check it costs a cold run a millisecond: the embedded set's are
    // checked by its test (`embedded_set_passes_the_schema_checks`), a skill set on disk's here.
    let patterns = input_schema.get("properties").and_then(Value::as_object).filter(|_| checks == Checks::Run);
    for (name, prop) in patterns.into_iter().flatten() {
        if let Some(pattern) = prop.get("x-extract-pattern") {
            let compiled = pattern.as_str().map(regex::Regex::new);
            if !matches!(compiled, Some(Ok(ref re)) if re.captures_len() > 1) {
                return Err(Error::registry(
                    &entry.input_schema,
                    format!("`{name}`: `x-extract-pattern` must be a regular expression with a capture group"),
                ));
            }
        }
    }

    let spec_path = format!("{dir}/skill.json");
    let spec_json: Value = parse_json(&spec_path, file(&spec_path)?)?;
    check_step_paths(&spec_path, &spec_json)?;
    static SKILL: OnceLock<jsonschema::Validator> = OnceLock::new();
    if checks == Checks::Run {
        check_against(&spec_path, embedded_validator(&SKILL, SKILL_SCHEMA), &spec_json)?;
    }
    let spec = SkillSpec::deserialize(&spec_json).map_err(|e| Error::registry(&spec_path, e.to_string()))?;

    let md_path = format!("{dir}/SKILL.md");
    let skill_md = String::from_utf8(file(&md_path)?.clone()).map_err(|_| Error::registry(&md_path, "not UTF-8"))?;
    check_front_matter(&md_path, &skill_md, dir.rsplit('/').next().unwrap_or(&dir))?;

    let prefix = format!("{dir}/");
    let mut sources = Vec::new();
    for (path, bytes) in files.range(prefix.clone()..) {
        let Some(rel) = path.strip_prefix(&prefix) else { break };
        if rel.starts_with("templates/") {
            let text = String::from_utf8(bytes.clone()).map_err(|_| Error::registry(path, "template is not UTF-8"))?;
            sources.push((rel.to_owned(), Source::Text(text)));
        }
    }
    for (path, full) in deferred.range(prefix.clone()..) {
        let Some(rel) = path.strip_prefix(&prefix) else { break };
        sources.push((rel.to_owned(), Source::File(full.clone())));
    }
    for step in &spec.steps {
        let template = match step {
            Step::Render { template, .. } => Some(template),
            Step::PythonImports { template, .. } => template.as_ref(),
            _ => None,
        };
        if let Some(template) = template
            && !sources.iter().any(|(n, _)| n == template)
        {
            return Err(Error::registry(&spec_path, format!("template `{template}` does not exist")));
        }
        if let Step::PythonStatement { replace, after, .. } = step
            && replace.is_some() == after.is_some()
        {
            return Err(Error::registry(&spec_path, "a python-statement step needs one of `replace` and `after`"));
        }
    }
    let mut inline: Vec<String> = Vec::new();
    for step in &spec.steps {
        match step {
            Step::EnvFile { set, .. } => inline.extend(set.iter().flat_map(|(k, v)| [k.clone(), v.clone()])),
            Step::PythonImports { imports, all, .. } => inline.extend(imports.iter().chain(all).cloned()),
            Step::PythonClassField { class, name, line, .. } => inline.extend([class, name, line].into_iter().cloned()),
            Step::PythonStatement { statement, replace, keep, after, imports, .. } => {
                inline.push(statement.clone());
                inline.extend([replace, keep, after].into_iter().flatten().cloned());
                inline.extend(imports.iter().cloned());
            }
            _ => {}
        }
        inline.push(step.path().to_owned());
    }
    inline.extend(spec.lets.iter().map(|l| l.value.clone()));
    inline.extend(spec.refuse.iter().chain(&spec.notes).flat_map(|r| [r.message.en.clone(), r.message.ko.clone()]));
    inline.extend(spec.commands.iter().map(|c| c.run.clone()));
    inline.retain(|t| t.contains("{{") || t.contains("{%"));
    inline.sort();
    inline.dedup();
    let templates = Templates { dir, sources, compiled: OnceLock::new(), inline, inline_compiled: RwLock::new(None) };
    Ok(Skill { entry, input_schema, spec, skill_md, project_field, validator: OnceLock::new(), templates })
}

/// The one input property marked `"x-project-dir": true`: where the skill writes.
fn project_field(file: &str, schema: &Value) -> Result<String> {
    let props = schema.get("properties").and_then(Value::as_object);
    let marked: Vec<&String> = props
        .into_iter()
        .flatten()
        .filter(|(_, p)| p.get("x-project-dir").and_then(Value::as_bool) == Some(true))
        .map(|(name, _)| name)
        .collect();
    match marked[..] {
        [name] => Ok(name.clone()),
        [] => Err(Error::registry(
            file,
            "no property is marked `\"x-project-dir\": true`; mark the string property that names the project directory",
        )),
        _ => Err(Error::registry(file, "more than one property is marked `\"x-project-dir\": true`")),
    }
}

/// The message of a tera error with its causes, which hold the useful part.
pub(crate) fn tera_message(e: &tera::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

fn check_front_matter(path: &str, text: &str, dir_name: &str) -> Result<()> {
    let body =
        text.strip_prefix("---\n").ok_or_else(|| Error::registry(path, "must open with YAML front matter (`---`)"))?;
    let end = body.find("\n---").ok_or_else(|| Error::registry(path, "front matter is not closed by `---`"))?;
    let front = &body[..end];
    let field = |key: &str| {
        front
            .lines()
            .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
            .map(|v| v.trim().trim_matches('"').to_owned())
    };
    let name = field("name").ok_or_else(|| Error::registry(path, "front matter has no `name`"))?;
    if name != dir_name || !name.is_ascii() {
        return Err(Error::registry(
            path,
            format!("front matter `name: {name}` must equal the directory name `{dir_name}`"),
        ));
    }
    if field("description").is_none_or(|d| d.is_empty()) {
        return Err(Error::registry(path, "front matter has no `description`"));
    }
    Ok(())
}

/// An embedded schema, compiled once per process.
fn embedded_validator(cell: &'static OnceLock<jsonschema::Validator>, text: &str) -> &'static jsonschema::Validator {
    cell.get_or_init(|| {
        let schema: Value = serde_json::from_str(text).expect("embedded schema is JSON");
        // Checked against its meta-schema by the tests, not on every start.
        jsonschema::validator_for(&schema).expect("embedded schema compiles")
    })
}

fn check_against(file: &str, validator: &jsonschema::Validator, value: &Value) -> Result<()> {
    if validator.is_valid(value) {
        return Ok(());
    }
    let errors: Vec<String> =
        validator.iter_errors(value).map(|e| format!("at `{}`: {e}", e.instance_path())).collect();
    if errors.is_empty() { Ok(()) } else { Err(Error::registry(file, errors.join("; "))) }
}

fn parse_json<T: serde::de::DeserializeOwned>(file: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::registry(file, format!("not valid JSON: {e}")))
}

fn is_relative_inside(rel: &str) -> bool {
    let p = Path::new(rel);
    !p.is_absolute()
        && p.components().all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir))
}

/// `f` over `items` on the machine's cores, in order; one thread for a small set (a few skills
/// load faster than threads start).
fn par_map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if threads < 2 || items.len() < 64 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let mut chunks: Vec<Vec<T>> = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        chunks.push(items.by_ref().take(per).collect());
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> =
            chunks.into_iter().map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Vec<R>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("a loader thread does not panic")).collect()
    })
}

fn collect_dir(
    root: &Path,
    rel: &Path,
    files: &mut Files,
    deferred: &mut Deferred,
    defer: Option<&Path>,
) -> Result<()> {
    let full = root.join(rel);
    let meta = std::fs::metadata(&full).map_err(|e| Error::io(&full, e))?;
    if meta.is_file() {
        return read_into(&full, rel, files, deferred, defer);
    }
    collect_entries(root, rel, files, deferred, defer)
}

/// Reads a directory's files, recursively, using the entry types `read_dir` already returns
/// (no `stat` per file); files under `defer` are only listed, to be read when needed.
fn collect_entries(
    root: &Path,
    rel: &Path,
    files: &mut Files,
    deferred: &mut Deferred,
    defer: Option<&Path>,
) -> Result<()> {
    let full = root.join(rel);
    for item in std::fs::read_dir(&full).map_err(|e| Error::io(&full, e))? {
        let item = item.map_err(|e| Error::io(&full, e))?;
        let child = rel.join(item.file_name());
        let kind = item.file_type().map_err(|e| Error::io(item.path(), e))?;
        if kind.is_dir() {
            collect_entries(root, &child, files, deferred, defer)?;
        } else if kind.is_file() {
            read_into(&item.path(), &child, files, deferred, defer)?;
        } else {
            collect_dir(root, &child, files, deferred, defer)?; // a symbolic link: follow it
        }
    }
    Ok(())
}

fn read_into(full: &Path, rel: &Path, files: &mut Files, deferred: &mut Deferred, defer: Option<&Path>) -> Result<()> {
    let key = rel.to_string_lossy().replace('\\', "/");
    if defer.is_some_and(|d| rel.starts_with(d)) {
        deferred.insert(key, full.to_path_buf());
    } else {
        files.insert(key, std::fs::read(full).map_err(|e| Error::io(full, e))?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's own skill set (the one the `skillrun` binary embeds), read from disk.
    fn repository_set() -> Files {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let (mut files, mut deferred) = (Files::new(), Deferred::new());
        files.insert("manifest.json".into(), std::fs::read(root.join("manifest.json")).unwrap());
        for dir in ["skills", "schemas"] {
            collect_dir(&root, Path::new(dir), &mut files, &mut deferred, None).unwrap();
        }
        files
    }

    #[test]
    fn embedded_set_passes_the_schema_checks() {
        let files = repository_set();
        let registry = Registry::from_memory(files, true).unwrap();
        for (text, name) in [(MANIFEST_SCHEMA, "manifest"), (SKILL_SCHEMA, "skill"), (REPORT_SCHEMA, "report")] {
            let schema: Value = serde_json::from_str(text).unwrap();
            assert!(jsonschema::meta::is_valid(&schema), "{name} schema");
        }
        for skill in registry.skills().unwrap() {
            skill.validator().unwrap();
            assert!(jsonschema::meta::is_valid(&skill.input_schema), "{}", skill.id());
            // Each inline template compiles alone, as a run compiles it (else it would be rendered
            // one-off, parsed again on every render).
            for text in &skill.templates.inline {
                crate::names::tera().add_raw_template(text, text).unwrap_or_else(|e| panic!("{text}: {e}"));
            }
        }
    }

    #[test]
    fn inline_templates_are_compiled_when_first_rendered_and_kept() {
        let registry = Registry::from_memory(repository_set(), true).unwrap();
        let skill = registry.get("database-setup").unwrap();
        let text = skill.templates.inline.iter().find(|t| t.starts_with("{{") && t.len() < 40).unwrap().clone();
        let compiled = || skill.templates.inline_compiled.read().unwrap().as_ref().map_or(0, |t| t.templates.len());
        assert_eq!(compiled(), 0, "nothing is compiled before a render");
        let context = tera::Context::from_value(serde_json::json!({})).unwrap();
        let first = skill.templates.render_inline(&text, &context).map_err(|e| tera_message(&e));
        assert_eq!(compiled(), 1, "only the rendered text is compiled");
        assert_eq!(skill.templates.render_inline(&text, &context).map_err(|e| tera_message(&e)), first);
        assert_eq!(compiled(), 1, "and kept");
        let other = "{{ 1 + 1 }} is not one of the skill's";
        assert_eq!(skill.templates.render_inline(other, &context).unwrap(), "2 is not one of the skill's");
        assert_eq!(compiled(), 1, "a text that is not the skill's is rendered one-off");
    }

    #[test]
    fn an_extract_pattern_without_a_group_or_a_missing_required_skill_is_refused_when_the_skill_is_used() {
        let mut files = repository_set();
        let path = "schemas/repository-pattern.input.schema.json";
        let mut schema: Value = serde_json::from_slice(&files[path]).unwrap();
        schema["properties"]["entity"]["x-extract-pattern"] = Value::from("[A-Z]+ model");
        files.insert(path.into(), serde_json::to_vec(&schema).unwrap());
        let registry = Registry::from_memory(files, true).unwrap();
        let err = registry.get("repository-pattern").err().unwrap().to_string();
        assert!(
            err.contains("`entity`: `x-extract-pattern` must be a regular expression with a capture group"),
            "{err}"
        );
        assert_eq!(registry.skills().err().unwrap().to_string(), err, "loading every skill finds it too");
        let mut files = repository_set();
        let spec = "skills/repository-pattern/skill.json";
        let text = String::from_utf8(files[spec].clone())
            .unwrap()
            .replace("\"skill\": \"database-setup\"", "\"skill\": \"nope\"");
        files.insert(spec.into(), text.into_bytes());
        let registry = Registry::from_memory(files, true).unwrap();
        let err = registry.get("repository-pattern").err().unwrap().to_string();
        assert!(err.contains("requires skill `nope`, which is not in the skill set"), "{err}");
    }

    #[test]
    fn a_broken_skill_fails_alone_when_used_and_nothing_is_loaded_to_list_or_match() {
        let mut files = repository_set();
        files.insert("skills/repository-pattern/skill.json".into(), b"{\"steps\": [".to_vec());
        let registry = Registry::from_memory(files, true).unwrap();
        assert_eq!(registry.entries().len(), 2);
        assert_eq!(registry.trigger_index().rank("DB 설정 좀 해줘").matches[0].skill, "database-setup");
        assert!(registry.loaded.iter().all(|cell| cell.get().is_none()), "listing and ranking load no skill");
        assert!(registry.get("database-setup").is_ok());
        let err = registry.get("repository-pattern").err().unwrap().to_string();
        assert!(err.starts_with("invalid skill set: skills/repository-pattern/skill.json: not valid JSON"), "{err}");
        let all: Vec<String> =
            registry.load_all().into_iter().map(|r| r.err().map(|e| e.to_string()).unwrap_or_default()).collect();
        assert_eq!(all, ["".to_owned(), err]);
    }

    #[test]
    fn a_skill_that_builds_on_a_broken_skill_fails_with_its_error() {
        let mut files = repository_set();
        files.insert("skills/database-setup/SKILL.md".into(), b"no front matter".to_vec());
        let registry = Registry::from_memory(files, true).unwrap();
        let broken = registry.get("database-setup").err().unwrap().to_string();
        assert!(broken.contains("skills/database-setup/SKILL.md"), "{broken}");
        let err = registry.get("repository-pattern").err().map(|e| e.to_string());
        assert_eq!(err.as_ref(), Some(&broken), "repository-pattern requires database-setup");
    }

    #[test]
    fn a_broken_template_or_schema_fails_on_first_use_naming_the_file() {
        let mut files = repository_set();
        files.insert("skills/database-setup/templates/empty.tera".into(), b"{% if %}".to_vec());
        files.insert(
            "schemas/database-setup.input.schema.json".into(),
            br#"{"type": 12, "properties": {"projectPath": {"x-project-dir": true}}}"#.to_vec(),
        );
        let registry = Registry::from_memory(files, true).unwrap();
        let skill = registry.get("database-setup").unwrap();
        let err = skill.templates.render("templates/empty.tera", &tera::Context::new()).unwrap_err();
        assert!(tera_message(&err).starts_with("skills/database-setup: "), "{}", tera_message(&err));
        let err = skill.validator().unwrap_err().to_string();
        assert!(
            err.contains("schemas/database-setup.input.schema.json") && err.contains("not a valid JSON Schema"),
            "{err}"
        );
    }
}
