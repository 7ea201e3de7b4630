//! `skillrun plugin DIR`: the assistant plugins, written from the skill set itself (the manifest
//! and each skill's `SKILL.md`), so they cannot drift from it. DIR becomes a marketplace for Claude
//! Code (`.claude-plugin/marketplace.json`) and Codex (`.agents/plugins/marketplace.json`) whose one
//! plugin is `DIR/plugin/`: a Claude Code plugin (`.claude-plugin/plugin.json`, `.mcp.json`), a
//! Codex plugin (`.codex-plugin/plugin.json`, `codex-mcp.json`), a Gemini CLI extension
//! (`gemini-extension.json`), the Agent Skills (`skills/<id>/SKILL.md`), and the MCP snippets for
//! Cursor (`.cursor/mcp.json`) and VS Code (`.vscode/mcp.json`).
//!
//! Every MCP entry starts the server the way clients start servers, from the wheel on PyPI:
//! `uvx --from skillrun-cli==<version> skillrun serve`, pinned to this binary's version, with
//! `--root` set to the client's variable for the workspace where the client has one (Claude Code
//! `${CLAUDE_PROJECT_DIR}`, Gemini CLI `${workspacePath}`, Cursor and VS Code
//! `${workspaceFolder}`); Codex has none and starts servers in the session's directory.
//!
//! `--check` compares instead of writing (the repository's own `plugin/` is tested with it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::registry::{Registry, Skill};

/// The PyPI distribution that carries the `skillrun` binary (`pyproject.toml`).
pub const DISTRIBUTION: &str = "skillrun-cli";
/// The plugin's directory inside DIR, and the plugin's and marketplaces' name.
pub const PLUGIN_DIR: &str = "plugin";
const NAME: &str = "skillrun";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why a plugin cannot be written from a skill set.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("skills/{skill}/SKILL.md does not follow the Agent Skills specification: {problem}")]
    SkillMd { skill: String, problem: String },
    #[error(
        "a plugin starts the server from the `{DISTRIBUTION}` wheel, which serves the built-in skill set: \
         run `skillrun plugin` without --skills-dir or SKILLRUN_SKILLS_DIR"
    )]
    OtherSkillSet,
    #[error(transparent)]
    Registry(#[from] crate::Error),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
}

/// The plugin's files by path relative to DIR, with their content.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Every file `skillrun plugin` writes for `registry`.
pub fn files(registry: &Registry) -> Result<Files, Error> {
    let skills = registry.skills()?;
    for skill in &skills {
        check_skill_md(skill)?;
    }
    let description = description(&skills);
    let server = |root: Option<&str>| {
        let mut args = vec!["--from".to_owned(), format!("{DISTRIBUTION}=={VERSION}"), NAME.into(), "serve".into()];
        args.extend(root.into_iter().flat_map(|r| ["--root".to_owned(), r.to_owned()]));
        json!({"command": "uvx", "args": args})
    };
    let mcp_servers = |root: Option<&str>| json!({"mcpServers": {NAME: server(root)}});
    let author = json!({"name": NAME});
    let keywords = json!(["mcp", "agent-skills", "fastapi", "sqlalchemy", "alembic"]);

    let mut out = Files::new();
    let mut put = |path: &str, value: Value| {
        out.insert(path.to_owned(), format!("{}\n", serde_json::to_string_pretty(&value).expect("JSON")).into_bytes());
    };
    put(
        ".claude-plugin/marketplace.json",
        json!({
            "name": NAME,
            "owner": author,
            "metadata": {"description": description, "version": VERSION},
            "plugins": [{
                "name": NAME, "source": format!("./{PLUGIN_DIR}"), "description": description,
                "version": VERSION, "category": "development", "keywords": keywords,
            }],
        }),
    );
    put(
        ".agents/plugins/marketplace.json",
        json!({
            "name": NAME,
            "interface": {"displayName": NAME},
            "plugins": [{
                "name": NAME,
                "source": {"source": "local", "path": format!("./{PLUGIN_DIR}")},
                "policy": {"installation": "AVAILABLE", "authentication": "ON_INSTALL"},
                "category": "Coding",
            }],
        }),
    );
    let plugin = |rel: &str| format!("{PLUGIN_DIR}/{rel}");
    put(
        &plugin(".claude-plugin/plugin.json"),
        json!({
            "name": NAME, "version": VERSION, "description": description,
            "author": author, "license": "MIT", "keywords": keywords,
        }),
    );
    put(&plugin(".mcp.json"), mcp_servers(Some("${CLAUDE_PROJECT_DIR}")));
    put(
        &plugin(".codex-plugin/plugin.json"),
        json!({
            "name": NAME, "version": VERSION, "description": description,
            "skills": "./skills/", "mcpServers": "./codex-mcp.json",
            "interface": {
                "displayName": NAME, "shortDescription": description,
                "developerName": NAME, "category": "Coding",
            },
        }),
    );
    put(&plugin("codex-mcp.json"), mcp_servers(None));
    put(
        &plugin("gemini-extension.json"),
        json!({
            "name": NAME, "version": VERSION, "description": description,
            "mcpServers": {NAME: server(Some("${workspacePath}"))},
        }),
    );
    put(&plugin(".cursor/mcp.json"), mcp_servers(Some("${workspaceFolder}")));
    let mut vscode = server(Some("${workspaceFolder}"));
    vscode["type"] = json!("stdio");
    put(&plugin(".vscode/mcp.json"), json!({"servers": {NAME: vscode}}));
    for skill in skills {
        out.insert(plugin(&format!("skills/{}/SKILL.md", skill.id())), skill.skill_md.clone().into_bytes());
    }
    Ok(out)
}

/// The plugin's description: what runs it, then each skill's id and title.
fn description(skills: &[&Skill]) -> String {
    let list: Vec<String> = skills.iter().map(|s| format!("{}: {}", s.id(), s.entry.title.en)).collect();
    format!("Agent skills run by the skillrun MCP server or command. {}", list.join("; "))
}

/// The Agent Skills specification's rules for the front matter (name = the skill's directory,
/// lowercase letters, digits and single hyphens, at most 64 characters; a description of at most
/// 1024; a compatibility of at most 500), and this project's: the body says how to run the skill
/// from a shell (`skillrun run <id>`), for agents that have no MCP.
fn check_skill_md(skill: &Skill) -> Result<(), Error> {
    let fail = |problem: String| Err(Error::SkillMd { skill: skill.id().to_owned(), problem });
    let front = front_matter(&skill.skill_md);
    let get = |key: &str| front.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let name = get("name").unwrap_or_default();
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if !valid_name || name != skill.id() {
        return fail(format!(
            "`name: {name}` must be the skill's directory `{}`, 1 to 64 lowercase letters, digits and single hyphens",
            skill.id()
        ));
    }
    match get("description").map(|d| d.chars().count()) {
        None | Some(0) => return fail("`description` is missing; say what the skill does and when to use it".into()),
        Some(n) if n > 1024 => return fail(format!("`description` has {n} characters; the limit is 1024")),
        _ => {}
    }
    if let Some(n) = get("compatibility").map(|c| c.chars().count()).filter(|n| *n > 500) {
        return fail(format!("`compatibility` has {n} characters; the limit is 500"));
    }
    let command = format!("skillrun run {}", skill.id());
    if !skill.skill_md.contains(&command) {
        return fail(format!(
            "it must tell an agent without MCP how to run the skill from a shell: show `{command} --input '<json>' --json`"
        ));
    }
    Ok(())
}

/// The top-level `key: value` pairs of a `---` front matter block; a folded or literal block
/// (`key: >` / `key: |`) is joined from its indented lines, and surrounding quotes are removed.
fn front_matter(text: &str) -> Vec<(String, String)> {
    let Some(body) = text.strip_prefix("---\n") else { return Vec::new() };
    let block = body.find("\n---").map_or("", |end| &body[..end]);
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut lines = block.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((key, value)) = line.split_once(':').filter(|_| !line.starts_with([' ', '\t', '#'])) else { continue };
        let mut value = value.trim().to_owned();
        if value.starts_with(['>', '|']) {
            let mut parts = Vec::new();
            while let Some(next) = lines.next_if(|l| l.starts_with([' ', '\t']) || l.trim().is_empty()) {
                parts.push(next.trim());
            }
            value = parts.join(" ").trim().to_owned();
        } else if value.len() >= 2
            && (value.starts_with('"') && value.ends_with('"') || value.starts_with('\'') && value.ends_with('\''))
        {
            value = value[1..value.len() - 1].to_owned();
        }
        pairs.push((key.trim().to_owned(), value));
    }
    pairs
}

/// Writes `files` under `dir` (creating directories), replacing what is there. A file that is not
/// one of them is left alone, even under `dir/plugin/` (`check` names it).
pub fn write(dir: &Path, files: &Files) -> Result<(), Error> {
    for (rel, content) in files {
        let path = dir.join(rel);
        let io = |source| Error::Io { path: path.clone(), source };
        std::fs::create_dir_all(path.parent().expect("a relative path has a parent")).map_err(io)?;
        if std::fs::read(&path).ok().as_deref() != Some(content) {
            std::fs::write(&path, content).map_err(io)?;
        }
    }
    Ok(())
}

/// How `dir` differs from `files`: each file missing or different, and each file under
/// `dir/plugin/` that `files` does not have, as lines of text; none when it is up to date.
pub fn check(dir: &Path, files: &Files) -> Vec<String> {
    let mut drift = Vec::new();
    for (rel, content) in files {
        match std::fs::read(dir.join(rel)) {
            Ok(found) if &found == content => {}
            Ok(_) => drift.push(format!("differs: {rel}")),
            Err(_) => drift.push(format!("missing: {rel}")),
        }
    }
    let mut found = Vec::new();
    list(&dir.join(PLUGIN_DIR), PLUGIN_DIR, &mut found);
    found.sort();
    drift.extend(found.into_iter().filter(|rel| !files.contains_key(rel)).map(|rel| format!("not generated: {rel}")));
    drift
}

fn list(dir: &Path, rel: &str, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let rel = format!("{rel}/{}", entry.file_name().to_string_lossy());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            list(&entry.path(), &rel, out);
        } else {
            out.push(rel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(skill_md: &str) -> Registry {
        let mut files = crate::skills::embedded_files();
        files.insert("skills/database-setup/SKILL.md".into(), skill_md.as_bytes().to_vec());
        Registry::from_memory(files, false).unwrap()
    }

    fn problem(skill_md: &str) -> String {
        files(&registry(skill_md)).unwrap_err().to_string()
    }

    #[test]
    fn every_skill_of_the_set_gets_its_skill_md_and_a_place_in_the_descriptions() {
        let mut set = crate::skills::embedded_files();
        let manifest: Value = serde_json::from_slice(&set["manifest.json"]).unwrap();
        let mut second = manifest["skills"][0].clone();
        second["id"] = json!("database-setup-copy");
        second["dir"] = json!("skills/database-setup-copy");
        second["title"]["en"] = json!("A second skill");
        let mut manifest = manifest.clone();
        manifest["skills"].as_array_mut().unwrap().push(second);
        set.insert("manifest.json".into(), serde_json::to_vec(&manifest).unwrap());
        for (rel, content) in crate::skills::embedded_files() {
            if let Some(rest) = rel.strip_prefix("skills/database-setup/") {
                let text = String::from_utf8(content).unwrap().replace("database-setup", "database-setup-copy");
                set.insert(format!("skills/database-setup-copy/{rest}"), text.into_bytes());
            }
        }
        let out = files(&Registry::from_memory(set, false).unwrap()).unwrap();
        for id in ["database-setup", "database-setup-copy"] {
            let md = String::from_utf8(out[&format!("plugin/skills/{id}/SKILL.md")].clone()).unwrap();
            assert!(md.starts_with(&format!("---\nname: {id}\n")), "{md}");
        }
        let claude: Value = serde_json::from_slice(&out["plugin/.claude-plugin/plugin.json"]).unwrap();
        assert!(claude["description"].as_str().unwrap().ends_with("; database-setup-copy: A second skill"), "{claude}");
    }

    #[test]
    fn the_server_is_pinned_to_this_version_and_rooted_in_each_clients_workspace() {
        let out = files(&crate::skills::embedded().unwrap()).unwrap();
        let json = |rel: &str| serde_json::from_slice::<Value>(&out[rel]).unwrap();
        let pin = format!("skillrun-cli=={VERSION}");
        let rooted = |root: &str| json!(["--from", pin, "skillrun", "serve", "--root", root]);
        assert_eq!(json("plugin/.mcp.json")["mcpServers"]["skillrun"]["args"], rooted("${CLAUDE_PROJECT_DIR}"));
        assert_eq!(
            json("plugin/codex-mcp.json")["mcpServers"]["skillrun"]["args"],
            json!(["--from", pin, "skillrun", "serve"])
        );
        assert_eq!(json("plugin/gemini-extension.json")["mcpServers"]["skillrun"]["args"], rooted("${workspacePath}"));
        assert_eq!(json("plugin/.cursor/mcp.json")["mcpServers"]["skillrun"]["args"], rooted("${workspaceFolder}"));
        let vscode = json("plugin/.vscode/mcp.json");
        assert_eq!((vscode["servers"]["skillrun"]["type"].clone(), vscode.get("mcpServers")), (json!("stdio"), None));
    }

    #[test]
    fn a_skill_md_outside_the_agent_skills_rules_is_refused_with_the_rule() {
        let run = "\nRun: skillrun run database-setup --input '{}' --json\n";
        let long = "d".repeat(1025);
        assert!(
            problem(&format!("---\nname: database-setup\ndescription: {long}\n---\n{run}")).contains("1025 characters")
        );
        let folded = format!(
            "---\nname: database-setup\ndescription: >\n  {}\n  {}\n---\n{run}",
            "d".repeat(600),
            "d".repeat(600)
        );
        assert!(problem(&folded).contains("1201 characters"));
        let compat =
            format!("---\nname: database-setup\ndescription: x\ncompatibility: {}\n---\n{run}", "c".repeat(501));
        assert!(problem(&compat).contains("`compatibility` has 501"));
        assert!(problem("---\nname: database-setup\ndescription: x\n---\nno shell\n").contains("without MCP"));
        assert!(files(&registry(&format!("---\nname: database-setup\ndescription: \"x\"\n---\n{run}"))).is_ok());

        // The registry wants the name to be the skill's directory; the plugin puts it in
        // skills/<id>/, so a directory other than the id is refused here.
        let mut set = crate::skills::embedded_files();
        let text = String::from_utf8(set.remove("skills/database-setup/SKILL.md").unwrap()).unwrap();
        set.insert("skills/db/SKILL.md".into(), text.replacen("name: database-setup", "name: db", 1).into_bytes());
        for (rel, content) in crate::skills::embedded_files() {
            if let Some(rest) = rel.strip_prefix("skills/database-setup/").filter(|r| *r != "SKILL.md") {
                set.insert(format!("skills/db/{rest}"), content);
                set.remove(&rel);
            }
        }
        let manifest = String::from_utf8(set["manifest.json"].clone()).unwrap();
        set.insert("manifest.json".into(), manifest.replace("\"skills/database-setup\"", "\"skills/db\"").into_bytes());
        let problem = files(&Registry::from_memory(set, false).unwrap()).unwrap_err().to_string();
        assert!(problem.contains("`name: db` must be the skill's directory `database-setup`"), "{problem}");
    }
}
