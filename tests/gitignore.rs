//! `.env` really ignored: a run that would leave a password in a file git would commit is a
//! conflict with the rule that un-ignores it, judged the way git judges (negations, nested
//! `.gitignore`s, `info/exclude`, `core.excludesFile`, tracked files, a project in a
//! subdirectory) on the state the run leaves — and `git check-ignore` agrees afterwards. git run
//! by skillrun in a stranger's repository runs nothing the repository chooses.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Ran, Test};

/// A temporary home with its own git configuration, so the machine's does not count.
struct Home {
    t: Test,
}

impl Home {
    fn new() -> Home {
        let t = Test::new();
        let home = t.dir.path().join("home");
        std::fs::create_dir_all(home.join(".config")).unwrap();
        let t = t
            .env("HOME", home.to_str().unwrap())
            .env("XDG_CONFIG_HOME", home.join(".config").to_str().unwrap())
            .env("GIT_CONFIG_NOSYSTEM", "1");
        Home { t }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.t.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// `git ARGS` in `dir` with this home.
    fn git(&self, dir: &str, args: &[&str]) -> std::process::Output {
        let home = self.path("home");
        Command::new("git")
            .arg("-C")
            .arg(self.path(dir))
            .args(args)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .unwrap()
    }

    fn init(&self, dir: &str) {
        std::fs::create_dir_all(self.path(dir)).unwrap();
        assert!(self.git(dir, &["init", "-q"]).status.success());
    }

    /// Whether git ignores `rel` in `dir`, by `git check-ignore`.
    fn git_ignores(&self, dir: &str, rel: &str) -> bool {
        self.git(dir, &["check-ignore", "-q", "--", rel]).status.success()
    }

    /// database-setup on the project `dir` (relative to the temp dir), with `extra` arguments.
    fn run(&self, dir: &str, lang: &str, extra: &[&str]) -> Ran {
        let input =
            serde_json::json!({"projectPath": self.path(dir), "databaseUrl": "postgresql://app:Gi7-secret@db/app"});
        let mut cmd =
            self.t.command(["run", "database-setup", "--json", "--lang", lang, "--input", &input.to_string()]);
        cmd.args(extra);
        crate::support::run_command(cmd, None)
    }
}

fn env_entry(ran: &Ran) -> serde_json::Value {
    ran.json()["files"].as_array().unwrap().iter().find(|f| f["path"] == ".env").cloned().expect("a .env entry")
}

#[track_caller]
fn assert_no_password(ran: &Ran, project: &Path) {
    assert!(!ran.stdout.contains("Gi7-secret") && !ran.stderr.contains("Gi7-secret"), "{}", ran.stdout);
    assert!(
        !project.join(".env").exists()
            || !std::fs::read_to_string(project.join(".env")).unwrap().contains("Gi7-secret")
    );
}

#[test]
fn a_negation_after_env_is_a_conflict_naming_the_line() {
    let h = Home::new();
    h.init("project");
    h.write("project/.gitignore", "# local\n.env\n!.env\n");
    for (lang, words) in [
        ("en", "would be committed by git, password and all: `!.env` (.gitignore, line 3) re-includes it"),
        ("ko", ".gitignore의 3번째 줄 `!.env`가 무시를 취소합니다"),
    ] {
        for extra in [&[][..], &["--force"]] {
            let ran = h.run("project", lang, extra).code(3);
            let env = env_entry(&ran);
            assert_eq!(env["action"], "conflict", "{env}");
            assert!(env["reason"].as_str().unwrap().contains(words), "{env}");
            assert_no_password(&ran, &h.path("project"));
        }
    }
    assert!(!h.git_ignores("project", ".env"), "git agrees that .env is not ignored");
    // With the negation gone, the run goes through and git ignores the file it wrote.
    h.write("project/.gitignore", "# local\n.env\n");
    h.run("project", "en", &[]).code(0);
    assert!(h.git_ignores("project", ".env"));
}

#[test]
fn nested_gitignores_count_as_git_reads_them_for_a_project_in_a_subdirectory() {
    let h = Home::new();
    h.init("repo");
    // Above the project, a nested .gitignore un-ignores .env; the line this run adds to the
    // project's own .gitignore (deeper) ignores it again: no conflict, and git agrees.
    h.write("repo/.gitignore", ".env\n");
    h.write("repo/services/.gitignore", "!.env\n");
    std::fs::create_dir_all(h.path("repo/services/api")).unwrap();
    assert!(!h.git_ignores("repo", "services/api/.env"));
    h.run("repo/services/api", "en", &[]).code(0);
    assert!(h.git_ignores("repo", "services/api/.env"));
    assert!(std::fs::read_to_string(h.path("repo/services/api/.env")).unwrap().contains("Gi7-secret"));

    // The project's own .gitignore ignores .env, then re-includes it: the line is named by its
    // path from the repository's top.
    h.write("repo/services/web/.gitignore", ".env\n*.log\n!.env\n");
    let ran = h.run("repo/services/web", "en", &[]).code(3);
    let reason = env_entry(&ran)["reason"].as_str().unwrap().to_owned();
    assert!(reason.contains("`!.env` (services/web/.gitignore, line 3)"), "{reason}");
    assert!(!h.git_ignores("repo", "services/web/.env"));

    // A directory above the project that is excluded keeps .env excluded, whatever re-includes it.
    h.write("repo/.gitignore", ".env\nvendor/\n");
    h.write("repo/vendor/app/.gitignore", ".env\n!.env\n");
    h.run("repo/vendor/app", "en", &[]).code(0);
    assert!(h.git_ignores("repo", "vendor/app/.env"));
}

#[test]
fn a_tracked_env_is_a_conflict_even_when_a_rule_ignores_it() {
    let h = Home::new();
    h.init("project");
    h.write("project/.env", "DEBUG=1\n");
    assert!(h.git("project", &["add", ".env"]).status.success());
    h.write("project/.gitignore", ".env\n");
    let ran = h.run("project", "en", &["--force"]).code(3);
    assert!(env_entry(&ran)["reason"].as_str().unwrap().contains("git rm --cached .env"), "{}", ran.stdout);
    assert_eq!(std::fs::read_to_string(h.path("project/.env")).unwrap(), "DEBUG=1\n");
}

#[test]
fn no_repository_no_git_and_a_planned_gitignore() {
    // No repository at all: nothing would commit the file.
    let h = Home::new();
    std::fs::create_dir_all(h.path("project")).unwrap();
    h.write("project/.gitignore", ".env\n!.env\n");
    h.run("project", "en", &[]).code(0);
    // A repository, but no git program on PATH: the rules are still read from the files.
    let h = Home::new();
    h.init("project");
    h.write("project/.gitignore", ".env\n!.env\n");
    let empty = h.path("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let input = serde_json::json!({"projectPath": h.path("project"), "databaseUrl": "sqlite:///./app.db"});
    let t = Home { t: h.t.env("PATH", empty.to_str().unwrap()) };
    let ran = crate::support::run_command(
        t.t.command(["run", "database-setup", "--json", "--input", &input.to_string()]),
        None,
    )
    .code(3);
    assert!(env_entry(&ran)["reason"].as_str().unwrap().contains("`!.env` (.gitignore, line 2)"), "{}", ran.stdout);
}

/// A skill that writes a secret `.env` but adds no `.gitignore` line, so the repository's own
/// rules decide; its `token` field is secret as a whole (`x-secret`).
fn token_skill(root: &Path) {
    let write = |rel: &str, text: &str| crate::support::write_file(root, rel, text);
    write(
        "manifest.json",
        r#"{"skills": [{"id": "token-file", "version": "0.1.0",
        "title": {"en": "Token file", "ko": "토큰 파일"}, "description": {"en": "Writes a token.", "ko": "토큰을 씁니다."},
        "triggers": {"en": ["write the token"], "ko": ["토큰 작성"]},
        "inputSchema": "schemas/token.json", "dir": "skills/token-file"}]}"#,
    );
    write(
        "schemas/token.json",
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
        "properties": {"projectPath": {"type": "string", "x-project-dir": true}, "token": {"type": "string", "minLength": 8, "x-secret": true}},
        "required": ["projectPath", "token"], "additionalProperties": false}"#,
    );
    write(
        "skills/token-file/SKILL.md",
        "---\nname: token-file\ndescription: Writes .env. Use for \"write the token\".\n---\n# Token\n",
    );
    write(
        "skills/token-file/skill.json",
        r#"{"steps": [{"kind": "env-file", "path": ".env", "secret": true, "set": {"API_TOKEN": "{{ token }}"}},
        {"kind": "render", "path": "token.txt", "template": "templates/token.txt.tera"}],
        "commands": [{"run": "echo {{ token }}"}]}"#,
    );
    write("skills/token-file/templates/token.txt.tera", "token: {{ token }}\n");
}

#[test]
fn info_exclude_and_core_excludes_file_count_in_gits_order() {
    let h = Home::new();
    let skills = h.path("skills");
    token_skill(&skills);
    let run = |h: &Home| {
        let input = serde_json::json!({"projectPath": h.path("repo"), "token": "tok-Secr3t-value"});
        let cmd = h.t.command([
            "--skills-dir",
            skills.to_str().unwrap(),
            "run",
            "token-file",
            "--json",
            "--input",
            &input.to_string(),
        ]);
        crate::support::run_command(cmd, None)
    };
    h.init("repo");
    // No rule at all.
    let ran = run(&h).code(3);
    assert!(
        env_entry(&ran)["reason"].as_str().unwrap().contains("no ignore rule covers it; add `.env` to .gitignore"),
        "{}",
        ran.stdout
    );
    // core.excludesFile (in the repository's config) ignores it.
    h.write("excludes", ".env\n");
    assert!(h.git("repo", &["config", "core.excludesFile", h.path("excludes").to_str().unwrap()]).status.success());
    let ran = run(&h).code(0);
    assert!(h.git_ignores("repo", ".env"));
    // The secret field is written to the secret file only; elsewhere it reads `***`.
    assert_eq!(std::fs::read_to_string(h.path("repo/.env")).unwrap(), "API_TOKEN=tok-Secr3t-value\n");
    assert_eq!(std::fs::read_to_string(h.path("repo/token.txt")).unwrap(), "token: ***\n");
    assert_eq!(ran.json()["commands"][0], "echo ***");
    assert!(!ran.stdout.contains("tok-Secr3t") && !ran.stderr.contains("tok-Secr3t"));
    let answers = std::fs::read_to_string(h.path("repo/.skillrun/answers.json")).unwrap();
    assert!(answers.contains("\"token\": \"***\"") && !answers.contains("tok-Secr3t"), "{answers}");
    // info/exclude re-includes it, and comes before the excludes file.
    h.write("repo/.git/info/exclude", "!.env\n");
    let ran = run(&h).code(3);
    assert!(
        env_entry(&ran)["reason"].as_str().unwrap().contains("`!.env` (.git/info/exclude, line 1)"),
        "{}",
        ran.stdout
    );
    assert!(!h.git_ignores("repo", ".env"));
    // info/exclude ignores it; a .gitignore (before info/exclude) re-includes it.
    h.write("repo/.git/info/exclude", ".env\n");
    run(&h).code(0);
    h.write("repo/.gitignore", "!.env\n");
    let ran = run(&h).code(3);
    assert!(env_entry(&ran)["reason"].as_str().unwrap().contains("`!.env` (.gitignore, line 1)"), "{}", ran.stdout);
    assert!(!h.git_ignores("repo", ".env"));
    // The global excludes file (the default place, with no core.excludesFile set).
    assert!(h.git("repo", &["config", "--unset", "core.excludesFile"]).status.success());
    std::fs::remove_file(h.path("repo/.gitignore")).unwrap();
    std::fs::remove_file(h.path("repo/.git/info/exclude")).unwrap();
    h.write("home/.config/git/ignore", ".env\n");
    run(&h).code(0);
    assert!(h.git_ignores("repo", ".env"));
}

/// A repository's configuration that makes git run a program (`core.fsmonitor`, hooks) does not
/// run it when skillrun asks git; plain git would. A FIFO where git reads its index does not
/// hang the run: git's answer is then unknown, which is a conflict.
#[test]
fn a_hostile_repository_config_runs_nothing_and_a_fifo_index_does_not_hang() {
    let h = Home::new();
    h.init("repo");
    let marker = h.path("ran");
    let script = h.path("fsmonitor.sh");
    std::fs::write(&script, format!("#!/bin/sh\ntouch '{}'\n", marker.display())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    h.write("repo/.gitignore", ".env\n");
    h.write("repo/README", "x\n");
    assert!(h.git("repo", &["add", "README"]).status.success());
    for (key, value) in
        [("core.fsmonitor", script.to_str().unwrap()), ("core.hooksPath", h.path("hooks").to_str().unwrap())]
    {
        assert!(h.git("repo", &["config", key, value]).status.success());
    }
    h.run("repo", "en", &[]).code(0);
    assert!(!marker.exists(), "skillrun's git ran the repository's fsmonitor");
    h.git("repo", &["ls-files"]);
    assert!(marker.exists(), "plain git runs it (the attack is real)");

    let h = Home::new();
    h.init("repo");
    h.write("repo/.gitignore", ".env\n");
    let index = h.path("repo/.git/index");
    let _ = std::fs::remove_file(&index);
    let made = Command::new("mkfifo").arg(&index).status().unwrap();
    assert!(made.success());
    let ran = h.run("repo", "en", &[]).code(3);
    assert!(
        env_entry(&ran)["reason"].as_str().unwrap().contains("cannot tell whether git would commit it"),
        "{}",
        ran.stdout
    );
}
