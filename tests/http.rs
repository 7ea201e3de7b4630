//! `skillrun serve --http` on loopback, through real HTTP: the bearer token, the roots, Slack's
//! signature, bounds on bodies and conversations, 50 conversations at once, and a load run.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{KeyInit, Mac};
use serde_json::{Value, json};

use crate::support::{Server, Test};

fn root_of(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    root
}

fn start(root: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let mut args = vec!["--root", root.to_str().unwrap()];
    args.extend_from_slice(extra);
    Server::start(&args, "test-token-0123456789", env)
}

#[test]
fn every_route_but_slack_needs_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&root_of(dir.path()), &[], &[]);
    let body = json!({"text": "DB 설정 해줘"}).to_string();
    let json_type = ("content-type", "application/json");
    for (path, auth) in [
        ("/v1/chat", None),
        ("/v1/chat", Some("Bearer wrong-token")),
        ("/v1/chat", Some("Basic dGVzdC10b2tlbi0wMTIzNDU2Nzg5")),
        ("/mcp", None),
        ("/mcp", Some("Bearer test-token-012345678")),
    ] {
        let mut headers = vec![json_type, ("accept", "application/json, text/event-stream")];
        if let Some(auth) = auth {
            headers.push(("authorization", auth));
        }
        let answer = server.post_raw(path, &headers, body.as_bytes());
        assert_eq!(answer.status, 401, "{path} with {auth:?}: {}", answer.body);
    }
    let answer = server.chat(&json!({"conversation": "c1", "text": "DB 설정 해줘"}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["field"], "projectPath");
    // Slack is off unless its signing secret is set.
    assert_eq!(server.post_raw("/v1/slack", &[], b"text=hi&user_id=U1&channel_id=C1").status, 404);
}

#[test]
fn the_server_will_not_start_without_a_token_or_a_root() {
    let t = Test::new();
    let root = t.dir.path().display().to_string();
    let ran = t.run_with(&["serve", "--http", "0.0.0.0:0", "--root", &root], "");
    assert_ne!(ran.code, 0);
    assert!(ran.stderr.contains("SKILLRUN_TOKEN") && ran.stderr.contains("non-loopback"), "{}", ran.stderr);
    let ran = t.run_with(&["serve", "--http", "127.0.0.1:0", "--root", &root], "");
    assert!(ran.code != 0 && ran.stderr.contains("SKILLRUN_TOKEN"), "{}", ran.stderr);
    let ran = Test::new().env("SKILLRUN_TOKEN", "t0ken").run_with(&["serve", "--http", "127.0.0.1:0"], "");
    assert!(ran.code != 0 && ran.stderr.contains("--root"), "{}", ran.stderr);
}

/// A full conversation over `/v1/chat`: first message, URL, yes. Returns the three turns.
fn converse(server: &Server, id: &str, project: &Path, url: &str) -> Vec<Value> {
    let texts = [format!("set up the database in {}", project.display()), url.to_owned(), "yes".to_owned()];
    texts
        .iter()
        .map(|text| {
            let answer = server.chat(&json!({"conversation": id, "text": text}));
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.json()
        })
        .collect()
}

#[test]
fn a_project_outside_the_roots_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
    let server = start(&root, &[], &[]);
    let tries = [
        outside.join("project"),
        root.join("link/project"),
        root.join("../outside/project"),
        Path::new("/tmp").to_path_buf(),
    ];
    for (i, project) in tries.iter().enumerate() {
        let text = format!("DB 설정 해줘 {} sqlite:///./app.db", project.display());
        let turn = server.chat(&json!({"conversation": format!("o{i}"), "text": text})).json();
        assert_eq!((turn["step"].as_str(), turn["field"].as_str()), (Some("asking"), Some("projectPath")), "{turn}");
        assert!(turn["reply"].as_str().unwrap().contains("허용된 디렉터리 밖"), "{turn}");
        // Answering "yes" does not get past the refusal.
        let turn = server.chat(&json!({"conversation": format!("o{i}"), "text": "네"})).json();
        assert_eq!(turn["field"], "projectPath", "{turn}");
    }
    // Named alone, as the answer to the question, it is refused at once.
    server.chat(&json!({"conversation": "alone", "text": "set up the database"}));
    let turn = server.chat(&json!({"conversation": "alone", "text": outside.join("api")})).json();
    assert_eq!(turn["field"], "projectPath", "{turn}");
    assert!(turn["reply"].as_str().unwrap().contains("outside the allowed directories"), "{turn}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0, "nothing may be written outside the roots");
    // Inside the root (also a directory that does not exist yet) it runs.
    let turns = converse(&server, "in", &root.join("api"), "sqlite:///./app.db");
    assert_eq!(turns[2]["report"]["status"], "applied", "{}", turns[2]);
    assert!(root.join("api/alembic.ini").is_file());
}

#[test]
fn fifty_conversations_at_once_are_kept_apart_and_callers_cannot_drive_each_others() {
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let server = Server::start(&["--root", root.to_str().unwrap()], "token-a,token-b", &[]);
    let server = std::sync::Arc::new(server);
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let server = server.clone();
            let root = root.clone();
            std::thread::spawn(move || {
                let turns =
                    converse(&server, &format!("c{i}"), &root.join(format!("p{i}")), &format!("sqlite:///./db{i}.db"));
                let steps: Vec<&str> = turns.iter().map(|t| t["step"].as_str().unwrap()).collect();
                assert_eq!(steps, ["asking", "confirming", "done"], "{turns:?}");
                assert_eq!(turns[2]["report"]["status"], "applied", "{}", turns[2]);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for i in 0..50 {
        let env = std::fs::read_to_string(root.join(format!("p{i}/.env"))).unwrap();
        assert!(env.contains(&format!("/db{i}.db")), "p{i}/.env: {env}");
    }
    // token-a's conversation is not token-b's, though the id is the same.
    let other = |token: &str, text: &str| {
        let auth = format!("Bearer {token}");
        let body = json!({"conversation": "shared", "text": text}).to_string();
        server
            .post_raw("/v1/chat", &[("authorization", &auth), ("content-type", "application/json")], body.as_bytes())
            .json()
    };
    let a = other("token-a", &format!("set up the database in {} with sqlite:///./a.db", root.join("a").display()));
    assert_eq!(a["step"], "confirming", "{a}");
    let b = other("token-b", "yes");
    assert_eq!(b["step"], "idle", "{b}");
    assert!(!root.join("a").exists(), "token-b's yes must not run token-a's plan");
    assert_eq!(other("token-a", "yes")["step"], "done");
}

#[test]
fn bodies_messages_and_conversations_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&root_of(dir.path()), &["--max-conversations", "2"], &[]);
    let big = "x".repeat(70 * 1024);
    let answer = server.chat(&json!({"text": big}));
    assert_eq!(answer.status, 413, "{}", answer.body);
    let answer = server.chat(&json!({"text": "y".repeat(5000)}));
    assert_eq!(answer.status, 413, "{}", answer.body);
    for id in ["one", "two"] {
        assert_eq!(server.chat(&json!({"conversation": id, "text": "DB 설정 해줘"})).status, 200);
    }
    let answer = server.chat(&json!({"conversation": "three", "text": "DB 설정 해줘"}));
    assert_eq!(answer.status, 429, "{}", answer.body);
    // A conversation in progress still goes on; a cancelled one frees its place.
    assert_eq!(server.chat(&json!({"conversation": "one", "text": "취소"})).json()["step"], "cancelled");
    assert_eq!(server.chat(&json!({"conversation": "three", "text": "DB 설정 해줘"})).status, 200);
    for bad in [json!({"conversation": "a b", "text": "hi"}), json!({"txt": "hi"}), json!({"text": "hi", "lang": "fr"})]
    {
        assert_eq!(server.chat(&bad).status, 400, "{bad}");
    }
}

#[test]
fn a_bounded_load_run_answers_every_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = std::sync::Arc::new(start(&root_of(dir.path()), &[], &[]));
    const CLIENTS: usize = 8;
    const PAIRS: usize = 25;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let server = server.clone();
            std::thread::spawn(move || {
                let mut answered = 0;
                for i in 0..PAIRS {
                    let id = format!("load-{c}-{i}");
                    let first = server.chat(&json!({"conversation": id, "text": "DB 설정 해줘"}));
                    let second = server.chat(&json!({"conversation": id, "text": "취소"}));
                    for (answer, expected) in [(first, "asking"), (second, "cancelled")] {
                        assert_eq!(answer.status, 200, "{}", answer.body);
                        assert_eq!(answer.json()["step"], expected);
                        answered += 1;
                    }
                }
                answered
            })
        })
        .collect();
    let answered: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(answered, CLIENTS * PAIRS * 2);
}

fn slack_sign(secret: &str, timestamp: &str, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("v0:{timestamp}:{body}").as_bytes());
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn slack_body(text: &str, user: &str) -> String {
    let pairs = [("command", "/skillrun"), ("text", text), ("user_id", user), ("team_id", "T1"), ("channel_id", "C1")];
    serde_urlencoded::to_string(pairs).unwrap()
}

#[test]
fn slack_requests_need_a_good_fresh_signature_and_drive_a_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let secret = "slack-signing-secret-for-tests";
    let server = start(&root, &[], &[("SLACK_SIGNING_SECRET", secret)]);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let send = |text: &str, user: &str, timestamp: u64, key: &str| {
        let body = slack_body(text, user);
        let ts = timestamp.to_string();
        let signature = slack_sign(key, &ts, &body);
        let headers = [
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-slack-request-timestamp", ts.as_str()),
            ("x-slack-signature", signature.as_str()),
        ];
        server.post_raw("/v1/slack", &headers, body.as_bytes())
    };
    let project = root.join("slack-api");
    let first = format!("DB 설정 해줘 {} sqlite:///./app.db", project.display());
    assert_eq!(send(&first, "U1", now, "wrong-secret").status, 401);
    assert_eq!(send(&first, "U1", now - 6 * 60, secret).status, 401, "a replayed old request");
    let unsigned = server.post_raw("/v1/slack", &[], slack_body(&first, "U1").as_bytes());
    assert_eq!(unsigned.status, 401);
    // A body changed after signing fails.
    let ts = now.to_string();
    let signature = slack_sign(secret, &ts, &slack_body("hi", "U1"));
    let tampered = server.post_raw(
        "/v1/slack",
        &[("x-slack-request-timestamp", ts.as_str()), ("x-slack-signature", signature.as_str())],
        slack_body(&first, "U1").as_bytes(),
    );
    assert_eq!(tampered.status, 401);
    assert!(!project.exists());

    let answer = send(&first, "U1", now, secret);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let reply = answer.json();
    assert_eq!(reply["response_type"], "ephemeral");
    assert!(reply["text"].as_str().unwrap().contains("진행할까요?"), "{reply}");
    // Another person in the same channel has no conversation to confirm.
    let other = send("네", "U2", now, secret).json();
    assert!(other["text"].as_str().unwrap().contains("해당하지 않습니다"), "{other}");
    assert!(!project.exists());
    let done = send("네", "U1", now, secret).json();
    assert!(done["text"].as_str().unwrap().contains("alembic upgrade head"), "{done}");
    assert!(project.join("alembic.ini").is_file());
}

#[test]
fn secrets_stay_out_of_replies_and_logs() {
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let server = start(&root, &[], &[]);
    let secret = "Hunter2-pw-9";
    let project = root.join("pg");
    let turns = converse(&server, "s", &project, &format!("postgresql://app:{secret}@localhost:5432/app"));
    assert_eq!(turns[2]["report"]["status"], "applied", "{}", turns[2]);
    // A wrong URL holding a password is re-asked without showing it.
    let wrong = server
        .chat(&json!({"conversation": "w", "text": format!("set up the database in {} with ftp://u:{secret}@h/db", root.join("w").display())}))
        .json();
    assert_eq!(wrong["field"], "databaseUrl", "{wrong}");
    for turn in turns.iter().chain([&wrong]) {
        assert!(!turn.to_string().contains(secret), "{turn}");
    }
    assert!(std::fs::read_to_string(project.join(".env")).unwrap().contains(secret));
    let log = server.log();
    assert!(log.contains("conversation"), "the server logs at debug level:\n{log}");
    assert!(!log.contains(secret), "a secret in the log:\n{log}");
}

#[test]
fn mcp_sessions_are_bounded_and_belong_to_the_token_that_opened_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let server = Server::start(&["--root", root.to_str().unwrap(), "--max-conversations", "1"], "token-a,token-b", &[]);
    let post = |token: &str, session: Option<&str>, body: &Value| {
        let session: Vec<(&str, &str)> = session.map(|id| ("mcp-session-id", id)).into_iter().collect();
        crate::chatops::mcp_post(&server, token, &session, body)
    };
    let initialize = crate::chatops::mcp_initialize();
    let (first, headers) = post("token-a", None, &initialize);
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.contains("\"serverInfo\""), "{}", first.body);
    let session = headers.get("mcp-session-id").expect("a session id").to_owned();
    // A second session is over the bound.
    assert_eq!(post("token-b", None, &initialize).0.status, 429);
    // The session is token-a's: token-b cannot use it, token-a can.
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let (other, _) = post("token-b", Some(&session), &list);
    assert_eq!(other.status, 404, "{}", other.body);
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post("token-a", Some(&session), &initialized).0.status, 202);
    let (own, _) = post("token-a", Some(&session), &list);
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(own.body.contains("database-setup"), "{}", own.body);
}

#[test]
fn an_mcp_tool_call_over_http_keeps_the_password_out_of_debug_logs() {
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let server = start(&root, &[], &[]);
    let auth = format!("Bearer {}", server.token);
    let post = |session: Option<&str>, body: &Value| {
        let mut headers = vec![
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("mcp-protocol-version", "2025-11-25"),
        ];
        if let Some(id) = session {
            headers.push(("mcp-session-id", id));
        }
        server.post_raw_with_headers("/mcp", &headers, body.to_string().as_bytes())
    };
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let (_, headers) = post(None, &initialize);
    let session = headers.get("mcp-session-id").expect("a session id").to_owned();
    post(Some(&session), &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let secret = "Log-leak-pw-77";
    let arguments =
        json!({"projectPath": root.join("api"), "databaseUrl": format!("postgresql://app:{secret}@db/app")});
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "database-setup", "arguments": arguments}});
    let (answer, _) = post(Some(&session), &call);
    assert!(answer.body.contains("\"status\":\"applied\""), "{}", answer.body);
    assert!(!answer.body.contains(secret), "{}", answer.body);
    let log = server.log();
    assert!(log.contains("run finished"), "the server logs the run:\n{log}");
    assert!(!log.contains(secret), "a secret in the log:\n{log}");
}
