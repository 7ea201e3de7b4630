//! An existing Alembic setup: `alembic.ini` at the Python root or one directory down (its
//! `script_location`, `%(here)s` read as the ini's directory, and `prepend_sys_path`), or
//! `[tool.alembic]` in `pyproject.toml`, or, without either, a top-level `alembic/` or
//! `migrations/` directory holding an `env.py`. Then what adopting it needs from env.py (read with
//! [`crate::pystmt`], never run): its `target_metadata` value, whether it runs async, the name
//! bound to `context.config`, where its URL comes from; and the revision chain of `versions/`
//! (each file's `revision` and `down_revision`): its heads and any revision it names that is not
//! there.

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
    /// The ini's path from the Python root (`alembic.ini`, `app/alembic.ini`).
    pub ini_in_root: Option<String>,
    /// `prepend_sys_path` of the ini.
    pub prepend_sys_path: Option<String>,
    /// The name env.py binds to `context.config` (`config`), if a top-level statement does.
    pub config_var: Option<String>,
    /// Where env.py's database URL comes from: `ini` (`sqlalchemy.url`, read through
    /// `get_main_option` / `engine_from_config`), `env` (env.py sets `sqlalchemy.url` itself) or
    /// `code` (env.py makes its engine from a URL of its own); null without env.py.
    pub url_from: Option<String>,
    /// The revisions no other revision follows (the chain's heads).
    pub heads: Vec<String>,
    /// The one head, when there is exactly one.
    pub head: Option<String>,
    pub several_heads: bool,
    /// `down_revision`s that name a revision not in `versions/` (a broken chain).
    pub missing_revisions: Vec<String>,
}

/// Revision files read at most.
const MAX_REVISIONS: usize = 2000;

pub fn inspect(reader: &Reader) -> Facts {
    let ini_path = std::iter::once("alembic.ini".to_owned())
        .chain(
            reader
                .list("")
                .into_iter()
                .filter(|(n, k)| *k == Kind::Dir && !n.starts_with('.') && !n.contains("venv"))
                .map(|(n, _)| join(&n, "alembic.ini")),
        )
        .find(|p| reader.is_file(p));
    let from_ini = ini_path.as_ref().and_then(|p| {
        let text = reader.text(p)?;
        let here = p.rsplit_once('/').map_or("", |(d, _)| d);
        Some((
            Some(p.clone()),
            ini_value(&text, "script_location").map(|l| clean(&l, here)),
            ini_value(&text, "prepend_sys_path"),
        ))
    });
    let from_pyproject = || {
        let doc = reader.text("pyproject.toml")?.parse::<toml_edit::DocumentMut>().ok()?;
        let location = doc.get("tool")?.get("alembic")?.get("script_location")?.as_str()?.to_owned();
        Some((None, Some(clean(&location, "")), None))
    };
    let from_dir = || {
        ["alembic", "migrations"]
            .into_iter()
            .find(|d| reader.is_file(&join(d, "env.py")))
            .map(|d| (None, Some(d.to_owned()), None))
    };
    let Some((ini, location, prepend_sys_path)) = from_ini.or_else(from_pyproject).or_else(from_dir) else {
        return Facts::default();
    };
    let env_py = location.as_ref().map(|l| join(l, "env.py")).filter(|p| reader.is_file(p));
    let env_text = env_py.as_deref().and_then(|p| reader.text(p)).unwrap_or_default();
    let target_metadata = crate::pystmt::assigned_value(&env_text, "target_metadata").ok().flatten();
    let is_async = ["async_engine_from_config", "create_async_engine", "run_sync"].iter().any(|k| env_text.contains(k));
    let config_var = config_var(&env_text);
    let url_from = env_py.as_ref().map(|_| url_from(&env_text).to_owned());
    let versions = location.as_ref().map(|l| join(l, "versions"));
    let files: Vec<String> = versions
        .as_ref()
        .map(|v| {
            reader
                .list(v)
                .into_iter()
                .filter(|(n, k)| *k == Kind::File && n.ends_with(".py") && n != "__init__.py")
                .take(MAX_REVISIONS)
                .map(|(n, _)| join(v, &n))
                .collect()
        })
        .unwrap_or_default();
    let revisions = files.len();
    let chain: Vec<(String, Vec<String>)> = files.iter().filter_map(|f| revision(&reader.text(f)?)).collect();
    let known: std::collections::BTreeSet<&str> = chain.iter().map(|(r, _)| r.as_str()).collect();
    let followed: std::collections::BTreeSet<&str> =
        chain.iter().flat_map(|(_, d)| d.iter().map(String::as_str)).collect();
    let heads: Vec<String> = chain.iter().map(|(r, _)| r.clone()).filter(|r| !followed.contains(r.as_str())).collect();
    let mut missing_revisions: Vec<String> =
        followed.iter().filter(|d| !known.contains(*d)).map(|d| (*d).to_owned()).collect();
    missing_revisions.dedup();
    // An ini (or table) whose scripts are not there is not a setup to keep.
    let versions_dir = versions.as_ref().is_some_and(|v| reader.is_dir(v));
    if env_py.is_none() && !versions_dir {
        return Facts::default();
    }
    Facts {
        found: true,
        ini_in_root: ini.clone(),
        ini,
        script_location: location,
        env_py,
        target_metadata,
        is_async,
        revisions,
        prepend_sys_path,
        config_var,
        url_from,
        head: (heads.len() == 1).then(|| heads[0].clone()),
        several_heads: heads.len() > 1,
        heads,
        missing_revisions,
    }
}

/// The name of a top-level `NAME = context.config` (or `alembic.context.config`).
fn config_var(env: &str) -> Option<String> {
    env.lines().find_map(|l| {
        let (name, value) = l.split('#').next()?.split_once('=')?;
        let name = name.trim();
        let value = value.trim();
        let ok = !l.starts_with([' ', '\t'])
            && (value == "context.config" || value == "alembic.context.config")
            && !name.is_empty()
            && name.chars().all(|c| c == '_' || c.is_alphanumeric());
        ok.then(|| name.to_owned())
    })
}

/// `ini`, `env` or `code`: see [`Facts::url_from`].
fn url_from(env: &str) -> &'static str {
    let code: String = env.lines().map(|l| l.split('#').next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let squashed: String = code.chars().filter(|c| !c.is_whitespace()).collect::<String>().replace('\'', "\"");
    // `config.set_main_option("sqlalchemy.url", ...)`, or the section's key set before
    // `engine_from_config(configuration, ...)`.
    if squashed.contains("set_main_option(\"sqlalchemy.url\"") || squashed.contains("[\"sqlalchemy.url\"]=") {
        "env"
    } else if squashed.contains("get_main_option(\"sqlalchemy.url\"")
        || squashed.contains("engine_from_config(")
        || squashed.contains("get_section(")
    {
        "ini"
    } else {
        "code"
    }
}

/// A revision file's `revision` and its `down_revision`s (none for the first; several for a merge,
/// whose tuple may span lines): the module-level assignments, read as [`crate::pystmt`] reads them.
fn revision(text: &str) -> Option<(String, Vec<String>)> {
    let value = |name: &str| crate::pystmt::assigned_value(text, name).ok().flatten();
    let strings = |v: &str| -> Vec<String> {
        v.split(['"', '\'']).skip(1).step_by(2).filter(|s| !s.is_empty()).map(str::to_owned).collect()
    };
    let rev = strings(&value("revision")?).into_iter().next()?;
    let down = value("down_revision").map(|v| strings(&v)).unwrap_or_default();
    Some((rev, down))
}

/// A key of the `[alembic]` section.
fn ini_value(text: &str, wanted: &str) -> Option<String> {
    let mut section = "";
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line;
        } else if section == "[alembic]"
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == wanted
        {
            return Some(value.trim().to_owned());
        }
    }
    None
}

/// `%(here)s/migrations` (here: the ini's directory `here`) or `./migrations` (from the
/// Python root, where alembic runs) -> a path from the Python root.
fn clean(location: &str, here: &str) -> String {
    let l = location.trim();
    let (base, l) = match l.strip_prefix("%(here)s") {
        Some(rest) => (here, rest.trim_start_matches('/')),
        None => ("", l),
    };
    let l = l.trim_start_matches("./");
    // A package-style location (`myapp:migrations`) is a path under the package.
    let path = join(base, l.replace(':', "/").trim_end_matches('/'));
    super::python::normalize(&path).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_script_location() {
        let ini = "# x\n[alembic]\nscript_location = %(here)s/app/alembic\n[loggers]\nscript_location = no\n";
        assert_eq!(ini_value(ini, "script_location").map(|l| clean(&l, "")).as_deref(), Some("app/alembic"));
        assert_eq!(clean("./migrations", ""), "migrations");
        assert_eq!(clean("%(here)s/migrations", "db"), "db/migrations");
        assert_eq!(clean("%(here)s/../migrations", "config"), "migrations");
    }

    #[test]
    fn revisions_and_env() {
        let new = "revision: str = \"b2\"\ndown_revision: Union[str, Sequence[str], None] = \"a1\"\n";
        assert_eq!(revision(new), Some(("b2".into(), vec!["a1".into()])));
        assert_eq!(revision("revision = 'a1'\ndown_revision = None\n"), Some(("a1".into(), vec![])));
        let merge = "revision = 'c3'\ndown_revision = ('a1', 'b2')\n";
        assert_eq!(revision(merge), Some(("c3".into(), vec!["a1".into(), "b2".into()])));
        let spread =
            "\"\"\"merge\n\nRevision ID: d4\n\"\"\"\nrevision = 'd4'\ndown_revision = (\n    'a1',\n    'b2',\n)\n";
        assert_eq!(revision(spread), Some(("d4".into(), vec!["a1".into(), "b2".into()])));
        assert_eq!(config_var("from alembic import context\nconfig = context.config\n").as_deref(), Some("config"));
        assert_eq!(url_from("url = config.get_main_option('sqlalchemy.url')"), "ini");
        assert_eq!(url_from("config.set_main_option(\n  'sqlalchemy.url', settings.URL)"), "env");
        assert_eq!(url_from("engine = create_engine(settings.URL)"), "code");
        let section = "configuration = config.get_section(config.config_ini_section)\nconfiguration['sqlalchemy.url'] = get_url()\nconnectable = engine_from_config(configuration)\n";
        assert_eq!(url_from(section), "env");
    }
}
