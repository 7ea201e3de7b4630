//! The journal reader and recovery (`skillrun::journal::recover`) on a planted `.skillrun/journal`
//! in a small project beside a directory that must stay untouched.
//!
//! The project holds a user file, a directory, a temporary file of skillrun's pattern, and
//! symbolic links to a file and a directory outside. The journal record is either raw bytes or a
//! record of skillrun's own format whose entries name interesting paths (`..`, absolute paths,
//! the links, the journal itself, skillrun's temporary names, ...) and whose inode numbers are
//! made up or taken from real files, including the true inodes of the project and the journal,
//! so that recovery gets past its "this directory, this machine" check and acts. The journal
//! directory may also hold old copies that are files, links to outside, or hard links to the
//! outside file.
//!
//! Invariants: no panic; the outside directory is exactly as before (names, kinds, contents,
//! inodes); with made-up inodes of the project or journal directory, a record is never acted on
//! (the project is unchanged too); recovery never removes or replaces a file that the record
//! does not name with its true inode, apart from skillrun's own temporary name.
#![no_main]

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use skillrun::journal::{Recovered, recover};
use skillrun::project_dir::ProjectDir;

#[derive(Arbitrary, Debug)]
enum PathChoice {
    Known(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
enum Ino {
    /// The inode of one of the known paths (resolved without following links).
    Of(u8),
    Raw(u64),
}

#[derive(Arbitrary, Debug)]
struct Entry {
    path: PathChoice,
    old: Option<(u8, Ino)>,
    staged: Option<Ino>,
}

#[derive(Arbitrary, Debug)]
enum Copy {
    /// `old-N` holding text.
    File(u8),
    /// `old-N` a symbolic link to the outside file.
    Link(u8),
    /// `old-N` a hard link to the outside file.
    HardLink(u8),
    /// `old-N` a directory.
    Dir(u8),
}

#[derive(Arbitrary, Debug)]
struct Case {
    entries: Vec<Entry>,
    dirs: Vec<PathChoice>,
    /// Use the true inodes of the project and journal directories.
    genuine: bool,
    made_state_dir: bool,
    copies: Vec<Copy>,
    /// Bytes written as the record instead of a well-formed one.
    raw: Option<Vec<u8>>,
    /// No record at all.
    no_record: bool,
}

const KNOWN: &[&str] = &[
    "important.txt",
    "app/x.py",
    "app",
    "link",
    "linkdir/x",
    "linkdir",
    ".important.txt.skillrun-tmp",
    "../outside/victim.txt",
    "..",
    "",
    ".",
    "a/../important.txt",
    ".skillrun/journal/old-0",
    ".skillrun/journal",
    ".skillrun",
    "new.txt",
    "app/new/deep.txt",
    "/OUTSIDE/victim.txt",
    "/OUTSIDE",
];

fn path_text(choice: &PathChoice, outside: &Path) -> String {
    match choice {
        PathChoice::Known(i) => {
            KNOWN[*i as usize % KNOWN.len()].replace("/OUTSIDE", &outside.display().to_string())
        }
        PathChoice::Text(text) => text.clone(),
    }
}

fn ino(choice: &Ino, project: &Path, outside: &Path) -> u64 {
    match choice {
        Ino::Of(i) => {
            let rel = KNOWN[*i as usize % KNOWN.len()].replace("/OUTSIDE", &outside.display().to_string());
            std::fs::symlink_metadata(project.join(rel)).map(|m| m.ino()).unwrap_or(1)
        }
        Ino::Raw(n) => *n,
    }
}

/// Names, kinds, contents and inodes of everything under `dir`.
fn snapshot(dir: &Path) -> Vec<(String, String, Vec<u8>, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(items) = std::fs::read_dir(&at) else { continue };
        for item in items.flatten() {
            let path = item.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(dir).unwrap().display().to_string();
            let (kind, content) = if meta.file_type().is_symlink() {
                ("link", std::fs::read_link(&path).unwrap().display().to_string().into_bytes())
            } else if meta.is_dir() {
                stack.push(path.clone());
                ("dir", Vec::new())
            } else {
                ("file", std::fs::read(&path).unwrap_or_default())
            };
            out.push((rel, kind.to_owned(), content, meta.ino()));
        }
    }
    out.sort();
    out
}

fuzz_target!(|case: Case| {
    let work = tempfile::tempdir().unwrap();
    let outside = work.path().join("outside");
    let project = work.path().join("project");
    std::fs::create_dir_all(outside.join("dir")).unwrap();
    std::fs::write(outside.join("victim.txt"), "precious\n").unwrap();
    std::fs::create_dir_all(project.join("app")).unwrap();
    std::fs::write(project.join("important.txt"), "mine\n").unwrap();
    std::fs::write(project.join("app/x.py"), "x = 1\n").unwrap();
    std::fs::write(project.join(".important.txt.skillrun-tmp"), "staged\n").unwrap();
    std::os::unix::fs::symlink(outside.join("victim.txt"), project.join("link")).unwrap();
    std::os::unix::fs::symlink(outside.join("dir"), project.join("linkdir")).unwrap();
    let journal = project.join(".skillrun/journal");
    std::fs::create_dir_all(&journal).unwrap();
    for copy in case.copies.iter().take(8) {
        let _ = match copy {
            Copy::File(n) => std::fs::write(journal.join(format!("old-{n}")), "old\n"),
            Copy::Link(n) => std::os::unix::fs::symlink(outside.join("victim.txt"), journal.join(format!("old-{n}"))),
            Copy::HardLink(n) => std::fs::hard_link(outside.join("victim.txt"), journal.join(format!("old-{n}"))),
            Copy::Dir(n) => std::fs::create_dir(journal.join(format!("old-{n}"))),
        };
    }
    let project_ino = std::fs::metadata(&project).unwrap().ino();
    let journal_ino = std::fs::metadata(&journal).unwrap().ino();
    if !case.no_record {
        let record = match &case.raw {
            Some(bytes) => bytes.clone(),
            None => {
                let files: Vec<serde_json::Value> = case
                    .entries
                    .iter()
                    .take(8)
                    .map(|e| {
                        serde_json::json!({
                            "path": path_text(&e.path, &outside),
                            "old": e.old.as_ref().map(|(n, i)| serde_json::json!({"name": format!("old-{n}"), "ino": ino(i, &project, &outside)})),
                            "stagedIno": e.staged.as_ref().map(|i| ino(i, &project, &outside)),
                        })
                    })
                    .collect();
                let (p, j) = if case.genuine { (project_ino, journal_ino) } else { (project_ino ^ 1, journal_ino) };
                serde_json::to_vec(&serde_json::json!({
                    "version": 2, "projectIno": p, "journalIno": j, "files": files,
                    "dirs": case.dirs.iter().take(4).map(|d| path_text(d, &outside)).collect::<Vec<_>>(),
                    "madeStateDir": case.made_state_dir,
                }))
                .unwrap()
            }
        };
        std::fs::write(journal.join("journal.json"), record).unwrap();
    }
    let outside_before = snapshot(&outside);
    let project_before = snapshot(&project);
    // Whether the record names the user file with its true inode (read before recovery acts).
    let user_ino = project_before_ino(&project_before);
    let named_with_inode = case.genuine
        && case.raw.is_none()
        && !case.no_record
        && case.entries.iter().take(8).any(|e| {
            path_text(&e.path, &outside) == "important.txt"
                && e.staged.as_ref().is_some_and(|i| ino(i, &project, &outside) == user_ino)
        });
    let dir = ProjectDir::open(&project).unwrap();
    let result = recover(&dir);
    assert_eq!(snapshot(&outside), outside_before, "the outside directory changed: {result:?}");
    if case.raw.is_none() && !case.no_record && !case.genuine {
        assert!(matches!(result, Ok(Some(Recovered::Suspicious { .. }))), "{result:?}");
        assert_eq!(snapshot(&project), project_before, "a foreign record was acted on");
    }
    if !matches!(result, Ok(Some(Recovered::RolledBack { .. }))) {
        // Only a genuine record lets recovery change user files; short of that, at most the
        // journal directory's own leftovers go.
        let kept = |s: &[(String, String, Vec<u8>, u64)]| {
            s.iter().filter(|(rel, ..)| !rel.starts_with(".skillrun")).cloned().collect::<Vec<_>>()
        };
        assert_eq!(kept(&snapshot(&project)), kept(&project_before), "{result:?}");
    }
    // The user file is changed only when the record names it with its true inode.
    if !named_with_inode {
        assert_eq!(
            std::fs::read(project.join("important.txt")).ok(),
            Some(b"mine\n".to_vec()),
            "important.txt changed without being named with its inode: {result:?}"
        );
    }
});

fn project_before_ino(before: &[(String, String, Vec<u8>, u64)]) -> u64 {
    before.iter().find(|(rel, ..)| rel == "important.txt").map_or(0, |(.., ino)| *ino)
}
