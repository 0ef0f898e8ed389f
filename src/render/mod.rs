//! Safe HTML for the reading pane, in two steps.
//!
//! **Store** ([`sanitise_part`], at parse time): each HTML part of a message
//! goes through ammonia on its own with an allowlist that has no script,
//! event handlers, forms, frames, objects, SVG, MathML, `base`, `meta` or
//! `link`; style attributes keep only listed properties (filtered by
//! [`css`], since ammonia's own property filter refuses to run when
//! `<style>` elements are kept); relative URLs are
//! dropped (they would resolve against the app). Remote image URLs are
//! *kept*, but only in the attributes ammonia lets through (`src`, `srcset`,
//! `background`, `url()` in `style` and `<style>`), so the message can be
//! shown later with or without them.
//!
//! **Render** ([`render`], each time the pane opens a message): the stored
//! HTML goes through the same ammonia pass again (so rows stored by older
//! versions are held to today's rules), this time with an attribute filter
//! that replaces every remote reference by a placeholder unless remote
//! content is allowed, and counts them. `<style>` elements are rewritten by
//! [`css`]. The result is a whole document for `<iframe sandbox srcdoc>`,
//! carrying its own Content-Security-Policy as a second wall: no script, no
//! frames, no fonts, no connections, and images only from `data:`/`cid:`
//! (plus https when allowed: plain `http:` references are rewritten to
//! `https:` when kept, and the policy refuses any that are not). Links get `target="_blank"` and
//! `rel="noopener noreferrer"`; the window intercepts the click and passes
//! the URL to `open_link` (see [`url::safe_link`]).

pub mod cache;
mod css;
mod nesting;
pub mod sender;
pub mod url;

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::model::RenderedBody;
use css::UrlPolicy;
use url::{classify_resource, Resource};

pub use url::{safe_link, RefusedLink};

/// A transparent 1×1 GIF: what a blocked remote image shows instead.
pub const PLACEHOLDER_IMAGE: &str =
    "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7";

/// Elements an e-mail may use. Not among them: script, style-less embeds
/// (iframe, frame, object, embed, applet), forms and their controls, svg,
/// math, base, meta, link, media (audio, video, source, picture).
const TAGS: &[&str] = &[
    "a",
    "abbr",
    "address",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "font",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "main",
    "mark",
    "nav",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "section",
    "small",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Elements removed together with everything inside them.
const DROPPED_WITH_CONTENT: &[&str] = &[
    "script", "template", "title", "iframe", "frame", "frameset", "noembed", "noframes", "object",
    "embed", "applet", "svg", "math", "select", "textarea", "button", "head",
];

/// Attributes any element may carry.
const GENERIC_ATTRIBUTES: &[&str] = &["style", "dir", "lang", "title", "class", "align"];

/// What table cells (`td`, `th`) may keep: layout-only attributes.
const TABLE_CELL_ATTRIBUTES: &[&str] = &[
    "width",
    "height",
    "valign",
    "bgcolor",
    "background",
    "colspan",
    "rowspan",
    "nowrap",
];

/// Per-element attributes (presentational ones e-mail still uses).
const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href"]),
    (
        "img",
        &[
            "src", "srcset", "alt", "width", "height", "border", "hspace", "vspace",
        ],
    ),
    (
        "table",
        &[
            "width",
            "height",
            "border",
            "cellpadding",
            "cellspacing",
            "bgcolor",
            "background",
        ],
    ),
    ("td", TABLE_CELL_ATTRIBUTES),
    ("th", TABLE_CELL_ATTRIBUTES),
    ("tr", &["valign", "bgcolor", "background", "height"]),
    ("tbody", &["valign"]),
    ("thead", &["valign"]),
    ("tfoot", &["valign"]),
    ("col", &["span", "width", "valign"]),
    ("colgroup", &["span", "width", "valign"]),
    ("font", &["color", "face", "size"]),
    ("hr", &["width", "size", "noshade", "color"]),
    ("ol", &["start", "type", "reversed"]),
    ("ul", &["type"]),
    ("li", &["value", "type"]),
    ("div", &["bgcolor", "background"]),
    ("center", &["bgcolor"]),
];

/// Whether remote references are kept for storage, or filtered for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Store,
    Render { allow_remote: bool },
}

/// The attribute decisions ammonia cannot make alone.
fn filter_attribute<'u>(
    mode: Mode,
    blocked: &AtomicUsize,
    element: &str,
    attribute: &str,
    value: &'u str,
) -> Option<Cow<'u, str>> {
    let remote_kept = match mode {
        Mode::Store => true,
        Mode::Render { allow_remote } => allow_remote,
    };
    match attribute {
        "href" => {
            let lower = value.trim().to_ascii_lowercase();
            ["http:", "https:", "mailto:"]
                .iter()
                .any(|s| lower.starts_with(s))
                .then_some(Cow::Borrowed(value))
        }
        "src" | "background" => match classify_resource(value) {
            Resource::Inline => Some(Cow::Borrowed(value)),
            // Protocol-relative `//host/x` would resolve against the app's
            // own scheme: spell it out as https (before ammonia's relative-URL
            // rule would drop it).
            Resource::Remote if remote_kept => Some(absolute(value)),
            Resource::Remote => {
                blocked.fetch_add(1, Ordering::Relaxed);
                (element == "img").then_some(Cow::Borrowed(PLACEHOLDER_IMAGE))
            }
            Resource::Refused => None,
        },
        "srcset" => {
            let urls: Vec<&str> = value
                .split(',')
                .filter_map(|c| c.split_whitespace().next())
                .collect();
            let kinds: Vec<Resource> = urls.iter().map(|u| classify_resource(u)).collect();
            if kinds.contains(&Resource::Refused) {
                return None;
            }
            let remote = kinds.iter().filter(|k| **k == Resource::Remote).count();
            if remote > 0 && !remote_kept {
                blocked.fetch_add(remote, Ordering::Relaxed);
                return None;
            }
            Some(if value.contains("//") {
                Cow::Owned(
                    value
                        .split(',')
                        .map(|c| absolute(c.trim()).into_owned())
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            } else {
                Cow::Borrowed(value)
            })
        }
        "style" => {
            let mut policy = UrlPolicy {
                allow_remote: remote_kept,
                blocked: 0,
            };
            let out = css::sanitise_declarations(value, &mut policy);
            blocked.fetch_add(policy.blocked, Ordering::Relaxed);
            (!out.is_empty()).then_some(Cow::Owned(out))
        }
        // Plain values keep no angle brackets, so the serialised document
        // never holds a `<style` that is not an element.
        _ if value.contains(['<', '>']) => Some(Cow::Owned(value.replace(['<', '>'], ""))),
        _ => Some(Cow::Borrowed(value)),
    }
}

/// ammonia's relative-URL rule: keep only `//host/x`, as `https://host/x`.
fn protocol_relative_as_https(url: &str) -> Option<Cow<'_, str>> {
    let trimmed = url.trim_start();
    trimmed
        .starts_with("//")
        .then(|| Cow::Owned(format!("https:{trimmed}")))
}

/// A remote reference as the https address it is loaded from: `//host/x`
/// and `http://host/x` both become `https://host/x` (a plain-http image
/// would let anyone on the network see and change what is loaded, and the
/// document's policy allows https only); anything else unchanged.
pub(crate) fn absolute(value: &str) -> Cow<'_, str> {
    let trimmed = value.trim_start();
    if trimmed.starts_with("//") {
        Cow::Owned(format!("https:{trimmed}"))
    } else if trimmed
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("http:"))
    {
        let rest = trimmed[5..].trim_start_matches(['/', '\\']);
        Cow::Owned(format!("https://{rest}"))
    } else {
        Cow::Borrowed(value)
    }
}

fn builder(mode: Mode, blocked: Arc<AtomicUsize>) -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::empty();
    b.tags(TAGS.iter().copied().collect())
        .clean_content_tags(DROPPED_WITH_CONTENT.iter().copied().collect())
        .generic_attributes(GENERIC_ATTRIBUTES.iter().copied().collect())
        .tag_attributes(
            TAG_ATTRIBUTES
                .iter()
                .map(|(tag, attrs)| (*tag, attrs.iter().copied().collect::<HashSet<_>>()))
                .collect(),
        )
        .url_schemes(["http", "https", "mailto", "cid", "data"].into())
        // Relative URLs would resolve against the app: dropped, except
        // protocol-relative `//host/x`, which the attribute filter has
        // already judged as remote (and which becomes https here).
        .url_relative(ammonia::UrlRelative::Custom(Box::new(
            protocol_relative_as_https,
        )))
        .link_rel(Some("noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank")
        .strip_comments(true)
        .attribute_filter(move |element, attribute, value| {
            filter_attribute(mode, &blocked, element, attribute, value)
        });
    b
}

/// Sanitises one HTML part for storage (remote URLs kept, see the module
/// documentation).
pub fn sanitise_part(html: &str) -> String {
    sanitise_clipped(html, MAX_HTML)
}

/// `html` cut to `limit` bytes (see [`clip_html`]) and sanitised for storage.
fn sanitise_clipped(html: &str, limit: usize) -> String {
    let html = clip_html(html, limit);
    builder(Mode::Store, Arc::default())
        .clean(&nesting::cap_nesting(&html))
        .to_string()
}

/// The most HTML of one message sanitised and stored (all its HTML parts
/// together): real newsletters stay far below it (a large one is a few
/// hundred KB); past it the rest is left out with [`shortened_note`], so
/// that one huge mail (Gmail takes 25 MB of attachments, and 35 MB whole)
/// costs bounded memory and time when stored and each time it is shown.
/// The text body has its own bound, [`crate::providers::mime::MAX_TEXT`].
pub const MAX_HTML: usize = 4 * 1024 * 1024;

/// The note that ends a shortened body in the reading pane.
pub fn shortened_note(left_out: usize) -> String {
    format!(
        "<p><em>[message shortened: {left_out} bytes of HTML not shown. This message \
         is larger than Ember displays; open it in your provider's web mail to see \
         all of it.]</em></p>"
    )
}

/// `html` cut to `limit` bytes at a tag boundary, with [`shortened_note`].
fn clip_html(html: &str, limit: usize) -> Cow<'_, str> {
    if html.len() <= limit {
        return Cow::Borrowed(html);
    }
    let mut end = limit;
    while !html.is_char_boundary(end) {
        end -= 1;
    }
    let end = html[..end].rfind('<').filter(|p| *p > 0).unwrap_or(end);
    Cow::Owned(format!(
        "{}{}",
        &html[..end],
        shortened_note(html.len() - end)
    ))
}

/// Sanitises each part on its own and joins them: one part's unclosed
/// markup cannot swallow or restyle the next. Together they get
/// [`MAX_HTML`]: parts past it are left out, with a note saying how much.
pub fn sanitise_parts<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut budget = MAX_HTML;
    let mut left_out = 0usize;
    let mut out = Vec::new();
    for part in parts {
        if budget == 0 {
            left_out = left_out.saturating_add(part.len());
            continue;
        }
        out.push(sanitise_clipped(part, budget));
        budget = budget.saturating_sub(part.len());
    }
    let mut joined = out.join("\n<hr>\n");
    if left_out > 0 {
        joined.push_str(&shortened_note(left_out));
    }
    joined
}

/// The Content-Security-Policy of the rendered document.
pub fn content_security_policy(allow_remote: bool) -> String {
    format!(
        "default-src 'none'; img-src data: cid:{}; style-src 'unsafe-inline'; \
         font-src 'none'; media-src 'none'; script-src 'none'; object-src 'none'; \
         frame-src 'none'; child-src 'none'; connect-src 'none'; form-action 'none'; \
         base-uri 'none'",
        if allow_remote { " https:" } else { "" }
    )
}

/// The pane's own look around the message.
const BASE_STYLE: &str = "html{color-scheme:light}body{margin:0;padding:16px;\
font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:14px;line-height:1.45;\
color:#1d1d1f;background:#fff;overflow-wrap:break-word}img{max-width:100%;height:auto}\
pre{white-space:pre-wrap}table{max-width:100%}";

/// Renders stored (sanitised) HTML as the document the reading pane loads
/// into its sandboxed frame, with remote content allowed or replaced.
pub fn render(stored_html: &str, allow_remote: bool) -> RenderedBody {
    let counter = Arc::new(AtomicUsize::new(0));
    // Stored HTML is already within bounds (sanitising may have added a
    // little); rows stored by older versions are held to them here.
    let stored_html = clip_html(stored_html, MAX_HTML + MAX_HTML / 4);
    let body = builder(Mode::Render { allow_remote }, counter.clone())
        .clean(&nesting::cap_nesting(&stored_html))
        .to_string();
    let mut policy = UrlPolicy {
        allow_remote,
        blocked: 0,
    };
    let body = rewrite_style_elements(&body, &mut policy);
    let remote_blocked = counter.load(Ordering::Relaxed) + policy.blocked;
    RenderedBody {
        html: document(&body, allow_remote),
        remote_blocked: u32::try_from(remote_blocked).unwrap_or(u32::MAX),
        remote_allowed: allow_remote,
        sender_unverified: false,
    }
}

/// Renders a plain-text body as a document (for messages without HTML).
pub fn render_text(text: &str) -> RenderedBody {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    RenderedBody {
        html: document(&format!("<pre>{escaped}</pre>"), false),
        remote_blocked: 0,
        remote_allowed: false,
        sender_unverified: false,
    }
}

fn document(body: &str, allow_remote: bool) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <style>{BASE_STYLE}</style></head><body>{body}</body></html>",
        content_security_policy(allow_remote)
    )
}

/// Rewrites the text of every `<style>` element in ammonia's output. The
/// output holds `<style` only as an element (attribute values keep no angle
/// brackets, text is escaped), and a style element's text runs to the first
/// `</style`.
fn rewrite_style_elements(html: &str, policy: &mut UrlPolicy) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = find_ascii_ci(rest, "<style") {
        let Some(gt) = rest[open..].find('>') else {
            break;
        };
        let text_start = open + gt + 1;
        out.push_str(&rest[..text_start]);
        let (text, after) = match find_style_end(&rest[text_start..]) {
            Some(close) => (
                &rest[text_start..text_start + close],
                &rest[text_start + close..],
            ),
            None => (&rest[text_start..], ""),
        };
        out.push_str(&css::sanitise_stylesheet(text, policy));
        rest = after;
        if after.is_empty() {
            out.push_str("</style>");
        }
    }
    out.push_str(rest);
    out
}

/// Where a style element's text ends: the first `</style` followed by
/// whitespace, `/` or `>` (HTML's end-tag rule; `</style\x3E` is text).
fn find_style_end(text: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = find_ascii_ci(&text[from..], "</style") {
        let end = from + at;
        match text.as_bytes().get(end + 7) {
            None | Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') => return Some(end),
            Some(_) => from = end + 7,
        }
    }
    None
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests;
