//! Edits a Python file the user owns: makes sure top-level import lines and `__all__` entries
//! exist (registering a model in `models/__init__.py`), keeping every line the user wrote. The
//! file is read by a small scanner of Python's lexical structure (strings, comments, brackets,
//! line continuations), never executed. A file that cannot be merged safely (an unclosed bracket
//! or string, an `__all__` built at run time, a name already imported from elsewhere) is refused
//! with the reason in both languages. Pure functions over text; idempotent.

use crate::messages::Lang;

/// Why a file cannot be merged, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub en: String,
    pub ko: String,
}

impl Problem {
    /// The same message in each language, from [`crate::messages`].
    pub(crate) fn new(message: impl Fn(&dyn crate::messages::Messages) -> String) -> Self {
        Problem { en: message(Lang::En.say()), ko: message(Lang::Ko.say()) }
    }
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ko => &self.ko,
        }
    }
}

/// One top-level logical statement: lines `start..=end`.
#[derive(Debug, Clone)]
struct Stmt {
    start: usize,
    end: usize,
}

/// Imported names with their `as` aliases.
type Names = Vec<(String, Option<String>)>;

/// A wanted import, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Import {
    /// `from module import name [as alias], ...`
    From { module: String, names: Names },
    /// `import a.b [as c]`: compared as text.
    Plain(String),
}

/// The file's lines (without their endings) and its line ending.
struct Source {
    lines: Vec<String>,
    eol: &'static str,
}

impl Source {
    fn new(text: &str) -> Self {
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let lines = text.lines().map(str::to_owned).collect();
        Source { lines, eol }
    }
    fn text(&self) -> String {
        let mut out = self.lines.join(self.eol);
        out.push_str(self.eol);
        out
    }
}

/// Makes sure each of `imports` (`from .post import Post`, `import x`) and each name of `all`
/// (in `__all__`) is in the Python text `current`; `None` creates the file. Returns the text
/// unchanged when everything is there already.
pub fn ensure(current: Option<&str>, imports: &[String], all: &[String]) -> Result<String, Problem> {
    let wanted: Vec<Import> = imports.iter().map(|i| parse_wanted(i)).collect::<Result<_, _>>()?;
    for name in all {
        if !is_identifier(name) {
            return Err(Problem::new(|say| say.py_not_a_name(name)));
        }
    }
    let Some(text) = current.filter(|t| !t.trim().is_empty()) else {
        return Ok(new_file(&wanted, all));
    };
    let mut src = Source::new(text);
    let stmts = statements(&src.lines)?;
    // `__all__` first (its line numbers hold while imports are inserted above it only later).
    if !all.is_empty() {
        ensure_all(&mut src, &stmts, all)?;
    }
    let stmts = statements(&src.lines)?;
    let mut stmts = stmts;
    for import in &wanted {
        if let Some((line, text)) = missing_import(&src, &stmts, import)? {
            for (k, part) in text.split('\n').enumerate() {
                src.lines.insert(line + k, part.to_owned());
            }
            stmts = statements(&src.lines)?;
        }
    }
    let out = src.text();
    // Nothing changed: give back the very text (a file without a final newline stays so).
    if out.trim_end() == text.trim_end() { Ok(text.to_owned()) } else { Ok(out) }
}

fn new_file(wanted: &[Import], all: &[String]) -> String {
    let mut lines: Vec<String> = wanted.iter().map(|w| wrap_import(&import_text(w))).collect();
    lines.sort_by_key(|l| l.to_lowercase());
    lines.dedup();
    let mut out = lines.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    if !all.is_empty() {
        let mut names: Vec<&String> = all.iter().collect();
        names.sort_by_key(|n| sort_key(n));
        names.dedup();
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str("__all__ = [\n");
        for n in names {
            out.push_str(&format!("    \"{n}\",\n"));
        }
        out.push_str("]\n");
    }
    out
}

fn import_text(import: &Import) -> String {
    match import {
        Import::Plain(text) => text.clone(),
        Import::From { module, names } => {
            let names: Vec<String> = names
                .iter()
                .map(|(n, a)| match a {
                    Some(a) => format!("{n} as {a}"),
                    None => n.clone(),
                })
                .collect();
            format!("from {module} import {}", names.join(", "))
        }
    }
}

/// The longest line the Python formatters (black, ruff) leave alone.
const LINE_LENGTH: usize = 88;

/// A `from` import longer than a line, in the formatters' parenthesized form (one name a line,
/// trailing comma), so a formatted file stays formatted.
fn wrap_import(text: &str) -> String {
    match parse_from(text) {
        Some((module, names)) if text.chars().count() > LINE_LENGTH => {
            let mut out = format!("from {module} import (");
            for (n, a) in names {
                out.push_str("\n    ");
                out.push_str(&n);
                if let Some(a) = a {
                    out.push_str(" as ");
                    out.push_str(&a);
                }
                out.push(',');
            }
            out.push_str("\n)");
            out
        }
        _ => text.to_owned(),
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic()) && chars.all(|c| c == '_' || c.is_alphanumeric())
}

fn is_module(module: &str) -> bool {
    let rest = module.trim_start_matches('.');
    (rest.is_empty() && !module.is_empty()) || rest.split('.').all(is_identifier)
}

/// A skill's import line, parsed (a step that names a malformed one is the skill's mistake).
fn parse_wanted(line: &str) -> Result<Import, Problem> {
    let bad = || Problem::new(|say| say.py_not_an_import(line));
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("import ") {
        let ok = rest.split(',').all(|part| {
            let mut words = part.split_whitespace();
            let m = words.next().is_some_and(is_module);
            match (words.next(), words.next(), words.next()) {
                (None, _, _) => m,
                (Some("as"), Some(a), None) => m && is_identifier(a),
                _ => false,
            }
        });
        return if ok { Ok(Import::Plain(line.to_owned())) } else { Err(bad()) };
    }
    let (module, names) = parse_from(line).ok_or_else(bad)?;
    Ok(Import::From { module, names })
}

/// `from M import a, b as c` (also parenthesized, comments removed) as module and names.
fn parse_from(text: &str) -> Option<(String, Names)> {
    let rest = text.trim().strip_prefix("from")?;
    if !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let (module, names) = rest.trim_start().split_once(" import")?;
    let module = module.trim();
    if !is_module(module) {
        return None;
    }
    let mut names = names.trim();
    if let Some(inner) = names.strip_prefix('(') {
        names = inner.strip_suffix(')')?;
    }
    if names.trim() == "*" {
        return Some((module.to_owned(), vec![("*".to_owned(), None)]));
    }
    let mut out = Vec::new();
    for part in names.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let words: Vec<&str> = part.split_whitespace().collect();
        match words[..] {
            [n] if is_identifier(n) => out.push((n.to_owned(), None)),
            [n, "as", a] if is_identifier(n) && is_identifier(a) => out.push((n.to_owned(), Some(a.to_owned()))),
            _ => return None,
        }
    }
    (!out.is_empty()).then(|| (module.to_owned(), out))
}

/// The top-level logical statements of the file (not blank lines, comments or indented code).
/// An unclosed string or bracket makes the file unreadable.
fn statements(lines: &[String]) -> Result<Vec<Stmt>, Problem> {
    scan(lines).map(|(stmts, _)| stmts)
}

/// [`statements`] as first and last lines, for [`crate::pystmt`].
pub(crate) fn top_statements(lines: &[String]) -> Result<Vec<(usize, usize)>, Problem> {
    Ok(statements(lines)?.into_iter().map(|s| (s.start, s.end)).collect())
}

/// The statements, and each line as code only: comments removed, string contents blanked.
fn scan(lines: &[String]) -> Result<(Vec<Stmt>, Vec<String>), Problem> {
    let mut out: Vec<Stmt> = Vec::new();
    let mut masked = Vec::with_capacity(lines.len());
    let mut depth: usize = 0;
    // Inside a string: its quote and whether it is triple.
    let mut string: Option<(char, bool)> = None;
    let mut continued = false;
    let mut open_line = 0;
    for (i, line) in lines.iter().enumerate() {
        let starts_fresh = depth == 0 && string.is_none() && !continued;
        if starts_fresh {
            let trimmed = line.trim_start();
            let top = !line.starts_with([' ', '\t']) && !trimmed.is_empty() && !trimmed.starts_with('#');
            if top {
                out.push(Stmt { start: i, end: i });
            }
        } else if let Some(last) = out.last_mut()
            && last.end + 1 == i
        {
            last.end = i;
        }
        continued = false;
        let chars: Vec<char> = line.chars().collect();
        let mut code = String::with_capacity(line.len());
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            match string {
                Some((q, triple)) => {
                    if c == '\\' {
                        code.push_str("  ");
                        j += 2;
                        continue;
                    }
                    if c == q {
                        if !triple {
                            string = None;
                            code.push(c);
                            j += 1;
                            continue;
                        } else if chars.get(j + 1) == Some(&q) && chars.get(j + 2) == Some(&q) {
                            string = None;
                            code.extend([q, q, q]);
                            j += 3;
                            continue;
                        }
                    }
                    code.push(' ');
                }
                None => match c {
                    '#' => break,
                    '\'' | '"' => {
                        let triple = chars.get(j + 1) == Some(&c) && chars.get(j + 2) == Some(&c);
                        string = Some((c, triple));
                        open_line = i;
                        if triple {
                            code.extend([c, c, c]);
                            j += 3;
                            continue;
                        }
                        code.push(c);
                    }
                    '(' | '[' | '{' => {
                        if depth == 0 {
                            open_line = i;
                        }
                        depth += 1;
                        code.push(c);
                    }
                    ')' | ']' | '}' => {
                        depth = depth.saturating_sub(1);
                        code.push(c);
                    }
                    '\\' if j + 1 == chars.len() => continued = true,
                    _ => code.push(c),
                },
            }
            j += 1;
        }
        // A one-quote string ends with its line (or it is a syntax error the user must see).
        if let Some((_, false)) = string
            && !line.ends_with('\\')
        {
            string = None;
        }
        masked.push(code);
    }
    if string.is_some() || depth > 0 {
        return Err(Problem::new(|say| say.py_unclosed(string.is_some(), open_line + 1)));
    }
    Ok((out, masked))
}

/// A statement's code with comments removed, its lines joined by spaces.
fn code(lines: &[String], stmt: &Stmt) -> String {
    lines[stmt.start..=stmt.end].iter().map(|l| strip_comment(l)).collect::<Vec<_>>().join(" ")
}

/// A line without its `#` comment (a `#` inside a string stays).
pub(crate) fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some(_) if escaped => escaped = false,
            Some(_) if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '#' => return &line[..i],
            None if c == '\'' || c == '"' => quote = Some(c),
            None => {}
        }
    }
    line
}

fn is_import(code: &str) -> bool {
    code.starts_with("import ") || code.starts_with("from ")
}

/// Where and what to insert for `import`, or `None` when it is there already.
fn missing_import(src: &Source, stmts: &[Stmt], import: &Import) -> Result<Option<(usize, String)>, Problem> {
    let imports: Vec<(&Stmt, String)> =
        stmts.iter().map(|s| (s, code(&src.lines, s))).filter(|(_, c)| is_import(c.trim())).collect();
    let mut missing: Names = Vec::new();
    match import {
        Import::Plain(text) => {
            let norm = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
            if imports.iter().any(|(_, c)| norm(c) == norm(text)) {
                return Ok(None);
            }
        }
        Import::From { module, names } => {
            for (name, alias) in names {
                let bound = alias.as_deref().unwrap_or(name);
                let mut found = false;
                for (stmt, c) in &imports {
                    let Some((m, have)) = parse_from(c) else { continue };
                    for (n, a) in &have {
                        let b = a.as_deref().unwrap_or(n);
                        if m == *module && (n == name || n == "*") && (b == bound || n == "*") {
                            found = true;
                        } else if b == bound {
                            return Err(Problem::new(|say| say.py_name_taken(bound, &m, stmt.start + 1, module)));
                        }
                    }
                }
                if !found {
                    missing.push((name.clone(), alias.clone()));
                }
            }
            if missing.is_empty() {
                return Ok(None);
            }
        }
    }
    let text = match import {
        Import::Plain(text) => text.clone(),
        Import::From { module, .. } => import_text(&Import::From { module: module.clone(), names: missing }),
    };
    let mut text = wrap_import(&text);
    let mut at = insert_at(src, stmts, &imports, import);
    if imports.is_empty() {
        // The first import: a blank line between it and the docstring above and the code below.
        let blank = |i: usize| src.lines.get(i).is_some_and(|l| l.trim().is_empty());
        if at > 0 && blank(at) {
            at += 1;
        } else if at > 0 {
            text.insert(0, '\n');
        }
        if at < src.lines.len() && !blank(at) {
            text.push('\n');
        }
    }
    Ok(Some((at, text)))
}

/// The line an import goes before: in isort order among the top-level imports of the same
/// package, else after the last import, else after the module docstring and `__future__`.
fn insert_at(src: &Source, stmts: &[Stmt], imports: &[(&Stmt, String)], import: &Import) -> usize {
    let module = match import {
        Import::From { module, .. } => module.clone(),
        Import::Plain(text) => text.trim_start_matches("import ").trim().to_owned(),
    };
    let package = |m: &str| {
        if m.starts_with('.') { ".".to_owned() } else { m.split('.').next().unwrap_or_default().to_owned() }
    };
    let from = matches!(import, Import::From { .. });
    let same: Vec<&(&Stmt, String)> = imports
        .iter()
        .filter(|(_, c)| {
            let c = c.trim();
            let (m, is_from) = match parse_from(c) {
                Some((m, _)) => (m, true),
                None => {
                    (c.trim_start_matches("import ").split_whitespace().next().unwrap_or_default().to_owned(), false)
                }
            };
            package(&m) == package(&module) && is_from == from && !m.starts_with("__future__")
        })
        .collect();
    if let Some(last) = same.last() {
        for (stmt, c) in &same {
            let m = parse_from(c.trim())
                .map(|(m, _)| m)
                .unwrap_or_else(|| c.trim().trim_start_matches("import ").trim().to_owned());
            if m.to_lowercase() > module.to_lowercase() {
                return stmt.start;
            }
        }
        return last.0.end + 1;
    }
    if let Some((last, _)) = imports.last() {
        return last.end + 1;
    }
    // No import yet: after a module docstring, if the first statement is one.
    match stmts.first() {
        Some(first) if src.lines[first.start].trim_start().starts_with(['"', '\'']) => first.end + 1,
        _ => 0,
    }
}

/// isort-style order of `__all__` (ruff RUF022): SCREAMING_CASE, then CamelCase, then the rest.
fn sort_key(name: &str) -> (u8, String) {
    let letters = name.chars().any(char::is_alphabetic);
    let class = if letters && name.len() > 1 && name.chars().all(|c| !c.is_lowercase()) {
        0
    } else if name.starts_with(char::is_uppercase) {
        1
    } else {
        2
    };
    (class, name.to_owned())
}

/// The `__all__` statement parsed: its string entries and layout.
struct AllList {
    stmt: Stmt,
    entries: Vec<String>,
    quote: char,
    /// Each entry alone on a line, the closing bracket alone on the last line.
    one_per_line: bool,
    has_comments: bool,
    open: char,
}

fn dynamic(line: usize, names: &[String]) -> Problem {
    let names = names.join(", ");
    Problem::new(|say| say.py_all_dynamic(line, &names))
}

fn find_all(src: &Source, stmts: &[Stmt], wanted: &[String]) -> Result<Option<AllList>, Problem> {
    let mut found: Option<AllList> = None;
    let (_, masked) = scan(&src.lines)?;
    // Any other mention of `__all__` in code (indented, `+=`, `.append`, a second assignment).
    for (i, code) in masked.iter().enumerate() {
        let code = code.as_str();
        if !code.contains("__all__") {
            continue;
        }
        let stmt = stmts.iter().find(|s| s.start == i);
        let is_assignment = stmt.is_some() && {
            let rest = code.trim_start_matches("__all__").trim_start();
            code.starts_with("__all__") && (rest.starts_with('=') && !rest.starts_with("==") || rest.starts_with(':'))
        };
        if stmts.iter().any(|s| s.start < i && i <= s.end && found.as_ref().is_some_and(|f| f.stmt.start == s.start)) {
            continue; // a continuation line of the `__all__` already found
        }
        if !is_assignment || found.is_some() {
            return Err(dynamic(i + 1, wanted));
        }
        let stmt = stmt.expect("checked").clone();
        let full = code_lines(src, &stmt);
        let value = full.split_once('=').map(|(_, v)| v.trim()).unwrap_or_default();
        let Some(list) = parse_list(value) else { return Err(dynamic(i + 1, wanted)) };
        let (open, entries, quote) = list;
        let has_comments = src.lines[stmt.start..=stmt.end].iter().any(|l| strip_comment(l).len() != l.len());
        let one_per_line = stmt.end > stmt.start
            && src.lines[stmt.start].trim_end().ends_with(open)
            && src.lines[stmt.end].trim().starts_with([']', ')'])
            && src.lines[stmt.start + 1..stmt.end].iter().all(|l| {
                let c = strip_comment(l).trim();
                c.is_empty() || parse_list(&format!("[{c}]")).is_some_and(|(_, e, _)| e.len() == 1)
            });
        found = Some(AllList { stmt, entries, quote, one_per_line, has_comments, open });
    }
    Ok(found)
}

fn code_lines(src: &Source, stmt: &Stmt) -> String {
    src.lines[stmt.start..=stmt.end].iter().map(|l| strip_comment(l).trim()).collect::<Vec<_>>().join(" ")
}

/// `[...]` or `(...)` of plain string literals: its bracket, entries and quote.
fn parse_list(value: &str) -> Option<(char, Vec<String>, char)> {
    let value = value.trim();
    let (open, close) = match value.chars().next()? {
        '[' => ('[', ']'),
        '(' => ('(', ')'),
        _ => return None,
    };
    let inner = value.strip_prefix(open)?.strip_suffix(close)?;
    let mut entries = Vec::new();
    let mut quote = '"';
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let q = rest.chars().next()?;
        if q != '"' && q != '\'' {
            return None;
        }
        let body = &rest[1..];
        let end = body.find(q)?;
        let name = &body[..end];
        if name.contains('\\') || !is_identifier(name) {
            return None;
        }
        if entries.is_empty() {
            quote = q;
        }
        entries.push(name.to_owned());
        rest = body[end + 1..].trim_start();
        match rest.strip_prefix(',') {
            Some(r) => rest = r.trim_start(),
            None if rest.is_empty() => {}
            None => return None,
        }
    }
    Some((open, entries, quote))
}

fn ensure_all(src: &mut Source, stmts: &[Stmt], all: &[String]) -> Result<(), Problem> {
    let Some(list) = find_all(src, stmts, all)? else {
        // No `__all__`: adding one would change what `from package import *` exports.
        return Ok(());
    };
    let missing: Vec<&String> = all.iter().filter(|n| !list.entries.contains(n)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let sorted = list.entries.windows(2).all(|w| sort_key(&w[0]) <= sort_key(&w[1]));
    let q = list.quote;
    if list.one_per_line {
        let indent: String = src.lines[list.stmt.start + 1..list.stmt.end]
            .iter()
            .find(|l| !strip_comment(l).trim().is_empty())
            .map(|l| l.chars().take_while(|c| c.is_whitespace()).collect())
            .unwrap_or_else(|| "    ".to_owned());
        // The last entry gets a trailing comma if it has none.
        if let Some(last) =
            (list.stmt.start + 1..list.stmt.end).rev().find(|&i| !strip_comment(&src.lines[i]).trim().is_empty())
        {
            let code = strip_comment(&src.lines[last]).trim_end().to_owned();
            if !code.ends_with(',') {
                let comment = src.lines[last][strip_comment(&src.lines[last]).len()..].to_owned();
                src.lines[last] = format!("{code},{}{comment}", if comment.is_empty() { "" } else { "  " });
            }
        }
        if let Some(name) = missing.first() {
            let line = format!("{indent}{q}{name}{q},");
            let mut at = list.stmt.end;
            if sorted {
                for i in list.stmt.start + 1..list.stmt.end {
                    let c = strip_comment(&src.lines[i]).trim().to_owned();
                    if let Some((_, e, _)) = parse_list(&format!("[{c}]"))
                        && e.len() == 1
                        && sort_key(&e[0]) > sort_key(name)
                    {
                        at = i;
                        break;
                    }
                }
            }
            src.lines.insert(at, line);
            // The next name is added to the text as it is now.
            return ensure_all_again(src, all);
        }
        return Ok(());
    }
    if list.has_comments {
        let names = missing.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
        return Err(Problem::new(|say| say.py_all_commented(list.stmt.start + 1, &names)));
    }
    // One line, or several names per line without comments: written again one name per line.
    let mut entries = list.entries.clone();
    for name in missing {
        if sorted {
            let at = entries.iter().position(|e| sort_key(e) > sort_key(name)).unwrap_or(entries.len());
            entries.insert(at, name.clone());
        } else {
            entries.push(name.clone());
        }
    }
    let head = strip_comment(&src.lines[list.stmt.start]);
    let prefix = &head[..head.find('=').expect("an assignment") + 1];
    let close = if list.open == '[' { ']' } else { ')' };
    let mut new_lines = vec![format!("{} {}", prefix.trim_end(), list.open)];
    new_lines.extend(entries.iter().map(|e| format!("    {q}{e}{q},")));
    new_lines.push(close.to_string());
    src.lines.splice(list.stmt.start..=list.stmt.end, new_lines);
    Ok(())
}

/// After one name was inserted into a one-per-line `__all__`, the rest are added on the new text.
fn ensure_all_again(src: &mut Source, all: &[String]) -> Result<(), Problem> {
    let stmts = statements(&src.lines)?;
    ensure_all(src, &stmts, all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    const INIT: &str = "\"\"\"Database models.\n\nImport each new model module here.\n\"\"\"\n\nfrom app.db.models.base import Base, BaseModel\nfrom app.db.models.user import UserModel\n\n__all__ = [\n    \"Base\",\n    \"BaseModel\",\n    \"UserModel\",\n]\n";

    #[test]
    fn adds_an_import_and_an_entry_in_order_and_is_idempotent() {
        let imports = s(&["from app.db.models.post import PostModel"]);
        let out = ensure(Some(INIT), &imports, &s(&["PostModel"])).unwrap();
        assert_eq!(
            out,
            "\"\"\"Database models.\n\nImport each new model module here.\n\"\"\"\n\nfrom app.db.models.base import Base, BaseModel\nfrom app.db.models.post import PostModel\nfrom app.db.models.user import UserModel\n\n__all__ = [\n    \"Base\",\n    \"BaseModel\",\n    \"PostModel\",\n    \"UserModel\",\n]\n"
        );
        assert_eq!(ensure(Some(&out), &imports, &s(&["PostModel"])).unwrap(), out);
        let two =
            ensure(Some(&out), &s(&["from app.db.models.comment import CommentModel"]), &s(&["CommentModel"])).unwrap();
        assert!(two.contains("from app.db.models.base import Base, BaseModel\nfrom app.db.models.comment import CommentModel\nfrom app.db.models.post import PostModel\n"), "{two}");
        assert!(two.contains("    \"BaseModel\",\n    \"CommentModel\",\n    \"PostModel\",\n"), "{two}");
    }

    #[test]
    fn keeps_user_lines_comments_and_crlf() {
        let text = "# mine\r\nimport os  # keep\r\n\r\nX = os.sep\r\n__all__ = ['X']  \r\n";
        let out = ensure(Some(text), &s(&["from .post import Post"]), &s(&["Post"])).unwrap();
        assert_eq!(
            out,
            "# mine\r\nimport os  # keep\r\nfrom .post import Post\r\n\r\nX = os.sep\r\n__all__ = [\r\n    'Post',\r\n    'X',\r\n]\r\n"
        );
        assert_eq!(ensure(Some(&out), &s(&["from .post import Post"]), &s(&["Post"])).unwrap(), out);
    }

    #[test]
    fn a_long_import_is_wrapped_as_the_formatters_do() {
        let long = "from app.infrastructure.database.models.very_long_entity_name import VeryLongEntityNameModel";
        let out = ensure(Some("import os\r\n"), &s(&[long]), &[]).unwrap();
        assert_eq!(
            out,
            "import os\r\nfrom app.infrastructure.database.models.very_long_entity_name import (\r\n    VeryLongEntityNameModel,\r\n)\r\n"
        );
        assert_eq!(ensure(Some(&out), &s(&[long]), &[]).unwrap(), out);
    }

    #[test]
    fn creates_a_missing_file() {
        let out = ensure(None, &s(&["from .b import B", "from .a import A"]), &s(&["B", "A"])).unwrap();
        assert_eq!(out, "from .a import A\nfrom .b import B\n\n__all__ = [\n    \"A\",\n    \"B\",\n]\n");
    }

    #[test]
    fn an_existing_import_in_another_form_counts() {
        let text = "from .post import (\n    Other,\n    Post,  # the model\n)\n";
        assert_eq!(ensure(Some(text), &s(&["from .post import Post"]), &[]).unwrap(), text);
        // Without `__all__`, none is added (it would change what `import *` exports).
        let out = ensure(Some("from .a import A\n"), &s(&["from .b import B"]), &s(&["B"])).unwrap();
        assert_eq!(out, "from .a import A\nfrom .b import B\n");
    }

    #[test]
    fn refuses_what_it_cannot_merge_safely() {
        let dynamic = "from .a import A\n__all__ = [name for name in dir() if name[0].isupper()]\n";
        let e = ensure(Some(dynamic), &s(&["from .b import B"]), &s(&["B"])).unwrap_err();
        assert!(e.en.contains("built at run time (line 2)") && e.ko.contains("2번째 줄"), "{e:?}");
        let extended = "__all__ = [\"A\"]\n__all__ += other.__all__\n";
        assert!(ensure(Some(extended), &[], &s(&["B"])).unwrap_err().en.contains("line 2"));
        let appended = "__all__ = [\"A\"]\nif True:\n    __all__.append(\"C\")\n";
        assert!(ensure(Some(appended), &[], &s(&["B"])).is_err());
        let clash = "from .other import Post\n";
        let e = ensure(Some(clash), &s(&["from .post import Post"]), &[]).unwrap_err();
        assert!(e.en.contains("already imported from `.other` (line 1)"), "{e:?}");
        let open = "X = [\n    1,\n";
        let e = ensure(Some(open), &s(&["from .post import Post"]), &[]).unwrap_err();
        assert!(e.en.contains("bracket opened on line 1"), "{e:?}");
        let commented = "__all__ = [\"A\", \"B\",  # two\n    \"C\"]\n";
        assert!(ensure(Some(commented), &[], &s(&["D"])).unwrap_err().en.contains("comments"));
        assert!(ensure(None, &s(&["from x import"]), &[]).is_err());
    }

    #[test]
    fn strings_and_docstrings_are_not_code() {
        let text =
            "\"\"\"Docs mention __all__ = dynamic and import x.\n\"\"\"\n\nA = 'from y import Post'  # __all__\n";
        let out = ensure(Some(text), &s(&["from .post import Post"]), &s(&["Post"])).unwrap();
        assert_eq!(
            out,
            "\"\"\"Docs mention __all__ = dynamic and import x.\n\"\"\"\n\nfrom .post import Post\n\nA = 'from y import Post'  # __all__\n"
        );
    }

    /// Random files from Python fragments (and noise): a merge that succeeds keeps every line
    /// that is not `__all__`'s, in order, and a second merge changes nothing.
    #[test]
    fn random_files_keep_their_lines_and_a_second_run_changes_nothing() {
        const FRAGMENTS: &[&str] = &[
            "\"\"\"Docstring.\"\"\"",
            "\"\"\"Multi\nline __all__ = x\n\"\"\"",
            "import os",
            "from .a import A",
            "from .b import (\n    B,\n    C,  # note\n)",
            "from pkg.models.user import UserModel",
            "__all__ = [\"A\", \"B\"]",
            "__all__ = [\n    \"A\",\n    \"B\",\n]",
            "__all__ += [\"Z\"]",
            "X = 1  # comment",
            "",
            "# a comment",
            "def f():\n    return \"from x import y\"",
            "if TYPE_CHECKING:\n    from .c import C",
            "Y = (\n    1,\n    2,\n)",
            "s = 'it''s'",
            "class K:\n    pass",
            "z = [",
            "\"\"\"unclosed",
            "\\",
            "from . import (",
        ];
        let mut seed: u64 = 0x5eed;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let imports = s(&["from pkg.models.post import PostModel", "from .a import A"]);
        let all = s(&["PostModel", "A"]);
        let (mut merged, mut refused) = (0, 0);
        for _ in 0..3000 {
            let count = next() % 7;
            let parts: Vec<&str> = (0..count).map(|_| FRAGMENTS[next() % FRAGMENTS.len()]).collect();
            let eol = if next() % 5 == 0 { "\r\n" } else { "\n" };
            let text = parts.join("\n").replace('\n', eol) + if next() % 3 == 0 { "" } else { eol };
            match ensure(Some(&text), &imports, &all) {
                Ok(out) => {
                    merged += 1;
                    assert_eq!(ensure(Some(&out), &imports, &all).as_ref(), Ok(&out), "not idempotent for {text:?}");
                    let mut rest = out.lines();
                    // (A blank file is a new one.)
                    for line in text.lines().filter(|l| !l.contains("__all__") && !text.trim().is_empty()) {
                        assert!(rest.any(|o| o == line), "lost {line:?} of {text:?} in {out:?}");
                    }
                }
                Err(problem) => {
                    refused += 1;
                    assert!(!problem.en.is_empty() && !problem.ko.is_empty());
                }
            }
        }
        assert!(merged > 1000 && refused > 100, "{merged} merged, {refused} refused");
    }
}
