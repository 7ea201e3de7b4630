//! Speed and memory of generation, outside the test suite (`cargo bench`).
//!
//! Measures, for the embedded database-setup skill: loading the registry, a dry run (validate +
//! render + compare), a full run into a fresh directory, a re-run (all unchanged), and the whole
//! `skillrun run` process. Goal: every in-process figure in single-digit milliseconds, the
//! process under 20 ms, peak memory under 20 MiB.

use std::time::{Duration, Instant};

use serde_json::json;
use skillrun::{Registry, Request};

fn time<F: FnMut()>(name: &str, iterations: u32, mut f: F) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let each = start.elapsed() / iterations;
    println!("{name:<40} {:>10.3} ms/op  ({iterations} runs)", each.as_secs_f64() * 1e3);
    each
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    time("registry: load embedded skills", 200, || {
        Registry::embedded().unwrap();
    });
    let registry = Registry::embedded().unwrap();
    let request = |path: &std::path::Path, dry_run: bool| Request {
        dry_run,
        ..Request::new(
            "database-setup",
            json!({"projectPath": path, "databaseUrl": "postgresql://app:secret@localhost:5432/app"}),
        )
    };
    let project = dir.path().join("dry");
    time("run: dry run (validate, render, compare)", 500, || {
        skillrun::run(&registry, &request(&project, true), &mut |_| true).unwrap();
    });
    let mut n = 0;
    time("run: apply into a fresh project", 200, || {
        n += 1;
        let fresh = dir.path().join(format!("fresh-{n}"));
        skillrun::run(&registry, &request(&fresh, false), &mut |_| true).unwrap();
    });
    let again = dir.path().join("again");
    skillrun::run(&registry, &request(&again, false), &mut |_| true).unwrap();
    time("run: re-run, every file unchanged", 500, || {
        skillrun::run(&registry, &request(&again, false), &mut |_| true).unwrap();
    });
    let bin = env!("CARGO_MANIFEST_DIR").to_owned() + "/target/release/skillrun";
    if std::path::Path::new(&bin).exists() {
        let mut k = 0;
        time("process: skillrun run (fresh project)", 50, || {
            k += 1;
            let input =
                json!({"projectPath": dir.path().join(format!("proc-{k}")), "databaseUrl": "sqlite:///./app.db"})
                    .to_string();
            let out = std::process::Command::new(&bin)
                .args(["run", "database-setup", "--json", "--input", &input])
                .output()
                .unwrap();
            assert!(out.status.success());
        });
    }
    if let Some(kib) = peak_rss_kib() {
        println!("{:<40} {:>10.1} MiB", "peak resident memory (this process)", kib as f64 / 1024.0);
    }
}
