//! The plain-text alternative of a composed HTML body: what text-only
//! readers and previews show, and what a multipart/alternative message
//! must carry beside its HTML.

/// Lines are wrapped here (RFC 5322 asks for at most 78 characters).
const WIDTH: usize = 76;

/// `html` as readable text: paragraphs, lists, quotes (`> `) and links
/// (`[n]` with the address below) kept. Never fails: unreadable markup
/// falls back to the text with tags stripped.
pub fn plain_text(html: &str) -> String {
    // No `**bold**` or `*italic*` markers: the text part is read as text.
    let config = html2text::config::plain_no_decorate().link_footnotes(true);
    match config.string_from_read(html.as_bytes(), WIDTH) {
        Ok(text) => text.trim_end().to_owned(),
        Err(_) => strip_tags(html),
    }
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structure_survives_as_text() {
        let text = plain_text(
            "<p>Hi <b>Sam</b>,</p><ul><li>one</li><li>two</li></ul>\
             <blockquote><p>quoted</p></blockquote><p><a href=\"https://x.example/a\">link</a></p>",
        );
        assert!(text.contains("Hi Sam,"), "{text}");
        assert!(text.contains("one") && text.contains("two"), "{text}");
        assert!(text.contains("> quoted"), "{text}");
        assert!(text.contains("https://x.example/a"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 78), "{text}");
    }
}
