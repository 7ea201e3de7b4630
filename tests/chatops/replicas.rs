//! Several `serve --http` replicas sharing the machine's Redis: a conversation moves between them
//! and outlives a killed one; two messages of one conversation at once on two replicas are both
//! taken; a confirmation delivered twice applies once; a Redis that stops gives 503 and no half
//! state; a load run of 4 replicas and 200 conversations.

use std::sync::{Arc, Barrier};

use serde_json::{Value, json};

use super::{PrivateRedis, Redis, TOKEN, mcp_initialize, mcp_post, root_of};
use crate::support::{Server, Test};

fn say(server: &Server, id: &str, text: &str) -> Value {
    let answer = server.chat(&json!({"conversation": id, "text": text}));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

fn applied(turn: &Value) -> bool {
    turn["report"]["status"] == "applied"
}

#[test]
fn a_conversation_moves_between_replicas_and_outlives_a_killed_one() {
    let Some(redis) = Redis::machine() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let a = redis.replica(&root, &[], &[]);
    let b = redis.replica(&root, &[], &[]);
    let project = root.join("moved");
    assert_eq!(say(&a, "m", "DB 설정 해줘")["field"], "projectPath");
    assert_eq!(say(&b, "m", project.to_str().unwrap())["field"], "databaseUrl");
    // A is killed (SIGKILL) between two messages; the conversation goes on on B, then on A again
    // once restarted.
    drop(a);
    let plan = say(&b, "m", "sqlite:///./app.db");
    assert_eq!(plan["step"], "confirming", "{plan}");
    let a = redis.replica(&root, &[], &[]);
    let done = say(&a, "m", "네");
    assert!(applied(&done), "{done}");
    assert!(project.join("alembic.ini").is_file());
    // Over: the next "yes", on either replica, starts nothing and applies nothing.
    assert_eq!(say(&b, "m", "네")["step"], "idle");
    assert!(redis.keys("conv:*").is_empty(), "a finished conversation is removed");
}

#[test]
fn two_messages_of_one_conversation_at_once_on_two_replicas_are_both_taken() {
    let Some(redis) = Redis::machine() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let replicas = Arc::new([redis.replica(&root, &[], &[]), redis.replica(&root, &[], &[])]);
    const CONVERSATIONS: usize = 10;
    let threads: Vec<_> = (0..CONVERSATIONS)
        .map(|i| {
            let replicas = replicas.clone();
            let project = root.join(format!("both{i}"));
            std::thread::spawn(move || {
                let id = format!("both-{i}");
                assert_eq!(say(&replicas[0], &id, "set up the database")["field"], "projectPath");
                // The project path to one replica and the URL to the other, at the same moment:
                // whichever is taken first, the other is taken after it, not instead of it.
                let barrier = Arc::new(Barrier::new(2));
                let url = format!("sqlite:///./db{i}.db");
                let texts = [project.display().to_string(), url];
                let sent: Vec<_> = texts
                    .into_iter()
                    .enumerate()
                    .map(|(r, text)| {
                        let (replicas, barrier, id) = (replicas.clone(), barrier.clone(), id.clone());
                        std::thread::spawn(move || {
                            barrier.wait();
                            say(&replicas[r], &id, &text)
                        })
                    })
                    .collect();
                let steps: Vec<Value> = sent.into_iter().map(|t| t.join().unwrap()["step"].clone()).collect();
                assert!(steps.contains(&json!("confirming")), "neither message completed the inputs: {steps:?}");
                let done = say(&replicas[1], &id, "yes");
                assert!(applied(&done), "{done}");
                let env = std::fs::read_to_string(project.join(".env")).unwrap();
                assert!(env.contains(&format!("/db{i}.db")), "{env}");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn a_confirmation_delivered_twice_applies_once() {
    let Some(redis) = Redis::machine() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let replicas = Arc::new([redis.replica(&root, &[], &[]), redis.replica(&root, &[], &[])]);
    for i in 0..5 {
        let id = format!("twice-{i}");
        let text = format!("set up the database in {} with sqlite:///./app.db", root.join(&id).display());
        assert_eq!(say(&replicas[0], &id, &text)["step"], "confirming");
        // The same "yes" to both replicas at once (a retried webhook, a load balancer's retry).
        let barrier = Arc::new(Barrier::new(2));
        let answers: Vec<Value> = (0..2)
            .map(|r| {
                let (replicas, barrier, id) = (replicas.clone(), barrier.clone(), id.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    say(&replicas[r], &id, "yes")
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .collect();
        assert_eq!(answers.iter().filter(|a| applied(a)).count(), 1, "{answers:?}");
        // And once more, later: nothing in progress.
        let late = say(&replicas[1], &id, "yes");
        assert_eq!(late["step"], "idle", "{late}");
    }
}

#[test]
fn a_redis_that_is_slow_or_stops_gives_503_and_no_half_state_and_a_wrong_address_is_refused() {
    let Some(mut private) = PrivateRedis::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let url = private.url();
    let args = ["--root", root.to_str().unwrap(), "--store", &url, "--store-prefix", "stop"];
    let server = Server::start(&args, TOKEN, &[]);
    // A Redis too slow to answer in time: 503, nothing done; once it answers again, the same
    // "yes" goes through (the lock the slow call may have taken after all is taken back).
    let slow = root.join("slow");
    let text = format!("set up the database in {} with sqlite:///./app.db", slow.display());
    assert_eq!(say(&server, "w", &text)["step"], "confirming");
    let mut conn = deadpool_redis::redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let () = deadpool_redis::redis::cmd("CLIENT").arg("PAUSE").arg(4000).arg("ALL").query(&mut conn).unwrap();
    let answer = server.chat(&json!({"conversation": "w", "text": "yes"}));
    assert_eq!(answer.status, 503, "{}", answer.body);
    assert!(!slow.exists(), "nothing is written while the store does not answer");
    // A client retries on 503 (Retry-After): once Redis answers, the "yes" goes through, once.
    let mut again = server.chat(&json!({"conversation": "w", "text": "yes"}));
    for _ in 0..300 {
        if again.status != 503 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        again = server.chat(&json!({"conversation": "w", "text": "yes"}));
    }
    assert!(applied(&again.json()), "{}", again.body);

    // A Redis that stops.
    let project = root.join("stopped");
    let text = format!("set up the database in {} with sqlite:///./app.db", project.display());
    assert_eq!(say(&server, "s", &text)["step"], "confirming");
    private.down();
    for (message, said) in [("yes", "nothing was done"), ("DB 설정 해줘", "아무것도 하지 않았습니다")] {
        let answer = server.chat(&json!({"conversation": "s", "text": message}));
        assert_eq!(answer.status, 503, "{}", answer.body);
        assert!(answer.body.contains(said), "{}", answer.body);
    }
    assert!(!project.exists(), "nothing is written while the store is down");
    // Back (with what it held): the conversation is where it was, and applies once.
    private.up().unwrap();
    assert!(applied(&say(&server, "s", "yes")));
    assert!(project.join("alembic.ini").is_file());
    assert_eq!(say(&server, "s", "yes")["step"], "idle");

    // A server pointed at a Redis that is not there does not start.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let wrong = format!("redis://:hunter2-pw@127.0.0.1:{closed}/0");
    let ran = Test::new()
        .env("SKILLRUN_TOKEN", TOKEN)
        .run_with(&["serve", "--http", "127.0.0.1:0", "--root", root.to_str().unwrap(), "--store", &wrong], "");
    assert_ne!(ran.code, 0);
    assert!(ran.stderr.contains("--store"), "{}", ran.stderr);
    assert!(!ran.stderr.contains("hunter2-pw"), "the Redis password is shown: {}", ran.stderr);
}

/// 4 replicas, 200 conversations of three messages each, every message to the next replica in
/// turn, 8 clients at once: every conversation ends in its own project, applied exactly once.
#[test]
fn load_run_four_replicas_two_hundred_conversations() {
    let Some(redis) = Redis::machine() else { return };
    // The projects are not what is measured: on tmpfs when there is one (this disk takes tens of
    // seconds to delete 200 projects).
    let dir = tempfile::TempDir::new_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
    let root = root_of(dir.path());
    let replicas: Arc<Vec<Server>> = Arc::new((0..4).map(|_| redis.replica(&root, &[], &[])).collect());
    const CONVERSATIONS: usize = 200;
    const CLIENTS: usize = 8;
    let started = std::time::Instant::now();
    let threads: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (replicas, root) = (replicas.clone(), root.clone());
            std::thread::spawn(move || {
                let mut applies = 0;
                for i in (c..CONVERSATIONS).step_by(CLIENTS) {
                    let id = format!("load-{i}");
                    let project = root.join(&id);
                    let texts = [
                        format!("set up the database in {}", project.display()),
                        format!("sqlite:///./db{i}.db"),
                        "yes".into(),
                    ];
                    for (n, text) in texts.iter().enumerate() {
                        let turn = say(&replicas[(i + n) % replicas.len()], &id, text);
                        applies += usize::from(applied(&turn));
                    }
                }
                applies
            })
        })
        .collect();
    let applies: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let elapsed = started.elapsed();
    assert_eq!(applies, CONVERSATIONS, "one apply per conversation");
    for i in 0..CONVERSATIONS {
        let env = std::fs::read_to_string(root.join(format!("load-{i}/.env"))).unwrap();
        assert!(env.contains(&format!("/db{i}.db")), "load-{i}: {env}");
    }
    assert!(redis.keys("conv:*").is_empty(), "every conversation ended");
    eprintln!(
        "load run: 4 replicas, {CONVERSATIONS} conversations, {} requests in {:.2} s ({:.0} requests/s)",
        CONVERSATIONS * 3,
        elapsed.as_secs_f64(),
        (CONVERSATIONS * 3) as f64 / elapsed.as_secs_f64()
    );
    // Each "yes" again, on another replica: nothing is applied a second time.
    for i in (0..CONVERSATIONS).step_by(20) {
        assert_eq!(say(&replicas[i % 4], &format!("load-{i}"), "yes")["step"], "idle");
    }
}

/// A 2025-era MCP session opened on one replica is used on another (rmcp restores it from the
/// `initialize` parameters kept in Redis), and stays its caller's.
#[test]
fn an_mcp_session_opened_on_one_replica_goes_on_on_another() {
    let Some(redis) = Redis::machine() else { return };
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let args = ["--root", root.to_str().unwrap(), "--store", &redis.url, "--store-prefix", &redis.prefix];
    let tokens = format!("{TOKEN},other-token-0123456789");
    let (a, b) = (Server::start(&args, &tokens, &[]), Server::start(&args, &tokens, &[]));
    let (opened, headers) = mcp_post(&a, TOKEN, &[], &mcp_initialize());
    assert_eq!(opened.status, 200, "{}", opened.body);
    let session = headers.get("mcp-session-id").expect("a session id").clone();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let in_session = [("mcp-session-id", session.as_str())];
    assert_eq!(mcp_post(&a, TOKEN, &in_session, &initialized).0.status, 202);
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    assert_eq!(mcp_post(&b, "other-token-0123456789", &in_session, &list).0.status, 404);
    let (listed, _) = mcp_post(&b, TOKEN, &in_session, &list);
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(listed.body.contains("database-setup"), "{}", listed.body);
}
