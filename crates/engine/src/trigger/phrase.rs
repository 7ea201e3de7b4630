//! Trigger phrases, matched as the manifest spells them, with Korean spacing, particles and
//! endings and English inflections: the evidence that scores highest. Defines [`PhraseIndex`]
//! (every phrase of a skill set, indexed by its rarest word) and [`Hit`].
//!
//! A phrase matches when its words occur in order in the text's items (see `text`): Latin words
//! whole, by canonical form (determiners optional; a phrase word also matches two text words
//! typed apart, "SQL Alchemy", at a small cost); Hangul syllable by syllable with any ending
//! after ("설정해줘"). Between consecutive phrase words the text may hold a small gap: Korean
//! particles/fillers (at most `gapMax` syllables) and determiners; between two Latin words, also
//! one other word right after a determiner ("set up a postgres database"). Anything else in
//! between ("db backup setup") breaks the match.
//!
//! Raw score (0.69..=1): 1.0 when the whole text is the phrase. Otherwise specificity first: each
//! phrase word matched (up to 4) adds 0.07 to 0.62, so "setting up alembic" names "set up
//! alembic" rather than "alembic". Among phrases with as many words, a verbatim hit gets +0.06 and
//! a rule-based one +0.03 minus 0.005 per gap item or glued pair (at most 0.03); then the share of
//! phrase words found literally (+0.006 at most), then length (+0.00015 a letter).

use std::collections::{HashMap, HashSet};

use super::lexicon::lexicon;
use super::text::{Item, Latin, Prepared, Word, is_hangul, spaced, words};

/// One trigger phrase, ready to score.
struct Phrase {
    /// Index of the skill in the index's skill list.
    skill: u32,
    /// As the manifest spells it.
    text: String,
    /// Its words, determiners dropped (never empty).
    words: Vec<Word>,
    /// Normalized and spaced ("set up the database").
    spaced: String,
    /// What the text must contain for the phrase to match: each Latin word's canonical form and
    /// each Hangul syllable.
    keys: Vec<String>,
}

/// A phrase found in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub skill: u32,
    /// Index of the phrase (see [`PhraseIndex::text`]).
    pub phrase: u32,
    /// Raw score (see the module documentation).
    pub score: f64,
    /// The phrase is the whole text.
    pub whole: bool,
    /// The phrase has a single word ("alembic"): alone it is the whole request, inside a longer
    /// text only a word of it.
    pub single: bool,
}

impl Hit {
    /// The score on the matcher's common scale: 1.0 for the whole text, else the raw score
    /// (0.69..1) mapped onto 0.86..0.99, above any match by meaning.
    pub fn calibrated(&self) -> f64 {
        if self.whole { 1.0 } else { (0.86 + (self.score - 0.69).max(0.0) / 0.31 * 0.13).min(0.99) }
    }
}

/// The trigger phrases of a skill set, prepared once: ranking a text costs what the text holds,
/// not the number of skills, since a phrase is scored only when every one of its words occurs in
/// the text, and it is found through the rarest of its words.
pub struct PhraseIndex {
    phrases: Vec<Phrase>,
    by_key: HashMap<String, Vec<u32>>,
}

impl PhraseIndex {
    /// `skills[i]` holds the phrases of skill `i`.
    pub fn new<'a>(skills: impl Iterator<Item = &'a [&'a str]>) -> Self {
        let texts: Vec<(u32, &str)> =
            skills.enumerate().flat_map(|(i, texts)| texts.iter().map(move |t| (i as u32, *t))).collect();
        // Each phrase is read on its own: on all cores for a large set, in order.
        let phrases: Vec<Phrase> = par_chunks(&texts, |&(skill, text)| {
            let words: Vec<Word> = words(text).into_iter().filter(|w| !matches!(w, Word::Latin(l) if l.det)).collect();
            if words.is_empty() {
                return None; // only determiners: never matches
            }
            let mut keys: Vec<String> = Vec::new();
            for w in &words {
                match w {
                    Word::Latin(l) => keys.push(l.canon.clone()),
                    Word::Hangul(h) => keys.extend(h.chars().map(String::from)),
                }
            }
            keys.sort();
            keys.dedup();
            Some(Phrase { skill, text: text.to_owned(), words, spaced: spaced(text), keys })
        });
        let mut count: HashMap<&str, usize> = HashMap::new();
        for p in &phrases {
            for k in &p.keys {
                *count.entry(k).or_default() += 1;
            }
        }
        let mut by_key: HashMap<String, Vec<u32>> = HashMap::new();
        for (id, p) in phrases.iter().enumerate() {
            let rarest = p.keys.iter().min_by_key(|k| count[k.as_str()]).expect("a phrase has a word");
            by_key.entry(rarest.clone()).or_default().push(id as u32);
        }
        PhraseIndex { phrases, by_key }
    }

    /// (skill, phrase) of every one-word phrase, in skill order.
    pub fn single_words(&self) -> impl Iterator<Item = (u32, &str)> {
        self.phrases.iter().filter(|p| p.words.len() == 1).map(|p| (p.skill, p.text.as_str()))
    }

    /// The phrase as the manifest spells it.
    pub fn text(&self, phrase: u32) -> &str {
        &self.phrases[phrase as usize].text
    }

    /// Each skill's best phrase in the text, in skill order; the first of equal phrases wins.
    pub fn hits(&self, text: &Prepared) -> Vec<Hit> {
        if text.spaced.is_empty() {
            return Vec::new();
        }
        let keys = text_keys(&text.items);
        let mut candidates: Vec<u32> =
            keys.iter().filter_map(|k| self.by_key.get(k.as_str())).flatten().copied().collect();
        candidates.sort_unstable();
        candidates.dedup();
        let mut best: Vec<Hit> = Vec::new();
        for id in candidates {
            let p = &self.phrases[id as usize];
            if !p.keys.iter().all(|k| keys.contains(k.as_str())) {
                continue;
            }
            let Some(score) = score(&text.spaced, &text.items, p) else { continue };
            let hit = Hit { skill: p.skill, phrase: id, score, whole: score == 1.0, single: p.words.len() == 1 };
            match best.last_mut() {
                Some(b) if b.skill == p.skill => {
                    if score > b.score {
                        *b = hit;
                    }
                }
                _ => best.push(hit),
            }
        }
        best
    }
}

/// The keys a text offers (see [`Phrase::keys`]): its Latin words' canonical forms, the stems of
/// two Latin words typed apart ("sql alchemy"), and its Hangul syllables.
fn text_keys(items: &[Item]) -> HashSet<String> {
    let mut keys = HashSet::new();
    for (i, it) in items.iter().enumerate() {
        match it {
            Item::Syl(c) => {
                keys.insert(c.to_string());
            }
            Item::Latin(_) => {
                if let Some(a) = it.word() {
                    keys.insert(a.canon.clone());
                    keys.extend(joined(items.get(i..i + 2).unwrap_or_default()));
                }
            }
        }
    }
    keys
}

/// Two Latin words typed apart, read as one ("sql alchemy" -> "sqlalchemy"); not single letters
/// ("I'd" is not "id").
pub fn joined(pair: &[Item]) -> Option<String> {
    let [a, b] = pair else { return None };
    let (a, b) = (a.word()?, b.word()?);
    (a.raw.chars().count() > 1 && b.raw.chars().count() > 1)
        .then(|| super::text::canonical(lexicon(), &format!("{}{}", a.raw, b.raw)))
}

/// Cost of `gap` (text items between two phrase words), or `None` when it may not be skipped:
/// Korean particles/fillers (1 a syllable), determiners (1 each) and, between two Latin phrase
/// words, one other word right after a determiner ("set up a postgres database"; cost 4).
fn gap_cost(gap: &[Item], latin_pair: bool) -> Option<usize> {
    let lex = lexicon();
    let (mut syls, mut dets, mut others, mut run) = (0, 0, 0, String::new());
    let mut after_det = false;
    let end = Item::Latin(Latin { raw: String::new(), canon: String::new(), det: true });
    for it in gap.iter().chain(std::iter::once(&end)) {
        match it {
            Item::Syl(c) => {
                run.push(*c);
                syls += 1;
                after_det = false;
            }
            Item::Latin(w) => {
                if !run.is_empty() && !super::text::splits_into_particles(&run) {
                    return None;
                }
                run.clear();
                if w.det {
                    dets += usize::from(!w.raw.is_empty());
                } else if latin_pair && after_det {
                    others += 1;
                } else {
                    return None;
                }
                after_det = w.det;
            }
        }
    }
    (syls <= lex.ko_gap_max() && dets <= lex.en_gap_max() && others <= 1).then_some(syls + dets + 4 * others)
}

/// Matches phrase word `j` at item `p`; returns the smallest total cost (gaps, glued words)
/// of matching the rest.
fn match_from(items: &[Item], tw: &[Word], j: usize, p: usize) -> Option<usize> {
    let (end, glued) = match &tw[j] {
        Word::Latin(w) => match items.get(p).and_then(Item::word) {
            Some(a) if a.canon == w.canon => (p + 1, 0),
            Some(_) if joined(items.get(p..p + 2).unwrap_or_default()).is_some_and(|j| j == w.canon) => (p + 2, 1),
            _ => return None,
        },
        Word::Hangul(w) => {
            let mut q = p;
            for c in w.chars() {
                match items.get(q) {
                    Some(Item::Syl(t)) if *t == c => q += 1,
                    _ => return None,
                }
            }
            (q, 0)
        }
    };
    if j + 1 == tw.len() {
        return Some(glued);
    }
    let lex = lexicon();
    let latin_pair = matches!((&tw[j], &tw[j + 1]), (Word::Latin(..), Word::Latin(..)));
    let last = (end + lex.ko_gap_max() + lex.en_gap_max() + 1).min(items.len());
    (end..=last)
        .filter_map(|q| Some((q, gap_cost(&items[end..q], latin_pair)?)))
        .filter_map(|(q, g)| match_from(items, tw, j + 1, q).map(|c| c + g + glued))
        .min()
}

/// Whether `needle` occurs in `hay` with no Latin-script letter/digit glued to its Latin ends.
fn contains_bounded(hay: &str, needle: &str) -> bool {
    let latin = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() && !is_hangul(c));
    let first = needle.chars().next();
    let last = needle.chars().next_back();
    hay.match_indices(needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !(latin(first) && latin(before) || latin(last) && latin(after))
    })
}

/// Raw score of one phrase against the prepared text, or `None` when it does not match.
fn score(spaced_text: &str, items: &[Item], phrase: &Phrase) -> Option<f64> {
    let tw = &phrase.words;
    let gap = (0..items.len()).filter_map(|p| match_from(items, tw, 0, p)).min()?;
    let trig = &phrase.spaced;
    let letters = trig.chars().filter(|c| *c != ' ').count().min(20) as f64;
    let literal =
        trig.split(' ').filter(|w| contains_bounded(spaced_text, w)).count() as f64 / trig.split(' ').count() as f64;
    let specificity = 0.62 + 0.07 * tw.len().min(4) as f64 + 0.006 * literal + 0.00015 * letters;
    let s = if spaced_text == trig {
        1.0
    } else if contains_bounded(spaced_text, trig) {
        specificity + 0.06
    } else {
        specificity + 0.03 - (0.005 * gap as f64).min(0.03)
    };
    Some((s * 10_000.0).round() / 10_000.0)
}

/// `f` over `items`, the `Some`s kept in order; on the machine's cores (at most 8) when there are
/// enough items to be worth a thread.
fn par_chunks<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> Option<R> + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if threads < 2 || items.len() < 1024 {
        return items.iter().filter_map(f).collect();
    }
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(items.len().div_ceil(threads))
            .map(|chunk| scope.spawn(move || chunk.iter().filter_map(f).collect::<Vec<R>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a phrase thread does not panic")).collect()
    })
}
