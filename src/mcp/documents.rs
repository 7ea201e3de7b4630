//! Each skill's `SKILL.md`, served so a client can read the instructions: as the MCP resource
//! `skill://<id>/SKILL.md`, and through the skills extension (`skills/list`, `skills/get`,
//! SEP-2640) with the front matter and the file's digest.

use rmcp::model::{Resource, ResourceContents, Skill as SkillEntry, SkillFrontmatter, SkillResource, SkillResources};

use crate::registry::Registry;

const MIME: &str = "text/markdown";

/// One skill's document.
pub struct Document {
    pub uri: String,
    pub id: String,
    pub title: String,
    pub description: String,
    pub text: String,
    /// Front matter fields as written (`name`, `description`, ...), in order.
    front_matter: Vec<(String, String)>,
}

/// The documents of every skill.
pub struct Documents(Vec<Document>);

impl Documents {
    pub fn new(registry: &Registry) -> crate::Result<Self> {
        Ok(Documents(
            registry
                .skills()?
                .iter()
                .map(|s| Document {
                    uri: format!("skill://{}/SKILL.md", s.id()),
                    id: s.id().to_owned(),
                    title: s.entry.title.en.clone(),
                    description: s.entry.description.en.clone(),
                    text: s.skill_md.clone(),
                    front_matter: front_matter(&s.skill_md),
                })
                .collect(),
        ))
    }

    pub fn resources(&self) -> Vec<Resource> {
        self.0
            .iter()
            .map(|d| {
                Resource::new(d.uri.clone(), d.id.clone())
                    .with_title(d.title.clone())
                    .with_description(format!("Instructions for the {} skill: {}", d.id, d.description))
                    .with_mime_type(MIME)
                    .with_size(d.text.len() as u64)
            })
            .collect()
    }

    pub fn read(&self, uri: &str) -> Option<ResourceContents> {
        self.find(uri).map(|d| ResourceContents::text(d.text.clone(), d.uri.clone()).with_mime_type(MIME))
    }

    /// The skills-extension entries. A skill whose front matter `name` is not its id cannot have
    /// a valid entry (the URI must end in the name) and is served as a resource only.
    pub fn skills(&self) -> Vec<SkillEntry> {
        self.0.iter().filter_map(entry).collect()
    }

    pub fn skill(&self, uri: &str) -> Option<SkillEntry> {
        self.find(uri).and_then(entry)
    }

    fn find(&self, uri: &str) -> Option<&Document> {
        self.0.iter().find(|d| d.uri == uri)
    }
}

fn entry(d: &Document) -> Option<SkillEntry> {
    let field = |key: &str| d.front_matter.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let name = field("name").filter(|n| *n == d.id)?;
    let mut front = SkillFrontmatter::new(name, field("description").unwrap_or_else(|| d.description.clone()));
    for (key, value) in d.front_matter.iter().filter(|(k, _)| k != "name" && k != "description") {
        front = front.with_field(key.clone(), value.clone());
    }
    let entry = SkillEntry::new(
        d.uri.clone(),
        front,
        SkillResources::Files(vec![SkillResource::from_bytes(d.uri.clone(), d.text.as_bytes())]),
    );
    match entry.validate() {
        Ok(()) => Some(entry),
        Err(e) => {
            tracing::warn!(skill = %d.id, error = %e, "not listed through the skills extension");
            None
        }
    }
}

/// The `key: value` lines of a `---` front matter block (the registry has checked its shape).
fn front_matter(text: &str) -> Vec<(String, String)> {
    let Some(body) = text.strip_prefix("---\n") else { return Vec::new() };
    let Some(end) = body.find("\n---") else { return Vec::new() };
    body[..end]
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '#']))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_fields_are_read_in_order() {
        let text = "---\nname: db\ndescription: \"Sets up: the DB\"\nlicense: MIT\n---\n# Body\n";
        assert_eq!(
            front_matter(text),
            vec![
                ("name".into(), "db".into()),
                ("description".into(), "Sets up: the DB".into()),
                ("license".into(), "MIT".into())
            ]
        );
    }

    #[test]
    fn every_embedded_skill_is_a_valid_extension_entry() {
        let docs = Documents::new(&crate::skills::embedded().unwrap()).unwrap();
        let skills = docs.skills();
        assert_eq!(skills.len(), docs.0.len());
        let db = docs.skill("skill://database-setup/SKILL.md").unwrap();
        assert_eq!(db.name(), "database-setup");
        assert!(docs.read("skill://database-setup/SKILL.md").is_some());
        assert!(docs.read("skill://nope/SKILL.md").is_none());
    }
}
