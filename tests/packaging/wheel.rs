//! The wheel: `scripts/wheel` packs the stripped release binary under an honest tag; it installs
//! with `pip install --no-index` and runs with `uvx --offline`, and the server each assistant's
//! configuration starts from it answers the official MCP SDK.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::{VERSION, distribution, output, read_json, repo, said, skill_ids, succeeded};
use crate::support::{BIN, skip_unless_ci, venv};

/// What the wheel build gave: its path and the packaging venv.
pub(super) struct Wheel {
    path: PathBuf,
    venv: PathBuf,
}

/// `scripts/wheel`, once per test run (it reuses the release build, so after `cargo build
/// --release` it only packs).
pub(super) fn wheel() -> Result<&'static Wheel, String> {
    static WHEEL: OnceLock<Result<Wheel, String>> = OnceLock::new();
    WHEEL
        .get_or_init(|| {
            let venv = venv("packaging")?;
            let out = Command::new("bash").arg(repo().join("scripts/wheel")).current_dir(repo()).output();
            let out = out.map_err(|e| format!("scripts/wheel: {e}"))?;
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "scripts/wheel failed:\n{stderr}");
            let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            assert!(path.is_file(), "scripts/wheel printed {path:?}:\n{stderr}");
            Ok(Wheel { path, venv })
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn target_dir() -> PathBuf {
    Path::new(BIN).parent().and_then(Path::parent).expect("BIN is <target>/<profile>/skillrun").to_owned()
}

#[test]
fn the_wheel_carries_the_stripped_release_binary_under_an_honest_tag() {
    let wheel = match wheel() {
        Ok(w) => w,
        Err(why) => return skip_unless_ci("the wheel build", &why),
    };
    let release = target_dir().join("release/skillrun");
    let out = output(
        Command::new(wheel.venv.join("bin/python"))
            .arg(repo().join("tests/packaging/inspect_wheel.py"))
            .arg(&wheel.path)
            .arg(&release),
    );
    let info: Value = serde_json::from_str(&succeeded("inspect_wheel.py", &out)).unwrap();
    assert_eq!((info["name"].as_str().unwrap(), info["version"].as_str().unwrap()), (distribution().as_str(), VERSION));
    assert_eq!(info["scripts"], json!([format!("skillrun_cli-{VERSION}.data/scripts/skillrun")]));
    assert_eq!(info["sameAsRelease"], true, "the wheel must carry target/release/skillrun as built");
    assert_eq!(info["symtab"], false, "the binary must be stripped");
    // The tag names the newest glibc the binary needs, and auditwheel agrees.
    let glibc = info["glibc"].as_str().unwrap().trim_start_matches("GLIBC_").replace('.', "_");
    let tag = format!("py3-none-manylinux_{glibc}_x86_64");
    assert_eq!(info["tags"], json!([tag]));
    let name = wheel.path.file_name().unwrap().to_str().unwrap();
    assert_eq!(name, format!("skillrun_cli-{VERSION}-{tag}.whl"));
    let shown =
        said("auditwheel show", &output(Command::new(wheel.venv.join("bin/auditwheel")).arg("show").arg(&wheel.path)));
    let platform = tag.trim_start_matches("py3-none-");
    assert!(shown.contains(&format!("consistent with the following platform tag: \"{platform}\"")), "{shown}");
}

/// The official SDK (tests/packaging/launch.py) starts `command args` in `workspace` with `env`
/// added, lists the tools and runs database-setup in `workspace/project`.
fn launch(workspace: &Path, command: &Path, args: &[String], env: &[(&str, OsString)]) {
    let python = venv("mcp").expect("the MCP SDK venv").join("bin/python");
    let mut cmd = Command::new(python);
    cmd.arg(repo().join("tests/packaging/launch.py")).arg(workspace).arg(command).args(args);
    cmd.env_remove("RUST_LOG").env_remove("SKILLRUN_SKILLS_DIR").envs(env.iter().map(|(k, v)| (k, v)));
    let what = format!("{} {}", command.display(), args.join(" "));
    let summary: Value = serde_json::from_str(&succeeded(&format!("launch.py {what}"), &output(&mut cmd))).unwrap();
    assert_eq!(summary["server"], "skillrun", "{what}: {summary}");
    let tools: Vec<String> =
        summary["tools"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_owned()).collect();
    assert!(
        skill_ids().iter().all(|id| tools.contains(id)) && tools.contains(&"match_skill".into()),
        "{what}: {summary}"
    );
    assert_eq!(summary["status"], "applied", "{what}: {summary}");
    assert!(workspace.join("project/alembic.ini").is_file(), "{what}");
}

/// uv's settings for a test: its own cache, no network, no user configuration, no Python
/// downloads, the packaging venv (uvx, python) first on PATH, and `links` as the only place
/// packages come from.
pub(super) fn uv_env(wheel: &Wheel, cache: &Path) -> Vec<(&'static str, OsString)> {
    let path = std::env::join_paths(
        std::iter::once(wheel.venv.join("bin"))
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    vec![
        ("PATH", path),
        ("UV_CACHE_DIR", cache.into()),
        ("UV_OFFLINE", "1".into()),
        ("UV_NO_CONFIG", "1".into()),
        ("UV_PYTHON_DOWNLOADS", "never".into()),
        ("UV_FIND_LINKS", wheel.path.parent().unwrap().into()),
    ]
}

#[test]
fn pip_installs_the_wheel_without_an_index_and_its_entry_point_runs_and_serves_mcp() {
    let wheel = match (wheel(), venv("mcp")) {
        (Ok(w), Ok(_)) => w,
        (Err(why), _) | (_, Err(why)) => return skip_unless_ci("the pip install check", &why),
    };
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("venv");
    succeeded("python3 -m venv", &output(Command::new("python3").args(["-m", "venv"]).arg(&fresh)));
    let pip = Command::new(fresh.join("bin/pip"))
        .args(["install", "--no-index", "--disable-pip-version-check"])
        .arg(&wheel.path)
        .output()
        .unwrap();
    succeeded("pip install --no-index", &pip);
    let skillrun = fresh.join("bin/skillrun");
    let version = succeeded("skillrun --version", &output(Command::new(&skillrun).arg("--version")));
    assert_eq!(version.trim(), format!("skillrun {VERSION}"));

    let project = dir.path().join("generated");
    let input = json!({"projectPath": project, "databaseUrl": "sqlite:///./app.db"}).to_string();
    let report = succeeded(
        "skillrun run",
        &output(Command::new(&skillrun).args(["run", "database-setup", "--json", "--input", &input])),
    );
    let report: Value = serde_json::from_str(&report).unwrap();
    assert_eq!(report["status"], "applied", "{report:#}");
    assert!(project.join("alembic.ini").is_file() && project.join("app/infrastructure/database/session.py").is_file());

    let workspace = dir.path().join("workspace");
    std::fs::create_dir(&workspace).unwrap();
    launch(&workspace, &skillrun, &["serve".into()], &[]);
}

#[test]
fn uvx_runs_the_wheel_offline_and_serves_mcp() {
    let wheel = match (wheel(), venv("mcp")) {
        (Ok(w), Ok(_)) => w,
        (Err(why), _) | (_, Err(why)) => return skip_unless_ci("the uvx check", &why),
    };
    let dir = tempfile::tempdir().unwrap();
    let env = uv_env(wheel, &dir.path().join("uv-cache"));
    let uvx = wheel.venv.join("bin/uvx");
    let from = ["--offline".to_owned(), "--from".into(), wheel.path.display().to_string(), "skillrun".into()];
    let mut cmd = Command::new(&uvx);
    cmd.args(&from).arg("--version").envs(env.iter().map(|(k, v)| (k, v)));
    let out = output(&mut cmd);
    assert_eq!(succeeded("uvx skillrun --version", &out).trim(), format!("skillrun {VERSION}"));
    let workspace = dir.path().join("workspace");
    std::fs::create_dir(&workspace).unwrap();
    let args: Vec<String> = from.into_iter().chain(["serve".into()]).collect();
    launch(&workspace, &uvx, &args, &env);
}

#[test]
fn the_server_each_assistant_config_starts_answers_an_mcp_client() {
    let wheel = match (wheel(), venv("mcp")) {
        (Ok(w), Ok(_)) => w,
        (Err(why), _) | (_, Err(why)) => return skip_unless_ci("the assistant configurations check", &why),
    };
    let plugin = repo().join("plugin");
    // Each file, the pointer to its entry, and the client's variable for the workspace (Codex has
    // none: it starts servers in the session's directory, the workspace here).
    let configs = [
        (".mcp.json", "/mcpServers/skillrun", Some("${CLAUDE_PROJECT_DIR}")),
        ("codex-mcp.json", "/mcpServers/skillrun", None),
        ("gemini-extension.json", "/mcpServers/skillrun", Some("${workspacePath}")),
        (".cursor/mcp.json", "/mcpServers/skillrun", Some("${workspaceFolder}")),
        (".vscode/mcp.json", "/servers/skillrun", Some("${workspaceFolder}")),
    ];
    let cache = tempfile::tempdir().unwrap();
    for (file, pointer, variable) in configs {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("workspace");
        std::fs::create_dir(&workspace).unwrap();
        let entry =
            read_json(&plugin.join(file)).pointer(pointer).cloned().unwrap_or_else(|| panic!("{file}{pointer}"));
        let args: Vec<String> = entry["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().replace(variable.unwrap_or("\0"), workspace.to_str().unwrap()))
            .collect();
        assert_eq!(variable.is_some(), args.iter().any(|a| a == workspace.to_str().unwrap()), "{file}: {args:?}");
        assert!(!args.iter().any(|a| a.contains("${")), "{file}: a variable the client does not expand: {args:?}");
        launch(&workspace, Path::new(entry["command"].as_str().unwrap()), &args, &uv_env(wheel, cache.path()));
    }
}
