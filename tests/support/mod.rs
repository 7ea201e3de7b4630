//! Test support: a builder that runs the real `skillrun` binary with arguments, stdin,
//! environment and a temporary project, then checks exit code, output and files.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_skillrun");

/// One run of the binary.
#[must_use]
pub struct Test {
    args: Vec<String>,
    stdin: Option<String>,
    env: Vec<(String, String)>,
    pub dir: tempfile::TempDir,
}

/// What a run printed and returned.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(self.code, expected, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

impl Test {
    pub fn new() -> Self {
        Test { args: Vec::new(), stdin: None, env: Vec::new(), dir: tempfile::tempdir().expect("temp dir") }
    }
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<str>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }
    pub fn arg(self, arg: impl AsRef<str>) -> Self {
        self.args([arg])
    }
    pub fn stdin(mut self, text: impl Into<String>) -> Self {
        self.stdin = Some(text.into());
        self
    }
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }
    /// The project directory used by [`Test::run_skill`]: `<temp>/project`.
    pub fn project(&self) -> PathBuf {
        self.dir.path().join("project")
    }
    pub fn write(&self, rel: &str, content: &str) -> &Self {
        write_file(&self.project(), rel, content);
        self
    }
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.project().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
    /// Runs `skillrun` with the arguments given so far.
    pub fn run(&self) -> Ran {
        run_command(self.command(&self.args), self.stdin.as_deref())
    }
    /// Runs `skillrun ARGS` with `stdin` (ignoring the arguments and stdin given so far).
    pub fn run_with(&self, args: &[&str], stdin: &str) -> Ran {
        run_command(self.command(args), Some(stdin))
    }
    /// `skillrun run database-setup --input <json> --json <extra>` against `project()`.
    pub fn database_setup(&self, url: &str, extra: &[&str]) -> Ran {
        let input = serde_json::json!({"projectPath": self.project(), "databaseUrl": url});
        let mut cmd = self.command(["run", "database-setup", "--json", "--input", &input.to_string()]);
        cmd.args(extra);
        run_command(cmd, None)
    }
    /// The binary with `args`, in the temp dir, with an environment that does not leak the
    /// caller's skill set, language or log settings, plus the test's own variables.
    pub fn command<I: IntoIterator<Item = S>, S: AsRef<std::ffi::OsStr>>(&self, args: I) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.dir.path())
            .env_remove("SKILLRUN_SKILLS_DIR")
            .env_remove("SKILLRUN_LANG")
            .env_remove("RUST_LOG")
            .env("LANG", "C");
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }
    /// Every file under the project with its content, for before/after comparisons.
    pub fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        walk(&self.project(), &self.project(), &mut out);
        out.sort();
        out
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(items) = std::fs::read_dir(dir) else { return };
    for item in items.flatten() {
        let path = item.path();
        let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        if item.file_type().unwrap().is_dir() {
            out.push((format!("{rel}/"), Vec::new()));
            walk(root, &path, out);
        } else {
            out.push((rel, std::fs::read(&path).unwrap_or_default()));
        }
    }
}

/// Writes `text` to `root/rel`, making the directories on the way.
pub fn write_file(root: &std::path::Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

pub fn run_command(mut cmd: Command, stdin: Option<&str>) -> Ran {
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn skillrun");
    if let Some(text) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    Ran {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// The venv `scripts/venv.sh` builds (or reuses) from the pinned `tests/requirements/<name>.txt`.
pub fn venv(name: &str) -> Result<PathBuf, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("scripts/venv.sh"))
        .arg(name)
        .arg(format!("tests/requirements/{name}.txt"))
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run scripts/venv.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!("scripts/venv.sh {name} failed:\n{}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// A service or tool a test needs is missing: under `CI=true` the test fails; otherwise it says
/// SKIP loudly on the real stderr (which the test harness does not capture) and the caller returns.
pub fn skip_unless_ci(what: &str, why: &str) {
    assert!(!ci(), "{what} is required under CI=true: {why}");
    let line =
        format!("\n*** SKIP {what}: {} (CI=true makes this a failure) ***\n", why.trim().lines().next().unwrap_or(""));
    use std::io::Write;
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Whether tests must fail rather than skip when a service or tool is missing.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// `skillrun serve --http 127.0.0.1:0` running in the background; killed when dropped.
/// Its stderr (logs) is kept, to check that no secret reaches it.
pub struct Server {
    child: std::process::Child,
    pub addr: String,
    pub token: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    agent: ureq::Agent,
}

/// An HTTP answer: status and body.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }
}

impl Server {
    /// Starts the server with `args` after `serve --http 127.0.0.1:0`, token `token`, and `env`.
    pub fn start(args: &[&str], token: &str, env: &[(&str, &str)]) -> Server {
        use std::io::BufRead;
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--http", "127.0.0.1:0", "-vv"])
            .args(args)
            .env_remove("SKILLRUN_SKILLS_DIR")
            .env_remove("SLACK_SIGNING_SECRET")
            .env("RUST_LOG", "debug")
            .env("SKILLRUN_TOKEN", token)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn skillrun serve --http");
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = String::new();
        let addr = loop {
            let line = lines.next().and_then(Result::ok).unwrap_or_else(|| {
                let _ = child.kill();
                panic!("the server ended before listening:\n{seen}")
            });
            seen.push_str(&line);
            seen.push('\n');
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        let log = std::sync::Arc::new(std::sync::Mutex::new(seen));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        // `token` may list several (comma-separated); `chat` uses the first.
        Server { child, addr, token: token.split(',').next().unwrap().to_owned(), log, agent }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs `body` to `path` with `headers` (no token unless given).
    pub fn post_raw(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
        self.post_raw_with_headers(path, headers, body).0
    }

    /// [`Server::post_raw`], also returning the response headers (names in lower case).
    pub fn post_raw_with_headers(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (Answer, std::collections::HashMap<String, String>) {
        let mut request = self.agent.post(self.url(path));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let mut response = request.send(body).unwrap_or_else(|e| panic!("POST {path}: {e}"));
        let status = response.status().as_u16();
        let names = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        (Answer { status, body }, names)
    }

    /// POSTs JSON to `/v1/chat` with the server's token.
    pub fn chat(&self, body: &serde_json::Value) -> Answer {
        let auth = format!("Bearer {}", self.token);
        self.post_raw(
            "/v1/chat",
            &[("authorization", &auth), ("content-type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The server's process id (to signal it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the server to end (after a signal).
    pub fn wait(&mut self) -> std::process::ExitStatus {
        self.child.wait().expect("wait for the server")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
