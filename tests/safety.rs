//! Nothing a user wrote is lost: no write through a symbolic link out of the project, no
//! half-written project when a write fails, no password in any output or tracked file.

use crate::support::Test;

#[test]
fn a_symlink_out_of_the_project_is_refused() {
    let t = Test::new();
    let outside = t.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::create_dir_all(t.project()).unwrap();
    std::os::unix::fs::symlink(&outside, t.project().join("app")).unwrap();
    let ran = t.database_setup("sqlite:///./app.db", &[]);
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    let message = ran.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("`app` is a symbolic link; skillrun never follows a link inside a project"), "{message}");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
    assert!(!t.project().join("alembic.ini").exists(), "nothing written when one path is refused");
}

#[test]
fn a_symlinked_file_is_never_followed_even_to_inside_the_project() {
    let t = Test::new();
    t.write("real.env", "DEBUG=1\n");
    std::os::unix::fs::symlink(t.project().join("real.env"), t.project().join(".env")).unwrap();
    let before = t.snapshot();
    let ran = t.database_setup("sqlite:///./app.db", &[]).code(1);
    let message = ran.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains(".env: `.env` is a symbolic link"), "{message}");
    assert_eq!(t.snapshot(), before, "nothing written");
    assert!(t.project().join(".env").is_symlink());
}

#[test]
fn a_failure_part_way_leaves_the_project_as_it_was() {
    for point in ["rename:1", "rename:7", "rename:21", "stage"] {
        let t = Test::new();
        t.write(".gitignore", "node_modules/\n");
        t.write("requirements.txt", "fastapi\n");
        let before = t.snapshot();
        let t = t.env("SKILLRUN_FAIL_AT", point);
        let ran = t.database_setup("sqlite:///./app.db", &[]);
        assert_eq!(ran.code, 1, "{point}: {}", ran.stdout);
        assert!(ran.json()["message"].as_str().unwrap().contains("injected failure"));
        assert_eq!(t.snapshot(), before, "{point}: the project must be as it was");
    }
}

#[test]
fn a_file_where_a_directory_must_go_stops_the_run_before_writing() {
    let t = Test::new();
    t.write("app/core", "not a directory\n");
    let before = t.snapshot();
    let ran = t.database_setup("sqlite:///./app.db", &[]);
    assert_ne!(ran.code, 0);
    assert_eq!(t.snapshot(), before);
}

#[test]
fn the_password_appears_only_in_the_ignored_env_file() {
    let t = Test::new();
    let ran = t.database_setup("postgresql://app:Sup3r%23S3cret@db:5432/app", &["-vv"]);
    let ran = ran.code(0);
    for secret in ["Sup3r%23S3cret", "Sup3r#S3cret"] {
        assert!(!ran.stdout.contains(secret) && !ran.stderr.contains(secret), "secret leaked in output");
        for (path, content) in t.snapshot() {
            if path != ".env" {
                assert!(!String::from_utf8_lossy(&content).contains(secret), "secret in {path}");
            }
        }
    }
    assert!(t.read(".env").contains("Sup3r%23S3cret"));
    assert!(t.read(".gitignore").lines().any(|l| l == ".env"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(t.project().join(".env")).unwrap().permissions().mode() & 0o777, 0o600);
    let conflict = t.database_setup("postgresql://app:Other%23Pass@db:5432/app", &[]).code(3);
    assert!(!conflict.stdout.contains("Sup3r") && !conflict.stdout.contains("Other%23Pass"), "{}", conflict.stdout);
}

#[test]
fn a_git_tracked_env_file_never_gets_the_password() {
    let t = Test::new();
    t.write(".env", "DEBUG=1\n");
    let git = |args: &[&str]| {
        let ok =
            std::process::Command::new("git").arg("-C").arg(t.project()).args(args).output().unwrap().status.success();
        assert!(ok, "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", ".env"]);
    for extra in [&[][..], &["--force"][..]] {
        let json = t.database_setup("postgresql://app:Tracked%21pw@db/app", extra).code(3).json();
        let env = json["files"].as_array().unwrap().iter().find(|f| f["path"] == ".env").unwrap().clone();
        assert_eq!(env["action"], "conflict");
        assert!(env["reason"].as_str().unwrap().contains("git rm --cached .env"), "{env}");
        assert_eq!(t.read(".env"), "DEBUG=1\n");
    }
}

#[test]
fn a_project_path_that_is_a_file_is_refused() {
    let t = Test::new();
    std::fs::write(t.project(), "x").unwrap();
    let json = t.database_setup("sqlite:///./app.db", &[]).code(2).json();
    assert_eq!(json["status"], "invalid");
    assert_eq!(json["errors"][0]["field"], "/projectPath");
    assert!(
        json["errors"][0]["message"].as_str().unwrap().ends_with("is a file; give the project's directory"),
        "{json}"
    );
}

#[test]
fn files_that_cannot_be_merged_are_conflicts_not_damage() {
    let t = Test::new();
    std::fs::create_dir_all(t.project()).unwrap();
    std::fs::write(t.project().join(".gitignore"), b"caf\xe9\n").unwrap();
    t.write("pyproject.toml", "[project\nname = \"broken\"\n");
    t.write("requirements.txt", "fastapi\r\n");
    let before = t.snapshot();
    let json = t.database_setup("sqlite:///./app.db", &[]).code(3).json();
    let reason = |path: &str| {
        let file = json["files"].as_array().unwrap().iter().find(|f| f["path"] == path).unwrap().clone();
        assert_eq!(file["action"], "conflict", "{file}");
        file["reason"].as_str().unwrap().to_owned()
    };
    assert!(reason(".gitignore").contains("not UTF-8"));
    assert_eq!(t.snapshot(), before);
    std::fs::remove_file(t.project().join(".gitignore")).unwrap();
    std::fs::remove_file(t.project().join("pyproject.toml")).unwrap();
    t.database_setup("sqlite:///./app.db", &[]).code(0);
    assert!(
        // A bare `fastapi` gets the floor the generated code needs; the CRLF endings stay.
        t.read("requirements.txt").starts_with("fastapi>=0.121\r\n")
            && t.read("requirements.txt").ends_with("aiosqlite>=0.20\r\n")
    );
}
