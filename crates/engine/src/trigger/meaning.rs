//! Matching by meaning: whether a text asks a skill to run. The text is read once into units
//! (terms found, known words, unknown words; see [`units`]); for each candidate skill every unit
//! gets a class from the skill's words and the shared groups ([`Class`]), and [`evaluate`] weighs
//! them:
//!
//! - an excluded word (delete, back up, show, ..., or one of the skill's own `exclude` words)
//!   anywhere: the skill is out, not even a near miss;
//! - a question about a topic ("explain alembic", "alembic이 뭐야?", an English question opener
//!   such as "is" / "does" / "should": "is the database set up?"; "what is", "tell me", "알려줘"
//!   unless a strong serving word is there: "tell me how to set up alembic" is a request): a near
//!   miss with a `question` note, never a match;
//! - an object and a serving intent close together: a match. Score 0.82 (strong intent: set up,
//!   연동), 0.74 (medium: use, 추가), 0.66 (weak: please, 부탁), minus 0.07 for each unknown word
//!   between them (at most two; for "set up X Y" the word after the object counts too, as it may be
//!   what is really set up; in "X Y 설정" or "X Y setup" an unknown Y right before the intent is
//!   what is set up, so that pair does not count), minus 0.02 a typo; +0.03 with two objects, +0.02 with a context word,
//!   minus 0.01 for each unknown word past three in the whole text; at most 0.85;
//! - a trigger phrase of the skill: 1.0 as the whole text, else 0.86..0.99 (its raw phrase score
//!   rescaled), so the manifest's phrases always rank above matches by meaning;
//! - only an object (or an intent too far from it): a near miss (`partial`).

use super::lexicon::{Strength, lexicon};
use super::terms::{Occurrence, Role, Terms, group_role};
use super::text::{Item, Prepared, splits_into_particles};

/// Score from which a skill matches.
pub const THRESHOLD: f64 = 0.5;

/// One piece of a text: a term, a known word (determiner, number, Korean ending or particle) or
/// an unknown word.
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    /// `words`: the text's words it covers, normalized ("db", "설정").
    Term {
        term: u32,
        typo: Option<String>,
        words: String,
    },
    Known,
    /// `adverb`: it looks like one ("quickly", "깔끔하게").
    Unknown {
        latin: bool,
        adverb: bool,
    },
}

/// The units of a text, in order.
pub fn units(text: &Prepared, occs: &[Occurrence]) -> Vec<Unit> {
    let its = &text.items;
    let mut out = Vec::new();
    let (mut p, mut k) = (0, 0);
    while p < its.len() {
        if let Some(occ) = occs.get(k).filter(|o| o.start == p) {
            let words = its[occ.start..occ.end]
                .iter()
                .enumerate()
                .map(|(k, it)| match it {
                    Item::Latin(l) if k == 0 => l.raw.clone(),
                    Item::Latin(l) => format!(" {}", l.raw),
                    Item::Syl(_) if k > 0 && text.starts_chunk(occ.start + k) => {
                        format!(" {}", text.written[occ.start + k])
                    }
                    Item::Syl(_) => text.written[occ.start + k].to_string(),
                })
                .collect();
            out.push(Unit::Term { term: occ.term, typo: occ.typo.clone(), words });
            p = occ.end;
            k += 1;
            continue;
        }
        let next = occs.get(k).map_or(its.len(), |o| o.start);
        match &its[p] {
            Item::Latin(l) => {
                let known = l.det || l.raw.chars().count() == 1 || l.raw.chars().all(|c| c.is_ascii_digit());
                let adverb = lexicon().is_adverb(&l.raw);
                out.push(if known { Unit::Known } else { Unit::Unknown { latin: true, adverb } });
                p += 1;
            }
            Item::Syl(_) => {
                let mut q = p;
                let mut run = String::new();
                while q < next && text.chunks[q] == text.chunks[p] {
                    let Item::Syl(c) = its[q] else { break };
                    run.push(c);
                    q += 1;
                }
                // Syllables glued to a word before them are its ending or particle ("DB를").
                let known = !text.starts_chunk(p) || splits_into_particles(&run);
                let adverb = lexicon().is_adverb(&run);
                out.push(if known { Unit::Known } else { Unit::Unknown { latin: false, adverb } });
                p = q;
            }
        }
    }
    out
}

/// How an English text opens: with a polite request ("can you ...") or a question ("is ...").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opener {
    None,
    Request,
    Question,
}

pub fn opener(text: &Prepared) -> Opener {
    let lex = lexicon();
    let raws: Vec<&str> = text
        .items
        .iter()
        .map_while(|it| match it {
            Item::Latin(l) => Some(l.raw.as_str()),
            Item::Syl(_) => None,
        })
        .skip_while(|w| lex.leading.iter().any(|l| l == w))
        .take(4)
        .collect();
    let starts = |phrase: &str| {
        let ws: Vec<&str> = phrase.split(' ').collect();
        raws.len() >= ws.len() && raws[..ws.len()] == ws[..]
    };
    if lex.request_openers.iter().any(|o| starts(o)) {
        Opener::Request
    } else if raws.first().is_some_and(|w| lex.question_openers.iter().any(|q| q == w)) {
        Opener::Question
    } else {
        Opener::None
    }
}

/// A unit as one skill reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    Role(Role),
    Unknown,
}

/// Classes of `units` for skill `skill` serving the shared groups in `served` (a bit a group);
/// terms in `exempt` (words of the skill's matched phrase) are never excluded.
pub fn classify(terms: &Terms, units: &[Unit], skill: u32, served: u64, exempt: &[u32]) -> Vec<Class> {
    let rank = |r: &Role| match r {
        Role::Object => 0,
        Role::Intent(_) => 1,
        Role::Context => 2,
        _ => 3,
    };
    units
        .iter()
        .map(|u| match u {
            Unit::Known => Class::Role(Role::Filler),
            Unit::Unknown { .. } => Class::Unknown,
            Unit::Term { term, typo, .. } => {
                let t = &terms.terms[*term as usize];
                let own = t.roles_for(skill).min_by_key(rank);
                let role = own.or_else(|| t.group.and_then(|g| group_role(g, served & (1 << g) != 0)));
                // A word read as a mistyped one only ever asks for a skill.
                let role = role.filter(|r| typo.is_none() || matches!(r, Role::Object | Role::Intent(_)));
                match role {
                    Some(Role::Exclude) if exempt.contains(term) => Class::Role(Role::Filler),
                    Some(r) => Class::Role(r),
                    None => Class::Unknown,
                }
            }
        })
        .collect()
}

/// What one skill makes of a text.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Not about the skill, or excluded.
    None,
    /// A question about the skill's topic.
    Question,
    /// Close but not enough: the best score found by meaning (below the threshold).
    Partial(f64),
    /// A request for the skill, by meaning, with its score.
    Match(f64),
}

/// Weighs the classes of a text's units for one skill (see the module documentation); `phrase`
/// is the skill's best phrase score, already rescaled.
pub fn evaluate(units: &[Unit], classes: &[Class], opener: Opener, phrase: Option<f64>) -> Verdict {
    let has = |r: Role| classes.contains(&Class::Role(r));
    if has(Role::Exclude) {
        return Verdict::None;
    }
    let objects: Vec<usize> = (0..classes.len()).filter(|&i| classes[i] == Class::Role(Role::Object)).collect();
    if objects.is_empty() && phrase.is_none() {
        return Verdict::None;
    }
    let intents: Vec<(usize, Strength)> = classes
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Class::Role(Role::Intent(s)) => Some((i, *s)),
            _ => None,
        })
        .collect();
    let strongest = intents.iter().map(|(_, s)| *s).max();
    let ask = has(Role::Ask);
    if has(Role::Question) || opener == Opener::Question || ask && strongest != Some(Strength::Strong) {
        return Verdict::Question;
    }
    let typo = |i: usize| matches!(&units[i], Unit::Term { typo: Some(_), .. });
    let mut best: Option<f64> = None;
    for &(i, strength) in &intents {
        for &o in &objects {
            let (lo, hi) = (i.min(o), i.max(o));
            if hi - lo > 8 {
                continue;
            }
            // The word a verb acts on stands next to it: "set up X <unknown>", "X <unknown> 설정"
            // are about the unknown thing (postgres replication, DB 이중화).
            if o < i && i > o + 1 && matches!(units[i - 1], Unit::Unknown { adverb: false, .. }) {
                continue;
            }
            let head = i < o && matches!(units.get(o + 1), Some(Unit::Unknown { latin: true, .. }));
            let unknown = classes[lo + 1..hi].iter().filter(|c| **c == Class::Unknown).count() + usize::from(head);
            if unknown > 2 {
                continue;
            }
            let base = match strength {
                Strength::Strong => 0.82,
                Strength::Medium => 0.74,
                Strength::Weak => 0.66,
            };
            let s = base - 0.07 * unknown as f64 - 0.02 * (usize::from(typo(i)) + usize::from(typo(o))) as f64;
            best = Some(best.map_or(s, |b: f64| b.max(s)));
        }
    }
    let penalty = if ask { 0.05 } else { 0.0 };
    let meaning = best.map(|b| {
        let mut distinct: Vec<u32> = objects
            .iter()
            .filter_map(|&o| match &units[o] {
                Unit::Term { term, .. } => Some(*term),
                _ => None,
            })
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        let unknown = classes.iter().filter(|c| **c == Class::Unknown).count();
        let s = b + if distinct.len() > 1 { 0.03 } else { 0.0 } + if has(Role::Context) { 0.02 } else { 0.0 }
            - 0.01 * unknown.saturating_sub(3).min(6) as f64;
        s.min(0.85)
    });
    let score = match (phrase, meaning) {
        (Some(p), m) => p.max(m.unwrap_or(0.0)),
        (None, Some(m)) => m,
        (None, None) => return Verdict::Partial(if intents.is_empty() { 0.35 } else { 0.4 }),
    } - penalty;
    let score = (score * 10_000.0).round() / 10_000.0;
    if score >= THRESHOLD { Verdict::Match(score) } else { Verdict::Partial(score.max(0.35)) }
}
