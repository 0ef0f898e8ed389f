//! What the user types in the search box: `search::parse` (and the work
//! item search's parser) to the FTS5 expression the store runs, and the
//! highlighter over the query text itself. The expression must stay well
//! formed: every word is letters and digits inside balanced quotes, so no
//! typed text can become FTS5 syntax.
#![no_main]

use ember::search::{self, highlight, Field};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = search::work_items::parse(text);
    let Ok(query) = search::parse(text) else {
        return;
    };
    for term in &query.terms {
        assert!(!term.words.is_empty(), "an empty term: {query:?}");
        for word in &term.words {
            assert!(
                !word.is_empty() && word.chars().all(char::is_alphanumeric),
                "a word that is not letters and digits: {word:?}"
            );
        }
    }
    for expr in [query.fts_expression(), query.negated_expression()]
        .into_iter()
        .flatten()
    {
        assert_eq!(
            expr.matches('"').count() % 2,
            0,
            "unbalanced quotes: {expr}"
        );
    }
    // Highlight ranges are UTF-16 offsets into the text, sorted, disjoint.
    let units = text.encode_utf16().count() as u32;
    let terms = query.highlight_terms(Field::Subject);
    let mut last_end = 0;
    for span in highlight::spans(text, &terms) {
        assert!(
            span.start < span.end && span.end <= units,
            "{span:?} in {units} units"
        );
        assert!(span.start >= last_end, "overlapping spans");
        last_end = span.end;
    }
});
