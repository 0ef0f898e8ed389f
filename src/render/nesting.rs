//! A linear pass that keeps hostile HTML shallow before it is parsed.
//!
//! An HTML tree builder checks the stack of open elements on every tag, so
//! markup nested N deep costs about N² to parse: 40,000 unclosed `<div>`
//! took ten seconds, 200,000 did not finish in a minute, and one such mail
//! froze the reading pane and the sync batch sanitising it. Browsers cap the
//! depth they build (Blink at 512); this pass does the same ahead of the
//! sanitiser: a start tag that would open an element deeper than
//! [`MAX_DEPTH`], or beyond the first [`MAX_ELEMENTS`], is left out (its
//! text stays), and so is the end tag that would close it.
//!
//! The pass only ever removes tags, and its output still goes through the
//! sanitiser, so a tag it misreads (odd quoting, a `>` in an attribute) can
//! at worst turn into escaped text, never into markup.

use std::borrow::Cow;

/// The deepest element kept, as browsers cap it.
pub const MAX_DEPTH: usize = 512;

/// The most elements kept from one document.
pub const MAX_ELEMENTS: usize = 50_000;

/// Elements that never have content, so never nest.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// `html` with tags beyond [`MAX_DEPTH`] or [`MAX_ELEMENTS`] removed; the
/// input itself when nothing had to go.
pub fn cap_nesting(html: &str) -> Cow<'_, str> {
    // Fewer tags than the depth cap: nothing can be too deep or too many.
    if memchr_count(html.as_bytes(), b'<') <= MAX_DEPTH {
        return Cow::Borrowed(html);
    }
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    let mut open: Vec<String> = Vec::new();
    // Names of start tags left out and not yet closed, with how many.
    let mut dropped: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut elements = 0usize;
    let mut changed = false;
    let mut i = 0;
    let mut text_from = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        let Some(tag) = read_tag(html, i) else {
            i += 1;
            continue;
        };
        out.push_str(&html[text_from..i]);
        let raw = &html[i..tag.end];
        let keep = match tag.kind {
            Kind::Other => true,
            Kind::Start { ref name, closes } => {
                elements += 1;
                let void = closes || VOID.contains(&name.as_str());
                if elements > MAX_ELEMENTS || (!void && open.len() >= MAX_DEPTH) {
                    if !void {
                        *dropped.entry(name.clone()).or_default() += 1;
                    }
                    false
                } else {
                    if !void {
                        open.push(name.clone());
                    }
                    true
                }
            }
            Kind::End { ref name } => {
                if let Some(n) = dropped.get_mut(name).filter(|n| **n > 0) {
                    *n -= 1;
                    false
                } else {
                    if let Some(pos) = open.iter().rposition(|o| o == name) {
                        open.truncate(pos);
                    }
                    true
                }
            }
        };
        if keep {
            out.push_str(raw);
        } else {
            changed = true;
        }
        i = tag.end;
        text_from = i;
    }
    if !changed {
        return Cow::Borrowed(html);
    }
    out.push_str(&html[text_from..]);
    Cow::Owned(out)
}

fn memchr_count(bytes: &[u8], needle: u8) -> usize {
    bytes.iter().filter(|b| **b == needle).count()
}

enum Kind {
    Start {
        name: String,
        closes: bool,
    },
    End {
        name: String,
    },
    /// A comment, doctype or processing instruction: kept as it is.
    Other,
}

struct Tag {
    kind: Kind,
    end: usize,
}

/// Reads the tag starting at `at` (a `<`): its kind and where it ends.
/// `None` when it is no tag (`a < b`), which stays text.
fn read_tag(html: &str, at: usize) -> Option<Tag> {
    let bytes = html.as_bytes();
    let next = *bytes.get(at + 1)?;
    if next == b'!' || next == b'?' {
        let end = if html[at..].starts_with("<!--") {
            html[at + 4..]
                .find("-->")
                .map_or(bytes.len(), |p| at + 4 + p + 3)
        } else {
            html[at..].find('>').map_or(bytes.len(), |p| at + p + 1)
        };
        return Some(Tag {
            kind: Kind::Other,
            end,
        });
    }
    let (closing, name_at) = if next == b'/' {
        (true, at + 2)
    } else {
        (false, at + 1)
    };
    let name_len = bytes[name_at..]
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-' || **b == b':')
        .count();
    if name_len == 0 || !bytes[name_at].is_ascii_alphabetic() {
        return None;
    }
    let name = html[name_at..name_at + name_len].to_ascii_lowercase();
    // The end of the tag: the first `>` outside quotes.
    let mut quote: Option<u8> = None;
    let mut j = name_at + name_len;
    while j < bytes.len() {
        let b = bytes[j];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => break,
            None => {}
        }
        j += 1;
    }
    let end = (j + 1).min(bytes.len());
    let closes = end >= 2 && bytes[end.saturating_sub(2)] == b'/';
    Some(Tag {
        kind: if closing {
            Kind::End { name }
        } else {
            Kind::Start { name, closes }
        },
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_markup_is_left_alone() {
        let html = "<p>Hello <b>there</b></p>".repeat(200);
        assert!(matches!(cap_nesting(&html), Cow::Borrowed(_)));
        let deep_but_fine = "<div>".repeat(400) + "x" + &"</div>".repeat(400);
        assert!(matches!(cap_nesting(&deep_but_fine), Cow::Borrowed(_)));
    }

    #[test]
    fn nesting_beyond_the_cap_is_flattened_and_its_text_kept() {
        let html = "<div>".repeat(2_000) + "deep text" + &"</div>".repeat(2_000);
        let capped = cap_nesting(&html);
        assert_eq!(capped.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(capped.matches("</div>").count(), MAX_DEPTH);
        assert!(capped.contains("deep text"));
    }

    #[test]
    fn quoted_angle_brackets_and_comments_do_not_confuse_it() {
        let html = format!(
            "<!-- <div> -->{}<a title=\"a>b\" href='x'>link</a>",
            "<span>".repeat(600)
        );
        let capped = cap_nesting(&html);
        assert!(capped.contains("<!-- <div> -->"));
        assert!(capped.contains("<a title=\"a>b\" href='x'>link</a>") || capped.contains("link"));
        assert_eq!(capped.matches("<span>").count(), MAX_DEPTH);
    }

    #[test]
    fn two_hundred_thousand_unclosed_tags_pass_in_linear_time() {
        let html = "<div>".repeat(200_000) + "x";
        let started = std::time::Instant::now();
        let capped = cap_nesting(&html);
        assert_eq!(capped.matches("<div>").count(), MAX_DEPTH);
        // Not a benchmark: a guard against going quadratic again (the
        // quadratic pass took minutes here).
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
