//! Safe defaults: `skillrun serve` without `--root` writes only under the directory it was
//! started in, whatever `projectPath` a tool call names.

use serde_json::json;

use super::Outside;

#[test]
fn serve_without_a_root_writes_only_under_its_working_directory() {
    let workspace = tempfile::tempdir().unwrap();
    let outside = Outside::new();
    let mut server = crate::mcp::Server::start_in(Some(workspace.path()), &[], &[]);
    server.initialize("2025-11-25");
    for project in [outside.path().join("api"), workspace.path().join("../elsewhere"), "/tmp".into()] {
        let result =
            server.call("database-setup", json!({"projectPath": project, "databaseUrl": "sqlite:///./app.db"}));
        assert_eq!(result["structuredContent"]["status"], "invalid", "{project:?}: {result}");
        let message = result["structuredContent"]["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("outside the allowed directories"), "{message}");
    }
    outside.check_untouched("serve without --root");
    // Relative to where it was started, and inside it: allowed.
    let result = server.call("database-setup", json!({"projectPath": "api", "databaseUrl": "sqlite:///./app.db"}));
    assert_eq!(result["structuredContent"]["status"], "applied", "{result}");
    assert!(workspace.path().join("api/alembic.ini").is_file());
}

/// The fault-injection hooks the tests use exist in debug builds only: a release build ignores
/// them (`scripts/test` builds the release binary before the tests).
#[test]
fn a_release_build_has_no_fault_injection_hooks() {
    let bin = std::path::Path::new(crate::support::BIN);
    let release = bin.parent().and_then(std::path::Path::parent).unwrap().join("release/skillrun");
    if !release.is_file() {
        return crate::support::skip_unless_ci("the release build's hooks", "target/release/skillrun is not built");
    }
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("api");
    let out = std::process::Command::new(&release)
        .args(["run", "database-setup", "--json", "--input", &super::input(&project, "sqlite:///./app.db")])
        .env("SKILLRUN_KILL_AT", "2")
        .env("SKILLRUN_FAIL_AT", "stage:1")
        .env("SKILLRUN_NO_OPENAT2", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{:?}: {}", out.status, String::from_utf8_lossy(&out.stdout));
    assert!(project.join("alembic.ini").is_file());
}
