//! The project as a directory handle: every file operation skillrun makes on a project (plan
//! reads, the lock, staging, renames, backups, the journal, recovery, the answers file) goes
//! through one [`ProjectDir`], a directory descriptor opened once, and resolves each
//! [`RelPath`] beneath it without following a symbolic link in any component (`..` cannot even
//! be written). On Linux that is one `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` call; where
//! `openat2` is missing (an old kernel, a seccomp filter, another Unix) it is one
//! `openat(O_NOFOLLOW)` per component, each relative to the descriptor of the one before. A path
//! string is never resolved again from the top, so a directory or a parent swapped for a symbolic
//! link at any moment of a run cannot send a read, a write, a rename or a delete outside.
//!
//! Renames, deletes, links and new directories act on a name inside a [`Dir`], itself opened
//! beneath the handle; the final name of such a call is never followed (POSIX). Reads take
//! regular files only: a FIFO, socket or device is refused after an `O_PATH` look, before it is
//! opened for reading, and a read is bounded in size.
//!
//! Built on `rustix` (the Bytecode Alliance's safe system-call crate that `cap-std` itself stands
//! on): `cap-std` would do, but it follows symbolic links that stay inside its directory, and a
//! project must not have its files moved under it through a link.

use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::paths::RelPath;

/// The largest file a plan reads from a project (a user's `pyproject.toml`, `.gitignore`, ...).
pub const MAX_READ_BYTES: u64 = 8 * 1024 * 1024;

/// A file operation inside a project that cannot be done, and why.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    #[error(
        "{path}: `{link}` is a symbolic link; skillrun never follows a link inside a project (it could lead anywhere): replace it with the real file or directory, then run again"
    )]
    Symlink { path: String, link: String },
    #[error("{path} is a {kind}, not a regular file; move it away, then run again")]
    NotRegular { path: String, kind: &'static str },
    #[error("{path}: `{parent}` is a file, where a directory is needed")]
    NotADirectory { path: String, parent: String },
    #[error("{path} is a directory, where a file is needed")]
    IsADirectory { path: String },
    #[error("{path} is larger than {limit} bytes; skillrun reads no file that large")]
    TooLarge { path: String, limit: u64 },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

impl FsError {
    fn io(path: impl std::fmt::Display, errno: Errno) -> Self {
        FsError::Io { path: path.to_string(), source: errno.into() }
    }
    /// The OS error behind an I/O failure, if that is what it is.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            FsError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

/// What kind of file a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Fifo,
    Socket,
    Device,
}

impl Kind {
    fn of(mode: rustix::fs::RawMode) -> Kind {
        match FileType::from_raw_mode(mode) {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Symlink,
            FileType::Fifo => Kind::Fifo,
            FileType::Socket => Kind::Socket,
            _ => Kind::Device,
        }
    }
    fn describe(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Dir => "directory",
            Kind::Symlink => "symbolic link",
            Kind::Fifo => "FIFO (named pipe)",
            Kind::Socket => "socket",
            Kind::Device => "device",
        }
    }
}

/// What `stat` says of a name (the name itself: a link is not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    pub kind: Kind,
    /// Permission bits (`0o7777`).
    pub mode: u32,
    pub size: u64,
    pub dev: u64,
    pub ino: u64,
}

impl Meta {
    fn from(stat: &rustix::fs::Stat) -> Meta {
        #[allow(clippy::unnecessary_cast)]
        Meta {
            kind: Kind::of(stat.st_mode as _),
            mode: stat.st_mode as u32 & 0o7777,
            size: stat.st_size as u64,
            dev: stat.st_dev as u64,
            ino: stat.st_ino as u64,
        }
    }
}

/// A project's directory, opened once. Every path given to it is a [`RelPath`] resolved beneath it.
#[derive(Debug)]
pub struct ProjectDir {
    fd: OwnedFd,
    /// How the directory was named, for messages only: never resolved again.
    path: PathBuf,
}

/// A directory inside a project, opened beneath its [`ProjectDir`]: the place where names are
/// created, renamed, linked and removed.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    /// Its path in the project (`""` for the top), for messages.
    rel: String,
}

/// Whether this kernel (and its seccomp filter) offers `openat2`, probed once; without it,
/// resolution walks component by component. In a debug build `SKILLRUN_NO_OPENAT2=1` forces the
/// walk, so the tests prove both ways.
fn use_openat2() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        #[cfg(debug_assertions)]
        if std::env::var_os("SKILLRUN_NO_OPENAT2").is_some_and(|v| v == "1") {
            return false;
        }
        probe_openat2()
    })
}

#[cfg(target_os = "linux")]
fn probe_openat2() -> bool {
    use rustix::fs::ResolveFlags;
    let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
    !matches!(
        rustix::fs::openat2(rustix::fs::CWD, ".", flags, Mode::empty(), ResolveFlags::BENEATH),
        Err(Errno::NOSYS | Errno::PERM)
    )
}

#[cfg(not(target_os = "linux"))]
fn probe_openat2() -> bool {
    false
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC
}

impl ProjectDir {
    /// Opens the directory `path` names (a symbolic link in `path` itself is followed: the
    /// caller named it). Fails when it is not a directory.
    pub fn open(path: &Path) -> std::io::Result<ProjectDir> {
        let fd = rustix::fs::openat(rustix::fs::CWD, path, dir_flags(), Mode::empty())?;
        Ok(ProjectDir { fd, path: path.to_path_buf() })
    }

    /// The directory `rel` beneath this one as a handle of its own. When `links_inside` is set,
    /// symbolic links are followed as long as they stay beneath this directory (the way from an
    /// allowed root to a project); otherwise none is.
    pub fn open_subdir(&self, rel: &RelPath, links_inside: bool) -> Result<ProjectDir, FsError> {
        let fd = if links_inside {
            self.open_beneath_following(rel)?
        } else {
            self.resolve(rel, dir_flags(), Mode::empty())?
        };
        Ok(ProjectDir { fd, path: self.path.join(rel.as_str()) })
    }

    /// Makes the directory `name` here (mode 0755 less the umask) and opens it.
    pub fn create_subdir(&self, name: &RelPath) -> Result<ProjectDir, FsError> {
        let top = self.dir(None)?;
        top.mkdir(name.as_str())?;
        self.open_subdir(name, false)
    }

    /// A second handle on the same open directory (a lock taken through one holds for both).
    pub fn try_clone(&self) -> Result<ProjectDir, FsError> {
        let fd = rustix::io::fcntl_dupfd_cloexec(&self.fd, 0).map_err(|e| FsError::io(self.path.display(), e))?;
        Ok(ProjectDir { fd, path: self.path.clone() })
    }

    /// A new open file description of the same directory (`openat(fd, ".")`), where
    /// [`ProjectDir::try_clone`] shares one: a `flock` taken through it is its own, released when
    /// it is dropped, whatever other handles of the directory live on (a server's roots do).
    pub fn reopen(&self) -> Result<ProjectDir, FsError> {
        let fd = rustix::fs::openat(&self.fd, ".", dir_flags(), Mode::empty())
            .map_err(|e| FsError::io(self.path.display(), e))?;
        Ok(ProjectDir { fd, path: self.path.clone() })
    }

    /// How the directory was named (for messages; never used to reach it).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The descriptor, for `flock`, `fchdir` (a child process started in the project) and `fsync`.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The directory's own `stat`.
    pub fn meta(&self) -> Result<Meta, FsError> {
        rustix::fs::fstat(&self.fd).map(|s| Meta::from(&s)).map_err(|e| FsError::io(self.path.display(), e))
    }

    /// The name `rel`, not followed if it is a link; `None` when it does not exist.
    pub fn stat(&self, rel: &RelPath) -> Result<Option<Meta>, FsError> {
        let (dir, name) = match self.parent_of(rel) {
            Ok(found) => found,
            Err(e) if missing(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        dir.stat(name)
    }

    /// The content of the regular file `rel`, or `None` when nothing is there. A directory,
    /// a link, a FIFO, a socket or a device there is an error, as is a file over `limit` bytes.
    pub fn read(&self, rel: &RelPath, limit: u64) -> Result<Option<Vec<u8>>, FsError> {
        // A look through O_PATH opens nothing: a FIFO is not waited on, a device not touched.
        let look = match self.resolve(rel, OFlags::PATH | OFlags::CLOEXEC | OFlags::NOFOLLOW, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) if missing(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = rustix::fs::fstat(&look).map(|s| Meta::from(&s)).map_err(|e| FsError::io(rel, e))?;
        check_regular(rel, meta.kind)?;
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let fd = match self.resolve(rel, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) if missing(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        let now = rustix::fs::fstat(&fd).map(|s| Meta::from(&s)).map_err(|e| FsError::io(rel, e))?;
        check_regular(rel, now.kind)?;
        read_bounded(std::fs::File::from(fd), rel, limit).map(Some)
    }

    /// The names in directory `rel` (the top when `None`) with their kinds, sorted; `None` when
    /// it does not exist.
    pub fn list(&self, rel: Option<&RelPath>) -> Result<Option<Vec<(String, Kind)>>, FsError> {
        let dir = match self.dir(rel) {
            Ok(dir) => dir,
            Err(e) if missing(&e) => return Ok(None),
            Err(e) => return Err(e),
        };
        dir.list().map(Some)
    }

    /// The directory `rel` (the top when `None`), opened for `*at` operations on its names.
    pub fn dir(&self, rel: Option<&RelPath>) -> Result<Dir, FsError> {
        match rel {
            None => {
                let fd = rustix::io::fcntl_dupfd_cloexec(&self.fd, 0).map_err(|e| FsError::io("", e))?;
                Ok(Dir { fd, rel: String::new() })
            }
            Some(rel) => Ok(Dir { fd: self.resolve(rel, dir_flags(), Mode::empty())?, rel: rel.to_string() }),
        }
    }

    /// The directory holding `rel`, and `rel`'s last name.
    pub fn parent_of<'a>(&self, rel: &'a RelPath) -> Result<(Dir, &'a str), FsError> {
        Ok((self.dir(rel.parent().as_ref())?, rel.name()))
    }

    /// Whether this user may create and replace files here (`faccessat`: permissions,
    /// read-only mounts). `true` when the kernel cannot say.
    pub fn writable(&self) -> bool {
        match rustix::fs::accessat(
            &self.fd,
            ".",
            rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK,
            AtFlags::empty(),
        ) {
            Ok(()) => true,
            Err(Errno::ACCESS | Errno::ROFS | Errno::PERM) => false,
            Err(_) => true,
        }
    }

    /// Opens `rel` beneath the handle with `flags`; no symbolic link is followed anywhere.
    fn resolve(&self, rel: &RelPath, flags: OFlags, mode: Mode) -> Result<OwnedFd, FsError> {
        let result = if use_openat2() { self.openat2(rel, flags, mode, true) } else { self.walk(rel, flags, mode) };
        result.map_err(|errno| self.explain(rel, errno))
    }

    /// One `openat2` beneath the handle; `no_links`: follow no link at all, else only links that
    /// stay beneath.
    #[cfg(target_os = "linux")]
    fn openat2(&self, rel: &RelPath, flags: OFlags, mode: Mode, no_links: bool) -> Result<OwnedFd, Errno> {
        use rustix::fs::ResolveFlags;
        let mut how = ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS;
        if no_links {
            how |= ResolveFlags::NO_SYMLINKS;
        }
        let mut result = Err(Errno::AGAIN);
        for _ in 0..16 {
            result = rustix::fs::openat2(&self.fd, rel.as_str(), flags, mode, how);
            // EAGAIN: the kernel saw a rename or mount race during resolution: look again.
            if !matches!(result, Err(Errno::AGAIN)) {
                break;
            }
        }
        result
    }

    #[cfg(not(target_os = "linux"))]
    fn openat2(&self, rel: &RelPath, flags: OFlags, mode: Mode, _: bool) -> Result<OwnedFd, Errno> {
        self.walk(rel, flags, mode)
    }

    /// One `openat(O_NOFOLLOW)` per component, each relative to the one before.
    fn walk(&self, rel: &RelPath, flags: OFlags, mode: Mode) -> Result<OwnedFd, Errno> {
        let mut names: Vec<&str> = rel.components().collect();
        let last = names.pop().expect("a path has a name");
        let mut current: Option<OwnedFd> = None;
        for name in names {
            let at = current.as_ref().map_or(self.fd.as_fd(), |fd| fd.as_fd());
            current = Some(rustix::fs::openat(at, name, dir_flags() | OFlags::NOFOLLOW, Mode::empty())?);
        }
        let at = current.as_ref().map_or(self.fd.as_fd(), |fd| fd.as_fd());
        let fd = rustix::fs::openat(at, last, flags | OFlags::NOFOLLOW, mode)?;
        // O_PATH | O_NOFOLLOW opens a link itself rather than failing: refuse it here too.
        if flags.contains(OFlags::PATH)
            && rustix::fs::fstat(&fd).is_ok_and(|s| Kind::of(s.st_mode as _) == Kind::Symlink)
        {
            return Err(Errno::LOOP);
        }
        Ok(fd)
    }

    /// An errno from resolving `rel`, in words: which component is a link or a file.
    fn explain(&self, rel: &RelPath, errno: Errno) -> FsError {
        if matches!(errno, Errno::LOOP | Errno::NOTDIR | Errno::XDEV) {
            // Find the component that stopped the resolution (for the message only).
            let mut at = String::new();
            for name in rel.components() {
                if !at.is_empty() {
                    at.push('/');
                }
                at.push_str(name);
                let here = RelPath::parse(&at).expect("a prefix of a RelPath");
                match self.stat_walk(&here) {
                    Some(Kind::Symlink) => return FsError::Symlink { path: rel.to_string(), link: at },
                    Some(Kind::Dir) => {}
                    Some(_) if at != rel.as_str() => {
                        return FsError::NotADirectory { path: rel.to_string(), parent: at };
                    }
                    _ => break,
                }
            }
        }
        FsError::io(rel, errno)
    }

    /// The kind of `rel` found by the component walk (for messages).
    fn stat_walk(&self, rel: &RelPath) -> Option<Kind> {
        let fd = self.walk(rel, OFlags::PATH | OFlags::CLOEXEC, Mode::empty());
        match fd {
            Ok(fd) => rustix::fs::fstat(&fd).ok().map(|s| Kind::of(s.st_mode as _)),
            Err(Errno::LOOP) => Some(Kind::Symlink),
            Err(_) => None,
        }
    }

    /// Opens `rel` as a directory beneath the handle, following links that stay beneath it
    /// (without openat2 the kernel cannot keep a link beneath, so then none is followed).
    fn open_beneath_following(&self, rel: &RelPath) -> Result<OwnedFd, FsError> {
        let result = if use_openat2() {
            self.openat2(rel, dir_flags(), Mode::empty(), false)
        } else {
            self.walk(rel, dir_flags(), Mode::empty())
        };
        result.map_err(|e| self.explain(rel, e))
    }
}

fn check_regular(rel: &RelPath, kind: Kind) -> Result<(), FsError> {
    match kind {
        Kind::File => Ok(()),
        Kind::Symlink => Err(FsError::Symlink { path: rel.to_string(), link: rel.to_string() }),
        Kind::Dir => Err(FsError::IsADirectory { path: rel.to_string() }),
        other => Err(FsError::NotRegular { path: rel.to_string(), kind: other.describe() }),
    }
}

fn read_bounded(file: std::fs::File, rel: &impl std::fmt::Display, limit: u64) -> Result<Vec<u8>, FsError> {
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|source| FsError::Io { path: rel.to_string(), source })?;
    if bytes.len() as u64 > limit {
        return Err(FsError::TooLarge { path: rel.to_string(), limit });
    }
    Ok(bytes)
}

/// Whether an error only says that something does not exist (a name, or a directory on its way).
pub fn missing(error: &FsError) -> bool {
    matches!(error, FsError::Io { source, .. } if source.raw_os_error() == Some(Errno::NOENT.raw_os_error()))
}

impl Dir {
    /// The directory's path in the project (`""` for the top).
    pub fn rel(&self) -> &str {
        &self.rel
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn shown(&self, name: &str) -> String {
        if self.rel.is_empty() { name.to_owned() } else { format!("{}/{name}", self.rel) }
    }

    /// The names in this directory with their kinds (links not followed), sorted.
    pub fn list(&self) -> Result<Vec<(String, Kind)>, FsError> {
        let shown = if self.rel.is_empty() { "." } else { &self.rel };
        let mut out = Vec::new();
        let entries = rustix::fs::Dir::read_from(&self.fd).map_err(|e| FsError::io(shown, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| FsError::io(shown, e))?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let name = String::from_utf8_lossy(name).into_owned();
            let kind = match entry.file_type() {
                FileType::Unknown => self.stat(&name)?.map_or(Kind::File, |m| m.kind),
                t => Kind::of(t.as_raw_mode()),
            };
            out.push((name, kind));
        }
        out.sort();
        Ok(out)
    }

    /// The name, not followed; `None` when it does not exist.
    pub fn stat(&self, name: &str) -> Result<Option<Meta>, FsError> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(Meta::from(&stat))),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(FsError::io(self.shown(name), e)),
        }
    }

    /// Creates the file `name`, which must not exist (not even as a link), with `mode`, and
    /// writes `bytes` to it. The file is returned open, to be flushed by the caller.
    pub fn create_file(&self, name: &str, bytes: &[u8], mode: u32) -> Result<std::fs::File, FsError> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&self.fd, name, flags, Mode::from_raw_mode(mode as _))
            .map_err(|e| FsError::io(self.shown(name), e))?;
        // The umask may have taken bits away; the mode asked for is the mode wanted.
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode as _)).map_err(|e| FsError::io(self.shown(name), e))?;
        let mut file = std::fs::File::from(fd);
        file.write_all(bytes).map_err(|source| FsError::Io { path: self.shown(name), source })?;
        Ok(file)
    }

    /// The regular file `name` (not followed), bounded by `limit`; `None` when absent.
    pub fn read(&self, name: &str, limit: u64) -> Result<Option<Vec<u8>>, FsError> {
        let shown = self.shown(name);
        match self.stat(name)? {
            None => return Ok(None),
            Some(meta) if meta.kind != Kind::File => {
                return Err(FsError::NotRegular { path: shown, kind: meta.kind.describe() });
            }
            Some(_) => {}
        }
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let fd = match rustix::fs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => return Err(FsError::io(&shown, e)),
        };
        let kind = rustix::fs::fstat(&fd).map(|s| Kind::of(s.st_mode as _)).map_err(|e| FsError::io(&shown, e))?;
        if kind != Kind::File {
            return Err(FsError::NotRegular { path: shown, kind: kind.describe() });
        }
        read_bounded(std::fs::File::from(fd), &shown, limit).map(Some)
    }

    /// Renames `from` here to `to` in `dir` (replacing what is there; neither name is followed).
    pub fn rename(&self, from: &str, dir: &Dir, to: &str) -> Result<(), FsError> {
        rustix::fs::renameat(&self.fd, from, &dir.fd, to).map_err(|e| FsError::io(dir.shown(to), e))
    }

    /// A second name `to` in `dir` for the file `from` here (a hard link; `from` is not followed).
    pub fn link(&self, from: &str, dir: &Dir, to: &str) -> Result<(), FsError> {
        rustix::fs::linkat(&self.fd, from, &dir.fd, to, AtFlags::empty()).map_err(|e| FsError::io(dir.shown(to), e))
    }

    /// Removes the name `name` (a file or a link; never what a link points to).
    pub fn remove_file(&self, name: &str) -> Result<(), FsError> {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::empty()).map_err(|e| FsError::io(self.shown(name), e))
    }

    /// Removes the empty directory `name`.
    pub fn remove_dir(&self, name: &str) -> Result<(), FsError> {
        rustix::fs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR).map_err(|e| FsError::io(self.shown(name), e))
    }

    /// Makes the directory `name` (mode 0755 less the umask).
    pub fn mkdir(&self, name: &str) -> Result<(), FsError> {
        rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o755)).map_err(|e| FsError::io(self.shown(name), e))
    }

    /// The subdirectory `name`, not followed if it is a link.
    pub fn subdir(&self, name: &str) -> Result<Dir, FsError> {
        let fd = rustix::fs::openat(&self.fd, name, dir_flags() | OFlags::NOFOLLOW, Mode::empty())
            .map_err(|e| FsError::io(self.shown(name), e))?;
        Ok(Dir { fd, rel: self.shown(name) })
    }

    /// Whether this process may write the file `name` (permissions, immutable attributes).
    pub fn may_write(&self, name: &str) -> bool {
        !matches!(
            rustix::fs::accessat(&self.fd, name, rustix::fs::Access::WRITE_OK, AtFlags::SYMLINK_NOFOLLOW),
            Err(Errno::ACCESS | Errno::ROFS | Errno::PERM)
        )
    }

    /// Flushes the directory's entries (names made, renamed or removed in it) to disk.
    pub fn sync(&self) -> Result<(), FsError> {
        rustix::fs::fsync(&self.fd).map_err(|e| FsError::io(if self.rel.is_empty() { "." } else { &self.rel }, e))
    }
}

/// Turns a path a user typed into bytes the kernel takes (`~` is the home directory).
pub fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}
