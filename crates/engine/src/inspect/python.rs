//! Where a Python project keeps its dependencies and which tool installs them.
//!
//! In order: a `pyproject.toml` whose `[project]` lists the dependencies (PEP 621; the manager is
//! uv with a `uv.lock` or `[tool.uv]`, Poetry with a `poetry.lock`, pdm with a `pdm.lock`, else
//! pip); a `pyproject.toml` with `[tool.poetry.dependencies]` (Poetry's own table); otherwise
//! requirements files: the one a Dockerfile installs (`pip install -r <file>`), a root
//! `requirements.txt`, or a `requirements/` directory's base file, followed down its `-r`
//! includes to the file the others build on. With none of them, `requirements.txt` (created).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Reader, join};
use crate::error::Result;
use crate::merge::requirement_name;
use crate::project_dir::Kind;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    /// `pip`, `uv`, `poetry` or `pdm`.
    pub manager: String,
    /// The file the dependencies are added to.
    pub dependency_file: String,
    /// How they are written there: `pep621`, `poetry` or `requirements`.
    pub dependency_style: String,
    /// Whether `dependency_file` exists already.
    pub dependency_file_exists: bool,
    /// The file an install reads: a requirements file the Dockerfile installs (or the one the
    /// others include), else `dependency_file`; relative to the Python root, where commands run.
    pub install_file: String,
    /// The requirements file a Dockerfile installs, if any.
    pub dockerfile_requirements: Option<String>,
    /// The lock file (`uv.lock`, `poetry.lock`, `pdm.lock`), if any.
    pub lock_file: Option<String>,
    /// The version of the tool that wrote the lock, when it says (`1.8.3` from Poetry's header).
    pub lock_tool_version: Option<String>,
    /// What runs a command in the project's environment: `uv run `, `poetry run `, `pdm run `
    /// or nothing.
    pub run_prefix: String,
    /// Requirements already declared, by normalized name: the version constraint as written
    /// (`""` for none).
    pub declared: BTreeMap<String, String>,
    /// Versions pinned by the lock file (or `==` pins), by normalized name.
    pub locked: BTreeMap<String, String>,
    /// The major version each package is held to, by normalized name: the locked version's, else
    /// one the declared constraint fixes (`==1.10.2`, `^1.10`, `~=1.10`, `<2`).
    pub majors: BTreeMap<String, String>,
}

pub fn inspect(reader: &Reader) -> Result<Facts> {
    let pyproject_text = reader.must("pyproject.toml")?;
    let pyproject = pyproject_text.as_deref().and_then(|t| t.parse::<toml_edit::DocumentMut>().ok());
    let dockerfile = dockerfile_requirements(reader);
    let lock = ["uv.lock", "poetry.lock", "pdm.lock"].into_iter().find(|f| reader.is_file(f)).map(str::to_owned);
    let has_tool = |name: &str| pyproject.as_ref().and_then(|d| d.get("tool")).and_then(|t| t.get(name)).is_some();

    let pep621 = pyproject.as_ref().and_then(|d| d.get("project")).and_then(|p| p.as_table()).is_some_and(|p| {
        let dynamic_deps = p
            .get("dynamic")
            .and_then(|d| d.as_array())
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("dependencies")));
        !dynamic_deps
    });
    let poetry_table = pyproject
        .as_ref()
        .and_then(|d| d.get("tool"))
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.get("dependencies"))
        .is_some_and(|d| d.is_table_like());

    let mut declared = BTreeMap::new();
    let (style, file, manager) = if pep621 {
        if let Some(deps) = pyproject.as_ref().and_then(|d| d["project"].get("dependencies")).and_then(|d| d.as_array())
        {
            for r in deps.iter().filter_map(|v| v.as_str()) {
                declared.insert(requirement_name(r), constraint_of(r));
            }
        }
        let manager = match lock.as_deref() {
            Some("uv.lock") => "uv",
            Some("poetry.lock") => "poetry",
            Some("pdm.lock") => "pdm",
            _ if has_tool("uv") => "uv",
            _ if has_tool("pdm") => "pdm",
            _ if poetry_table || has_tool("poetry") && is_poetry_backend(pyproject.as_ref()) => "poetry",
            _ => "pip",
        };
        ("pep621", "pyproject.toml".to_owned(), manager)
    } else if poetry_table {
        let table =
            pyproject.as_ref().and_then(|d| d["tool"]["poetry"].get("dependencies")).and_then(|d| d.as_table_like());
        for (name, value) in table.into_iter().flat_map(|t| t.iter()) {
            if name != "python" {
                let version = value
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| {
                        value.as_table_like().and_then(|t| t.get("version")).and_then(|v| v.as_str()).map(str::to_owned)
                    })
                    .unwrap_or_default();
                declared.insert(requirement_name(name), version);
            }
        }
        ("poetry", "pyproject.toml".to_owned(), "poetry")
    } else {
        let file = requirements_file(reader, dockerfile.as_deref());
        for r in requirement_lines(reader.text(&file).as_deref().unwrap_or("")) {
            declared.insert(requirement_name(&r), constraint_of(&r));
        }
        ("requirements", file, "pip")
    };
    let install_file = match (&dockerfile, style) {
        (Some(d), "requirements") => d.clone(),
        _ => file.clone(),
    };
    let lock = lock.filter(|l| match manager {
        "uv" => l == "uv.lock",
        "poetry" => l == "poetry.lock",
        "pdm" => l == "pdm.lock",
        _ => false,
    });
    let (locked, lock_tool_version) = match &lock {
        Some(l) => read_lock(reader.text(l).as_deref().unwrap_or("")),
        None => (BTreeMap::new(), None),
    };
    let mut locked = locked;
    for (name, constraint) in &declared {
        if let Some(pin) = constraint.strip_prefix("==") {
            locked.entry(name.clone()).or_insert_with(|| pin.trim().to_owned());
        }
    }
    let mut majors = BTreeMap::new();
    for (name, version) in &locked {
        if let Some(major) = version.split('.').next().filter(|m| m.chars().all(|c| c.is_ascii_digit())) {
            majors.insert(name.clone(), major.to_owned());
        }
    }
    for (name, constraint) in &declared {
        if let Some(major) = declared_major(constraint) {
            majors.entry(name.clone()).or_insert(major);
        }
    }
    let run_prefix = match manager {
        "uv" => "uv run ",
        "poetry" => "poetry run ",
        "pdm" => "pdm run ",
        _ => "",
    };
    Ok(Facts {
        manager: manager.to_owned(),
        dependency_file_exists: reader.is_file(&file),
        dependency_file: file,
        dependency_style: style.to_owned(),
        install_file,
        dockerfile_requirements: dockerfile,
        lock_file: lock,
        lock_tool_version,
        run_prefix: run_prefix.to_owned(),
        declared,
        locked,
        majors,
    })
}

/// The major version a constraint holds a package to, when it fixes one.
fn declared_major(constraint: &str) -> Option<String> {
    let number = |v: &str| -> Option<u64> { v.trim().split('.').next()?.parse().ok() };
    let mut low = None;
    let mut high = None;
    for clause in constraint.split(',').map(str::trim) {
        if let Some(v) =
            clause.strip_prefix("==").or_else(|| clause.strip_prefix("~=")).or_else(|| clause.strip_prefix('^'))
        {
            return number(v).map(|n| n.to_string());
        } else if let Some(v) = clause.strip_prefix(">=") {
            low = number(v);
        } else if let Some(v) = clause.strip_prefix("<=") {
            high = number(v);
        } else if let Some(v) = clause.strip_prefix('<') {
            // `<2` and `<2.0` hold to 1; `<1.10` holds to 1.
            let whole = v.trim().split('.').skip(1).all(|p| p.chars().all(|c| c == '0'));
            high = number(v).map(|n| if whole { n.saturating_sub(1) } else { n });
        }
    }
    match (low, high) {
        (Some(l), Some(h)) if l == h => Some(l.to_string()),
        (None, Some(h)) => Some(h.to_string()),
        _ => None,
    }
}

fn is_poetry_backend(doc: Option<&toml_edit::DocumentMut>) -> bool {
    doc.and_then(|d| d.get("build-system"))
        .and_then(|b| b.get("build-backend"))
        .and_then(|b| b.as_str())
        .is_some_and(|b| b.starts_with("poetry"))
}

/// The version constraint of a requirement as written (`fastapi[all]>=0.110 ; python_version...`
/// -> `>=0.110`).
pub fn constraint_of(requirement: &str) -> String {
    let r = requirement.split(';').next().unwrap_or("").split(" #").next().unwrap_or("").trim();
    let after_name = r.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    let after_extras = match after_name.trim_start().strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or("", |(_, r)| r),
        None => after_name,
    };
    after_extras.trim().replace(' ', "")
}

/// The requirement lines of a requirements file (no comments, options or blank lines).
pub fn requirement_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split(" #").next().unwrap_or("").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

/// The files a requirements file includes (`-r other.txt`, `--requirement other.txt`), as project
/// paths.
fn includes(reader: &Reader, file: &str) -> Vec<String> {
    let dir = file.rsplit_once('/').map_or("", |(d, _)| d);
    let text = reader.text(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l.strip_prefix("-r").or_else(|| l.strip_prefix("--requirement"))?;
            let rest = rest.trim_start_matches('=').trim();
            (!rest.is_empty()).then(|| normalize(&join(dir, rest.split_whitespace().next()?)))
        })
        .flatten()
        .collect()
}

/// `a/./b/../c` -> `a/c`; `None` when it leaves the project.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The requirements file that new dependencies belong in.
fn requirements_file(reader: &Reader, dockerfile: Option<&str>) -> String {
    let start = dockerfile.map(str::to_owned).or_else(|| {
        if reader.is_file("requirements.txt") {
            return Some("requirements.txt".to_owned());
        }
        let names: Vec<String> = reader
            .list("requirements")
            .into_iter()
            .filter(|(n, k)| *k == Kind::File && n.ends_with(".txt"))
            .map(|(n, _)| n)
            .collect();
        let preferred = ["base.txt", "common.txt", "main.txt", "prod.txt", "production.txt", "requirements.txt"];
        preferred
            .iter()
            .find(|p| names.iter().any(|n| n == *p))
            .map(|p| p.to_string())
            .or_else(|| names.iter().find(|n| !n.contains("dev") && !n.contains("test")).cloned())
            .map(|n| format!("requirements/{n}"))
    });
    let Some(mut file) = start else { return "requirements.txt".to_owned() };
    // Down the `-r` chain to the file the others build on: where runtime dependencies belong.
    for _ in 0..8 {
        match includes(reader, &file).into_iter().find(|f| reader.is_file(f)) {
            Some(next) if next != file => file = next,
            _ => break,
        }
    }
    file
}

/// The project file a Dockerfile installs with `pip install -r <file>` (`/app/requirements/prod.txt`
/// in the image is found as `requirements/prod.txt`).
fn dockerfile_requirements(reader: &Reader) -> Option<String> {
    let text = reader.text("Dockerfile")?.replace("\\\n", " ");
    for line in text.lines() {
        let line = line.trim();
        if !(line.contains("pip install") || line.contains("pip3 install")) {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        for (i, w) in words.iter().enumerate() {
            let path = match *w {
                "-r" | "--requirement" => words.get(i + 1).copied(),
                w => w.strip_prefix("--requirement=").or_else(|| w.strip_prefix("-r").filter(|r| r.contains(".txt"))),
            };
            let Some(path) = path else { continue };
            let path = path.trim_matches(|c| c == '"' || c == '\'' || c == ';' || c == '&');
            let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
            for skip in 0..parts.len() {
                let candidate = parts[skip..].join("/");
                if reader.is_file(&candidate) {
                    return Some(candidate);
                }
            }
        }
    }
    None
}

/// Versions in a `uv.lock`, `poetry.lock` or `pdm.lock` (`[[package]]` name and version), and the
/// version of the tool that wrote it when its header says (`# ... @generated by Poetry 1.8.3`).
fn read_lock(text: &str) -> (BTreeMap<String, String>, Option<String>) {
    let tool = text.lines().take(3).find_map(|l| {
        let (_, rest) = l.split_once("generated by ")?;
        let version = rest.split_whitespace().nth(1)?;
        version.chars().next()?.is_ascii_digit().then(|| version.trim_end_matches(['.', ',']).to_owned())
    });
    let mut locked = BTreeMap::new();
    if let Ok(doc) = text.parse::<toml_edit::DocumentMut>()
        && let Some(packages) = doc.get("package").and_then(|p| p.as_array_of_tables())
    {
        for p in packages.iter() {
            if let (Some(name), Some(version)) =
                (p.get("name").and_then(|v| v.as_str()), p.get("version").and_then(|v| v.as_str()))
            {
                locked.insert(requirement_name(name), version.to_owned());
            }
        }
    }
    (locked, tool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_and_locks() {
        assert_eq!(constraint_of("FastAPI[all] >= 0.110, <1 ; python_version > '3.8'"), ">=0.110,<1");
        assert_eq!(constraint_of("alembic"), "");
        let lock = "# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.\n\n[[package]]\nname = \"FastAPI\"\nversion = \"0.110.0\"\n";
        let (locked, tool) = read_lock(lock);
        assert_eq!(locked["fastapi"], "0.110.0");
        assert_eq!(tool.as_deref(), Some("1.8.3"));
        assert_eq!(normalize("requirements/../requirements/base.txt").as_deref(), Some("requirements/base.txt"));
        assert_eq!(normalize("../x.txt"), None);
        assert_eq!(declared_major("<2").as_deref(), Some("1"));
        assert_eq!(declared_major("^1.10").as_deref(), Some("1"));
        assert_eq!(declared_major(">=1.10,<2.0").as_deref(), Some("1"));
        assert_eq!(declared_major(">=2.0").as_deref(), None);
    }
}
