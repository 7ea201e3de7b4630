//! Skills that build on each other. A skill's `skill.json` may declare `requires`: another skill
//! that must have been applied to the same project first (found in `.skillrun/answers.json`, with
//! the files it owns that this skill builds on), which input values to take from that skill's
//! recorded answers instead of asking again, and which of the values it decided and recorded
//! (its `publish`, e.g. where its package is) this skill's templates use, so that a layout rule
//! lives in one skill only. Generic: the skill, field and value names are data.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::paths::RelPath;
use crate::project_dir::{MAX_READ_BYTES, ProjectDir};
use crate::registry::{Registry, Skill};
use crate::trigger::Lang;

/// A prerequisite that is not met, for the report: what is missing and how to provide it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unmet {
    /// The skill to run first.
    pub skill: String,
    /// What is missing: the answers entry (`.skillrun/answers.json`) or a file it owns.
    pub missing: Vec<String>,
    /// The inputs that skill needs (its required fields without a default).
    pub inputs: Vec<String>,
}

/// What [`resolve`] found.
#[derive(Debug, Default)]
pub struct Resolved {
    pub unmet: Vec<Unmet>,
    /// Input values taken from an earlier skill's answers, said in words.
    pub notes: Vec<String>,
    /// Values the earlier skills recorded, under this skill's names, for its templates.
    pub values: Map<String, Value>,
}

/// Checks `skill`'s prerequisites in `project` (`None`: a directory that does not exist yet) and
/// fills `input` with the values they provide that it does not give itself.
pub fn resolve(
    registry: &Registry,
    skill: &Skill,
    input: &mut Value,
    project: Option<&ProjectDir>,
    lang: Lang,
) -> crate::Result<Resolved> {
    let mut out = Resolved::default();
    if skill.spec.requires.is_empty() {
        return Ok(out);
    }
    let answers = match project {
        Some(dir) => dir
            .read(&crate::state::rel(crate::state::ANSWERS), crate::state::MAX_STATE_BYTES)?
            .as_deref()
            .and_then(crate::provenance::Answers::parse),
        None => None,
    };
    for need in &skill.spec.requires {
        let mut missing = Vec::new();
        let recorded = answers.as_ref().and_then(|a| a.skill(&need.skill));
        let mut values = Map::new();
        match recorded {
            None => missing.push(format!("{} ({})", crate::state::ANSWERS, need.skill)),
            Some(recorded) => {
                for (mine, theirs) in &need.values {
                    match recorded.values.get(theirs) {
                        Some(value) => {
                            values.insert(mine.clone(), value.clone());
                        }
                        // Recorded by a version of that skill that did not publish it yet.
                        None => missing.push(format!("{} ({}: {theirs})", crate::state::ANSWERS, need.skill)),
                    }
                }
            }
        }
        for file in &need.files {
            let file = &match file.contains("{{") {
                // Without the values the path cannot be known; the missing answers say what to do.
                true if values.len() < need.values.len() => continue,
                true => render_path(file, &values, skill)?,
                false => file.clone(),
            };
            let rel = RelPath::parse(file)
                .map_err(|e| crate::Error::UnsafePath { path: file.clone(), reason: e.to_string() })?;
            let there = match project {
                Some(dir) => dir.read(&rel, MAX_READ_BYTES)?.is_some(),
                None => false,
            };
            if !there {
                missing.push(file.clone());
            }
        }
        if !missing.is_empty() {
            let inputs = registry.get(&need.skill)?.required_inputs();
            out.unmet.push(Unmet { skill: need.skill.clone(), missing, inputs });
            continue;
        }
        out.values.extend(values);
        let (Some(recorded), Some(object)) = (recorded, input.as_object_mut()) else { continue };
        for (mine, theirs) in &need.inputs {
            if object.contains_key(mine) {
                continue;
            }
            if let Some(value) = recorded.input.get(theirs) {
                object.insert(mine.clone(), value.clone());
                out.notes.push(lang.say().requires_taken(mine, &value.to_string(), &need.skill));
            }
        }
    }
    Ok(out)
}

/// A required file's path, a template over the values taken from the earlier skill.
fn render_path(template: &str, values: &Map<String, Value>, skill: &Skill) -> crate::Result<String> {
    let context = tera::Context::from_value(Value::Object(values.clone())).expect("an object is a context");
    tera::Tera::one_off(template, &context, false).map_err(|e| {
        crate::Error::registry(
            format!("{}/skill.json", skill.entry.dir.trim_end_matches('/')),
            format!("requires: file `{template}`: {e}"),
        )
    })
}

/// The error a report gives for an unmet prerequisite: what is missing and what to run.
pub fn message(skill: &Skill, unmet: &Unmet, project_field: &str, lang: Lang) -> String {
    let inputs: Vec<&str> = unmet.inputs.iter().map(String::as_str).filter(|i| *i != project_field).collect();
    let inputs = inputs.join(", ");
    let missing = unmet.missing.join(", ");
    lang.say().requires_unmet(skill.id(), &unmet.skill, &missing, project_field, &inputs)
}
