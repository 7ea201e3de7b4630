//! Packaging, where users meet skillrun: the wheel `scripts/wheel` builds (the stripped release
//! binary, an honest platform tag) installs with `pip install --no-index` and runs with `uvx
//! --offline`, and its entry point serves MCP to the official Python SDK; the assistant plugins in
//! `plugin/` are exactly what `skillrun plugin` writes from the skill set, pass their vendors' own
//! validators (Claude Code, Gemini CLI, Codex CLI) and the Agent Skills reference validator, and
//! the server each assistant's configuration starts answers an MCP client. The pinned Python tools
//! come from tests/requirements/{packaging,mcp}.txt, the assistants' CLIs from npm (cached under
//! .cache/npm). Under `CI=true` a missing tool fails the test; otherwise it prints a loud SKIP.

mod assistants;
mod plugin;
mod wheel;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::{Ran, Test, run_command};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The distribution name, from pyproject.toml (the one place it is written).
fn distribution() -> String {
    let text = std::fs::read_to_string(repo().join("pyproject.toml")).unwrap();
    let line = text.lines().find(|l| l.starts_with("name = ")).expect("pyproject.toml names the project");
    line["name = ".len()..].trim_matches('"').to_owned()
}

/// The skill ids of the built-in set, in manifest order.
fn skill_ids() -> Vec<String> {
    let manifest = read_json(&repo().join("manifest.json"));
    manifest["skills"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
}

fn output(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// `skillrun ARGS` (the binary under test), in a temporary directory.
fn skillrun<const N: usize>(args: [OsString; N]) -> Ran {
    run_command(Test::new().command(args), None)
}

/// The stdout of a command that must have succeeded.
#[track_caller]
fn succeeded(what: &str, out: &Output) -> String {
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{what} failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    stdout.into_owned()
}

/// Everything a command that must have succeeded printed, stdout then stderr, with each run of
/// white space (a wrapped line) made one space.
#[track_caller]
fn said(what: &str, out: &Output) -> String {
    let stdout = succeeded(what, out);
    let all = format!("{stdout} {}", String::from_utf8_lossy(&out.stderr));
    all.split_whitespace().collect::<Vec<_>>().join(" ")
}
