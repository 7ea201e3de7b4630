//! Unit tests of trigger matching with small hand-made skill sets (the real manifest and the
//! evaluation set are tested in tests/triggers.rs).

use super::*;

#[rustfmt::skip]
const DB_PHRASES: &[&str] = &[
    "데이터베이스 설정", "DB 설정", "디비 설정", "데이터베이스 구성", "마이그레이션 설정",
    "sqlalchemy", "alembic", "database setup", "set up the database", "configure the database",
    "db setup", "set up alembic", "set up sqlalchemy", "database migrations setup",
];

fn db_words() -> Words {
    let list = |s: &[&str]| s.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    Words {
        objects: list(&[
            "database",
            "데이터베이스",
            "디비",
            "postgres",
            "alembic",
            "sqlalchemy",
            "migrations",
            "마이그레이션",
        ]),
        intents: None,
        context: list(&["fastapi"]),
        exclude: list(&["django", "테이블"]),
    }
}

/// (text, trigger expected for the database-setup skill, ranked first).
#[rustfmt::skip]
const KOREAN: &[(&str, &str)] = &[
    ("데이터베이스 설정", "데이터베이스 설정"), ("DB 설정", "DB 설정"), ("ＤＢ 설정", "DB 설정"),
    ("DB설정", "DB 설정"), ("db   설정!!! 🚀", "DB 설정"), ("데이터 베이스 설정", "데이터베이스 설정"),
    ("데이터베이스설정", "데이터베이스 설정"), ("데이터베이스를 설정해 주세요", "데이터베이스 설정"),
    ("DB 설정 좀 해줘", "DB 설정"), ("디비 설정해줘", "디비 설정"), ("디비설정 부탁", "디비 설정"),
    ("데이터베이스 설정하기", "데이터베이스 설정"), ("데이터베이스의 설정을 부탁해", "데이터베이스 설정"),
    ("데이터베이스를 좀 설정해줘", "데이터베이스 설정"), ("DB를 설정하고 싶어요", "DB 설정"),
    ("데이터베이스 구성해줘", "데이터베이스 구성"), ("마이그레이션 설정 좀", "마이그레이션 설정"),
    ("sqlalchemy로 DB 설정", "DB 설정"), ("프로젝트에 DB setup 해줘", "db setup"),
    ("데이터베이스 초기 설정", "데이터베이스 설정"), ("Alembic으로 마이그레이션 설정", "마이그레이션 설정"),
    ("마이그래이션 설정 좀", "마이그레이션 설정"),
];

#[rustfmt::skip]
const ENGLISH: &[(&str, &str)] = &[
    ("database setup", "database setup"), ("Set up the database", "set up the database"),
    ("setting up alembic", "set up alembic"), ("Sets up the database.", "set up the database"),
    ("set up my database", "set up the database"), ("please set up the DB", "set up the database"),
    ("Configure the database for my app", "configure the database"),
    ("configuring our databases", "configure the database"),
    ("configured the database?", "configure the database"), ("database set-up", "database setup"),
    ("setup the database", "set up the database"), ("db set up", "db setup"),
    ("set up a new database", "set up the database"),
    ("database migration setup", "database migrations setup"),
    ("Databases migrations set-up!", "database migrations setup"),
    ("can you set up SQLAlchemy for me", "set up sqlalchemy"), ("DATABASE   SETUP", "database setup"),
    ("set up a PostgreSQL database", "set up the database"),
    ("configure the project database", "configure the database"), ("db_setup", "db setup"),
    ("data base setup", "database setup"),
];

/// Matched by meaning (no phrase): the skill ranks first, naming no trigger.
#[rustfmt::skip]
const BY_MEANING: &[&str] = &[
    "alembic 설정해줘", "ＳＱＬＡｌｃｈｅｍｙ 써서 해줘", "I need alembic", "SQLAlchemy please", "I use SQL Alchemy",
    "데이터베이스 연동해줘", "I want to use postgres with FastAPI", "hook up postgres", "디비 붙여줘",
    "configure postgress for my fastapi app", "intergrate sqlalchmey please",
];

#[rustfmt::skip]
const NEGATIVE: &[&str] = &[
    "", "   ", "🎉🎉", "데이터베이스 백업해줘", "설정 화면 열어줘", "DB 백업", "set up the printer",
    "database backup please", "what is a database", "설정", "데이터베이스", "alembicus", "sqlalchemyx",
    "데이터베이스 백업 설정", "set the database", "db backup setup", "DB backup 설정", "setup", "db", "디비",
    "migrations", "configure the router", "날씨 어때?", "database is slow, set up a printer", "sql alchemyx", "alchemy",
    "alembic이 뭐야?", "what is alembic?", "drop the database", "set up django with postgres", "DB에 테이블 추가해줘",
    "I hate sqlalchemy", "don't set up alembic", "show me the database",
];

fn skills(words: &Words) -> Vec<SkillTriggers<'_>> {
    static NONE: std::sync::LazyLock<Words> = std::sync::LazyLock::new(Words::default);
    vec![
        SkillTriggers { skill: "deploy", phrases: vec!["배포", "앱 배포", "deploy the app"], words: &NONE },
        SkillTriggers { skill: "database-setup", phrases: DB_PHRASES.to_vec(), words },
    ]
}

fn ranked(text: &str) -> Ranking {
    rank(text, &skills(&db_words()))
}

/// (skill, trigger) of the best match, if any.
fn top(text: &str) -> Option<(String, Option<String>)> {
    ranked(text).matches.into_iter().next().map(|m| (m.skill, m.trigger))
}

#[test]
fn phrases_name_the_expected_trigger() {
    for (text, trigger) in KOREAN.iter().chain(ENGLISH) {
        assert_eq!(top(text), Some(("database-setup".into(), Some(trigger.to_string()))), "text: {text:?}");
    }
}

#[test]
fn requests_in_other_words_match_by_meaning() {
    for text in BY_MEANING {
        let r = ranked(text);
        assert_eq!(
            r.matches.first().map(|m| (m.skill.as_str(), &m.trigger)),
            Some(("database-setup", &None)),
            "{text:?}: {r:?}"
        );
    }
    let why = &ranked("configure postgress for my fastapi app").matches[0].why;
    assert_eq!((why.objects.clone(), why.intents.clone()), (vec!["postgress".into()], vec!["configure".into()]));
    assert_eq!(why.typos, ["postgress → postgres"]);
}

#[test]
fn negatives_match_nothing() {
    for text in NEGATIVE {
        assert_eq!(ranked(text).matches, vec![], "text: {text:?}");
    }
}

#[test]
fn questions_and_partial_requests_are_near_misses_and_exclusions_are_not() {
    let note = |text: &str| ranked(text).near_misses.first().map(|m| (m.skill.clone(), m.why.note));
    let db = |n| Some(("database-setup".to_string(), Some(n)));
    assert_eq!(note("what is alembic?"), db(Note::Question));
    assert_eq!(note("alembic이 뭐야?"), db(Note::Question));
    assert_eq!(note("explain how to set up alembic"), db(Note::Question));
    assert_eq!(note("Should I use alembic?"), db(Note::Question));
    assert_eq!(note("postgres"), db(Note::Partial));
    assert_eq!(note("데이터베이스"), db(Note::Partial));
    for excluded in ["drop the database", "DB 백업해줘", "set up django with postgres", "DB에 테이블 추가해줘"]
    {
        assert_eq!(ranked(excluded).near_misses, vec![], "{excluded}");
    }
    // "How do I set up ...", "DB 설정 방법 알려줘": the strong intent makes them requests.
    assert!(top("how do I set up alembic?").is_some());
    assert!(top("DB 설정 방법 알려줘").is_some());
    assert!(top("can you configure the database?").is_some());
}

#[test]
fn ranking_across_skills() {
    let top2 = |t| top(t).map(|(s, p)| (s, p.unwrap_or_default()));
    assert_eq!(top2("앱 배포해줘"), Some(("deploy".into(), "앱 배포".into())));
    assert_eq!(top2("deploying the app"), Some(("deploy".into(), "deploy the app".into())));
    let r = ranked("데이터베이스 설정하고 배포해줘");
    let got: Vec<_> = r.matches.iter().map(|m| (m.skill.as_str(), m.trigger.as_deref())).collect();
    // A one-word phrase inside a longer request is a word of it, not the phrase.
    assert_eq!(got, [("database-setup", Some("데이터베이스 설정")), ("deploy", None)]);
    assert!(r.matches[0].score > r.matches[1].score);
    let none = Words::default();
    let same = [
        SkillTriggers { skill: "b", phrases: vec!["alembic"], words: &none },
        SkillTriggers { skill: "a", phrases: vec!["alembic", "alembic"], words: &none },
    ];
    let r = rank("alembic", &same);
    assert_eq!((r.matches[0].skill.as_str(), r.matches[1].skill.as_str(), r.matches.len()), ("a", "b", 2));
    assert!(r.ambiguous());
    assert!(!ranked("데이터베이스 설정하고 배포해줘").ambiguous());
}

#[test]
fn scores_are_calibrated() {
    let s = |text: &str| ranked(text).matches.first().map_or(0.0, |m| m.score);
    assert_eq!(s("DB 설정"), 1.0);
    assert_eq!(s("alembic"), 1.0);
    // Phrases (0.86..1) above meaning (0.5..0.85); strong above medium above weak intents.
    assert!(s("DB 설정해줘") >= 0.86 && s("DB 설정해줘") < 1.0);
    assert!(s("DB 설정해줘") > s("DB설정"));
    assert!(s("database setup now") > s("databases set-up now"));
    assert!(s("set up alembic please") > s("alembic please"));
    assert!(s("디비 붙여줘") < 0.86 && s("디비 붙여줘") > s("디비 추가해줘"));
    assert!(s("디비 추가해줘") > s("디비 좀 부탁해"));
    assert!(s("디비 좀 부탁해") >= THRESHOLD);
    assert!(s("connect postgres") > s("connect postgress"));
    assert!(s("hook up postgres") > s("hook up my shiny postgres"));
    for (t, _) in KOREAN.iter().chain(ENGLISH) {
        assert!((THRESHOLD..=1.0).contains(&s(t)), "{t}");
    }
}

#[test]
fn language_and_serialization() {
    assert_eq!(detect_lang("DB 설정"), Lang::Ko);
    assert_eq!(detect_lang("ㄷㅂ"), Lang::Ko);
    assert_eq!(detect_lang("set up the database"), Lang::En);
    assert_eq!(detect_lang(""), Lang::En);
    assert_eq!(ranked("DB 설정해줘").lang, Lang::Ko);
    assert_eq!(ranked("db setup").matches[0].lang, Lang::En);
    assert_eq!(Lang::parse(" KR "), Some(Lang::Ko));
    assert_eq!(Lang::parse("Korean"), Some(Lang::Ko));
    assert_eq!(Lang::parse("EN"), Some(Lang::En));
    assert_eq!(Lang::parse("english"), Some(Lang::En));
    assert_eq!(Lang::parse("fr"), None);
    assert_eq!((Lang::Ko.code(), Lang::En.code()), ("ko", "en"));
    assert_eq!(serde_json::to_string(&Lang::Ko).unwrap(), "\"ko\"");
    assert_eq!(serde_json::from_str::<Lang>("\"en\"").unwrap(), Lang::En);
    let v = serde_json::to_value(&ranked("alembic").matches[0]).unwrap();
    let want = r#"{"skill":"database-setup","trigger":"alembic","lang":"en","score":1.0,"why":{"objects":["alembic"],"intents":[]}}"#;
    assert_eq!(v, serde_json::from_str::<serde_json::Value>(want).unwrap());
}

#[test]
fn words_name_known_groups_only() {
    let w =
        |intents: &[&str]| Words { intents: Some(intents.iter().map(|s| s.to_string()).collect()), ..Words::default() };
    assert_eq!(w(&["@setup", "@data", "bake"]).check(), Ok(()));
    let err = w(&["@nope"]).check().unwrap_err();
    assert!(err.starts_with("unknown intent group `@nope` (known: ") && err.contains("@setup"), "{err}");
    assert!(w(&["@question"]).check().is_err());
}

#[test]
fn a_skill_serving_an_excluding_group_is_not_excluded_by_it() {
    let backup = Words {
        objects: vec!["database".into(), "데이터베이스".into()],
        intents: Some(vec!["@data".into(), "@request".into()]),
        ..Words::default()
    };
    let db = db_words();
    let set = [
        SkillTriggers { skill: "backup", phrases: vec!["database backup"], words: &backup },
        SkillTriggers { skill: "database-setup", phrases: DB_PHRASES.to_vec(), words: &db },
    ];
    for text in ["back up the database please", "데이터베이스 백업해줘"] {
        let r = rank(text, &set);
        assert_eq!(r.matches.iter().map(|m| m.skill.as_str()).collect::<Vec<_>>(), ["backup"], "{text}");
    }
    assert_eq!(rank("set up the database", &set).matches[0].skill, "database-setup");
}

#[test]
fn odd_texts_rank_without_panicking() {
    let words = db_words();
    let index = TriggerIndex::new(&skills(&words));
    let long = "DB 설정 ".repeat(600);
    for text in [
        "",
        " ",
        "up",
        "set up up up",
        "ㄱㄱ",
        "ㅂ",
        "DB ㄱ",
        "d b",
        "I'd",
        "ｓｅｔ ｕｐ ｄｂ",
        "é",
        "İstanbul db setup",
        "👍 db 👍 설정 👍",
        "db\u{0}설정",
        "데이터베이스\u{200b}설정",
        "a".repeat(5000).as_str(),
        long.as_str(),
        "설 정",
        "마이그레이숀 셋업",
        "x://",
        "://",
        "./",
        "=",
        "set=up db",
        "DB설정해줘DB설정해줘",
        "\u{1100}\u{1161}\u{11a8}",
    ] {
        let r = index.rank(text);
        for m in r.matches.iter().chain(&r.near_misses) {
            assert!((0.0..=1.0).contains(&m.score), "{text:?}: {m:?}");
        }
        assert!(r.matches.iter().all(|m| m.score >= THRESHOLD) && r.near_misses.iter().all(|m| m.score < THRESHOLD));
    }
}
