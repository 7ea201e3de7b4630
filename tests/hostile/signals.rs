//! A server asked to stop in the middle of an apply (SIGTERM, SIGINT, or its client closing
//! stdin) lets the apply commit first: the project is complete, never half-written. The apply is
//! slowed (`SKILLRUN_SLOW_APPLY`, a debug-build hook) so that the signal lands inside it.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;

use serde_json::json;

use super::{input, run_bounded, snapshot, wait_for};

const SLOW: (&str, &str) = ("SKILLRUN_SLOW_APPLY", "40");

/// The project a finished run leaves, made by an ordinary run elsewhere.
fn complete() -> (tempfile::TempDir, Vec<(String, Vec<u8>)>) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("api");
    let (code, stdout, _) = run_bounded(
        &["run", "database-setup", "--json", "--input", &input(&project, "sqlite:///./app.db")],
        dir.path(),
        &[],
    );
    assert_eq!(code, 0, "{stdout}");
    let done = snapshot(&project);
    (dir, done)
}

fn signal(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a child of this test.
    assert_eq!(unsafe { libc::kill(pid as i32, sig) }, 0);
}

#[test]
fn stdio_server_stopped_mid_apply_by_a_signal_or_its_client_finishes_the_apply_first() {
    let (_reference, done) = complete();
    for how in ["SIGTERM", "SIGINT", "stdin closed"] {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("api");
        let args = vec!["--root".to_owned(), dir.path().display().to_string()];
        let mut server = crate::mcp::Server::start_in(None, &args, &[SLOW]);
        server.initialize("2025-11-25");
        server.send(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
            "params": {"name": "database-setup", "arguments": {"projectPath": project, "databaseUrl": "sqlite:///./app.db"}}}));
        wait_for(&project.join(".skillrun/journal/journal.json"));
        match how {
            "SIGTERM" => signal(server.pid(), libc::SIGTERM),
            "SIGINT" => signal(server.pid(), libc::SIGINT),
            _ => server.close_stdin(),
        }
        let status = server.wait();
        match how {
            "SIGTERM" => assert_eq!(status.signal(), Some(libc::SIGTERM), "{how}: {status:?}"),
            "SIGINT" => assert_eq!(status.signal(), Some(libc::SIGINT), "{how}: {status:?}"),
            _ => assert!(status.success(), "{how}: {status:?}"),
        }
        assert_eq!(snapshot(&project), done, "{how}: the project is complete, with no journal left");
    }
}

#[test]
fn http_server_stopped_mid_apply_finishes_the_apply_first() {
    let (_reference, done) = complete();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("api");
    let root = dir.path().to_str().unwrap().to_owned();
    let mut server = crate::support::Server::start(&["--root", &root], "signal-token-0123456789", &[SLOW]);
    let text = format!("set up the database with sqlite:///./app.db in {}", project.display());
    let turn = server.chat(&json!({"conversation": "s1", "text": text})).json();
    assert_eq!(turn["step"], "confirming", "{turn}");
    let (addr, token) = (server.addr.clone(), server.token.clone());
    let yes = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let _ = agent
            .post(format!("http://{addr}/v1/chat"))
            .header("authorization", &format!("Bearer {token}"))
            .header("content-type", "application/json")
            .send(json!({"conversation": "s1", "text": "yes"}).to_string());
    });
    wait_for(&project.join(".skillrun/journal/journal.json"));
    signal(server.pid(), libc::SIGTERM);
    let status = server.wait();
    let _ = yes.join();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert_eq!(snapshot(&project), done, "the project is complete, with no journal left");
    assert!(!Path::new(&project.join(".skillrun/journal")).exists());
}
