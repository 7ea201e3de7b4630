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
