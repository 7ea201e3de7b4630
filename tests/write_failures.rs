//! Every way a write can fail leaves the project exactly as it was: a full disk, a read-only
//! file system, a directory the user may not write (another run holding the project: `faults.rs`). These use
//! real failures (a small tmpfs, a read-only remount, an unprivileged user), not injected ones;
//! they need root, and say SKIP loudly where the machine does not allow them.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::Test;

/// A tmpfs mounted on a directory for the length of a test.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, options: &str) -> Option<Mount> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("*** SKIP write_failures: cannot mount a tmpfs here (needs root) ***");
            return None;
        }
        Some(Mount(dir.to_path_buf()))
    }
    fn remount(&self, options: &str) {
        let ok =
            Command::new("mount").args(["-o", &format!("remount,{options}")]).arg(&self.0).status().unwrap().success();
        assert!(ok, "remount {options}");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn user_files(t: &Test) {
    t.write(".gitignore", "node_modules/\n");
    t.write("requirements.txt", "fastapi\n");
    t.write(".env", "DEBUG=1\n");
}

#[test]
fn a_full_disk_part_way_leaves_the_project_as_it_was() {
    let t = Test::new();
    // Room for the user's files and a few generated ones, not for all of them.
    let Some(_mount) = Mount::tmpfs(&t.project(), "size=40k,nr_inodes=64") else { return };
    user_files(&t);
    let before = t.snapshot();
    let ran = t.database_setup("sqlite:///./app.db", &[]);
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    let message = ran.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("No space left on device"), "{message}");
    assert!(message.ends_with("nothing was changed, the project is as it was"), "{message}");
    assert_eq!(t.snapshot(), before);
}

#[test]
fn a_read_only_file_system_is_refused_before_anything_is_written() {
    let t = Test::new();
    let Some(mount) = Mount::tmpfs(&t.project(), "size=4m") else { return };
    user_files(&t);
    mount.remount("ro");
    let before = t.snapshot();
    let ran = t.database_setup("sqlite:///./app.db", &[]);
    assert_eq!(ran.code, 2, "{}", ran.stdout);
    let error = &ran.json()["errors"][0];
    assert_eq!(error["field"], "/projectPath", "{}", ran.stdout);
    assert!(error["message"].as_str().unwrap().contains("is not writable"), "{}", ran.stdout);
    assert_eq!(t.snapshot(), before);
}

#[test]
fn a_directory_the_user_may_not_write_leaves_the_project_as_it_was() {
    let t = Test::new();
    user_files(&t);
    t.write("app/core/keep.txt", "mine\n");
    // The project is writable by everyone but app/core, which only root may write.
    use std::os::unix::fs::PermissionsExt;
    for dir in [t.dir.path().to_path_buf(), t.project(), t.project().join("app")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    for file in [".gitignore", "requirements.txt", ".env"] {
        std::fs::set_permissions(t.project().join(file), std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    let before = t.snapshot();
    let input = serde_json::json!({"projectPath": t.project(), "databaseUrl": "sqlite:///./app.db"}).to_string();
    let as_nobody = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            crate::support::BIN,
            "run",
            "database-setup",
            "--json",
            "--input",
            &input,
        ])
        .current_dir("/")
        .output();
    let Some(out) = as_nobody.ok().filter(|o| !String::from_utf8_lossy(&o.stderr).contains("setpriv:")) else {
        eprintln!("*** SKIP write_failures: cannot run as an unprivileged user here ***");
        return;
    };
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Permission denied"));
    assert_eq!(t.snapshot(), before);
}
