//! Scripted conversations through `skillrun chat --json` (one JSON object per line in and out):
//! Korean and English ones that end in a generated project, and the interruptions people make
//! (cancel, a wrong URL, an answer in the other language, a second conversation in between).

use serde_json::{Value, json};

use crate::support::Test;

/// Sends `lines` (conversation id, text) to `skillrun chat --json`; returns one turn per line.
fn converse(t: &Test, lines: &[(&str, String)]) -> Vec<Value> {
    let input: String =
        lines.iter().map(|(id, text)| format!("{}\n", json!({"conversation": id, "text": text}))).collect();
    let ran = t.run_with(&["chat", "--json"], &input).code(0);
    let turns: Vec<Value> =
        ran.stdout.lines().map(|l| serde_json::from_str(l).expect("one JSON turn a line")).collect();
    assert_eq!(turns.len(), lines.len(), "one turn per message:\n{}", ran.stdout);
    turns
}

fn step(turn: &Value) -> (&str, &str, &str) {
    (turn["step"].as_str().unwrap(), turn["lang"].as_str().unwrap(), turn["field"].as_str().unwrap_or(""))
}

#[test]
fn a_korean_conversation_asks_re_asks_a_wrong_url_previews_and_generates_the_project() {
    let t = Test::new();
    let project = t.project().display().to_string();
    let secret = "Pw-s3cret-42";
    let turns = converse(
        &t,
        &[
            ("k", "DB 설정 해줘".into()),
            ("k", format!("{project} 에 해 주세요")),
            ("k", "ftp://nowhere/app".into()),
            ("k", format!("postgresql://app:{secret}@localhost:5432/app 로 해 주세요")),
            ("k", "네".into()),
        ],
    );
    assert_eq!(step(&turns[0]), ("asking", "ko", "projectPath"), "{}", turns[0]);
    assert!(turns[0]["reply"].as_str().unwrap().contains("프로젝트 디렉터리"), "{}", turns[0]);
    assert_eq!(step(&turns[1]), ("asking", "ko", "databaseUrl"), "{}", turns[1]);
    // The wrong URL is re-asked, with the reason, in Korean.
    assert_eq!(step(&turns[2]), ("asking", "ko", "databaseUrl"), "{}", turns[2]);
    assert!(turns[2]["reply"].as_str().unwrap().contains("지원하지 않는 URL"), "{}", turns[2]);
    // The plan is shown and nothing is written before "네".
    assert_eq!(step(&turns[3]), ("confirming", "ko", ""), "{}", turns[3]);
    let preview = turns[3]["reply"].as_str().unwrap();
    assert!(preview.contains("alembic.ini") && preview.contains("진행할까요?"), "{preview}");
    assert_eq!(turns[3]["report"]["status"], "dry-run");
    // The run: the report, the files and the next commands.
    assert_eq!(step(&turns[4]), ("done", "ko", ""), "{}", turns[4]);
    assert_eq!(turns[4]["report"]["status"], "applied", "{}", turns[4]);
    let done = turns[4]["reply"].as_str().unwrap();
    assert!(done.contains("다음 명령") && done.contains("alembic upgrade head"), "{done}");
    assert!(t.read(".env").contains(secret), "the password belongs in .env");
    assert!(t.read("app/infrastructure/database/session.py").contains("create_async_engine"));
    for turn in &turns {
        assert!(!turn.to_string().contains(secret), "a secret in a reply: {turn}");
    }
}

#[test]
fn an_english_conversation_switches_to_korean_when_the_answer_is_korean_and_back() {
    let t = Test::new();
    let project = t.project().display().to_string();
    let turns = converse(
        &t,
        &[
            ("e", format!("set up the database with SQLite in {project}")),
            ("e", "sqlite:/app.db".into()),
            ("e", "sqlite:///./app.db 로 해 주세요".into()),
            ("e", "yes".into()),
        ],
    );
    assert_eq!(step(&turns[0]), ("asking", "en", "databaseUrl"), "{}", turns[0]);
    assert!(turns[0]["reply"].as_str().unwrap().contains("What is databaseUrl?"), "{}", turns[0]);
    // A malformed answer is re-asked with the reason; it shows no language, so English stays.
    assert_eq!(step(&turns[1]), ("asking", "en", "databaseUrl"), "{}", turns[1]);
    assert!(turns[1]["reply"].as_str().unwrap().contains("is not a database URL"), "{}", turns[1]);
    assert_eq!(step(&turns[2]), ("confirming", "ko", ""), "{}", turns[2]);
    assert_eq!(step(&turns[3]), ("done", "en", ""), "{}", turns[3]);
    assert!(turns[3]["reply"].as_str().unwrap().contains("Next:"), "{}", turns[3]);
    assert!(t.read(".env").contains("sqlite+aiosqlite:///./app.db"), "{}", t.read(".env"));
}

#[test]
fn everything_in_one_message_goes_straight_to_the_plan() {
    let t = Test::new();
    let project = t.project().display().to_string();
    let turns = converse(
        &t,
        &[(
            "x",
            format!("마이에스큐엘로 DB 설정 해줘 projectPath={project} databaseUrl: mysql://root@localhost:3306/app"),
        )],
    );
    assert_eq!(step(&turns[0]), ("confirming", "ko", ""), "{}", turns[0]);
    assert_eq!(turns[0]["report"]["status"], "dry-run");
    assert!(!t.project().exists(), "a preview writes nothing");
}

#[test]
fn cancel_ends_a_conversation_and_writes_nothing() {
    let t = Test::new();
    let project = t.project().display().to_string();
    let turns = converse(
        &t,
        &[
            ("a", format!("DB 설정 해줘 {project}")),
            ("a", "취소".into()),
            ("a", "sqlite:///./app.db".into()),
            ("b", format!("set up alembic in {project} with sqlite:///./app.db")),
            ("b", "cancel".into()),
            ("b", "yes".into()),
        ],
    );
    assert_eq!(step(&turns[0]), ("asking", "ko", "databaseUrl"));
    assert_eq!(step(&turns[1]), ("cancelled", "ko", ""), "{}", turns[1]);
    assert!(turns[1]["reply"].as_str().unwrap().contains("아무것도 쓰지 않았습니다"));
    // Cancelled means forgotten: a URL alone does not start a new conversation.
    assert_eq!(step(&turns[2]).0, "idle", "{}", turns[2]);
    assert_eq!(step(&turns[3]), ("confirming", "en", ""), "{}", turns[3]);
    assert_eq!(step(&turns[4]), ("cancelled", "en", ""), "{}", turns[4]);
    assert_eq!(step(&turns[5]).0, "idle", "a yes after cancel runs nothing: {}", turns[5]);
    assert!(!t.project().exists(), "nothing may be written");
}

#[test]
fn two_conversations_on_one_stream_are_kept_apart_and_no_means_no() {
    let t = Test::new();
    let one = t.dir.path().join("one").display().to_string();
    let two = t.dir.path().join("two").display().to_string();
    let turns = converse(
        &t,
        &[
            ("1", format!("DB 설정 해줘 {one}")),
            ("2", format!("set up the database in {two}")),
            ("1", "sqlite:///./one.db".into()),
            ("2", "sqlite:///./two.db".into()),
            ("2", "no".into()),
            ("1", "응".into()),
        ],
    );
    assert_eq!(step(&turns[2]).0, "confirming", "{}", turns[2]);
    assert_eq!(step(&turns[4]), ("cancelled", "en", ""), "{}", turns[4]);
    assert_eq!(step(&turns[5]), ("done", "ko", ""), "{}", turns[5]);
    let env = std::fs::read_to_string(t.dir.path().join("one/.env")).unwrap();
    assert!(env.contains("one.db") && !env.contains("two.db"), "{env}");
    assert!(!t.dir.path().join("two").exists(), "\"no\" writes nothing");
}

#[test]
fn a_line_that_is_not_json_gets_an_error_line_and_the_conversation_goes_on() {
    let t = Test::new();
    let ran = t.run_with(&["chat", "--json"], "not json\n{\"text\": \"DB 설정 해줘\"}\n").code(0);
    let lines: Vec<Value> = ran.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines[0]["error"].as_str().unwrap().contains("conversation"), "{}", lines[0]);
    assert_eq!(step(&lines[1]), ("asking", "ko", "projectPath"));
    assert_eq!(lines[1]["conversation"], "default");
}

#[test]
fn plain_lines_get_plain_replies() {
    let t = Test::new();
    let project = t.project().display().to_string();
    let ran = t.run_with(&["chat"], &format!("set up the database in {project}\nsqlite:///./app.db\ny\n")).code(0);
    assert!(ran.stdout.contains("What is databaseUrl?"), "{}", ran.stdout);
    assert!(ran.stdout.contains("Go ahead? (yes/no)"), "{}", ran.stdout);
    assert!(ran.stdout.contains("files created"), "{}", ran.stdout);
    assert!(t.project().join("alembic.ini").is_file());
}
