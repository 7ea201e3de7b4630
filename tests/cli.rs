//! The CLI's run contract: URL derivation as seen in `.env`, the report, idempotent re-runs,
//! conflicts (exit 3, nothing written), `--force` with backups, `--dry-run`, dependency files.

use crate::support::Test;

fn actions(json: &serde_json::Value) -> Vec<(String, String)> {
    json["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().to_owned(), f["action"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn urls_become_the_async_drivers_in_env_only() {
    for (given, stored, kind) in [
        ("postgres://app:s3cret@db:5432/app", "postgresql+asyncpg://app:s3cret@db:5432/app", "postgresql"),
        (
            "postgresql+psycopg2://app@db/app?sslmode=require",
            "postgresql+asyncpg://app@db/app?ssl=require",
            "postgresql",
        ),
        (
            "mysql+pymysql://root:pw@127.0.0.1:3306/app",
            "mysql+aiomysql://root:pw@127.0.0.1:3306/app?charset=utf8mb4",
            "mysql",
        ),
        ("sqlite:///./app.db", "sqlite+aiosqlite:///./app.db", "sqlite"),
        ("postgresql://app:p%40ss%w0rd@db/app", "postgresql+asyncpg://app:p%40ss%25w0rd@db/app", "postgresql"),
    ] {
        let t = Test::new();
        let json = t.database_setup(given, &[]).code(0).json();
        assert_eq!(t.read(".env"), format!("DATABASE_URL={stored}\n"), "{given}");
        assert!(
            json["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap().contains(&format!("dbType \"{kind}\" was taken from the URL")))
        );
        assert!(!t.read("alembic.ini").contains("://"), "no URL in alembic.ini");
        assert!(t.read(".env.example").starts_with("DATABASE_URL="));
    }
}

#[test]
fn report_lists_every_file_and_the_commands_in_order() {
    let t = Test::new();
    let json = t.database_setup("sqlite:///./app.db", &[]).code(0).json();
    assert_eq!(json["status"], "applied");
    let files = actions(&json);
    assert!(files.iter().all(|(_, a)| a == "created"), "{files:?}");
    for path in [
        "alembic.ini",
        "app/core/config.py",
        "app/infrastructure/database/session.py",
        "app/infrastructure/database/migrations/env.py",
        "app/infrastructure/database/models/user.py",
        "app/api/v1/dependencies/database.py",
        ".env",
        ".env.example",
        ".gitignore",
        "requirements.txt",
    ] {
        assert!(files.iter().any(|(p, _)| p == path), "{path} missing from {files:?}");
        assert!(t.project().join(path).is_file(), "{path} not written");
    }
    let commands: Vec<&str> = json["commands"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(
        commands[..3],
        [
            "python -m pip install -r requirements.txt",
            "alembic revision --autogenerate -m \"Initial migration\"",
            "alembic upgrade head"
        ]
    );
    // Run top to bottom they succeed: the check comes after the upgrade, the undo last.
    assert_eq!(commands[3..], ["alembic check", "alembic current", "alembic history", "alembic downgrade -1"]);
    assert!(t.read("requirements.txt").contains("aiosqlite"));
}

#[test]
fn a_second_run_changes_nothing() {
    let t = Test::new();
    t.database_setup("sqlite:///./app.db", &[]).code(0);
    let before = t.snapshot();
    let json = t.database_setup("sqlite:///./app.db", &[]).code(0).json();
    assert!(actions(&json).iter().all(|(_, a)| a == "unchanged"), "{:?}", actions(&json));
    assert_eq!(t.snapshot(), before);
}

#[test]
fn a_changed_file_is_a_conflict_and_nothing_is_written() {
    let t = Test::new();
    t.database_setup("sqlite:///./app.db", &[]).code(0);
    t.write("alembic.ini", "[alembic]\n# mine\n");
    std::fs::remove_file(t.project().join("app/core/config.py")).unwrap();
    let before = t.snapshot();
    let json = t.database_setup("sqlite:///./app.db", &[]).code(3).json();
    assert_eq!(json["status"], "conflict");
    let files = actions(&json);
    assert!(files.contains(&("alembic.ini".into(), "conflict".into())));
    assert!(files.contains(&("app/core/config.py".into(), "created".into())));
    assert_eq!(t.snapshot(), before, "nothing may be written on conflict");
    let conflict = json["files"].as_array().unwrap().iter().find(|f| f["path"] == "alembic.ini").unwrap();
    assert!(conflict["diff"].as_str().unwrap().contains("-# mine"));
    assert!(json["message"].as_str().unwrap().contains("--force"));
}

#[test]
fn force_replaces_and_keeps_a_backup() {
    let t = Test::new();
    t.database_setup("sqlite:///./app.db", &[]).code(0);
    t.write("alembic.ini", "[alembic]\n# mine\n");
    let json = t.database_setup("sqlite:///./app.db", &["--force"]).code(0).json();
    let entry = json["files"].as_array().unwrap().iter().find(|f| f["path"] == "alembic.ini").unwrap().clone();
    assert_eq!(entry["action"], "updated");
    let backup = entry["backup"].as_str().unwrap();
    assert!(backup.starts_with(".skillrun/backups/"), "{backup}");
    assert_eq!(t.read(backup), "[alembic]\n# mine\n");
    assert!(t.read("alembic.ini").contains("script_location"));
}

#[test]
fn dry_run_writes_nothing_and_says_what_would_happen() {
    let t = Test::new();
    t.write("README.md", "hello\n");
    let before = t.snapshot();
    let json = t.database_setup("sqlite:///./app.db", &["--dry-run"]).code(0).json();
    assert_eq!(json["status"], "dry-run");
    assert!(actions(&json).iter().all(|(_, a)| a == "created"));
    assert_eq!(t.snapshot(), before);
}

#[test]
fn user_files_are_merged_not_replaced() {
    let t = Test::new();
    t.write(".gitignore", "node_modules/\n");
    t.write(".env", "DEBUG=true\n");
    t.write("app/__init__.py", "\"\"\"My app.\"\"\"\n");
    t.write("pyproject.toml", "[project]\nname = \"api\"\nversion = \"0.1.0\"\ndependencies = [\"fastapi>=0.115\"]\n");
    let json = t.database_setup("sqlite:///./app.db", &[]).code(0).json();
    let files = actions(&json);
    assert!(files.contains(&("app/__init__.py".into(), "skipped".into())));
    assert!(files.contains(&("pyproject.toml".into(), "updated".into())));
    assert!(!files.iter().any(|(p, _)| p == "requirements.txt"));
    assert_eq!(t.read("app/__init__.py"), "\"\"\"My app.\"\"\"\n");
    assert_eq!(t.read(".gitignore").lines().next(), Some("node_modules/"));
    assert!(t.read(".gitignore").lines().any(|l| l == ".env"));
    assert_eq!(t.read(".env"), "DEBUG=true\nDATABASE_URL=sqlite+aiosqlite:///./app.db\n");
    let pyproject = t.read("pyproject.toml");
    // The generated code needs FastAPI 0.121: the project's lower floor is raised, and the report says so.
    assert!(pyproject.contains("\"fastapi>=0.121\"") && !pyproject.contains("fastapi>=0.115"), "{pyproject}");
    let notes = json["notes"].to_string();
    assert!(notes.contains("pyproject.toml: raised fastapi from >=0.115 to >=0.121"), "{notes}");
    assert!(pyproject.contains("\"aiosqlite>=") && pyproject.contains("\"alembic>="), "{pyproject}");
    assert!(
        json["commands"][0].as_str().unwrap().starts_with("python -m pip install \"fastapi"),
        "{}",
        json["commands"][0]
    );
}

#[test]
fn env_value_that_differs_is_a_conflict() {
    let t = Test::new();
    t.write(".env", "DATABASE_URL=postgresql+asyncpg://other@db/app\n");
    let json = t.database_setup("sqlite:///./app.db", &[]).code(3).json();
    let env = json["files"].as_array().unwrap().iter().find(|f| f["path"] == ".env").unwrap().clone();
    assert_eq!(env["action"], "conflict");
    assert!(env["reason"].as_str().unwrap().contains("DATABASE_URL"));
    assert!(env.get("diff").is_none(), "no diff of a secret file");
}

#[test]
fn human_output_is_aligned_and_localized() {
    let t = Test::new();
    let input = serde_json::json!({"projectPath": t.project(), "databaseUrl": "sqlite:///./app.db"}).to_string();
    let ran = t.args(["run", "database-setup", "--lang", "ko", "--input", &input]).run().code(0);
    assert!(ran.stdout.contains("  created    alembic.ini\n"), "{}", ran.stdout);
    assert!(ran.stdout.contains("다음 명령:"), "{}", ran.stdout);
    assert!(
        ran.stdout.trim_end().ends_with("다음: alembic revision --autogenerate -m \"Initial migration\""),
        "{}",
        ran.stdout
    );
}

#[test]
fn input_from_file_stdin_and_set() {
    let t = Test::new();
    let input = serde_json::json!({"projectPath": t.project(), "databaseUrl": "sqlite:///./a.db"}).to_string();
    let t = t.args(["run", "database-setup", "--json", "--input", "-", "--set", "dbType=sqlite"]).stdin(input);
    t.run().code(0);
    assert!(t.read(".env").contains("sqlite+aiosqlite:///./a.db"));
}

#[test]
fn list_schema_and_show() {
    let ran = Test::new().args(["list", "--json"]).run().code(0);
    assert_eq!(ran.json()["skills"][0]["id"], "database-setup");
    let ran = Test::new().args(["schema", "database-setup"]).run().code(0);
    assert_eq!(ran.json()["properties"]["dbType"]["default"], "postgresql");
    let ran = Test::new().args(["show", "database-setup"]).run().code(0);
    assert!(ran.stdout.starts_with("---\nname: database-setup\n"));
}

#[test]
fn at_a_terminal_missing_inputs_are_asked_for() {
    let t = Test::new();
    // `script` gives the binary a pseudo-terminal and types our answers into it.
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &format!("{} run database-setup --lang en", crate::support::BIN), "/dev/null"])
        .current_dir(t.dir.path());
    let ran = crate::support::run_command(cmd, Some("project\nsqlite:///./app.db\n"));
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert!(
        ran.stdout.contains("projectPath (give the project's directory, e.g. \"projectPath\": \"./my-api\"): "),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.contains("databaseUrl (give a URL such as"), "{}", ran.stdout);
    assert_eq!(t.read(".env"), "DATABASE_URL=sqlite+aiosqlite:///./app.db\n");
}

#[test]
fn chat_with_text_is_one_shot_and_without_reads_a_conversation_from_stdin() {
    let t = Test::new();
    let project = t.project().display().to_string();
    // With TEXT: one answer (the match and what is missing); stdin is not read, nothing runs.
    let one_shot =
        t.run_with(&["chat", &format!("DB 설정 해줘 {project} sqlite:///./app.db"), "--json"], "네\n").code(0);
    let answer = one_shot.json();
    assert_eq!(answer["matches"][0]["skill"], "database-setup", "{answer}");
    assert_eq!(answer["matches"][0]["missingInputs"], serde_json::json!([]));
    assert!(!t.project().exists());
    // Without TEXT: the same words and a "네" on stdin run the skill.
    let talk = t.run_with(&["chat"], &format!("DB 설정 해줘 {project} sqlite:///./app.db\n네\n")).code(0);
    assert!(talk.stdout.contains("진행할까요?") && talk.stdout.contains("다음 명령"), "{}", talk.stdout);
    assert!(t.project().join("alembic.ini").is_file());
    let help = t.run_with(&["chat", "--help"], "").code(0);
    assert!(help.stdout.contains("without, hold a conversation on stdin/stdout"), "{}", help.stdout);
}
