//! Edits one top-level statement of a Python file the user owns, keeping every other line:
//! replaces the module-level assignment of a name (`x = None` becomes `x = [a, b]`), or puts a
//! statement right after another one (an anchor such as `config = context.config`), below any
//! import that follows the anchor so the names it uses are bound. The file is read with
//! [`crate::pyedit`]'s scanner of Python's lexical structure, never executed. A file that cannot
//! be edited safely (no such assignment or anchor at the top level, the name assigned several
//! times, an unclosed bracket or string) is refused with the reason in both languages. Pure
//! functions over text; idempotent: a statement already there (whitespace and comments aside), or
//! an assignment whose value already holds `keep`, leaves the file as it is.

use crate::pyedit::{Problem, top_statements};

/// Where the statement goes.
#[derive(Debug, Clone, Copy)]
pub enum Place<'a> {
    /// In place of the one module-level assignment of `name`; unchanged when its value already
    /// holds `keep`.
    Replace { name: &'a str, keep: Option<&'a str> },
    /// Right after the top-level statement `anchor` (and after the imports below it).
    After { anchor: &'a str },
}

struct Parsed {
    lines: Vec<String>,
    eol: &'static str,
    /// Each top-level statement's first and last line.
    stmts: Vec<(usize, usize)>,
}

fn parse(text: &str) -> Result<Parsed, Problem> {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let stmts = top_statements(&lines)?;
    Ok(Parsed { lines, eol, stmts })
}

/// A statement's code: comments removed, lines trimmed and joined by a space.
fn code(p: &Parsed, (start, end): (usize, usize)) -> String {
    p.lines[start..=end].iter().map(|l| crate::pyedit::strip_comment(l).trim()).collect::<Vec<_>>().join(" ")
}

/// Code compared without its layout: no whitespace, no trailing comma before a closing bracket.
fn squash(code: &str) -> String {
    let s: String = code.split('\n').map(crate::pyedit::strip_comment).collect::<String>();
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    s.replace(",)", ")").replace(",]", "]").replace(",}", "}")
}

/// The value of an assignment's code `name = value` / `name: T = value`, if it is one of `name`.
fn value_of<'c>(code: &'c str, name: &str) -> Option<&'c str> {
    let rest = code.strip_prefix(name)?.trim_start();
    if rest.starts_with(':') {
        return rest.split_once('=').map(|(_, v)| v.trim());
    }
    let v = rest.strip_prefix('=')?;
    (!v.starts_with('=')).then(|| v.trim())
}

/// Whether `code` holds the expression `part` as a whole (`Db.metadata` is in `[a, Db.metadata]`,
/// `ENGINE` is not in `ENGINES`).
fn holds(code: &str, part: &str) -> bool {
    let word = |c: Option<char>| c.is_some_and(|c| c == '_' || c.is_alphanumeric());
    !part.is_empty()
        && code.match_indices(part).any(|(i, _)| {
            !word(code[..i].chars().next_back())
                && !word(code[i + part.len()..].chars().next())
                && !code[..i].ends_with('.')
        })
}

/// The top-level statements assigning `name`.
fn assignments(p: &Parsed, name: &str) -> Vec<(usize, usize)> {
    p.stmts.iter().copied().filter(|&s| value_of(&code(p, s), name).is_some()).collect()
}

/// A value spread over lines, on one: `[ a, b, ]` as `[a, b]`.
fn tidy(value: &str) -> String {
    let mut v = value.split_whitespace().collect::<Vec<_>>().join(" ");
    for (from, to) in [("[ ", "["), ("( ", "("), (" ]", "]"), (" )", ")"), (",]", "]"), (",)", ")")] {
        v = v.replace(from, to);
    }
    v
}

/// The value of the one module-level assignment of `name` (on one line), `None` when there is
/// none; several assignments, or a file that cannot be read as Python, are a [`Problem`].
pub fn assigned_value(text: &str, name: &str) -> Result<Option<String>, Problem> {
    let p = parse(text)?;
    match assignments(&p, name)[..] {
        [] => Ok(None),
        [one] => Ok(value_of(&code(&p, one), name).map(tidy)),
        ref several => Err(several_times(name, several)),
    }
}

/// The 1-based lines of several top-level statements ("3, 9").
fn line_list(at: &[(usize, usize)]) -> String {
    at.iter().map(|(s, _)| (s + 1).to_string()).collect::<Vec<_>>().join(", ")
}

fn several_times(name: &str, at: &[(usize, usize)]) -> Problem {
    let lines = line_list(at);
    Problem::new(|say| say.py_assigned_several(name, &lines))
}

/// Makes sure `statement` is in the Python text `current` at `place`. Returns the text unchanged
/// when it is there already.
pub fn ensure(current: Option<&str>, statement: &str, place: Place) -> Result<String, Problem> {
    let by_hand = statement.trim();
    let Some(text) = current else {
        return Err(Problem::new(|say| say.py_statement_no_file(by_hand)));
    };
    let p = parse(text)?;
    let wanted = squash(statement);
    let (at, remove) = match place {
        Place::Replace { name, keep } => {
            let found = assignments(&p, name);
            let one = match found[..] {
                [one] => one,
                [] => {
                    return Err(Problem::new(|say| say.py_statement_no_assignment(name, by_hand)));
                }
                ref several => {
                    let lines = line_list(several);
                    return Err(Problem::new(|say| say.py_statement_several(name, &lines, by_hand)));
                }
            };
            let have = code(&p, one);
            let value = value_of(&have, name).unwrap_or_default();
            let kept = keep.is_some_and(|k| holds(&squash(value), &squash(k)));
            if kept || squash(&have) == wanted {
                return Ok(text.to_owned());
            }
            (one.0, one.1 + 1 - one.0)
        }
        Place::After { anchor } => {
            if p.stmts.iter().any(|&s| squash(&code(&p, s)) == wanted) {
                return Ok(text.to_owned());
            }
            let anchor_code = squash(anchor);
            let Some(&(_, end)) = p.stmts.iter().find(|&&s| squash(&code(&p, s)) == anchor_code) else {
                return Err(Problem::new(|say| say.py_statement_no_anchor(anchor.trim(), by_hand)));
            };
            // Below the imports that follow the anchor (before the first definition), so the
            // statement can use every imported name.
            let first_def = p.stmts.iter().position(|&s| {
                let c = code(&p, s);
                ["def ", "async def ", "class ", "@", "if ", "with ", "for ", "try:", "while "]
                    .iter()
                    .any(|k| c.starts_with(k))
            });
            let last_import = p.stmts[..first_def.unwrap_or(p.stmts.len())]
                .iter()
                .filter(|&&s| {
                    let c = code(&p, s);
                    c.starts_with("import ") || c.starts_with("from ")
                })
                .map(|&(_, e)| e)
                .max();
            (end.max(last_import.unwrap_or(0)) + 1, 0)
        }
    };
    let mut lines = p.lines;
    let new: Vec<String> = statement.trim_end().lines().map(str::to_owned).collect();
    lines.splice(at..at + remove, new);
    let mut out = lines.join(p.eol);
    if text.ends_with('\n') || text.is_empty() {
        out.push_str(p.eol);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = "\"\"\"Env.\"\"\"\nfrom alembic import context\n\nfrom app.models import Base  # the models\n\nconfig = context.config\n\nif config.config_file_name is not None:\n    fileConfig(config.config_file_name)\n\ntarget_metadata = Base.metadata  # for autogenerate\n\n\ndef run() -> None:\n    target_metadata = 1\n";

    #[test]
    fn the_value_of_the_one_top_level_assignment() {
        assert_eq!(assigned_value(ENV, "target_metadata").unwrap().as_deref(), Some("Base.metadata"));
        let multi = "target_metadata: list = [\n    a.metadata,  # a\n    b.metadata,\n]\n";
        assert_eq!(assigned_value(multi, "target_metadata").unwrap().as_deref(), Some("[a.metadata, b.metadata]"));
        assert_eq!(assigned_value("target_metadata == 1\n", "target_metadata").unwrap(), None);
        assert!(assigned_value("x = 1\nx = 2\n", "x").unwrap_err().en.contains("lines 1, 2"));
    }

    #[test]
    fn replaces_an_assignment_once() {
        let place = Place::Replace { name: "target_metadata", keep: Some("Db.metadata") };
        let out = ensure(Some(ENV), "target_metadata = [Base.metadata, Db.metadata]", place).unwrap();
        assert!(out.contains("\ntarget_metadata = [Base.metadata, Db.metadata]\n\n\ndef run"), "{out}");
        assert!(out.contains("    target_metadata = 1\n"));
        // A second run, whatever it would build from the new value, keeps it.
        assert_eq!(ensure(Some(&out), "target_metadata = [[x], Db.metadata]", place).unwrap(), out);
        assert!(
            holds("[a,Db.metadata]", "Db.metadata")
                && !holds("ENGINES", "ENGINE")
                && !holds("x.Db.metadata", "Db.metadata")
        );
        let none = ensure(Some("y = 1\n"), "target_metadata = 1", place).unwrap_err();
        assert!(none.en.starts_with("it has no top-level `target_metadata = ...` assignment"), "{}", none.en);
    }

    #[test]
    fn puts_a_statement_after_the_anchor_and_below_later_imports() {
        let place = Place::After { anchor: "config = context.config" };
        let line = "config.set_main_option(\"url\", url())";
        let out = ensure(Some(ENV), line, place).unwrap();
        assert!(out.contains("config = context.config\nconfig.set_main_option(\"url\", url())\n\nif "), "{out}");
        assert_eq!(ensure(Some(&out), line, place).unwrap(), out);
        let late = "config = context.config\nimport sys\nfrom app.x import url\n\ndef f():\n    import os\n";
        let out = ensure(Some(late), line, place).unwrap();
        assert!(
            out.starts_with("config = context.config\nimport sys\nfrom app.x import url\nconfig.set_main_option("),
            "{out}"
        );
        let missing = ensure(Some("x = 1\n"), line, place).unwrap_err();
        assert!(missing.en.contains("no top-level `config = context.config`"), "{}", missing.en);
        assert!(ensure(Some("x = (\n"), line, place).unwrap_err().en.contains("never closed"));
    }
}
