//! Words with a meaning: every skill's objects, intents, context and excluded words and the
//! lexicon's shared groups, as one dictionary ([`Terms`]), and where they occur in a text
//! ([`Terms::find`]). A term is one or more words read like a trigger phrase (canonical Latin
//! words, Hangul syllables with spaces ignored), matched with no gap; one-syllable Hangul terms
//! only at the start of a word. Where occurrences overlap, the leftmost, then the longest, wins
//! ("사용자" over "사용", "재설정" over "설정"). Where no known word stands, an object or a serving
//! word may be found mistyped (see `typos`); only those, so a typo never excludes or asks ("later"
//! is not "alter").

use std::collections::HashMap;

use super::lexicon::{GroupRole, Strength, lexicon};
use super::phrase::joined;
use super::text::{Item, Prepared, Word, items, splits_into_particles, words};
use super::typos::{Typos, osa};

/// What a term is to one skill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Object,
    Intent(Strength),
    Context,
    Exclude,
    Ask,
    Question,
    Filler,
}

/// One term and who uses it.
pub struct Term {
    items: Vec<Item>,
    /// Where in `items` its second, third... word starts.
    breaks: Vec<usize>,
    /// As first declared.
    pub text: String,
    /// Its shared group, if the lexicon lists it.
    pub group: Option<u16>,
    /// (skill, role) pairs, in skill order.
    uses: Vec<(u32, Role)>,
    /// Latin spellings of a one-word term (for typo checks).
    spellings: Vec<String>,
    /// Indexed for typos (an object or serving word of someone).
    typos: bool,
}

impl Term {
    /// The roles the term has for `skill` by the skill's own words.
    pub fn roles_for(&self, skill: u32) -> impl Iterator<Item = Role> + '_ {
        let from = self.uses.partition_point(|(s, _)| *s < skill);
        self.uses[from..].iter().take_while(move |(s, _)| *s == skill).map(|(_, r)| *r)
    }

    /// Skills that name the term as one of their objects.
    pub fn object_of(&self) -> impl Iterator<Item = u32> + '_ {
        self.uses.iter().filter(|(_, r)| *r == Role::Object).map(|(s, _)| *s)
    }
}

/// A term found in a text: items `start..end`; `typo` holds the word as typed when it matched
/// one edit away.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    pub term: u32,
    pub start: usize,
    pub end: usize,
    pub typo: Option<String>,
}

/// The term dictionary of a skill set plus the lexicon.
#[derive(Default)]
pub struct Terms {
    pub terms: Vec<Term>,
    by_key: HashMap<String, u32>,
    by_latin: HashMap<String, Vec<u32>>,
    by_pair: HashMap<(char, char), Vec<u32>>,
    by_syl: HashMap<char, Vec<u32>>,
    typos: Typos,
}

impl Terms {
    /// The dictionary with the lexicon's shared groups.
    pub fn with_lexicon() -> Self {
        let mut terms = Terms::default();
        for (g, group) in lexicon().groups.iter().enumerate() {
            for word in &group.words {
                if let Some(id) = terms.add(word) {
                    terms.terms[id as usize].group.get_or_insert(g as u16);
                    if group.role == GroupRole::Serve {
                        terms.index_typos(id);
                    }
                }
            }
        }
        terms
    }

    /// Adds `role` for `skill` to the term `text`; skills are added in order.
    pub fn add_use(&mut self, text: &str, skill: u32, role: Role) {
        if let Some(id) = self.add(text) {
            let uses = &mut self.terms[id as usize].uses;
            if !uses.iter().rev().take_while(|(s, _)| *s == skill).any(|(_, r)| *r == role) {
                uses.push((skill, role));
            }
            if matches!(role, Role::Object | Role::Intent(_)) {
                self.index_typos(id);
            }
        }
    }

    fn add(&mut self, text: &str) -> Option<u32> {
        let ws: Vec<Word> = words(text).into_iter().filter(|w| !matches!(w, Word::Latin(l) if l.det)).collect();
        let first = ws.first()?.clone();
        let key = key(&ws);
        let id = match self.by_key.get(&key) {
            Some(id) => *id,
            None => {
                let id = self.terms.len() as u32;
                let items = items(&ws);
                let mut breaks = Vec::new();
                for w in &ws[..ws.len() - 1] {
                    let len = match w {
                        Word::Latin(_) => 1,
                        Word::Hangul(h) => h.chars().count(),
                    };
                    breaks.push(breaks.last().copied().unwrap_or(0) + len);
                }
                match (&first, &items[..]) {
                    (Word::Latin(l), _) => self.by_latin.entry(l.canon.clone()).or_default().push(id),
                    (Word::Hangul(_), [Item::Syl(a), Item::Syl(b), ..]) => {
                        self.by_pair.entry((*a, *b)).or_default().push(id)
                    }
                    (Word::Hangul(_), [Item::Syl(a), ..]) => self.by_syl.entry(*a).or_default().push(id),
                    _ => return None,
                }
                let term = Term {
                    items,
                    breaks,
                    text: text.to_owned(),
                    group: None,
                    uses: Vec::new(),
                    spellings: Vec::new(),
                    typos: false,
                };
                self.terms.push(term);
                self.by_key.insert(key, id);
                id
            }
        };
        if let (Word::Latin(l), 1) = (&first, ws.len()) {
            let term = &mut self.terms[id as usize];
            if !term.spellings.contains(&l.raw) {
                term.spellings.push(l.raw.clone());
                if term.typos {
                    self.typos.add_latin(id, &l.raw);
                }
            }
        }
        Some(id)
    }

    /// Makes term `id` findable mistyped, once: a one-word term only.
    fn index_typos(&mut self, id: u32) {
        let t = &mut self.terms[id as usize];
        if t.typos || !t.breaks.is_empty() {
            return;
        }
        t.typos = true;
        match &t.items[..] {
            [Item::Latin(l)] => {
                let mut words: Vec<String> =
                    std::iter::once(l.canon.clone()).chain(t.spellings.iter().cloned()).collect();
                words.dedup();
                for w in words {
                    self.typos.add_latin(id, &w);
                }
            }
            syls => {
                let chars: Vec<char> =
                    syls.iter().filter_map(|i| if let Item::Syl(c) = i { Some(*c) } else { None }).collect();
                if chars.len() == syls.len() {
                    self.typos.add_hangul(id, &chars);
                }
            }
        }
    }

    /// The terms of the text, leftmost-longest, without overlaps.
    pub fn find(&self, text: &Prepared) -> Vec<Occurrence> {
        let its = &text.items;
        let mut found: Vec<Occurrence> = Vec::new();
        for p in 0..its.len() {
            let try_ids = |ids: Option<&Vec<u32>>, found: &mut Vec<Occurrence>| {
                for &id in ids.into_iter().flatten() {
                    if let Some(end) = match_at(its, p, &self.terms[id as usize], 0) {
                        found.push(Occurrence { term: id, start: p, end, typo: None });
                    }
                }
            };
            match &its[p] {
                Item::Latin(l) => {
                    try_ids(self.by_latin.get(&l.canon), &mut found);
                    if let Some(j) = joined(its.get(p..p + 2).unwrap_or_default()) {
                        try_ids(self.by_latin.get(&j), &mut found);
                    }
                }
                Item::Syl(c) => {
                    if let Some(Item::Syl(d)) = its.get(p + 1) {
                        try_ids(self.by_pair.get(&(*c, *d)), &mut found);
                    }
                    if text.starts_chunk(p) {
                        try_ids(self.by_syl.get(c), &mut found);
                    }
                }
            }
        }
        found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut out: Vec<Occurrence> = Vec::new();
        for occ in found {
            if out.last().is_none_or(|last| occ.start >= last.end) {
                out.push(occ);
            }
        }
        // Where no known word stands, a mistyped one.
        let mut typos = Vec::new();
        let mut next = 0;
        for p in 0..its.len() {
            let free = |end: usize| out.iter().all(|o| end <= o.start || p >= o.end);
            // A mistyped word starts a word: a new chunk, or right after a known word.
            let boundary =
                text.starts_chunk(p) || matches!(its[p - 1], Item::Latin(_)) || out.iter().any(|o| o.end == p);
            if p < next || !free(p + 1) || !boundary {
                continue;
            }
            if let Some(occ) = self.typo_at(text, p).filter(|o| free(o.end)) {
                next = occ.end;
                typos.push(occ);
            }
        }
        out.extend(typos);
        out.sort_by_key(|o| o.start);
        out
    }

    /// An object or serving word mistyped at item `p`: a Latin word one edit away, or Hangul
    /// syllables one jamo away.
    fn typo_at(&self, text: &Prepared, p: usize) -> Option<Occurrence> {
        let its = &text.items;
        match &its[p] {
            Item::Latin(_) => {
                let word = its[p].word()?;
                let id = self.typos.latin(&word.raw, &word.canon).into_iter().find(|&id| {
                    let t = &self.terms[id as usize];
                    let canon = matches!(&t.items[..], [Item::Latin(c)] if osa(&word.canon, &c.canon) <= 1);
                    canon || t.spellings.iter().any(|s| osa(&word.raw, s) <= 1)
                })?;
                Some(Occurrence { term: id, start: p, end: p + 1, typo: Some(word.raw.clone()) })
            }
            Item::Syl(_) => {
                let syls: Vec<char> = (p..its.len())
                    .take_while(|&q| text.chunks[q] == text.chunks[p])
                    .map_while(|q| if let Item::Syl(c) = its[q] { Some(c) } else { None })
                    .collect();
                let (id, len) = self.typos.hangul(&syls).into_iter().next()?;
                let typed = text.written[p..p + len].iter().collect();
                Some(Occurrence { term: id, start: p, end: p + len, typo: Some(typed) })
            }
        }
    }
}

/// The dictionary key of a term: Latin words by canonical form, Hangul with spaces dropped.
fn key(ws: &[Word]) -> String {
    let mut out = String::new();
    let mut prev_hangul = false;
    for w in ws {
        match w {
            Word::Latin(l) => {
                out.push(' ');
                out.push_str(&l.canon);
                prev_hangul = false;
            }
            Word::Hangul(h) => {
                if !prev_hangul {
                    out.push(' ');
                }
                out.push_str(h);
                prev_hangul = true;
            }
        }
    }
    out
}

/// The term's items from its item `j` on, at text item `q`; the end of the match. A Latin word
/// may be typed as two ("sql alchemy"); between two words of the term the text may hold
/// determiners or up to two syllables of particles ("apply the migrations", "마이그레이션을 적용").
fn match_at(its: &[Item], q: usize, term: &Term, j: usize) -> Option<usize> {
    if j == term.items.len() {
        return Some(q);
    }
    if term.breaks.contains(&j) {
        let dets = its[q.min(its.len())..].iter().take_while(|i| matches!(i, Item::Latin(l) if l.det)).count();
        let particles = (1..=2).filter(|&n| {
            let run: Option<String> = its.get(q..q + n).map(|r| {
                r.iter()
                    .filter_map(|i| match i {
                        Item::Syl(c) => Some(*c),
                        Item::Latin(_) => None,
                    })
                    .collect()
            });
            run.is_some_and(|r| r.chars().count() == n && splits_into_particles(&r))
        });
        for gap in std::iter::once(dets).filter(|d| *d > 0).chain(particles) {
            if let Some(end) = match_word(its, q + gap, term, j) {
                return Some(end);
            }
        }
    }
    match_word(its, q, term, j)
}

/// The term's item `j` at text item `q`, then the rest.
fn match_word(its: &[Item], q: usize, term: &Term, j: usize) -> Option<usize> {
    match &term.items[j] {
        Item::Latin(w) => {
            if its.get(q)?.word()?.canon == w.canon {
                match_at(its, q + 1, term, j + 1)
            } else if joined(its.get(q..q + 2).unwrap_or_default()).is_some_and(|j| j == w.canon) {
                match_at(its, q + 2, term, j + 1)
            } else {
                None
            }
        }
        Item::Syl(c) => match its.get(q) {
            Some(Item::Syl(s)) if s == c => match_at(its, q + 1, term, j + 1),
            _ => None,
        },
    }
}

/// A role a shared group gives its words, for a skill that does (`served`) or does not serve it.
pub fn group_role(group: u16, served: bool) -> Option<Role> {
    let g = &lexicon().groups[group as usize];
    match (g.role, served) {
        (GroupRole::Serve, true) => Some(Role::Intent(g.strength.unwrap_or(Strength::Medium))),
        (GroupRole::Exclude, true) => Some(Role::Intent(Strength::Strong)),
        (GroupRole::Serve, false) => None,
        (GroupRole::Exclude, false) => Some(Role::Exclude),
        (GroupRole::Ask, _) => Some(Role::Ask),
        (GroupRole::Question, _) => Some(Role::Question),
        (GroupRole::Filler, _) => Some(Role::Filler),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_word_of_the_lexicon_is_in_two_groups() {
        let terms = Terms::with_lexicon();
        for (g, group) in lexicon().groups.iter().enumerate() {
            for w in &group.words {
                let ws: Vec<Word> = words(w).into_iter().filter(|w| !matches!(w, Word::Latin(l) if l.det)).collect();
                let id = terms.by_key[&key(&ws)];
                let first = terms.terms[id as usize].group.map(|g| lexicon().groups[g as usize].name.as_str());
                assert_eq!(
                    first,
                    Some(group.name.as_str()),
                    "`{w}` of {} reads as a word of another group",
                    group.name
                );
                let _ = g;
            }
        }
    }

    fn found(terms: &Terms, text: &str) -> Vec<(String, Option<String>)> {
        terms
            .find(&Prepared::new(text))
            .into_iter()
            .map(|o| (terms.terms[o.term as usize].text.clone(), o.typo))
            .collect()
    }

    #[test]
    fn terms_are_found_leftmost_longest_with_typos() {
        let mut t = Terms::with_lexicon();
        for w in ["database", "데이터베이스", "PostgreSQL", "postgres", "SQLAlchemy", "마이그레이션", "사용자"]
        {
            t.add_use(w, 0, Role::Object);
        }
        t.add_use("apply migrations", 0, Role::Exclude);
        t.add_use("마이그레이션 적용", 0, Role::Exclude);
        let names = |text| found(&t, text).into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        assert_eq!(names("데이터 베이스를 연동해줘"), ["데이터베이스", "연동", "해줘"]);
        assert_eq!(names("DB설정 좀"), ["database", "설정", "좀"]);
        assert_eq!(names("사용자 추가"), ["사용자", "추가"]);
        assert_eq!(names("set up SQL Alchemy"), ["set up", "SQLAlchemy"]);
        assert_eq!(names("마이그래이션 재설정"), ["마이그레이션", "재설정"]);
        assert_eq!(names("apply the migrations"), ["apply migrations"]);
        assert_eq!(names("마이그레이션을 적용해줘"), ["마이그레이션 적용", "해줘"]);
        assert_eq!(
            found(&t, "configure postgress"),
            [("configure".into(), None), ("postgres".into(), Some("postgress".into()))]
        );
        assert_eq!(found(&t, "databse"), [("database".into(), Some("databse".into()))]);
        assert!(names("posts").is_empty());
        assert_eq!(names("DB 설졍해줘"), ["database", "설정", "해줘"]);
    }
}
