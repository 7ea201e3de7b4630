//! HTTP limits that hold under attack: slow clients are dropped, a burst of MCP session opens
//! cannot pass the bounds (in all, and per token), conversations are bounded per token too, a
//! foreign `Origin` gets 403 on `/mcp`, and (stdio MCP) no progress follows a cancellation.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use serde_json::{Value, json};

use super::{TOKEN, mcp_initialize, mcp_post, root_of};
use crate::support::Server;

/// Connects, sends `partial`, then waits for the server to answer or hang up. The bytes it sent
/// back before closing (the socket's own timeout only stops a server that never does).
fn send_slowly(server: &Server, partial: &str) -> String {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    stream.write_all(partial.as_bytes()).unwrap();
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server kept a slow client ({e}); it answered: {}", String::from_utf8_lossy(&answer)),
    }
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn slow_clients_are_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--root", root_of(dir.path()).to_str().unwrap(), "--read-timeout", "1"], TOKEN, &[]);
    // Half a header, then nothing; a connection that never sends anything.
    assert_eq!(send_slowly(&server, "POST /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Ty"), "");
    assert_eq!(send_slowly(&server, ""), "");
    // A whole header promising a body that never comes whole.
    let auth = format!("Bearer {TOKEN}");
    let head = format!(
        "POST /v1/chat HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"text\""
    );
    let answer = send_slowly(&server, &head);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    // The server still answers everyone else.
    assert_eq!(server.chat(&json!({"text": "DB 설정 해줘"})).status, 200);
}

#[test]
fn a_burst_of_session_opens_cannot_pass_the_bounds_in_all_or_per_token() {
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let args = ["--root", root.to_str().unwrap(), "--max-conversations", "4", "--max-per-caller", "3"];
    let server = Arc::new(Server::start(&args, "token-a,token-b", &[]));
    const BURST: usize = 24;
    let barrier = Arc::new(Barrier::new(BURST));
    let statuses: Vec<u16> = (0..BURST)
        .map(|_| {
            let (server, barrier) = (server.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                mcp_post(&server, "token-a", &[], &mcp_initialize()).0.status
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let opened = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(opened, 3, "token-a's share is 3: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
    // token-b still has room, up to the bound in all.
    assert_eq!(mcp_post(&server, "token-b", &[], &mcp_initialize()).0.status, 200);
    assert_eq!(mcp_post(&server, "token-b", &[], &mcp_initialize()).0.status, 429);

    // Conversations: token-a's share cannot be exceeded, token-b's place is kept.
    let chat = |token: &str, id: &str| {
        let auth = format!("Bearer {token}");
        let body = json!({"conversation": id, "text": "DB 설정 해줘"}).to_string();
        server.post_raw("/v1/chat", &[("authorization", &auth), ("content-type", "application/json")], body.as_bytes())
    };
    for id in ["a1", "a2", "a3"] {
        assert_eq!(chat("token-a", id).status, 200);
    }
    let over = chat("token-a", "a4");
    assert_eq!(over.status, 429, "{}", over.body);
    assert!(over.body.contains("이 호출자"), "{}", over.body);
    assert_eq!(chat("token-b", "b1").status, 200);
}

#[test]
fn a_foreign_origin_is_refused_on_mcp() {
    let dir = tempfile::tempdir().unwrap();
    let root = root_of(dir.path());
    let server =
        Server::start(&["--root", root.to_str().unwrap(), "--allow-origin", "https://app.example.com"], TOKEN, &[]);
    for origin in ["https://evil.example", "null", "https://app.example.com.evil.example", "http://app.example.com"] {
        let (answer, _) = mcp_post(&server, TOKEN, &[("origin", origin)], &mcp_initialize());
        assert_eq!(answer.status, 403, "{origin}: {}", answer.body);
        // Without the token too: the Origin is checked first.
        let (answer, _) = mcp_post(&server, "no-token", &[("origin", origin)], &mcp_initialize());
        assert_eq!(answer.status, 403, "{origin}: {}", answer.body);
    }
    for origin in [&[][..], &[("origin", "http://localhost:5173")], &[("origin", "https://app.example.com")]] {
        let (answer, _) = mcp_post(&server, TOKEN, origin, &mcp_initialize());
        assert_eq!(answer.status, 200, "{origin:?}: {}", answer.body);
    }
}

/// `skillrun serve` (stdio MCP) with its stdout and stderr lines each read as they come.
struct Stdio {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::sync::mpsc::Receiver<Value>,
    stderr: std::sync::mpsc::Receiver<String>,
    /// Notifications seen while waiting for a response.
    notifications: Vec<Value>,
}

impl Stdio {
    fn start(root: &std::path::Path) -> Stdio {
        use std::io::BufRead;
        let mut child = std::process::Command::new(crate::support::BIN)
            .args(["serve", "--root"])
            .arg(root)
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (out_tx, stdout) = std::sync::mpsc::channel();
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let _ = out_tx.send(serde_json::from_str(&line).expect("a JSON line"));
            }
        });
        let (err_tx, stderr) = std::sync::mpsc::channel();
        let err = std::io::BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || {
            for line in err.lines().map_while(Result::ok) {
                let _ = err_tx.send(line);
            }
        });
        let stdin = child.stdin.take().unwrap();
        Stdio { child, stdin, stdout, stderr, notifications: Vec::new() }
    }

    fn send(&mut self, message: &Value) {
        writeln!(self.stdin, "{message}").unwrap();
    }

    fn recv(&mut self) -> Value {
        self.stdout.recv_timeout(super::WAIT).expect("a message from the server")
    }

    /// Sends a request and reads until its response, keeping the notifications on the way.
    fn request(&mut self, id: &str, method: &str, params: Value) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.recv();
            if message["id"] == json!(id) {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// Waits for a log line containing `text`.
    fn logged(&self, text: &str) -> bool {
        std::iter::from_fn(|| self.stderr.recv_timeout(super::WAIT).ok()).any(|line| line.contains(text))
    }
}

impl Drop for Stdio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn no_progress_follows_a_cancellation() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    std::fs::create_dir(&project).unwrap();
    // Another holder of the project's lock keeps the run waiting after its first stage.
    let holder = std::fs::File::open(&project).unwrap();
    holder.lock().unwrap();
    let mut server = Stdio::start(dir.path());
    let init =
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
    server.request("init", "initialize", init);
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    let call = |token: &str| json!({"name": "database-setup", "arguments": crate::mcp::sqlite_input(&project), "_meta": {"progressToken": token}});
    server.send(&json!({"jsonrpc": "2.0", "id": "slow", "method": "tools/call", "params": call("first")}));
    let progress = server.recv();
    assert_eq!(
        (progress["method"].as_str(), &progress["params"]["progressToken"]),
        (Some("notifications/progress"), &json!("first"))
    );
    server.send(&json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "slow"}}));
    server.request("ping1", "ping", json!({}));
    server.notifications.clear();
    // The run goes on (it plans, then sees the cancellation and stops); rmcp logs the call's end
    // (its answer, which it drops). Anything the call sent was queued before that.
    drop(holder);
    assert!(server.logged("response error"), "the cancelled call never ended");
    server.request("ping2", "ping", json!({}));
    assert!(server.notifications.is_empty(), "progress after the cancellation: {:?}", server.notifications);
    assert!(!project.join("alembic.ini").exists(), "the cancelled run wrote nothing");
    // The server goes on: the next call on the project runs and reports its progress.
    let answer = server.request("next", "tools/call", call("second"));
    assert_eq!(answer["result"]["structuredContent"]["status"], "applied", "{answer}");
    assert!(server.notifications.iter().all(|n| n["params"]["progressToken"] == json!("second")));
    assert_eq!(server.notifications.len(), 4, "{:?}", server.notifications);
}
