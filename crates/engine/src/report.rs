//! The report of a run: what the CLI prints (`--json` or a readable summary) and what an MCP
//! tool call returns as `structuredContent`. Built from a plan; every string redacted
//! ([`crate::secret::redact`]) before it leaves the engine.

use serde::Serialize;

use crate::input::FieldError;
use crate::plan::{FileAction, Plan, PlannedCommand};
use crate::trigger::Lang;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Applied,
    DryRun,
    Conflict,
    Invalid,
    Error,
}

/// One file in the report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    pub path: String,
    pub action: FileAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backup: Option<String>,
    /// For a conflict: a unified diff from the file on disk to what the skill would write
    /// (never for a file that holds secrets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

/// The result of one run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub skill: String,
    pub version: String,
    pub status: Status,
    pub lang: Lang,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    pub files: Vec<FileReport>,
    pub commands: Vec<String>,
    pub steps: Vec<PlannedCommand>,
    pub errors: Vec<FieldError>,
    pub notes: Vec<String>,
    /// Prerequisites that are not met: the skill to run first and what it needs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<crate::requires::Unmet>,
    pub message: String,
}

impl Report {
    pub(crate) fn new(skill: &crate::registry::Skill, status: Status, lang: Lang) -> Self {
        Report {
            skill: skill.entry.id.clone(),
            version: skill.entry.version.clone(),
            status,
            lang,
            project: None,
            files: Vec::new(),
            commands: Vec::new(),
            steps: Vec::new(),
            errors: Vec::new(),
            notes: Vec::new(),
            requires: Vec::new(),
            message: String::new(),
        }
    }

    /// A report of input that cannot be used: nothing was planned or written.
    pub(crate) fn invalid(skill: &crate::registry::Skill, lang: Lang, errors: Vec<FieldError>) -> Self {
        let mut report = Report::new(skill, Status::Invalid, lang);
        report.errors = errors;
        report.message = message(&report);
        report
    }

    /// A report of prerequisites that are not met: nothing was planned or written.
    pub(crate) fn unmet(skill: &crate::registry::Skill, lang: Lang, unmet: Vec<crate::requires::Unmet>) -> Self {
        let errors = unmet
            .iter()
            .map(|u| FieldError {
                field: String::new(),
                message: crate::requires::message(skill, u, skill.project_field(), lang),
            })
            .collect();
        let mut report = Report::new(skill, Status::Invalid, lang);
        report.errors = errors;
        report.requires = unmet;
        report.message = report.errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ");
        report
    }

    pub(crate) fn with_plan(mut self, plan: &Plan, backups: &[(String, String)]) -> Self {
        self.project = Some(plan.root.display().to_string());
        self.files = plan
            .files
            .iter()
            .map(|f| FileReport {
                path: f.path.to_string(),
                action: f.action,
                reason: f.reason.clone(),
                backup: backups.iter().find(|(p, _)| p == f.path.as_str()).map(|(_, b)| b.clone()),
                // A conflict always says what differs; a dry run also shows each update.
                diff: (matches!(
                    (f.action, self.status),
                    (FileAction::Conflict, _) | (FileAction::Updated, Status::DryRun)
                ) && !f.secret
                    && f.existing.as_deref() != Some(f.content.as_slice()))
                .then(|| diff(f.existing.as_deref().unwrap_or_default(), &f.content, f.path.as_str())),
            })
            .collect();
        self.commands = plan.commands.iter().map(|c| c.run.clone()).collect();
        self.steps = plan.commands.clone();
        self
    }

    pub fn count(&self, action: FileAction) -> usize {
        self.files.iter().filter(|f| f.action == action).count()
    }

    /// Redacts every string of the report: a diff of a user's file, a path or a message holds
    /// no URL password or secret value where one could stand.
    pub(crate) fn scrub(mut self) -> Self {
        let scrub = |text: &mut String| *text = crate::secret::redact_owned(std::mem::take(text));
        scrub(&mut self.message);
        self.project.iter_mut().for_each(scrub);
        self.notes.iter_mut().chain(&mut self.commands).for_each(scrub);
        self.errors.iter_mut().for_each(|e| scrub(&mut e.message));
        for step in &mut self.steps {
            scrub(&mut step.run);
            step.about.iter_mut().for_each(scrub);
        }
        for file in &mut self.files {
            scrub(&mut file.path);
            file.reason.iter_mut().chain(&mut file.backup).chain(&mut file.diff).for_each(scrub);
        }
        self
    }

    /// A summary for a person at a terminal: aligned file actions, then the next commands.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("{} {}", self.skill, self.version));
        if let Some(project) = &self.project {
            out.push_str(&format!(" -> {project}"));
        }
        out.push('\n');
        for e in &self.errors {
            let field = if e.field.is_empty() { "(input)" } else { e.field.as_str() };
            out.push_str(&format!("  error  {field}: {}\n", e.message));
        }
        let width = self.files.iter().map(|f| f.path.len()).max().unwrap_or(0);
        for f in &self.files {
            let mut line = format!("  {:<9}  {}", f.action.as_str(), f.path);
            if let Some(reason) = f.reason.as_ref().filter(|_| f.action != FileAction::Unchanged) {
                line = format!("  {:<9}  {:<width$}  ({reason})", f.action.as_str(), f.path);
            }
            out.push_str(line.trim_end());
            out.push('\n');
            if let Some(diff) = &f.diff {
                for l in diff.lines() {
                    out.push_str(&format!("      {l}\n"));
                }
            }
        }
        for n in &self.notes {
            out.push_str(&format!("  note  {n}\n"));
        }
        if !self.steps.is_empty() && matches!(self.status, Status::Applied | Status::DryRun) {
            out.push_str(&format!("\n{}:\n", self.lang.say().next_heading()));
            let w = self.steps.iter().map(|c| c.run.len()).max().unwrap_or(0);
            for (i, c) in self.steps.iter().enumerate() {
                match &c.about {
                    Some(about) => out.push_str(&format!("  {}. {:<w$}  # {about}\n", i + 1, c.run)),
                    None => out.push_str(&format!("  {}. {}\n", i + 1, c.run)),
                }
            }
        }
        // A refusal's message is its one error, already shown.
        if !self.errors.iter().any(|e| e.message == self.message) {
            out.push('\n');
            out.push_str(&self.message);
            out.push('\n');
        }
        out
    }
}

fn diff(old: &[u8], new: &[u8], path: &str) -> String {
    let old = String::from_utf8_lossy(old);
    let new = String::from_utf8_lossy(new);
    similar::TextDiff::from_lines(old.as_ref(), new.as_ref())
        .unified_diff()
        .context_radius(2)
        .header(&format!("a/{path} (on disk)"), &format!("b/{path} (generated)"))
        .to_string()
}

/// The short message of a report, in its language.
pub(crate) fn message(report: &Report) -> String {
    let say = report.lang.say();
    let n = |a| report.count(a);
    let (created, updated, unchanged, skipped, conflict) = (
        n(FileAction::Created),
        n(FileAction::Updated),
        n(FileAction::Unchanged),
        n(FileAction::Skipped),
        n(FileAction::Conflict),
    );
    let first_command = report.steps.iter().find(|c| c.next).or(report.steps.first()).map(|c| c.run.as_str());
    match report.status {
        Status::Applied if created + updated == 0 => say.report_nothing_to_do(&report.skill, unchanged),
        Status::Applied => say.report_applied(&report.skill, [created, updated, unchanged, skipped], first_command),
        Status::DryRun => say.report_dry_run([created, updated, unchanged, skipped, conflict]),
        Status::Conflict => {
            let paths: Vec<&str> =
                report.files.iter().filter(|f| f.action == FileAction::Conflict).map(|f| f.path.as_str()).collect();
            say.report_conflict(&report.skill, conflict, &paths.join(", "), crate::state::BACKUPS)
        }
        Status::Invalid => {
            let fields: Vec<&str> = report.errors.iter().map(|e| e.field.as_str()).collect();
            say.report_invalid(&fields.join(", "))
        }
        Status::Error => report.errors.first().map(|e| e.message.clone()).unwrap_or_default(),
    }
}
