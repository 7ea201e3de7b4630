//! The library's error type: everything that stops a run other than invalid input
//! (invalid input is not an error but a report with status `invalid`).

use std::path::PathBuf;

/// An error that ends a run. Display texts never hold input values, so they never hold secrets.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown skill `{id}` (known skills: {known})")]
    UnknownSkill { id: String, known: String },
    #[error("invalid skill set: {file}: {message}")]
    Registry { file: String, message: String },
    #[error("cannot render `{template}` for {path}: {message}")]
    Render { template: String, path: String, message: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("refusing to write {path}: {reason}")]
    UnsafePath { path: String, reason: String },
    #[error("another run is writing to {}; nothing was written, try again when it has finished", path.display())]
    Busy { path: PathBuf },
    #[error("{} is a file, not a directory: projectPath must name the project's directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("neither {} nor its parent directory exists: projectPath must name a directory, or a new one in an existing directory", path.display())]
    ProjectMissing { path: PathBuf },
    #[error("{} is not writable: projectPath must be a directory this user can write", path.display())]
    NotWritable { path: PathBuf },
    #[error("{source}; nothing was changed, the project is as it was")]
    RolledBack { source: Box<Error> },
    #[error("the run was cancelled before anything was written")]
    Cancelled,
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
    pub(crate) fn registry(file: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Registry { file: file.into(), message: message.into() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
