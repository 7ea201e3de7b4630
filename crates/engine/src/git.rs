//! git, asked about a project without letting the project choose what runs. A repository from a
//! stranger can carry configuration that makes git start programs (`core.fsmonitor`, hooks, a
//! pager, ...): every invocation here overrides those on the command line, starts git in the
//! project through its handle (`fchdir`, no path resolved again), and gives it no terminal.

use std::process::{Command, Stdio};

use crate::project_dir::ProjectDir;

/// `git` with the repository's configuration that can start programs overridden, no terminal,
/// no input and no output: the one place that says how skillrun starts git. `core.fsmonitor`
/// (a command or hook path in `.git/config` that git runs whenever it reads the index,
/// `ls-files` included), hooks, the pager, the untracked cache, fetching and an external diff
/// are switched off; an implicitly found bare repository (one planted inside a project) is not
/// used (`safe.bareRepository=explicit`); reading never takes the index lock
/// (`--no-optional-locks`); no prompt and no askpass helper. The commands skillrun runs
/// (`ls-files`, `config`) start no filter, editor or credential helper.
pub fn hardened() -> Command {
    let mut cmd = Command::new("git");
    for setting in [
        "core.fsmonitor=false",
        "core.untrackedCache=false",
        "core.hooksPath=/dev/null",
        "core.pager=cat",
        "protocol.allow=never",
        "safe.bareRepository=explicit",
        "diff.external=",
    ] {
        cmd.arg("-c").arg(setting);
    }
    cmd.args(["--no-pager", "--no-optional-locks"]);
    for var in ["GIT_EXTERNAL_DIFF", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_PAGER", "PAGER"] {
        cmd.env_remove(var);
    }
    cmd.env("GIT_TERMINAL_PROMPT", "0").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    cmd
}

/// [`hardened`] git with the project as its working directory, entered through its handle.
pub fn command(project: &ProjectDir) -> std::io::Result<Command> {
    use std::os::unix::process::CommandExt;
    let dir = project.try_clone().map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut cmd = hardened();
    // SAFETY: fchdir is async-signal-safe; the descriptor lives in `dir`, moved into the closure.
    unsafe {
        cmd.pre_exec(move || rustix::process::fchdir(dir.fd()).map_err(Into::into));
    }
    Ok(cmd)
}

/// Whether the project can be in a git repository: a `.git` in it or above it, or `GIT_DIR`
/// set. Only a shortcut that saves starting git in the common case of no repository.
pub fn may_be_in_repository(project: &ProjectDir) -> bool {
    std::env::var_os("GIT_DIR").is_some() || project.path().ancestors().any(|d| d.join(".git").exists())
}

/// Whether git tracks `rel` (a file, or anything under a directory) in the repository holding
/// the project; false without git or a repository.
pub fn tracks(project: &ProjectDir, rel: &str) -> bool {
    if !may_be_in_repository(project) {
        return false;
    }
    let Ok(mut cmd) = command(project) else { return false };
    cmd.args(["ls-files", "--error-unmatch", "--", rel]);
    cmd.status().is_ok_and(|s| s.success())
}
