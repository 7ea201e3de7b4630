//! Typo tolerance for the words that ask for a skill (objects and serving intents): a Latin
//! word of 5 letters or more one edit away (insertion, deletion, substitution or two letters
//! swapped: "databse", "sqlalchmey", "postgress"), and a Hangul word one jamo away (a vowel in a
//! two-syllable word, any jamo in a longer one: "설졍" for 설정, "마이그레이숀" for 마이그레이션).
//! Defines [`Typos`], an index built with the dictionary (deletion neighbourhoods for Latin,
//! jamo masks for Hangul), so that a lookup costs what the word holds, not the dictionary's size.

use std::collections::HashMap;

/// Shortest Latin word checked for typos, in letters.
pub const LATIN_MIN: usize = 5;
/// Hangul words checked for typos, in syllables.
const HANGUL_LEN: std::ops::RangeInclusive<usize> = 2..=6;

#[derive(Default)]
pub struct Typos {
    latin: HashMap<String, Vec<u32>>,
    hangul: HashMap<String, Vec<u32>>,
}

impl Typos {
    /// Indexes term `id`'s Latin spelling `word`.
    pub fn add_latin(&mut self, id: u32, word: &str) {
        if word.len() < LATIN_MIN || !word.bytes().all(|b| b.is_ascii_lowercase()) {
            return;
        }
        for k in deletions(word) {
            push(self.latin.entry(k).or_default(), id);
        }
    }

    /// Indexes term `id`, a Hangul word.
    pub fn add_hangul(&mut self, id: u32, word: &[char]) {
        if !HANGUL_LEN.contains(&word.len()) || !word.iter().all(|c| syllable(*c).is_some()) {
            return;
        }
        for k in masks(word) {
            push(self.hangul.entry(k).or_default(), id);
        }
    }

    /// Terms that may be `raw` (or its canonical form `canon`) mistyped; the caller checks.
    pub fn latin(&self, raw: &str, canon: &str) -> Vec<u32> {
        if raw.len() < LATIN_MIN || !raw.bytes().all(|b| b.is_ascii_lowercase()) {
            return Vec::new();
        }
        let mut ids: Vec<u32> = deletions(raw)
            .iter()
            .chain(&deletions(canon))
            .filter_map(|k| self.latin.get(k))
            .flatten()
            .copied()
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Terms one jamo away from the first syllables of `syls`: (term, syllables it covers),
    /// longest first.
    pub fn hangul(&self, syls: &[char]) -> Vec<(u32, usize)> {
        let mut out = Vec::new();
        for len in HANGUL_LEN.rev().filter(|l| *l <= syls.len()) {
            let word = &syls[..len];
            if !word.iter().all(|c| syllable(*c).is_some()) {
                continue;
            }
            for k in masks(word) {
                for &id in self.hangul.get(&k).into_iter().flatten() {
                    if !out.contains(&(id, len)) {
                        out.push((id, len));
                    }
                }
            }
        }
        out
    }
}

fn push(ids: &mut Vec<u32>, id: u32) {
    if !ids.contains(&id) {
        ids.push(id);
    }
}

/// The word and every form of it with one letter deleted.
fn deletions(w: &str) -> Vec<String> {
    let mut out = vec![w.to_owned()];
    for i in 0..w.len() {
        let mut d = w.to_owned();
        d.remove(i);
        out.push(d);
    }
    out
}

/// A Hangul syllable's (initial, medial, final) jamo indices.
fn syllable(c: char) -> Option<(u32, u32, u32)> {
    let i = (c as u32).checked_sub(0xAC00).filter(|i| *i < 11172)?;
    Some((i / 588, (i / 28) % 21, i % 28))
}

/// The word with one syllable's jamo masked, for each syllable and each jamo that may be
/// mistyped (the vowel only, in a two-syllable word).
fn masks(word: &[char]) -> Vec<String> {
    let slots: &[u32] = if word.len() == 2 { &[1] } else { &[0, 1, 2] };
    let mut out = Vec::new();
    for k in 0..word.len() {
        let Some((i, m, f)) = syllable(word[k]) else { continue };
        for slot in slots {
            let code = match slot {
                0 => m * 28 + f,
                1 => 600 + i * 28 + f,
                _ => 1200 + i * 21 + m,
            };
            let masked = char::from_u32(0xF0000 + code).expect("a private-use character");
            out.push(word.iter().enumerate().map(|(j, c)| if j == k { masked } else { *c }).collect());
        }
    }
    out
}

/// Optimal string alignment distance (edits with adjacent transpositions) of two ASCII words,
/// up to 2.
pub fn osa(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > 1 {
        return 2;
    }
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()].min(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_and_hangul_typos() {
        assert_eq!(osa("sqlalchmey", "sqlalchemy"), 1);
        assert_eq!(osa("databse", "database"), 1);
        assert_eq!(osa("abc", "abcde"), 2);
        let mut t = Typos::default();
        t.add_latin(1, "postgres");
        assert_eq!(t.latin("postgress", "postgress"), [1]);
        assert!(t.latin("posts", "post").is_empty());
        let w = |s: &str| s.chars().collect::<Vec<_>>();
        t.add_hangul(2, &w("설정"));
        t.add_hangul(3, &w("마이그레이션"));
        assert_eq!(t.hangul(&w("설졍해줘")), [(2, 2)]);
        assert!(t.hangul(&w("선정")).is_empty(), "a two-syllable word: only its vowels");
        assert_eq!(t.hangul(&w("마이그레이숀을")), [(3, 6)]);
        assert!(t.hangul(&w("마이크로")).is_empty());
    }
}
