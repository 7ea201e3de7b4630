//! Repositories that bring a `.skillrun/` of their own, cloned with git and then used through
//! the command line, `skillrun recover`, the stdio MCP server and the HTTP chat: a journal
//! pointing through symbolic links, at `..`, at absolute paths, at files skillrun never wrote, old
//! copies that are not what they claim, a genuine journal copied from another directory. None is
//! acted on; nothing outside the project changes, and nothing inside either.

use std::process::Command;

use serde_json::json;

use super::{Outside, git, input, run_bounded, snapshot};

/// What a hostile repository carries under `.skillrun/journal/`.
enum Plant {
    /// A `journal.json` with this text, plus `old-0` holding the attacker's content.
    Record(String),
    /// `.skillrun/journal` is a symbolic link to the outside directory, which holds a journal.
    JournalLink,
    /// `.skillrun` itself is a symbolic link to the outside directory.
    StateLink,
    /// No record; `old-0` is a symbolic link to the outside victim.
    CopyLink,
}

/// A well-formed record of this skillrun's format that names `path`, with made-up inode numbers.
fn record(path: &str, staged: Option<u64>, old: bool) -> String {
    json!({
        "version": 2, "projectIno": 4242, "journalIno": 4343,
        "files": [{"path": path, "old": if old { json!({"name": "old-0", "ino": 77}) } else { json!(null) }, "stagedIno": staged}],
        "dirs": ["app"], "madeStateDir": false
    })
    .to_string()
}

/// Makes a repository with a small project and `plant`, commits it, and clones it next to it.
/// Returns (the clone, the outside directory).
fn cloned(plant: &Plant, outside: &Outside) -> (tempfile::TempDir, std::path::PathBuf) {
    let work = tempfile::tempdir().unwrap();
    let origin = work.path().join("origin");
    std::fs::create_dir_all(origin.join(".skillrun")).unwrap();
    std::fs::write(origin.join("requirements.txt"), "fastapi\n").unwrap();
    std::fs::write(origin.join("important.txt"), "the user's own file\n").unwrap();
    let journal = origin.join(".skillrun/journal");
    match plant {
        Plant::Record(text) => {
            std::fs::create_dir(&journal).unwrap();
            std::fs::write(journal.join("journal.json"), text).unwrap();
            std::fs::write(journal.join("old-0"), "attacker's content\n").unwrap();
        }
        Plant::JournalLink => {
            std::fs::write(outside.path().join("journal.json"), record("important.txt", Some(1), true)).ok();
            std::os::unix::fs::symlink(outside.path(), &journal).unwrap();
        }
        Plant::StateLink => {
            std::fs::remove_dir(origin.join(".skillrun")).unwrap();
            std::os::unix::fs::symlink(outside.path(), origin.join(".skillrun")).unwrap();
        }
        Plant::CopyLink => {
            std::fs::create_dir(&journal).unwrap();
            std::os::unix::fs::symlink(outside.path().join("victim.txt"), journal.join("old-0")).unwrap();
        }
    }
    git(&origin, &["init", "-q"]);
    git(&origin, &["add", "-A"]);
    git(&origin, &["commit", "-qm", "a present"]);
    let clone = work.path().join("clone");
    git(work.path(), &["clone", "-q", "origin", "clone"]);
    (work, clone)
}

fn outside_record(outside: &Outside) -> Vec<String> {
    let victim = outside.path().join("victim.txt").display().to_string();
    vec![
        record("../outside/victim.txt", Some(1), false),
        record(&victim, Some(1), false),
        record("important.txt", Some(1), true),
        record(".skillrun/journal/../../important.txt", None, false),
        "{\"version\": 2, \"files\": \"not a list\"}".to_owned(),
        "not json at all".to_owned(),
    ]
}

#[test]
fn a_journal_that_came_with_the_repository_is_never_acted_on() {
    let outside = Outside::new();
    // The journal link plants its record in `outside`: that is part of what must stay.
    let mut plants: Vec<Plant> = outside_record(&outside).into_iter().map(Plant::Record).collect();
    plants.extend([Plant::StateLink, Plant::CopyLink]);
    for (i, plant) in plants.iter().enumerate() {
        let (_work, project) = cloned(plant, &outside);
        let before = snapshot(&project);
        let what = format!("plant {i}");
        // The command line.
        let (code, stdout, _) = run_bounded(
            &["run", "database-setup", "--json", "--input", &input(&project, "sqlite:///./app.db")],
            &project,
            &[],
        );
        assert_eq!(code, 1, "{what}: {stdout}");
        let message =
            serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains("holds a journal that skillrun will not act on") || message.contains("symbolic link"),
            "{what}: {message}"
        );
        // `skillrun recover`.
        let (code, _, stderr) = run_bounded(&["recover", project.to_str().unwrap()], &project, &[]);
        assert_eq!(code, 1, "{what}: recover: {stderr}");
        assert!(stderr.contains("will not act on"), "{what}: {stderr}");
        assert_eq!(snapshot(&project), before, "{what}: the project changed");
        outside.check_untouched(&what);
    }
}

#[test]
fn a_journal_linked_out_of_the_project_is_never_followed() {
    let outside = Outside::new();
    let (_work, project) = cloned(&Plant::JournalLink, &outside);
    let planted = std::fs::read(outside.path().join("journal.json")).unwrap();
    let before = snapshot(&project);
    let (code, stdout, _) = run_bounded(
        &["run", "database-setup", "--json", "--input", &input(&project, "sqlite:///./app.db")],
        &project,
        &[],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("will not act on"), "{stdout}");
    assert_eq!(snapshot(&project), before);
    assert_eq!(std::fs::read(outside.path().join("journal.json")).unwrap(), planted);
    assert_eq!(std::fs::read_to_string(outside.path().join("victim.txt")).unwrap(), "precious\n");
}

/// A genuine journal (a run killed part-way) copied into another directory is not replayed
/// there: it names this skillrun's files in this skillrun's format, but not this directory.
#[test]
fn a_genuine_journal_copied_elsewhere_is_refused_and_the_original_still_recovers() {
    let work = tempfile::tempdir().unwrap();
    let first = work.path().join("first");
    std::fs::create_dir(&first).unwrap();
    std::fs::write(first.join("requirements.txt"), "fastapi\n").unwrap();
    let before_first = snapshot(&first);
    // Killed after the journal is complete and some files are in place.
    let (_, _, _) = run_bounded(
        &["run", "database-setup", "--json", "--input", &input(&first, "sqlite:///./app.db")],
        work.path(),
        &[("SKILLRUN_KILL_AT", "30")],
    );
    assert!(first.join(".skillrun/journal/journal.json").exists(), "the run was killed mid-apply");
    let second = work.path().join("second");
    let copied = Command::new("cp").args(["-a"]).arg(&first).arg(&second).status().unwrap();
    assert!(copied.success());
    let before_second = snapshot(&second);
    let (code, stdout, _) = run_bounded(
        &["run", "database-setup", "--json", "--input", &input(&second, "sqlite:///./app.db")],
        work.path(),
        &[],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("not written by a run in this directory"), "{stdout}");
    assert_eq!(snapshot(&second), before_second);
    // The original directory's own journal is recovered as before.
    let (code, stdout, stderr) = run_bounded(&["recover", first.to_str().unwrap()], work.path(), &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("rolled back"), "{stdout}");
    assert_eq!(snapshot(&first), before_first);
}

#[test]
fn a_planted_journal_is_refused_over_stdio_mcp_and_http_chat() {
    let outside = Outside::new();
    let plant = Plant::Record(record("important.txt", Some(1), true));
    // stdio MCP.
    let (_work, project) = cloned(&plant, &outside);
    let before = snapshot(&project);
    let mut server = crate::mcp::Server::start_args(&[], &[]);
    server.initialize("2025-11-25");
    let result = server.call("database-setup", json!({"projectPath": project, "databaseUrl": "sqlite:///./app.db"}));
    assert_eq!(result["isError"], true, "{result}");
    assert!(result["structuredContent"]["message"].as_str().unwrap().contains("will not act on"), "{result}");
    drop(server);
    assert_eq!(snapshot(&project), before);
    // HTTP chat: the conversation reaches "yes", and the run is refused.
    let (work, project) = cloned(&plant, &outside);
    let before = snapshot(&project);
    let root = work.path().to_str().unwrap();
    let server = crate::support::Server::start(&["--root", root], "hostile-token-0123456789", &[]);
    let say = |text: &str| server.chat(&json!({"conversation": "h1", "text": text})).json();
    let turn = say(&format!("set up the database with sqlite:///./app.db in {}", project.display()));
    assert_eq!(turn["step"], "confirming", "{turn}");
    let turn = say("yes");
    assert_eq!(turn["step"], "done", "{turn}");
    assert!(turn["reply"].as_str().unwrap().contains("will not act on"), "{turn}");
    assert_eq!(snapshot(&project), before);
    outside.check_untouched("mcp and chat");
}

#[test]
fn backups_and_answers_reached_through_links_are_refused() {
    let outside = Outside::new();
    let t = crate::support::Test::new();
    t.database_setup("sqlite:///./app.db", &[]).code(0);
    t.write("app/core/config.py", "# the user's own settings\n");
    // `.skillrun/backups` now leads outside: --force must not put a backup there.
    std::os::unix::fs::symlink(outside.path(), t.project().join(".skillrun/backups")).unwrap();
    let before = snapshot(&t.project());
    let ran = t.database_setup("sqlite:///./app.db", &["--force"]);
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    assert!(ran.stdout.contains("`.skillrun/backups` is a symbolic link"), "{}", ran.stdout);
    assert_eq!(snapshot(&t.project()), before);
    outside.check_untouched("backups");
    // An answers file that is a link out of the project is not read.
    std::fs::remove_file(t.project().join(".skillrun/backups")).unwrap();
    std::fs::rename(t.project().join(".skillrun/answers.json"), outside.path().join("answers.json")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("answers.json"), t.project().join(".skillrun/answers.json"))
        .unwrap();
    let ran = t.database_setup("sqlite:///./app.db", &["--dry-run"]);
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    assert!(ran.stdout.contains("symbolic link"), "{}", ran.stdout);
}
