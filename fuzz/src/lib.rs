//! What the fuzz targets check besides "no panic, no hang": the safety
//! property of the reading pane, judged the way the browser will judge it.
//!
//! [`check_html`] parses HTML that Ember produced (a stored part or the
//! rendered document) with the HTML5 parser and walks the tree the frame
//! would build: no element that runs or embeds anything, no event handler,
//! no link outside http, https and mailto, and, when remote content is not
//! allowed, no reference that would make the frame fetch from the network
//! (`src`, `srcset`, `background`, `url()` in `style` attributes and
//! `<style>` elements, `@import`, `image-set()`). CSS is read with the
//! tokenizer browsers' CSS syntax is specified by (cssparser), so escapes
//! such as `u\72l(` are decoded before the check, as the browser decodes them.
//!
//! The oracle is independent of the sanitiser's own tables: it does not ask
//! "did ammonia keep only allowed tags" but "could this document run script
//! or load a remote resource".

use std::cell::RefCell;

use cssparser::{Parser, Token};
use html5ever::tendril::TendrilSink;
use html5ever::{ns, parse_document, ParseOpts};
use markup5ever_rcdom::{Handle, NodeData, RcDom};

/// Elements that run script, embed other documents or content, submit
/// forms, change how URLs resolve, or load media.
const FORBIDDEN_ELEMENTS: &[&str] = &[
    "script",
    "noscript",
    "iframe",
    "frame",
    "frameset",
    "object",
    "embed",
    "applet",
    "param",
    "base",
    "link",
    "form",
    "input",
    "button",
    "select",
    "textarea",
    "isindex",
    "keygen",
    "audio",
    "video",
    "source",
    "track",
    "picture",
    "portal",
    "template",
    "image",
    "xmp",
    "plaintext",
    "noembed",
    "noframes",
    "marquee",
    "bgsound",
    "layer",
    "ilayer",
    "xml",
];

/// Attributes that hold a URL the browser may follow or fetch.
const URL_ATTRIBUTES: &[&str] = &[
    "href",
    "src",
    "srcset",
    "background",
    "poster",
    "action",
    "formaction",
    "cite",
    "longdesc",
    "lowsrc",
    "dynsrc",
    "data",
    "codebase",
    "ping",
    "manifest",
    "profile",
    "usemap",
    "icon",
    "archive",
    "classid",
    "srcdoc",
];

/// CSS functions that take a URL or run code (besides `url()` itself,
/// which is checked by its argument).
const FORBIDDEN_CSS_FUNCTIONS: &[&str] = &[
    "expression",
    "image-set",
    "-webkit-image-set",
    "image",
    "element",
    "-moz-element",
    "cross-fade",
    "-webkit-cross-fade",
    "paint",
    "src",
];

/// At-rules that load something or change how the sheet is read.
const FORBIDDEN_AT_RULES: &[&str] = &["import", "font-face", "namespace", "charset"];

/// Where HTML under check came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A part as stored (remote images kept for later), checked as a body.
    Stored,
    /// The document [`ember::render::render`] produced: its own head (the
    /// policy and referrer `<meta>` and the base style) is allowed.
    Rendered {
        /// Whether remote content was allowed when it was rendered.
        allow_remote: bool,
    },
}

/// Panics (which libFuzzer reports as a crash, with the input saved) when
/// `html` could run script or, unless allowed, load a remote resource.
pub fn assert_safe(html: &str, origin: Origin, input: &[u8]) {
    if let Err(why) = check_html(html, origin) {
        panic!(
            "unsafe HTML survived: {why}\n--- output ---\n{html}\n--- input (lossy) ---\n{}",
            String::from_utf8_lossy(input)
        );
    }
}

/// Checks `html` as the frame would parse it; the first violation found.
pub fn check_html(html: &str, origin: Origin) -> Result<(), String> {
    let dom = parse_document(RcDom::default(), ParseOpts::default())
        .from_utf8()
        .one(html.as_bytes());
    let allow_remote = match origin {
        Origin::Stored => true,
        Origin::Rendered { allow_remote } => allow_remote,
    };
    let walk = Walk {
        stored: origin == Origin::Stored,
        allow_remote,
        own_head: matches!(origin, Origin::Rendered { .. }),
        metas: RefCell::new(0),
    };
    walk.node(&dom.document, false)
}

struct Walk {
    stored: bool,
    allow_remote: bool,
    own_head: bool,
    metas: RefCell<usize>,
}

impl Walk {
    fn node(&self, node: &Handle, in_head: bool) -> Result<(), String> {
        let mut in_head = in_head;
        if let NodeData::Element { name, attrs, .. } = &node.data {
            if name.ns != ns!(html) {
                return Err(format!(
                    "a foreign element <{}> ({:?})",
                    name.local, name.ns
                ));
            }
            let tag = str::to_ascii_lowercase(&name.local);
            if FORBIDDEN_ELEMENTS.contains(&tag.as_str()) {
                return Err(format!("a <{tag}> element"));
            }
            if tag == "head" {
                in_head = true;
            }
            let attrs = attrs.borrow();
            if tag == "meta" {
                self.meta(in_head)?;
            }
            for attr in attrs.iter() {
                if attr.name.ns != ns!() {
                    return Err(format!(
                        "a namespaced attribute {}:{}",
                        attr.name.ns, attr.name.local
                    ));
                }
                let attr_name = str::to_ascii_lowercase(&attr.name.local);
                if tag == "meta" {
                    continue;
                }
                self.attribute(&tag, &attr_name, &attr.value)?;
            }
            if tag == "style" {
                let text: String = node
                    .children
                    .borrow()
                    .iter()
                    .filter_map(|c| match &c.data {
                        NodeData::Text { contents } => Some(contents.borrow().to_string()),
                        _ => None,
                    })
                    .collect();
                // A stored part's <style> text is rewritten when it is
                // rendered (render::css), so only the rendered one is judged.
                if !(self.own_head && in_head) && !self.stored {
                    self.css(&text)
                        .map_err(|e| format!("in a <style> element: {e}"))?;
                }
            }
        }
        for child in node.children.borrow().iter() {
            self.node(child, in_head)?;
        }
        Ok(())
    }

    /// Only the rendered document's own two `<meta>` (policy and referrer,
    /// plus the charset) in its head.
    fn meta(&self, in_head: bool) -> Result<(), String> {
        let mut metas = self.metas.borrow_mut();
        *metas += 1;
        if !(self.own_head && in_head && *metas <= 3) {
            return Err("a <meta> element that is not the document's own".into());
        }
        Ok(())
    }

    fn attribute(&self, tag: &str, name: &str, value: &str) -> Result<(), String> {
        if name.starts_with("on") {
            return Err(format!("an event handler {name} on <{tag}>"));
        }
        if name == "http-equiv" || name.starts_with("xmlns") {
            return Err(format!("attribute {name} on <{tag}>"));
        }
        if name == "style" {
            return self
                .css(value)
                .map_err(|e| format!("in a style attribute of <{tag}>: {e}"));
        }
        if !URL_ATTRIBUTES.contains(&name) {
            return Ok(());
        }
        match name {
            "href" => {
                let url = normalise_url(value);
                if ["http:", "https:", "mailto:"]
                    .iter()
                    .any(|s| url.starts_with(s))
                {
                    Ok(())
                } else {
                    Err(format!("<{tag} href={value:?}>: not http, https or mailto"))
                }
            }
            "src" | "background" => self
                .resource(value)
                .map_err(|e| format!("<{tag} {name}>: {e}")),
            "srcset" => {
                for candidate in value.split(',') {
                    let url = candidate.split_whitespace().next().unwrap_or_default();
                    self.resource(url)
                        .map_err(|e| format!("<{tag} srcset>: {e}"))?;
                }
                Ok(())
            }
            _ => Err(format!("URL attribute {name} on <{tag}>")),
        }
    }

    /// A URL the frame would fetch: inline data, or http(s) when allowed.
    fn resource(&self, value: &str) -> Result<(), String> {
        let url = normalise_url(value);
        if url.is_empty() || url.starts_with("data:") || url.starts_with("cid:") {
            return Ok(());
        }
        let remote = url.starts_with("http:") || url.starts_with("https:") || url.starts_with("//");
        if remote && self.allow_remote {
            return Ok(());
        }
        Err(format!(
            "{value:?} would be fetched ({})",
            if remote {
                "remote content is not allowed"
            } else {
                "not an allowed scheme"
            }
        ))
    }

    fn css(&self, css: &str) -> Result<(), String> {
        let mut parser = Parser::new(css);
        self.css_tokens(&mut parser, true)
    }

    /// `rules`: whether an at-rule here is one (the top level and `{}`
    /// blocks); inside `()` and `[]` an at-keyword is only a token.
    fn css_tokens(&self, p: &mut Parser<'_>, rules: bool) -> Result<(), String> {
        let mut found: Result<(), String> = Ok(());
        loop {
            let token = match p.next_including_whitespace_and_comments() {
                Ok(t) => t.clone(),
                Err(_) => break,
            };
            match &token {
                Token::UnquotedUrl(url) => self.resource(url)?,
                Token::AtKeyword(name)
                    if rules
                        && FORBIDDEN_AT_RULES.contains(&name.to_ascii_lowercase().as_str()) =>
                {
                    return Err(format!("@{name}"))
                }
                Token::Function(name) => {
                    let name = name.to_ascii_lowercase();
                    if FORBIDDEN_CSS_FUNCTIONS.contains(&name.as_str()) {
                        return Err(format!("{name}()"));
                    }
                    let is_url = name == "url";
                    let _ = p.parse_nested_block(|p| -> Result<(), cssparser::ParseError<()>> {
                        if is_url {
                            let arg = loop {
                                match p.next_including_whitespace_and_comments() {
                                    Ok(Token::WhiteSpace(_) | Token::Comment(_)) => continue,
                                    Ok(Token::QuotedString(s)) => break Some(s.to_string()),
                                    // `url(` with anything but a string is
                                    // invalid CSS: nothing is fetched.
                                    Ok(_) => break None,
                                    Err(_) => break None,
                                }
                            };
                            if let Some(arg) = arg {
                                if let Err(e) = self.resource(&arg) {
                                    found = Err(format!("url({e})"));
                                }
                            }
                        }
                        if found.is_ok() {
                            found = self.css_tokens(p, false);
                        }
                        Ok(())
                    });
                    found.clone()?;
                }
                Token::ParenthesisBlock | Token::SquareBracketBlock | Token::CurlyBracketBlock => {
                    let rules = matches!(token, Token::CurlyBracketBlock);
                    let _ = p.parse_nested_block(|p| -> Result<(), cssparser::ParseError<()>> {
                        found = self.css_tokens(p, rules);
                        Ok(())
                    });
                    found.clone()?;
                }
                _ => {}
            }
        }
        found
    }
}

/// A URL as the browser reads its scheme: entities already decoded by the
/// parser, leading and embedded ASCII whitespace and control characters
/// removed (`java\tscript:` is `javascript:`), backslashes read as slashes
/// (as in http URLs), lower-cased.
fn normalise_url(value: &str) -> String {
    value
        .chars()
        .filter(|c| !(c.is_ascii_whitespace() || c.is_ascii_control()))
        .map(|c| if c == '\\' { '/' } else { c })
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Panics unless the oracle flags what a browser would run or fetch and
/// passes what it would not: run once when a target starts (libFuzzer's
/// initialiser), so an oracle that could never fail is caught at once.
pub fn self_check() {
    let stored = Origin::Stored;
    let blocked = Origin::Rendered {
        allow_remote: false,
    };
    assert!(check_html("<p>hi <a href='https://x'>x</a></p>", blocked).is_ok());
    assert!(check_html("<script>alert(1)</script>", stored).is_err());
    assert!(check_html("<p onclick=x>", stored).is_err());
    assert!(check_html("<a href='java\tscript:x'>", stored).is_err());
    assert!(check_html("<svg><a>", stored).is_err());
    assert!(check_html("<img src='https://t/x.gif'>", stored).is_ok());
    assert!(check_html("<img src='https://t/x.gif'>", blocked).is_err());
    assert!(check_html("<img srcset='a.png 1x, //t/x 2x'>", blocked).is_err());
    assert!(check_html("<p style='background:u\\72l(http://t/x)'>", blocked).is_err());
    assert!(check_html("<p style='background:url(data:x)'>", blocked).is_ok());
    assert!(check_html("<p>x</p><style>@import 'x.css';</style>", blocked).is_err());
    assert!(check_html("<p>x</p><style>@media x{@import 'x.css';}</style>", blocked).is_err());
    assert!(check_html("<p>x</p><style>*[{}@import'x.css']{}</style>", blocked).is_ok());
    assert!(check_html("<p>x</p><style>p{color:red}</style>", blocked).is_ok());
    assert!(check_html(
        "<p>x</p><style>p{b:image-set('http://x' 1x)}</style>",
        blocked
    )
    .is_err());
    assert!(check_html("<meta http-equiv=refresh content='0;url=x'>", stored).is_err());
    let shown = ember::render::render("<img src='https://t/x.gif'><p>hi</p>", false);
    assert_eq!(check_html(&shown.html, blocked), Ok(()));
    assert!(
        check_html(&shown.html, stored).is_err(),
        "its own head counts as a document's"
    );
}
