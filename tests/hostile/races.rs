//! Directories swapped for symbolic links while runs go on: another process flips a directory
//! of the project (or the project itself, under `--root`) between the real thing and a link to
//! a directory outside, as fast as it can, while runs that write there follow one another. The
//! runs may succeed or be refused; nothing is ever read, written or removed outside.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{Outside, input, run_bounded};

/// Attempts per test, and the time they may take (whichever ends first).
const ATTEMPTS: usize = 300;
const BUDGET: Duration = Duration::from_secs(60);

/// Flips `place` between a real directory (kept as `place.real`) and a link to `target`, until
/// told to stop. Returns how many flips it made.
fn flipper(place: &Path, target: &Path, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    let (place, target) = (place.to_path_buf(), target.to_path_buf());
    let real = place.with_extension("real");
    std::thread::spawn(move || {
        let mut flips = 0;
        while !stop.load(Ordering::Relaxed) {
            if std::fs::rename(&place, &real).is_ok() {
                let _ = std::os::unix::fs::symlink(&target, &place);
                std::thread::yield_now();
                let _ = std::fs::remove_file(&place);
                let _ = std::fs::rename(&real, &place);
                flips += 1;
            }
            std::thread::yield_now();
        }
        flips
    })
}

/// Runs `skillrun run` with `args` against `project` `attempts` times, switching the database
/// each time so that every run writes; returns (applied, refused).
fn hammer(project: &Path, cwd: &Path, extra: &[&str], env: &[(&str, &str)], attempts: usize) -> (usize, usize) {
    let started = Instant::now();
    let (mut applied, mut refused) = (0, 0);
    for i in 0..attempts {
        if started.elapsed() > BUDGET {
            break;
        }
        let url = if i % 2 == 0 { "sqlite:///./app.db" } else { "postgresql://app:pw@localhost/app" };
        let input = input(project, url);
        let mut args = vec!["run", "database-setup", "--json", "--force", "--input", &input];
        args.extend(extra);
        let (code, _, _) = run_bounded(&args, cwd, env);
        match code {
            0 => applied += 1,
            _ => refused += 1,
        }
    }
    (applied, refused)
}

#[test]
fn a_directory_of_the_project_swapped_for_a_link_never_sends_a_write_outside() {
    let outside = Outside::new();
    let t = crate::support::Test::new();
    t.database_setup("sqlite:///./app.db", &[]).code(0);
    let stop = Arc::new(AtomicBool::new(false));
    let flips = flipper(&t.project().join("app"), &outside.path().join("app"), stop.clone());
    // Half the runs resolve paths with openat2, half with the component walk used where the
    // kernel has no openat2.
    let (a1, r1) = hammer(&t.project(), t.dir.path(), &[], &[], ATTEMPTS / 2);
    let (a2, r2) = hammer(&t.project(), t.dir.path(), &[], &[("SKILLRUN_NO_OPENAT2", "1")], ATTEMPTS / 2);
    let (applied, refused) = (a1 + a2, r1 + r2);
    stop.store(true, Ordering::Relaxed);
    let flips = flips.join().unwrap();
    eprintln!("races: app/ flipped {flips} times; {applied} runs applied, {refused} refused");
    assert!(flips > 0 && applied + refused > 0);
    outside.check_untouched("a swapped app/");
}

#[test]
fn a_project_swapped_for_a_link_out_of_the_root_never_sends_a_write_outside() {
    let outside = Outside::new();
    let root = tempfile::tempdir().unwrap();
    let project = root.path().join("api");
    std::fs::create_dir(&project).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flips = flipper(&project, &outside.path().join("app"), stop.clone());
    let root_arg = root.path().to_str().unwrap().to_owned();
    let (applied, refused) = hammer(&project, root.path(), &["--root", &root_arg], &[], ATTEMPTS);
    stop.store(true, Ordering::Relaxed);
    let flips = flips.join().unwrap();
    eprintln!("races: the project flipped {flips} times; {applied} runs applied, {refused} refused");
    assert!(flips > 0 && applied + refused > 0);
    outside.check_untouched("a swapped project under --root");
}
