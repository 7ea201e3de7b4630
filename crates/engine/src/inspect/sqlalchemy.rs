//! A database engine the project already makes: its Python files under the import root
//! (packages only, no tests, migrations or virtual environments; bounded in number and size)
//! scanned for SQLAlchemy's `create_async_engine(` or `create_engine(` / `engine_from_config(`.

use serde::Serialize;

use super::{Reader, join, layout};
use crate::project_dir::Kind;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// `async`, `sync`, or null when the project makes no engine.
    pub engine: Option<String>,
    /// The file that makes it.
    pub file: Option<String>,
}

/// Directories never searched.
const SKIP: &[&str] =
    &["tests", "test", "migrations", "alembic", "node_modules", "venv", "env", "site-packages", "__pycache__"];
const MAX_FILES: usize = 400;

pub fn inspect(reader: &Reader, layout: &layout::Facts) -> Facts {
    let root = if layout.import_root == "." { "" } else { layout.import_root.as_str() };
    let mut files = Vec::new();
    if root.is_empty() {
        for package in &layout.packages {
            walk(reader, &join(root, package), 0, &mut files);
        }
    } else {
        walk(reader, root, 0, &mut files);
    }
    let mut found = Facts::default();
    for file in files {
        let Some(text) = reader.text(&file) else { continue };
        let engine = if text.contains("create_async_engine(") || text.contains("async_engine_from_config(") {
            "async"
        } else if text.contains("create_engine(") || text.contains("engine_from_config(") {
            "sync"
        } else {
            continue;
        };
        // A sync engine anywhere is what matters most: report it first.
        if found.engine.is_none() || (engine == "sync" && found.engine.as_deref() == Some("async")) {
            found = Facts { engine: Some(engine.into()), file: Some(file) };
        }
    }
    found
}

fn walk(reader: &Reader, dir: &str, depth: usize, out: &mut Vec<String>) {
    if depth > 6 || out.len() >= MAX_FILES {
        return;
    }
    for (name, kind) in reader.list(dir) {
        let path = join(dir, &name);
        match kind {
            Kind::File if name.ends_with(".py") => out.push(path),
            Kind::Dir if !name.starts_with('.') && !SKIP.contains(&name.as_str()) => {
                walk(reader, &path, depth + 1, out)
            }
            _ => {}
        }
    }
}
