//! Skills that build on each other: repository-pattern requires database-setup on the same
//! project. Run before it, every front end says what is missing and which skill and inputs
//! provide it, and writes nothing; the chat runs database-setup first, then continues; values
//! database-setup knows (the database kind) are taken from its answers.

use serde_json::{Value, json};

use crate::mcp::Server;
use crate::support::Test;

fn post(project: &std::path::Path) -> Value {
    json!({"projectPath": project, "entity": "Post", "fields": [{"name": "title", "type": "str", "maxLength": 200}]})
}

fn assert_requires_database_setup(report: &Value) {
    assert_eq!(report["status"], "invalid", "{report}");
    let need = &report["requires"][0];
    assert_eq!(need["skill"], "database-setup", "{report}");
    assert!(need["missing"].as_array().unwrap().iter().any(|m| m == ".skillrun/answers.json (database-setup)"));
    assert!(need["inputs"].as_array().unwrap().iter().any(|i| i == "databaseUrl"), "{report}");
}

#[test]
fn before_database_setup_the_cli_says_what_to_run_first_and_writes_nothing() {
    let t = Test::new();
    std::fs::create_dir_all(t.project()).unwrap();
    let input = post(&t.project()).to_string();
    let ran = Test::new().args(["run", "repository-pattern", "--json", "--input", &input]).run().code(2);
    let report = ran.json();
    assert_requires_database_setup(&report);
    assert!(
        report["message"].as_str().unwrap().contains(
            "repository-pattern needs database-setup applied to this project first (missing: .skillrun/answers.json (database-setup)"
        ),
        "{report}"
    );
    assert!(
        report["message"]
            .as_str()
            .unwrap()
            .contains("Run database-setup on the same projectPath first (it also needs: databaseUrl)")
    );
    let ko = Test::new().args(["run", "repository-pattern", "--json", "--lang", "ko", "--input", &input]).run().code(2);
    assert!(
        ko.json()["message"].as_str().unwrap().contains("database-setup이(가) 먼저 적용되어 있어야 합니다"),
        "{}",
        ko.stdout
    );
    assert_eq!(std::fs::read_dir(t.project()).unwrap().count(), 0, "nothing written");

    // With database-setup applied, the same input runs and takes dbType from its answers.
    let setup = json!({"projectPath": t.project(), "databaseUrl": "sqlite:///./app.db"}).to_string();
    Test::new().args(["run", "database-setup", "--json", "--input", &setup]).run().code(0);
    let ran = Test::new().args(["run", "repository-pattern", "--json", "--input", &input]).run().code(0);
    let report = ran.json();
    assert_eq!(report["status"], "applied");
    assert_eq!(report["notes"][0], "dbType \"sqlite\" was taken from database-setup's answers");
    let answers: Value = serde_json::from_str(&t.read(".skillrun/answers.json")).unwrap();
    assert_eq!(answers["skills"]["repository-pattern"]["input"]["dbType"], "sqlite");
    assert!(
        t.read("app/infrastructure/database/models/__init__.py")
            .contains("from app.infrastructure.database.models.post import PostModel\n")
    );
}

#[test]
fn before_database_setup_mcp_is_a_tool_error_naming_the_skill_and_its_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("api");
    std::fs::create_dir(&project).unwrap();
    let mut server = Server::start();
    server.initialize("2025-11-25");
    let result = server.call("repository-pattern", post(&project));
    assert_eq!(result["isError"], true, "{result}");
    assert_requires_database_setup(&result["structuredContent"]);
    assert_eq!(std::fs::read_dir(&project).unwrap().count(), 0, "nothing written");
}

#[test]
fn the_chat_runs_database_setup_first_then_continues_with_the_repository() {
    let t = Test::new();
    let project = t.project();
    let lines = [
        json!({"conversation": "c", "text": format!("create a repository for the Post model in {}", project.display())}),
        json!({"conversation": "c", "text": "[{\"name\": \"title\", \"type\": \"str\", \"maxLength\": 200}]"}),
        json!({"conversation": "c", "text": "sqlite:///./app.db"}),
        json!({"conversation": "c", "text": "yes"}),
        json!({"conversation": "c", "text": "yes"}),
    ];
    let stdin: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let ran = t.run_with(&["chat", "--json"], &stdin).code(0);
    let turns: Vec<Value> = ran.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let steps: Vec<(&str, &str)> =
        turns.iter().map(|t| (t["skill"].as_str().unwrap_or(""), t["step"].as_str().unwrap())).collect();
    assert_eq!(
        steps,
        [
            ("repository-pattern", "asking"),
            ("database-setup", "asking"),
            ("database-setup", "confirming"),
            ("repository-pattern", "confirming"),
            ("repository-pattern", "done"),
        ],
        "{}",
        ran.stdout
    );
    assert_eq!(turns[0]["field"], "fields", "the entity is read from the request: {}", turns[0]);
    assert!(
        turns[1]["reply"]
            .as_str()
            .unwrap()
            .contains("Let's run database-setup first; once it is applied, repository-pattern continues.")
    );
    assert_eq!(turns[4]["report"]["status"], "applied");
    assert!(t.read("app/infrastructure/database/models/post.py").contains("class PostModel(BaseModel):"));
    assert!(t.read(".env").contains("sqlite+aiosqlite:///./app.db"));
}

#[test]
fn a_default_value_stays_a_python_string_literal() {
    let t = Test::new();
    let setup = json!({"projectPath": t.project(), "databaseUrl": "sqlite:///./app.db"}).to_string();
    Test::new().args(["run", "database-setup", "--json", "--input", &setup]).run().code(0);
    let hostile = "x\" + __import__(\"os\").system(\"id\") + \"\\";
    let input = json!({"projectPath": t.project(), "entity": "Note", "fields": [{"name": "title", "type": "str", "default": hostile}]});
    Test::new().args(["run", "repository-pattern", "--json", "--input", &input.to_string()]).run().code(0);
    let literal = serde_json::to_string(hostile).unwrap();
    assert!(t.read("app/infrastructure/database/models/note.py").contains(&format!("        default={literal},\n")));
    assert!(t.read("app/schemas/note.py").contains(&format!("        default={literal},\n        max_length=255,\n")));
    // A newline or a quote in a name never reaches a template: the schema refuses it.
    let bad =
        json!({"projectPath": t.project(), "entity": "Note\nimport os", "fields": [{"name": "a\"b", "type": "str"}]});
    let ran = Test::new().args(["run", "repository-pattern", "--json", "--input", &bad.to_string()]).run().code(2);
    let report = ran.json();
    let fields: Vec<&str> = report["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"/entity") && fields.contains(&"/fields/0/name"), "{fields:?}");
}

#[test]
fn a_korean_chat_stays_korean_through_a_json_answer_and_the_prerequisite() {
    let t = Test::new();
    let lines = [
        json!({"conversation": "k", "text": format!("Post 모델 리포지토리 만들어줘 {}", t.project().display())}),
        json!({"conversation": "k", "text": "[{\"name\": \"title\", \"type\": \"str\"}]"}),
    ];
    let stdin: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let ran = t.run_with(&["chat", "--json"], &stdin).code(0);
    let turns: Vec<Value> = ran.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!((turns[1]["lang"].as_str(), turns[1]["skill"].as_str()), (Some("ko"), Some("database-setup")));
    let reply = turns[1]["reply"].as_str().unwrap();
    assert!(reply.contains("database-setup이(가) 먼저 적용되어 있어야 합니다"), "{reply}");
    assert!(reply.contains("먼저 database-setup을(를) 진행하고, 적용되면 repository-pattern을(를) 이어서 하겠습니다."));
    assert_eq!(turns[1]["field"], "databaseUrl");
}

/// The layout database-setup chose is recorded in its answers (`publish`) and repository-pattern
/// follows it: a src/ layout gets the files in its package, imported by its name. An answers
/// entry from before the layout was recorded is an unmet prerequisite that names the value.
#[test]
fn repository_pattern_follows_the_layout_database_setup_recorded() {
    let t = crate::adopt::fixture("src-layout");
    let setup = json!({"projectPath": t.project(), "databaseUrl": "sqlite:///./app.db"}).to_string();
    Test::new().args(["run", "database-setup", "--json", "--input", &setup]).run().code(0);
    let answers: Value = serde_json::from_str(&t.read(".skillrun/answers.json")).unwrap();
    let values = &answers["skills"]["database-setup"]["values"];
    assert_eq!(
        values,
        &json!({"pkgDir": "src/shop", "modPrefix": "shop.", "cdPrefix": "", "alembicCmd": "alembic"}),
        "{answers:#}"
    );

    let input = post(&t.project()).to_string();
    let ran = Test::new().args(["run", "repository-pattern", "--json", "--input", &input]).run().code(0);
    let report = ran.json();
    let paths: Vec<&str> = report["files"].as_array().unwrap().iter().filter_map(|f| f["path"].as_str()).collect();
    assert!(paths.contains(&"src/shop/infrastructure/repositories/post.py"), "{paths:?}");
    assert!(paths.iter().all(|p| !p.starts_with("app/")), "{paths:?}");
    let init = t.read("src/shop/infrastructure/database/models/__init__.py");
    assert!(init.contains("from shop.infrastructure.database.models.post import PostModel\n"), "{init}");
    assert!(
        t.read("src/shop/api/v1/dependencies/post_repository.py")
            .contains("from shop.api.v1.dependencies.database import DBSession\n")
    );

    // database-setup's entry without the recorded values: run it again, says the report.
    let mut old = answers.clone();
    old["skills"]["database-setup"].as_object_mut().unwrap().remove("values");
    std::fs::write(t.project().join(".skillrun/answers.json"), old.to_string()).unwrap();
    let ran = Test::new().args(["run", "repository-pattern", "--json", "--input", &input]).run().code(2);
    let report = ran.json();
    assert_eq!(report["status"], "invalid", "{report}");
    let missing = &report["requires"][0]["missing"];
    assert!(
        missing.as_array().unwrap().iter().any(|m| m == ".skillrun/answers.json (database-setup: pkgDir)"),
        "{report}"
    );
}

/// An adopted Alembic setup whose `alembic.ini` lives one directory down: database-setup's
/// commands name it (`-c`), and so do repository-pattern's, from the value database-setup
/// recorded rather than a second copy of the rule.
#[test]
fn repository_pattern_names_an_adopted_ini_that_lives_elsewhere() {
    let t = crate::adopt::fixture("alembic-async");
    let ini = t.read("alembic.ini").replace("%(here)s/migrations", "%(here)s/../migrations");
    std::fs::remove_file(t.project().join("alembic.ini")).unwrap();
    t.write("config/alembic.ini", &ini);
    let setup = json!({"projectPath": t.project(), "databaseUrl": "sqlite:///./catalog.db"}).to_string();
    Test::new().args(["run", "database-setup", "--json", "--input", &setup]).run().code(0);
    let answers: Value = serde_json::from_str(&t.read(".skillrun/answers.json")).unwrap();
    assert_eq!(answers["skills"]["database-setup"]["values"]["alembicCmd"], "alembic -c config/alembic.ini");

    let input = post(&t.project()).to_string();
    let ran = Test::new().args(["run", "repository-pattern", "--json", "--dry-run", "--input", &input]).run().code(0);
    let report = ran.json();
    let commands: Vec<&str> = report["commands"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    let alembic: Vec<&&str> = commands.iter().filter(|c| c.contains("alembic")).collect();
    assert_eq!(alembic.len(), 3, "{commands:?}");
    assert!(alembic.iter().all(|c| c.starts_with("alembic -c config/alembic.ini ")), "{commands:?}");
}
