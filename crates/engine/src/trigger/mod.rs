//! Trigger matching: maps a request in Korean or English to the skills it asks for. Defines
//! [`Lang`], [`detect_lang`], [`Words`] (what a skill's manifest entry says it is about),
//! [`SkillTriggers`], [`TriggerMatch`] with its [`Why`], [`Ranking`], [`rank`] and
//! [`TriggerIndex`] (the same ranking, prepared once for a skill set).
//!
//! Nothing here knows any particular skill. Evidence comes from two places:
//! - the skill's trigger phrases, matched with Korean spacing, particles and endings and English
//!   inflections (`phrase`): the strongest evidence;
//! - its words (`meaning`): the objects it acts on (database, 디비, alembic), the intents it serves
//!   (its own, and shared groups such as `@setup`: set up, configure, 연동, 붙여...) and words that
//!   exclude it, against the shared vocabulary of the engine's lexicon (`lexicon`: grammar,
//!   and intent groups such as delete / back up / show / what is that veto every skill not
//!   serving them).
//!
//! The text is read once (`text`), its terms found once (`terms`); each skill named by a phrase
//! or an object is then weighed. A skill scores 0..=1: at least [`THRESHOLD`] is a match; below,
//! a near miss with a [`Note`] (a topic question, or only part of a request).

mod lexicon;
mod meaning;
mod phrase;
mod terms;
#[cfg(test)]
mod tests;
mod text;
mod typos;

use serde::{Deserialize, Serialize};

pub use meaning::THRESHOLD;
use meaning::{Class, Unit, Verdict};
use terms::{Role, Terms};
use text::Prepared;

/// Two matches this close in score are both candidates: neither is picked for the user.
pub const CLOSE: f64 = 0.05;

pub use crate::messages::Lang;

/// `Ko` if the text contains any Hangul syllable or jamo, else `En`.
pub fn detect_lang(text: &str) -> Lang {
    if text.chars().any(text::is_hangul) { Lang::Ko } else { Lang::En }
}

/// What a skill is about, as its manifest entry declares it (`words`). Each entry is a word or
/// a few words, in either language; `intents` may name shared groups of the lexicon (`@setup`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Words {
    /// What the skill acts on (database, DB, 디비, alembic, ...).
    #[serde(default)]
    pub objects: Vec<String>,
    /// What it does: its own verbs and `@group`s; when absent, the lexicon's default groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intents: Option<Vec<String>>,
    /// Neutral words that make it likelier (FastAPI, 비동기).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub context: Vec<String>,
    /// Words that mean the request is about something else (Django, 테이블, docker).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

impl Words {
    pub fn is_empty(&self) -> bool {
        *self == Words::default()
    }

    /// Every `@group` must be a group of the lexicon that serves or excludes.
    pub fn check(&self) -> Result<(), String> {
        let lex = lexicon::lexicon();
        for name in self.intents.iter().flatten().filter_map(|w| w.strip_prefix('@')) {
            let ok = lex
                .group(name)
                .is_some_and(|g| matches!(lex.groups[g].role, lexicon::GroupRole::Serve | lexicon::GroupRole::Exclude));
            if !ok {
                let known: Vec<String> = lex
                    .groups
                    .iter()
                    .filter(|g| matches!(g.role, lexicon::GroupRole::Serve | lexicon::GroupRole::Exclude))
                    .map(|g| format!("@{}", g.name))
                    .collect();
                return Err(format!("unknown intent group `@{name}` (known: {})", known.join(", ")));
            }
        }
        Ok(())
    }

    /// The shared groups served, one bit each.
    fn served(&self) -> u64 {
        let lex = lexicon::lexicon();
        match &self.intents {
            None => lex.default_serve.iter().fold(0, |m, g| m | 1 << g),
            Some(list) => list.iter().filter_map(|w| lex.group(w.strip_prefix('@')?)).fold(0, |m, g| m | 1 << g),
        }
    }
}

/// One skill's triggers, as given by the manifest.
pub struct SkillTriggers<'a> {
    pub skill: &'a str,
    pub phrases: Vec<&'a str>,
    pub words: &'a Words,
}

/// Why a skill was found: the words of the request that name it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Why {
    /// Objects found, as written in the request (normalized: "db", "데이터베이스").
    pub objects: Vec<String>,
    /// Serving intents found, as written ("set up", "연동").
    pub intents: Vec<String>,
    /// Words read as another one: "databse → database".
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub typos: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<Note>,
}

/// Why a near miss is not a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Note {
    /// A question about the skill's topic ("what is alembic?"), not a request to run it.
    Question,
    /// Only part of a request: an object without a serving intent near it.
    Partial,
}

/// A skill found for a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerMatch {
    pub skill: String,
    /// The trigger phrase that matched, as the manifest spells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<String>,
    /// Language of the request.
    pub lang: Lang,
    pub score: f64,
    pub why: Why,
}

/// What a request asks for: the skills it matches (best first) and the near misses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ranking {
    pub lang: Lang,
    pub matches: Vec<TriggerMatch>,
    pub near_misses: Vec<TriggerMatch>,
}

impl Ranking {
    /// The two best matches are too close to pick one.
    pub fn ambiguous(&self) -> bool {
        matches!(&self.matches[..], [a, b, ..] if a.score - b.score <= CLOSE)
    }
}

/// Ranks `skills` for `text`. To rank many texts against the same skills, build a
/// [`TriggerIndex`] once instead.
pub fn rank(text: &str, skills: &[SkillTriggers<'_>]) -> Ranking {
    TriggerIndex::new(skills).rank(text)
}

/// Near misses kept, at most.
const NEAR_MISSES: usize = 3;

/// A skill set's phrases and words, prepared once (split, canonicalized, indexed), so that
/// ranking a text costs what the text holds, not the number of skills: only the skills named by
/// a phrase or an object of the text are weighed.
pub struct TriggerIndex {
    skills: Vec<(String, u64)>,
    phrases: phrase::PhraseIndex,
    terms: Terms,
}

impl TriggerIndex {
    pub fn new(skills: &[SkillTriggers<'_>]) -> Self {
        let mut terms = Terms::with_lexicon();
        for (i, sk) in skills.iter().enumerate() {
            let i = i as u32;
            let w = sk.words;
            for o in &w.objects {
                terms.add_use(o, i, Role::Object);
            }
            for intent in w.intents.iter().flatten().filter(|w| !w.starts_with('@')) {
                terms.add_use(intent, i, Role::Intent(lexicon::Strength::Strong));
            }
            for c in &w.context {
                terms.add_use(c, i, Role::Context);
            }
            for x in &w.exclude {
                terms.add_use(x, i, Role::Exclude);
            }
        }
        let phrases = phrase::PhraseIndex::new(skills.iter().map(|s| &s.phrases[..]));
        // A one-word phrase ("alembic") is the whole request alone, and an object inside one.
        for (skill, text) in phrases.single_words() {
            terms.add_use(text, skill, Role::Object);
        }
        TriggerIndex { skills: skills.iter().map(|s| (s.skill.to_owned(), s.words.served())).collect(), phrases, terms }
    }

    /// Ranks the skills for `text`.
    pub fn rank(&self, text: &str) -> Ranking {
        let lang = detect_lang(text);
        let prepared = Prepared::new(text);
        let occs = self.terms.find(&prepared);
        let units = meaning::units(&prepared, &occs);
        let opener = meaning::opener(&prepared);
        let hits = self.phrases.hits(&prepared);
        let mut candidates: Vec<u32> = hits.iter().map(|h| h.skill).collect();
        for u in &units {
            if let Unit::Term { term, .. } = u {
                candidates.extend(self.terms.terms[*term as usize].object_of());
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let (mut matches, mut near_misses) = (Vec::new(), Vec::new());
        for skill in candidates {
            let hit = hits.iter().find(|h| h.skill == skill && (h.whole || !h.single));
            // An excluded word that the matched phrase itself holds does not exclude.
            let exempt: Vec<u32> = match hit {
                Some(h) => {
                    self.terms.find(&Prepared::new(self.phrases.text(h.phrase))).iter().map(|o| o.term).collect()
                }
                None => Vec::new(),
            };
            let classes = meaning::classify(&self.terms, &units, skill, self.skills[skill as usize].1, &exempt);
            let (score, note) = match meaning::evaluate(&units, &classes, opener, hit.map(phrase::Hit::calibrated)) {
                Verdict::None => continue,
                Verdict::Question => (0.3, Some(Note::Question)),
                Verdict::Partial(s) => (s, Some(Note::Partial)),
                Verdict::Match(s) => (s, None),
            };
            let m = TriggerMatch {
                skill: self.skills[skill as usize].0.clone(),
                trigger: hit.map(|h| self.phrases.text(h.phrase).to_owned()),
                lang,
                score,
                why: self.why(&units, &classes, note),
            };
            if note.is_none() { matches.push(m) } else { near_misses.push(m) }
        }
        let order =
            |a: &TriggerMatch, b: &TriggerMatch| b.score.total_cmp(&a.score).then_with(|| a.skill.cmp(&b.skill));
        matches.sort_by(order);
        near_misses.sort_by(order);
        near_misses.truncate(NEAR_MISSES);
        Ranking { lang, matches, near_misses }
    }

    fn why(&self, units: &[Unit], classes: &[Class], note: Option<Note>) -> Why {
        let mut why = Why { note, ..Why::default() };
        for (u, c) in units.iter().zip(classes) {
            let Unit::Term { term, typo, words } = u else { continue };
            let list = match c {
                Class::Role(Role::Object) => &mut why.objects,
                Class::Role(Role::Intent(_)) => &mut why.intents,
                _ => continue,
            };
            if !list.contains(words) {
                list.push(words.clone());
            }
            if let Some(typed) = typo {
                why.typos.push(format!("{typed} → {}", self.terms.terms[*term as usize].text));
            }
        }
        why
    }
}
