//! `skillrun match`: free text in Korean or English to the database-setup skill, and text that
//! only shares a word with a trigger to nothing.

use crate::support::Test;

fn matched(text: &str) -> Option<(String, String, String)> {
    let ran = Test::new().args(["match", text, "--json"]).run();
    let json = ran.json();
    let first = &json["matches"][0];
    match ran.code {
        0 => Some((
            first["skill"].as_str()?.to_owned(),
            first["trigger"].as_str()?.to_owned(),
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
fn korean_requests_match_with_particles_spacing_and_endings() {
    for text in [
        "데이터베이스 설정",
        "DB 설정 해줘",
        "DB설정",
        "데이터 베이스 설정",
        "데이터베이스를 설정해 주세요",
        "DB 설정 좀 해줘",
        "디비 설정해줘",
        "ＤＢ 설정 부탁해요!",
        "alembic 설정해줘",
        "sqlalchemy로 DB 설정",
        "DB 세팅해줘",
        "디비 세팅 좀",
        "데이터베이스 셋업 부탁드려요",
        "데이타베이스 설정해줘",
        "알렘빅 설정해줘",
    ] {
        let (skill, _, lang) = matched(text).unwrap_or_else(|| panic!("no match for {text:?}"));
        assert_eq!((skill.as_str(), lang.as_str()), ("database-setup", "ko"), "{text}");
    }
}

#[test]
fn english_requests_match_with_inflections() {
    for text in [
        "set up the database",
        "Setting up Alembic",
        "please set up my DB",
        "configure the database for my app",
        "SQLAlchemy please",
        "database set-up",
    ] {
        let (skill, _, lang) = matched(text).unwrap_or_else(|| panic!("no match for {text:?}"));
        assert_eq!((skill.as_str(), lang.as_str()), ("database-setup", "en"), "{text}");
    }
}

#[test]
fn the_matching_trigger_is_named() {
    assert_eq!(matched("setting up alembic").unwrap().1, "set up alembic");
    assert_eq!(matched("DB 설정 해줘").unwrap().1, "DB 설정");
}

#[test]
fn text_sharing_only_a_word_matches_nothing() {
    for text in [
        "데이터베이스 백업해줘",
        "설정 화면 열어줘",
        "DB 백업",
        "set up the printer",
        "database backup please",
        "alembicus",
        "",
    ] {
        assert_eq!(matched(text), None, "{text:?} should not match");
    }
}

#[test]
fn plain_output_names_skill_trigger_and_language() {
    let ran = Test::new().args(["match", "DB 설정 해줘"]).run().code(0);
    let fields: Vec<&str> = ran.stdout.trim().split('\t').collect();
    assert_eq!((fields[0], fields[2], fields[3]), ("database-setup", "DB 설정", "ko"));
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
    assert_eq!(json["matches"][0]["input"], serde_json::json!({"projectPath": "./api", "dbType": "postgresql"}));
    assert_eq!(json["matches"][0]["missingInputs"][0]["field"], "databaseUrl");
    let ran = Test::new().args(["chat", "set up the database: sqlite:///./app.db in /srv/api, please"]).run().code(0);
    assert_eq!(
        ran.stdout.trim(),
        "Database setup (SQLAlchemy 2.0 async + Alembic): every required input is there; ready to run."
    );
    let ran = Test::new().args(["chat", "upgrade the printer driver", "--json"]).run().code(1);
    assert_eq!(ran.json()["matches"], serde_json::json!([]));
}
