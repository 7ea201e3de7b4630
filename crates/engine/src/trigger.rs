//! Trigger matching: maps free text (Korean or English) to skills by the trigger phrases their
//! manifest lists. Defines [`Lang`], [`detect_lang`], [`SkillTriggers`], [`TriggerMatch`],
//! [`rank`] and [`TriggerIndex`] (the same ranking, prepared once for a skill set).
//!
//! Text and triggers go through the same pipeline, so nothing here knows any particular skill:
//! 1. Unicode NFKC, then lowercase ("ＤＢ" → "db"); anything not alphanumeric (punctuation, emoji,
//!    spaces) separates words, and a change between Hangul and other scripts does too ("DB설정").
//! 2. Latin-script (non-Hangul) words are compared whole, after a light stemmer (set/sets/setting,
//!    configure/configured, database/databases, migration/migrations), a tiny table of general
//!    abbreviations (db → database, config → configure) and joining "X up" into "Xup"
//!    (set up / set-up / setup). Determiners (the, a, my, our, this, ...) are optional. A trigger
//!    word also matches two text words typed apart ("SQL Alchemy", "data base"), at a small cost.
//! 3. Hangul is compared with spaces removed ("데이터 베이스" = "데이터베이스"); a Hangul trigger
//!    word may carry any ending after it ("설정해줘", "설정하기").
//! 4. Between consecutive trigger words the text may hold a small gap: at most 4 Hangul syllables
//!    made only of particles/fillers (을/를/이/가/은/는/의/도/좀/로/으로/초기/...) and at most 2
//!    determiners; between two Latin words, also one other word right after a determiner ("set up
//!    a postgres database"). Anything else in between ("데이터베이스 백업 설정", "db backup
//!    setup") breaks the match.
//!
//! Score (0..=1): 1.0 when the whole text is the trigger. Otherwise specificity comes first: each
//! trigger word matched (up to 4) adds 0.07 to a 0.62 base, so "setting up alembic" picks
//! "set up alembic" over "alembic". Among triggers with as many words, a verbatim hit (word-bounded
//! at Latin ends) gets +0.06 and a rule-based one +0.03 minus 0.005 per gap item or glued pair
//! (at most 0.03), so exact beats fuzzy; then the share of trigger words found literally (+0.006
//! at most: "db set up" names "db setup", not "database setup"), then length (+0.00015 a letter).

use std::collections::{HashMap, HashSet};

use unicode_normalization::UnicodeNormalization;

/// Language of a request or a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }

    /// "ko", "kr", "korean", "한국어" / "en", "english", case-insensitive.
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_lowercase().as_str() {
            "ko" | "kr" | "kor" | "korean" | "한국어" => Some(Lang::Ko),
            "en" | "eng" | "english" => Some(Lang::En),
            _ => None,
        }
    }
}

fn is_hangul(c: char) -> bool {
    matches!(c as u32,
        0xAC00..=0xD7A3 | 0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xD7B0..=0xD7FF
        | 0xFFA0..=0xFFDC)
}

/// `Ko` if the text contains any Hangul syllable or jamo, else `En`.
pub fn detect_lang(text: &str) -> Lang {
    if text.chars().any(is_hangul) { Lang::Ko } else { Lang::En }
}

/// A skill matched by a request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriggerMatch {
    pub skill: String,
    /// The trigger phrase, as the manifest spells it.
    pub trigger: String,
    /// Language of the request.
    pub lang: Lang,
    pub score: f64,
}

/// One skill's triggers, as given by the manifest: phrases in both languages.
pub struct SkillTriggers<'a> {
    pub skill: &'a str,
    pub phrases: Vec<&'a str>,
}

/// Ranks skills whose triggers match `text`, best first; each skill at most once, naming its
/// best trigger. Empty when nothing matches. Ties are broken by skill id.
/// To rank many texts against the same skills, build a [`TriggerIndex`] once instead.
pub fn rank(text: &str, skills: &[SkillTriggers<'_>]) -> Vec<TriggerMatch> {
    TriggerIndex::new(skills).rank(text)
}

/// The trigger phrases of a skill set, prepared once (words split and canonicalized, keys
/// indexed), so that ranking a text costs what the text holds, not the number of skills: a
/// phrase is scored only when every one of its words occurs in the text, and it is found through
/// the rarest of its words.
pub struct TriggerIndex {
    skills: Vec<String>,
    phrases: Vec<Phrase>,
    by_key: HashMap<String, Vec<u32>>,
}

/// One trigger phrase, ready to score.
struct Phrase {
    /// Index into `TriggerIndex::skills`.
    skill: u32,
    /// As the manifest spells it.
    text: String,
    /// Its words, determiners dropped (never empty).
    words: Vec<Word>,
    /// Normalized and spaced ("set up the database"); made when the phrase is first scored.
    spaced: std::sync::OnceLock<String>,
    /// What the text must contain for the phrase to match: each Latin word's canonical form and
    /// each Hangul syllable.
    keys: Vec<String>,
}

impl TriggerIndex {
    pub fn new(skills: &[SkillTriggers<'_>]) -> Self {
        let mut phrases = Vec::new();
        for (i, sk) in skills.iter().enumerate() {
            for &text in &sk.phrases {
                let words: Vec<Word> =
                    words(text).into_iter().filter(|w| !matches!(w, Word::Latin(l) if l.det)).collect();
                if words.is_empty() {
                    continue; // only determiners: never matches
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
                phrases.push(Phrase {
                    skill: i as u32,
                    text: text.to_owned(),
                    words,
                    spaced: Default::default(),
                    keys,
                });
            }
        }
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
        TriggerIndex { skills: skills.iter().map(|s| s.skill.to_owned()).collect(), phrases, by_key }
    }

    /// Ranks the skills whose triggers match `text`, exactly as [`rank`] does.
    pub fn rank(&self, text: &str) -> Vec<TriggerMatch> {
        let lang = detect_lang(text);
        let spaced = spaced(text);
        if spaced.is_empty() {
            return Vec::new();
        }
        let items = flatten(&words(text));
        let keys = text_keys(&items);
        let mut candidates: Vec<u32> =
            keys.iter().filter_map(|k| self.by_key.get(k.as_str())).flatten().copied().collect();
        candidates.sort_unstable();
        candidates.dedup();
        // Candidates come in (skill, phrase) order: the first best phrase of each skill wins.
        let mut best: Vec<(u32, f64, &str)> = Vec::new();
        for id in candidates {
            let p = &self.phrases[id as usize];
            if !p.keys.iter().all(|k| keys.contains(k.as_str())) {
                continue;
            }
            let Some(s) = score(&spaced, &items, p) else { continue };
            match best.last_mut() {
                Some(b) if b.0 == p.skill => {
                    if s > b.1 {
                        *b = (p.skill, s, &p.text);
                    }
                }
                _ => best.push((p.skill, s, &p.text)),
            }
        }
        let mut out: Vec<TriggerMatch> = Vec::new();
        for (skill, score, trigger) in best {
            let m = TriggerMatch { skill: self.skills[skill as usize].clone(), trigger: trigger.into(), lang, score };
            match out.iter_mut().find(|o| o.skill == m.skill) {
                Some(o) if o.score < m.score => *o = m,
                Some(_) => {}
                None => out.push(m),
            }
        }
        out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.skill.cmp(&b.skill)));
        out
    }
}

/// The keys a text offers (see [`Phrase::keys`]): its Latin words' canonical forms, the stems of
/// two Latin words typed apart ("sql alchemy"), and its Hangul syllables.
fn text_keys(items: &[Item]) -> HashSet<String> {
    let mut keys = HashSet::new();
    fn word(it: &Item) -> Option<&Latin> {
        match it {
            Item::Latin(l) if !l.det => Some(l),
            _ => None,
        }
    }
    for (i, it) in items.iter().enumerate() {
        match it {
            Item::Syl(c) => {
                keys.insert(c.to_string());
            }
            Item::Latin(_) => {
                if let Some(a) = word(it) {
                    keys.insert(a.canon.clone());
                    if let Some(b) = items.get(i + 1).and_then(word) {
                        keys.insert(stem(&format!("{}{}", a.raw, b.raw)));
                    }
                }
            }
        }
    }
    keys
}

// ---------------------------------------------------------------------------------------------

/// Words that may be skipped between (or be absent from) the words of a Latin-script trigger.
const DETERMINERS: &[&str] = &[
    "the", "a", "an", "my", "our", "your", "this", "that", "these", "those", "its", "their", "his", "her", "some",
    "new",
];
/// General abbreviations, applied before stemming.
const ABBREVIATIONS: &[(&str, &str)] =
    &[("db", "database"), ("dbs", "database"), ("config", "configure"), ("conf", "configure")];
/// Korean particles and short fillers allowed between the words of a trigger.
const KO_GAP: &[&str] = &[
    "으로", "에서", "이랑", "하고", "한번", "먼저", "다시", "새로", "부터", "초기", "기본", "을", "를", "이", "가",
    "은", "는", "의", "도", "좀", "로", "에", "와", "과", "랑", "만", "및", "잘", "꼭", "용",
];
const KO_GAP_MAX: usize = 4;
const EN_GAP_MAX: usize = 2;

/// A non-Hangul word: as typed (lowercased), canonical (abbreviation, stem, "X up"), determiner?
#[derive(Debug, Clone, PartialEq)]
struct Latin {
    raw: String,
    canon: String,
    det: bool,
}

/// A word of a text or trigger.
#[derive(Debug, Clone, PartialEq)]
enum Word {
    Latin(Latin),
    Hangul(String),
}

/// What trigger words are matched against: Latin words, and Hangul with its spaces dropped.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    Latin(Latin),
    Syl(char),
}

fn normalize(s: &str) -> String {
    // Fast paths give the same result: ASCII and NFKC-normal text (Hangul syllables) are their
    // own NFKC form.
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    match unicode_normalization::is_nfkc_quick(s.chars()) {
        unicode_normalization::IsNormalized::Yes => s.to_lowercase(),
        _ => s.nfkc().collect::<String>().to_lowercase(),
    }
}

/// Normalized text with every run of non-alphanumerics turned into one space.
fn spaced(s: &str) -> String {
    let n = normalize(s);
    let mapped: String = n.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Splits normalized text into words (script changes split too) and canonicalizes Latin words.
fn words(s: &str) -> Vec<Word> {
    let mut raw: Vec<(bool, String)> = Vec::new(); // (is_hangul, text)
    for c in normalize(s).chars() {
        if !c.is_alphanumeric() && !is_hangul(c) {
            raw.push((false, String::new()));
            continue;
        }
        let h = is_hangul(c);
        match raw.last_mut() {
            Some((lh, w)) if *lh == h && !w.is_empty() => w.push(c),
            _ => raw.push((h, c.to_string())),
        }
    }
    let mut out: Vec<Word> = Vec::new();
    for (h, w) in raw.into_iter().filter(|(_, w)| !w.is_empty()) {
        if h {
            out.push(Word::Hangul(w));
        } else if DETERMINERS.contains(&w.as_str()) {
            out.push(Word::Latin(Latin { canon: w.clone(), raw: w, det: true }));
        } else {
            let full = ABBREVIATIONS.iter().find(|(a, _)| *a == w).map_or(w.as_str(), |(_, f)| f);
            let canon = stem(full);
            match out.last_mut() {
                Some(Word::Latin(prev)) if !prev.det && canon == "up" => {
                    prev.canon.push_str("up");
                    prev.raw.push_str("up");
                }
                _ => out.push(Word::Latin(Latin { raw: w, canon, det: false })),
            }
        }
    }
    out
}

fn flatten(words: &[Word]) -> Vec<Item> {
    let mut items = Vec::new();
    for w in words {
        match w {
            Word::Latin(l) => items.push(Item::Latin(l.clone())),
            Word::Hangul(s) => items.extend(s.chars().map(Item::Syl)),
        }
    }
    items
}

/// A deliberately small English stemmer: both sides go through it, so it only has to be
/// consistent, not linguistically right ("database" and "databases" both become "databas").
fn stem(w: &str) -> String {
    if w.len() <= 3 || !w.bytes().all(|b| b.is_ascii_lowercase()) {
        return w.to_string();
    }
    let mut s = w.to_string();
    let cut = |s: &mut String, suf: &str| -> bool {
        if s.ends_with(suf) && s.len() - suf.len() >= 3 {
            s.truncate(s.len() - suf.len());
            true
        } else {
            false
        }
    };
    if cut(&mut s, "ies") {
        s.push('y');
    } else if cut(&mut s, "ing") || cut(&mut s, "ed") {
        let b = s.as_bytes();
        let n = b.len();
        if b[n - 1] == b[n - 2] && !b"aeioulsz".contains(&b[n - 1]) {
            s.pop(); // setting -> sett -> set
        }
    } else if s.ends_with("ses") || s.ends_with("xes") || s.ends_with("ches") || s.ends_with("shes") {
        cut(&mut s, "es");
    } else if s.ends_with('s') && !s.ends_with("ss") && !s.ends_with("us") && !s.ends_with("is") {
        cut(&mut s, "s");
    }
    if s.ends_with('e') && s.len() > 4 {
        s.pop(); // configure / configur(ed) / database / databas(es)
    }
    s
}

/// Cost of `gap` (text items between two trigger words), or `None` when it may not be skipped:
/// Korean particles/fillers (1 a syllable), determiners (1 each) and, between two Latin trigger
/// words, one other word right after a determiner ("set up a postgres database"; cost 4).
fn gap_cost(gap: &[Item], latin_pair: bool) -> Option<usize> {
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
                if !run.is_empty() && !splits_into_particles(&run) {
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
    (syls <= KO_GAP_MAX && dets <= EN_GAP_MAX && others <= 1).then_some(syls + dets + 4 * others)
}

fn splits_into_particles(s: &str) -> bool {
    s.is_empty() || KO_GAP.iter().any(|p| s.strip_prefix(p).is_some_and(splits_into_particles))
}

/// Matches trigger word `j` at item `p`; returns the smallest total cost (gaps, glued words)
/// of matching the rest. A Latin word also matches two text words typed apart ("sql alchemy").
fn match_from(items: &[Item], tw: &[Word], j: usize, p: usize) -> Option<usize> {
    let word = |q: usize| match items.get(q) {
        Some(Item::Latin(l)) if !l.det => Some(l),
        _ => None,
    };
    let (end, glued) = match &tw[j] {
        Word::Latin(w) => match (word(p), word(p + 1)) {
            (Some(a), _) if a.canon == w.canon => (p + 1, 0),
            (Some(a), Some(b)) if stem(&format!("{}{}", a.raw, b.raw)) == w.canon => (p + 2, 1),
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
    let latin_pair = matches!((&tw[j], &tw[j + 1]), (Word::Latin(..), Word::Latin(..)));
    let last = (end + KO_GAP_MAX + EN_GAP_MAX + 1).min(items.len());
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

/// Score of one trigger phrase against the prepared text, or `None` when it does not match.
fn score(spaced_text: &str, items: &[Item], phrase: &Phrase) -> Option<f64> {
    let tw = &phrase.words;
    let gap = (0..items.len()).filter_map(|p| match_from(items, tw, 0, p)).min()?;
    let trig = phrase.spaced.get_or_init(|| spaced(&phrase.text));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const DB_TRIGGERS: &[&str] = &[
        "데이터베이스 설정", "DB 설정", "디비 설정", "데이터베이스 구성", "마이그레이션 설정",
        "sqlalchemy", "alembic", "database setup", "set up the database", "configure the database",
        "db setup", "set up alembic", "set up sqlalchemy", "database migrations setup",
    ];

    /// (text, trigger expected for the database-setup skill, ranked first).
    #[rustfmt::skip]
    const KOREAN: &[(&str, &str)] = &[
        ("데이터베이스 설정", "데이터베이스 설정"), ("DB 설정", "DB 설정"), ("ＤＢ 설정", "DB 설정"),
        ("DB설정", "DB 설정"), ("db   설정!!! 🚀", "DB 설정"), ("데이터 베이스 설정", "데이터베이스 설정"),
        ("데이터베이스설정", "데이터베이스 설정"), ("데이터베이스를 설정해 주세요", "데이터베이스 설정"),
        ("DB 설정 좀 해줘", "DB 설정"), ("디비 설정해줘", "디비 설정"), ("디비설정 부탁", "디비 설정"),
        ("데이터베이스 설정하기", "데이터베이스 설정"), ("데이터베이스의 설정을 부탁해", "데이터베이스 설정"),
        ("데이터베이스를 좀 설정해줘", "데이터베이스 설정"), ("DB를 설정하고 싶어요", "DB 설정"),
        ("데이터베이스 구성해줘", "데이터베이스 구성"), ("마이그레이션 설정 좀", "마이그레이션 설정"),
        ("alembic 설정해줘", "alembic"), ("sqlalchemy로 DB 설정", "DB 설정"),
        ("ＳＱＬＡｌｃｈｅｍｙ 써서 해줘", "sqlalchemy"), ("프로젝트에 DB setup 해줘", "db setup"),
        ("데이터베이스 초기 설정", "데이터베이스 설정"), ("Alembic으로 마이그레이션 설정", "마이그레이션 설정"),
    ];

    #[rustfmt::skip]
    const ENGLISH: &[(&str, &str)] = &[
        ("database setup", "database setup"), ("Set up the database", "set up the database"),
        ("setting up alembic", "set up alembic"), ("Sets up the database.", "set up the database"),
        ("set up my database", "set up the database"), ("please set up the DB", "set up the database"),
        ("Configure the database for my app", "configure the database"),
        ("configuring our databases", "configure the database"),
        ("configured the database?", "configure the database"), ("database set-up", "database setup"),
        ("setup the database", "set up the database"), ("db set up", "db setup"),
        ("I need alembic", "alembic"), ("SQLAlchemy please", "sqlalchemy"),
        ("set up a new database", "set up the database"),
        ("database migration setup", "database migrations setup"),
        ("Databases migrations set-up!", "database migrations setup"),
        ("can you set up SQLAlchemy for me", "set up sqlalchemy"), ("DATABASE   SETUP", "database setup"),
        ("set up a PostgreSQL database", "set up the database"),
        ("configure the project database", "configure the database"), ("db_setup", "db setup"),
        ("I use SQL Alchemy", "sqlalchemy"), ("data base setup", "database setup"),
    ];

    #[rustfmt::skip]
    const NEGATIVE: &[&str] = &[
        "", "   ", "🎉🎉", "데이터베이스 백업해줘", "설정 화면 열어줘", "DB 백업", "set up the printer",
        "database backup please", "what is a database", "설정", "데이터베이스", "alembicus", "sqlalchemyx",
        "데이터베이스 백업 설정", "set the database", "db backup setup", "DB backup 설정",
        "set up printer database", "setup", "db", "디비", "migrations", "configure the router",
        "날씨 어때?", "database is slow, set up a printer", "sql alchemyx", "alchemy",
    ];

    fn skills() -> Vec<SkillTriggers<'static>> {
        vec![
            SkillTriggers { skill: "deploy", phrases: vec!["배포", "앱 배포", "deploy the app"] },
            SkillTriggers { skill: "database-setup", phrases: DB_TRIGGERS.to_vec() },
        ]
    }

    /// (skill, trigger) of the best match, if any.
    fn top(text: &str) -> Option<(String, String)> {
        rank(text, &skills()).into_iter().next().map(|m| (m.skill, m.trigger))
    }

    #[test]
    fn positives_name_the_expected_trigger() {
        assert!(KOREAN.len() + ENGLISH.len() >= 40);
        for (text, trigger) in KOREAN.iter().chain(ENGLISH) {
            let want = Some(("database-setup".to_string(), trigger.to_string()));
            assert_eq!(top(text), want, "text: {text:?}");
        }
    }

    #[test]
    fn negatives() {
        for text in NEGATIVE {
            assert_eq!(rank(text, &skills()), vec![], "text: {text:?}");
        }
    }

    #[test]
    fn ranking_across_skills() {
        assert_eq!(top("앱 배포해줘"), Some(("deploy".into(), "앱 배포".into())));
        assert_eq!(top("deploying the app"), Some(("deploy".into(), "deploy the app".into())));
        let r = rank("데이터베이스 설정하고 배포해줘", &skills());
        let got: Vec<_> = r.iter().map(|m| (m.skill.as_str(), m.trigger.as_str())).collect();
        assert_eq!(got, [("database-setup", "데이터베이스 설정"), ("deploy", "배포")]);
        assert!(r[0].score > r[1].score);
        let same = [
            SkillTriggers { skill: "b", phrases: vec!["alembic"] },
            SkillTriggers { skill: "a", phrases: vec!["alembic", "alembic"] },
        ];
        let r = rank("alembic please", &same);
        assert_eq!((r[0].skill.as_str(), r[1].skill.as_str(), r.len()), ("a", "b", 2));
        assert_eq!(r[0].score, r[1].score);
    }

    #[test]
    fn scores() {
        let s = |text: &str| rank(text, &skills())[0].score;
        assert_eq!(s("DB 설정"), 1.0);
        assert_eq!(s("alembic"), 1.0);
        assert_eq!(s("alembic 설정해줘"), 0.7571); // 1 word, verbatim, 7 letters
        assert_eq!(s("DB 설정해줘"), 0.8266); // 2 words, verbatim, 4 letters
        assert_eq!(s("DB설정"), 0.7966); // 2 words, spacing only
        assert_eq!(s("DB를 설정"), 0.7916); // 2 words, one particle in between
        assert_eq!(s("setup database migrations"), 0.7939); // 2 words, fuzzy, 1 of 4 literal
        assert!(s("database setup now") > s("databases set-up now")); // exact beats fuzzy
        assert!(s("set up alembic") > s("setting up alembic"));
        assert!(s("set up alembic please") > s("alembic please")); // longer trigger wins
        assert!(s("set up my database") > s("set up a postgres database")); // smaller gap wins
        for (t, _) in KOREAN.iter().chain(ENGLISH) {
            assert!((0.0..=1.0).contains(&s(t)));
        }
    }

    #[test]
    fn language() {
        assert_eq!(detect_lang("DB 설정"), Lang::Ko);
        assert_eq!(detect_lang("ㄷㅂ"), Lang::Ko);
        assert_eq!(detect_lang("set up the database"), Lang::En);
        assert_eq!(detect_lang(""), Lang::En);
        assert_eq!(rank("DB 설정해줘", &skills())[0].lang, Lang::Ko);
        assert_eq!(rank("db setup", &skills())[0].lang, Lang::En);
        assert_eq!(Lang::parse(" KR "), Some(Lang::Ko));
        assert_eq!(Lang::parse("Korean"), Some(Lang::Ko));
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
        assert_eq!(Lang::parse("english"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!((Lang::Ko.code(), Lang::En.code()), ("ko", "en"));
        assert_eq!(serde_json::to_string(&Lang::Ko).unwrap(), "\"ko\"");
        assert_eq!(serde_json::from_str::<Lang>("\"en\"").unwrap(), Lang::En);
        let v = serde_json::to_value(&rank("alembic", &skills())[0]).unwrap();
        let want = r#"{"skill":"database-setup","trigger":"alembic","lang":"en","score":1.0}"#;
        assert_eq!(v, serde_json::from_str::<serde_json::Value>(want).unwrap());
    }

    #[test]
    fn stemming() {
        for (a, b) in [("setting", "set"), ("sets", "set"), ("configured", "configur")] {
            assert_eq!(stem(a), b);
        }
        assert_eq!(stem("configuring"), stem("configure"));
        assert_eq!(stem("databases"), stem("database"));
        assert_eq!(stem("migrations"), stem("migration"));
        assert_ne!(stem("alembicus"), stem("alembic"));
    }
}
