//! Packaging, where users meet skillrun: the wheel `scripts/wheel` builds (the stripped release
//! binary, an honest platform tag) installs with `pip install --no-index` and runs with `uvx
//! --offline`, and its entry point serves MCP to the official Python SDK; the assistant plugins in
//! `plugin/` are exactly what `skillrun plugin` writes from the skill set, pass their vendors' own
//! validators (Claude Code, Gemini CLI, Codex CLI) and the Agent Skills reference validator, and
//! the server each assistant's configuration starts answers an MCP client. The pinned Python tools
//! come from tests/requirements/{packaging,mcp}.txt, the assistants' CLIs from npm (cached under
//! .cache/npm). Under `CI=true` a missing tool fails the test; otherwise it prints a loud SKIP.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::support::{BIN, Ran, Test, ci, run_command, skip_unless_ci, venv};

const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The assistants' CLIs, pinned (npm).
const CLAUDE_CODE: &str = "@anthropic-ai/claude-code@2.1.332";
const GEMINI_CLI: &str = "@google/gemini-cli@0.61.0";
const CODEX_CLI: &str = "@openai/codex@0.171.0";

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

// ---- the plugin, from the skill set ----

#[test]
fn the_committed_plugin_is_what_skillrun_plugin_writes_for_every_skill() {
    let ran = skillrun([OsString::from("plugin"), "--check".into(), repo().into()]);
    assert_eq!(
        ran.code, 0,
        "plugin/ has drifted from the skill set; regenerate it with `cargo run -- plugin .`:\n{}{}",
        ran.stdout, ran.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let ran = skillrun([OsString::from("plugin"), dir.path().into()]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let ids = skill_ids();
    for id in &ids {
        let source = std::fs::read(repo().join(format!("skills/{id}/SKILL.md"))).unwrap();
        let copied = std::fs::read(dir.path().join(format!("plugin/skills/{id}/SKILL.md"))).unwrap();
        assert!(source == copied, "plugin/skills/{id}/SKILL.md is not skills/{id}/SKILL.md");
    }
    let mut written = Vec::new();
    walk(dir.path(), dir.path(), &mut written);
    assert_eq!(written.len(), 9 + ids.len(), "{written:#?}");
    let ran = skillrun([OsString::from("plugin"), "--check".into(), dir.path().into()]);
    assert_eq!((ran.code, ran.stdout.as_str()), (0, ""), "a fresh plugin checks clean");
    std::fs::write(dir.path().join("plugin/.mcp.json"), "{}").unwrap();
    std::fs::write(dir.path().join("plugin/skills/stale.md"), "").unwrap();
    let ran = skillrun([OsString::from("plugin"), "--check".into(), dir.path().into()]);
    assert_eq!(ran.code, 1);
    assert_eq!(ran.stdout, "differs: plugin/.mcp.json\nnot generated: plugin/skills/stale.md\n");
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir() {
            walk(root, &entry.path(), out);
        } else {
            out.push(entry.path().strip_prefix(root).unwrap().display().to_string());
        }
    }
}

#[test]
fn every_manifest_names_the_same_plugin_version_and_launch_and_its_files_exist() {
    let (root, plugin) = (repo(), repo().join("plugin"));
    let pin = format!("{}=={VERSION}", distribution());
    let claude = read_json(&plugin.join(".claude-plugin/plugin.json"));
    let codex = read_json(&plugin.join(".codex-plugin/plugin.json"));
    let gemini = read_json(&plugin.join("gemini-extension.json"));
    for manifest in [&claude, &codex, &gemini] {
        assert_eq!((manifest["name"].as_str(), manifest["version"].as_str()), (Some("skillrun"), Some(VERSION)));
    }
    // Claude Code marketplace: name, owner.name, a plugin whose source is a plugin directory.
    let market = read_json(&root.join(".claude-plugin/marketplace.json"));
    assert!(market["owner"]["name"].is_string());
    let source = market["plugins"][0]["source"].as_str().unwrap();
    assert!(root.join(source).join(".claude-plugin/plugin.json").is_file(), "{source}");
    // Codex marketplace (.agents/plugins/marketplace.json): a local source under the root.
    let market = read_json(&root.join(".agents/plugins/marketplace.json"));
    assert_eq!(market["plugins"][0]["source"]["source"], "local");
    let source = market["plugins"][0]["source"]["path"].as_str().unwrap();
    assert!(root.join(source).join(".codex-plugin/plugin.json").is_file(), "{source}");
    for field in ["skills", "mcpServers"] {
        let path = codex[field].as_str().unwrap();
        assert!(path.starts_with("./") && plugin.join(path).exists(), "codex {field}: {path}");
    }
    // Each MCP entry: uvx running this version's wheel; VS Code's file uses `servers` and a type.
    let vscode = read_json(&plugin.join(".vscode/mcp.json"));
    assert!(vscode.get("mcpServers").is_none() && vscode["servers"]["skillrun"]["type"] == "stdio");
    let entries = [
        read_json(&plugin.join(".mcp.json"))["mcpServers"]["skillrun"].clone(),
        read_json(&plugin.join(codex["mcpServers"].as_str().unwrap()))["mcpServers"]["skillrun"].clone(),
        gemini["mcpServers"]["skillrun"].clone(),
        read_json(&plugin.join(".cursor/mcp.json"))["mcpServers"]["skillrun"].clone(),
        vscode["servers"]["skillrun"].clone(),
    ];
    // The README shows the Cursor and VS Code files as they are.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let shown: Vec<Value> = readme
        .split("```json\n")
        .skip(1)
        .filter_map(|block| serde_json::from_str(block.split("```").next()?).ok())
        .collect();
    for file in [".cursor/mcp.json", ".vscode/mcp.json"] {
        assert!(shown.contains(&read_json(&plugin.join(file))), "README.md must show plugin/{file} as it is");
    }
    for entry in entries {
        assert_eq!(entry["command"], "uvx", "{entry}");
        assert_eq!(
            entry["args"].as_array().unwrap()[..4],
            [json!("--from"), json!(pin), json!("skillrun"), json!("serve")]
        );
    }
}

#[test]
fn a_plugin_for_another_skill_set_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    crate::skills_dir::greeting_skill(&dir.path().join("set"));
    let set = dir.path().join("set");
    let ran = skillrun([OsString::from("--skills-dir"), set.into(), "plugin".into(), dir.path().join("out").into()]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("without --skills-dir"), "{}", ran.stderr);
    assert!(!dir.path().join("out").exists());
}

#[test]
fn the_agent_skills_reference_validator_accepts_every_skill() {
    let venv = match venv("packaging") {
        Ok(v) => v,
        Err(why) => return skip_unless_ci("the Agent Skills reference validator", &why),
    };
    for id in skill_ids() {
        for dir in [repo().join("skills").join(&id), repo().join("plugin/skills").join(&id)] {
            let out = output(Command::new(venv.join("bin/agentskills")).arg("validate").arg(&dir));
            succeeded(&format!("agentskills validate {}", dir.display()), &out);
        }
    }
}

// ---- the assistants' own validators ----

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

// ---- the wheel ----

/// What the wheel build gave: its path and the packaging venv.
struct Wheel {
    path: PathBuf,
    venv: PathBuf,
}

/// `scripts/wheel`, once per test run (it reuses the release build, so after `cargo build
/// --release` it only packs).
fn wheel() -> Result<&'static Wheel, String> {
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
fn uv_env(wheel: &Wheel, cache: &Path) -> Vec<(&'static str, OsString)> {
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
