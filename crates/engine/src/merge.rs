//! Merges into files the user owns: dotenv files, line lists such as `.gitignore`, and Python
//! dependency lists (`requirements.txt`, PEP 621 or Poetry `pyproject.toml`). Each keeps every line the
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

/// Whether an existing value means the same as a wanted one.
pub type SameValue<'a> = &'a dyn Fn(&str, &str) -> bool;

/// How [`env_file`] treats a key that is already set.
#[derive(Clone, Copy, Default)]
pub struct EnvOptions<'a> {
    /// Replace another value (`--force`).
    pub force: bool,
    /// Leave any value as it is (a placeholder in an example file stays a placeholder).
    pub keep_existing: bool,
    /// Whether an existing value means the same as the wanted one (the same database URL in
    /// another spelling); such a value is left as it is.
    pub same: Option<SameValue<'a>>,
}

/// Sets each key in a dotenv text. A key already set to the same value (or one `same` accepts) is
/// left as is; set to another value it is a conflict, or replaced when `force`, or left as it is
/// when `keep_existing`.
pub fn env_file(current: Option<&str>, values: &BTreeMap<String, String>, options: EnvOptions<'_>) -> EnvMerge {
    let EnvOptions { force, keep_existing, same } = options;
    let mut lines: Vec<String> = current.unwrap_or("").lines().map(str::to_owned).collect();
    let mut conflicts = Vec::new();
    let mut replaced = false;
    for (key, value) in values {
        let wanted = format!("{key}={}", quote_env(value));
        let found = lines.iter().position(|l| env_key(l) == Some(key.as_str()));
        match found {
            Some(i)
                if keep_existing
                    || env_value(&lines[i]).is_some_and(|v| v == *value || same.is_some_and(|f| f(&v, value))) => {}
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

/// How a project writes its dependencies (see [`crate::inspect::python`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependencyStyle {
    /// One requirement per line (`requirements.txt`).
    Requirements,
    /// PEP 621 `[project].dependencies` of a `pyproject.toml`.
    Pep621,
    /// Poetry's `[tool.poetry.dependencies]` table.
    Poetry,
}

impl DependencyStyle {
    pub fn parse(text: &str) -> DependencyStyle {
        match text {
            "pep621" => DependencyStyle::Pep621,
            "poetry" => DependencyStyle::Poetry,
            _ => DependencyStyle::Requirements,
        }
    }
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

/// A requirement taken apart: `SQLAlchemy[asyncio] >=2.0 ; python_version>'3'  # db`.
#[derive(Debug, Clone, PartialEq)]
struct Requirement {
    /// The name as written.
    name: String,
    extras: Vec<String>,
    /// The version constraint without spaces (`>=2.0`), `""` for none.
    constraint: String,
    /// Everything after the constraint (a marker, a comment), kept as written.
    rest: String,
}

impl Requirement {
    fn parse(text: &str) -> Requirement {
        let text = text.trim_start();
        let name_end =
            text.find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))).unwrap_or(text.len());
        let name = text[..name_end].to_owned();
        let mut rest = &text[name_end..];
        let mut extras = Vec::new();
        if let Some(inner) = rest.trim_start().strip_prefix('[')
            && let Some((list, after)) = inner.split_once(']')
        {
            extras = list.split(',').map(|e| e.trim().to_owned()).filter(|e| !e.is_empty()).collect();
            rest = after;
        }
        let end = [rest.find(';'), rest.find('#')].into_iter().flatten().min().unwrap_or(rest.len());
        let head = rest[..end].trim_end().len();
        let constraint = rest[..head].chars().filter(|c| !c.is_whitespace()).collect();
        Requirement { name, extras, constraint, rest: rest[head..].to_owned() }
    }

    fn render(&self) -> String {
        let extras = if self.extras.is_empty() { String::new() } else { format!("[{}]", self.extras.join(",")) };
        format!("{}{extras}{}{}", self.name, self.constraint, self.rest)
    }
}

/// A release version's numbers (`2.0.30rc1` -> `[2, 0, 30]`).
fn release(version: &str) -> Option<Vec<u64>> {
    let v = version.trim().trim_start_matches(['v', 'V']);
    let mut out = Vec::new();
    for part in v.split('.') {
        let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            break;
        }
        out.push(digits.parse().ok()?);
        if digits.len() != part.len() {
            break;
        }
    }
    (!out.is_empty()).then_some(out)
}

fn compare(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let n = a.len().max(b.len());
    (0..n)
        .map(|i| a.get(i).unwrap_or(&0).cmp(b.get(i).unwrap_or(&0)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// The lowest version a constraint allows, when it has one: `>=`, `>`, `==`, `~=`, and Poetry's
/// `^`, `~` and bare versions. `None` for no lower bound (`""`, `*`, `<2`).
fn lower_bound(constraint: &str) -> Option<Vec<u64>> {
    constraint
        .split(',')
        .filter_map(|clause| {
            let c = clause.trim();
            let v = ["===", "==", ">=", "~=", ">", "^", "~", "="]
                .iter()
                .find_map(|op| c.strip_prefix(op))
                .or_else(|| c.starts_with(|ch: char| ch.is_ascii_digit()).then_some(c))?;
            release(v.trim_end_matches(".*"))
        })
        .max_by(|a, b| compare(a, b))
}

/// What a merge changed in a requirement the project already had.
#[derive(Debug, Clone, PartialEq)]
pub struct Raised {
    pub name: String,
    pub from: String,
    pub to: String,
}

/// The version a constraint keeps below (exclusive): an explicit `<U` (or `<=U`, read as below
/// the next release), or the series a pin or compatible release holds to: `==2.0.25` and `~=2.0.25`
/// -> `2.1`, `~=2.0` -> `3`, Poetry's `^2.0` -> `3`, `^0.110` -> `0.111`, `~2.0.1` -> `2.1`.
fn upper_bound(constraint: &str) -> Option<Vec<u64>> {
    let next = |v: &[u64], at: usize| -> Vec<u64> {
        let mut out: Vec<u64> = v.iter().copied().take(at + 1).collect();
        out.resize(at + 1, 0);
        out[at] += 1;
        out
    };
    constraint
        .split(',')
        .filter_map(|clause| {
            let c = clause.trim();
            if let Some(v) = c.strip_prefix("<=") {
                let v = release(v)?;
                Some(next(&v, v.len() - 1))
            } else if let Some(v) = c.strip_prefix('<') {
                release(v)
            } else if let Some(v) = c.strip_prefix("~=") {
                let v = release(v)?;
                Some(next(&v, v.len().saturating_sub(2)))
            } else if let Some(v) = c.strip_prefix("==").filter(|v| !v.contains('*')).or_else(|| c.strip_prefix('~')) {
                let v = release(v)?;
                Some(next(&v, 1.min(v.len() - 1)))
            } else if let Some(v) = c.strip_prefix('^') {
                let v = release(v)?;
                let at = v.iter().position(|n| *n != 0).unwrap_or(v.len() - 1);
                Some(next(&v, at))
            } else {
                None
            }
        })
        .min_by(|a, b| compare(a, b))
}

fn show_version(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// `existing` brought up to `wanted`, and the wanted extras added; `None` when nothing needs to
/// change. A constraint that allows versions below the wanted floor (a pin, a lower `>=`, none
/// at all) becomes the wanted floor, kept inside the series the project held the package to when
/// the floor fits there (`==2.0.25` -> `>=2.0.30,<2.1`: a pinned 2.0 stack is not moved to 2.1),
/// else the wanted constraint.
fn raise(existing: &Requirement, wanted: &Requirement) -> Option<Requirement> {
    let mut out = existing.clone();
    if let Some(floor) = lower_bound(&wanted.constraint)
        && lower_bound(&existing.constraint).is_none_or(|low| compare(&low, &floor).is_lt())
    {
        let held = upper_bound(&existing.constraint).filter(|up| compare(&floor, up).is_lt());
        out.constraint = match (held, upper_bound(&wanted.constraint)) {
            (Some(up), Some(theirs)) if compare(&up, &theirs).is_lt() => {
                format!(">={},<{}", show_version(&floor), show_version(&up))
            }
            (Some(up), None) => format!(">={},<{}", show_version(&floor), show_version(&up)),
            _ => wanted.constraint.clone(),
        };
    }
    for e in &wanted.extras {
        if !out.extras.iter().any(|x| x.eq_ignore_ascii_case(e)) {
            out.extras.push(e.clone());
        }
    }
    (out != *existing).then_some(out)
}

fn raised(name: &str, from: &Requirement, to: &Requirement) -> Raised {
    let show = |r: &Requirement| {
        let extras = if r.extras.is_empty() { String::new() } else { format!("[{}]", r.extras.join(",")) };
        let c = if r.constraint.is_empty() { "(any version)".to_owned() } else { r.constraint.clone() };
        format!("{extras}{c}")
    };
    Raised { name: name.to_owned(), from: show(from), to: show(to) }
}

/// Adds each wanted requirement whose package is not listed yet, in the project's style, and
/// raises one that is listed below the wanted floor (or without a wanted extra). Returns the text
/// and what was raised.
pub fn dependencies(
    style: DependencyStyle,
    current: Option<&str>,
    wanted: &[String],
) -> Result<(String, Vec<Raised>), String> {
    let wanted: Vec<Requirement> = wanted.iter().map(|w| Requirement::parse(w)).collect();
    let mut changes = Vec::new();
    match style {
        DependencyStyle::Requirements => {
            let text = current.unwrap_or("");
            let eol = line_ending(text);
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            let mut missing = Vec::new();
            for w in &wanted {
                let name = requirement_name(&w.name);
                let found = lines.iter().position(|l| {
                    let l = l.trim();
                    !l.is_empty() && !l.starts_with('#') && !l.starts_with('-') && requirement_name(l) == name
                });
                match found {
                    Some(i) => {
                        let existing = Requirement::parse(&lines[i]);
                        if let Some(up) = raise(&existing, w) {
                            changes.push(raised(&existing.name, &existing, &up));
                            let indent = &lines[i][..lines[i].len() - lines[i].trim_start().len()];
                            lines[i] = format!("{indent}{}", up.render());
                        }
                    }
                    None => missing.push(w.render()),
                }
            }
            if changes.is_empty() {
                return Ok((self::lines(current, &missing)?, changes));
            }
            let mut rebuilt = lines.join(eol);
            if text.ends_with('\n') || text.is_empty() {
                rebuilt.push_str(eol);
            }
            Ok((self::lines(Some(&rebuilt), &missing)?, changes))
        }
        DependencyStyle::Pep621 => {
            let text = current.unwrap_or("");
            let mut doc: toml_edit::DocumentMut =
                text.parse().map_err(|e| format!("pyproject.toml is not valid TOML: {e}"))?;
            let project = doc["project"].as_table_mut().ok_or("pyproject.toml has no [project] table")?;
            if !project.contains_key("dependencies") {
                project["dependencies"] = toml_edit::value(toml_edit::Array::new());
            }
            let deps = project["dependencies"].as_array_mut().ok_or("[project].dependencies is not a list")?;
            let mut added = false;
            for w in &wanted {
                let name = requirement_name(&w.name);
                let found = deps.iter().position(|v| v.as_str().is_some_and(|s| requirement_name(s) == name));
                match found {
                    Some(i) => {
                        let existing = Requirement::parse(deps.get(i).and_then(|v| v.as_str()).unwrap_or(""));
                        if let Some(up) = raise(&existing, w) {
                            changes.push(raised(&existing.name, &existing, &up));
                            let decor = deps.get(i).map(|v| v.decor().clone()).unwrap_or_default();
                            deps.replace(i, up.render().trim());
                            if let Some(v) = deps.get_mut(i) {
                                *v.decor_mut() = decor;
                            }
                        }
                    }
                    None => {
                        deps.push(w.render());
                        added = true;
                    }
                }
            }
            if !added && changes.is_empty() {
                return Ok((text.to_owned(), changes));
            }
            if added && deps.len() > 1 {
                for item in deps.iter_mut() {
                    item.decor_mut().set_prefix("\n    ");
                }
                deps.set_trailing("\n");
                deps.set_trailing_comma(true);
            }
            Ok((doc.to_string(), changes))
        }
        DependencyStyle::Poetry => {
            let text = current.unwrap_or("");
            let mut doc: toml_edit::DocumentMut =
                text.parse().map_err(|e| format!("pyproject.toml is not valid TOML: {e}"))?;
            let table = doc
                .get_mut("tool")
                .and_then(|t| t.get_mut("poetry"))
                .and_then(|p| p.get_mut("dependencies"))
                .and_then(|d| d.as_table_like_mut())
                .ok_or("pyproject.toml has no [tool.poetry.dependencies] table")?;
            for w in &wanted {
                let name = requirement_name(&w.name);
                let key = table.iter().map(|(k, _)| k.to_owned()).find(|k| requirement_name(k) == name);
                match key {
                    Some(key) => {
                        let item = table.get_mut(&key).expect("listed");
                        let (version, extras) = poetry_entry(item);
                        let existing =
                            Requirement { name: key.clone(), extras, constraint: version, rest: String::new() };
                        if let Some(up) = raise(&existing, w) {
                            changes.push(raised(&key, &existing, &up));
                            set_poetry_entry(item, &up);
                        }
                    }
                    None => {
                        let mut item = toml_edit::Item::None;
                        set_poetry_entry(&mut item, w);
                        table.insert(&w.name, item);
                    }
                }
            }
            let out = doc.to_string();
            Ok((if out == text { text.to_owned() } else { out }, changes))
        }
    }
}

/// A Poetry dependency's version and extras (`"^1.0"`, `{version = "^1.0", extras = [...]}`).
fn poetry_entry(item: &toml_edit::Item) -> (String, Vec<String>) {
    if let Some(s) = item.as_str() {
        return (s.trim().to_owned(), Vec::new());
    }
    let Some(t) = item.as_table_like() else { return (String::new(), Vec::new()) };
    let version = t.get("version").and_then(|v| v.as_str()).unwrap_or("").trim().to_owned();
    let extras = t
        .get("extras")
        .and_then(|e| e.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).map(str::to_owned).collect())
        .unwrap_or_default();
    (version, extras)
}

/// Writes a requirement as a Poetry dependency: a plain version string, or an inline table when
/// it has extras (or already was a table, whose other keys are kept).
fn set_poetry_entry(item: &mut toml_edit::Item, r: &Requirement) {
    let version = if r.constraint.is_empty() { "*".to_owned() } else { r.constraint.clone() };
    // The entry's own decoration (a trailing `# comment`) stays with the new value.
    let decor = item.as_value().map(|v| v.decor().clone());
    let keep_decor = |item: &mut toml_edit::Item| {
        if let (Some(decor), Some(v)) = (&decor, item.as_value_mut()) {
            *v.decor_mut() = decor.clone();
        }
    };
    if r.extras.is_empty() && !item.is_table_like() {
        *item = toml_edit::value(version);
        keep_decor(item);
        return;
    }
    if !item.is_table_like() {
        *item = toml_edit::value(toml_edit::InlineTable::new());
        keep_decor(item);
    }
    let t = item.as_table_like_mut().expect("a table");
    t.insert("version", toml_edit::value(version));
    if !r.extras.is_empty() {
        let mut extras = toml_edit::Array::new();
        for e in &r.extras {
            extras.push(e.as_str());
        }
        t.insert("extras", toml_edit::value(extras));
    }
}

/// Adds `line` to the body of Python class `class` (after its docstring), unless the class already
/// has the attribute `name` (a field, an assignment or a method). A scan of lines, not a parse:
/// the class header must start a line. `Err` says what to add by hand.
pub fn python_class_field(current: Option<&str>, class: &str, name: &str, line: &str) -> Result<String, String> {
    let by_hand = format!("add `{line}` to class `{class}` by hand");
    let text = current.ok_or_else(|| format!("the file is missing; {by_hand}"))?;
    let eol = line_ending(text);
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| {
            let t = l.trim_start();
            t.strip_prefix("class ").is_some_and(|r| {
                let r = r.trim_start();
                r.strip_prefix(class).is_some_and(|after| after.starts_with(['(', ':', ' ']))
            })
        })
        .ok_or_else(|| format!("it has no class `{class}`; {by_hand}"))?;
    let class_indent = lines[header].len() - lines[header].trim_start().len();
    // The header may span lines (long base lists): the body starts after the line ending in `:`.
    let open = (header..lines.len().min(header + 20))
        .find(|&i| lines[i].split('#').next().unwrap_or("").trim_end().ends_with(':'))
        .ok_or_else(|| format!("the header of class `{class}` could not be read; {by_hand}"))?;
    let body: Vec<usize> = (open + 1..lines.len())
        .take_while(|&i| {
            let l = lines[i];
            l.trim().is_empty() || l.len() - l.trim_start().len() > class_indent
        })
        .collect();
    let first = body.iter().copied().find(|&i| !lines[i].trim().is_empty() && !lines[i].trim_start().starts_with('#'));
    let Some(first) = first else { return Err(format!("class `{class}` has an empty body; {by_hand}")) };
    let indent = &lines[first][..lines[first].len() - lines[first].trim_start().len()];
    let has = body.iter().any(|&i| {
        let l = lines[i];
        l.len() - l.trim_start().len() == indent.len() && {
            let t = l.trim_start();
            let t = t.strip_prefix("def ").or_else(|| t.strip_prefix("async def ")).unwrap_or(t);
            t.strip_prefix(name).is_some_and(|r| r.trim_start().starts_with([':', '=', '(']))
        }
    });
    if has {
        return Ok(text.to_owned());
    }
    // After a docstring, if the body opens with one.
    let mut at = first;
    let t = lines[first].trim_start();
    let t = t.trim_start_matches(['r', 'u', 'R', 'U']);
    if let Some(q) = ["\"\"\"", "\'\'\'", "\"", "\'"].into_iter().find(|q| t.starts_with(q)) {
        let rest = &t[q.len()..];
        at = if rest.contains(q) {
            first + 1
        } else {
            (first + 1..lines.len()).find(|&i| lines[i].contains(q)).map_or(first + 1, |i| i + 1)
        };
    }
    let mut new: Vec<String> = Vec::new();
    if at != first {
        new.push(String::new());
    }
    new.extend(line.lines().map(|l| format!("{indent}{l}")));
    if at == first {
        new.push(String::new());
    }
    let mut out: Vec<String> = lines[..at].iter().map(|l| l.to_string()).collect();
    out.extend(new);
    out.extend(lines[at..].iter().map(|l| l.to_string()));
    let mut merged = out.join(eol);
    if text.ends_with('\n') {
        merged.push_str(eol);
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_keeps_user_lines_and_reports_conflicts() {
        let values = BTreeMap::from([("DATABASE_URL".to_owned(), "sqlite+aiosqlite:///./app.db".to_owned())]);
        let merged = env_file(Some("DEBUG=true\n"), &values, EnvOptions::default());
        assert_eq!(merged.text, "DEBUG=true\nDATABASE_URL=sqlite+aiosqlite:///./app.db\n");
        let same = env_file(Some(&merged.text), &values, EnvOptions::default());
        assert_eq!(same.text, merged.text);
        let other = env_file(Some("export DATABASE_URL='postgresql://x'\n"), &values, EnvOptions::default());
        assert_eq!(other.conflicts, vec!["DATABASE_URL".to_owned()]);
        let forced = env_file(Some("DATABASE_URL=x\n"), &values, EnvOptions { force: true, ..EnvOptions::default() });
        assert!(forced.replaced);
        assert_eq!(forced.text, "DATABASE_URL=sqlite+aiosqlite:///./app.db\n");
    }

    #[test]
    fn crlf_files_keep_their_line_endings() {
        let values = BTreeMap::from([("A".to_owned(), "1".to_owned())]);
        assert_eq!(
            env_file(Some("X=2\r\n# note\r\n"), &values, EnvOptions::default()).text,
            "X=2\r\n# note\r\nA=1\r\n"
        );
        assert_eq!(lines(Some("node_modules/\r\n"), &[".env".into()]).unwrap(), "node_modules/\r\n.env\r\n");
    }

    #[test]
    fn requirements_add_missing_packages_and_raise_low_floors() {
        let wanted =
            vec!["sqlalchemy[asyncio]>=2.0".to_owned(), "alembic>=1.13".to_owned(), "fastapi>=0.121".to_owned()];
        let (out, raised) = dependencies(
            DependencyStyle::Requirements,
            Some("SQLAlchemy==2.0.30  # db\nfastapi==0.110.0 ; python_version >= '3.9'\n"),
            &wanted,
        )
        .unwrap();
        assert_eq!(out, "SQLAlchemy[asyncio]==2.0.30  # db\nfastapi>=0.121 ; python_version >= '3.9'\nalembic>=1.13\n");
        assert_eq!(raised.len(), 2);
        assert_eq!(raised[1], Raised { name: "fastapi".into(), from: "==0.110.0".into(), to: ">=0.121".into() });
        let (again, none) = dependencies(DependencyStyle::Requirements, Some(&out), &wanted).unwrap();
        assert_eq!((again, none.len()), (out, 0));
        assert_eq!(lower_bound(">=0.100,<0.115"), Some(vec![0, 100]));
        assert_eq!(lower_bound("^1.10"), Some(vec![1, 10]));
        assert_eq!(lower_bound("<2"), None);
        let up = |c: &str| upper_bound(c).map(|v| show_version(&v));
        assert_eq!(up("==2.0.25").as_deref(), Some("2.1"));
        assert_eq!(up("^0.110.0").as_deref(), Some("0.111"));
        assert_eq!(up("^2.0").as_deref(), Some("3"));
        assert_eq!(up("~=2.0").as_deref(), Some("3"));
        assert_eq!(up(">=0.100,<1.0").as_deref(), Some("1.0"));
        assert_eq!(up(">=1"), None);
        let raised = |existing: &str, wanted: &str| {
            raise(&Requirement::parse(existing), &Requirement::parse(wanted)).map(|r| r.constraint)
        };
        // A pinned 2.0 stack stays on 2.0; a series the floor does not fit in gives way.
        assert_eq!(raised("sqlalchemy==2.0.25", "sqlalchemy>=2.0.30,<2.2").as_deref(), Some(">=2.0.30,<2.1"));
        assert_eq!(raised("sqlalchemy>=2.0,<3", "sqlalchemy>=2.0.30,<2.2").as_deref(), Some(">=2.0.30,<2.2"));
        assert_eq!(raised("fastapi>=0.100,<1.0", "fastapi>=0.121").as_deref(), Some(">=0.121,<1.0"));
        assert_eq!(raised("fastapi==0.110.0", "fastapi>=0.121").as_deref(), Some(">=0.121"));
        assert_eq!(raised("fastapi>=0.121", "fastapi>=0.121"), None);
    }

    #[test]
    fn pyproject_gets_pep621_dependencies() {
        let text = "[project]\nname = \"x\"\ndependencies = [\"fastapi\"]\n";
        let (out, raised) =
            dependencies(DependencyStyle::Pep621, Some(text), &["fastapi>=0.1".into(), "alembic>=1.13".into()])
                .unwrap();
        assert_eq!(
            out,
            "[project]\nname = \"x\"\ndependencies = [\n    \"fastapi>=0.1\",\n    \"alembic>=1.13\",\n]\n"
        );
        assert_eq!(raised.len(), 1);
        assert_eq!(dependencies(DependencyStyle::Pep621, Some(&out), &["alembic".into()]).unwrap().0, out);
    }

    #[test]
    fn poetry_gets_table_entries() {
        let text = "[tool.poetry]\nname = \"x\"\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nfastapi = \"^0.110.0\"  # web\n\n[build-system]\nrequires = [\"poetry-core\"]\n";
        let wanted =
            ["fastapi>=0.121".to_owned(), "sqlalchemy[asyncio]>=2.0.30,<2.2".to_owned(), "alembic>=1.16".to_owned()];
        let (out, raised) = dependencies(DependencyStyle::Poetry, Some(text), &wanted).unwrap();
        assert!(out.contains("fastapi = \">=0.121\"  # web\n"), "{out}");
        assert!(out.contains("sqlalchemy = { version = \">=2.0.30,<2.2\", extras = [\"asyncio\"] }\n"), "{out}");
        assert!(out.contains("alembic = \">=1.16\"\n\n[build-system]"), "{out}");
        assert_eq!(raised.len(), 1);
        assert_eq!(dependencies(DependencyStyle::Poetry, Some(&out), &wanted).unwrap(), (out, vec![]));
    }

    #[test]
    fn a_field_goes_after_the_class_docstring_once() {
        let text = "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    \"\"\"App.\n\n    More.\n    \"\"\"\n\n    app_name: str = \"x\"\n\n\nsettings = Settings()\n";
        let out = python_class_field(Some(text), "Settings", "database_url", "database_url: str").unwrap();
        assert_eq!(
            out,
            "from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    \"\"\"App.\n\n    More.\n    \"\"\"\n\n    database_url: str\n\n    app_name: str = \"x\"\n\n\nsettings = Settings()\n"
        );
        assert_eq!(python_class_field(Some(&out), "Settings", "database_url", "database_url: str").unwrap(), out);
        let bare = "class Settings(BaseSettings):\n    DEBUG: bool = False\n";
        assert_eq!(
            python_class_field(Some(bare), "Settings", "DATABASE_URL", "DATABASE_URL: str").unwrap(),
            "class Settings(BaseSettings):\n    DATABASE_URL: str\n\n    DEBUG: bool = False\n"
        );
        assert!(
            python_class_field(Some(bare), "Config", "x", "x: int")
                .unwrap_err()
                .contains("add `x: int` to class `Config` by hand")
        );
    }
}
