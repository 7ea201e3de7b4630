//! The assistants' own tools on the plugin: Claude Code, Gemini CLI and Codex CLI validate and
//! install it, and Claude Code and Gemini CLI connect to the server it configures.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

use super::wheel::{uv_env, wheel};
use super::{VERSION, distribution, read_json, repo, said, succeeded};
use crate::support::{ci, skip_unless_ci};

/// The assistants' CLIs, pinned (npm).
const CLAUDE_CODE: &str = "@anthropic-ai/claude-code@2.1.332";
const GEMINI_CLI: &str = "@google/gemini-cli@0.61.0";
const CODEX_CLI: &str = "@openai/codex@0.171.0";

/// `npx -y PACKAGE ARGS` with HOME (and the assistants' config homes) in `home`, in `cwd`, with
/// `env`; Err when npx cannot run or npm cannot fetch the package (skipped unless CI).
fn npx(
    package: &str,
    args: &[&str],
    home: &Path,
    cwd: &Path,
    env: &[(&str, OsString)],
    stdin: &str,
) -> Result<Output, String> {
    for dir in [".claude", ".codex"] {
        std::fs::create_dir_all(home.join(dir)).unwrap();
    }
    let mut cmd = Command::new("npx");
    cmd.arg("-y")
        .arg(package)
        .args(args)
        .current_dir(cwd)
        .env("NPM_CONFIG_CACHE", repo().join(".cache/npm"))
        .env("NPM_CONFIG_UPDATE_NOTIFIER", "false")
        .env("HOME", home)
        .env("CLAUDE_CONFIG_DIR", home.join(".claude"))
        .env("CODEX_HOME", home.join(".codex"))
        .env_remove("CLAUDE_PROJECT_DIR")
        .env_remove("CLAUDECODE")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("npx: {e}"))?;
    use std::io::Write;
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("npm error") && !ci() {
        return Err(format!("npx could not fetch {package}:\n{stderr}"));
    }
    Ok(out)
}

#[test]
fn claude_code_validates_the_plugin_and_the_marketplace_strictly() {
    let home = tempfile::tempdir().unwrap();
    let (root, plugin) = (repo().display().to_string(), repo().join("plugin").display().to_string());
    // Strictly (warnings fail) the plugin and the marketplace; then the plugin catalog's own
    // checks, where only what the catalog refuses fails (its missing-icon check is a warning).
    let runs: [&[&str]; 3] = [
        &["plugin", "validate", "--strict", "--json", &plugin],
        &["plugin", "validate", "--strict", "--json", &root],
        &["plugin", "validate", "--profile", "directory", &plugin],
    ];
    for args in runs {
        let out = match npx(CLAUDE_CODE, args, home.path(), home.path(), &[], "") {
            Ok(out) => out,
            Err(why) => return skip_unless_ci("the Claude Code validator", &why),
        };
        let stdout = succeeded(&format!("claude {}", args.join(" ")), &out);
        if args.contains(&"--json") {
            let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
            assert_eq!((&report["success"], &report["manifest"]["warnings"]), (&json!(true), &json!([])), "{report:#}");
        }
    }
}

#[test]
fn gemini_cli_validates_the_extension() {
    let home = tempfile::tempdir().unwrap();
    let plugin = repo().join("plugin");
    match npx(GEMINI_CLI, &["extensions", "validate", plugin.to_str().unwrap()], home.path(), home.path(), &[], "") {
        Ok(out) => assert!(said("gemini extensions validate", &out).contains("successfully validated")),
        Err(why) => skip_unless_ci("the Gemini CLI validator", &why),
    }
}

#[test]
fn codex_cli_adds_the_marketplace_installs_the_plugin_and_lists_its_server() {
    let home = tempfile::tempdir().unwrap();
    let root = repo();
    let steps: [&[&str]; 3] = [
        &["plugin", "marketplace", "add", root.to_str().unwrap()],
        &["plugin", "add", "skillrun@skillrun"],
        &["mcp", "list", "--json"],
    ];
    let mut last = String::new();
    for args in steps {
        match npx(CODEX_CLI, args, home.path(), home.path(), &[], "") {
            Ok(out) => last = succeeded(&format!("codex {}", args.join(" ")), &out),
            Err(why) => return skip_unless_ci("the Codex CLI check", &why),
        }
    }
    let servers: Value = serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}: {last}"));
    let server = servers.as_array().unwrap().iter().find(|s| s["name"] == "skillrun").expect("the plugin's server");
    let codex_mcp = read_json(&root.join("plugin/codex-mcp.json"));
    assert_eq!(server["transport"]["args"], codex_mcp["mcpServers"]["skillrun"]["args"], "{server:#}");
    assert_eq!(server["transport"]["cwd"], Value::Null, "Codex starts it in the session's directory: {server:#}");
}

#[test]
fn claude_code_and_gemini_cli_install_the_plugin_and_connect_to_its_server() {
    let wheel = match wheel() {
        Ok(w) => w,
        Err(why) => return skip_unless_ci("the assistants' connection check", &why),
    };
    let dir = tempfile::tempdir().unwrap();
    let (home, workspace) = (dir.path().join("home"), dir.path().join("workspace"));
    std::fs::create_dir_all(&workspace).unwrap();
    let env = uv_env(wheel, &dir.path().join("uv-cache"));
    let (root, ws) = (repo().display().to_string(), workspace.display().to_string());
    let expected = format!("uvx --from {}=={VERSION} skillrun serve --root {ws}", distribution());

    // Claude Code: the repository as a marketplace, the plugin installed from it, then its health
    // check starts the server with ${CLAUDE_PROJECT_DIR} expanded.
    for args in [&["plugin", "marketplace", "add", root.as_str()][..], &["plugin", "install", "skillrun@skillrun"]] {
        match npx(CLAUDE_CODE, args, &home, &workspace, &env, "") {
            Ok(out) => succeeded(&format!("claude {}", args.join(" ")), &out),
            Err(why) => return skip_unless_ci("the Claude Code connection check", &why),
        };
    }
    let listed = said("claude mcp list", &npx(CLAUDE_CODE, &["mcp", "list"], &home, &workspace, &env, "").unwrap());
    assert!(listed.contains(&format!("plugin:skillrun:skillrun: {expected} - ✔ Connected")), "{listed}");

    // Gemini CLI: the extension installed (answering its trust question), the workspace trusted,
    // then `mcp list` connects with ${workspacePath} expanded.
    let plugin = repo().join("plugin").display().to_string();
    let out = match npx(GEMINI_CLI, &["extensions", "install", &plugin, "--consent"], &home, &workspace, &env, "y\n") {
        Ok(out) => out,
        Err(why) => return skip_unless_ci("the Gemini CLI connection check", &why),
    };
    assert!(said("gemini extensions install", &out).contains("installed successfully"));
    let trusted = json!({ ws.as_str(): "TRUST_FOLDER" });
    std::fs::write(home.join(".gemini/trustedFolders.json"), trusted.to_string()).unwrap();
    let listed = said("gemini mcp list", &npx(GEMINI_CLI, &["mcp", "list"], &home, &workspace, &env, "").unwrap());
    assert!(listed.contains(&format!("skillrun (from skillrun): {expected} (stdio) - Connected")), "{listed}");
}
