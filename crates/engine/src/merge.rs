//! Merges into files the user owns: dotenv files, line lists such as `.gitignore`, and Python
//! dependency lists (`requirements.txt` or PEP 621 `pyproject.toml`). Each keeps every line the
//! user wrote and adds only what is missing. Pure functions over text.

use std::collections::BTreeMap;

/// The outcome of merging `KEY=value` lines into a dotenv file.
pub struct EnvMerge {
    pub text: String,
    /// Keys already set to another value and left alone (without force).
    pub conflicts: Vec<String>,
    /// Whether a different value was replaced (with force).
    pub replaced: bool,
}

/// Sets each key in a dotenv text. A key already set to the same value is left as is; set to
/// another value it is a conflict, or replaced when `force`.
pub fn env_file(current: Option<&str>, values: &BTreeMap<String, String>, force: bool) -> EnvMerge {
    let mut lines: Vec<String> = current.unwrap_or("").lines().map(str::to_owned).collect();
    let mut conflicts = Vec::new();
    let mut replaced = false;
    for (key, value) in values {
        let wanted = format!("{key}={}", quote_env(value));
        let found = lines.iter().position(|l| env_key(l) == Some(key.as_str()));
        match found {
            Some(i) if env_value(&lines[i]).as_deref() == Some(value.as_str()) => {}
            Some(i) if force => {
                lines[i] = wanted;
                replaced = true;
            }
            Some(_) => conflicts.push(key.clone()),
            None => lines.push(wanted),
        }
    }
    let eol = line_ending(current.unwrap_or(""));
    let mut text = lines.join(eol);
    text.push_str(eol);
    EnvMerge { text, conflicts, replaced }
}

/// Values are single-quoted when they hold anything a dotenv reader would interpret; inside,
/// a backslash and a quote are escaped (python-dotenv's single-quote escapes), so no value can
/// end the quotes early.
fn quote_env(value: &str) -> String {
    if value.chars().all(|c| c.is_ascii_alphanumeric() || "+-._~:/@?=&%,[]".contains(c)) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

/// A quoted dotenv value's escapes undone, as python-dotenv reads them.
fn unescape_env(inner: &str, quote: char) -> String {
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match (quote, chars.next()) {
            ('\'', Some(e @ ('\\' | '\''))) => out.push(e),
            ('"', Some(e @ ('\\' | '\'' | '"'))) => out.push(e),
            ('"', Some('n')) => out.push('\n'),
            ('"', Some('t')) => out.push('\t'),
            ('"', Some('r')) => out.push('\r'),
            (_, Some(other)) => {
                out.push('\\');
                out.push(other);
            }
            (_, None) => out.push('\\'),
        }
    }
    out
}

fn env_key(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && !key.starts_with('#')).then_some(key)
}

fn env_value(line: &str) -> Option<String> {
    let (_, value) = line.split_once('=')?;
    let value = value.trim();
    for q in ['\'', '"'] {
        if value.len() >= 2 && value.starts_with(q) && value.ends_with(q) {
            return Some(unescape_env(&value[1..value.len() - 1], q));
        }
    }
    Some(value.split(" #").next().unwrap_or(value).trim().to_owned())
}

/// Appends the lines that are missing (compared without surrounding spaces).
pub fn lines(current: Option<&str>, wanted: &[String]) -> Result<String, String> {
    let mut text = current.unwrap_or("").to_owned();
    let present: Vec<&str> = text.lines().map(str::trim).collect();
    let missing: Vec<&String> = wanted.iter().filter(|w| !present.contains(&w.trim())).collect();
    if missing.is_empty() {
        return Ok(text);
    }
    let eol = line_ending(&text);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push_str(eol);
    }
    for line in missing {
        text.push_str(line);
        text.push_str(eol);
    }
    Ok(text)
}

/// The file's own line ending, so a merge does not rewrite a CRLF file's other lines.
fn line_ending(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// Where a project keeps its dependencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyTarget {
    Requirements,
    Pyproject,
}

impl DependencyTarget {
    pub fn file(self) -> &'static str {
        match self {
            DependencyTarget::Requirements => "requirements.txt",
            DependencyTarget::Pyproject => "pyproject.toml",
        }
    }
}

/// A `pyproject.toml` with a PEP 621 `[project]` table gets the dependencies; otherwise
/// `requirements.txt` (created when missing).
pub fn dependency_target(pyproject: Option<&[u8]>) -> DependencyTarget {
    let has_project = pyproject
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|t| t.parse::<toml_edit::DocumentMut>().ok())
        .is_some_and(|doc| doc.get("project").is_some_and(|p| p.is_table()));
    if has_project { DependencyTarget::Pyproject } else { DependencyTarget::Requirements }
}

/// The PEP 503 normalized name of a requirement (`SQLAlchemy[asyncio]>=2` -> `sqlalchemy`).
pub fn requirement_name(requirement: &str) -> String {
    let name: String =
        requirement.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')).collect();
    let mut out = String::new();
    for c in name.to_ascii_lowercase().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Adds each wanted requirement whose package is not listed yet.
pub fn dependencies(target: DependencyTarget, current: Option<&str>, wanted: &[String]) -> Result<String, String> {
    match target {
        DependencyTarget::Requirements => {
            let listed: Vec<String> = current
                .unwrap_or("")
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim())
                .filter(|l| !l.is_empty() && !l.starts_with('-'))
                .map(requirement_name)
                .collect();
            let missing: Vec<String> =
                wanted.iter().filter(|w| !listed.contains(&requirement_name(w))).cloned().collect();
            lines(current, &missing)
        }
        DependencyTarget::Pyproject => {
            let text = current.unwrap_or("");
            let mut doc: toml_edit::DocumentMut =
                text.parse().map_err(|e| format!("pyproject.toml is not valid TOML: {e}"))?;
            let project = doc["project"].as_table_mut().ok_or("pyproject.toml has no [project] table")?;
            if !project.contains_key("dependencies") {
                project["dependencies"] = toml_edit::value(toml_edit::Array::new());
            }
            let deps = project["dependencies"].as_array_mut().ok_or("[project].dependencies is not a list")?;
            let listed: Vec<String> = deps.iter().filter_map(|v| v.as_str()).map(requirement_name).collect();
            let mut added = false;
            for w in wanted.iter().filter(|w| !listed.contains(&requirement_name(w))) {
                deps.push(w.as_str());
                added = true;
            }
            if !added {
                return Ok(text.to_owned());
            }
            if deps.len() > 1 {
                for item in deps.iter_mut() {
                    item.decor_mut().set_prefix("\n    ");
                }
                deps.set_trailing("\n");
                deps.set_trailing_comma(true);
            }
            Ok(doc.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_keeps_user_lines_and_reports_conflicts() {
        let values = BTreeMap::from([("DATABASE_URL".to_owned(), "sqlite+aiosqlite:///./app.db".to_owned())]);
        let merged = env_file(Some("DEBUG=true\n"), &values, false);
        assert_eq!(merged.text, "DEBUG=true\nDATABASE_URL=sqlite+aiosqlite:///./app.db\n");
        let same = env_file(Some(&merged.text), &values, false);
        assert_eq!(same.text, merged.text);
        let other = env_file(Some("export DATABASE_URL='postgresql://x'\n"), &values, false);
        assert_eq!(other.conflicts, vec!["DATABASE_URL".to_owned()]);
        let forced = env_file(Some("DATABASE_URL=x\n"), &values, true);
        assert!(forced.replaced);
        assert_eq!(forced.text, "DATABASE_URL=sqlite+aiosqlite:///./app.db\n");
    }

    #[test]
    fn crlf_files_keep_their_line_endings() {
        let values = BTreeMap::from([("A".to_owned(), "1".to_owned())]);
        assert_eq!(env_file(Some("X=2\r\n# note\r\n"), &values, false).text, "X=2\r\n# note\r\nA=1\r\n");
        assert_eq!(lines(Some("node_modules/\r\n"), &[".env".into()]).unwrap(), "node_modules/\r\n.env\r\n");
    }

    #[test]
    fn requirements_add_only_missing_packages() {
        let wanted = vec!["sqlalchemy[asyncio]>=2.0".to_owned(), "alembic>=1.13".to_owned()];
        let out = dependencies(DependencyTarget::Requirements, Some("SQLAlchemy==2.0.30\nfastapi"), &wanted).unwrap();
        assert_eq!(out, "SQLAlchemy==2.0.30\nfastapi\nalembic>=1.13\n");
    }

    #[test]
    fn pyproject_gets_pep621_dependencies() {
        let text = "[project]\nname = \"x\"\ndependencies = [\"fastapi\"]\n";
        assert_eq!(dependency_target(Some(text.as_bytes())), DependencyTarget::Pyproject);
        let out =
            dependencies(DependencyTarget::Pyproject, Some(text), &["fastapi>=0.1".into(), "alembic>=1.13".into()])
                .unwrap();
        assert_eq!(out, "[project]\nname = \"x\"\ndependencies = [\n    \"fastapi\",\n    \"alembic>=1.13\",\n]\n");
        assert_eq!(dependencies(DependencyTarget::Pyproject, Some(&out), &["alembic".into()]).unwrap(), out);
        assert_eq!(dependency_target(Some(b"[tool.poetry]\n")), DependencyTarget::Requirements);
    }
}
