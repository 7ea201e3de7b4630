//! The project's layout: the Python root (the project directory, or the one subdirectory holding
//! the Python project), and under it the import root and top-level packages: `src/<pkg>/`
//! (import root `src`), a directory whose modules import its subpackages at the top (`app/` with
//! `from core.config import ...`, import root `app`), or packages at the top (`app/`, import root
//! `.`). A package is a directory holding `__init__.py`.

use serde::Serialize;

use super::{Reader, join};
use crate::project_dir::Kind;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// The directory of the Python project inside the project directory (`backend`), `""` when it
    /// is the project directory itself.
    pub python_root: String,
    /// Where imports start, relative to the Python root: `.`, `src`, or a directory that is put on
    /// the path itself (`app`, when `app/main.py` imports `core.config`).
    pub import_root: String,
    /// The packages directly under the import root, sorted.
    pub packages: Vec<String>,
}

/// Directories that are never the application's package.
const NOT_PACKAGES: &[&str] = &["tests", "test", "migrations", "alembic", "docs", "scripts", "node_modules"];

pub fn inspect(reader: &Reader) -> Facts {
    let packages_in = |dir: &str| -> Vec<String> {
        reader
            .list(dir)
            .into_iter()
            .filter(|(n, k)| *k == Kind::Dir && !n.starts_with('.') && !NOT_PACKAGES.contains(&n.as_str()))
            .filter(|(n, _)| reader.is_file(&join(&join(dir, n), "__init__.py")))
            .map(|(n, _)| n)
            .collect()
    };
    let in_src = packages_in("src");
    if !in_src.is_empty() {
        return Facts { python_root: String::new(), import_root: "src".into(), packages: in_src };
    }
    // A directory that is not a package but whose modules import its subpackages at the top
    // (`app/main.py`: `from core.config import settings`, run with `PYTHONPATH=app`).
    for (dir, kind) in reader.list("") {
        if kind != Kind::Dir || dir.starts_with('.') || NOT_PACKAGES.contains(&dir.as_str()) {
            continue;
        }
        if reader.is_file(&join(&dir, "__init__.py")) {
            continue;
        }
        let inner = packages_in(&dir);
        let imports_inner = reader
            .list(&dir)
            .iter()
            .filter(|(n, k)| *k == Kind::File && n.ends_with(".py"))
            .filter_map(|(n, _)| reader.text(&join(&dir, n)))
            .any(|text| text.lines().any(|l| top_import(l).is_some_and(|m| inner.iter().any(|p| p == m))));
        if imports_inner {
            return Facts { python_root: String::new(), import_root: dir, packages: inner };
        }
    }
    Facts { python_root: String::new(), import_root: ".".into(), packages: packages_in("") }
}

/// The top module of an absolute import line (`from core.config import x` -> `core`).
fn top_import(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("from ").or_else(|| line.strip_prefix("import "))?.trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
    (end > 0).then(|| &rest[..end])
}

/// Files that mark a Python project's directory.
const MARKERS: &[&str] = &["pyproject.toml", "requirements.txt", "setup.py", "setup.cfg", "Pipfile"];

/// Where the Python project is: the top when it has a marker file, a `requirements/` directory or
/// a package; otherwise the one subdirectory that does (a repository holding `backend/` beside
/// `frontend/`); otherwise the top.
pub fn python_root(reader: &Reader) -> String {
    let is_python =
        |dir: &str| MARKERS.iter().any(|m| reader.is_file(&join(dir, m))) || reader.is_dir(&join(dir, "requirements"));
    if is_python("") {
        return String::new();
    }
    let entries = reader.list("");
    let has_package = entries.iter().any(|(n, k)| *k == Kind::Dir && reader.is_file(&join(n, "__init__.py")));
    if has_package {
        return String::new();
    }
    let found: Vec<&String> = entries
        .iter()
        .filter(|(n, k)| *k == Kind::Dir && !n.starts_with('.') && !NOT_PACKAGES.contains(&n.as_str()))
        .map(|(n, _)| n)
        .filter(|n| is_python(n))
        .collect();
    match found[..] {
        [one] => one.clone(),
        _ => String::new(),
    }
}
