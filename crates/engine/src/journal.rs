//! The write-ahead journal that makes [`crate::apply`] all-or-nothing even when the process is
//! killed part-way, and [`recover`], which undoes a run that died before its commit.
//!
//! `.skillrun/journal/` holds a hard link to every file about to be replaced (`old-N`; a copy
//! where a link cannot be made) and `journal.json`: the targets, those links, the directories
//! about to be made, and the inode numbers that tie the record to this directory on this
//! machine. It is written twice: before anything in the project changes (targets, links,
//! directories), and once every new file is staged (the inode of each staged file). Only then are
//! the staged files renamed into place; removing `journal.json` is the commit.
//!
//! Everything under `.skillrun/` may have come with the repository, so a journal is acted on
//! only when it is genuine, and even then only through the project's handle
//! ([`crate::project_dir`]), never outside the project:
//! - it records the inode of the project directory and of the journal directory as they were
//!   when the run began (a cloned, unpacked or copied journal cannot know them);
//! - git does not track it;
//! - a file is put back only when the target holds exactly the file that run staged (same inode),
//!   and only from an old copy whose inode the record names; a file the run created is removed
//!   only under the same condition; a staged temporary file is always `.<name>.skillrun-tmp`
//!   beside its target ([`crate::state::temp_name`]), never a name the record chooses.
//!
//! A journal that fails these checks is reported ([`Recovered::Suspicious`]) and left alone.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::paths::RelPath;
use crate::project_dir::{Dir, Kind, ProjectDir};
use crate::state;

const RECORD: &str = "journal.json";
const RECORD_TEMP: &str = "journal.json.tmp";
const VERSION: u32 = 2;

/// What `journal.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Record {
    version: u32,
    /// Inode of the project directory when the run began.
    project_ino: u64,
    /// Inode of the journal directory the run made.
    journal_ino: u64,
    files: Vec<RecordFile>,
    /// Directories the run makes, parents first.
    dirs: Vec<String>,
    /// Whether the run made `.skillrun` itself.
    made_state_dir: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RecordFile {
    path: String,
    /// The old content, kept in the journal directory, when the file existed.
    old: Option<OldCopy>,
    /// The inode of the staged file, once staged (then the rename may have happened).
    staged_ino: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OldCopy {
    /// `old-N` in the journal directory.
    name: String,
    ino: u64,
}

/// A journal on disk for the apply in progress.
#[derive(Debug)]
pub struct Journal {
    dir: Dir,
    record: Record,
}

impl Journal {
    /// Makes the journal directory, links (or copies) each target that exists, and writes the
    /// first record. `targets` are the files to write with their current content; `dirs` the
    /// directories to make, parents first. Nothing in the project has changed yet: from here on
    /// a crash is rolled back by [`recover`]. A failure removes what was made.
    pub fn begin(project: &ProjectDir, targets: &[(RelPath, Option<&[u8]>)], dirs: &[RelPath]) -> Result<Journal> {
        let top = project.dir(None)?;
        let made_state_dir = top.stat(state::DIR)?.is_none();
        if made_state_dir {
            top.mkdir(state::DIR)?;
        }
        let state_dir = top.subdir(state::DIR)?;
        let journal_name = state::rel(state::JOURNAL).name().to_owned();
        if let Err(e) = state_dir.mkdir(&journal_name) {
            if made_state_dir {
                let _ = top.remove_dir(state::DIR);
            }
            return Err(e.into());
        }
        let dir = state_dir.subdir(&journal_name)?;
        let journal_ino = state_dir.stat(&journal_name)?.map_or(0, |m| m.ino);
        let record = Record {
            version: VERSION,
            project_ino: project.meta()?.ino,
            journal_ino,
            files: targets
                .iter()
                .map(|(path, _)| RecordFile { path: path.to_string(), old: None, staged_ino: None })
                .collect(),
            dirs: dirs.iter().map(RelPath::to_string).collect(),
            made_state_dir,
        };
        let mut journal = Journal { dir, record };
        let result = (|| {
            for (i, (path, old)) in targets.iter().enumerate() {
                let Some(bytes) = old else { continue };
                step("journal")?;
                let name = format!("old-{i}");
                let (parent, file) = project.parent_of(path)?;
                if parent.link(file, &journal.dir, &name).is_err() {
                    journal.dir.create_file(&name, bytes, 0o600)?.sync_all().map_err(|e| Error::io(&name, e))?;
                }
                let ino = journal.dir.stat(&name)?.map_or(0, |m| m.ino);
                journal.record.files[i].old = Some(OldCopy { name, ino });
            }
            journal.write_record()?;
            // The journal directory's own entry (and `.skillrun`'s, when made) must survive a crash.
            state_dir.sync()?;
            if made_state_dir {
                top.sync()?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok(journal),
            Err(e) => {
                journal.discard(project);
                Err(e)
            }
        }
    }

    /// Records the inode of each staged file: from here on the renames may happen.
    pub fn staged(&mut self, inodes: &[u64]) -> Result<()> {
        for (file, ino) in self.record.files.iter_mut().zip(inodes) {
            file.staged_ino = Some(*ino);
        }
        self.write_record()
    }

    /// Where the old content of target `i` is kept, if it existed and was linked (not copied).
    pub fn old_copy(&self, i: usize) -> Option<&str> {
        self.record.files[i].old.as_ref().map(|o| o.name.as_str())
    }

    /// The journal directory, to rename an old copy back from.
    pub fn dir(&self) -> &Dir {
        &self.dir
    }

    fn write_record(&self) -> Result<()> {
        step("journal")?;
        let text = serde_json::to_vec(&self.record).expect("a record serializes");
        let _ = self.dir.remove_file(RECORD_TEMP);
        let file = self.dir.create_file(RECORD_TEMP, &text, 0o600)?;
        file.sync_data().map_err(|e| Error::io(state::JOURNAL, e))?;
        self.dir.rename(RECORD_TEMP, &self.dir, RECORD)?;
        self.dir.sync()?;
        Ok(())
    }

    /// The commit: removes `journal.json` (made durable), then the old copies and the directory.
    pub fn commit(self, project: &ProjectDir) {
        if step("commit").is_err() {
            return;
        }
        if let Err(e) = self.dir.remove_file(RECORD).and_then(|()| self.dir.sync()) {
            tracing::error!(error = %e, "could not remove the journal");
            return;
        }
        let _ = step("cleanup");
        self.discard(project);
    }

    /// Removes the journal directory and what it holds (after a commit, or an in-process roll
    /// back that has put everything back), and `.skillrun` when the run made it.
    pub fn discard(self, project: &ProjectDir) {
        remove_journal_dir(&self.dir);
        if let Ok(top) = project.dir(None)
            && let Ok(state_dir) = top.subdir(state::DIR)
        {
            let _ = state_dir.remove_dir(state::rel(state::JOURNAL).name());
            if self.record.made_state_dir {
                let _ = top.remove_dir(state::DIR);
            }
        }
    }

    /// The directories the run made, parents first.
    pub fn dirs(&self) -> &[String] {
        &self.record.dirs
    }
}

/// Removes the record, its temporary copy and the old copies (names of skillrun's own).
fn remove_journal_dir(dir: &Dir) {
    for name in [RECORD, RECORD_TEMP] {
        let _ = dir.remove_file(name);
    }
    if let Ok(entries) = dir.list() {
        for (name, kind) in entries {
            if kind == Kind::File && is_old_copy(&name) {
                let _ = dir.remove_file(&name);
            }
        }
    }
}

fn is_old_copy(name: &str) -> bool {
    name.strip_prefix("old-").is_some_and(|n| !n.is_empty() && n.len() <= 6 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// What [`recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovered {
    /// A run died before its commit; its files were put back as they were.
    RolledBack { files: usize },
    /// A run died before changing anything, or after its commit: only its leftovers were removed.
    CleanedUp,
    /// A journal is there that skillrun will not act on (it did not come from a run that died in
    /// this directory, or it cannot be read); nothing was changed.
    Suspicious { reason: String },
}

/// Whether a journal is waiting in the project (a run died part-way, or one came with it).
pub fn pending(project: &ProjectDir) -> bool {
    project.stat(&state::rel(state::JOURNAL)).is_ok_and(|m| m.is_some())
}

/// Undoes a run that died before its commit, if there is one and it is genuine. Called by
/// every writing run, under the project lock, before it plans; also by `skillrun recover`.
pub fn recover(project: &ProjectDir) -> Result<Option<Recovered>> {
    let journal_rel = state::rel(state::JOURNAL);
    let suspicious = |reason: String| Ok(Some(Recovered::Suspicious { reason }));
    let dir = match project.stat(&journal_rel) {
        Ok(None) => return Ok(None),
        Ok(Some(meta)) if meta.kind != Kind::Dir => {
            return suspicious(format!("{} is a {:?}, not a directory skillrun made", state::JOURNAL, meta.kind));
        }
        Ok(Some(_)) => match project.dir(Some(&journal_rel)) {
            Ok(dir) => dir,
            Err(e) => return suspicious(e.to_string()),
        },
        Err(e) => return suspicious(e.to_string()),
    };
    let record = match dir.read(RECORD, state::MAX_STATE_BYTES) {
        Ok(Some(bytes)) => match serde_json::from_slice::<Record>(&bytes) {
            Ok(record) if record.version == VERSION => record,
            Ok(record) => return suspicious(format!("its version {} is not one this skillrun writes", record.version)),
            Err(e) => return suspicious(format!("it is not a journal skillrun can read ({e})")),
        },
        // No record: the run died before its first record (nothing in the project changed yet),
        // or after its commit. Only skillrun's own names are removed.
        Ok(None) => return clean_up(project, &dir),
        Err(e) => return suspicious(e.to_string()),
    };
    if let Some(reason) = foreign(project, &record)? {
        return suspicious(reason);
    }
    let files = check_entries(&record)?;
    let files = match files {
        Ok(files) => files,
        Err(reason) => return suspicious(reason),
    };
    let mut restored = 0;
    for (file, path) in record.files.iter().zip(&files).rev() {
        restored += usize::from(undo(project, &dir, file, path)?);
    }
    for rel in record.dirs.iter().rev() {
        if let Ok(rel) = RelPath::parse(rel)
            && let Ok((parent, name)) = project.parent_of(&rel)
        {
            let _ = parent.remove_dir(name); // only when empty: it then holds nothing of anyone's
        }
    }
    let journal = Journal { dir, record };
    journal.discard(project);
    tracing::warn!(files = restored, "an interrupted run was rolled back");
    Ok(Some(Recovered::RolledBack { files: restored }))
}

/// Why `record` did not come from a run that died in this directory, if it did not.
fn foreign(project: &ProjectDir, record: &Record) -> Result<Option<String>> {
    let journal_ino = project.stat(&state::rel(state::JOURNAL))?.map_or(0, |m| m.ino);
    if record.project_ino != project.meta()?.ino || record.journal_ino != journal_ino {
        return Ok(Some(
            "it was not written by a run in this directory on this machine (it may have come with the repository)"
                .into(),
        ));
    }
    if crate::git::tracks(project, state::JOURNAL) {
        return Ok(Some("git tracks it, so it came with the repository".into()));
    }
    Ok(None)
}

/// Every entry's path, checked: inside the project, outside the journal, old copies named as
/// skillrun names them, no path twice.
fn check_entries(record: &Record) -> Result<std::result::Result<Vec<RelPath>, String>> {
    let journal = state::rel(state::JOURNAL);
    let mut paths: Vec<RelPath> = Vec::new();
    for file in &record.files {
        let Ok(path) = RelPath::parse(&file.path) else {
            return Ok(Err(format!("it names `{}`, which is not a path inside the project", file.path)));
        };
        if path.starts_with(&journal) || paths.contains(&path) {
            return Ok(Err(format!("it names `{path}` in a way skillrun never does")));
        }
        if file.old.as_ref().is_some_and(|o| !is_old_copy(&o.name)) {
            return Ok(Err(format!("its copy of `{path}` has a name skillrun never uses")));
        }
        paths.push(path);
    }
    for dir in &record.dirs {
        if RelPath::parse(dir).is_err() {
            return Ok(Err(format!("it names the directory `{dir}`, which is not inside the project")));
        }
    }
    Ok(Ok(paths))
}

/// Puts one target back as it was before the run, if the run's file is what is there.
/// Returns whether something was changed.
fn undo(project: &ProjectDir, journal: &Dir, file: &RecordFile, path: &RelPath) -> Result<bool> {
    // A directory that is gone, or that is now a link or a file, cannot hold the run's file
    // (a run never writes through either): nothing of the run's is there to undo.
    let (parent, name) = match project.parent_of(path) {
        Ok(found) => found,
        Err(e) => {
            if !crate::project_dir::missing(&e) {
                tracing::warn!(path = %path, error = %e, "left as it is: not a directory the run wrote in");
            }
            return Ok(false);
        }
    };
    let temp = state::temp_name(name);
    let target = parent.stat(name)?;
    let ours = |meta: Option<crate::project_dir::Meta>| {
        file.staged_ino.is_some_and(|ino| meta.is_some_and(|m| m.kind == Kind::File && m.ino == ino))
    };
    // A staged file that was never renamed: remove it (it has skillrun's reserved name).
    if let Some(meta) = parent.stat(&temp)?
        && meta.kind == Kind::File
        && (file.staged_ino.is_none() || ours(Some(meta)))
    {
        step("recover")?;
        parent.remove_file(&temp)?;
    }
    if !ours(target) {
        return Ok(false);
    }
    match &file.old {
        Some(old) => {
            let copy = journal.stat(&old.name)?;
            if !copy.is_some_and(|m| m.kind == Kind::File && m.ino == old.ino) {
                tracing::warn!(path = %path, "the journal's copy is missing or not the one it recorded; left as it is");
                return Ok(false);
            }
            step("recover")?;
            journal.rename(&old.name, &parent, name)?;
        }
        None => {
            step("recover")?;
            parent.remove_file(name)?;
        }
    }
    parent.sync()?;
    Ok(true)
}

/// A journal directory without a record: removes skillrun's own leftovers in it, or reports it
/// when it holds anything else.
fn clean_up(project: &ProjectDir, dir: &Dir) -> Result<Option<Recovered>> {
    let entries = dir.list()?;
    if let Some((name, _)) =
        entries.iter().find(|(name, kind)| !(*kind == Kind::File && (is_old_copy(name) || name == RECORD_TEMP)))
    {
        return Ok(Some(Recovered::Suspicious {
            reason: format!("it holds `{name}`, which skillrun never writes there"),
        }));
    }
    remove_journal_dir(dir);
    if let Ok(top) = project.dir(None)
        && let Ok(state_dir) = top.subdir(state::DIR)
    {
        state_dir.remove_dir(state::rel(state::JOURNAL).name())?;
    }
    Ok(Some(Recovered::CleanedUp))
}

/// A point where a test may stop the run (debug builds only; a release build has no such hook):
/// `SKILLRUN_FAIL_AT=NAME:N` makes the N-th step named NAME (`journal`, `mkdir`, `stage`,
/// `rename`, `commit`, `recover`) fail with an I/O error, `SKILLRUN_KILL_AT=N` kills the process
/// with SIGKILL at the N-th step of any name, and `SKILLRUN_SLOW_APPLY=MS` sleeps that long at
/// each step (to signal a process mid-apply), so tests can prove every point of an apply safe.
#[cfg(debug_assertions)]
pub fn step(name: &str) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NAMED: AtomicUsize = AtomicUsize::new(0);
    static ALL: AtomicUsize = AtomicUsize::new(0);
    let n = ALL.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(ms) = std::env::var("SKILLRUN_SLOW_APPLY").ok().and_then(|v| v.parse::<u64>().ok()) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    if std::env::var("SKILLRUN_KILL_AT").ok().and_then(|v| v.parse::<usize>().ok()) == Some(n) {
        // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
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

/// A release build has no fault-injection hooks.
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn step(_: &str) -> Result<()> {
    Ok(())
}
