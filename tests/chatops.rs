//! Chat-ops as teams run it, through the binary on loopback: replicas sharing the machine's Redis
//! ([`replicas`]), Slack and Mattermost with their buttons ([`slack`]), and the HTTP limits that
//! hold under attack ([`limits`]). Each test keeps its Redis keys under a prefix of its own.

mod limits;
mod replicas;
mod slack;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use deadpool_redis::redis;
use serde_json::Value;

use crate::support::{Server, skip_unless_ci};

pub const TOKEN: &str = "chatops-test-token-0123456789";
/// The longest a test waits for something that should come (never a figure the test checks).
const WAIT: Duration = Duration::from_secs(60);

/// The machine's Redis, with a key prefix of this test's own; its keys are deleted at the end.
pub struct Redis {
    pub url: String,
    pub prefix: String,
}

impl Redis {
    /// The Redis at 127.0.0.1:6379, or `None` (and a loud SKIP; a failure under CI) when it is down.
    pub fn machine() -> Option<Redis> {
        Self::at("redis://127.0.0.1:6379/0").or_else(|| {
            skip_unless_ci("Redis", "nothing answers PING at 127.0.0.1:6379 (scripts/test starts it)");
            None
        })
    }

    fn at(url: &str) -> Option<Redis> {
        let mut conn = redis::Client::open(url).ok()?.get_connection_with_timeout(Duration::from_secs(2)).ok()?;
        redis::cmd("PING").query::<String>(&mut conn).ok()?;
        Some(Redis { url: url.to_owned(), prefix: format!("test-{}", uuid::Uuid::new_v4()) })
    }

    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str()).unwrap().get_connection_with_timeout(Duration::from_secs(5)).unwrap()
    }

    /// The keys under this test's prefix.
    pub fn keys(&self, pattern: &str) -> Vec<String> {
        let mut conn = self.connection();
        let pattern = format!("{{{}}}:{pattern}", self.prefix);
        redis::cmd("KEYS").arg(pattern).query(&mut conn).unwrap_or_default()
    }

    /// A `serve --http` replica on this Redis, with `args` more.
    pub fn replica(&self, root: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut all = vec!["--root", root.to_str().unwrap(), "--store", &self.url, "--store-prefix", &self.prefix];
        all.extend_from_slice(args);
        Server::start(&all, TOKEN, env)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Ok(mut conn) = redis::Client::open(self.url.as_str()).and_then(|c| c.get_connection()) {
            let keys: Vec<String> =
                redis::cmd("KEYS").arg(format!("{{{}}}:*", self.prefix)).query(&mut conn).unwrap_or_default();
            if !keys.is_empty() {
                let _: redis::RedisResult<()> = redis::cmd("DEL").arg(keys).query(&mut conn);
            }
        }
    }
}

/// A Redis of the test's own on a free port (to stop and start), keeping its data in an
/// append-only file so that what it held is back after a restart.
pub struct PrivateRedis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts one, or `None` (a SKIP; a failure under CI) without `redis-server`.
    pub fn start() -> Option<PrivateRedis> {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = PrivateRedis { port, dir: tempfile::tempdir().unwrap(), child: None };
        if let Err(e) = redis.up() {
            skip_unless_ci("redis-server", &e);
            return None;
        }
        Some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Starts the server and waits until it answers.
    pub fn up(&mut self) -> Result<(), String> {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "yes"])
            .args(["--appendfsync", "always", "--dir", self.dir.path().to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run redis-server: {e}"))?;
        self.child = Some(child);
        let started = std::time::Instant::now();
        while started.elapsed() < WAIT {
            if Redis::at(&self.url()).is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("redis-server did not answer".into())
    }

    /// Stops it the way an operator would (`SHUTDOWN`, the data kept on disk).
    pub fn down(&mut self) {
        let mut conn = redis::Client::open(self.url()).unwrap().get_connection().unwrap();
        let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").query(&mut conn);
        if let Some(mut child) = self.child.take() {
            child.wait().unwrap();
        }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A loopback HTTP server standing in for Slack's `response_url`: it keeps each JSON body
/// posted to it, in order.
pub struct Inbox {
    pub url: String,
    received: Arc<(Mutex<Vec<Value>>, Condvar)>,
}

impl Inbox {
    pub fn start() -> Inbox {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/response", listener.local_addr().unwrap());
        let received: Arc<(Mutex<Vec<Value>>, Condvar)> = Arc::default();
        let sink = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                if let Some(body) = read_request(stream) {
                    let (messages, arrived) = &*sink;
                    messages.lock().unwrap().push(body);
                    arrived.notify_all();
                }
            }
        });
        Inbox { url, received }
    }

    /// The `n`th message posted (from 0), waiting for it.
    pub fn message(&self, n: usize) -> Value {
        let (messages, arrived) = &*self.received;
        let guard = messages.lock().unwrap();
        let (guard, _) = arrived.wait_timeout_while(guard, WAIT, |m| m.len() <= n).unwrap();
        guard.get(n).cloned().unwrap_or_else(|| panic!("message {n} never came to the response_url; got {guard:?}"))
    }

    pub fn count(&self) -> usize {
        self.received.0.lock().unwrap().len()
    }
}

/// Reads one HTTP/1.1 request, answers 200, returns its JSON body.
fn read_request(stream: TcpStream) -> Option<Value> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut stream = stream;
    stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").ok()?;
    serde_json::from_slice(&body).ok()
}

/// POSTs a JSON-RPC message to `/mcp` as a 2025-11-25 client with `token` and `extra` headers
/// (a session id, an `Origin`); the answer and its headers.
pub fn mcp_post(
    server: &Server,
    token: &str,
    extra: &[(&str, &str)],
    body: &Value,
) -> (crate::support::Answer, std::collections::HashMap<String, String>) {
    let auth = format!("Bearer {token}");
    let mut headers = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    headers.extend_from_slice(extra);
    server.post_raw_with_headers("/mcp", &headers, body.to_string().as_bytes())
}

/// An `initialize` request of a 2025-11-25 client.
pub fn mcp_initialize() -> Value {
    serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
}

/// `<dir>/root`, made.
pub fn root_of(dir: &Path) -> PathBuf {
    let root = dir.join("root");
    std::fs::create_dir_all(&root).unwrap();
    root
}
