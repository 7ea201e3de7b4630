//! The skill registry: loads `manifest.json`, each skill's input schema, steps (`skill.json`),
//! templates and `SKILL.md`, from the set embedded in the binary or from a directory given at
//! run time, and validates all of it before anything runs.

use std::collections::BTreeMap;
use std::path::Path;

use include_dir::{Dir, include_dir};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::trigger::Lang;

static EMBEDDED_SKILLS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/skills");
static EMBEDDED_SCHEMAS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/schemas");
const EMBEDDED_MANIFEST: &str = include_str!("../manifest.json");
const MANIFEST_SCHEMA: &str = include_str!("../schemas/manifest.schema.json");
const SKILL_SCHEMA: &str = include_str!("../schemas/skill.schema.json");
/// The report's JSON Schema (MCP `outputSchema`, and what `--json` prints).
pub const REPORT_SCHEMA: &str = include_str!("../schemas/report.schema.json");

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
    pub input_schema: String,
    pub dir: String,
}

#[derive(Deserialize)]
struct Manifest {
    skills: Vec<ManifestEntry>,
}

/// Which values of input fields a step needs in order to run (`{"dbType": ["sqlite"]}`).
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
    EnvFile {
        path: String,
        #[serde(default)]
        secret: bool,
        set: BTreeMap<String, String>,
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
    /// Add Python requirements to `pyproject.toml` (PEP 621) or `requirements.txt`.
    #[serde(rename_all = "camelCase")]
    PythonDependencies {
        packages: Vec<String>,
        #[serde(default)]
        by_field: BTreeMap<String, BTreeMap<String, Vec<String>>>,
        #[serde(default)]
        when: When,
    },
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
}

/// A skill's `skill.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct SkillSpec {
    #[serde(default)]
    pub derive: Vec<Derive>,
    pub steps: Vec<Step>,
    #[serde(default)]
    pub commands: Vec<CommandSpec>,
}

/// A loaded, validated skill.
pub struct Skill {
    pub entry: ManifestEntry,
    pub input_schema: Value,
    pub spec: SkillSpec,
    pub skill_md: String,
    pub(crate) validator: jsonschema::Validator,
    pub(crate) templates: tera::Tera,
}

impl Skill {
    pub fn id(&self) -> &str {
        &self.entry.id
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

/// All skills of one skill set.
pub struct Registry {
    skills: Vec<Skill>,
}

type Files = BTreeMap<String, Vec<u8>>;

impl Registry {
    /// The skill set built into the binary.
    pub fn embedded() -> Result<Self> {
        let mut files = Files::new();
        files.insert("manifest.json".into(), EMBEDDED_MANIFEST.as_bytes().to_vec());
        collect_embedded(&EMBEDDED_SKILLS, "skills", &mut files);
        collect_embedded(&EMBEDDED_SCHEMAS, "schemas", &mut files);
        Self::from_files(&files)
    }

    /// A skill set on disk: `root/manifest.json` with paths relative to `root`.
    pub fn from_dir(root: &Path) -> Result<Self> {
        let mut files = Files::new();
        let manifest = root.join("manifest.json");
        let text = std::fs::read(&manifest).map_err(|e| Error::io(&manifest, e))?;
        files.insert("manifest.json".into(), text);
        let parsed: Manifest = parse_json("manifest.json", &files["manifest.json"])?;
        for entry in &parsed.skills {
            for rel in [&entry.input_schema, &entry.dir] {
                if !is_relative_inside(rel) {
                    return Err(Error::registry(
                        "manifest.json",
                        format!("path `{rel}` must stay inside the skills directory"),
                    ));
                }
                collect_dir(root, Path::new(rel), &mut files)?;
            }
        }
        Self::from_files(&files)
    }

    /// `--skills-dir` if given, else `SKILLRUN_SKILLS_DIR`, else the embedded set.
    pub fn load(dir: Option<&Path>) -> Result<Self> {
        match dir.map(Path::to_path_buf).or_else(|| std::env::var_os("SKILLRUN_SKILLS_DIR").map(Into::into)) {
            Some(dir) => Self::from_dir(&dir),
            None => Self::embedded(),
        }
    }

    fn from_files(files: &Files) -> Result<Self> {
        let manifest_json: Value = parse_json("manifest.json", &files["manifest.json"])?;
        check_against("manifest.json", MANIFEST_SCHEMA, &manifest_json)?;
        let manifest: Manifest =
            serde_json::from_value(manifest_json).map_err(|e| Error::registry("manifest.json", e.to_string()))?;
        let mut skills: Vec<Skill> = Vec::new();
        for entry in manifest.skills {
            if skills.iter().any(|s| s.entry.id == entry.id) {
                return Err(Error::registry("manifest.json", format!("skill id `{}` is listed twice", entry.id)));
            }
            skills.push(load_skill(entry, files)?);
        }
        Ok(Registry { skills })
    }

    pub fn skills(&self) -> &[Skill] {
        &self.skills
    }

    pub fn get(&self, id: &str) -> Result<&Skill> {
        self.skills.iter().find(|s| s.entry.id == id).ok_or_else(|| Error::UnknownSkill {
            id: id.to_owned(),
            known: self.skills.iter().map(|s| s.entry.id.as_str()).collect::<Vec<_>>().join(", "),
        })
    }
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

fn load_skill(entry: ManifestEntry, files: &Files) -> Result<Skill> {
    let dir = entry.dir.trim_end_matches('/').to_owned();
    let file = |rel: &str| -> Result<&Vec<u8>> {
        files.get(rel).ok_or_else(|| Error::registry(rel, format!("missing (needed by skill `{}`)", entry.id)))
    };
    let input_schema: Value = parse_json(&entry.input_schema, file(&entry.input_schema)?)?;
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&input_schema)
        .map_err(|e| Error::registry(&entry.input_schema, format!("not a valid JSON Schema: {e}")))?;

    let spec_path = format!("{dir}/skill.json");
    let spec_json: Value = parse_json(&spec_path, file(&spec_path)?)?;
    check_step_paths(&spec_path, &spec_json)?;
    check_against(&spec_path, SKILL_SCHEMA, &spec_json)?;
    let spec: SkillSpec = serde_json::from_value(spec_json).map_err(|e| Error::registry(&spec_path, e.to_string()))?;

    let md_path = format!("{dir}/SKILL.md");
    let skill_md = String::from_utf8(file(&md_path)?.clone()).map_err(|_| Error::registry(&md_path, "not UTF-8"))?;
    check_front_matter(&md_path, &skill_md, dir.rsplit('/').next().unwrap_or(&dir))?;

    let mut templates = tera::Tera::default();
    templates.autoescape_on(vec![]);
    let prefix = format!("{dir}/");
    let mut sources = Vec::new();
    for (path, bytes) in files.range(prefix.clone()..) {
        let Some(rel) = path.strip_prefix(&prefix) else { break };
        if rel.starts_with("templates/") {
            let text = String::from_utf8(bytes.clone()).map_err(|_| Error::registry(path, "template is not UTF-8"))?;
            sources.push((rel.to_owned(), text));
        }
    }
    templates.add_raw_templates(sources).map_err(|e| Error::registry(&dir, tera_message(&e)))?;
    for step in &spec.steps {
        if let Step::Render { template, .. } = step
            && !templates.get_template_names().any(|n| n == template)
        {
            return Err(Error::registry(&spec_path, format!("template `{template}` does not exist")));
        }
    }
    Ok(Skill { entry, input_schema, spec, skill_md, validator, templates })
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

fn check_against(file: &str, schema: &str, value: &Value) -> Result<()> {
    let schema: Value = serde_json::from_str(schema).expect("embedded schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("embedded schema compiles");
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

fn collect_embedded(dir: &Dir<'_>, prefix: &str, files: &mut Files) {
    for file in dir.files() {
        files.insert(format!("{prefix}/{}", file.path().display()), file.contents().to_vec());
    }
    for sub in dir.dirs() {
        collect_embedded(sub, prefix, files);
    }
}

fn collect_dir(root: &Path, rel: &Path, files: &mut Files) -> Result<()> {
    let full = root.join(rel);
    let meta = std::fs::metadata(&full).map_err(|e| Error::io(&full, e))?;
    if meta.is_file() {
        let bytes = std::fs::read(&full).map_err(|e| Error::io(&full, e))?;
        files.insert(rel.to_string_lossy().replace('\\', "/"), bytes);
        return Ok(());
    }
    for item in std::fs::read_dir(&full).map_err(|e| Error::io(&full, e))? {
        let item = item.map_err(|e| Error::io(&full, e))?;
        collect_dir(root, &rel.join(item.file_name()), files)?;
    }
    Ok(())
}
