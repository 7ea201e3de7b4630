//! The one rule for a path inside a project: [`RelPath`], a relative, `/`-separated path whose
//! every component is a plain name. No `..`, no leading `/`, no `\`, no NUL, nothing empty; `.`
//! components are dropped (`./alembic.ini` is `alembic.ini`). Skill steps, journal entries,
//! backups and the answers file all name files this way, and [`crate::project_dir`] resolves
//! such a path beneath the project's directory handle.

use std::fmt;

/// A path inside a project, checked by [`RelPath::parse`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelPath(String);

/// Why a text is not a path inside the project.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path is empty")]
    Empty,
    #[error("`{0}` is absolute; give a path relative to the project")]
    Absolute(String),
    #[error("`{0}` goes up with `..`; a path must stay inside the project")]
    Parent(String),
    #[error("`{0}` holds a backslash or a NUL; use `/` between names")]
    BadCharacter(String),
}

impl RelPath {
    /// Checks and normalizes `text` (`./a//b/./c` -> `a/b/c`).
    pub fn parse(text: &str) -> Result<RelPath, PathError> {
        if text.starts_with('/') {
            return Err(PathError::Absolute(text.to_owned()));
        }
        if text.contains(['\\', '\0']) {
            return Err(PathError::BadCharacter(text.to_owned()));
        }
        let mut parts = Vec::new();
        for part in text.split('/') {
            match part {
                "" | "." => {}
                ".." => return Err(PathError::Parent(text.to_owned())),
                name => parts.push(name),
            }
        }
        if parts.is_empty() {
            return Err(PathError::Empty);
        }
        Ok(RelPath(parts.join("/")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The names from the top down.
    pub fn components(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.0.split('/')
    }

    /// The last name.
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().expect("never empty")
    }

    /// The directory holding it, `None` for a file at the top of the project.
    pub fn parent(&self) -> Option<RelPath> {
        self.0.rsplit_once('/').map(|(dir, _)| RelPath(dir.to_owned()))
    }

    /// Every directory above it, the top one first (`a/b/c` -> `a`, `a/b`).
    pub fn ancestors(&self) -> Vec<RelPath> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(i) = self.0[at..].find('/') {
            out.push(RelPath(self.0[..at + i].to_owned()));
            at += i + 1;
        }
        out
    }

    /// `self/other`.
    pub fn join(&self, other: &RelPath) -> RelPath {
        RelPath(format!("{}/{}", self.0, other.0))
    }

    /// `self/name` for a plain name (checked).
    pub fn child(&self, name: &str) -> Result<RelPath, PathError> {
        Ok(self.join(&RelPath::parse(name)?))
    }

    /// Whether `self` is `dir` or lies under it.
    pub fn starts_with(&self, dir: &RelPath) -> bool {
        self.0 == dir.0 || self.0.strip_prefix(&dir.0).is_some_and(|rest| rest.starts_with('/'))
    }
}

impl fmt::Display for RelPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RelPath {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalized_or_refused() {
        let ok = |t: &str| RelPath::parse(t).map(|p| p.to_string());
        assert_eq!(ok("./alembic.ini"), Ok("alembic.ini".into()));
        assert_eq!(ok("app//core/./config.py"), Ok("app/core/config.py".into()));
        assert_eq!(ok("a/"), Ok("a".into()));
        assert_eq!(ok(".env"), Ok(".env".into()));
        assert_eq!(ok("..."), Ok("...".into()), "a name of three dots is a name");
        for bad in ["", ".", "./", "/etc/passwd", "..", "a/../b", "a/..", "a\\b", "a\0b", "sub/../.."] {
            assert!(RelPath::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parents_and_ancestors() {
        let p = RelPath::parse("a/b/c.py").unwrap();
        assert_eq!(p.name(), "c.py");
        assert_eq!(p.parent().unwrap().as_str(), "a/b");
        assert_eq!(p.ancestors().iter().map(RelPath::as_str).collect::<Vec<_>>(), ["a", "a/b"]);
        assert!(RelPath::parse("top").unwrap().parent().is_none());
        assert!(p.starts_with(&RelPath::parse("a").unwrap()));
        assert!(!RelPath::parse("ab/c").unwrap().starts_with(&RelPath::parse("a").unwrap()));
    }
}
