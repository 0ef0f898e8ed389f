//! Whether a message's From address is one its provider authenticated, so
//! that "always load remote content from this sender" cannot be claimed by
//! anyone who types that address into a From header.
//!
//! The receiving service (Gmail, Exchange Online) checks SPF, DKIM and DMARC
//! and records the outcome in an `Authentication-Results` header (RFC 8601)
//! it puts on top of the message; Ember keeps the topmost one (the
//! provider's, not any a sender wrote further down). The From domain counts
//! as authenticated when DMARC passed for it (`dmarc=pass
//! header.from=DOMAIN`), or when a DKIM signature of that domain (or a
//! parent domain, DMARC's relaxed alignment) passed. SPF alone does not
//! count: it vouches for the envelope sender, which need not be the From.

/// The header the provider's verdict comes in.
pub const AUTHENTICATION_RESULTS: &str = "Authentication-Results";

/// Whether `results` (an `Authentication-Results` value) shows the domain of
/// `from` authenticated. Anything unreadable counts as not authenticated.
pub fn from_authenticated(results: &str, from: &str) -> bool {
    let Some(domain) = domain_of(from) else {
        return false;
    };
    let text = without_comments(results);
    text.split(';').any(|clause| {
        let mut words = clause.split_whitespace();
        let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else {
            // The authserv-id (and an optional version) comes first.
            return false;
        };
        if !result.eq_ignore_ascii_case("pass") {
            return false;
        }
        let props: Vec<(String, String)> = words
            .filter_map(|w| w.split_once('='))
            .map(|(k, v)| {
                (
                    k.to_ascii_lowercase(),
                    v.trim_matches('"').to_ascii_lowercase(),
                )
            })
            .collect();
        let prop = |key: &str| {
            props
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        match method.to_ascii_lowercase().as_str() {
            "dmarc" => prop("header.from").is_some_and(|d| d == domain),
            "dkim" => prop("header.d")
                .or_else(|| prop("header.i").and_then(|i| i.rsplit_once('@').map(|(_, d)| d)))
                .is_some_and(|d| aligned(&domain, d)),
            _ => false,
        }
    })
}

/// The lower-cased domain of an address, if it has one.
fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.trim().rsplit_once('@')?;
    let domain = domain.trim_end_matches('>').trim().to_ascii_lowercase();
    (!domain.is_empty() && !domain.contains(char::is_whitespace)).then_some(domain)
}

/// DMARC's relaxed alignment, on the safe side: the signing domain is the
/// From domain or one of its parents (never merely a sibling).
fn aligned(from_domain: &str, signer: &str) -> bool {
    !signer.is_empty()
        && signer.contains('.')
        && (from_domain == signer
            || from_domain
                .strip_suffix(signer)
                .is_some_and(|head| head.ends_with('.')))
}

/// `text` with its RFC 5322 comments (parenthesised, nested, with
/// backslash escapes) replaced by spaces.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut escaped = false;
    for c in text.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if depth > 0 => escaped = true,
            '(' => depth += 1,
            ')' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(' ');
                }
            }
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GMAIL: &str = "mx.google.com;\r\n       dkim=pass header.i=@news.example.com header.s=s1 header.b=abc;\r\n       spf=pass (google.com: domain of bounce@mailer.example designates 1.2.3.4 as permitted sender) smtp.mailfrom=bounce@mailer.example;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=news.example.com";
    const EXCHANGE: &str = "spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=contoso.com; dkim=pass (signature was verified) header.d=contoso.com;dmarc=pass action=none header.from=contoso.com;compauth=pass reason=100";

    #[test]
    fn gmail_and_exchange_verdicts_are_read() {
        assert!(from_authenticated(GMAIL, "deals@news.example.com"));
        assert!(from_authenticated(EXCHANGE, "Pat <pat@Contoso.com>"));
        assert!(!from_authenticated(GMAIL, "ceo@bank.example"));
        assert!(!from_authenticated(
            EXCHANGE,
            "pat@contoso.com.evil.example"
        ));
    }

    #[test]
    fn only_a_pass_aligned_with_from_counts() {
        for (results, from) in [
            ("mx; dmarc=fail header.from=a.example", "x@a.example"),
            ("mx; dmarc=none header.from=a.example", "x@a.example"),
            // SPF is about the envelope sender, not From.
            ("mx; spf=pass smtp.mailfrom=a.example", "x@a.example"),
            // A sibling or child signer is not aligned.
            ("mx; dkim=pass header.d=mail.a.example", "x@a.example"),
            ("mx; dkim=pass header.d=evila.example", "x@a.example"),
            ("mx; dkim=pass header.d=example", "x@a.example"),
            // The verdict hidden in a comment is no verdict.
            (
                "mx; (dmarc=pass header.from=a.example) spf=none",
                "x@a.example",
            ),
            ("", "x@a.example"),
            ("garbage ;;; = ; dmarc=", "x@a.example"),
            ("mx; dmarc=pass header.from=a.example", "not an address"),
        ] {
            assert!(!from_authenticated(results, from), "{results} / {from}");
        }
        assert!(from_authenticated(
            "mx; dkim=pass header.d=a.example",
            "x@news.a.example"
        ));
    }
}
