//! The skill set built into the binary (`manifest.json`, `schemas/`, `skills/` of this
//! repository), so that `cargo install` or a wheel works anywhere, and the choice between it and a
//! skill set on disk (`--skills-dir`, `SKILLRUN_SKILLS_DIR`).

use std::path::Path;

use include_dir::{Dir, include_dir};

use crate::registry::{Files, Registry};

static SKILLS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/skills");
static SCHEMAS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/schemas");
const MANIFEST: &str = include_str!("../manifest.json");

/// The embedded skill set's files.
pub fn embedded_files() -> Files {
    let mut files = Files::new();
    files.insert("manifest.json".into(), MANIFEST.as_bytes().to_vec());
    collect(&SKILLS, "skills", &mut files);
    collect(&SCHEMAS, "schemas", &mut files);
    files
}

/// The skill set built into the binary. It is checked against the manifest and skill schemas by
/// the test suite (`embedded_set_passes_the_schema_checks`), not on every start.
pub fn embedded() -> crate::Result<Registry> {
    Registry::from_memory(embedded_files(), false)
}

/// `dir` if given, else `SKILLRUN_SKILLS_DIR`, else the embedded set.
pub fn load(dir: Option<&Path>) -> crate::Result<Registry> {
    match dir.map(Path::to_path_buf).or_else(|| std::env::var_os("SKILLRUN_SKILLS_DIR").map(Into::into)) {
        Some(dir) => Registry::from_dir(&dir),
        None => embedded(),
    }
}

fn collect(dir: &Dir<'_>, prefix: &str, files: &mut Files) {
    for file in dir.files() {
        files.insert(format!("{prefix}/{}", file.path().display()), file.contents().to_vec());
    }
    for sub in dir.dirs() {
        collect(sub, prefix, files);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn embedded_set_passes_the_schema_checks() {
        let registry = crate::Registry::from_memory(super::embedded_files(), true).unwrap();
        assert!(registry.skills().is_ok());
    }
}
