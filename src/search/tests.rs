use super::highlight::spans;
use super::*;
use crate::model::Span;

fn q(text: &str) -> Query {
    parse(text).unwrap_or_else(|e| panic!("{text:?} did not parse: {e}"))
}

#[test]
fn free_text_is_anded_with_the_last_word_a_prefix() {
    assert_eq!(
        q("quarterly rep").fts_expression().as_deref(),
        Some("\"quarterly\" AND \"rep\"*")
    );
    assert_eq!(
        q("quarterly report ").fts_expression().as_deref(),
        Some("\"quarterly\" AND \"report\""),
        "a trailing space finishes the word"
    );
}

#[test]
fn operators_map_to_columns_and_conditions() {
    let query = q(
        "from:ada@example.org to:bob subject:\"new plan\" has:attachment is:unread \
                   is:starred category:updates in:inbox after:2024-05-01 before:2024/06/01 budget",
    );
    assert_eq!(
        query.fts_expression().as_deref(),
        Some("sender : \"ada example org\"* AND recipients : \"bob\"* AND subject : \"new plan\" AND \"budget\"*")
    );
    assert_eq!(query.has_attachment, Some(true));
    assert_eq!(query.unread, Some(true));
    assert_eq!(query.starred, Some(true));
    assert_eq!(query.category, Some(Category::Updates));
    assert_eq!(query.folders, vec!["inbox".to_owned()]);
    assert_eq!(query.after, Some(1_714_521_600_000));
    assert_eq!(query.before, Some(1_717_200_000_000));
}

#[test]
fn negation_excludes_words_phrases_and_flags() {
    let query = q("invoice -paid -\"out of office\" -from:noreply -is:unread");
    assert_eq!(
        query.fts_expression().as_deref(),
        Some("\"invoice\" NOT \"paid\" NOT \"out of office\" NOT sender : \"noreply\"")
    );
    assert_eq!(query.unread, Some(false));
    let only_negative = q("-paid");
    assert_eq!(only_negative.fts_expression(), None);
    assert_eq!(
        only_negative.negated_expression().as_deref(),
        Some("\"paid\"")
    );
}

#[test]
fn bad_operators_and_dates_say_what_is_wrong() {
    for (text, needle) in [
        ("before:yesterday", "before: expects a date like 2024-05-01"),
        ("after:2024-02-30", "after: expects a date"),
        ("is:important", "is: understands"),
        ("has:pdf", "has: understands only has:attachment"),
        ("category:spam", "category: expects primary"),
        ("colour:red", "unknown operator colour:"),
        ("after:2024-05-02 before:2024-05-01", "earlier day"),
    ] {
        match parse(text) {
            Err(QueryError(message)) => assert!(message.contains(needle), "{text}: {message}"),
            Ok(query) => panic!("{text:?} parsed as {query:?}"),
        }
    }
}

#[test]
fn half_typed_operators_and_fts_syntax_are_harmless() {
    assert!(q("from:").is_empty(), "an operator without a value yet");
    assert_eq!(
        q("a NEAR(b OR c)* ^x").fts_expression().as_deref(),
        Some("\"a\" AND \"near b\" AND \"or\" AND \"c\" AND \"x\"*")
    );
    assert!(q("\"unterminated phrase").fts_expression().is_some());
    assert_eq!(
        q("https://example.org/x").fts_expression().as_deref(),
        Some("\"https example org x\"")
    );
    assert!(q("   ").is_empty());
    assert!(q("\"()*:").is_empty());
}

#[test]
fn highlights_are_utf16_ranges_of_words_phrases_and_prefixes() {
    let query = q("\"quarterly report\" bud");
    let terms = query.highlight_terms(Field::Subject);
    let text = "📈 Quarterly REPORT and Budget";
    // The emoji is two UTF-16 code units.
    assert_eq!(
        spans(text, &terms),
        vec![Span { start: 3, end: 19 }, Span { start: 24, end: 30 }]
    );
    let accented = q("resume");
    assert_eq!(
        spans("Résumé attached", &accented.highlight_terms(Field::Subject)),
        vec![Span { start: 0, end: 6 }]
    );
    let from_only = q("from:ada");
    assert!(
        from_only.highlight_terms(Field::Subject).is_empty(),
        "a sender filter does not light up the subject"
    );
}

/// Found by the fuzzer: U+036F (a combining letter, alphabetic to Rust)
/// alone was a word that folding emptied, and an empty word is an empty
/// FTS5 phrase. Such words are dropped, as the index drops them; inside a
/// word the mark is dropped and the word kept.
#[test]
fn words_of_combining_marks_alone_are_dropped() {
    assert!(parse("\u{36f}").map(|q| q.terms.is_empty()).unwrap_or(true));
    assert_eq!(words("a\u{36f}b \u{363}\u{36f} c"), ["ab", "c"]);
}
