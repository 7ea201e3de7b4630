//! The layout of `.skillrun/`, skillrun's own state inside a project: the answers file (meant to
//! be committed), backups and the journal (git-ignored). Everything found there is read as
//! untrusted input: a repository can carry any of it.

use crate::paths::RelPath;

/// The state directory, relative to the project.
pub const DIR: &str = ".skillrun";
/// `.skillrun/answers.json`: each skill's answers and the hashes of the files it owns.
pub const ANSWERS: &str = ".skillrun/answers.json";
/// `.skillrun/backups/<time>/<path>`: files `--force` replaced.
pub const BACKUPS: &str = ".skillrun/backups";
/// `.skillrun/journal/`: the write-ahead journal of an apply in progress.
pub const JOURNAL: &str = ".skillrun/journal";
/// The largest answers file or journal record skillrun reads.
pub const MAX_STATE_BYTES: u64 = 1024 * 1024;

/// One of the paths above as a [`RelPath`].
pub fn rel(path: &str) -> RelPath {
    RelPath::parse(path).expect("a state path is a valid relative path")
}

/// The name a file is staged under, beside its target, before it is renamed into place:
/// `.<name>.skillrun-tmp`. Recovery removes nothing else.
pub fn temp_name(name: &str) -> String {
    format!(".{name}.skillrun-tmp")
}

/// Whether `temp` is the staging path of `target` ([`temp_name`] in the same directory).
pub fn is_temp_of(temp: &RelPath, target: &RelPath) -> bool {
    temp.parent() == target.parent() && temp.name() == temp_name(target.name())
}
