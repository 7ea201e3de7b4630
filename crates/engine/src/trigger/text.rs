//! How a text (a request, a trigger phrase, a skill's word) is read before matching: Unicode
//! NFKC, lowercase and Hangul vowel folds; URLs read as their scheme and paths dropped; words
//! split at anything not alphanumeric and at a change between Hangul and other scripts;
//! Latin-script words canonicalized (abbreviation, stem, "X up" joined); Hangul flattened into
//! syllables, each remembering the source word (chunk) it came from. Defines [`Latin`], [`Word`],
//! [`Item`], [`Prepared`] and the functions that make them.

use unicode_normalization::UnicodeNormalization;

use super::lexicon::{Lexicon, lexicon};

pub fn is_hangul(c: char) -> bool {
    matches!(c as u32,
        0xAC00..=0xD7A3 | 0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xD7B0..=0xD7FF
        | 0xFFA0..=0xFFDC)
}

/// A non-Hangul word: as typed (lowercased), canonical (abbreviation, stem, "X up"), determiner?
#[derive(Debug, Clone, PartialEq)]
pub struct Latin {
    pub raw: String,
    pub canon: String,
    pub det: bool,
}

/// A word of a text or trigger.
#[derive(Debug, Clone, PartialEq)]
pub enum Word {
    Latin(Latin),
    Hangul(String),
}

/// What words are matched against: Latin words, and Hangul with its spaces dropped.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Latin(Latin),
    Syl(char),
}

impl Item {
    /// The item as a Latin word that is not a determiner.
    pub fn word(&self) -> Option<&Latin> {
        match self {
            Item::Latin(l) if !l.det => Some(l),
            _ => None,
        }
    }
}

/// A text read once for every skill: its spaced form (for verbatim checks), its items, for
/// each item the source word it came from, and each Hangul item as written (before vowel folds).
pub struct Prepared {
    pub spaced: String,
    pub items: Vec<Item>,
    pub chunks: Vec<u32>,
    pub written: Vec<char>,
}

impl Prepared {
    pub fn new(text: &str) -> Self {
        let text = without_locations(text);
        let words = words_in_chunks(&text);
        let (items, chunks) = flatten(&words);
        let written = words
            .iter()
            .flat_map(|(w, _, written)| match w {
                Word::Latin(_) => vec!['\0'],
                Word::Hangul(_) => written.chars().collect(),
            })
            .collect();
        Prepared { spaced: spaced(&text), items, chunks, written }
    }

    /// Whether item `p` starts a source word.
    pub fn starts_chunk(&self, p: usize) -> bool {
        p == 0 || self.chunks[p - 1] != self.chunks[p]
    }
}

/// URLs become their scheme's words ("postgresql+asyncpg://..." -> "postgresql asyncpg"; a
/// wrapper prefix such as `jdbc:` is part of the URL and dropped), and paths and `key=value`
/// pairs are dropped: they name where, not what.
fn without_locations(text: &str) -> std::borrow::Cow<'_, str> {
    static LOCATION: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"(?:[A-Za-z][A-Za-z0-9+.-]*:)*([A-Za-z][A-Za-z0-9+.-]*)://\S*|(?:^|\s)(?:\.{1,2}/|~/|/)\S*|[A-Za-z_][A-Za-z0-9_-]*=\S*"#)
            .expect("valid regex")
    });
    LOCATION.replace_all(text, |c: &regex::Captures<'_>| match c.get(1) {
        Some(scheme) => format!(" {} ", scheme.as_str().replace(['+', '.', '-'], " ")),
        None => " ".to_owned(),
    })
}

/// NFKC, lowercase, Hangul vowels folded.
pub fn normalize(s: &str) -> String {
    let lex = lexicon();
    unfolded(s).chars().map(|c| lex.fold(c)).collect()
}

/// A precomposed Hangul syllable: its own NFKC form, caseless, alphabetic.
fn is_syllable(c: char) -> bool {
    matches!(c as u32, 0xAC00..=0xD7A3)
}

/// `c.is_alphanumeric()`, answered without the Unicode tables for ASCII and Hangul syllables
/// (most of what triggers and requests hold).
fn is_alnum(c: char) -> bool {
    if c.is_ascii() { c.is_ascii_alphanumeric() } else { is_syllable(c) || c.is_alphanumeric() }
}

/// NFKC, lowercase.
fn unfolded(s: &str) -> String {
    // Fast paths give the same result: ASCII and Hangul syllables are their own NFKC form, and
    // a syllable has no case, so only the ASCII letters change.
    if s.chars().all(|c| c.is_ascii() || is_syllable(c)) {
        return s.to_ascii_lowercase();
    }
    match unicode_normalization::is_nfkc_quick(s.chars()) {
        unicode_normalization::IsNormalized::Yes => s.to_lowercase(),
        _ => s.nfkc().collect::<String>().to_lowercase(),
    }
}

/// Normalized text with every run of non-alphanumerics turned into one space.
pub fn spaced(s: &str) -> String {
    let n = normalize(s);
    let mapped: String = n.chars().map(|c| if is_alnum(c) { c } else { ' ' }).collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical form of a lowercase Latin word: spelled out, then stemmed (an abbreviation of
/// the stem is spelled out too: "configs" -> "config" -> "configure").
pub fn canonical(lex: &Lexicon, w: &str) -> String {
    let full = lex.expand(w);
    let stem = lex.stem(full);
    match lex.expand(&stem) {
        longer if longer != stem => lex.stem(longer),
        _ => stem,
    }
}

/// Splits normalized text into words (script changes split too) and canonicalizes Latin words.
pub fn words(s: &str) -> Vec<Word> {
    words_in_chunks(s).into_iter().map(|(w, _, _)| w).collect()
}

/// [`words`], each with the number of the source word (separated by spaces or punctuation) it
/// came from, and as written (lowercase, vowels not folded).
fn words_in_chunks(s: &str) -> Vec<(Word, u32, String)> {
    let lex = lexicon();
    let mut raw: Vec<(bool, String, u32, String)> = Vec::new(); // (is_hangul, text, chunk, as written)
    let mut chunk = 0u32;
    let mut gap = true;
    for written in unfolded(s).chars() {
        let c = lex.fold(written);
        if !is_alnum(c) && !is_hangul(c) {
            gap = true;
            continue;
        }
        if gap {
            chunk += 1;
            gap = false;
        }
        let h = is_hangul(c);
        match raw.last_mut() {
            Some((lh, w, ch, wr)) if *lh == h && *ch == chunk => {
                w.push(c);
                wr.push(written);
            }
            _ => raw.push((h, c.to_string(), chunk, written.to_string())),
        }
    }
    let mut out: Vec<(Word, u32, String)> = Vec::new();
    for (h, w, chunk, written) in raw {
        if h {
            out.push((Word::Hangul(w), chunk, written));
        } else if lex.is_determiner(&w) {
            out.push((Word::Latin(Latin { canon: w.clone(), raw: w, det: true }), chunk, written));
        } else {
            let canon = canonical(lex, &w);
            match out.last_mut() {
                Some((Word::Latin(prev), _, _)) if !prev.det && canon == "up" && lex.is_phrasal(&prev.canon) => {
                    prev.canon.push_str("up");
                    prev.raw.push_str("up");
                }
                _ => out.push((Word::Latin(Latin { raw: w, canon, det: false }), chunk, written)),
            }
        }
    }
    out
}

fn flatten(words: &[(Word, u32, String)]) -> (Vec<Item>, Vec<u32>) {
    let (mut items, mut chunks) = (Vec::new(), Vec::new());
    for (w, chunk, _) in words {
        match w {
            Word::Latin(l) => {
                items.push(Item::Latin(l.clone()));
                chunks.push(*chunk);
            }
            Word::Hangul(s) => {
                for c in s.chars() {
                    items.push(Item::Syl(c));
                    chunks.push(*chunk);
                }
            }
        }
    }
    (items, chunks)
}

/// The items of a text, without chunks (for trigger phrases and skill words).
pub fn items(words: &[Word]) -> Vec<Item> {
    let mut items = Vec::new();
    for w in words {
        match w {
            Word::Latin(l) => items.push(Item::Latin(l.clone())),
            Word::Hangul(s) => items.extend(s.chars().map(Item::Syl)),
        }
    }
    items
}

/// Whether `s` is made only of Korean particles and fillers (을, 를, 좀, 으로, ...).
pub fn splits_into_particles(s: &str) -> bool {
    s.is_empty() || lexicon().particles().iter().any(|p| s.strip_prefix(p.as_str()).is_some_and(splits_into_particles))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canons(s: &str) -> Vec<String> {
        words(s)
            .into_iter()
            .map(|w| match w {
                Word::Latin(l) => l.canon,
                Word::Hangul(h) => h,
            })
            .collect()
    }

    #[test]
    fn words_are_split_canonicalized_and_joined() {
        assert_eq!(canons("DB설정"), ["databas", "설정"]);
        assert_eq!(canons("Setting-up the configs"), ["setup", "the", "configur"]);
        assert_eq!(canons("get the db up and running"), ["get", "the", "databas", "up", "and", "running"]);
        assert_eq!(canons("마이그래이션"), ["마이그레이션"]);
    }

    #[test]
    fn urls_read_as_their_scheme_and_paths_are_dropped() {
        let p = Prepared::new("connect postgresql+asyncpg://u:pw@h/db in ./api and /srv/x, dbType=sqlite");
        assert_eq!(without_locations("with jdbc:postgresql://h/db"), "with  postgresql ");
        assert_eq!(p.spaced, "connect postgresql asyncpg in and");
        let p = Prepared::new("DB 설정 ./api에");
        assert_eq!(p.spaced, "db 설정");
        assert!(p.starts_chunk(0) && p.starts_chunk(1) && !p.starts_chunk(2));
    }
}
