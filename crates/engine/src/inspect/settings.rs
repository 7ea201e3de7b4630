//! The project's settings module: a file named like settings (`config.py`, `settings.py`,
//! `conf.py`, `configuration.py`, or such a package's `__init__.py`) under the import root, read
//! by a line scanner, not a Python parser: it finds `class X(...BaseSettings...)` (pydantic-settings
//! v2 when `pydantic_settings` is imported, pydantic v1 when `BaseSettings` comes from `pydantic`),
//! the class's fields (annotated or assigned names at the body's indentation, and `@property`
//! methods, which are computed), a module-level instance (`settings = Settings()`) or getter
//! (`def get_settings() -> Settings`), `env_file` and `env_prefix`; or, without such a class,
//! module-level constants (`DATABASE_URL = ...`). The URL field is the first name of the skill's
//! `inspect.settings.urlFields` the class (or module) defines.

use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{Reader, join, layout};
use crate::project_dir::Kind;

/// What the skill looks for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Spec {
    /// Names of the field that holds the URL the skill needs, most likely first.
    #[serde(default)]
    pub url_fields: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    pub found: bool,
    /// Project-relative path (`app/core/config.py`).
    pub file: Option<String>,
    /// Dotted module (`app.core.config`).
    pub module: Option<String>,
    /// `pydantic-settings`, `pydantic-v1` or `constants`.
    pub style: Option<String>,
    /// The settings class.
    pub class: Option<String>,
    /// A module-level instance of the class (`settings`).
    pub instance: Option<String>,
    /// A function that returns the class (`get_settings`).
    pub getter: Option<String>,
    /// Field names as written, in order.
    pub fields: Vec<String>,
    /// `upper` when most fields are UPPER_CASE, else `lower`.
    pub field_case: String,
    /// The field holding the URL (one of the skill's `urlFields`), if any.
    pub url_field: Option<String>,
    /// Whether that field is computed (a `@property`, e.g. built from parts).
    pub url_field_computed: bool,
    /// The `env_file` the class reads, when it is a string literal (relative to where the app is
    /// started: the project, for the commands the report gives).
    pub env_file: Option<String>,
    /// That file as a path of the project, when it lies inside it.
    pub env_path: Option<String>,
    /// Whether that file lies outside the project (`../.env` of a project at the top, an
    /// absolute path).
    pub env_file_outside: bool,
    /// The `env_prefix`, when set.
    pub env_prefix: Option<String>,
    /// Whether environment names must match the field's case (`case_sensitive = True`).
    pub case_sensitive: bool,
}

/// Names of a settings module.
const NAMES: &[&str] = &["config.py", "settings.py", "conf.py", "configuration.py"];
const PACKAGES: &[&str] = &["config", "settings", "conf", "configuration"];
/// Directories never searched.
const SKIP: &[&str] =
    &["tests", "test", "migrations", "alembic", "node_modules", "venv", "env", "site-packages", "__pycache__", "docs"];

pub fn inspect(reader: &Reader, spec: &Spec, layout: &layout::Facts) -> Facts {
    let root = if layout.import_root == "." { "" } else { layout.import_root.as_str() };
    let mut candidates = Vec::new();
    walk(reader, root, 0, &mut candidates);
    let mut best: Option<(u8, Facts)> = None;
    for (depth, file) in candidates {
        let Some(text) = reader.text(&file) else { continue };
        let Some(facts) = analyze(&text, spec) else { continue };
        // Generated code imports it: every part of the module must be an identifier.
        let module = module_of(&file, root);
        if !module.split('.').all(is_identifier) {
            continue;
        }
        // A class beats constants; a URL field beats none; shallower beats deeper.
        let rank = u8::from(facts.style.as_deref() == Some("constants")) * 2 + u8::from(facts.url_field.is_none());
        let rank = rank * 8 + depth.min(7) as u8;
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, Facts { found: true, file: Some(file), module: Some(module), ..facts }));
        }
    }
    best.map(|(_, f)| f).unwrap_or(Facts { field_case: "lower".into(), ..Facts::default() })
}

fn walk(reader: &Reader, dir: &str, depth: usize, out: &mut Vec<(usize, String)>) {
    if depth > 4 || out.len() > 64 {
        return;
    }
    for (name, kind) in reader.list(dir) {
        let path = join(dir, &name);
        match kind {
            Kind::File if NAMES.contains(&name.as_str()) => out.push((depth, path)),
            Kind::Dir if name.starts_with('.') || SKIP.contains(&name.as_str()) => {}
            Kind::Dir => {
                if PACKAGES.contains(&name.as_str()) && reader.is_file(&join(&path, "__init__.py")) {
                    out.push((depth, join(&path, "__init__.py")));
                }
                // Only packages (and the top) are searched below the first level.
                if depth == 0 || reader.is_file(&join(&path, "__init__.py")) {
                    walk(reader, &path, depth + 1, out);
                }
            }
            _ => {}
        }
    }
}

fn is_identifier(part: &str) -> bool {
    part.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn module_of(file: &str, root: &str) -> String {
    let rel = if root.is_empty() { file } else { file.strip_prefix(root).map_or(file, |f| f.trim_start_matches('/')) };
    let rel = rel.strip_suffix(".py").unwrap_or(rel);
    let rel = rel.strip_suffix("/__init__").unwrap_or(rel);
    rel.replace('/', ".")
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid pattern"))
}

/// The settings facts of one file's text, `None` when it is not a settings module.
pub fn analyze(text: &str, spec: &Spec) -> Option<Facts> {
    static CLASS: OnceLock<Regex> = OnceLock::new();
    let class_re = re(&CLASS, r"(?m)^class\s+([A-Za-z_]\w*)\s*\(([^)]*)\)\s*:");
    let lines: Vec<&str> = text.lines().collect();
    let mut classes = Vec::new();
    for c in class_re.captures_iter(text) {
        if c[2].contains("BaseSettings") {
            let line = text[..c.get(0).unwrap().start()].lines().count();
            let (fields, computed) = class_fields(&lines, line + 1);
            classes.push((c[1].to_owned(), fields, computed));
        }
    }
    let url_in = |names: &[String]| spec.url_fields.iter().find(|u| names.contains(u)).cloned();
    if !classes.is_empty() {
        // The class with the URL field, else one named Settings, else the last (the one composed).
        let pick = classes
            .iter()
            .position(|(_, f, c)| url_in(f).is_some() || url_in(c).is_some())
            .or_else(|| classes.iter().position(|(n, _, _)| n == "Settings"))
            .unwrap_or(classes.len() - 1);
        let (class, fields, computed) = classes.swap_remove(pick);
        let v1 = imports_from_pydantic(text);
        let style = if text.contains("pydantic_settings") && !v1 {
            "pydantic-settings"
        } else if v1 {
            "pydantic-v1"
        } else {
            "pydantic-settings"
        };
        let (url_field, url_field_computed) = match (url_in(&fields), url_in(&computed)) {
            (Some(f), _) => (Some(f), false),
            (None, Some(c)) => (Some(c), true),
            (None, None) => (None, false),
        };
        let mut all = fields.clone();
        all.extend(computed.iter().cloned());
        return Some(Facts {
            found: true,
            style: Some(style.into()),
            instance: instance_of(text, &class),
            getter: getter_of(text, &class),
            field_case: case_of(&fields),
            class: Some(class),
            fields: all,
            url_field,
            url_field_computed,
            env_file_outside: literal(text, "env_file").is_some_and(|f| crate::paths::RelPath::parse(&f).is_err()),
            env_file: literal(text, "env_file"),
            // An environment name's prefix: letters, digits and `_` only (it becomes a `.env` key).
            env_prefix: literal(text, "env_prefix")
                .filter(|p| p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')),
            case_sensitive: case_sensitive(text),
            ..Facts::default()
        });
    }
    // Module constants.
    static CONST: OnceLock<Regex> = OnceLock::new();
    let const_re = re(&CONST, r"(?m)^([A-Z][A-Z0-9_]*)\s*(?::[^=\n]*)?=[^=]");
    let names: Vec<String> = const_re.captures_iter(text).map(|c| c[1].to_owned()).collect();
    if names.is_empty() {
        return None;
    }
    Some(Facts {
        found: true,
        style: Some("constants".into()),
        url_field: url_in(&names),
        field_case: "upper".into(),
        fields: names,
        ..Facts::default()
    })
}

/// Whether `BaseSettings` comes from pydantic itself (v1), not from pydantic-settings.
fn imports_from_pydantic(text: &str) -> bool {
    static V1: OnceLock<Regex> = OnceLock::new();
    let v1 = re(
        &V1,
        r"(?m)^\s*from\s+pydantic(\.v1)?\s+import\s+(\([^)]*|[^\n]*)\bBaseSettings\b|\bpydantic(\.v1)?\.BaseSettings\b",
    );
    v1.is_match(text)
}

/// Field names (annotated or assigned at the body's indentation) and `@property` names of the
/// class whose body starts at line `start`.
fn class_fields(lines: &[&str], start: usize) -> (Vec<String>, Vec<String>) {
    static FIELD: OnceLock<Regex> = OnceLock::new();
    let field_re = re(&FIELD, r"^([A-Za-z_]\w*)\s*(:|=[^=])");
    static DEF: OnceLock<Regex> = OnceLock::new();
    let def_re = re(&DEF, r"^(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(");
    let mut fields = Vec::new();
    let mut computed = Vec::new();
    let mut indent = None;
    let mut decorators: Vec<&str> = Vec::new();
    let mut in_string: Option<&str> = None;
    for line in lines.iter().skip(start) {
        let trimmed = line.trim_start();
        if let Some(q) = in_string {
            if trimmed.contains(q) {
                in_string = None;
            }
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let width = line.len() - trimmed.len();
        let body = *indent.get_or_insert(width);
        if width < body || width == 0 {
            break;
        }
        if width > body {
            continue;
        }
        for q in ["\"\"\"", "'''"] {
            if trimmed.starts_with(q) && trimmed[3..].find(q).is_none() {
                in_string = Some(q);
            }
        }
        if let Some(d) = trimmed.strip_prefix('@') {
            decorators.push(d);
            continue;
        }
        if let Some(c) = def_re.captures(trimmed) {
            if decorators.iter().any(|d| d.starts_with("property") || d.starts_with("computed_field")) {
                computed.push(c[1].to_owned());
            }
        } else if let Some(c) = field_re.captures(trimmed)
            && !matches!(&c[1], "model_config" | "class" | "Config")
        {
            fields.push(c[1].to_owned());
        }
        decorators.clear();
    }
    (fields, computed)
}

fn case_of(fields: &[String]) -> String {
    let upper = fields
        .iter()
        .filter(|f| f.chars().any(|c| c.is_ascii_uppercase()) && !f.chars().any(|c| c.is_ascii_lowercase()))
        .count();
    if upper * 2 > fields.len() { "upper".into() } else { "lower".into() }
}

/// A module-level `name = Class()` or `name = getter()`.
fn instance_of(text: &str, class: &str) -> Option<String> {
    static INSTANCE: OnceLock<Regex> = OnceLock::new();
    let instance_re = re(&INSTANCE, r"(?m)^([A-Za-z_]\w*)\s*(?::\s*[\w\[\]. ]+)?=\s*([A-Za-z_]\w*)\(\s*\)\s*(#.*)?$");
    let getter = getter_of(text, class);
    instance_re
        .captures_iter(text)
        .find(|c| &c[2] == class || getter.as_deref() == Some(&c[2]))
        .map(|c| c[1].to_owned())
}

/// A module-level function without arguments that returns the class.
fn getter_of(text: &str, class: &str) -> Option<String> {
    static GETTER: OnceLock<Regex> = OnceLock::new();
    let getter_re = re(&GETTER, r#"(?m)^def\s+([A-Za-z_]\w*)\s*\(\s*\)\s*(?:->\s*["']?([\w.]+)["']?\s*)?:"#);
    for c in getter_re.captures_iter(text) {
        let returns = c.get(2).is_some_and(|r| r.as_str() == class);
        let body: String = text[c.get(0).unwrap().end()..].lines().skip(1).take(6).collect::<Vec<_>>().join("\n");
        if returns || body.contains(&format!("return {class}(")) {
            return Some(c[1].to_owned());
        }
    }
    None
}

/// `case_sensitive = True` (or `case_sensitive=True` in a config dict).
fn case_sensitive(text: &str) -> bool {
    static CASE: OnceLock<Regex> = OnceLock::new();
    re(&CASE, r#"\bcase_sensitive["']?\s*[=:]\s*True\b"#).is_match(text)
}

/// The first string literal assigned to `key` (`env_file=".env"`, `env_file = (".env", ...)`).
fn literal(text: &str, key: &str) -> Option<String> {
    let at = text.find(key)?;
    let rest = text[at + key.len()..].trim_start();
    let rest = rest.strip_prefix('=').or_else(|| rest.strip_prefix(':'))?.trim_start();
    let rest = rest.strip_prefix('(').unwrap_or(rest).trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &rest[1..];
    let value = &inner[..inner.find(quote)?];
    (!value.contains(['\n', '\r'])).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec { url_fields: vec!["database_url".into(), "DATABASE_URL".into(), "SQLALCHEMY_DATABASE_URI".into()] }
    }

    #[test]
    fn pydantic_settings_v2_class() {
        let text = r#""""Settings."""
from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """App settings.

    More.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_name: str = "api"
    debug: bool = False

    @property
    def is_prod(self) -> bool:
        return not self.debug


@lru_cache
def get_settings() -> Settings:
    return Settings()


settings = get_settings()
"#;
        let f = analyze(text, &spec()).unwrap();
        assert_eq!(f.style.as_deref(), Some("pydantic-settings"));
        assert_eq!(f.class.as_deref(), Some("Settings"));
        assert_eq!(f.fields, ["app_name", "debug", "is_prod"]);
        assert_eq!(f.url_field, None);
        assert_eq!(f.instance.as_deref(), Some("settings"));
        assert_eq!(f.getter.as_deref(), Some("get_settings"));
        assert_eq!(f.env_file.as_deref(), Some(".env"));
        assert_eq!(f.field_case, "lower");
        assert!(!f.case_sensitive);
        assert!(case_sensitive("    class Config:\n        case_sensitive = True\n"));
    }

    #[test]
    fn upper_case_computed_url_and_v1() {
        let text = "from pydantic import BaseSettings, PostgresDsn\nfrom pydantic import computed_field\n\nclass Settings(BaseSettings):\n    PROJECT_NAME: str\n    POSTGRES_SERVER: str\n\n    @computed_field  # type: ignore[prop-decorator]\n    @property\n    def SQLALCHEMY_DATABASE_URI(self) -> PostgresDsn:\n        return ''\n\n    class Config:\n        env_file = '../.env'\n\nsettings = Settings()  # type: ignore\n";
        let f = analyze(text, &spec()).unwrap();
        assert_eq!(f.style.as_deref(), Some("pydantic-v1"));
        assert_eq!(f.url_field.as_deref(), Some("SQLALCHEMY_DATABASE_URI"));
        assert!(f.url_field_computed);
        assert_eq!(f.field_case, "upper");
        assert_eq!(f.instance.as_deref(), Some("settings"));
        assert_eq!(f.env_file.as_deref(), Some("../.env"));
        assert!(f.env_file_outside);
    }

    #[test]
    fn constants() {
        let f =
            analyze("import os\n\nDEBUG = True\nDATABASE_URL: str = os.environ['DATABASE_URL']\n", &spec()).unwrap();
        assert_eq!(f.style.as_deref(), Some("constants"));
        assert_eq!(f.url_field.as_deref(), Some("DATABASE_URL"));
        assert!(analyze("import os\n\ndef f():\n    pass\n", &spec()).is_none());
        assert_eq!(module_of("src/shop/core/config.py", "src"), "shop.core.config");
        assert_eq!(module_of("app/settings/__init__.py", ""), "app.settings");
    }
}
