//! The plugin, from the skill set: `plugin/` is what `skillrun plugin` writes, every manifest names
//! the same version and launch, and every SKILL.md passes the Agent Skills reference validator.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use super::{VERSION, distribution, output, read_json, repo, skill_ids, skillrun, succeeded};
use crate::support::{skip_unless_ci, venv};

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
