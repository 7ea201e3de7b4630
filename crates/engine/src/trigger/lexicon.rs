//! The shared matching vocabulary, read once from the engine's lexicon data
//! (`crates/engine/lexicon/grammar.json`, `intents.json`, embedded in the binary): English
//! determiners, abbreviations, phrasal verbs and inflections, Korean particles and vowel folds,
//! and the intent groups (set up, use, delete, what is, ...) every skill shares. Defines
//! [`Lexicon`], [`Group`], [`GroupRole`], [`Strength`] and [`lexicon`].

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde::Deserialize;

const GRAMMAR: &str = include_str!("../../lexicon/grammar.json");
const INTENTS: &str = include_str!("../../lexicon/intents.json");

/// How strongly a serving word asks for a skill to run: "set up" is strong, "use" medium,
/// "please" weak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    Weak,
    Medium,
    Strong,
}

/// What the words of a group do to a skill that does not serve the group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupRole {
    /// Serving words: an intent for the skills that list the group, unknown words for the rest.
    Serve,
    /// Vetoes every skill that does not serve the group (delete, back up, show, ...).
    Exclude,
    /// A question about a topic, unless a strong serving word is there too ("what is").
    Ask,
    /// Always a question about a topic ("explain", "뭐야").
    Question,
    /// Known, neutral words.
    Filler,
}

/// One intent group of `intents.json`.
#[derive(Debug, Deserialize)]
pub struct Group {
    #[serde(skip)]
    pub name: String,
    pub role: GroupRole,
    pub strength: Option<Strength>,
    pub words: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    suffix: String,
    #[serde(default)]
    replace: String,
    #[serde(default)]
    undouble: bool,
    #[serde(default)]
    require_ends: Vec<String>,
    #[serde(default)]
    forbid_ends: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inflections {
    keep: HashSet<String>,
    min_word: usize,
    min_stem: usize,
    keep_double: String,
    drop_final_e: usize,
    rules: Vec<Rule>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct En {
    gap_max: usize,
    adverb_endings: Vec<String>,
    determiners: HashSet<String>,
    abbreviations: HashMap<String, String>,
    phrasal_verbs: HashSet<String>,
    inflections: Inflections,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ko {
    particles: Vec<String>,
    adverb_endings: Vec<String>,
    gap_max: usize,
    vowel_folds: HashMap<char, char>,
}

#[derive(Debug, Deserialize)]
struct Grammar {
    en: En,
    ko: Ko,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Intents {
    default_serve: Vec<String>,
    groups: serde_json::Map<String, serde_json::Value>,
    leading: Vec<String>,
    question_openers: Vec<String>,
    request_openers: Vec<String>,
}

/// The shared vocabulary, ready to use.
#[derive(Debug)]
pub struct Lexicon {
    en: En,
    ko: Ko,
    /// Medial-vowel index (0..21) each Hangul medial is read as.
    medial_fold: [u8; 21],
    pub groups: Vec<Group>,
    /// Groups a skill serves when its `words` name none.
    pub default_serve: Vec<usize>,
    /// Words skipped before looking for a question or request opener.
    pub leading: Vec<String>,
    pub question_openers: Vec<String>,
    pub request_openers: Vec<String>,
}

/// The lexicon embedded in the engine, parsed on first use.
pub fn lexicon() -> &'static Lexicon {
    static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| Lexicon::parse(GRAMMAR, INTENTS).expect("embedded lexicon"));
    &LEXICON
}

impl Lexicon {
    fn parse(grammar: &str, intents: &str) -> Result<Self, String> {
        let grammar: Grammar = serde_json::from_str(grammar).map_err(|e| format!("grammar.json: {e}"))?;
        let intents: Intents = serde_json::from_str(intents).map_err(|e| format!("intents.json: {e}"))?;
        let mut groups = Vec::new();
        for (name, value) in intents.groups {
            let mut group: Group = serde_json::from_value(value).map_err(|e| format!("intents.json: {name}: {e}"))?;
            if group.role == GroupRole::Serve && group.strength.is_none() {
                return Err(format!("intents.json: serving group {name} needs a strength"));
            }
            group.name = name;
            groups.push(group);
        }
        let index = |name: &String| {
            groups.iter().position(|g| &g.name == name).ok_or_else(|| format!("intents.json: no group {name}"))
        };
        let default_serve = intents.default_serve.iter().map(index).collect::<Result<Vec<_>, _>>()?;
        let jamo = |c: char| (c as u32).checked_sub(0x314F).filter(|i| *i < 21).map(|i| i as u8);
        let mut medial_fold: [u8; 21] = std::array::from_fn(|i| i as u8);
        for (from, to) in &grammar.ko.vowel_folds {
            let (Some(f), Some(t)) = (jamo(*from), jamo(*to)) else {
                return Err(format!("grammar.json: vowelFolds {from} -> {to}: not Hangul vowels"));
            };
            medial_fold[f as usize] = t;
        }
        Ok(Lexicon {
            en: grammar.en,
            ko: grammar.ko,
            medial_fold,
            groups,
            default_serve,
            leading: intents.leading,
            question_openers: intents.question_openers,
            request_openers: intents.request_openers,
        })
    }

    /// The group named `name` (without its `@`).
    pub fn group(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.name == name)
    }

    pub fn is_determiner(&self, word: &str) -> bool {
        self.en.determiners.contains(word)
    }

    /// `word` (lowercase) spelled out when it is an abbreviation.
    pub fn expand<'a>(&'a self, word: &'a str) -> &'a str {
        self.en.abbreviations.get(word).map_or(word, String::as_str)
    }

    /// Whether "`word` up" is one word (set up, back up).
    pub fn is_phrasal(&self, word: &str) -> bool {
        self.en.phrasal_verbs.contains(word)
    }

    /// Whether an unknown word looks like an adverb ("quickly", "깔끔하게").
    pub fn is_adverb(&self, word: &str) -> bool {
        self.en.adverb_endings.iter().chain(&self.ko.adverb_endings).any(|e| word.ends_with(e.as_str()))
    }

    pub fn particles(&self) -> &[String] {
        &self.ko.particles
    }

    pub fn ko_gap_max(&self) -> usize {
        self.ko.gap_max
    }

    pub fn en_gap_max(&self) -> usize {
        self.en.gap_max
    }

    /// A Hangul syllable with its medial vowel folded (ㅐ -> ㅔ); any other character as it is.
    pub fn fold(&self, c: char) -> char {
        let Some(i) = (c as u32).checked_sub(0xAC00).filter(|i| *i < 11172) else { return c };
        let (initial, medial, last) = (i / 588, (i / 28) % 21, i % 28);
        let medial = u32::from(self.medial_fold[medial as usize]);
        char::from_u32(0xAC00 + initial * 588 + medial * 28 + last).unwrap_or(c)
    }

    /// The stem of a lowercase English word: both a text and a skill's words go through it, so it
    /// only has to be consistent, not linguistically right ("database(s)" -> "databas").
    pub fn stem(&self, w: &str) -> String {
        let inf = &self.en.inflections;
        if w.len() < inf.min_word || !w.bytes().all(|b| b.is_ascii_lowercase()) || inf.keep.contains(w) {
            return w.to_string();
        }
        let mut s = w.to_string();
        for rule in &inf.rules {
            let fits = s.ends_with(&rule.suffix)
                && s.len() - rule.suffix.len() >= inf.min_stem
                && (rule.require_ends.is_empty() || rule.require_ends.iter().any(|e| s.ends_with(e.as_str())))
                && !rule.forbid_ends.iter().any(|e| s.ends_with(e.as_str()));
            if !fits {
                continue;
            }
            s.truncate(s.len() - rule.suffix.len());
            s.push_str(&rule.replace);
            let b = s.as_bytes();
            let n = b.len();
            if rule.undouble && n >= 2 && b[n - 1] == b[n - 2] && !inf.keep_double.as_bytes().contains(&b[n - 1]) {
                s.pop(); // setting -> sett -> set
            }
            break;
        }
        if s.ends_with('e') && s.len() > inf.drop_final_e {
            s.pop(); // configure / configur(ed) / database / databas(es)
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_lexicon_parses_and_every_group_is_usable() {
        let lex = lexicon();
        assert!(lex.groups.iter().all(|g| !g.words.is_empty()), "a group without words");
        for name in ["setup", "use", "request", "delete", "data", "read", "question", "ask", "filler"] {
            assert!(lex.group(name).is_some(), "{name}");
        }
        assert!(Lexicon::parse(GRAMMAR, r#"{"defaultServe": ["nope"], "groups": {}, "leading": [], "questionOpeners": [], "requestOpeners": []}"#).is_err());
    }

    #[test]
    fn stemming_and_folds() {
        let lex = lexicon();
        for (a, b) in [("setting", "set"), ("sets", "set"), ("configured", "configur"), ("queries", "query")] {
            assert_eq!(lex.stem(a), b);
        }
        assert_eq!(lex.stem("configuring"), lex.stem("configure"));
        assert_eq!(lex.stem("databases"), lex.stem("database"));
        assert_eq!(lex.stem("migrations"), lex.stem("migration"));
        assert_ne!(lex.stem("alembicus"), lex.stem("alembic"));
        assert_eq!(lex.fold('래'), '레');
        assert_eq!(lex.fold('얘'), '예');
        assert_eq!(lex.fold('a'), 'a');
    }
}
