//! Applying a plan: the only code that writes to the project. All or nothing: every new file is
//! first written to a temporary file beside its destination, then all are renamed into place;
//! if any step fails, what was already renamed is restored and created directories are removed.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::plan::{FileAction, Plan, PlannedFile};

/// Where `--force` keeps the files it replaces, relative to the project.
pub const BACKUP_DIR: &str = ".skillrun/backups";

/// What was written.
#[derive(Debug, Default)]
pub struct Applied {
    /// Backups of replaced files, project-relative, by file path.
    pub backups: Vec<(String, String)>,
}

/// Writes every file the plan creates or updates. Call only for a plan without conflicts.
pub fn apply(plan: &Plan) -> Result<Applied> {
    assert!(!plan.has_conflicts(), "a plan with conflicts is never applied");
    let writes: Vec<&PlannedFile> = plan.files.iter().filter(|f| f.action.writes()).collect();
    let _lock = lock_project(&plan.root)?;
    let mut tx = Transaction::default();
    let result = (|| {
        let mut applied = Applied::default();
        let stamp = backup_stamp();
        let mut staged = Vec::new();
        for file in &writes {
            if file.backup
                && let Some(old) = &file.existing
            {
                let rel = format!("{BACKUP_DIR}/{stamp}/{}", file.path);
                let target = crate::plan::safe_path(&plan.root, &rel)?;
                staged.push((tx.stage(&target, old, true, file.disk_path.as_path())?, target, None));
                applied.backups.push((file.path.clone(), rel));
            }
            check_unchanged(file)?;
            staged.push((
                tx.stage(&file.disk_path, &file.content, file.secret, file.disk_path.as_path())?,
                file.disk_path.clone(),
                file.existing.clone(),
            ));
        }
        fail_point("stage")?;
        for (temp, target, existing) in staged {
            fail_point("rename")?;
            temp.persist(&target).map_err(|e| Error::io(&target, e.error))?;
            tx.renamed.push((target, existing));
        }
        Ok(applied)
    })();
    result.map_err(|e| {
        tx.roll_back();
        Error::RolledBack { source: Box::new(e) }
    })
}

/// Undo information for one apply.
#[derive(Default)]
struct Transaction {
    created_dirs: Vec<PathBuf>,
    renamed: Vec<(PathBuf, Option<Vec<u8>>)>,
}

impl Transaction {
    /// Writes `content` to a temporary file in `target`'s directory (created as needed).
    fn stage(
        &mut self,
        target: &Path,
        content: &[u8],
        secret: bool,
        mode_from: &Path,
    ) -> Result<tempfile::NamedTempFile> {
        let parent = target.parent().expect("a file path has a parent");
        self.create_dirs(parent)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".skillrun-")
            .suffix(".tmp")
            .tempfile_in(parent)
            .map_err(|e| Error::io(parent, e))?;
        temp.write_all(content).map_err(|e| Error::io(target, e))?;
        temp.as_file().sync_all().map_err(|e| Error::io(target, e))?;
        set_mode(temp.as_file(), mode_from, secret).map_err(|e| Error::io(target, e))?;
        Ok(temp)
    }

    fn create_dirs(&mut self, dir: &Path) -> Result<()> {
        let mut missing = Vec::new();
        let mut current = dir;
        while !current.exists() {
            missing.push(current.to_path_buf());
            current = current.parent().unwrap_or(Path::new("/"));
        }
        for d in missing.into_iter().rev() {
            std::fs::create_dir(&d).map_err(|e| Error::io(&d, e))?;
            self.created_dirs.push(d);
        }
        Ok(())
    }

    /// Best effort: puts back what was renamed, removes the directories made.
    fn roll_back(&mut self) {
        for (target, existing) in self.renamed.drain(..).rev() {
            let restored = match existing {
                Some(old) => std::fs::write(&target, old),
                None => std::fs::remove_file(&target),
            };
            if let Err(e) = restored {
                tracing::error!(path = %target.display(), error = %e, "could not roll back");
            }
        }
        for dir in self.created_dirs.drain(..).rev() {
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

/// Holds an exclusive advisory lock on the project directory (or, before it exists, its nearest
/// existing parent) while writing, so two runs never interleave their renames.
fn lock_project(root: &Path) -> Result<std::fs::File> {
    let dir = root.ancestors().find(|d| d.is_dir()).unwrap_or(Path::new("/"));
    let handle = std::fs::File::open(dir).map_err(|e| Error::io(dir, e))?;
    match handle.try_lock() {
        Ok(()) => Ok(handle),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Busy { path: dir.to_path_buf() }),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::io(dir, e)),
    }
}

/// A file changed on disk since it was planned is not overwritten.
fn check_unchanged(file: &PlannedFile) -> Result<()> {
    let now = match std::fs::read(&file.disk_path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io(&file.disk_path, e)),
    };
    if now != file.existing {
        return Err(Error::UnsafePath {
            path: file.path.clone(),
            reason: "it changed while the plan was being made; run again".into(),
        });
    }
    debug_assert!(file.action != FileAction::Conflict);
    Ok(())
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

/// Test hook: `SKILLRUN_FAIL_AT=rename:N` fails the N-th rename (1-based), `stage` fails after
/// staging, so tests can prove a failure part-way leaves the project as it was.
fn fail_point(name: &str) -> Result<()> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let Ok(spec) = std::env::var("SKILLRUN_FAIL_AT") else { return Ok(()) };
    let (point, nth) = spec.split_once(':').unwrap_or((spec.as_str(), "1"));
    if point != name {
        return Ok(());
    }
    let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    if nth.parse::<usize>().unwrap_or(1) == n {
        return Err(Error::io(name, std::io::Error::other(format!("injected failure at {name} #{n}"))));
    }
    Ok(())
}
