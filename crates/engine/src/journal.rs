//! The write-ahead journal that makes [`crate::apply`] all-or-nothing even when the process is
//! killed part-way. Before the first file of a project is touched, `.skillrun/journal/` receives a
//! hard link to every file about to be replaced (a copy where links are not possible; a link costs
//! no space, so a disk or file-size limit cannot stop it) and `journal.json`: the targets, their
//! temporary files and the directories about to be made. Removing `journal.json` is the commit. A journal found by
//! a later run ([`recover`], which every writing run calls first) means a run died before its
//! commit: its changes are undone and the project is as it was before that run.

use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The journal's directory, relative to the project.
pub const DIR: &str = ".skillrun/journal";
const FILE: &str = "journal.json";

/// One file the run writes.
#[derive(Debug, Clone)]
pub struct Entry {
    pub target: PathBuf,
    pub temp: PathBuf,
}

impl Entry {
    pub fn new(target: &Path) -> Self {
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let temp = target.with_file_name(format!(".{name}.skillrun-tmp"));
        Entry { target: target.to_path_buf(), temp }
    }
}

/// What `journal.json` holds: paths relative to the project.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    version: u32,
    files: Vec<RecordFile>,
    dirs: Vec<String>,
    made_state_dir: bool,
}

#[derive(Debug, Serialize, Deserialize)]
struct RecordFile {
    path: String,
    temp: String,
    /// The copy of the old content under the journal directory, when the file existed.
    old: Option<String>,
}

/// A journal on disk for the run in progress.
#[derive(Debug)]
pub struct Journal {
    pub root: PathBuf,
    dir: PathBuf,
    pub entries: Vec<Entry>,
    /// Directories the run makes, parents first.
    pub dirs: Vec<PathBuf>,
    made_state_dir: bool,
}

impl Journal {
    /// Makes the journal directory (and `.skillrun`), so that the caller can see which
    /// directories the run itself will have to make.
    pub fn open(root: &Path) -> Result<(PathBuf, bool)> {
        let dir = crate::plan::safe_path(root, DIR)?;
        let state = dir.parent().expect("the journal has a parent").to_path_buf();
        let made_state_dir = !state.exists();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok((dir, made_state_dir))
    }

    /// Links (or copies) the old files, then writes `journal.json`; both reach the disk with the
    /// staged files, in the flush before the first rename. From here on a crash is rolled back by
    /// [`recover`].
    pub fn write(
        root: &Path,
        (dir, made_state_dir): (PathBuf, bool),
        entries: Vec<Entry>,
        dirs: Vec<PathBuf>,
        old: &[Option<Vec<u8>>],
    ) -> Result<Self> {
        let journal = Journal { root: root.to_path_buf(), dir, entries, dirs, made_state_dir };
        let result = (|| {
            let mut files = Vec::new();
            for (i, (entry, old)) in journal.entries.iter().zip(old).enumerate() {
                let copy = match old {
                    Some(bytes) => {
                        let name = format!("old-{i}");
                        step("journal")?;
                        let copy = journal.dir.join(&name);
                        if std::fs::hard_link(&entry.target, &copy).is_err() {
                            write_file(&copy, bytes, 0o600, false).map_err(|e| Error::io(&copy, e))?;
                        }
                        Some(name)
                    }
                    None => None,
                };
                files.push(RecordFile { path: journal.rel(&entry.target), temp: journal.rel(&entry.temp), old: copy });
            }
            let record = Record {
                version: 1,
                files,
                dirs: journal.dirs.iter().map(|d| journal.rel(d)).collect(),
                made_state_dir,
            };
            let text = serde_json::to_vec(&record).expect("a record serializes");
            let temp = journal.dir.join(format!("{FILE}.tmp"));
            step("journal")?;
            // Made durable together with the staged files, by the flush before the first rename.
            write_file(&temp, &text, 0o600, false).map_err(|e| Error::io(&temp, e))?;
            std::fs::rename(&temp, journal.dir.join(FILE)).map_err(|e| Error::io(&journal.dir, e))?;
            Ok(())
        })();
        match result {
            Ok(()) => Ok(journal),
            Err(e) => {
                journal.finish_rollback();
                Err(e)
            }
        }
    }

    /// Where the old content of entry `i` is kept.
    pub fn old_copy(&self, i: usize) -> PathBuf {
        self.dir.join(format!("old-{i}"))
    }

    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root).unwrap_or(path).to_string_lossy().replace('\\', "/")
    }

    /// The commit: removes `journal.json`, then the old copies.
    pub fn commit(self) {
        if step("commit").is_err() {
            return;
        }
        if let Err(e) = std::fs::remove_file(self.dir.join(FILE)) {
            tracing::error!(error = %e, "could not remove the journal");
            return;
        }
        sync_dir(&self.dir);
        let _ = step("cleanup");
        self.remove_dir();
    }

    /// After an in-process roll back: removes the directories made and the journal.
    pub fn finish_rollback(self) {
        for dir in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
        self.remove_dir();
    }

    fn remove_dir(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if self.made_state_dir {
            let _ = std::fs::remove_dir(self.dir.parent().expect("the journal has a parent"));
        }
    }
}

/// What [`recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// A run died before its commit; its files were put back as they were.
    RolledBack { files: usize },
    /// A run died after its commit, while cleaning up; only its leftovers were removed.
    CleanedUp,
}

/// Whether a journal is waiting in the project (a run died part-way).
pub fn pending(root: &Path) -> bool {
    journal_dir(root).is_some_and(|d| d.exists())
}

/// Undoes a run that died before its commit, if there is one. Called by every writing run,
/// under the project lock, before it plans; also by `skillrun recover`.
pub fn recover(root: &Path) -> Result<Option<Recovered>> {
    let Some(dir) = journal_dir(root) else { return Ok(None) };
    if !dir.is_dir() {
        return Ok(None);
    }
    let record = match std::fs::read(dir.join(FILE)) {
        Ok(bytes) => serde_json::from_slice::<Record>(&bytes).map_err(|e| Error::UnsafePath {
            path: format!("{DIR}/{FILE}"),
            reason: format!("is not a journal skillrun can read ({e}); move it away, then run again"),
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            return Ok(Some(Recovered::CleanedUp));
        }
        Err(e) => return Err(Error::io(dir.join(FILE), e)),
    };
    let inside = |rel: &str| -> Result<PathBuf> {
        let path = Path::new(rel);
        if rel.is_empty() || path.components().any(|c| !matches!(c, Component::Normal(_))) {
            return Err(Error::UnsafePath {
                path: format!("{DIR}/{FILE}"),
                reason: format!("names `{rel}`, which is not inside the project; move it away, then run again"),
            });
        }
        Ok(root.join(path))
    };
    let mut restored = 0;
    for file in record.files.iter().rev() {
        let (target, temp) = (inside(&file.path)?, inside(&file.temp)?);
        let _ = std::fs::remove_file(&temp);
        match &file.old {
            Some(copy) => {
                let copy = dir.join(Path::new(copy).file_name().unwrap_or_default());
                let bytes = match std::fs::read(&copy) {
                    Ok(bytes) => bytes,
                    // The copies exist before journal.json does: a missing one was already put
                    // back, by a roll back or a recovery that was itself interrupted.
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(Error::io(&copy, e)),
                };
                if std::fs::read(&target).ok().as_deref() != Some(bytes.as_slice()) {
                    step("recover")?;
                    std::fs::rename(&copy, &target).map_err(|e| Error::io(&target, e))?;
                    restored += 1;
                }
            }
            None if target.exists() => {
                match step("recover").and_then(|()| std::fs::remove_file(&target).map_err(|e| Error::io(&target, e))) {
                    Ok(()) => restored += 1,
                    Err(e) => return Err(e),
                }
            }
            None => {}
        }
    }
    for rel in record.dirs.iter().rev() {
        let _ = std::fs::remove_dir(inside(rel)?);
    }
    std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    if record.made_state_dir {
        let _ = std::fs::remove_dir(dir.parent().expect("the journal has a parent"));
    }
    tracing::warn!(files = restored, "an interrupted run was rolled back");
    Ok(Some(Recovered::RolledBack { files: restored }))
}

/// The journal directory, unless `.skillrun` or the journal is a symbolic link (never followed).
fn journal_dir(root: &Path) -> Option<PathBuf> {
    let state = root.join(".skillrun");
    let dir = state.join("journal");
    let is_link = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
    (!is_link(&state) && !is_link(&dir)).then_some(dir)
}

/// Replaces `target` with `bytes` through a temporary file and a rename.
pub fn restore(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = target.with_file_name(format!(".{name}.skillrun-restore"));
    let mode = std::fs::metadata(target).map(|m| permissions_mode(&m)).unwrap_or(0o600);
    write_file(&temp, bytes, mode, true)?;
    std::fs::rename(&temp, target)
}

/// Creates `path` (replacing a leftover) with `bytes` and `mode`; flushed to disk when `sync`.
pub fn write_file(path: &Path, bytes: &[u8], mode: u32, sync: bool) -> std::io::Result<()> {
    use std::io::Write;
    let _ = std::fs::remove_file(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    if sync { file.sync_all() } else { Ok(()) }
}

/// Makes everything written so far on the project's file system durable, in one call: Linux's
/// syncfs(2), which costs one journal commit where an fsync per file costs one each.
pub fn flush(root: &Path) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let dir = std::fs::File::open(root).map_err(|e| Error::io(root, e))?;
        // SAFETY: syncfs on a descriptor that stays open for the call.
        if unsafe { libc::syncfs(dir.as_raw_fd()) } != 0 {
            return Err(Error::io(root, std::io::Error::last_os_error()));
        }
    }
    #[cfg(all(unix, not(target_os = "linux")))]
    // SAFETY: sync(2) takes no arguments.
    unsafe {
        libc::sync();
    }
    Ok(())
}

#[cfg(unix)]
fn permissions_mode(meta: &std::fs::Metadata) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777
}

#[cfg(not(unix))]
fn permissions_mode(_: &std::fs::Metadata) -> u32 {
    0o644
}

/// Flushes a directory's entries (the renames into it) to disk; best effort.
pub fn sync_dir(dir: &Path) {
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// A point where a test may stop the run: `SKILLRUN_FAIL_AT=NAME:N` makes the N-th step named
/// NAME (`journal`, `mkdir`, `stage`, `rename`, `commit`, `recover`) fail with an I/O error, and
/// `SKILLRUN_KILL_AT=N` kills the process with SIGKILL at the N-th step of any name, so tests
/// can prove that every point of an apply is safe to fail or die at.
pub fn step(name: &str) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NAMED: AtomicUsize = AtomicUsize::new(0);
    static ALL: AtomicUsize = AtomicUsize::new(0);
    let n = ALL.fetch_add(1, Ordering::SeqCst) + 1;
    if std::env::var("SKILLRUN_KILL_AT").ok().and_then(|v| v.parse::<usize>().ok()) == Some(n) {
        kill_self();
    }
    let Ok(spec) = std::env::var("SKILLRUN_FAIL_AT") else { return Ok(()) };
    let (point, nth) = spec.split_once(':').unwrap_or((spec.as_str(), "1"));
    if point != name {
        return Ok(());
    }
    let n = NAMED.fetch_add(1, Ordering::SeqCst) + 1;
    if nth.parse::<usize>().unwrap_or(1) == n {
        return Err(Error::io(name, std::io::Error::other(format!("injected failure at {name} #{n}"))));
    }
    Ok(())
}

#[cfg(unix)]
fn kill_self() -> ! {
    // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    unreachable!("SIGKILL cannot be caught")
}

#[cfg(not(unix))]
fn kill_self() -> ! {
    std::process::abort()
}
