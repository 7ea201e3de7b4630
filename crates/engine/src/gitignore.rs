//! Would git commit this file? Decided the way git decides, for the state a plan will leave: a
//! tracked file is always committed; otherwise the ignore rules apply in git's order — the
//! `.gitignore` of each directory from the file's own up to the repository's top (deeper first),
//! then `$GIT_DIR/info/exclude`, then `core.excludesFile` — where the last matching line of the
//! first file with one decides (a `!pattern` re-includes), and a file inside an excluded directory
//! stays excluded whatever re-includes it. The patterns are matched by the `ignore` crate's
//! gitignore matcher (ripgrep's); `.gitignore` files inside the project come from the caller (the
//! plan's content when it writes them), so a `.gitignore` line the same run adds counts.
//!
//! git itself is asked only what cannot be read from files: whether it tracks the file, and its
//! configuration (`core.excludesFile`, `core.ignoreCase`), through [`crate::git::hardened`],
//! which keeps a repository from choosing what runs.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::trigger::Lang;

/// What git would do with a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The project is in no git repository.
    NoRepository,
    /// git ignores it: `git add` leaves it out.
    Ignored,
    /// git tracks it already; ignore rules do not apply to a tracked file.
    Tracked,
    /// git would add it: no rule ignores it, or `rule` (a `!pattern`) re-includes it.
    NotIgnored { rule: Option<Rule> },
    /// git is installed but could not answer (it failed or took too long).
    Unknown { why: String },
}

/// The ignore rule that decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The line as written (`!.env`).
    pub pattern: String,
    /// The file it is in: relative to the repository's top when inside it, else absolute.
    pub source: String,
    /// 1-based.
    pub line: usize,
}

impl Verdict {
    /// Why a file that holds secrets must not be left at `rel` with this verdict, in `lang`;
    /// `None` when git would not commit it.
    pub fn conflict(&self, rel: &str, lang: Lang) -> Option<String> {
        let say = lang.say();
        Some(match self {
            Verdict::NoRepository | Verdict::Ignored => return None,
            Verdict::Tracked => say.git_tracked(rel),
            Verdict::NotIgnored { rule: Some(r) } => say.git_reincluded(rel, &r.pattern, &r.source, r.line),
            Verdict::NotIgnored { rule: None } => say.git_not_ignored(rel),
            Verdict::Unknown { why } => say.git_unknown(rel, why),
        })
    }
}

/// Whether git would commit `rel` (a `/`-separated path relative to the project directory
/// `root`, a canonical path that may not exist yet). `project_file` gives the content a
/// project-relative file will have once the plan is applied (`None`: there is none); it is asked
/// for the `.gitignore` of each directory from the project down to `rel`'s. Files outside the
/// project (`.gitignore`s between the repository's top and the project, `info/exclude`, the
/// excludes file) are read here, each bounded in size and never from a FIFO or device.
pub fn check(root: &Path, rel: &str, project_file: &mut dyn FnMut(&str) -> Option<Vec<u8>>) -> Verdict {
    let Some(repo) = Repository::find(root) else { return Verdict::NoRepository };
    let Ok(project) = root.strip_prefix(&repo.top) else { return Verdict::NoRepository };
    let project: Vec<String> = project.iter().map(|c| c.to_string_lossy().into_owned()).collect();
    let mut path: Vec<String> = project.clone();
    path.extend(rel.split('/').filter(|c| !c.is_empty()).map(str::to_owned));
    let from_top = path.join("/");

    let config = match repo.config() {
        Ok(config) => config,
        Err(why) => return Verdict::Unknown { why },
    };
    match repo.tracked(&from_top) {
        Ok(true) => return Verdict::Tracked,
        Ok(false) => {}
        Err(why) => return Verdict::Unknown { why },
    }

    // The pattern files, by precedence: the `.gitignore`s met on the walk down from the top,
    // deepest first; then info/exclude; then the excludes file.
    let fixed = [Some(repo.common_dir.join("info/exclude")), config.excludes_file.clone()]
        .into_iter()
        .flatten()
        .map(|file| {
            Patterns::parse(
                &repo.top,
                shown(&repo.top, &file),
                &read_bounded(&file, true).unwrap_or_default(),
                config.ignore_case,
            )
        })
        .collect::<Vec<_>>();
    let mut per_dir: Vec<Patterns> = Vec::new();
    for depth in 0..path.len() {
        let gitignore = |from: usize| {
            path[from..depth].iter().map(String::as_str).chain([".gitignore"]).collect::<Vec<_>>().join("/")
        };
        let content = if depth >= project.len() {
            project_file(&gitignore(project.len()))
        } else {
            read_bounded(&repo.top.join(gitignore(0)), false)
        };
        if let Some(content) = content {
            per_dir.push(Patterns::parse(
                &repo.top.join(path[..depth].join("/")),
                gitignore(0),
                &content,
                config.ignore_case,
            ));
        }
        // `path[..=depth]` is a directory (all but the last) or the file itself; an excluded
        // directory excludes everything in it, whatever re-includes it.
        let here = path[..=depth].join("/");
        let is_dir = depth + 1 < path.len();
        match per_dir.iter().rev().chain(&fixed).find_map(|p| p.decide(&repo.top, &here, is_dir)) {
            Some((true, _)) => return Verdict::Ignored,
            Some((false, rule)) if !is_dir => return Verdict::NotIgnored { rule: Some(rule) },
            _ => {}
        }
    }
    Verdict::NotIgnored { rule: None }
}

/// `file` as a message names it: relative to the repository's top when inside it.
fn shown(top: &Path, file: &Path) -> String {
    file.strip_prefix(top).unwrap_or(file).display().to_string()
}

/// One file of ignore patterns.
struct Patterns {
    matcher: Gitignore,
    /// The directory its patterns are relative to, relative to the repository's top (`""`).
    base: PathBuf,
    source: String,
    lines: Vec<String>,
}

impl Patterns {
    fn parse(base: &Path, source: String, content: &[u8], ignore_case: bool) -> Patterns {
        let text = String::from_utf8_lossy(content);
        let mut builder = GitignoreBuilder::new(base);
        let _ = builder.case_insensitive(ignore_case);
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        for line in &lines {
            // git skips a pattern it cannot read; so does this.
            let _ = builder.add_line(None, line);
        }
        let matcher = builder.build().unwrap_or_else(|_| Gitignore::empty());
        Patterns { matcher, base: base.to_path_buf(), source, lines }
    }

    /// `Some((ignored, rule))` when a line of this file matches `path` (relative to the
    /// repository's top, `top`): the last matching line decides.
    fn decide(&self, top: &Path, path: &str, is_dir: bool) -> Option<(bool, Rule)> {
        let relative = top.join(path);
        let relative = relative.strip_prefix(&self.base).ok()?;
        let (ignored, glob) = match self.matcher.matched(relative, is_dir) {
            Match::None => return None,
            Match::Ignore(glob) => (true, glob),
            Match::Whitelist(glob) => (false, glob),
        };
        let original = glob.original();
        let line = (self.lines.iter().rposition(|l| l.trim_end_matches(' ') == original))
            .or_else(|| self.lines.iter().rposition(|l| l.starts_with(original)))
            .map_or(0, |i| i + 1);
        Some((ignored, Rule { pattern: glob.original().to_owned(), source: self.source.clone(), line }))
    }
}

/// Where a repository is.
struct Repository {
    /// The working tree's top directory.
    top: PathBuf,
    /// `--git-dir`: `.git`, or where a `.git` file points (a worktree, a submodule).
    git_dir: PathBuf,
    /// Where `info/exclude` lives (a worktree shares its main repository's).
    common_dir: PathBuf,
}

/// What the repository's configuration says about ignoring.
struct Config {
    excludes_file: Option<PathBuf>,
    ignore_case: bool,
}

impl Repository {
    /// The repository holding `dir` (which may not exist yet), found as git finds it: the nearest
    /// ancestor with a `.git` directory or `.git` file that leads to a git directory.
    fn find(dir: &Path) -> Option<Repository> {
        for top in dir.ancestors() {
            let dot_git = top.join(".git");
            let Ok(meta) = std::fs::symlink_metadata(&dot_git) else { continue };
            let git_dir = if meta.is_dir() {
                dot_git
            } else if meta.is_file() {
                let text = read_bounded(&dot_git, false)?;
                let text = String::from_utf8_lossy(&text);
                top.join(text.strip_prefix("gitdir:")?.trim())
            } else {
                continue;
            };
            if !git_dir.join("HEAD").exists() {
                continue;
            }
            let common_dir = read_bounded(&git_dir.join("commondir"), false)
                .map(|c| git_dir.join(String::from_utf8_lossy(&c).trim()))
                .unwrap_or_else(|| git_dir.clone());
            return Some(Repository { top: top.to_path_buf(), git_dir, common_dir });
        }
        None
    }

    /// `core.excludesFile` (default `$XDG_CONFIG_HOME/git/ignore`) and `core.ignoreCase`, from
    /// git; without git, from the global configuration files as the `ignore` crate reads them.
    fn config(&self) -> Result<Config, String> {
        let out = match self.run(&["config", "-z", "--type=path", "--get-regexp", r"^core\.(excludesfile|ignorecase)$"])
        {
            Err(GitError::Missing) => {
                return Ok(Config { excludes_file: ignore::gitignore::gitconfig_excludes_path(), ignore_case: false });
            }
            Err(GitError::Failed(why)) => return Err(why),
            Ok((1, _)) => Vec::new(), // none set
            Ok((0, out)) => out,
            Ok((code, _)) => return Err(format!("`git config` exited with {code}")),
        };
        let mut config = Config { excludes_file: None, ignore_case: false };
        for entry in out.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            let entry = String::from_utf8_lossy(entry);
            let (key, value) = entry.split_once('\n').unwrap_or((&entry, ""));
            match key {
                "core.excludesfile" => config.excludes_file = Some(self.top.join(value)),
                "core.ignorecase" => config.ignore_case = value == "true",
                _ => {}
            }
        }
        if config.excludes_file.is_none() {
            let xdg = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()).map(PathBuf::from);
            let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config"));
            config.excludes_file = xdg.or(home).map(|c| c.join("git/ignore"));
        }
        Ok(config)
    }

    /// Whether git tracks `path` (relative to the top); without git, taken as not.
    fn tracked(&self, path: &str) -> Result<bool, String> {
        match self.run(&["--literal-pathspecs", "ls-files", "--error-unmatch", "--", path]) {
            Ok((0, _)) => Ok(true),
            Ok((1, _)) | Err(GitError::Missing) => Ok(false),
            Ok((code, _)) => Err(format!("`git ls-files` exited with {code}")),
            Err(GitError::Failed(why)) => Err(why),
        }
    }

    fn run(&self, args: &[&str]) -> Result<(i32, Vec<u8>), GitError> {
        let mut cmd = git(&self.git_dir, &self.top);
        cmd.args(args);
        run_bounded(cmd, GIT_TIMEOUT)
    }
}

/// How long a git process may take before it is killed and its answer taken as unknown (a
/// repository can hold a FIFO where git reads its index).
const GIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest ignore file read, and the most of a git process's output kept.
const MAX_BYTES: u64 = 1 << 20;

enum GitError {
    /// git is not installed.
    Missing,
    Failed(String),
}

/// A [`crate::git::hardened`] git command for the repository `git_dir` with work tree `top`,
/// named explicitly (git discovers nothing, so a repository planted inside the project is never
/// picked up), whatever `GIT_DIR`, `GIT_WORK_TREE` or `GIT_INDEX_FILE` say.
fn git(git_dir: &Path, top: &Path) -> Command {
    let mut cmd = crate::git::hardened();
    cmd.arg("--git-dir").arg(git_dir).arg("--work-tree").arg(top).current_dir(top);
    for var in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"] {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs `cmd` with no input, keeping at most [`MAX_BYTES`] of its output, killing it after
/// `timeout`: its exit code and output.
fn run_bounded(mut cmd: Command, timeout: Duration) -> Result<(i32, Vec<u8>), GitError> {
    let mut child = match cmd.stdout(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(GitError::Missing),
        Err(e) => return Err(GitError::Failed(format!("cannot run git: {e}"))),
    };
    let stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.take(MAX_BYTES).read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(GitError::Failed(format!("git did not answer within {} s", timeout.as_secs())));
            }
            Err(e) => return Err(GitError::Failed(format!("cannot wait for git: {e}"))),
        }
    };
    let out = reader.join().unwrap_or_default();
    Ok((status.code().unwrap_or(-1), out))
}

/// A small regular file's content: `None` when it is missing, not a regular file (a FIFO or a
/// device is never opened for reading), a symbolic link while `follow` is off (git does not
/// follow a `.gitignore` link), or larger than [`MAX_BYTES`].
fn read_bounded(path: &Path, follow: bool) -> Option<Vec<u8>> {
    let meta = if follow { std::fs::metadata(path) } else { std::fs::symlink_metadata(path) }.ok()?;
    if !meta.is_file() || meta.len() > MAX_BYTES {
        return None;
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Swapped for a FIFO after the check: the open does not wait for a writer.
        options.custom_flags(libc::O_NONBLOCK | if follow { 0 } else { libc::O_NOFOLLOW });
    }
    let file = options.open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut out = Vec::new();
    file.take(MAX_BYTES).read_to_end(&mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our verdict against git's own (`git ls-files --others --exclude-standard`: what `git add`
    /// would pick up) on pseudo-random rule sets spread over nested `.gitignore`s,
    /// `info/exclude` and `core.excludesFile`.
    #[test]
    fn agrees_with_git_on_generated_rule_sets() {
        if Command::new("git").arg("--version").output().is_err() {
            return; // the integration tests require git under CI
        }
        const RULES: [&str; 24] = [
            ".env",
            "!.env",
            "*.env",
            ".env*",
            "/.env",
            "!/.env",
            "sub/",
            "!sub/",
            "sub",
            "**/.env",
            "*",
            "!*",
            ".e?v",
            "[.]env",
            "sub/**",
            "!sub/.env",
            ".env/",
            "\\!.env",
            "#.env",
            ".env  ",
            "deep/",
            "!deep/.env",
            "sub/*/.env",
            "!**/.env",
        ];
        let mut seed: u64 = 0x5eed;
        let mut next = |n: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        let mut disagreements = Vec::new();
        for case in 0..100 {
            let dir = tempfile::tempdir().unwrap();
            let top = dir.path().canonicalize().unwrap().join("repo");
            std::fs::create_dir_all(top.join("sub/deep")).unwrap();
            let git = |args: &[&str]| {
                Command::new("git")
                    .arg("-C")
                    .arg(&top)
                    .args(args)
                    .env("HOME", dir.path())
                    .env("XDG_CONFIG_HOME", dir.path())
                    .env("GIT_CONFIG_NOSYSTEM", "1")
                    .output()
                    .unwrap()
            };
            assert!(git(&["init", "-q"]).status.success());
            let mut files = vec![];
            for place in [".gitignore", "sub/.gitignore", "sub/deep/.gitignore", ".git/info/exclude", "../excludes"] {
                if next(3) == 0 {
                    continue;
                }
                let lines: Vec<&str> = (0..1 + next(3)).map(|_| RULES[next(RULES.len())]).collect();
                let text = lines.join("\n") + "\n";
                std::fs::write(top.join(place), &text).unwrap();
                files.push(format!("{place}: {text:?}"));
            }
            let excludes = dir.path().canonicalize().unwrap().join("excludes");
            assert!(git(&["config", "core.excludesFile", excludes.to_str().unwrap()]).status.success());
            let (project, rel) = [("", ".env"), ("", "sub/.env"), ("sub", ".env"), ("sub", "deep/.env")][next(4)];
            let root = if project.is_empty() { top.clone() } else { top.join(project) };
            std::fs::write(root.join(rel), "x\n").unwrap();
            let from_top = if project.is_empty() { rel.to_owned() } else { format!("{project}/{rel}") };
            let listed = git(&["ls-files", "--others", "--exclude-standard", "--", &from_top]);
            let git_ignores = String::from_utf8_lossy(&listed.stdout).trim().is_empty();
            let verdict = check(&root, rel, &mut |p| std::fs::read(root.join(p)).ok());
            let ours = match &verdict {
                Verdict::Ignored => true,
                Verdict::NotIgnored { .. } => false,
                other => panic!("case {case}: {other:?}"),
            };
            if ours != git_ignores {
                disagreements.push(format!(
                    "case {case}: {from_top}: git ignores: {git_ignores}, we: {verdict:?}\n  {}",
                    files.join("\n  ")
                ));
            }
        }
        assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    }
}
