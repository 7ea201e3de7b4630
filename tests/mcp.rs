//! `skillrun serve` over real pipes: both protocol eras, tools against the skill schemas, calls
//! that write a project, tool errors, progress, documents, robustness, 1,000 pipelined calls, and
//! real clients (the Python SDK, the MCP Inspector CLI) in [`clients`].

mod clients;
mod protocol;
mod robustness;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::BIN;

const WAIT: Duration = Duration::from_secs(60);

/// A running `skillrun serve` and the lines it has printed.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    next_id: i64,
    /// Notifications seen while waiting for responses.
    pub notifications: Vec<Value>,
}

impl Server {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Self {
        Self::start_args(&[], env)
    }

    /// `skillrun serve ARGS` with `env`; without a `--root` in ARGS, projects may lie anywhere in
    /// the temporary directory (where the tests make them).
    pub fn start_args(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut all: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        if !args.contains(&"--root") {
            all.extend(["--root".to_owned(), std::env::temp_dir().display().to_string()]);
        }
        Self::start_in(None, &all, env)
    }

    /// `skillrun serve ARGS` (exactly those) with `env`, started in `cwd` when given.
    pub fn start_in(cwd: Option<&std::path::Path>, args: &[String], env: &[(&str, &str)]) -> Self {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve").args(args);
        if let Some(cwd) = cwd {
            cmd.current_dir(cwd);
        }
        cmd.env_remove("RUST_LOG").env_remove("SKILLRUN_SKILLS_DIR").env_remove("SKILLRUN_LANG");
        cmd.envs(env.iter().copied()).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn skillrun serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Server { stdin: child.stdin.take(), child, lines, next_id: 1000, notifications: Vec::new() }
    }

    /// The server's process id (to signal it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes the server's stdin, as a client that goes away does.
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Waits for the server to end.
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait for the server")
    }

    /// Writes raw bytes (one or more lines) to the server's stdin.
    pub fn write(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(text.as_bytes()).and_then(|()| stdin.flush()).expect("write to the server");
    }

    pub fn send(&mut self, message: &Value) {
        self.write(&format!("{message}\n"));
    }

    /// The next line on stdout, which must be one JSON-RPC 2.0 message.
    pub fn recv(&mut self) -> Value {
        let line = self.lines.recv_timeout(WAIT).unwrap_or_else(|e| panic!("no message from the server ({e})"));
        let value: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
        assert_eq!(value["jsonrpc"], "2.0", "{line}");
        value
    }

    /// Reads until the response with `id`, keeping the notifications seen on the way.
    pub fn response(&mut self, id: &Value) -> Value {
        loop {
            let message = self.recv();
            if message.get("method").is_some() && message.get("id").is_none() {
                self.notifications.push(message);
            } else if &message["id"] == id {
                return message;
            } else {
                panic!("unexpected message while waiting for {id}: {message}");
            }
        }
    }

    /// Sends a request and returns its response (`result` or `error`).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = json!(self.next_id);
        let mut message = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            message["params"] = params;
        }
        self.send(&message);
        self.response(&id)
    }

    pub fn notify(&mut self, method: &str) {
        self.send(&json!({"jsonrpc": "2.0", "method": method}));
    }

    /// The `initialize` handshake at `version`; returns the result.
    pub fn initialize(&mut self, version: &str) -> Value {
        let params = json!({"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "skillrun-tests", "version": "1"}});
        let response = self.request("initialize", params);
        self.notify("notifications/initialized");
        response["result"].clone()
    }

    /// A `tools/call` of `name` and its result (panics on a JSON-RPC error).
    pub fn call(&mut self, name: &str, arguments: Value) -> Value {
        let response = self.request("tools/call", json!({"name": name, "arguments": arguments}));
        assert!(response.get("error").is_none(), "tools/call {name}: {response}");
        response["result"].clone()
    }

    /// Closes stdin and waits for the exit; returns the exit code, stderr, and the messages left
    /// on stdout (checking that each is a JSON-RPC message).
    pub fn finish(mut self) -> (i32, String, Vec<Value>) {
        drop(self.stdin.take());
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "the server did not exit after stdin closed");
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut left = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            let value: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
            assert_eq!(value["jsonrpc"], "2.0", "{line}");
            left.push(value);
        }
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut self.child.stderr.take().unwrap(), &mut stderr).unwrap();
        (status.code().unwrap_or(-1), stderr, left)
    }
}

/// `_meta` for a 2026-07-28 request (the per-request lifecycle).
pub fn modern_meta() -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "skillrun-tests", "version": "1"}
    })
}

/// The input of the sqlite project used throughout.
pub fn sqlite_input(project: &std::path::Path) -> Value {
    json!({"projectPath": project, "databaseUrl": "sqlite:///./app.db"})
}
