//! Which directory a run works in: the project a request names, opened once as a
//! [`ProjectDir`], and the lock that makes runs on one project take turns.
//!
//! [`Roots`] are the directories a server may write under, each opened once as a handle. A
//! project is opened *beneath* the handle of the root it lies in (`openat2(RESOLVE_BENEATH)`:
//! links on the way are followed only while they stay under the root), so the confinement is a
//! property of the handle, not of a path check made once and acted on later. Without roots (the
//! command line, where the user names the directory) the path is opened as given.

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::io::Errno;

use crate::paths::RelPath;
use crate::project_dir::{FsError, ProjectDir, expand_home, missing};

/// Where a project must lie; empty: anywhere the user can write.
#[derive(Debug, Default)]
pub struct Roots(Vec<Root>);

#[derive(Debug)]
struct Root {
    /// Canonical (symbolic links resolved), to find which root a path lies in.
    path: PathBuf,
    dir: ProjectDir,
}

/// The project a request names.
#[derive(Debug)]
pub enum Location {
    /// An existing directory.
    Existing(ProjectDir),
    /// Not there yet: `name` is made in `parent` when the run writes.
    New { parent: ProjectDir, name: String, path: PathBuf },
}

/// Why a project path cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    #[error("{} is a file, not a directory", path.display())]
    NotADirectory { path: PathBuf },
    #[error("neither {} nor its parent directory exists", path.display())]
    Missing { path: PathBuf },
    #[error("{} is outside the allowed directories ({roots})", path.display())]
    Outside { path: PathBuf, roots: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Fs(#[from] FsError),
}

impl Roots {
    /// No confinement (the command line).
    pub fn anywhere() -> Roots {
        Roots(Vec::new())
    }

    /// Opens each directory once; each must exist.
    pub fn open(paths: &[PathBuf]) -> std::io::Result<Roots> {
        let mut roots = Vec::new();
        for given in paths {
            let path = expand_home(given).canonicalize()?;
            let dir = ProjectDir::open(&path)?;
            roots.push(Root { path, dir });
        }
        Ok(Roots(roots))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The roots, as a list for messages.
    pub fn describe(&self) -> String {
        self.0.iter().map(|r| r.path.display().to_string()).collect::<Vec<_>>().join(", ")
    }

    /// Opens the project `project` names (relative to the working directory; `~` is home).
    pub fn locate(&self, project: &str) -> Result<Location, LocateError> {
        let absolute = absolute(Path::new(project))?;
        if self.0.is_empty() {
            return locate_anywhere(&absolute);
        }
        let canonical = canonical(&absolute)?;
        for root in &self.0 {
            let Ok(rest) = canonical.strip_prefix(&root.path) else { continue };
            return locate_beneath(root, rest, &absolute);
        }
        Err(LocateError::Outside { path: absolute, roots: self.describe() })
    }
}

impl Location {
    /// The project's path as the request named it (absolute), for reports.
    pub fn path(&self) -> &Path {
        match self {
            Location::Existing(dir) => dir.path(),
            Location::New { path, .. } => path,
        }
    }

    /// The directory, when it exists.
    pub fn dir(&self) -> Option<&ProjectDir> {
        match self {
            Location::Existing(dir) => Some(dir),
            Location::New { .. } => None,
        }
    }

    /// Whether this user may write there (the directory, or the parent it would be made in).
    pub fn writable(&self) -> bool {
        match self {
            Location::Existing(dir) | Location::New { parent: dir, .. } => dir.writable(),
        }
    }
}

fn absolute(project: &Path) -> Result<PathBuf, LocateError> {
    let cwd = std::env::current_dir().map_err(|source| LocateError::Io { path: ".".into(), source })?;
    Ok(cwd.join(expand_home(project)))
}

/// The last component as a name a directory can be made with (not `.`, `..` or `/`).
fn new_name(path: &Path) -> Option<String> {
    match path.components().next_back()? {
        Component::Normal(name) => name.to_str().map(str::to_owned),
        _ => None,
    }
}

fn locate_anywhere(absolute: &Path) -> Result<Location, LocateError> {
    let io = |source: std::io::Error| LocateError::Io { path: absolute.to_path_buf(), source };
    match ProjectDir::open(absolute) {
        Ok(dir) => Ok(Location::Existing(dir)),
        Err(e) if e.raw_os_error() == Some(Errno::NOTDIR.raw_os_error()) && absolute.exists() => {
            Err(LocateError::NotADirectory { path: absolute.to_path_buf() })
        }
        Err(e) if matches!(e.raw_os_error(), Some(c) if c == Errno::NOENT.raw_os_error() || c == Errno::NOTDIR.raw_os_error()) =>
        {
            let (Some(parent), Some(name)) = (absolute.parent(), new_name(absolute)) else {
                return Err(LocateError::Missing { path: absolute.to_path_buf() });
            };
            match ProjectDir::open(parent) {
                Ok(parent) => Ok(Location::New { parent, name, path: absolute.to_path_buf() }),
                Err(e) if e.raw_os_error() == Some(Errno::NOTDIR.raw_os_error()) && parent.is_file() => {
                    Err(LocateError::NotADirectory { path: parent.to_path_buf() })
                }
                Err(e) if matches!(e.raw_os_error(), Some(c) if c == Errno::NOENT.raw_os_error() || c == Errno::NOTDIR.raw_os_error()) => {
                    Err(LocateError::Missing { path: absolute.to_path_buf() })
                }
                Err(e) => Err(io(e)),
            }
        }
        Err(e) => Err(io(e)),
    }
}

/// `absolute` with symbolic links resolved as far as it exists (only to find which root it lies
/// in: the project itself is then opened beneath that root's handle).
fn canonical(absolute: &Path) -> Result<PathBuf, LocateError> {
    if let Ok(path) = absolute.canonicalize() {
        return Ok(path);
    }
    match (absolute.parent().map(Path::canonicalize), new_name(absolute)) {
        (Some(Ok(parent)), Some(name)) => Ok(parent.join(name)),
        _ => Err(LocateError::Missing { path: absolute.to_path_buf() }),
    }
}

fn locate_beneath(root: &Root, rest: &Path, shown: &Path) -> Result<Location, LocateError> {
    let Some(rest) = rest.to_str().filter(|r| !r.is_empty()) else {
        return Ok(Location::Existing(root.dir.try_clone()?));
    };
    let rel = RelPath::parse(rest).map_err(|_| LocateError::Missing { path: shown.to_path_buf() })?;
    match root.dir.open_subdir(&rel, true) {
        Ok(dir) => return Ok(Location::Existing(dir)),
        Err(e) if !missing(&e) => {
            if matches!(e, FsError::Io { ref source, .. } if source.raw_os_error() == Some(Errno::NOTDIR.raw_os_error()))
            {
                return Err(LocateError::NotADirectory { path: shown.to_path_buf() });
            }
            return Err(e.into());
        }
        Err(_) => {}
    }
    let name = rel.name().to_owned();
    let parent = match rel.parent() {
        None => root.dir.try_clone()?,
        Some(parent) => match root.dir.open_subdir(&parent, true) {
            Ok(dir) => dir,
            Err(e) if missing(&e) => return Err(LocateError::Missing { path: shown.to_path_buf() }),
            Err(e) => return Err(e.into()),
        },
    };
    Ok(Location::New { parent, name, path: shown.to_path_buf() })
}

/// An exclusive lock on a project, held while a run plans and writes, so that two runs on one
/// project never interleave: the second waits for the first (`flock` on the directory's handle).
#[derive(Debug)]
pub struct ProjectLock {
    _held: Vec<ProjectDir>,
    /// A new project made by this lock, removed again on drop if it is still empty.
    made: Option<(ProjectDir, String)>,
}

/// Locks the project (waiting up to [`lock_wait`] for another run on it) and opens it. A new
/// project's parent is locked first, then the directory is made (a run that comes later then
/// locks it too), and both are held.
pub fn lock(location: Location) -> Result<(ProjectDir, ProjectLock), crate::Error> {
    match location {
        Location::Existing(dir) => {
            let held = wait_for_lock(&dir)?;
            Ok((dir, ProjectLock { _held: vec![held], made: None }))
        }
        Location::New { parent, name, path } => {
            let held_parent = wait_for_lock(&parent)?;
            let rel = RelPath::parse(&name).map_err(|_| LocateError::Missing { path: path.clone() })?;
            let top = parent.dir(None)?;
            let made = match top.mkdir(&name) {
                Ok(()) => true,
                Err(e) if e.raw_os_error() == Some(Errno::EXIST.raw_os_error()) => false,
                Err(e) => return Err(e.into()),
            };
            let dir = parent.open_subdir(&rel, false)?;
            let held = wait_for_lock(&dir)?;
            let made = made.then_some((parent, name));
            Ok((dir, ProjectLock { _held: vec![held_parent, held], made }))
        }
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        if let Some((parent, name)) = &self.made
            && let Ok(top) = parent.dir(None)
        {
            let _ = top.remove_dir(name);
        }
    }
}

/// How long a run waits for another run on the same project before giving up: 30 s, or
/// `SKILLRUN_LOCK_TIMEOUT` seconds.
pub fn lock_wait() -> Duration {
    let seconds = std::env::var("SKILLRUN_LOCK_TIMEOUT").ok().and_then(|v| v.parse::<f64>().ok());
    Duration::from_secs_f64(seconds.filter(|s| s.is_finite() && *s >= 0.0).unwrap_or(30.0))
}

fn wait_for_lock(dir: &ProjectDir) -> Result<ProjectDir, crate::Error> {
    use rustix::fs::FlockOperation;
    // A description of its own: a lock through a shared one would outlive the run (and two runs
    // in one process sharing it would not exclude each other).
    let held = dir.reopen()?;
    let deadline = Instant::now() + lock_wait();
    let mut told = false;
    loop {
        match rustix::fs::flock(held.fd(), FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(held),
            Err(Errno::WOULDBLOCK) if Instant::now() < deadline => {
                if !told {
                    tracing::info!(path = %dir.path().display(), "another run is writing to this project; waiting");
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(Errno::WOULDBLOCK) => return Err(crate::Error::Busy { path: dir.path().to_path_buf() }),
            Err(e) => return Err(crate::Error::io(dir.path(), e.into())),
        }
    }
}
