//! What a hostile or sloppy client cannot do: garbage, overlong or deeply nested lines, unknown
//! methods, early notifications, logs on stdout, unanswered pipelined requests.

use std::collections::BTreeMap;
use std::time::Instant;

use serde_json::{Value, json};

use super::{Server, sqlite_input};

#[test]
fn bad_lines_get_json_rpc_errors_and_the_server_stays_up() {
    let mut server = Server::start();
    server.notify("notifications/initialized"); // before the session: ignored, not fatal
    server.write("this is not json\n");
    let garbage = server.recv();
    assert_eq!((garbage["id"].clone(), garbage["error"]["code"].clone()), (Value::Null, json!(-32700)), "{garbage}");
    assert!(garbage["error"]["message"].as_str().unwrap().starts_with("Parse error"), "{garbage}");
    server.initialize("2025-11-25");
    server.write("{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\"\n");
    assert_eq!(server.recv()["error"]["code"], -32700);
    server.write("[{\"jsonrpc\": \"2.0\", \"id\": 8, \"method\": \"ping\"}]\n");
    assert_eq!(server.recv()["error"]["code"], -32600, "batches are refused");
    server.write("{\"id\": 9, \"method\": \"ping\"}\n");
    let missing_version = server.recv();
    assert_eq!((missing_version["id"].clone(), missing_version["error"]["code"].clone()), (json!(9), json!(-32600)));
    let unknown = server.request("no/such/method", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");
    let bad_params = server.request("tools/call", json!({"name": 42}));
    assert_eq!(bad_params["error"]["code"], -32602, "{bad_params}");
    assert_eq!(server.request("ping", Value::Null)["result"], json!({}));
    assert_eq!(server.finish().0, 0);
}

#[test]
fn a_very_long_line_and_deep_nesting_are_refused_without_a_crash() {
    let mut server = Server::start();
    server.initialize("2025-11-25");
    let long = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"pad\":\"{}\"}}}}\n",
        "x".repeat(skillrun::mcp::MAX_LINE_BYTES + 10)
    );
    server.write(&long);
    let refused = server.recv();
    assert_eq!((refused["id"].clone(), refused["error"]["code"].clone()), (Value::Null, json!(-32600)), "{refused}");
    let depth = 200_000;
    server.write(&format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\",\"params\":{{\"a\":{}{}}}}}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    ));
    let nested = server.recv();
    assert_eq!(nested["error"]["code"], -32700, "{nested}");
    assert!(nested["error"]["message"].as_str().unwrap().contains("recursion limit"), "{nested}");
    assert_eq!(server.request("ping", Value::Null)["result"], json!({}));
    assert_eq!(server.finish().0, 0);
}

#[test]
fn debug_logs_go_to_stderr_only() {
    let mut server = Server::start_with(&[("RUST_LOG", "debug")]);
    server.initialize("2025-06-18");
    server.request("tools/list", Value::Null);
    let (code, stderr, _) = server.finish(); // finish() checks that every stdout line is a message
    assert_eq!(code, 0);
    assert!(stderr.contains("DEBUG"), "logs expected on stderr:\n{stderr}");
}

#[test]
fn no_log_level_shows_a_password_from_a_tool_call() {
    for level in ["trace", "rmcp::service=trace,rmcp=trace,skillrun=trace", "debug"] {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Server::start_with(&[("RUST_LOG", level)]);
        server.initialize("2025-11-25");
        let url = "postgresql://app:Tr4ce-Secret@localhost:5432/app";
        let ok = server.call("database-setup", json!({"projectPath": dir.path(), "databaseUrl": url}));
        assert_eq!(ok["structuredContent"]["status"], "applied", "{ok}");
        let bad = server.call(
            "database-setup",
            json!({"projectPath": dir.path(), "databaseUrl": "sqlite://u:Tr4ce-Secret@h/x.db"}),
        );
        assert_eq!(bad["isError"], true, "{bad}");
        let (code, stderr, _) = server.finish();
        assert_eq!(code, 0);
        assert!(stderr.contains("DEBUG") || stderr.contains("TRACE"), "{level}: logs expected:\n{stderr}");
        assert!(!stderr.contains("Tr4ce-Secret"), "{level}: the password is in the log:\n{stderr}");
        assert!(!ok.to_string().contains("Tr4ce-Secret") && !bad.to_string().contains("Tr4ce-Secret"));
    }
}

#[test]
fn a_thousand_pipelined_dry_runs_are_each_answered_once() {
    const CALLS: i64 = 1000;
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start();
    server.initialize("2025-11-25");
    let mut args = sqlite_input(&dir.path().join("p"));
    args["dryRun"] = json!(true);
    let mut batch = String::new();
    for id in 0..CALLS {
        batch.push_str(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "database-setup", "arguments": args}}).to_string());
        batch.push('\n');
    }
    let started = Instant::now();
    // Write from another thread: the server answers while we are still writing.
    let mut stdin = server.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        std::io::Write::write_all(&mut stdin, batch.as_bytes()).unwrap();
        stdin
    });
    let mut answered: BTreeMap<i64, usize> = BTreeMap::new();
    while answered.values().sum::<usize>() < CALLS as usize {
        let response = server.recv();
        assert_eq!(response["result"]["structuredContent"]["status"], "dry-run", "{response}");
        *answered.entry(response["id"].as_i64().unwrap()).or_default() += 1;
    }
    let elapsed = started.elapsed();
    server.stdin = Some(writer.join().unwrap());
    assert_eq!(answered.len(), CALLS as usize, "every id answered");
    assert!(answered.values().all(|n| *n == 1), "each id answered once");
    println!(
        "mcp: {CALLS} pipelined tools/call dry runs answered in {elapsed:.2?} ({:.0} calls/s)",
        CALLS as f64 / elapsed.as_secs_f64()
    );
    assert!(!dir.path().join("p").exists(), "dry runs write nothing");
    assert_eq!(server.finish().0, 0);
}
