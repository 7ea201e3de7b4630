//! Clients nobody here wrote: the official Python SDK (`mcp`, pinned in
//! tests/requirements/mcp.txt, in the venv scripts/venv.sh builds) in its default and its legacy
//! mode, and the MCP Inspector CLI from npm. Under `CI=true` a missing tool fails the test;
//! otherwise it prints a loud SKIP.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::support::{BIN, ci, skip_unless_ci};

/// The Inspector release the tests pin (npm `@modelcontextprotocol/inspector`).
const INSPECTOR: &str = "@modelcontextprotocol/inspector@2.12.0";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv with the pinned Python SDK, built (or reused) by scripts/venv.sh.
fn python_sdk() -> Result<PathBuf, String> {
    crate::support::venv("mcp").map(|venv| venv.join("bin/python"))
}

fn python_client(mode: &str, expected_version: &str) {
    let python = match python_sdk() {
        Ok(p) => p,
        Err(why) => return skip_unless_ci("the Python MCP SDK check", &why),
    };
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let out = Command::new(python)
        .arg(repo().join("tests/mcp/python_client.py"))
        .arg(BIN)
        .arg(mode)
        .arg(&project)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python_client.py {mode} failed:\n{stderr}");
    let summary: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(summary["protocolVersion"], expected_version, "{summary}");
    assert_eq!(summary["server"], "skillrun");
    assert_eq!(summary["tools"], json!(["database-setup", "match_skill", "repository-pattern"]));
    assert_eq!((summary["status"].clone(), summary["invalidStatus"].clone()), (json!("applied"), json!("invalid")));
    assert_eq!(summary["progress"], json!([1.0, 2.0, 3.0, 4.0]));
    assert!(project.join("alembic.ini").is_file() && project.join(".env").is_file());
}

/// The same client over Streamable HTTP against `skillrun serve --http`, with a bearer token and
/// a `--root`: the run inside the root is applied, the one outside it is refused and writes nothing.
fn python_client_over_http(mode: &str, expected_version: &str) {
    let python = match python_sdk() {
        Ok(p) => p,
        Err(why) => return skip_unless_ci("the Python MCP SDK check over HTTP", &why),
    };
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let project = root.join("project");
    let outside = dir.path().join("outside/project");
    let server = crate::support::Server::start(&["--root", root.to_str().unwrap()], "mcp-http-token-1", &[]);
    let out = Command::new(python)
        .arg(repo().join("tests/mcp/python_client.py"))
        .arg(server.url("/mcp"))
        .arg(mode)
        .arg(&project)
        .arg(&outside)
        .env("SKILLRUN_TOKEN", &server.token)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python_client.py {mode} over HTTP failed:\n{stderr}\nserver log:\n{}", server.log());
    let summary: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(summary["protocolVersion"], expected_version, "{summary}");
    assert_eq!(summary["tools"], json!(["database-setup", "match_skill", "repository-pattern"]));
    assert_eq!((summary["status"].clone(), summary["invalidStatus"].clone()), (json!("applied"), json!("invalid")));
    assert_eq!(summary["refusedField"], "/projectPath", "{summary}");
    assert!(project.join("alembic.ini").is_file());
    assert!(!dir.path().join("outside").exists(), "nothing may be written outside the roots");
}

#[test]
fn python_sdk_streamable_http_default_mode_runs_the_skill_inside_the_roots_only() {
    python_client_over_http("auto", "2026-07-28");
}

#[test]
fn python_sdk_streamable_http_legacy_mode_runs_the_skill_inside_the_roots_only() {
    python_client_over_http("legacy", "2025-11-25");
}

#[test]
fn python_sdk_default_mode_discovers_2026_07_28_and_runs_the_skill() {
    python_client("auto", "2026-07-28");
}

#[test]
fn python_sdk_legacy_mode_initializes_and_runs_the_skill() {
    python_client("legacy", "2025-11-25");
}

/// `npx -y <inspector> --cli <skillrun> serve <args>`; `None` when npx cannot run at all.
fn inspector(args: &[&str], cwd: &Path) -> Option<(bool, String, String)> {
    let cache = repo().join(".cache/npm");
    let out = Command::new("npx")
        .args(["-y", INSPECTOR, "--cli", BIN, "serve"])
        .args(args)
        .env("NPM_CONFIG_CACHE", &cache)
        .env("NPM_CONFIG_UPDATE_NOTIFIER", "false")
        .current_dir(cwd)
        .output()
        .ok()?;
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn mcp_inspector_cli_lists_and_calls_tools_in_both_eras() {
    let dir = tempfile::tempdir().unwrap();
    let Some((ok, stdout, stderr)) = inspector(&["--method", "tools/list", "--format", "json", "--strict"], dir.path())
    else {
        return skip_unless_ci("the MCP Inspector check", "npx is not installed");
    };
    if !ok && !ci() && stderr.contains("npm error") {
        return skip_unless_ci("the MCP Inspector check", &format!("npx could not fetch {INSPECTOR}:\n{stderr}"));
    }
    assert!(ok, "inspector tools/list failed:\n{stdout}\n{stderr}");
    let listed: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(listed["result"]["tools"][0]["name"], "database-setup", "{listed}");

    let project = dir.path().join("project");
    let path_arg = format!("projectPath={}", project.display());
    let call = [
        "--method",
        "tools/call",
        "--tool-name",
        "database-setup",
        "--tool-arg",
        &path_arg,
        "--tool-arg",
        "databaseUrl=sqlite:///./app.db",
        "--format",
        "json",
    ];
    let (ok, stdout, stderr) = inspector(&call, dir.path()).unwrap();
    assert!(ok, "inspector tools/call failed:\n{stdout}\n{stderr}");
    let called: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(called["result"]["structuredContent"]["status"], "applied", "{called}");
    assert!(project.join("alembic.ini").is_file());

    let modern = inspector(&["--protocol-era", "modern", "--method", "skills/list", "--verify"], dir.path()).unwrap();
    assert!(modern.0, "inspector skills/list --verify (2026-07-28) failed:\n{}\n{}", modern.1, modern.2);
    assert!(modern.1.contains("\"outcome\":\"verified\""), "{}", modern.1);
}
