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
    #[error(transparent)]
    Fs(#[from] crate::project_dir::FsError),
    #[error(transparent)]
    Locate(#[from] crate::locate::LocateError),
    #[error("{source}; nothing was changed, the project is as it was")]
    RolledBack { source: Box<Error> },
    #[error("the run was cancelled before anything was written")]
    Cancelled,
    #[error("the process is stopping, so the run did not start writing; nothing was written")]
    Stopping,
    #[error(
        "{}/ holds a journal that skillrun will not act on: {reason}. Nothing was changed. If it is not from an interrupted run of yours, look at it and remove it (rm -r {}), then run again",
        crate::state::JOURNAL,
        crate::state::JOURNAL
    )]
    SuspiciousJournal { reason: String },
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
