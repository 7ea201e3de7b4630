//! FIFOs, sockets and devices where a run reads or writes: refused at once with a clear error
//! (a FIFO is never opened for reading, so nothing waits for a writer that never comes), in dry
//! runs and real runs, on the command line and in the MCP server, and the project lock is not
//! left held.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use super::{input, run_bounded, snapshot};

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// A character device (the same as /dev/null) at `path`; `false` when this user may not make one.
fn mknod(path: &Path) -> bool {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    Command::new("mknod").arg(path).args(["c", "1", "3"]).status().is_ok_and(|s| s.success())
}

#[test]
fn fifos_and_devices_are_refused_at_once_in_dry_and_real_runs() {
    for (rel, kind) in [
        (".gitignore", "FIFO"),
        (".env", "FIFO"),
        (".skillrun/answers.json", "FIFO"),
        ("app/core/config.py", "FIFO"),
        ("requirements.txt", "device"),
    ] {
        let t = crate::support::Test::new();
        let path = t.project().join(rel);
        if kind == "device" {
            if !mknod(&path) {
                crate::support::skip_unless_ci("a device in a project", "mknod is not allowed here");
                continue;
            }
        } else {
            mkfifo(&path);
        }
        let before = snapshot(&t.project());
        // A dry run and a real run, each resolving with openat2 and with the component walk.
        for (extra, walk) in [(&["--dry-run"][..], "0"), (&[], "0"), (&["--dry-run"][..], "1"), (&[], "1")] {
            let input = input(&t.project(), "sqlite:///./app.db");
            let mut args = vec!["run", "database-setup", "--json", "--input", &input];
            args.extend(extra);
            let env = [("SKILLRUN_LOCK_TIMEOUT", "5"), ("SKILLRUN_NO_OPENAT2", walk)];
            let (code, stdout, _) = run_bounded(&args, t.dir.path(), &env);
            assert_eq!(code, 1, "{rel} {extra:?}: {stdout}");
            assert!(stdout.contains(&format!("{rel} is a {kind}")), "{rel} {extra:?}: {stdout}");
        }
        assert_eq!(snapshot(&t.project()), before, "{rel}: nothing written");
        // The lock was not left held: once the odd file is gone, a run goes through.
        std::fs::remove_file(&path).unwrap();
        t.database_setup("sqlite:///./app.db", &[]).code(0);
    }
}

#[test]
fn a_fifo_is_refused_by_the_mcp_server_which_stays_up() {
    let t = crate::support::Test::new();
    mkfifo(&t.project().join("pyproject.toml"));
    let mut server = crate::mcp::Server::start_args(&[], &[]);
    server.initialize("2025-11-25");
    let args = json!({"projectPath": t.project(), "databaseUrl": "sqlite:///./app.db", "dryRun": true});
    let result = server.call("database-setup", args);
    assert_eq!(result["isError"], true, "{result}");
    let text = result["structuredContent"]["message"].as_str().unwrap();
    assert!(text.contains("pyproject.toml is a FIFO"), "{text}");
    // Still serving, and the project can be set up once the FIFO is gone.
    std::fs::remove_file(t.project().join("pyproject.toml")).unwrap();
    let result =
        server.call("database-setup", json!({"projectPath": t.project(), "databaseUrl": "sqlite:///./app.db"}));
    assert_eq!(result["structuredContent"]["status"], "applied", "{result}");
}

#[test]
fn a_journal_record_that_is_a_fifo_is_reported_not_waited_on() {
    let t = crate::support::Test::new();
    mkfifo(&t.project().join(".skillrun/journal/journal.json"));
    let (code, stdout, _) = run_bounded(
        &["run", "database-setup", "--json", "--input", &input(&t.project(), "sqlite:///./app.db")],
        t.dir.path(),
        &[],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("will not act on") && stdout.contains("FIFO"), "{stdout}");
}
