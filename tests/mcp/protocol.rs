//! The protocol as a client sees it: both lifecycles, the tool list against the skill schemas,
//! calls that write a project (with progress), tool errors, free-text matching, SKILL.md documents.

use serde_json::{Value, json};

use super::{Server, modern_meta, sqlite_input};
use crate::support::Test;

#[test]
fn initialize_handshake_in_both_revisions_then_ping_and_a_clean_exit() {
    for version in ["2025-06-18", "2025-11-25"] {
        let mut server = Server::start();
        let result = server.initialize(version);
        assert_eq!(result["protocolVersion"], version);
        assert_eq!(result["serverInfo"]["name"], "skillrun");
        let caps = &result["capabilities"];
        assert!(caps["tools"].is_object() && caps["resources"].is_object(), "{caps}");
        assert!(caps["extensions"]["io.modelcontextprotocol/skills"].is_object(), "{caps}");
        assert!(result["instructions"].as_str().unwrap().contains("match_skill"));
        assert_eq!(server.request("ping", Value::Null)["result"], json!({}));
        assert_eq!(server.finish().0, 0);
    }
}

#[test]
fn an_unknown_revision_is_answered_with_the_newest_handshake_revision() {
    let mut server = Server::start();
    assert_eq!(server.initialize("2099-01-01")["protocolVersion"], "2025-11-25");
}

#[test]
fn revision_2026_07_28_discovers_then_calls_without_a_handshake() {
    let mut server = Server::start();
    let discovered = server.request("server/discover", json!({"_meta": modern_meta()}))["result"].clone();
    let versions: Vec<&str> =
        discovered["supportedVersions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(versions, ["2025-06-18", "2025-11-25", "2026-07-28"]);
    assert!(discovered["capabilities"]["tools"].is_object(), "{discovered}");
    let tools = server.request("tools/list", json!({"_meta": modern_meta()}));
    assert_eq!(tools["result"]["tools"][0]["name"], "database-setup", "{tools}");
    let dir = tempfile::tempdir().unwrap();
    let mut args = sqlite_input(&dir.path().join("p"));
    args["dryRun"] = json!(true);
    let call =
        server.request("tools/call", json!({"name": "database-setup", "arguments": args, "_meta": modern_meta()}));
    assert_eq!(call["result"]["structuredContent"]["status"], "dry-run", "{call}");
    let missing =
        server.request("tools/list", json!({"_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}));
    assert_eq!(missing["error"]["code"], -32602, "a 2026-07-28 request without client capabilities: {missing}");
    assert_eq!(server.finish().0, 0);
}

#[test]
fn each_skill_is_a_tool_with_its_own_schema_plus_the_run_options() {
    let mut server = Server::start();
    server.initialize("2025-11-25");
    let tools = server.request("tools/list", Value::Null)["result"]["tools"].clone();
    let names: Vec<&str> = tools.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["database-setup", "repository-pattern", "match_skill"]);
    let tool = &tools[0];
    let skill_schema = Test::new().args(["schema", "database-setup"]).run().code(0).json();
    let mut input_schema = tool["inputSchema"].clone();
    for option in ["dryRun", "force", "skipExisting", "lang"] {
        assert!(input_schema["properties"][option]["description"].is_string(), "{option}");
        input_schema["properties"].as_object_mut().unwrap().remove(option);
    }
    assert_eq!(input_schema, skill_schema, "the skill's schema, run options aside");
    let report_schema: Value = serde_json::from_str(skillrun::registry::REPORT_SCHEMA).unwrap();
    assert_eq!(tool["outputSchema"], report_schema);
    assert_eq!(
        tool["annotations"],
        json!({"title": tool["title"], "readOnlyHint": false, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false})
    );
    let description = tool["description"].as_str().unwrap();
    assert!(
        ["DB 설정", "데이터베이스 설정", "set up the database", "dryRun", "force"]
            .iter()
            .all(|w| description.contains(w)),
        "{description}"
    );
    assert_eq!(tools[2]["annotations"]["readOnlyHint"], true);
}

#[test]
fn a_call_generates_a_sqlite_project_with_progress_and_a_rerun_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("app");
    let mut server = Server::start();
    server.initialize("2025-06-18");
    let params =
        json!({"name": "database-setup", "arguments": sqlite_input(&project), "_meta": {"progressToken": "setup-1"}});
    let result = server.request("tools/call", params)["result"].clone();
    let report = &result["structuredContent"];
    assert_eq!((result["isError"].clone(), report["status"].clone()), (json!(false), json!("applied")), "{result}");
    assert!(report["files"].as_array().unwrap().iter().all(|f| f["action"] == "created"));
    assert_eq!(serde_json::from_str::<Value>(result["content"][1]["text"].as_str().unwrap()).unwrap(), *report);
    assert!(result["content"][0]["text"].as_str().unwrap().contains(report["message"].as_str().unwrap()));
    assert!(std::fs::read_to_string(project.join(".env")).unwrap().contains("sqlite+aiosqlite:///./app.db"));
    assert!(project.join("alembic.ini").is_file());
    let progress: Vec<(Value, f64, f64)> =
        progress(&server).map(|(token, p, n)| (token.clone(), p, n["total"].as_f64().unwrap())).collect();
    assert_eq!(progress, [1.0, 2.0, 3.0, 4.0].map(|p| (json!("setup-1"), p, 4.0)));

    let again = server.call("database-setup", sqlite_input(&project));
    assert_eq!(again["structuredContent"]["status"], "applied");
    assert!(
        again["structuredContent"]["files"].as_array().unwrap().iter().all(|f| f["action"] == "unchanged"),
        "{again}"
    );
}

/// The `notifications/progress` the server sent, in order: (token, progress, all params).
fn progress(server: &Server) -> impl Iterator<Item = (&Value, f64, &Value)> {
    server.notifications.iter().filter(|n| n["method"] == "notifications/progress").map(|n| {
        let params = &n["params"];
        (&params["progressToken"], params["progress"].as_f64().unwrap(), params)
    })
}

#[test]
fn a_dry_run_reports_its_stages_before_its_answer_and_writes_nothing() {
    // A dry run runs on the protocol thread: its stages are told after the run, still before the answer.
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start();
    server.initialize("2025-06-18");
    let mut args = sqlite_input(dir.path());
    args["dryRun"] = json!(true);
    args["lang"] = json!("ko");
    let params = json!({"name": "database-setup", "arguments": args, "_meta": {"progressToken": 9}});
    let result = server.request("tools/call", params)["result"].clone();
    assert_eq!(result["structuredContent"]["status"], "dry-run", "{result}");
    let progress: Vec<(Value, f64, Value)> =
        progress(&server).map(|(token, p, n)| (token.clone(), p, n["message"].clone())).collect();
    let files = result["structuredContent"]["files"].as_array().unwrap().len();
    let planned = json!(format!("파일 {files}개 계획 완료"));
    assert_eq!(
        progress,
        [(json!(9), 1.0, json!("입력 확인 완료")), (json!(9), 2.0, planned), (json!(9), 4.0, json!("완료"))]
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a dry run writes nothing");
}

#[test]
fn invalid_input_is_a_tool_error_with_the_field_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start();
    server.initialize("2025-11-25");
    let bad_url =
        server.call("database-setup", json!({"projectPath": dir.path(), "databaseUrl": "ftp://x", "lang": "ko"}));
    assert_eq!(bad_url["isError"], true);
    assert_eq!(bad_url["structuredContent"]["status"], "invalid");
    assert_eq!(bad_url["structuredContent"]["errors"][0]["field"], "/databaseUrl");
    assert!(bad_url["structuredContent"]["message"].as_str().unwrap().contains("아무것도 쓰지 않았습니다"));
    let missing = server.call("database-setup", json!({}));
    let fields: Vec<&str> = missing["structuredContent"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"/projectPath") && fields.contains(&"/databaseUrl"), "{missing}");
    let bad_option = server
        .call("database-setup", json!({"projectPath": dir.path(), "databaseUrl": "sqlite:///a.db", "dryRun": "yes"}));
    assert_eq!(
        (bad_option["isError"].clone(), bad_option["structuredContent"]["errors"][0]["field"].clone()),
        (json!(true), json!("/dryRun"))
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
    let unknown = server.request("tools/call", json!({"name": "no-such-skill", "arguments": {}}));
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
}

#[test]
fn a_conflict_is_a_tool_error_that_writes_nothing_and_force_replaces_with_a_backup() {
    let t = Test::new();
    t.write("alembic.ini", "[alembic]\n# mine\n");
    let mut server = Server::start();
    server.initialize("2025-11-25");
    let conflict = server.call("database-setup", sqlite_input(&t.project()));
    assert_eq!(
        (conflict["isError"].clone(), conflict["structuredContent"]["status"].clone()),
        (json!(true), json!("conflict")),
        "{conflict}"
    );
    assert!(!t.project().join(".env").exists(), "nothing written on a conflict");
    let mut forced = sqlite_input(&t.project());
    forced["force"] = json!(true);
    let applied = server.call("database-setup", forced);
    assert_eq!(applied["structuredContent"]["status"], "applied");
    let ini = applied["structuredContent"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "alembic.ini")
        .unwrap()
        .clone();
    assert!(ini["backup"].as_str().unwrap().starts_with(".skillrun/backups/"), "{ini}");
}

#[test]
fn match_skill_turns_free_text_into_the_skill_and_the_missing_inputs() {
    let mut server = Server::start();
    server.initialize("2025-11-25");
    let ko = server.call("match_skill", json!({"text": "DB 설정 해줘"}));
    let best = &ko["structuredContent"]["matches"][0];
    assert_eq!(
        (best["skill"].clone(), ko["structuredContent"]["lang"].clone()),
        (json!("database-setup"), json!("ko"))
    );
    let missing: Vec<&str> =
        best["missingInputs"].as_array().unwrap().iter().map(|m| m["field"].as_str().unwrap()).collect();
    assert_eq!(missing, ["projectPath", "databaseUrl"]);
    let en = server.call("match_skill", json!({"text": "set up the database with postgres://app@db/app"}));
    assert_eq!(
        en["structuredContent"]["matches"][0]["input"],
        json!({"databaseUrl": "postgres://app@db/app", "dbType": "postgresql"})
    );
    let none = server.call("match_skill", json!({"text": "bake a cake"}));
    assert_eq!((none["isError"].clone(), none["structuredContent"]["matches"].clone()), (json!(false), json!([])));
    assert_eq!(server.call("match_skill", json!({}))["isError"], true);
}

#[test]
fn skill_md_is_a_resource_and_a_skills_extension_entry() {
    let mut server = Server::start();
    server.initialize("2025-11-25");
    let skill_md = Test::new().args(["show", "database-setup"]).run().code(0).stdout;
    let resources = server.request("resources/list", Value::Null)["result"]["resources"].clone();
    assert_eq!(
        (resources[0]["uri"].clone(), resources[0]["mimeType"].clone()),
        (json!("skill://database-setup/SKILL.md"), json!("text/markdown"))
    );
    let read = server.request("resources/read", json!({"uri": "skill://database-setup/SKILL.md"}));
    assert_eq!(read["result"]["contents"][0]["text"].as_str().unwrap().trim_end(), skill_md.trim_end());
    assert!(server.request("resources/read", json!({"uri": "skill://nope/SKILL.md"}))["error"]["code"].is_i64());
    let skills = server.request("skills/list", Value::Null)["result"]["skills"].clone();
    assert_eq!(skills[0]["frontmatter"]["name"], "database-setup");
    assert!(skills[0]["resources"][0]["digest"].as_str().unwrap().starts_with("sha256:"));
    let got = server.request("skills/get", json!({"uri": "skill://database-setup/SKILL.md"}));
    assert_eq!(got["result"]["skill"], skills[0]);
}

#[test]
fn a_cancelled_call_is_not_answered_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("p");
    let mut server = Server::start();
    server.initialize("2025-11-25");
    // One write: the cancellation arrives while the run is still validating and planning.
    let call = json!({"jsonrpc": "2.0", "id": "slow", "method": "tools/call", "params": {"name": "database-setup", "arguments": sqlite_input(&project)}});
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "slow", "reason": "user changed their mind"}});
    let ping = json!({"jsonrpc": "2.0", "id": "after", "method": "ping"});
    server.write(&format!("{call}\n{cancel}\n{ping}\n"));
    assert_eq!(server.response(&json!("after"))["result"], json!({}));
    let (code, _, left) = server.finish();
    assert_eq!((code, left), (0, vec![]), "no answer to a cancelled call");
    assert!(!project.exists(), "a cancelled run writes nothing");
}

#[test]
fn with_roots_a_call_outside_them_is_an_input_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let mut server = Server::start_args(&["--root", root.to_str().unwrap()], &[]);
    server.initialize("2025-11-25");
    let outside = dir.path().join("outside");
    let refused = server.call("database-setup", sqlite_input(&outside));
    assert_eq!(refused["isError"], true, "{refused}");
    assert_eq!(refused["structuredContent"]["errors"][0]["field"], "/projectPath", "{refused}");
    assert!(!outside.exists(), "nothing may be written outside the roots");
    let inside = server.call("database-setup", sqlite_input(&root.join("api")));
    assert_eq!(inside["structuredContent"]["status"], "applied", "{inside}");
}
