//! Answers and provenance: `.skillrun/answers.json`, one small file per project that records, for
//! each skill run there, the skill's version, its normalized input without secrets, the values it
//! publishes for skills that build on it, and a hash of every file the skill owns as a whole. A later run compares a file on disk with its hash: equal
//! means the user has not edited the skill's output, so a new version replaces it without asking;
//! different means the user's edits are there, and it is a conflict. Meant to be committed (like
//! copier's `.copier-answers.yml`): it never holds a password, nor a hash of a file that does.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Digest;

use crate::input::ValidInput;
use crate::registry::Skill;

/// Where the answers live, relative to the project.
pub const FILE: &str = ".skillrun/answers.json";

/// The whole file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Answers {
    /// Format version of this file.
    #[serde(default = "format_version")]
    pub skillrun: u32,
    /// By skill id.
    #[serde(default)]
    pub skills: BTreeMap<String, SkillAnswers>,
}

/// What one skill recorded of its latest run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SkillAnswers {
    pub version: String,
    /// The input as the skill used it, normalized (defaults applied, URLs rewritten), each
    /// secret (a URL's password, a secret query value, an `x-secret` field) replaced by `***`;
    /// without the project directory field, which is where this file lives.
    pub input: Map<String, Value>,
    /// `sha256:<hex>` of each file the skill owns, by project-relative path.
    pub files: BTreeMap<String, String>,
    /// The values the skill decided and publishes for the skills that build on it (its
    /// `publish`: where its package is, how its modules are imported).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub values: Map<String, Value>,
}

fn format_version() -> u32 {
    1
}

impl Answers {
    /// Reads the file; `None` when it is not a valid answers file (it is then rewritten).
    pub fn parse(bytes: &[u8]) -> Option<Answers> {
        serde_json::from_slice(bytes).ok()
    }

    pub fn skill(&self, id: &str) -> Option<&SkillAnswers> {
        self.skills.get(id)
    }

    /// These answers with `skill`'s entry replaced by this run's. Hashes of files this run did
    /// not write (skipped ones) are kept from the previous entry.
    pub fn with_run(mut self, skill: &Skill, input: &ValidInput, files: BTreeMap<String, String>) -> Self {
        let properties = skill.input_schema.get("properties").and_then(Value::as_object);
        let mut recorded = Map::new();
        for name in properties.into_iter().flat_map(|p| p.keys()) {
            if name == skill.project_field() {
                continue;
            }
            if let Some(value) = input.context.get(name) {
                recorded.insert(name.clone(), scrub(value.clone()));
            }
        }
        let values: Map<String, Value> = skill
            .spec
            .publish
            .iter()
            .filter_map(|name| Some((name.clone(), scrub(input.context.get(name)?.clone()))))
            .collect();
        let mut merged = self.skills.remove(skill.id()).map(|a| a.files).unwrap_or_default();
        merged.extend(files);
        self.skillrun = format_version();
        self.skills.insert(
            skill.id().to_owned(),
            SkillAnswers { version: skill.entry.version.clone(), input: recorded, files: merged, values },
        );
        self
    }

    /// Stable text: sorted keys, no timestamp, so a re-run leaves the file unchanged.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("answers serialize");
        text.push('\n');
        text
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn hash(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = sha2::Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 2 * digest.len());
    out.push_str("sha256:");
    for b in digest.iter() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

/// `value` with every string redacted ([`crate::secret::redact`]). The context it comes from
/// already holds secret fields redacted; this also covers a URL or a `NAME=value` inside any
/// other field.
fn scrub(value: Value) -> Value {
    match value {
        Value::String(s) => Value::String(crate::secret::redact_owned(s)),
        Value::Array(items) => Value::Array(items.into_iter().map(scrub).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, scrub(v))).collect()),
        other => other,
    }
}
