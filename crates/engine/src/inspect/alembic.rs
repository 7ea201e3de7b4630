//! An existing Alembic setup: `alembic.ini` (its `script_location`, `%(here)s` read as the
//! project), or `[tool.alembic]` in `pyproject.toml`, or, without either, a top-level `alembic/`
//! or `migrations/` directory holding an `env.py`. Then the environment's `target_metadata`,
//! whether it runs async, and how many revision files `versions/` holds.

use serde::Serialize;

use super::{Reader, join};
use crate::project_dir::Kind;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    pub found: bool,
    /// The ini file, if there is one.
    pub ini: Option<String>,
    /// The migrations directory, project-relative.
    pub script_location: Option<String>,
    pub env_py: Option<String>,
    /// What `target_metadata` is set to in env.py (`Base.metadata`, `None`).
    pub target_metadata: Option<String>,
    /// Whether env.py runs migrations through an async engine.
    pub is_async: bool,
    /// Revision files in `versions/`.
    pub revisions: usize,
}

pub fn inspect(reader: &Reader) -> Facts {
    let from_ini = reader.text("alembic.ini").map(|text| (Some("alembic.ini".to_owned()), ini_location(&text)));
    let from_pyproject = || {
        let doc = reader.text("pyproject.toml")?.parse::<toml_edit::DocumentMut>().ok()?;
        let location = doc.get("tool")?.get("alembic")?.get("script_location")?.as_str()?.to_owned();
        Some((None, Some(location)))
    };
    let from_dir = || {
        ["alembic", "migrations"]
            .into_iter()
            .find(|d| reader.is_file(&join(d, "env.py")))
            .map(|d| (None, Some(d.to_owned())))
    };
    let Some((ini, location)) = from_ini.or_else(from_pyproject).or_else(from_dir) else {
        return Facts::default();
    };
    let location = location.map(|l| clean(&l));
    let env_py = location.as_ref().map(|l| join(l, "env.py")).filter(|p| reader.is_file(p));
    let env_text = env_py.as_deref().and_then(|p| reader.text(p)).unwrap_or_default();
    let target_metadata = env_text
        .lines()
        .find_map(|l| l.strip_prefix("target_metadata").and_then(|r| r.trim_start().strip_prefix('=')))
        .map(|v| v.split('#').next().unwrap_or("").trim().to_owned());
    let is_async = ["async_engine_from_config", "create_async_engine", "run_sync"].iter().any(|k| env_text.contains(k));
    let revisions = location
        .as_ref()
        .map(|l| {
            reader.list(&join(l, "versions")).iter().filter(|(n, k)| *k == Kind::File && n.ends_with(".py")).count()
        })
        .unwrap_or(0);
    // An ini (or table) whose scripts are not there is not a setup to keep.
    let versions_dir = location.as_ref().is_some_and(|l| reader.is_dir(&join(l, "versions")));
    if env_py.is_none() && !versions_dir {
        return Facts::default();
    }
    Facts { found: true, ini, script_location: location, env_py, target_metadata, is_async, revisions }
}

/// `script_location` of the `[alembic]` section.
fn ini_location(text: &str) -> Option<String> {
    let mut section = "";
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line;
        } else if section == "[alembic]"
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "script_location"
        {
            return Some(value.trim().to_owned());
        }
    }
    None
}

/// `%(here)s/app/migrations` or `./migrations` -> `app/migrations`.
fn clean(location: &str) -> String {
    let l = location.trim().trim_start_matches("%(here)s").trim_start_matches('/');
    let l = l.trim_start_matches("./");
    // A package-style location (`myapp:migrations`) is a path under the package.
    l.replace(':', "/").trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_script_location() {
        let ini = "# x\n[alembic]\nscript_location = %(here)s/app/alembic\n[loggers]\nscript_location = no\n";
        assert_eq!(ini_location(ini).map(|l| clean(&l)).as_deref(), Some("app/alembic"));
        assert_eq!(clean("./migrations"), "migrations");
    }
}
