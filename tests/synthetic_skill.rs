//! A third, synthetic skill that uses every step kind and every derive kind the skill schema
//! declares, with field names of its own (`target`, `dsn`, `engine`, `driverName`): it runs
//! through the same runtime as database-setup with no Rust of its own, so the engine knows no
//! skill. When a step kind is added to `schemas/skill.schema.json`, the coverage check below
//! fails until this skill uses it too.

use crate::support::Test;
use serde_json::Value;
use std::collections::BTreeSet;

use crate::support::write_file as write;

const SKILL_JSON: &str = r#"{
  "derive": [{
    "kind": "database-url", "urlField": "dsn", "typeField": "engine", "driverField": "driverName",
    "placeholderPassword": "fill-me-in",
    "dialects": {
      "pg": {"schemes": ["postgresql", "postgres"], "async": "postgresql+asyncpg", "driver": "asyncpg"},
      "lite": {"schemes": ["sqlite"], "async": "sqlite+aiosqlite", "driver": "aiosqlite", "file": true}
    }
  }],
  "let": [{"name": "confField", "value": "{{ engine | upper }}_DSN"}],
  "refuse": [{"when": {"engine": ["lite"]}, "message": {"en": "a file database has no service to configure; give a server URL", "ko": "파일 데이터베이스에는 설정할 서비스가 없습니다. 서버 URL을 주세요"}}],
  "notes": [{"when": {"project.python.dependencyStyle": ["requirements"]}, "message": {"en": "dependencies went to {{ project.python.dependencyFile }}", "ko": "의존성을 {{ project.python.dependencyFile }}에 넣었습니다"}}],
  "steps": [
    {"kind": "render", "path": "svc/settings.py", "template": "templates/settings.py.tera", "vars": {"banner": "made by a test"}},
    {"kind": "render", "path": "svc/__init__.py", "template": "templates/init.py.tera", "ifExists": "keep"},
    {"kind": "render", "path": "svc/pg_only.txt", "template": "templates/init.py.tera", "when": {"engine": ["pg"]}},
    {"kind": "env-file", "path": ".env", "secret": true, "set": {"SVC_DSN": "{{ dsn }}"}},
    {"kind": "env-file", "path": ".env.sample", "set": {"SVC_DSN": "{{ dsnExample }}"}},
    {"kind": "lines", "path": ".gitignore", "lines": [".env"]},
    {"kind": "python-dependencies", "packages": ["httpx>=0.27"], "byField": {"engine": {"pg": ["asyncpg>=0.29"], "lite": ["aiosqlite>=0.20"]}}},
    {"kind": "python-class-field", "path": "svc/conf.py", "class": "Conf", "name": "{{ confField | lower }}", "line": "{{ confField | lower }}: str = \"\"  # added"},
    {"kind": "python-imports", "path": "svc/exports.py", "template": "templates/init.py.tera", "imports": ["from svc.settings import ENGINE"], "all": ["ENGINE"]},
    {"kind": "python-statement", "path": "svc/wiring.py", "replace": "ENGINES", "keep": "ENGINE", "statement": "ENGINES = [{{ current | trim_start_matches(pat=\"[\") | trim_end_matches(pat=\"]\") }}, ENGINE]", "imports": ["from svc.settings import ENGINE"]},
    {"kind": "python-statement", "path": "svc/wiring.py", "after": "registry = Registry()", "statement": "registry.add(\"{{ engine }}\", {{ confField | lower }}=True)"}
  ],
  "commands": [
    {"run": "echo first", "about": {"en": "a first step", "ko": "첫 단계"}},
    {"run": "svc-migrate --engine {{ engine }}", "next": true}
  ]
}"#;

fn synthetic_skill(root: &std::path::Path) {
    write(
        root,
        "manifest.json",
        r#"{"skills": [{"id": "service-config", "version": "0.2.0",
        "title": {"en": "Service config", "ko": "서비스 설정 파일"}, "description": {"en": "Writes a service's settings.", "ko": "서비스 설정을 씁니다."},
        "triggers": {"en": ["write the service config"], "ko": ["서비스 설정 파일 작성"]},
        "inputSchema": "schemas/service.json", "dir": "skills/service-config"}]}"#,
    );
    write(
        root,
        "schemas/service.json",
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
        "properties": {"target": {"type": "string", "x-project-dir": true}, "dsn": {"type": "string", "minLength": 1},
        "engine": {"type": "string", "enum": ["pg", "lite"]}},
        "required": ["target", "dsn"], "additionalProperties": false}"#,
    );
    write(
        root,
        "skills/service-config/SKILL.md",
        "---\nname: service-config\ndescription: Writes svc/settings.py.\n---\n# Service config\n",
    );
    write(root, "skills/service-config/skill.json", SKILL_JSON);
    write(
        root,
        "skills/service-config/templates/settings.py.tera",
        "# {{ banner }}\nENGINE = \"{{ engine }}\"\nDRIVER = \"{{ driverName }}\"\nEXAMPLE = \"{{ dsnExample }}\"\n",
    );
    write(root, "skills/service-config/templates/init.py.tera", "\"\"\"svc\"\"\"\n");
}

/// Every `kind` constant in a `oneOf`/`enum` of the skill schema's step and derive definitions.
fn declared_kinds() -> BTreeSet<String> {
    let schema: Value =
        serde_json::from_str(include_str!("../schemas/skill.schema.json")).expect("skill schema is JSON");
    let mut kinds = BTreeSet::new();
    let defs = &schema["$defs"];
    for variant in defs["step"]["oneOf"].as_array().expect("steps are a oneOf") {
        kinds.insert(variant["properties"]["kind"]["const"].as_str().expect("a step kind const").to_owned());
    }
    for kind in defs["derive"]["properties"]["kind"]["enum"].as_array().expect("derive kinds are an enum") {
        kinds.insert(kind.as_str().unwrap().to_owned());
    }
    kinds
}

#[test]
fn the_synthetic_skill_uses_every_kind_the_schema_declares() {
    let skill: Value = serde_json::from_str(SKILL_JSON).unwrap();
    let used: BTreeSet<String> = skill["steps"]
        .as_array()
        .unwrap()
        .iter()
        .chain(skill["derive"].as_array().unwrap())
        .map(|s| s["kind"].as_str().unwrap().to_owned())
        .collect();
    let declared = declared_kinds();
    assert!(declared.len() >= 5, "{declared:?}");
    let missing: Vec<_> = declared.difference(&used).collect();
    assert!(missing.is_empty(), "step kinds the synthetic skill does not use yet: {missing:?}");
}

#[test]
fn a_skill_with_its_own_field_names_runs_through_the_same_runtime() {
    let t = Test::new();
    let skills = t.dir.path().join("synthetic");
    synthetic_skill(&skills);
    let dir = skills.to_str().unwrap();

    let matched = Test::new().args(["--skills-dir", dir, "match", "서비스 설정 파일 작성해줘", "--json"]).run().code(0);
    assert_eq!(matched.json()["matches"][0]["skill"], "service-config");

    t.write("svc/__init__.py", "# the user's own\n");
    t.write("requirements.txt", "fastapi\n");
    t.write("svc/conf.py", "class Conf:\n    \"\"\"The user's settings.\"\"\"\n\n    name: str = \"svc\"\n");
    t.write("svc/wiring.py", "from svc.registry import Registry\n\nregistry = Registry()\n\n# known engines\nENGINES = [\"lite\"]  # more to come\n");
    let input = serde_json::json!({"target": t.project(), "dsn": "postgres://svc:s3cr3t-pw@db.internal:5432/svc"});
    let ran = Test::new()
        .args(["--skills-dir", dir, "run", "service-config", "--json", "--input", &input.to_string()])
        .run()
        .code(0);
    let report = ran.json();
    let text = report.to_string();
    assert!(!text.contains("s3cr3t-pw"), "the password leaked into the report: {text}");
    // The derive step filled the skill's own fields: the kind from the URL, the driver, the example.
    assert!(
        t.read("svc/settings.py").contains("ENGINE = \"pg\"\nDRIVER = \"asyncpg\"\n"),
        "{}",
        t.read("svc/settings.py")
    );
    assert!(t.read("svc/settings.py").contains("postgresql+asyncpg://svc:fill-me-in@db.internal:5432/svc"));
    assert!(t.read("svc/settings.py").starts_with("# made by a test\n"));
    assert_eq!(t.read("svc/__init__.py"), "# the user's own\n", "ifExists keep left the user's file");
    assert!(t.project().join("svc/pg_only.txt").exists(), "the `when` step ran for engine pg");
    assert_eq!(t.read(".env"), "SVC_DSN=postgresql+asyncpg://svc:s3cr3t-pw@db.internal:5432/svc\n");
    assert!(t.read(".env.sample").contains("fill-me-in"));
    assert!(t.read(".gitignore").lines().any(|l| l == ".env"));
    assert_eq!(t.read("requirements.txt"), "fastapi\nhttpx>=0.27\nasyncpg>=0.29\n");
    // python-imports: a missing file starts as its template, then gets the import (no `__all__`
    // is added to a file that has none).
    assert_eq!(t.read("svc/exports.py"), "\"\"\"svc\"\"\"\n\nfrom svc.settings import ENGINE\n");
    // `let` fed a `python-class-field` step that added to the user's class, keeping its lines.
    assert_eq!(
        t.read("svc/conf.py"),
        "class Conf:\n    \"\"\"The user's settings.\"\"\"\n\n    pg_dsn: str = \"\"  # added\n\n    name: str = \"svc\"\n"
    );
    // python-statement: one assignment replaced from its current value (`current`), one line put
    // after an anchor; the imports the new lines need are added, every other line kept.
    assert_eq!(
        t.read("svc/wiring.py"),
        "from svc.registry import Registry\nfrom svc.settings import ENGINE\n\nregistry = Registry()\nregistry.add(\"pg\", pg_dsn=True)\n\n# known engines\nENGINES = [\"lite\", ENGINE]\n"
    );
    // A note on a project fact (where the dependencies went).
    assert!(report["notes"].to_string().contains("dependencies went to requirements.txt"), "{}", report["notes"]);
    // Notes name the skill's fields, not database-setup's.
    let notes = report["notes"].to_string();
    assert!(notes.contains("engine \\\"pg\\\" was taken from the URL"), "{notes}");
    assert!(!notes.contains("dbType") && !notes.contains("databaseUrl"), "{notes}");
    // The skill names its next command; the answers file skips its own project field.
    assert_eq!(report["commands"][1], "svc-migrate --engine pg");
    assert!(report["message"].as_str().unwrap().ends_with("svc-migrate --engine pg"), "{}", report["message"]);
    let answers: Value = serde_json::from_str(&t.read(".skillrun/answers.json")).unwrap();
    let recorded = &answers["skills"]["service-config"]["input"];
    assert!(recorded.get("target").is_none() && recorded["engine"] == "pg", "{answers}");
    let wiring = report["files"].as_array().unwrap().iter().find(|f| f["path"] == "svc/wiring.py").unwrap();
    let why = wiring["reason"].as_str().unwrap();
    assert!(why.contains("replaced `ENGINES = [\"lite\"]` with `ENGINES = [\"lite\", ENGINE]`"), "{why}");
    assert!(why.contains("added `registry.add(\"pg\", pg_dsn=True)` after `registry = Registry()`"), "{why}");
    // A second run leaves the edited statements as they are.
    let wired = t.read("svc/wiring.py");
    let input = serde_json::json!({"target": t.project(), "dsn": "postgres://svc:s3cr3t-pw@db.internal:5432/svc"});
    Test::new()
        .args(["--skills-dir", dir, "run", "service-config", "--json", "--input", &input.to_string()])
        .run()
        .code(0);
    assert_eq!(t.read("svc/wiring.py"), wired);
    // An anchor that is not there is a conflict that says so, and nothing is written.
    t.write("svc/wiring.py", "ENGINES = [\"lite\"]\n");
    let before = t.snapshot();
    let ran =
        Test::new().args(["--skills-dir", dir, "run", "service-config", "--json", "--input", &input.to_string()]).run();
    let text = ran.json().to_string();
    assert!(text.contains("it has no top-level `registry = Registry()` to put the line after"), "{text}");
    assert_eq!(t.snapshot(), before, "a conflict wrote nothing");

    // A mismatched kind is an error on the skill's own field, in its own words.
    let input = serde_json::json!({"target": t.project(), "dsn": "sqlite:///./x.db", "engine": "pg"});
    let ran = Test::new()
        .args(["--skills-dir", dir, "run", "service-config", "--json", "--input", &input.to_string()])
        .run()
        .code(2);
    let error = &ran.json()["errors"][0];
    assert_eq!(error["field"], "/engine");
    assert!(error["message"].as_str().unwrap().contains("dsn is a lite URL; set engine to \"lite\""), "{error}");
    // A `refuse` rule stops the run before anything is written, with the skill's message.
    let before = t.snapshot();
    let input = serde_json::json!({"target": t.project(), "dsn": "sqlite:///./x.db"});
    let ran = Test::new()
        .args(["--skills-dir", dir, "run", "service-config", "--json", "--input", &input.to_string()])
        .run()
        .code(2);
    assert!(ran.json().to_string().contains("a file database has no service to configure"), "{}", ran.json());
    assert_eq!(t.snapshot(), before, "a refused run wrote nothing");
    // Not an object: the example names the skill's project field.
    let ran =
        Test::new().args(["--skills-dir", dir, "run", "service-config", "--json", "--input", "[1]"]).run().code(2);
    assert!(ran.json()["errors"][0]["message"].as_str().unwrap().contains("{\"target\": \".\"}"), "{}", ran.json());
}
