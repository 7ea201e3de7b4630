//! Re-running a skill on a project it already set up, as copier's `update` and Rails' generators
//! do: `.skillrun/answers.json` tells a file the skill wrote and nobody touched (updated without
//! asking) from one the user edited (a conflict, unless `--skip-existing` leaves it or `--force`
//! replaces it with a backup). Re-running after `--force` changes nothing.

use serde_json::Value;

use crate::support::{Ran, Test};

struct Greeting {
    t: Test,
    skills: String,
}

impl Greeting {
    fn new() -> Greeting {
        let t = Test::new();
        let skills = t.dir.path().join("skills-set");
        crate::skills_dir::greeting_skill(&skills);
        std::fs::create_dir(t.project()).unwrap();
        Greeting { skills: skills.display().to_string(), t }
    }
    fn run(&self, name: &str, extra: &[&str]) -> Ran {
        let input = serde_json::json!({"projectPath": self.t.project(), "name": name}).to_string();
        let mut args = vec!["--skills-dir", &self.skills, "run", "greeting-file", "--json", "--input", &input];
        args.extend(extra);
        Test::new().args(args).run()
    }
}

fn action(report: &Value, path: &str) -> String {
    let file = report["files"].as_array().unwrap().iter().find(|f| f["path"] == path);
    file.unwrap_or_else(|| panic!("{path} not in {report}"))["action"].as_str().unwrap().to_owned()
}

#[test]
fn an_unedited_file_is_updated_an_edited_one_is_a_conflict() {
    let g = Greeting::new();
    g.run("Ada", &[]).code(0);
    let answers: Value = serde_json::from_str(&g.t.read(".skillrun/answers.json")).unwrap();
    let entry = &answers["skills"]["greeting-file"];
    assert_eq!(entry["version"], "0.1.0");
    assert_eq!(entry["input"], serde_json::json!({"name": "Ada"}), "normalized input without projectPath");
    assert_eq!(entry["files"]["hello.txt"], skillrun::provenance::hash(b"Hello, Ada!\n"));
    assert!(entry["files"].get(".gitignore").is_none(), "merged files are shared with the user: no hash");

    // Nobody edited hello.txt: a new answer replaces it without --force.
    let ran = g.run("Grace", &[]).code(0);
    assert_eq!(action(&ran.json(), "hello.txt"), "updated", "{}", ran.stdout);
    assert_eq!(g.t.read("hello.txt"), "Hello, Grace!\n");
    assert!(!g.t.project().join(".skillrun/backups").exists(), "the skill's own output needs no backup");

    // The user edits it: now it is theirs, and a change is a conflict with a diff.
    g.t.write("hello.txt", "Hello, Grace! (and the team)\n");
    let ran = g.run("Linus", &[]).code(3);
    let report = ran.json();
    assert_eq!(action(&report, "hello.txt"), "conflict");
    let diff = report["files"].as_array().unwrap().iter().find(|f| f["path"] == "hello.txt").unwrap()["diff"].clone();
    assert!(diff.as_str().unwrap().contains("+Hello, Linus!"), "{diff}");
    assert_eq!(g.t.read("hello.txt"), "Hello, Grace! (and the team)\n");

    // --skip-existing writes the rest and leaves it; the recorded hash stays the skill's.
    let ran = g.run("Linus", &["--skip-existing"]).code(0);
    let report = ran.json();
    assert_eq!(report["status"], "applied");
    assert_eq!(action(&report, "hello.txt"), "skipped");
    assert_eq!(g.t.read("hello.txt"), "Hello, Grace! (and the team)\n");
    let answers: Value = serde_json::from_str(&g.t.read(".skillrun/answers.json")).unwrap();
    assert_eq!(
        answers["skills"]["greeting-file"]["files"]["hello.txt"],
        skillrun::provenance::hash(b"Hello, Grace!\n")
    );
    assert_eq!(answers["skills"]["greeting-file"]["input"]["name"], "Linus");

    // --force replaces it and keeps the user's version as a backup; a re-run is a no-op.
    let ran = g.run("Linus", &["--force"]).code(0);
    let report = ran.json();
    let hello = report["files"].as_array().unwrap().iter().find(|f| f["path"] == "hello.txt").unwrap().clone();
    assert_eq!(hello["action"], "updated");
    let backup = hello["backup"].as_str().expect("a backup is named");
    assert_eq!(g.t.read(backup), "Hello, Grace! (and the team)\n");
    let again = g.run("Linus", &["--force"]).code(0).json();
    assert!(again["files"].as_array().unwrap().iter().all(|f| f["action"] == "unchanged"), "{again}");
    let backups = std::fs::read_dir(g.t.project().join(".skillrun/backups")).unwrap().count();
    assert_eq!(backups, 1, "a no-op run makes no backup");
}

#[test]
fn skip_existing_and_force_cannot_be_combined() {
    let g = Greeting::new();
    let ran = g.run("Ada", &["--force", "--skip-existing"]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stderr.contains("--skip-existing"), "{}", ran.stderr);
    assert_eq!(std::fs::read_dir(g.t.project()).unwrap().count(), 0);
}

#[test]
fn dry_run_shows_a_diff_for_every_changed_file() {
    let g = Greeting::new();
    g.run("Ada", &[]).code(0);
    g.t.write("hello.txt", "Hi!\n");
    let report = g.run("Ada", &["--dry-run"]).code(3).json();
    let hello = report["files"].as_array().unwrap().iter().find(|f| f["path"] == "hello.txt").unwrap().clone();
    assert!(hello["diff"].as_str().unwrap().contains("-Hi!\n+Hello, Ada!"), "{hello}");
    assert_eq!(g.t.read("hello.txt"), "Hi!\n");
    // An update the skill may make on its own is shown too.
    g.t.write("hello.txt", "Hello, Ada!\n");
    let report = g.run("Grace", &["--dry-run"]).code(0).json();
    let hello = report["files"].as_array().unwrap().iter().find(|f| f["path"] == "hello.txt").unwrap().clone();
    assert_eq!(hello["action"], "updated");
    assert!(hello["diff"].as_str().unwrap().contains("-Hello, Ada!\n+Hello, Grace!"), "{hello}");
    assert_eq!(g.t.read("hello.txt"), "Hello, Ada!\n");
}
