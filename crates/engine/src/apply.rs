//! Applying a plan: the only code that writes to a project, and only through its handle
//! ([`crate::project_dir`]). All or nothing, like a database commit: before the first file is
//! touched, a journal ([`crate::journal`]) records every target, a link to each file about to be
//! replaced, and the directories about to be made. New content is written to a temporary file
//! beside its destination and flushed (`fdatasync` of exactly those files, after
//! `sync_file_range` has started them all), the journal records each staged file, the files are
//! renamed into place and their directories flushed; removing the journal is the commit. A
//! failure part-way rolls back in process; a process killed part-way (SIGKILL, power loss) is
//! rolled back by [`crate::journal::recover`] on the next run. A process asked to stop
//! ([`crate::shutdown`]) lets an apply in progress finish first.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::journal::{Journal, step};
use crate::paths::RelPath;
use crate::plan::Plan;
use crate::project_dir::{Dir, MAX_READ_BYTES, ProjectDir};
use crate::state;

/// What was written.
#[derive(Debug, Default)]
pub struct Applied {
    /// Backups of replaced files, project-relative, by file path.
    pub backups: Vec<(String, String)>,
}

/// One file to put in place.
struct Target<'a> {
    path: RelPath,
    content: &'a [u8],
    /// What the plan saw on disk; the write is refused if the disk no longer holds it.
    expected: Option<&'a [u8]>,
    secret: bool,
    /// Permission bits to give the file (those of the file it replaces, else the default).
    mode: Option<u32>,
}

/// Writes every file the plan creates or updates into `project`. Call only for a plan without
/// conflicts, while holding the project's lock ([`crate::locate::lock`]).
pub fn apply(plan: &Plan, project: &ProjectDir) -> Result<Applied> {
    assert!(!plan.has_conflicts(), "a plan with conflicts is never applied");
    let mut applied = Applied::default();
    let stamp = backup_stamp();
    let mut writes = Vec::new();
    for file in plan.files.iter().filter(|f| f.action.writes()) {
        let mode = project.stat(&file.path)?.map(|m| m.mode);
        if file.backup
            && let Some(old) = &file.existing
        {
            let rel = RelPath::parse(&format!("{}/{stamp}/{}", state::BACKUPS, file.path)).map_err(path_error)?;
            applied.backups.push((file.path.to_string(), rel.to_string()));
            writes.push(Target { path: rel, content: old, expected: None, secret: true, mode });
        }
        writes.push(Target {
            path: file.path.clone(),
            content: &file.content,
            expected: file.existing.as_deref(),
            secret: file.secret,
            mode,
        });
    }
    if writes.is_empty() {
        return Ok(applied);
    }
    let Some(_running) = crate::shutdown::enter() else {
        return Err(Error::Stopping);
    };
    let rolled_back = |e: Error| Error::RolledBack { source: Box::new(e) };
    let mut tx = Transaction::begin(project, &writes).map_err(rolled_back)?;
    match tx.run(project, &writes) {
        Ok(()) => {
            tx.journal.commit(project);
            Ok(applied)
        }
        Err(e) => {
            tx.roll_back(project, &writes);
            Err(rolled_back(e))
        }
    }
}

fn path_error(e: crate::paths::PathError) -> Error {
    Error::UnsafePath { path: String::new(), reason: e.to_string() }
}

/// One apply in progress: its journal and what has been done so far.
struct Transaction {
    journal: Journal,
    /// Each target's directory, opened once.
    dirs: Vec<Dir>,
    /// Old content of the replaced files, by target, for an in-process roll back.
    old: Vec<Option<Vec<u8>>>,
    /// Directories made so far.
    made: usize,
    /// Targets staged, and renamed into place, so far.
    staged: usize,
    renamed: usize,
}

impl Transaction {
    /// Checks that every target is still as planned, then writes the journal. Nothing in the
    /// project has changed when this returns an error.
    fn begin(project: &ProjectDir, writes: &[Target<'_>]) -> Result<Self> {
        let mut old = Vec::new();
        for w in writes {
            let existing = project.read(&w.path, MAX_READ_BYTES)?;
            if existing.as_deref() != w.expected {
                return Err(Error::UnsafePath {
                    path: w.path.to_string(),
                    reason: "it changed while the plan was being made; run again".into(),
                });
            }
            if existing.is_some()
                && let Ok((dir, name)) = project.parent_of(&w.path)
                && !dir.may_write(name)
            {
                return Err(Error::UnsafePath {
                    path: w.path.to_string(),
                    reason: "is read-only; make it writable (chmod u+w) if it may be replaced, then run again".into(),
                });
            }
            old.push(existing);
        }
        // The directories to make, parents first, each once (`.skillrun` is the journal's own).
        let state_dir = state::rel(state::DIR);
        let mut dirs: Vec<RelPath> = Vec::new();
        for w in writes {
            for dir in w.path.ancestors() {
                if dir != state_dir && !dirs.contains(&dir) && project.stat(&dir)?.is_none() {
                    dirs.push(dir);
                }
            }
        }
        let targets: Vec<(RelPath, Option<&[u8]>)> =
            writes.iter().zip(&old).map(|(w, old)| (w.path.clone(), old.as_deref())).collect();
        let journal = Journal::begin(project, &targets, &dirs)?;
        Ok(Transaction { journal, dirs: Vec::new(), old, made: 0, staged: 0, renamed: 0 })
    }

    fn run(&mut self, project: &ProjectDir, writes: &[Target<'_>]) -> Result<()> {
        let made: Vec<RelPath> =
            self.journal.dirs().iter().map(|d| RelPath::parse(d).expect("checked when recorded")).collect();
        for dir in &made {
            step("mkdir")?;
            let (parent, name) = project.parent_of(dir)?;
            parent.mkdir(name)?;
            self.made += 1;
        }
        let mut opened: BTreeMap<Option<RelPath>, usize> = BTreeMap::new();
        let mut files = Vec::new();
        for w in writes {
            step("stage")?;
            let parent = w.path.parent();
            let index = match opened.get(&parent) {
                Some(&i) => i,
                None => {
                    self.dirs.push(project.dir(parent.as_ref())?);
                    opened.insert(parent, self.dirs.len() - 1);
                    self.dirs.len() - 1
                }
            };
            files.push((index, stage(&self.dirs[index], w)?));
            self.staged += 1;
        }
        // Every staged file reaches the disk before the journal says it may be renamed.
        crate::durable::flush_files(files.iter().map(|(_, f)| f)).map_err(|e| Error::io(state::JOURNAL, e))?;
        let inodes: Vec<u64> = files
            .iter()
            .map(|(_, f)| std::os::unix::fs::MetadataExt::ino(&f.metadata().expect("fstat of an open file")))
            .collect();
        self.journal.staged(&inodes)?;
        for (w, (index, _)) in writes.iter().zip(&files) {
            step("rename")?;
            let dir = &self.dirs[*index];
            dir.rename(&state::temp_name(w.path.name()), dir, w.path.name())?;
            self.renamed += 1;
        }
        // The renames (and the new directories' entries) reach the disk before the commit.
        for dir in &self.dirs {
            dir.sync()?;
        }
        for dir in &made {
            project.dir(dir.parent().as_ref())?.sync()?;
        }
        Ok(())
    }

    /// Best effort: puts back what was renamed, removes staged files and the directories made.
    fn roll_back(self, project: &ProjectDir, writes: &[Target<'_>]) {
        let mut opened: BTreeMap<Option<RelPath>, Dir> = BTreeMap::new();
        for (i, w) in writes.iter().enumerate().rev() {
            let parent = w.path.parent();
            if !opened.contains_key(&parent) {
                match project.dir(parent.as_ref()) {
                    Ok(dir) => {
                        opened.insert(parent.clone(), dir);
                    }
                    Err(_) => continue,
                }
            }
            let dir = &opened[&parent];
            let name = w.path.name();
            // Staged, or half-written when the failure came: the name is skillrun's own.
            if i <= self.staged {
                let _ = dir.remove_file(&state::temp_name(name));
            }
            if i >= self.renamed {
                continue;
            }
            let restored = match (&self.old[i], self.journal.old_copy(i)) {
                (Some(_), Some(copy)) => self.journal.dir().rename(copy, dir, name),
                (Some(bytes), None) => restore(dir, name, bytes),
                (None, _) => dir.remove_file(name),
            };
            if let Err(e) = restored {
                tracing::error!(path = %w.path, error = %e, "could not roll back");
            }
        }
        let made: Vec<String> = self.journal.dirs()[..self.made].to_vec();
        for dir in made.iter().rev() {
            if let Ok(rel) = RelPath::parse(dir)
                && let Ok((parent, name)) = project.parent_of(&rel)
            {
                let _ = parent.remove_dir(name);
            }
        }
        self.journal.discard(project);
    }
}

/// Replaces `name` in `dir` with `bytes` through a temporary file and a rename.
fn restore(dir: &Dir, name: &str, bytes: &[u8]) -> Result<(), crate::project_dir::FsError> {
    let temp = format!(".{name}.skillrun-restore");
    let mode = dir.stat(name)?.map_or(0o600, |m| m.mode);
    let _ = dir.remove_file(&temp);
    let file = dir.create_file(&temp, bytes, mode)?;
    let _ = file.sync_data();
    dir.rename(&temp, dir, name)
}

/// Writes `w`'s content to its temporary file beside the target, with its permissions.
fn stage(dir: &Dir, w: &Target<'_>) -> Result<std::fs::File> {
    let temp = state::temp_name(w.path.name());
    // A leftover of a run that died has skillrun's reserved name: replace it.
    if dir.stat(&temp)?.is_some() {
        dir.remove_file(&temp)?;
    }
    let mode = match w.mode {
        Some(mode) if w.secret => mode & 0o700,
        Some(mode) => mode,
        None if w.secret => 0o600,
        None => 0o644,
    };
    // An error names the file being written, not its temporary name.
    dir.create_file(&temp, w.content, mode).map_err(|e| match e {
        crate::project_dir::FsError::Io { source, .. } => Error::io(w.path.as_str(), source),
        other => other.into(),
    })
}

fn backup_stamp() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}-{:09}", now.as_secs(), now.subsec_nanos())
}
