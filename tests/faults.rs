//! A run killed or refused part-way never leaves a half-written project. The process is killed
//! with SIGKILL at every step of an apply (the `SKILLRUN_KILL_AT` hook) and at random moments
//! from outside; a file-size limit (`ulimit -f`) makes a later file fail; read-only files are met
//! part-way through the plan; several runs race for one project. After each, the project is
//! exactly as it was before the run, or exactly as a run that finished leaves it.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::{Test, run_command};

type Snapshot = Vec<(String, Vec<u8>)>;

/// The project as a run that succeeded leaves it, and as it was before.
struct Scenario {
    /// A project generated for SQLite, then edited by its user.
    pristine: tempfile::TempDir,
    pristine_snapshot: Snapshot,
    complete: Snapshot,
}

/// The run that is killed: switch to PostgreSQL with --force, which updates, creates and backs
/// up files, and replaces the URL in `.env`.
const URL: &str = "postgresql://app:s3cret@localhost:5432/app";

fn run_args(project: &Path) -> Vec<String> {
    let input = serde_json::json!({"projectPath": project, "databaseUrl": URL}).to_string();
    ["run", "database-setup", "--json", "--force", "--input", &input].map(str::to_owned).to_vec()
}

impl Scenario {
    fn new() -> Scenario {
        let t = Test::new();
        std::fs::create_dir_all(t.project()).unwrap();
        t.write(".gitignore", "node_modules/\n").write("requirements.txt", "fastapi\n").write(".env", "DEBUG=1\n");
        t.database_setup("sqlite:///./app.db", &[]).code(0);
        t.write("app/core/config.py", "# the user's own settings\n");
        let pristine = tempfile::tempdir().unwrap();
        copy_tree(&t.project(), pristine.path());
        let pristine_snapshot = snapshot(pristine.path());
        let done = tempfile::tempdir().unwrap();
        copy_tree(pristine.path(), done.path());
        let ran = run_command(command(done.path()), None);
        assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
        let complete = snapshot(done.path());
        assert_ne!(complete, pristine_snapshot);
        Scenario { pristine, pristine_snapshot, complete }
    }

    /// A fresh copy of the pristine project.
    fn copy(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(self.pristine.path(), dir.path());
        dir
    }

    /// After `skillrun recover`, the project is as before or as complete; returns which.
    #[track_caller]
    fn check_recovered(&self, project: &Path, what: &str) -> Outcome {
        let mut recover = bin();
        recover.arg("recover").arg(project);
        let ran = run_command(recover, None);
        assert_eq!(ran.code, 0, "{what}: recover: {}{}", ran.stdout, ran.stderr);
        let now = snapshot(project);
        if now == self.pristine_snapshot {
            Outcome::Untouched
        } else if now == self.complete {
            Outcome::Complete
        } else {
            panic!("{what}: the project is neither as it was nor complete:\n{}", describe(&now, &self.complete));
        }
    }

    /// A later run on a recovered project completes it.
    #[track_caller]
    fn check_rerun_completes(&self, project: &Path, what: &str) {
        let ran = run_command(command(project), None);
        assert_eq!(ran.code, 0, "{what}: re-run: {}{}", ran.stdout, ran.stderr);
        assert_eq!(snapshot(project), self.complete, "{what}: re-run");
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Untouched,
    Complete,
}

fn command(project: &Path) -> Command {
    let mut cmd = bin();
    cmd.args(run_args(project));
    cmd
}

/// The binary, run from `/`, without the caller's skill set, language or log settings.
fn bin() -> Command {
    let mut cmd = Command::new(crate::support::BIN);
    cmd.current_dir("/").env_remove("SKILLRUN_SKILLS_DIR").env_remove("SKILLRUN_LANG").env_remove("RUST_LOG");
    cmd.env("LANG", "C");
    cmd
}

#[test]
fn a_kill_at_every_step_of_an_apply_is_rolled_back_or_complete() {
    let scenario = Scenario::new();
    let mut outcomes = Vec::new();
    let mut killed_recoveries = 0;
    for step in 1.. {
        let project = scenario.copy();
        let mut cmd = command(project.path());
        cmd.env("SKILLRUN_KILL_AT", step.to_string());
        let out = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
        if out.signal().is_none() {
            assert_eq!(out.code(), Some(0), "step {step}: a run that is not killed succeeds");
            assert_eq!(snapshot(project.path()), scenario.complete);
            break;
        }
        assert_eq!(out.signal(), Some(9), "step {step}");
        let what = format!("killed at step {step}");
        // The recovery itself killed at its first and second step: the next one still works.
        for recovery_step in ["1", "2"] {
            let mut recover = bin();
            recover.arg("recover").arg(project.path()).env("SKILLRUN_KILL_AT", recovery_step);
            let status = recover.stdout(Stdio::null()).stderr(Stdio::null()).status().unwrap();
            assert!(status.success() || status.signal() == Some(9), "{what}: recovery {status:?}");
            killed_recoveries += usize::from(status.signal() == Some(9));
        }
        outcomes.push(scenario.check_recovered(project.path(), &what));
        scenario.check_rerun_completes(project.path(), &what);
    }
    eprintln!("faults: killed at {} steps, {killed_recoveries} recoveries killed: {outcomes:?}", outcomes.len());
    assert!(killed_recoveries > 0, "some recoveries had steps to kill");
    // The journal, mkdir, stage and rename steps of 20-odd files, then the commit.
    assert!(outcomes.len() > 20, "{} steps", outcomes.len());
    let first_complete = outcomes.iter().position(|o| *o == Outcome::Complete).expect("a kill after the commit");
    assert!(first_complete > 0, "a kill before the commit is rolled back");
    assert!(outcomes[first_complete..].iter().all(|o| *o == Outcome::Complete), "{outcomes:?}");
    assert!(outcomes[..first_complete].iter().all(|o| *o == Outcome::Untouched), "{outcomes:?}");
}

#[test]
fn random_sigkills_during_apply_leave_the_project_as_it_was_or_complete() {
    let iterations: u32 = std::env::var("SKILLRUN_KILL_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(40);
    let scenario = Scenario::new();
    let mut seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    eprintln!("faults: random kills, seed {seed}");
    let (mut finished, mut untouched, mut complete, mut mid_apply) = (0, 0, 0, 0);
    for i in 0..iterations {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        // Up to 40 ms after the journal directory appears: past the end of the apply.
        let delay = std::time::Duration::from_micros(seed % 40_000);
        let project = scenario.copy();
        let journal = project.path().join(".skillrun/journal");
        let mut child = command(project.path()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let mut started = false;
        while child.try_wait().unwrap().is_none() {
            if journal.exists() {
                started = true;
                break;
            }
        }
        std::thread::sleep(delay);
        let _ = child.kill();
        let status = child.wait().unwrap();
        let what = format!("iteration {i}, killed {delay:?} after the journal appeared");
        if status.signal().is_none() {
            assert_eq!(status.code(), Some(0), "{what}");
            assert_eq!(snapshot(project.path()), scenario.complete, "{what}");
            finished += 1;
            continue;
        }
        mid_apply += usize::from(started && journal.exists());
        match scenario.check_recovered(project.path(), &what) {
            Outcome::Untouched => untouched += 1,
            Outcome::Complete => complete += 1,
        }
        scenario.check_rerun_completes(project.path(), &what);
    }
    eprintln!(
        "faults: {iterations} random kills: {mid_apply} with the journal on disk; {untouched} rolled back, \
         {complete} complete, {finished} finished first"
    );
}

#[test]
fn ctrl_c_or_sigterm_during_an_apply_takes_effect_once_it_is_complete() {
    let scenario = Scenario::new();
    let mut during = 0;
    for (i, signal) in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP].into_iter().cycle().take(12).enumerate() {
        let project = scenario.copy();
        let journal = project.path().join(".skillrun/journal");
        let mut child = command(project.path()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        while child.try_wait().unwrap().is_none() && !journal.exists() {}
        std::thread::sleep(std::time::Duration::from_micros(500 * i as u64));
        let sent_during = journal.exists();
        // SAFETY: kill(2) on a child we spawned and have not reaped.
        unsafe { libc::kill(child.id() as i32, signal) };
        let status = child.wait().unwrap();
        if status.signal() == Some(signal) && sent_during {
            during += 1;
        }
        // No recovery needed: the apply finished before the signal ended the process.
        assert!(!journal.exists(), "signal {signal}: a journal was left");
        assert_eq!(snapshot(project.path()), scenario.complete, "signal {signal} after {i} half-ms");
    }
    eprintln!("faults: 12 signals, {during} sent while the journal was on disk");
}

#[test]
fn a_file_size_limit_part_way_is_rolled_back() {
    let t = Test::new();
    std::fs::create_dir_all(t.project()).unwrap();
    // A long requirements file: its merged form is the one file over the limit, late in the plan.
    let requirements: String = (0..200).map(|i| format!("package-{i:03}==1.0\n")).collect();
    t.write(".gitignore", "node_modules/\n").write("requirements.txt", &requirements);
    let before = t.snapshot();
    let input = serde_json::json!({"projectPath": t.project(), "databaseUrl": "sqlite:///./app.db"}).to_string();
    // bash counts `ulimit -f` in KiB: every generated file fits, the merged requirements do not.
    let mut bash = Command::new("bash");
    bash.args(["-c", r#"ulimit -f 3; exec "$0" "$@""#, crate::support::BIN, "run", "database-setup", "--json"])
        .args(["--input", &input])
        .current_dir(t.dir.path())
        .env_remove("RUST_LOG");
    let ran = run_command(bash, None);
    assert_eq!(ran.code, 1, "not killed by SIGXFSZ: {}{}", ran.stdout, ran.stderr);
    let message = ran.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("requirements.txt: File too large"), "{message}");
    assert!(message.ends_with("nothing was changed, the project is as it was"), "{message}");
    assert_eq!(t.snapshot(), before);
    t.database_setup("sqlite:///./app.db", &[]).code(0);
}

#[test]
fn an_immutable_file_met_part_way_stops_the_run_before_it_writes() {
    let t = Test::new();
    std::fs::create_dir_all(t.project()).unwrap();
    t.write(".gitignore", "node_modules/\n").write("alembic.ini", "[alembic]\n# mine\n");
    let path = t.project().join("alembic.ini");
    let ok = Command::new("chattr").arg("+i").arg(&path).status().is_ok_and(|s| s.success());
    if !ok {
        crate::support::skip_unless_ci("faults::immutable file", "chattr +i is not supported here");
        return;
    }
    let before = t.snapshot();
    let ran = t.database_setup("sqlite:///./app.db", &["--force"]);
    let _ = Command::new("chattr").arg("-i").arg(&path).status();
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    let message = ran.json()["message"].as_str().unwrap().to_owned();
    assert!(message.contains("alembic.ini") && message.contains("is read-only"), "{message}");
    assert!(message.ends_with("nothing was changed, the project is as it was"), "{message}");
    assert_eq!(t.snapshot(), before);
}

#[test]
fn a_read_only_file_and_directory_stop_an_unprivileged_run_before_it_writes() {
    use std::os::unix::fs::PermissionsExt;
    let t = Test::new();
    std::fs::create_dir_all(t.project()).unwrap();
    t.write(".gitignore", "node_modules/\n").write("alembic.ini", "[alembic]\n# mine\n");
    t.write("app/core/keep.txt", "mine\n");
    for dir in [t.dir.path().to_path_buf(), t.project(), t.project().join("app"), t.project().join("app/core")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    std::fs::set_permissions(t.project().join(".gitignore"), std::fs::Permissions::from_mode(0o666)).unwrap();
    // Owned by root and read-only for everyone else: late in the plan's order.
    std::fs::set_permissions(t.project().join("alembic.ini"), std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = t.snapshot();
    let as_nobody = |project: &Path| {
        let input = serde_json::json!({"projectPath": project, "databaseUrl": "sqlite:///./app.db"}).to_string();
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", crate::support::BIN])
            .args(["run", "database-setup", "--json", "--force", "--input", &input])
            .current_dir("/")
            .output()
    };
    let Some(out) = as_nobody(&t.project()).ok().filter(|o| !String::from_utf8_lossy(&o.stderr).contains("setpriv:"))
    else {
        crate::support::skip_unless_ci("faults::read-only file", "cannot run as an unprivileged user here");
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("alembic.ini") && stdout.contains("is read-only"), "{stdout}");
    assert_eq!(t.snapshot(), before);
    // A directory the user may not write, met after others were planned: the same.
    std::fs::set_permissions(t.project().join("alembic.ini"), std::fs::Permissions::from_mode(0o666)).unwrap();
    std::fs::set_permissions(t.project().join("app/core"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = t.snapshot();
    let out = as_nobody(&t.project()).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Permission denied"), "{stdout}");
    assert_eq!(t.snapshot(), before);
}

#[test]
fn concurrent_runs_on_one_project_take_turns() {
    let t = Test::new();
    let runs: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = t.command(run_args(&t.project()));
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    let mut created = 0;
    for child in runs {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        let files = report["files"].as_array().unwrap();
        let n = files.iter().filter(|f| f["action"] == "created").count();
        assert!(n == 0 || n == files.len(), "one run writes everything, the others find it done: {stdout}");
        created += usize::from(n > 0);
    }
    assert_eq!(created, 1, "exactly one run created the project");
    let leftovers: Vec<_> =
        t.snapshot().into_iter().filter(|(p, _)| p.contains("skillrun-tmp") || p.contains("journal")).collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let again = t.database_setup(URL, &["--force"]).code(0);
    assert!(again.json()["files"].as_array().unwrap().iter().all(|f| f["action"] == "unchanged"), "{}", again.stdout);
}

#[test]
fn a_run_waits_for_the_one_holding_the_project_or_gives_up_cleanly() {
    let t = Test::new();
    std::fs::create_dir_all(t.project()).unwrap();
    t.write(".gitignore", "node_modules/\n");
    let before = t.snapshot();
    let held = std::fs::File::open(t.project()).unwrap();
    held.lock().unwrap();
    let mut waiting = t.command(run_args(&t.project()));
    let waiting = waiting.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let impatient = Test::new().env("SKILLRUN_LOCK_TIMEOUT", "0.2");
    let ran = run_command(impatient.command(run_args(&t.project())), None);
    assert_eq!(ran.code, 1, "{}", ran.stdout);
    assert!(ran.json()["message"].as_str().unwrap().contains("another run is writing to"), "{}", ran.stdout);
    assert_eq!(t.snapshot(), before, "nothing is written while the project is held");
    held.unlock().unwrap();
    let out = waiting.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(t.project().join("alembic.ini").exists());
}

/// Every file and directory under `root` with its content and permission bits.
fn snapshot(root: &Path) -> Snapshot {
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Snapshot) {
    use std::os::unix::fs::PermissionsExt;
    for item in std::fs::read_dir(dir).unwrap().flatten() {
        let path = item.path();
        let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        // Backups are named by the time of the run.
        static STAMP: std::sync::LazyLock<regex::Regex> =
            std::sync::LazyLock::new(|| regex::Regex::new(r"^\.skillrun/backups/[0-9-]+").unwrap());
        let rel = STAMP.replace(&rel, ".skillrun/backups/STAMP").into_owned();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let mode = format!(" {:o}", meta.permissions().mode() & 0o7777);
        if meta.is_dir() {
            out.push((format!("{rel}/{mode}"), Vec::new()));
            walk(root, &path, out);
        } else {
            out.push((format!("{rel}{mode}"), std::fs::read(&path).unwrap()));
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    let ok = Command::new("cp").arg("-a").arg(format!("{}/.", from.display())).arg(to).status().unwrap().success();
    assert!(ok, "cp -a");
}

fn describe(now: &Snapshot, complete: &Snapshot) -> String {
    let names = |s: &Snapshot| s.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    let changed: Vec<_> = now.iter().filter(|e| !complete.contains(e)).map(|(p, _)| p.as_str()).collect();
    format!("now: {:?}\ndiffering from complete: {changed:?}", names(now))
}
