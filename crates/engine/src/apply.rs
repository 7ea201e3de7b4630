//! Applying a plan: the only code that writes to the project. All or nothing, like a database
//! commit: before the first file is touched, a journal (see [`crate::journal`]) records every
//! target, a copy of each file about to be replaced, and the directories about to be made. New
//! content is written to a temporary file beside its destination, flushed, and renamed into place;
//! removing the journal is the commit. A failure part-way rolls back in process; a process killed
//! part-way (SIGKILL, power loss) is rolled back by [`crate::journal::recover`] on the next run.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::journal::{Entry, Journal};
use crate::plan::{Plan, PlannedFile};

/// Where `--force` keeps the files it replaces, relative to the project.
pub const BACKUP_DIR: &str = ".skillrun/backups";

/// What was written.
#[derive(Debug, Default)]
pub struct Applied {
    /// Backups of replaced files, project-relative, by file path.
    pub backups: Vec<(String, String)>,
}

/// One file to put in place.
struct Target<'a> {
    rel: String,
    target: PathBuf,
    content: &'a [u8],
    /// What the plan saw on disk; the write is refused if the disk no longer holds it.
    expected: Option<&'a [u8]>,
    secret: bool,
    mode_from: PathBuf,
}

/// Writes every file the plan creates or updates. Call only for a plan without conflicts, while
/// holding the project's [`ProjectLock`].
pub fn apply(plan: &Plan) -> Result<Applied> {
    assert!(!plan.has_conflicts(), "a plan with conflicts is never applied");
    let mut applied = Applied::default();
    let stamp = backup_stamp();
    let mut writes = Vec::new();
    for file in plan.files.iter().filter(|f| f.action.writes()) {
        if file.backup
            && let Some(old) = &file.existing
        {
            let rel = format!("{BACKUP_DIR}/{stamp}/{}", file.path);
            let target = crate::plan::safe_path(&plan.root, &rel)?;
            writes.push(Target {
                rel: rel.clone(),
                target,
                content: old,
                expected: None,
                secret: true,
                mode_from: file.disk_path.clone(),
            });
            applied.backups.push((file.path.clone(), rel));
        }
        writes.push(planned_write(file));
    }
    if writes.is_empty() {
        return Ok(applied);
    }
    let rolled_back = |e: Error| Error::RolledBack { source: Box::new(e) };
    // Ctrl-C or a polite kill waits until the project is consistent again, then takes effect.
    let _deferred = DeferSignals::new();
    let mut tx = Transaction::begin(&plan.root, &writes).map_err(rolled_back)?;
    match tx.run(&writes) {
        Ok(()) => {
            tx.commit();
            Ok(applied)
        }
        Err(e) => {
            tx.roll_back();
            Err(rolled_back(e))
        }
    }
}

/// Holds SIGINT, SIGTERM, SIGHUP and SIGQUIT back from this thread while it lives: a signal that
/// comes during an apply is delivered once the apply has committed or rolled back, so it never
/// leaves a project half-written (SIGKILL cannot be held; the journal covers it).
struct DeferSignals {
    #[cfg(unix)]
    old: libc::sigset_t,
}

impl DeferSignals {
    #[cfg(unix)]
    fn new() -> Self {
        // SAFETY: plain sigset manipulation on values owned here; pthread_sigmask only changes
        // this thread's mask.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
                libc::sigaddset(&mut set, signal);
            }
            let mut old: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old);
            DeferSignals { old }
        }
    }
    #[cfg(not(unix))]
    fn new() -> Self {
        DeferSignals {}
    }
}

#[cfg(unix)]
impl Drop for DeferSignals {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in `new`.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.old, std::ptr::null_mut());
        }
    }
}

fn planned_write(file: &PlannedFile) -> Target<'_> {
    Target {
        rel: file.path.clone(),
        target: file.disk_path.clone(),
        content: &file.content,
        expected: file.existing.as_deref(),
        secret: file.secret,
        mode_from: file.disk_path.clone(),
    }
}

/// One apply in progress: its journal and what has been done so far.
struct Transaction {
    journal: Journal,
    /// Old content of the replaced files, by target, for an in-process roll back.
    old: Vec<Option<Vec<u8>>>,
    /// How many targets have been renamed into place.
    renamed: usize,
}

impl Transaction {
    /// Records the journal: the targets, the old content of each, and the directories to make.
    /// Refuses, before anything is written, a file that changed on disk since it was planned.
    fn begin(root: &Path, writes: &[Target<'_>]) -> Result<Self> {
        let mut entries = Vec::new();
        let mut old = Vec::new();
        for w in writes {
            let existing = match std::fs::read(&w.target) {
                Ok(bytes) => Some(bytes),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(Error::io(&w.target, e)),
            };
            check_unchanged(w, existing.as_deref())?;
            if existing.is_some() && !crate::plan::access(&w.target, false) {
                return Err(Error::UnsafePath {
                    path: w.rel.clone(),
                    reason: "is read-only; make it writable (chmod u+w) if it may be replaced, then run again".into(),
                });
            }
            entries.push(Entry::new(&w.target));
            old.push(existing);
        }
        let opened = Journal::open(root)?;
        let mut dirs: Vec<PathBuf> = Vec::new();
        for w in writes {
            let mut missing = Vec::new();
            let mut current = w.target.parent().expect("a file path has a parent");
            // A directory already listed is missing, and so are the parents listed before it.
            while current.starts_with(root) && !dirs.iter().any(|d| d == current) && !current.exists() {
                missing.push(current.to_path_buf());
                current = current.parent().unwrap_or(Path::new("/"));
            }
            for d in missing.into_iter().rev() {
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
            }
        }
        let journal = Journal::write(root, opened, entries, dirs, &old)?;
        Ok(Transaction { journal, old, renamed: 0 })
    }

    fn run(&mut self, writes: &[Target<'_>]) -> Result<()> {
        for dir in &self.journal.dirs {
            crate::journal::step("mkdir")?;
            std::fs::create_dir(dir).map_err(|e| Error::io(dir, e))?;
        }
        for (w, entry) in writes.iter().zip(&self.journal.entries) {
            crate::journal::step("stage")?;
            stage(&entry.temp, w)?;
        }
        // The journal and every staged file reach the disk before the first rename.
        crate::journal::flush(&self.journal.root)?;
        for (i, (w, entry)) in writes.iter().zip(&self.journal.entries).enumerate() {
            crate::journal::step("rename")?;
            std::fs::rename(&entry.temp, &w.target).map_err(|e| Error::io(&w.target, e))?;
            self.renamed = i + 1;
        }
        // And the renames before the commit.
        crate::journal::flush(&self.journal.root)
    }

    fn commit(self) {
        self.journal.commit();
    }

    /// Best effort: puts back what was renamed, removes temporary files and the directories made.
    fn roll_back(self) {
        let Transaction { journal, old, renamed } = self;
        for (i, entry) in journal.entries.iter().enumerate().rev() {
            let _ = std::fs::remove_file(&entry.temp);
            if i >= renamed {
                continue;
            }
            // The journal's link to the old file is renamed back: no new data to write.
            let restored = match &old[i] {
                Some(bytes) => std::fs::rename(journal.old_copy(i), &entry.target)
                    .or_else(|_| crate::journal::restore(&entry.target, bytes)),
                None => std::fs::remove_file(&entry.target),
            };
            if let Err(e) = restored {
                tracing::error!(path = %entry.target.display(), error = %e, "could not roll back");
            }
        }
        journal.finish_rollback();
    }
}

/// Writes `w`'s content to its temporary file, with the right permissions (flushed to disk with
/// the others, see [`crate::journal::flush`]).
fn stage(temp: &Path, w: &Target<'_>) -> Result<()> {
    let open = || std::fs::OpenOptions::new().write(true).create_new(true).open(temp);
    // A leftover of an earlier run that died is ours (the name is skillrun's): replace it.
    let opened = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => std::fs::remove_file(temp).and_then(|()| open()),
        other => other,
    };
    let mut file = opened.map_err(|e| Error::io(w.target.parent().unwrap_or(temp), e))?;
    set_mode(&file, &w.mode_from, w.secret).map_err(|e| Error::io(&w.target, e))?;
    file.write_all(w.content).map_err(|e| Error::io(&w.target, e))
}

/// A file changed on disk since it was planned is not overwritten.
fn check_unchanged(w: &Target<'_>, now: Option<&[u8]>) -> Result<()> {
    if now != w.expected {
        return Err(Error::UnsafePath {
            path: w.rel.clone(),
            reason: "it changed while the plan was being made; run again".into(),
        });
    }
    Ok(())
}

/// An exclusive advisory lock on a project directory, held while a run plans and writes, so
/// two runs on one project never interleave: the second waits for the first.
#[derive(Debug)]
pub struct ProjectLock {
    handles: Vec<std::fs::File>,
    made: Option<PathBuf>,
}

/// How long a run waits for another run on the same project before giving up: 30 s, or
/// `SKILLRUN_LOCK_TIMEOUT` seconds.
fn lock_wait() -> std::time::Duration {
    let seconds = std::env::var("SKILLRUN_LOCK_TIMEOUT").ok().and_then(|v| v.parse::<f64>().ok());
    std::time::Duration::from_secs_f64(seconds.filter(|s| s.is_finite() && *s >= 0.0).unwrap_or(30.0))
}

/// Locks the project at `root`, waiting up to half a minute for another run on it to finish.
/// When the directory does not exist yet, its parent is locked, the directory is made (so that a
/// run that comes later locks it too), and both are held; the lock then removes the directory
/// again when dropped if it is still empty (the run wrote nothing).
pub fn lock_project(root: &Path) -> Result<ProjectLock> {
    let mut handles = Vec::new();
    let mut made = None;
    if !root.is_dir()
        && let Some(parent) = root.parent()
    {
        handles.push(lock_dir(parent)?);
        match std::fs::create_dir(root) {
            Ok(()) => made = Some(root.to_path_buf()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(Error::io(root, e)),
        }
    }
    handles.push(lock_dir(root)?);
    Ok(ProjectLock { handles, made })
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        if let Some(dir) = &self.made {
            let _ = std::fs::remove_dir(dir);
        }
        self.handles.clear();
    }
}

fn lock_dir(dir: &Path) -> Result<std::fs::File> {
    let handle = std::fs::File::open(dir).map_err(|e| Error::io(dir, e))?;
    let deadline = std::time::Instant::now() + lock_wait();
    let mut told = false;
    loop {
        match handle.try_lock() {
            Ok(()) => return Ok(handle),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                if !told {
                    tracing::info!(path = %dir.display(), "another run is writing to this project; waiting");
                    told = true;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(std::fs::TryLockError::WouldBlock) => return Err(Error::Busy { path: dir.to_path_buf() }),
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(dir, e)),
        }
    }
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, existing: &Path, secret: bool) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match std::fs::metadata(existing) {
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(_) if secret => 0o600,
        Err(_) => 0o644,
    };
    file.set_permissions(std::fs::Permissions::from_mode(if secret { mode & 0o700 } else { mode }))
}

#[cfg(not(unix))]
fn set_mode(_: &std::fs::File, _: &Path, _: bool) -> std::io::Result<()> {
    Ok(())
}

fn backup_stamp() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}-{:09}", now.as_secs(), now.subsec_nanos())
}
