//! The floor for a cold `skillrun run`: the least a native program can do to write the same files
//! with the same durability, timed by benches/harness.py as a whole process beside skillrun.
//!
//!     floor BUNDLE DEST
//!
//! BUNDLE holds the files a real run wrote (the harness packs them from a run's output: for each
//! file, its project-relative path, a NUL, its length as 8 little-endian bytes, its bytes). The
//! program reads it in one `read`, then does exactly what skillrun's apply does for a fresh
//! project, minus everything else (no templates, no input validation, no planning, no journal,
//! no lock): makes the missing directories, writes each file to a temporary name beside its
//! destination, starts the write-back of all of them (`sync_file_range`) and waits for each
//! (`fdatasync`), renames each into place, and `fsync`s every directory a name was made in.
//! `floor serve ANSWER` is the floor of a warm MCP call: it reads JSON-RPC lines on stdin and,
//! for each request, writes ANSWER (a line skillrun's server sent for the same `tools/call`) with
//! the request's id, on stdout: the pipes, one line in and one out, and nothing else (no JSON
//! parsing, no protocol, no run). A request without `"method":"tools/call"` (`initialize`) gets an
//! empty result; a notification nothing.
//!
//! Standard library only (built by benches/run.sh with `cargo build --release -p skillrun-floor`).

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let result = match &args[..] {
        [serve, answer] if serve.as_os_str() == "serve" => lines(answer),
        [bundle, dest] => run(bundle, dest),
        _ => {
            eprintln!("usage: floor BUNDLE DEST | floor serve ANSWER");
            std::process::exit(2);
        }
    };
    if let Err(e) = result {
        eprintln!("floor: {e}");
        std::process::exit(1);
    }
}

fn run(bundle: &Path, dest: &Path) -> std::io::Result<()> {
    let data = std::fs::read(bundle)?;
    let files = unpack(&data).ok_or_else(|| std::io::Error::other("the bundle is malformed"))?;

    // Directories to make, parents first; every directory that gains a name is synced at the end.
    std::fs::create_dir_all(dest)?;
    let mut made: BTreeSet<PathBuf> = BTreeSet::new();
    let mut synced: BTreeSet<PathBuf> = BTreeSet::new();
    for (rel, _) in &files {
        let mut dir = PathBuf::new();
        for part in Path::new(rel).parent().into_iter().flat_map(Path::components) {
            let parent = dest.join(&dir);
            dir.push(part);
            if made.insert(dir.clone()) {
                std::fs::create_dir(dest.join(&dir))?;
                synced.insert(parent);
            }
        }
        synced.insert(dest.join(Path::new(rel).parent().unwrap_or(Path::new(""))));
    }

    let mut staged = Vec::with_capacity(files.len());
    for (rel, content) in &files {
        let target = dest.join(rel);
        let name = target.file_name().expect("a file name").to_string_lossy();
        let temp = target.with_file_name(format!(".{name}.skillrun-tmp"));
        let mut file = OpenOptions::new().write(true).create_new(true).mode(0o644).open(&temp)?;
        file.write_all(content)?;
        staged.push((file, temp, target));
    }
    #[cfg(target_os = "linux")]
    for (file, _, _) in &staged {
        use std::os::fd::AsRawFd;
        unsafe extern "C" {
            fn sync_file_range(fd: i32, offset: i64, nbytes: i64, flags: u32) -> i32;
        }
        const SYNC_FILE_RANGE_WRITE: u32 = 2;
        // SAFETY: a descriptor open for the call; it only starts the write-back (as skillrun's
        // crates/engine/src/durable.rs does).
        unsafe { sync_file_range(file.as_raw_fd(), 0, 0, SYNC_FILE_RANGE_WRITE) };
    }
    for (file, _, _) in &staged {
        file.sync_data()?;
    }
    for (_, temp, target) in &staged {
        std::fs::rename(temp, target)?;
    }
    for dir in &synced {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The bundle's files: (path, content).
fn unpack(mut data: &[u8]) -> Option<Vec<(String, &[u8])>> {
    let mut files = Vec::new();
    while !data.is_empty() {
        let nul = data.iter().position(|b| *b == 0)?;
        let path = std::str::from_utf8(&data[..nul]).ok()?.to_owned();
        let len = u64::from_le_bytes(data.get(nul + 1..nul + 9)?.try_into().ok()?) as usize;
        let content = data.get(nul + 9..nul + 9 + len)?;
        data = &data[nul + 9 + len..];
        files.push((path, content));
    }
    Some(files)
}

/// `floor serve ANSWER`: answers each request line with ANSWER under the request's id.
fn lines(answer: &Path) -> std::io::Result<()> {
    use std::io::BufRead;
    let answer = std::fs::read_to_string(answer)?;
    // ANSWER is `{"jsonrpc":"2.0","id":<n>,"result":...}`: everything after the id is kept.
    let rest = answer.trim_end().split_once(",\"result\"").map(|(_, r)| r).unwrap_or("");
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lines() {
        let line = line?;
        let Some(at) = line.find("\"id\":") else { continue };
        let id: String = line[at + 5..].trim_start().chars().take_while(char::is_ascii_digit).collect();
        if line.contains("\"method\":\"tools/call\"") || line.contains("\"method\": \"tools/call\"") {
            writeln!(stdout, "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\"{rest}")?;
        } else {
            writeln!(stdout, "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{}}}}")?;
        }
        stdout.flush()?;
    }
    Ok(())
}
