//! A project is hostile ground: repositories cloned from strangers carrying a `.skillrun/` of
//! their own, directories swapped for symbolic links while runs go on, FIFOs and devices where
//! files should be, signals in the middle of an apply in every mode. Whatever happens, nothing
//! outside the project (or outside `--root`) is read, written or removed, and a project is never
//! left half-written.

mod defaults;
mod journal;
mod races;
mod signals;
mod special_files;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::BIN;

/// A directory outside every project of a test, holding a file that must never change.
pub struct Outside {
    pub dir: tempfile::TempDir,
}

impl Outside {
    pub fn new() -> Outside {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("victim.txt"), "precious\n").unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        Outside { dir }
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    /// Panics unless the directory holds exactly what `new` put there.
    #[track_caller]
    pub fn check_untouched(&self, what: &str) {
        let mut names: Vec<String> = walk(self.path());
        names.sort();
        assert_eq!(names, ["app/", "victim.txt"], "{what}: something was written outside");
        assert_eq!(std::fs::read_to_string(self.path().join("victim.txt")).unwrap(), "precious\n", "{what}");
    }
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for item in std::fs::read_dir(&at).unwrap().flatten() {
            let path = item.path();
            let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if item.file_type().unwrap().is_dir() {
                out.push(format!("{rel}/"));
                stack.push(path);
            } else {
                out.push(rel);
            }
        }
    }
    out
}

/// `skillrun ARGS` run from `cwd` with `env`, killed (and the test failed) if it runs for more
/// than a minute: a run must never block on what it finds in a project.
pub fn run_bounded(args: &[&str], cwd: &Path, env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .current_dir(cwd)
        .env_remove("SKILLRUN_SKILLS_DIR")
        .env_remove("SKILLRUN_LANG")
        .env_remove("RUST_LOG")
        .env("LANG", "C")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => {
            let out = out.unwrap();
            let code = out.status.code().unwrap_or(-1);
            (code, String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
        }
        Err(_) => {
            // SAFETY: kill(2) on a child of this test.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
            panic!("skillrun {args:?} was still running after a minute: it blocked");
        }
    }
}

/// The input of a database-setup run on `project` with `url`.
pub fn input(project: &Path, url: &str) -> String {
    serde_json::json!({"projectPath": project, "databaseUrl": url}).to_string()
}

/// Every file and directory under `dir` with its content, for before/after comparisons.
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for rel in walk(dir) {
        let path = dir.join(rel.trim_end_matches('/'));
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let content = if meta.file_type().is_symlink() {
            std::fs::read_link(&path).unwrap().to_string_lossy().as_bytes().to_vec()
        } else if meta.is_file() {
            std::fs::read(&path).unwrap()
        } else {
            Vec::new()
        };
        out.push((rel, content));
    }
    out.sort();
    out
}

/// `git ARGS` in `dir`, which must succeed.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "init.defaultBranch=main"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Polls until `path` exists (a run has reached that point), for at most a minute.
pub fn wait_for(path: &Path) {
    let started = Instant::now();
    while !path.exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(2));
    }
}
