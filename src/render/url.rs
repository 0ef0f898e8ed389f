//! What a URL in an e-mail may do: which references load inline, which are
//! remote (the sender learns the message was opened), and which links the
//! system browser may open.

use ammonia::Url;

/// What kind of resource a `src`, `background` or CSS `url()` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// Carried by the message itself: a raster `data:` image or a `cid:` part.
    Inline,
    /// Fetched from the network (http, https, or protocol-relative `//host`).
    Remote,
    /// Anything else (relative paths that would resolve against the app,
    /// `javascript:`, SVG `data:` images, `file:` ...): never loaded.
    Refused,
}

/// Raster image types a `data:` URI may carry. SVG is not among them: it is
/// a document format with its own scripting and references.
const INLINE_IMAGE_TYPES: &[&str] = &[
    "image/png",
    "image/gif",
    "image/jpeg",
    "image/jpg",
    "image/webp",
    "image/bmp",
];

/// Classifies a resource reference.
pub fn classify_resource(url: &str) -> Resource {
    let url = url.trim();
    if url.starts_with("//") || url.starts_with("\\\\") {
        return Resource::Remote;
    }
    let Some((scheme, rest)) = url.split_once(':') else {
        return Resource::Refused;
    };
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => Resource::Remote,
        "cid" => Resource::Inline,
        "data" => {
            let media = rest
                .split([';', ','])
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            if INLINE_IMAGE_TYPES.contains(&media.as_str()) {
                Resource::Inline
            } else {
                Resource::Refused
            }
        }
        _ => Resource::Refused,
    }
}

/// Why a link was not opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RefusedLink(pub String);

/// Query parameters that only track the click; removed from web links.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
    "yclid",
    "igshid",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "mkt_tok",
];

/// The only fields a `mailto:` link keeps: a mail cannot smuggle in a body,
/// extra recipients or attachments through a link.
const MAILTO_KEPT: &[&str] = &["subject"];

/// Checks a link the user clicked and returns what the system browser (or
/// mail handler) should open: http and https with tracking parameters
/// removed, or mailto with only its address and subject. Everything else,
/// and any link carrying credentials, is refused.
pub fn safe_link(url: &str) -> Result<String, RefusedLink> {
    let refused = |why: &str| RefusedLink(format!("refused to open {}: {why}", shorten(url)));
    let mut parsed = Url::parse(url.trim()).map_err(|_| refused("not a valid address"))?;
    match parsed.scheme() {
        "http" | "https" => {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                return Err(refused("it carries a user name or password"));
            }
            if parsed.host_str().is_none_or(str::is_empty) {
                return Err(refused("it has no host"));
            }
            let kept: Vec<(String, String)> = parsed
                .query_pairs()
                .filter(|(k, _)| {
                    let k = k.to_ascii_lowercase();
                    !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
                })
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            if parsed.query().is_some() {
                if kept.is_empty() {
                    parsed.set_query(None);
                } else {
                    parsed.query_pairs_mut().clear().extend_pairs(kept);
                }
            }
            Ok(parsed.into())
        }
        "mailto" => {
            let kept: Vec<(String, String)> = parsed
                .query_pairs()
                .filter(|(k, _)| MAILTO_KEPT.contains(&k.to_ascii_lowercase().as_str()))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            // Decoded before it is judged: `%2C` is a comma to a mail client.
            let address: String = form_urlencoded::parse(
                format!("a={}", parsed.path().replace('+', "%2B")).as_bytes(),
            )
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
            if address.is_empty()
                || address.contains([',', ';'])
                || address.matches('@').count() != 1
            {
                return Err(refused("a mail link must name exactly one address"));
            }
            parsed.set_query(None);
            parsed.set_fragment(None);
            if !kept.is_empty() {
                parsed.query_pairs_mut().extend_pairs(kept);
            }
            Ok(parsed.into())
        }
        other => Err(refused(&format!(
            "only http, https and mailto links open, not {other}:"
        ))),
    }
}

fn shorten(url: &str) -> String {
    let short: String = url.chars().take(80).collect();
    if short.len() < url.len() {
        format!("{short}…")
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_are_classified_by_scheme() {
        assert_eq!(
            classify_resource("https://t.example/p.gif"),
            Resource::Remote
        );
        assert_eq!(classify_resource("//t.example/p.gif"), Resource::Remote);
        assert_eq!(classify_resource("HTTP://t.example"), Resource::Remote);
        assert_eq!(classify_resource("cid:logo@x"), Resource::Inline);
        assert_eq!(
            classify_resource("data:image/png;base64,iVBORw0KGgo="),
            Resource::Inline
        );
        assert_eq!(
            classify_resource("data:image/svg+xml;base64,PHN2Zz4="),
            Resource::Refused
        );
        assert_eq!(classify_resource("javascript:alert(1)"), Resource::Refused);
        assert_eq!(classify_resource("/assets/app.js"), Resource::Refused);
    }

    #[test]
    fn web_links_lose_tracking_parameters_only() {
        assert_eq!(
            safe_link("https://shop.example/p?id=7&utm_source=mail&fbclid=x").ok(),
            Some("https://shop.example/p?id=7".into())
        );
        assert_eq!(
            safe_link("http://a.example/?utm_campaign=x").ok(),
            Some("http://a.example/".into())
        );
    }

    #[test]
    fn mailto_links_keep_address_and_subject_only() {
        assert_eq!(
            safe_link("mailto:ada@example.org?subject=Hi&body=evil&bcc=spy@x.example&cc=c@x").ok(),
            Some("mailto:ada@example.org?subject=Hi".into())
        );
        assert!(safe_link("mailto:a@x.example,b@x.example").is_err());
        assert!(safe_link("mailto:a@x.example%2Cb@x.example").is_err());
        assert!(safe_link("mailto:a@x.example%2cb@x.example").is_err());
        assert!(safe_link("mailto:a@x.example%3Bb@x.example").is_err());
        assert!(safe_link("mailto:first+tag@x.example").is_ok());
    }

    #[test]
    fn other_schemes_and_credentials_are_refused() {
        for url in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,<script>alert(1)</script>",
            "tauri://localhost/index.html",
            "https://user:pw@bank.example/",
            "vbscript:x",
            "not a url",
        ] {
            assert!(safe_link(url).is_err(), "{url} was accepted");
        }
    }
}
