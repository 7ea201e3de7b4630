//! Input validation through the CLI: each error names the field (a JSON pointer), says what is
//! wrong and how to fix it, in the requested language; nothing is written.

use crate::support::Test;

fn errors(input: &str, lang: &str) -> Vec<(String, String)> {
    let t = Test::new().args(["run", "database-setup", "--json", "--lang", lang, "--input", input]);
    let ran = t.run().code(2);
    let json = ran.json();
    assert_eq!(json["status"], "invalid");
    assert_eq!(json["files"].as_array().unwrap().len(), 0);
    assert_eq!(std::fs::read_dir(t.dir.path()).unwrap().count(), 0, "nothing may be written");
    json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["message"].as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn missing_fields_are_named_with_a_fix() {
    let errs = errors("{}", "en");
    assert_eq!(errs.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(), ["/databaseUrl", "/projectPath"]);
    assert!(errs[0].1.starts_with("is required but missing; give a URL such as"), "{}", errs[0].1);
    let errs = errors("{}", "ko");
    assert!(errs[1].1.starts_with("필수 항목이 없습니다. 프로젝트 디렉터리를 지정하세요"), "{}", errs[1].1);
}

#[test]
fn wrong_enum_and_type() {
    let errs = errors(r#"{"projectPath": "p", "databaseUrl": "sqlite:///a.db", "dbType": "oracle"}"#, "en");
    assert_eq!(errs, [("/dbType".to_owned(), r#"must be one of "postgresql", "mysql", "sqlite"; use one of "postgresql", "mysql", "sqlite", or leave it out to take it from the URL"#.to_owned())]);
    let errs = errors(r#"{"projectPath": 5, "databaseUrl": "sqlite:///a.db"}"#, "en");
    assert_eq!(errs[0].0, "/projectPath");
    assert!(errs[0].1.starts_with("must be a string"), "{}", errs[0].1);
}

#[test]
fn unknown_field_suggests_the_known_one() {
    let errs = errors(r#"{"projectPath": "p", "databaseURL": "sqlite:///a.db", "colour": 1}"#, "en");
    assert!(errs.iter().any(|(f, m)| f == "/databaseURL" && m.contains("did you mean \"databaseUrl\"")), "{errs:?}");
    assert!(errs.iter().any(|(f, m)| f == "/colour" && m.starts_with("is not a known field; remove it")), "{errs:?}");
}

#[test]
fn url_errors_in_both_languages() {
    let errs = errors(r#"{"projectPath": "p", "databaseUrl": "localhost:5432/app"}"#, "en");
    assert_eq!(errs[0].0, "/databaseUrl");
    assert!(errs[0].1.contains("no `scheme://`"), "{}", errs[0].1);
    let errs = errors(r#"{"projectPath": "p", "databaseUrl": "mysql://root:pw@h/app", "dbType": "postgresql"}"#, "ko");
    assert_eq!(errs[0].0, "/dbType");
    assert!(errs[0].1.contains("dbType을 \"mysql\"로 바꾸거나"), "{}", errs[0].1);
    let errs = errors(r#"{"projectPath": "p", "databaseUrl": "mongodb://u:hunter2@h/app"}"#, "en");
    assert!(errs[0].1.contains("`mongodb://`") && !errs[0].1.contains("hunter2"), "{}", errs[0].1);
    // Found by `cargo fuzz run dburl`: the file-database error echoed the userinfo with its password.
    for lang in ["en", "ko"] {
        let errs = errors(r#"{"projectPath": "p", "databaseUrl": "sqlite://u:hunter22@host/app.db"}"#, lang);
        assert_eq!(errs[0].0, "/databaseUrl");
        assert!(errs[0].1.contains("`sqlite:///./app.db`") && !errs[0].1.contains("hunter22"), "{}", errs[0].1);
    }
    let errs = errors(r#"{"projectPath": "p", "databaseUrl": "sqlite://u:a/b@c@db.local/app.db"}"#, "en");
    assert!(errs[0].1.contains("names a host for a file database") && !errs[0].1.contains("a/b@c"), "{}", errs[0].1);
}

/// A URL SQLAlchemy and RFC 3986 (or libpq) would split differently is refused, in the request's
/// language, with the character to encode and its encoding, and without a piece of the URL.
#[test]
fn a_url_read_two_ways_is_refused_with_the_fix() {
    for (url, fixes) in [
        ("postgresql://app:p@ss@db/app", &["`@` -> `%40`"][..]),
        ("postgresql://app:pa/ss@db/app", &["`/` -> `%2F`"]),
        ("mysql://app:p?ss@db/app", &["`?` -> `%3F`"]),
        ("postgresql://app:p#ss@db/app", &["`#` -> `%23`"]),
        ("postgresql://app:a@b/c?d#e@db:5432/app", &["`@` -> `%40`", "`/` -> `%2F`", "`?` -> `%3F`", "`#` -> `%23`"]),
        ("postgresql://db:5432/app?application_name=a@b", &["`@` -> `%40`"]),
    ] {
        for (lang, words) in [("en", "can be read in more than one way"), ("ko", "두 가지 이상으로 읽을 수 있어")]
        {
            let input = serde_json::json!({"projectPath": "p", "databaseUrl": url}).to_string();
            let errs = errors(&input, lang);
            assert_eq!(errs[0].0, "/databaseUrl", "{url}");
            let message = &errs[0].1;
            assert!(message.contains(words), "{url}: {message}");
            for fix in fixes {
                assert!(message.contains(fix), "{url}: {message}");
            }
            for piece in ["ss@", "pa/", "p?", "p#", "a@b", "5432/app"] {
                assert!(!message.contains(piece), "{url}: {message}");
            }
        }
    }
    // The same passwords percent-encoded are taken.
    for url in ["postgresql://app:p%40ss@db/app", "postgresql://app:pa%2Fss@db/app", "mysql://app:p%3Fss@db/app"] {
        let t = crate::support::Test::new();
        t.database_setup(url, &[]).code(0);
        assert!(t.read(".env").contains(url.split_once("://").unwrap().1.split('@').next().unwrap()), "{url}");
    }
}

#[test]
fn bad_json_is_a_usage_error() {
    let ran = Test::new().args(["run", "database-setup", "--input", "{not json"]).run().code(2);
    assert!(ran.stderr.contains("--input is not valid JSON"), "{}", ran.stderr);
}

#[test]
fn unknown_skill_is_named() {
    let ran = Test::new().args(["run", "nope", "--input", "{}"]).run().code(2);
    assert!(
        ran.stderr.contains("unknown skill `nope` (known skills: database-setup, repository-pattern)"),
        "{}",
        ran.stderr
    );
}

#[test]
fn common_spellings_of_the_database_kind_are_understood() {
    for (given, kind, url) in [
        ("PostgreSQL", "postgresql", "postgres://u@h/app"),
        ("mariadb", "mysql", "mysql://u@h/app"),
        ("sqlite3", "sqlite", "sqlite:///./a.db"),
    ] {
        let t = Test::new();
        let input = serde_json::json!({"projectPath": t.project(), "databaseUrl": url, "dbType": given}).to_string();
        let t = t.args(["run", "database-setup", "--json", "--input", &input]);
        let json = t.run().code(0).json();
        assert!(
            json["notes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n.as_str().unwrap() == format!("dbType \"{given}\" was read as \"{kind}\"")),
            "{json}"
        );
    }
}
