//! Trigger matching through the public interfaces: the evaluation set (tests/triggers/eval.jsonl,
//! recall and false positives per language), `skillrun match` (phrases, meaning, why, near
//! misses), a topic question answered alike by the CLI, chat, the conversation engine and MCP,
//! and a second skill with overlapping words, added as data only, ranked apart.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::Test;

/// One line of the evaluation set.
struct Case {
    text: String,
    lang: String,
    expect: Option<String>,
    kind: String,
}

fn evaluation_set() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/triggers/eval.jsonl");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            let s = |k: &str| v[k].as_str().map(str::to_owned);
            Case { text: s("text").unwrap(), lang: s("lang").unwrap(), expect: s("expect"), kind: s("kind").unwrap() }
        })
        .collect()
}

#[test]
fn the_evaluation_set_is_matched_with_high_recall_and_no_false_positive() {
    let cases = evaluation_set();
    let registry = skillrun::skills::embedded().unwrap();
    let index = registry.trigger_index();
    let (mut missed, mut false_positives) = (Vec::new(), Vec::new());
    let mut report = String::new();
    for lang in ["ko", "en"] {
        let of_lang: Vec<&Case> = cases.iter().filter(|c| c.lang == lang).collect();
        let (mut positives, mut found, mut negatives, mut wrong) = (0, 0, 0, 0);
        for case in of_lang {
            let ranking = index.rank(&case.text);
            let top = ranking.matches.first().filter(|_| !ranking.ambiguous()).map(|m| m.skill.clone());
            match &case.expect {
                Some(skill) => {
                    positives += 1;
                    if top.as_ref() == Some(skill) {
                        found += 1;
                    } else {
                        missed.push(format!("{lang} {}: {:?} -> {top:?}", case.kind, case.text));
                    }
                }
                None => {
                    negatives += 1;
                    if let Some(m) = ranking.matches.first() {
                        wrong += 1;
                        false_positives.push(format!(
                            "{lang} {}: {:?} -> {} {} {:?}",
                            case.kind, case.text, m.skill, m.score, m.why
                        ));
                    }
                }
            }
        }
        assert!(positives >= 60 && negatives >= 30, "{lang}: {positives} positives, {negatives} negatives");
        let recall = found as f64 / positives as f64;
        report += &format!(
            "{lang}: recall {found}/{positives} = {:.1}%, false positives {wrong}/{negatives}\n",
            recall * 100.0
        );
        assert!(recall >= 0.95, "{lang} recall {recall:.3} < 0.95\n{report}missed:\n{}", missed.join("\n"));
    }
    let positives = cases.iter().filter(|c| c.expect.is_some()).count();
    assert!(positives >= 150 && cases.len() - positives >= 80, "{positives} positives of {}", cases.len());
    for kind in ["terse", "polite", "mixed", "typo", "destructive", "readonly", "question", "unrelated"] {
        assert!(cases.iter().filter(|c| c.kind == kind).count() >= 10, "fewer than 10 cases of kind {kind}");
    }
    assert!(false_positives.is_empty(), "negatives matched:\n{}\n{report}", false_positives.join("\n"));
    eprintln!("{report}missed:\n{}", missed.join("\n"));
}

/// (skill, trigger or "", lang) of the best match, or None when nothing matches.
fn matched(text: &str) -> Option<(String, String, String)> {
    let ran = Test::new().args(["match", text, "--json"]).run();
    let json = ran.json();
    let first = &json["matches"][0];
    match ran.code {
        0 => Some((
            first["skill"].as_str()?.to_owned(),
            first["trigger"].as_str().unwrap_or_default().to_owned(),
            json["lang"].as_str()?.to_owned(),
        )),
        1 => {
            assert!(json["matches"].as_array().unwrap().is_empty());
            None
        }
        other => panic!("exit {other}: {}", ran.stderr),
    }
}

#[test]
fn korean_requests_match_with_particles_spacing_endings_and_other_words() {
    for text in [
        "DB 설정 해줘",
        "DB설정",
        "데이터베이스를 설정해 주세요",
        "ＤＢ 설정 부탁해요!",
        "알렘빅 설정해줘",
        "데이터베이스 연동해줘",
        "FastAPI에 디비 붙이고 싶어요",
        "포스트그레스 연결 좀 해주세요",
    ] {
        let (skill, _, lang) = matched(text).unwrap_or_else(|| panic!("no match for {text:?}"));
        assert_eq!((skill.as_str(), lang.as_str()), ("database-setup", "ko"), "{text}");
    }
}

#[test]
fn english_requests_match_with_inflections_and_other_words() {
    for text in [
        "set up the database",
        "Setting up Alembic",
        "please set up my DB",
        "I want to use PostgreSQL with FastAPI",
        "hook up sqlite",
        "confgure sqlalchmey",
    ] {
        let (skill, _, lang) = matched(text).unwrap_or_else(|| panic!("no match for {text:?}"));
        assert_eq!((skill.as_str(), lang.as_str()), ("database-setup", "en"), "{text}");
    }
}

#[test]
fn the_matching_trigger_and_the_words_found_are_named() {
    assert_eq!(matched("setting up alembic").unwrap().1, "set up alembic");
    assert_eq!(matched("DB 설정 해줘").unwrap().1, "DB 설정");
    let json = Test::new().args(["match", "I want to use PostgreSQL with FastAPI", "--json"]).run().code(0).json();
    let best = &json["matches"][0];
    assert_eq!(best.get("trigger"), None, "{best}");
    assert_eq!(best["why"], json!({"objects": ["postgresql"], "intents": ["want", "use"]}));
    let score = best["score"].as_f64().unwrap();
    assert!((0.5..0.86).contains(&score), "a match by meaning scores below every phrase: {score}");
    let json = Test::new().args(["match", "databse 연동해줘", "--json"]).run().code(0).json();
    assert_eq!(json["matches"][0]["why"]["typos"], json!(["databse → database"]));
}

#[test]
fn text_sharing_only_a_word_matches_nothing() {
    for text in [
        "데이터베이스 백업해줘",
        "설정 화면 열어줘",
        "DB 백업",
        "set up the printer",
        "database backup please",
        "drop the database",
        "alembicus",
        "",
    ] {
        assert_eq!(matched(text), None, "{text:?} should not match");
    }
}

#[test]
fn plain_output_names_skill_score_trigger_language_and_why() {
    let ran = Test::new().args(["match", "DB 설정 해줘"]).run().code(0);
    let fields: Vec<&str> = ran.stdout.trim().split('\t').collect();
    assert_eq!(
        (fields[0], fields[2], fields[3], fields[4]),
        ("database-setup", "DB 설정", "ko", "objects=db intents=설정,해줘")
    );
    let ran = Test::new().args(["match", "postgres 연결해줘"]).run().code(0);
    let fields: Vec<&str> = ran.stdout.trim().split('\t').collect();
    assert_eq!((fields[2], fields[4]), ("-", "objects=postgres intents=연결,해줘"));
}

#[test]
fn a_near_miss_names_the_skill_in_the_language_of_the_request() {
    let ran = Test::new().args(["match", "postgres"]).run().code(1);
    assert!(
        ran.stderr.contains("Did you mean database-setup? It sets up SQLAlchemy 2.0 async sessions"),
        "{}",
        ran.stderr
    );
    let ran = Test::new().args(["match", "포스트그레스"]).run().code(1);
    assert!(ran.stderr.contains("database-setup을(를) 찾으셨나요? FastAPI 프로젝트에"), "{}", ran.stderr);
    let json = Test::new().args(["match", "포스트그레스", "--json"]).run().code(1).json();
    assert_eq!((json["matches"].clone(), json["nearMisses"][0]["why"]["note"].clone()), (json!([]), json!("partial")));
    // Excluded requests are not near misses.
    let ran = Test::new().args(["match", "drop the postgres database", "--json"]).run().code(1);
    assert_eq!(ran.json()["nearMisses"], json!([]));
}

#[test]
fn a_topic_question_starts_nothing_in_the_cli_chat_conversations_and_mcp() {
    // CLI
    let ran = Test::new().args(["match", "what is alembic?"]).run().code(1);
    assert!(ran.stderr.contains("question about alembic, not a request"), "{}", ran.stderr);
    // chat, one message
    let json = Test::new().args(["chat", "alembic이 뭐야?", "--json"]).run().code(1).json();
    assert_eq!((json["matches"].clone(), json["nearMisses"][0]["why"]["note"].clone()), (json!([]), json!("question")));
    assert!(json["message"].as_str().unwrap().starts_with("alembic에 대한 질문으로 보여"), "{json}");
    // the conversation engine: no conversation starts, so a "yes" after it confirms nothing
    let t = Test::new();
    let input =
        "{\"conversation\": \"q\", \"text\": \"what is alembic?\"}\n{\"conversation\": \"q\", \"text\": \"yes\"}\n";
    let ran = t.run_with(&["chat", "--json"], input).code(0);
    let turns: Vec<Value> = ran.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!((turns[0]["step"].as_str(), turns[1]["step"].as_str()), (Some("idle"), Some("idle")), "{}", ran.stdout);
    assert!(turns[0]["reply"].as_str().unwrap().contains("question about alembic"), "{}", turns[0]);
    // MCP
    let mut server = crate::mcp::Server::start();
    server.initialize("2025-11-25");
    let answer = server.call("match_skill", json!({"text": "what is alembic?"}));
    let content = &answer["structuredContent"];
    assert_eq!(answer["isError"], false);
    assert_eq!(
        (content["matches"].clone(), content["nearMisses"][0]["why"]["note"].clone()),
        (json!([]), json!("question"))
    );
    assert_eq!(content["nearMisses"][0]["skill"], "database-setup");
}

#[test]
fn chat_asks_for_what_the_text_does_not_give() {
    let ran = Test::new().args(["chat", "DB 설정 해줘", "--json"]).run().code(0);
    let json = ran.json();
    let missing: Vec<&str> =
        json["matches"][0]["missingInputs"].as_array().unwrap().iter().map(|m| m["field"].as_str().unwrap()).collect();
    assert_eq!(missing, ["projectPath", "databaseUrl"]);
    let ran =
        Test::new().args(["chat", "set up the database with postgres://app:pw@db:5432/app", "--json"]).run().code(0);
    let json = ran.json();
    assert_eq!(json["matches"][0]["input"]["databaseUrl"], "postgres://app:pw@db:5432/app");
    assert_eq!(json["matches"][0]["input"]["dbType"], "postgresql");
}

#[test]
fn chat_takes_path_and_kind_from_the_text() {
    let ran = Test::new().args(["chat", "./api에 포스트그레스로 DB 설정해줘", "--json"]).run().code(0);
    let json = ran.json();
    assert_eq!(json["matches"][0]["input"], json!({"projectPath": "./api", "dbType": "postgresql"}));
    assert_eq!(json["matches"][0]["missingInputs"][0]["field"], "databaseUrl");
    let ran = Test::new().args(["chat", "set up the database: sqlite:///./app.db in /srv/api, please"]).run().code(0);
    assert_eq!(
        ran.stdout.trim(),
        "Database setup (SQLAlchemy 2.0 async + Alembic): every required input is there; ready to run."
    );
    let ran = Test::new().args(["chat", "upgrade the printer driver", "--json"]).run().code(1);
    assert_eq!(ran.json()["matches"], json!([]));
}

// ---------------------------------------------------------------------------------------------

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A skill set of the real database-setup skill (its manifest entry and files as they are) and a
/// repository-pattern skill whose words overlap it (database, SQLAlchemy, models, set up), both
/// declared as data only.
fn two_skill_set(root: &Path) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(repo.join("manifest.json")).unwrap()).unwrap();
    let database_setup = manifest["skills"][0].clone();
    copy_dir(&repo.join("skills/database-setup"), &root.join("skills/database-setup"));
    std::fs::create_dir_all(root.join("schemas")).unwrap();
    std::fs::copy(
        repo.join("schemas/database-setup.input.schema.json"),
        root.join("schemas/database-setup.input.schema.json"),
    )
    .unwrap();
    let repository = json!({
        "id": "repository-pattern", "version": "0.1.0",
        "title": {"en": "Repository pattern", "ko": "리포지토리 패턴"},
        "description": {"en": "Adds a repository class (CRUD) for a SQLAlchemy model.", "ko": "SQLAlchemy 모델의 리포지토리(CRUD) 클래스를 추가합니다."},
        "triggers": {"ko": ["리포지토리 패턴", "저장소 계층 추가"], "en": ["repository pattern", "add a repository"]},
        "words": {
            "objects": ["repository", "리포지토리", "레포지토리", "저장소 계층", "CRUD", "DAO", "data access layer"],
            "intents": ["@create", "@setup", "@use", "@request", "구현"],
            "context": ["database", "DB", "데이터베이스", "SQLAlchemy", "model", "모델", "Post", "async"],
            "exclude": ["git", "github", "깃"]
        },
        "inputSchema": "schemas/repository.json", "dir": "skills/repository-pattern"
    });
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("manifest.json", &json!({"skills": [database_setup, repository]}).to_string());
    write(
        "schemas/repository.json",
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
        "properties": {"projectPath": {"type": "string", "x-project-dir": true}, "model": {"type": "string", "minLength": 1}},
        "required": ["projectPath", "model"], "additionalProperties": false}"#,
    );
    write(
        "skills/repository-pattern/SKILL.md",
        "---\nname: repository-pattern\ndescription: Adds a repository for a model.\n---\n# Repository\n",
    );
    write(
        "skills/repository-pattern/skill.json",
        r#"{"steps": [{"kind": "render", "path": "app/repositories/{{ model | lower }}.py", "template": "templates/repo.py.tera"}]}"#,
    );
    write("skills/repository-pattern/templates/repo.py.tera", "class {{ model }}Repository: ...\n");
}

#[test]
fn a_second_skill_with_overlapping_words_is_ranked_apart_as_data_only() {
    let t = Test::new();
    let set = t.dir.path().join("set");
    two_skill_set(&set);
    let dir = set.to_str().unwrap();
    let ranked = |text: &str| -> (Vec<String>, bool) {
        let json = Test::new().args(["--skills-dir", dir, "match", text, "--json"]).run().json();
        let skills = json["matches"].as_array().unwrap();
        (
            skills.iter().map(|m| format!("{} {}", m["skill"].as_str().unwrap(), m["score"])).collect(),
            json["ambiguous"] == true,
        )
    };
    let first = |text: &str| ranked(text).0.first().map(|s| s.split(' ').next().unwrap().to_owned());
    for (text, want) in [
        ("set up the database", "database-setup"),
        ("DB 연동해줘", "database-setup"),
        ("add alembic to the project", "database-setup"),
        ("create a repository for the Post model", "repository-pattern"),
        ("리포지토리 패턴 적용해줘", "repository-pattern"),
        ("Post 모델 저장소 계층 구현해줘", "repository-pattern"),
        ("set up a SQLAlchemy repository for the Post model", "repository-pattern"),
        ("database 접근용 CRUD 레포지토리 만들어줘", "repository-pattern"),
    ] {
        assert_eq!(first(text).as_deref(), Some(want), "{text}: {:?}", ranked(text));
    }
    // Both asked for: both returned, each scored on its own words.
    let (both, ambiguous) = ranked("set up the database and add a data access layer");
    assert_eq!((both.len(), ambiguous), (2, false), "{both:?}");
    // Named alike: both are candidates and neither is picked; the conversation asks which.
    let (close, ambiguous) = ranked("wire up the DB and the repository");
    assert_eq!((close.len(), ambiguous), (2, true), "{close:?}");
    let input = "{\"conversation\": \"c\", \"text\": \"wire up the DB and the repository\"}\n";
    let ran = Test::new().run_with(&["--skills-dir", dir, "chat", "--json"], input).code(0);
    let turn: Value = serde_json::from_str(ran.stdout.trim()).unwrap();
    assert_eq!(turn["step"], "idle", "{turn}");
    assert!(
        turn["reply"].as_str().unwrap().contains("database-setup")
            && turn["reply"].as_str().unwrap().contains("repository-pattern")
    );
    // Words of one skill exclude only that skill.
    assert_eq!(first("set up a git repository"), None);
    assert_eq!(first("set up a git repository and a postgres database").as_deref(), Some("database-setup"));
}
