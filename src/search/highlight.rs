//! What to highlight in a hit: the ranges of a text that match the query's
//! words, computed here because the contentless FTS5 index cannot run
//! `highlight()`. Matching follows the index: words are runs of letters and
//! digits, compared lower-cased with common Latin diacritics removed; a
//! phrase matches consecutive words; a prefix term matches the start of its
//! last word. Offsets are UTF-16 code units, as JavaScript indexes strings.

use super::Term;
use crate::model::Span;

/// Lower-cases `word` and removes the diacritics of common Latin letters
/// (what unicode61's `remove_diacritics 2` does for them). Combining
/// diacritics (U+0300 to U+036F) are dropped as unicode61 drops them: the
/// one lower-casing that yields two characters, `İ` to `i` and U+0307,
/// then folds to `i` as the index has it, and no word carries a mark.
pub fn fold(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
            'ç' | 'ć' | 'č' => 'c',
            'ď' => 'd',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => 'e',
            'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' => 'i',
            'ñ' | 'ń' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
            'ř' => 'r',
            'ś' | 'š' | 'ş' => 's',
            'ť' | 'ţ' => 't',
            'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
            'ý' | 'ÿ' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            other => other,
        })
        .collect()
}

/// A word of the text with its UTF-16 range.
struct Word {
    folded: String,
    start: u32,
    end: u32,
}

fn text_words(text: &str) -> Vec<Word> {
    let mut words = Vec::new();
    let mut offset: u32 = 0;
    let mut current: Option<(u32, String)> = None;
    for c in text.chars() {
        let width = c.len_utf16() as u32;
        if c.is_alphanumeric() {
            match &mut current {
                Some((_, w)) => w.push(c),
                None => current = Some((offset, c.to_string())),
            }
        } else if let Some((start, w)) = current.take() {
            words.push(Word {
                folded: fold(&w),
                start,
                end: offset,
            });
        }
        offset += width;
    }
    if let Some((start, w)) = current {
        words.push(Word {
            folded: fold(&w),
            start,
            end: offset,
        });
    }
    words
}

/// The ranges of `text` matching any of `terms`, sorted and merged.
pub fn spans(text: &str, terms: &[&Term]) -> Vec<Span> {
    if terms.is_empty() || text.is_empty() {
        return Vec::new();
    }
    let words = text_words(text);
    let mut found: Vec<Span> = Vec::new();
    for term in terms {
        let n = term.words.len();
        if n == 0 || n > words.len() {
            continue;
        }
        for at in 0..=(words.len() - n) {
            let matched = term.words.iter().enumerate().all(|(k, w)| {
                let candidate = &words[at + k].folded;
                if k + 1 == n && term.prefix {
                    candidate.starts_with(w.as_str())
                } else {
                    candidate == w
                }
            });
            if matched {
                found.push(Span {
                    start: words[at].start,
                    end: words[at + n - 1].end,
                });
            }
        }
    }
    found.sort_by_key(|s| (s.start, s.end));
    let mut merged: Vec<Span> = Vec::with_capacity(found.len());
    for span in found {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}
