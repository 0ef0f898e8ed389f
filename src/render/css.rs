//! Stylesheets from `<style>` elements, rewritten so that they can load
//! nothing the user did not allow.
//!
//! The text is tokenised with `cssparser` (the tokenizer ammonia itself uses
//! for `style` attributes), so CSS escapes, comments and odd spacing are
//! decoded before any decision: `u\72l(...)` is a `url(` token here just as it
//! is in the browser. Every `url(...)` is then kept (when remote content is
//! allowed and it is http or https), or replaced by `none` and counted;
//! `@import`, `@font-face`, `@namespace` and `@charset` rules are dropped
//! whole, as are `image-set()` and legacy `expression()` values. Comments and
//! HTML comment markers disappear, and every `<` in the output is written as
//! a CSS escape so that no string can close the `<style>` element early.

use cssparser::{Delimiter, ParseError, Parser, ToCss, Token};

use super::url::{classify_resource, Resource};

/// What to do with remote references, and how many were blocked.
#[derive(Debug)]
pub(crate) struct UrlPolicy {
    /// Keep http(s) references.
    pub allow_remote: bool,
    /// Remote references replaced so far.
    pub blocked: usize,
}

impl UrlPolicy {
    /// The `url(...)` (or `none`) to write for `url`.
    pub(crate) fn css_url(&mut self, url: &str) -> String {
        match classify_resource(url) {
            Resource::Remote if self.allow_remote => {
                let mut out = String::from("url(");
                let _ = cssparser::serialize_string(super::absolute(url.trim()).trim(), &mut out);
                out.push(')');
                out
            }
            Resource::Remote => {
                self.blocked += 1;
                "none".into()
            }
            Resource::Inline => {
                let mut out = String::from("url(");
                let _ = cssparser::serialize_string(url.trim(), &mut out);
                out.push(')');
                out
            }
            Resource::Refused => "none".into(),
        }
    }
}

/// At-rules whose whole body is dropped: they load (import, fonts) or
/// change how the rest is read.
const DROPPED_AT_RULES: &[&str] = &["import", "font-face", "namespace", "charset"];

/// Functions kept: colours, arithmetic, gradients, timing, transforms, and
/// the functional pseudo-classes of selectors. Any other function (among
/// them `image-set()`, which takes bare strings as URLs, `expression()`,
/// which ran script in old engines, and names disguised with escapes such
/// as `\20url(`) is replaced by `none`.
const KEPT_FUNCTIONS: &[&str] = &[
    "rgb",
    "rgba",
    "hsl",
    "hsla",
    "hwb",
    "lab",
    "lch",
    "oklab",
    "oklch",
    "color",
    "color-mix",
    "calc",
    "min",
    "max",
    "clamp",
    "var",
    "linear-gradient",
    "radial-gradient",
    "repeating-linear-gradient",
    "repeating-radial-gradient",
    "conic-gradient",
    "cubic-bezier",
    "steps",
    "translate",
    "translatex",
    "translatey",
    "rotate",
    "scale",
    "scalex",
    "scaley",
    "matrix",
    "skew",
    "not",
    "is",
    "where",
    "has",
    "nth-child",
    "nth-last-child",
    "nth-of-type",
    "nth-last-of-type",
    "lang",
    "dir",
    "format",
    "local",
];

fn is_dropped_function(name: &str) -> bool {
    !KEPT_FUNCTIONS.contains(&name.to_ascii_lowercase().as_str())
}

fn reads_like_script(text: &str) -> bool {
    let squashed: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    ["javascript:", "vbscript:", "expression("]
        .iter()
        .any(|s| squashed.contains(s))
}

/// Rewrites a stylesheet under `policy`.
pub(crate) fn sanitise_stylesheet(css: &str, policy: &mut UrlPolicy) -> String {
    let mut parser = Parser::new(css);
    let mut out = String::with_capacity(css.len());
    rewrite(&mut parser, policy, &mut out);
    escape_angle_brackets(&out)
}

/// CSS properties a `style` attribute keeps. No `position` (a message could
/// overlay the app's own look), no `behavior` or `-moz-binding`.
pub(crate) const STYLE_PROPERTIES: &[&str] = &[
    "background",
    "background-color",
    "background-image",
    "background-position",
    "background-repeat",
    "background-size",
    "border",
    "border-bottom",
    "border-bottom-color",
    "border-bottom-style",
    "border-bottom-width",
    "border-collapse",
    "border-color",
    "border-left",
    "border-left-color",
    "border-left-style",
    "border-left-width",
    "border-radius",
    "border-right",
    "border-right-color",
    "border-right-style",
    "border-right-width",
    "border-spacing",
    "border-style",
    "border-top",
    "border-top-color",
    "border-top-style",
    "border-top-width",
    "border-width",
    "box-sizing",
    "clear",
    "color",
    "direction",
    "display",
    "float",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-variant",
    "font-weight",
    "height",
    "letter-spacing",
    "line-height",
    "list-style",
    "list-style-position",
    "list-style-type",
    "margin",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "margin-top",
    "max-height",
    "max-width",
    "min-height",
    "min-width",
    "opacity",
    "overflow",
    "padding",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "padding-top",
    "table-layout",
    "text-align",
    "text-decoration",
    "text-indent",
    "text-transform",
    "vertical-align",
    "visibility",
    "white-space",
    "width",
    "word-break",
    "word-spacing",
    "word-wrap",
    "overflow-wrap",
];

/// Rewrites a `style` attribute under `policy`, keeping only declarations
/// of [`STYLE_PROPERTIES`] (names compared after CSS unescaping).
pub(crate) fn sanitise_declarations(css: &str, policy: &mut UrlPolicy) -> String {
    let mut p = Parser::new(css);
    let mut out = String::with_capacity(css.len());
    while !p.is_exhausted() {
        let before = p.position();
        let _ = p.parse_until_after(Delimiter::Semicolon, |p| -> Result<(), ParseError<()>> {
            let name = p.expect_ident()?.to_ascii_lowercase();
            p.expect_colon()?;
            if !STYLE_PROPERTIES.contains(&name.as_str()) {
                while p.next().is_ok() {}
                return Ok(());
            }
            let mut value = String::new();
            rewrite(p, policy, &mut value);
            let value = value.trim();
            if !value.is_empty() {
                out.push_str(&name);
                out.push(':');
                out.push_str(value);
                out.push(';');
            }
            Ok(())
        });
        if p.position() == before {
            break;
        }
    }
    escape_angle_brackets(out.trim_end_matches(';'))
}

fn escape_angle_brackets(css: &str) -> String {
    css.replace('<', "\\3c ").replace('>', "\\3e ")
}

/// Copies tokens from `p` to `out`, rewriting as it goes.
fn rewrite(p: &mut Parser<'_>, policy: &mut UrlPolicy, out: &mut String) {
    // Set while skipping a dropped at-rule's prelude: everything up to its
    // `;` or through its `{}` block goes.
    let mut skipping_at_rule = false;
    while let Ok(token) = p.next_including_whitespace_and_comments() {
        let token = token.clone();
        if skipping_at_rule {
            match token {
                Token::Semicolon | Token::CurlyBracketBlock => skipping_at_rule = false,
                _ => {}
            }
            continue;
        }
        match token {
            Token::Comment(_) | Token::CDO | Token::CDC => out.push(' '),
            Token::AtKeyword(ref name)
                if DROPPED_AT_RULES
                    .iter()
                    .any(|r| name.eq_ignore_ascii_case(r)) =>
            {
                skipping_at_rule = true;
            }
            Token::UnquotedUrl(ref url) => out.push_str(&policy.css_url(url)),
            Token::BadUrl(_) | Token::BadString(_) => out.push_str("none"),
            Token::Function(ref name) if name.eq_ignore_ascii_case("url") => {
                let url = p
                    .parse_nested_block(|inner| -> Result<String, ParseError<()>> {
                        let mut url = String::new();
                        while let Ok(t) = inner.next() {
                            if let Token::QuotedString(s) = t {
                                url.push_str(s);
                            }
                        }
                        Ok(url)
                    })
                    .unwrap_or_default();
                out.push_str(&policy.css_url(&url));
            }
            Token::Function(ref name) if is_dropped_function(name) => {
                let _ = p.parse_nested_block(|inner| -> Result<(), ParseError<()>> {
                    while inner.next().is_ok() {}
                    Ok(())
                });
                out.push_str("none");
            }
            Token::Function(_)
            | Token::ParenthesisBlock
            | Token::SquareBracketBlock
            | Token::CurlyBracketBlock => {
                let close = match token {
                    Token::Function(_) | Token::ParenthesisBlock => ')',
                    Token::SquareBracketBlock => ']',
                    _ => '}',
                };
                let _ = token.to_css(out);
                let _ = p.parse_nested_block(|inner| -> Result<(), ParseError<()>> {
                    rewrite(inner, policy, out);
                    Ok(())
                });
                out.push(close);
            }
            Token::CloseParenthesis | Token::CloseSquareBracket | Token::CloseCurlyBracket => {
                // Unbalanced closers outside any block: dropped.
            }
            // Names that only escapes can produce (`url\(`) are not CSS
            // anyone writes: dropped.
            Token::Ident(ref name)
            | Token::AtKeyword(ref name)
            | Token::Hash(ref name)
            | Token::IDHash(ref name)
                if !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_') =>
            {
                out.push(' ');
            }
            // A string is never a URL here, but one that reads like script
            // would be, to some later filter: emptied.
            Token::QuotedString(ref text) if reads_like_script(text) => out.push_str("\"\""),
            other => {
                let _ = other.to_css(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocked(css: &str) -> (String, usize) {
        let mut policy = UrlPolicy {
            allow_remote: false,
            blocked: 0,
        };
        let out = sanitise_stylesheet(css, &mut policy);
        (out, policy.blocked)
    }

    #[test]
    fn remote_urls_become_none_and_are_counted() {
        let (out, n) = blocked("td{background:url(https://t.example/p.gif) no-repeat}");
        assert!(!out.contains("t.example"), "{out}");
        assert_eq!(n, 1);
        assert!(out.contains("no-repeat"));
    }

    #[test]
    fn escaped_url_tokens_are_still_urls() {
        let (out, n) = blocked(r"a{background:u\72l(http://x.example/a)}");
        assert!(!out.contains("x.example"), "{out}");
        assert_eq!(n, 1);
    }

    #[test]
    fn imports_fonts_and_image_sets_go() {
        let (out, _) = blocked(
            "@import url(https://a.example/x.css); @import 'https://b.example/y.css';\
             @font-face{font-family:x;src:url(https://c.example/f.woff)}\
             p{background-image:image-set(\"https://d.example/i.png\" 1x)}",
        );
        for host in ["a.example", "b.example", "c.example", "d.example"] {
            assert!(!out.contains(host), "{host} survived in {out}");
        }
    }

    #[test]
    fn strings_cannot_close_the_style_element() {
        let (out, _) = blocked(r#"p{content:"\3c/style><script>alert(1)</script>"}"#);
        assert!(!out.contains('<'), "{out}");
    }

    #[test]
    fn allowed_remote_urls_stay() {
        let mut policy = UrlPolicy {
            allow_remote: true,
            blocked: 0,
        };
        let out = sanitise_stylesheet("p{background:url('https://a.example/i.png')}", &mut policy);
        assert!(out.contains("https://a.example/i.png"), "{out}");
        assert_eq!(policy.blocked, 0);
    }
}
