//! The project's import root and top-level packages: `src/<pkg>/` (import root `src`), or
//! packages at the top (`app/`, import root `.`). A package is a directory holding `__init__.py`.

use serde::Serialize;

use super::{Reader, join};
use crate::project_dir::Kind;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// Where imports start, relative to the project: `.` or `src`.
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
        return Facts { import_root: "src".into(), packages: in_src };
    }
    Facts { import_root: ".".into(), packages: packages_in("") }
}
