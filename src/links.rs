//! Which Azure DevOps work items a mail is about: `AB#123` mentions (the
//! Boards convention GitHub and Azure DevOps share), links to a work item
//! of an organisation Ember syncs, and Azure DevOps' own notification mail.
//!
//! A pure function over the message's sender, subject and text, so every
//! shape is a unit test. Mail is untrusted and may be huge: only the first
//! [`SCAN_LIMIT`] bytes are read, every loop moves forward, and nothing is
//! allocated per byte.

use std::collections::BTreeMap;

/// How much of a body is scanned for references.
pub const SCAN_LIMIT: usize = 256 * 1024;

/// References kept per message at most (a digest mail lists many items).
pub const MAX_REFS: usize = 50;

/// The sender of Azure DevOps' notification mail.
pub const NOTIFICATION_SENDER: &str = "azuredevops@microsoft.com";

/// How a mail refers to a work item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LinkSource {
    /// `AB#123` in the subject or text.
    Mention,
    /// A link to the item's page or REST resource.
    Url,
    /// Azure DevOps' own notification about the item.
    Notification,
}

impl LinkSource {
    /// The name stored in `message_work_items.source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mention => "mention",
            Self::Url => "url",
            Self::Notification => "notification",
        }
    }
}

/// One work item a mail refers to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkItemRef {
    /// The organisation, when the reference names one (`AB#` does not:
    /// it means the organisation the mail's project is connected to).
    pub organization: Option<String>,
    /// The work item's number.
    pub item: i64,
    /// How it was found (the strongest, when several).
    pub source: LinkSource,
}

/// An organisation whose links count: its name and the hosts its links use
/// besides `dev.azure.com/{org}` and `{org}.visualstudio.com` (a stand-in's
/// host, such as the emulator's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownOrg {
    /// The organisation's name, as Ember stores it.
    pub name: String,
    /// Extra hosts (`127.0.0.1:4000`) whose `/{org}/...` links are its.
    pub hosts: Vec<String>,
}

/// The work items `text` (and `subject`, from `from`) refers to, strongest
/// source first per item, at most [`MAX_REFS`].
pub fn find(from: &str, subject: &str, text: &str, orgs: &[KnownOrg]) -> Vec<WorkItemRef> {
    let text = clip(text, SCAN_LIMIT);
    let mut found: BTreeMap<(Option<String>, i64), LinkSource> = BTreeMap::new();
    let mut add = |org: Option<String>, item: i64, source: LinkSource| {
        if found.len() >= MAX_REFS && !found.contains_key(&(org.clone(), item)) {
            return;
        }
        let entry = found.entry((org, item)).or_insert(source);
        *entry = (*entry).max(source);
    };
    for item in mentions(subject).chain(mentions(text)) {
        add(None, item, LinkSource::Mention);
    }
    let urls: Vec<(String, i64)> = urls(text, orgs).collect();
    for (org, item) in &urls {
        add(Some(org.clone()), *item, LinkSource::Url);
    }
    if is_notification(from) {
        // The item the notification is about: the number in its subject
        // ("Bug 123 - Title", "Work item 123 - Title"), else its first link.
        let about = subject_item(subject).or_else(|| urls.first().map(|(_, i)| *i));
        if let Some(item) = about {
            let org = urls
                .iter()
                .find(|(_, i)| *i == item)
                .map(|(o, _)| o.clone());
            add(org, item, LinkSource::Notification);
        }
    }
    let mut refs: Vec<WorkItemRef> = found
        .into_iter()
        .map(|((organization, item), source)| WorkItemRef {
            organization,
            item,
            source,
        })
        .collect();
    // A mention of an item also linked with its organisation says nothing more.
    let named: Vec<i64> = refs
        .iter()
        .filter(|r| r.organization.is_some())
        .map(|r| r.item)
        .collect();
    refs.retain(|r| r.organization.is_some() || !named.contains(&r.item));
    refs.sort_by(|a, b| b.source.cmp(&a.source).then(a.item.cmp(&b.item)));
    refs
}

/// Whether `from` is Azure DevOps' notification sender.
pub fn is_notification(from: &str) -> bool {
    from.trim().eq_ignore_ascii_case(NOTIFICATION_SENDER)
}

fn clip(text: &str, limit: usize) -> &str {
    if text.len() <= limit {
        return text;
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A run of ASCII digits at the start of `s`, as a work item number.
fn number(s: &str) -> Option<(i64, usize)> {
    let len = s.bytes().take_while(u8::is_ascii_digit).count();
    if len == 0 || len > 10 {
        return None;
    }
    s[..len]
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(|n| (n, len))
}

/// `AB#123`, not inside a longer word (`XAB#1`) or number (`AB#12a`).
fn mentions(text: &str) -> impl Iterator<Item = i64> + '_ {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while let Some(pos) = find_ci(&text[at..], "ab#") {
            let start = at + pos;
            at = start + 3;
            let before_ok = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
            if let Some((n, len)) = number(&text[at..]) {
                let after = at + len;
                at = after;
                let after_ok = after >= bytes.len() || !bytes[after].is_ascii_alphanumeric();
                if before_ok && after_ok {
                    return Some(n);
                }
            }
        }
        None
    })
}

/// The position of `needle` (ASCII, lower case) in `haystack`, ignoring case.
fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    let h = haystack.as_bytes();
    let n = needle.as_bytes();
    if n.is_empty() || h.len() < n.len() {
        return None;
    }
    (0..=h.len() - n.len()).find(|&i| {
        h[i..i + n.len()]
            .iter()
            .zip(n)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
    })
}

/// The longest URL prefix looked at before a work item path.
const MAX_URL_PREFIX: usize = 2048;

/// Links to work items of `orgs`: `…/{org}/{project}/_workitems/edit/{id}`
/// on `dev.azure.com` or a known host, `{org}.visualstudio.com/…`, and the
/// REST form `…/_apis/wit/workItems/{id}`. One forward pass; each hit looks
/// back at most [`MAX_URL_PREFIX`] bytes for the start of its URL.
fn urls<'a>(text: &'a str, orgs: &'a [KnownOrg]) -> impl Iterator<Item = (String, i64)> + 'a {
    const MARKERS: [&str; 2] = ["/_workitems/edit/", "/_apis/wit/workitems/"];
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let i = at;
            at += 1;
            if bytes[i] != b'/' {
                continue;
            }
            let Some(marker) = MARKERS.iter().find(|m| starts_with_ci(&bytes[i..], m)) else {
                continue;
            };
            let digits = i + marker.len();
            at = digits;
            let Some((item, _)) = number(&text[digits..]) else {
                continue;
            };
            let mut floor = i.saturating_sub(MAX_URL_PREFIX);
            while !text.is_char_boundary(floor) {
                floor += 1;
            }
            // The URL starts after the last character that cannot be in one.
            // After that character, whatever its width: a no-break space
            // (U+00A0, two bytes) counts as white space too.
            let start = text[floor..i]
                .char_indices()
                .rev()
                .find(|(_, c)| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '(' | '['))
                .map_or(floor, |(p, c)| floor + p + c.len_utf8());
            if let Some(org) = organisation_of(&text[start..i], orgs) {
                return Some((org, item));
            }
            // A project name with a space, pasted unencoded (Azure DevOps'
            // own notification text does this): from the last address
            // start on the line.
            let line = text[floor..i]
                .rfind(['\n', '\r', '<', '>', '"', '\''])
                .map_or(floor, |p| floor + p + 1);
            if let Some(p) = text[line..i].rfind("http") {
                let spaced = text[line + p..i].replace(' ', "%20");
                if let Some(org) = organisation_of(&spaced, orgs) {
                    return Some((org, item));
                }
            }
        }
        None
    })
}

fn starts_with_ci(haystack: &[u8], needle: &str) -> bool {
    haystack.len() >= needle.len()
        && haystack
            .iter()
            .zip(needle.as_bytes())
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
}

/// The known organisation a URL prefix (`https://host/org/project`)
/// belongs to.
fn organisation_of(prefix: &str, orgs: &[KnownOrg]) -> Option<String> {
    let url = url::Url::parse(prefix).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.clone(),
    };
    let first = url
        .path_segments()
        .and_then(|mut s| s.next())
        .map(|s| s.to_ascii_lowercase());
    orgs.iter()
        .find(|org| {
            let name = org.name.to_ascii_lowercase();
            let path_org = first.as_deref() == Some(name.as_str());
            (host == "dev.azure.com" && path_org)
                || host == format!("{name}.visualstudio.com")
                || (path_org
                    && org.hosts.iter().any(|h| {
                        h.eq_ignore_ascii_case(&authority) || h.eq_ignore_ascii_case(&host)
                    }))
        })
        .map(|org| org.name.clone())
}

/// The item a notification's subject names: the number after a work item
/// type or "Work item" and before ` - ` or `:`.
fn subject_item(subject: &str) -> Option<i64> {
    let subject = clip(subject, 1024);
    let mut at = 0;
    while at < subject.len() {
        let rest = &subject[at..];
        let pos = rest.find(|c: char| c.is_ascii_digit())?;
        let start = at + pos;
        let (n, len) = number(&subject[start..])?;
        let before = subject[..start].trim_end();
        let after = subject[start + len..].trim_start();
        let word_before = before
            .rsplit(|c: char| c.is_whitespace() || c == '[')
            .next()
            .unwrap_or_default();
        let typed = !word_before.is_empty()
            && word_before.chars().all(|c| c.is_alphabetic())
            && start > 0
            && subject.as_bytes()[start - 1] == b' ';
        if typed && (after.starts_with('-') || after.starts_with(':') || after.is_empty()) {
            return Some(n);
        }
        at = start + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn orgs() -> Vec<KnownOrg> {
        vec![KnownOrg {
            name: "fabrikam".into(),
            hosts: vec!["127.0.0.1:4000".into()],
        }]
    }

    fn refs(from: &str, subject: &str, text: &str) -> Vec<(Option<&'static str>, i64, LinkSource)> {
        find(from, subject, text, &orgs())
            .into_iter()
            .map(|r| (r.organization.map(|_| "fabrikam"), r.item, r.source))
            .collect()
    }

    /// Found by the fuzzer (fuzz/fuzz_targets/links.rs): a no-break space
    /// before a link was cut through the middle (a panic on slicing).
    #[test]
    fn a_link_after_a_wide_space_is_found() {
        for space in ["\u{a0}", "\u{2003}", "\u{3000}"] {
            let text = format!("see{space}https://dev.azure.com/fabrikam/Fiber/_workitems/edit/7");
            assert_eq!(
                refs("a@x", "", &text),
                vec![(Some("fabrikam"), 7, LinkSource::Url)],
                "{space:?}"
            );
        }
    }

    #[test]
    fn ab_mentions_are_found_but_not_inside_words_or_numbers() {
        assert_eq!(
            refs("a@x", "Fixes AB#123", "see ab#7, and (AB#8)."),
            vec![
                (None, 7, LinkSource::Mention),
                (None, 8, LinkSource::Mention),
                (None, 123, LinkSource::Mention)
            ]
        );
        assert!(refs("a@x", "", "XAB#1 AB#12a AB# AB#0 AB#99999999999").is_empty());
    }

    #[test]
    fn links_to_a_synced_organisation_count_and_others_do_not() {
        let text = "Look: https://dev.azure.com/fabrikam/Fabrikam%20Fiber/_workitems/edit/42 \
            and https://fabrikam.visualstudio.com/DefaultCollection/Web/_workitems/edit/43/ \
            and <http://127.0.0.1:4000/fabrikam/Ember Desktop/_workitems/edit/44> \
            and https://dev.azure.com/contoso/Web/_workitems/edit/45 \
            and https://dev.azure.com/fabrikam/_apis/wit/workItems/46";
        let found = refs("a@x", "", text);
        let items: Vec<i64> = found.iter().map(|r| r.1).collect();
        assert_eq!(items, vec![42, 43, 44, 46], "{found:?}");
        assert!(found.iter().all(|r| r.0 == Some("fabrikam")));
    }

    #[test]
    fn a_notification_is_about_the_item_in_its_subject() {
        // Azure DevOps' own mail, as the demo sends it and as the service does.
        let body = "Work item AB#17 was updated.\r\n\r\nSync stalls\r\n\r\n\
            View it in Azure DevOps: http://127.0.0.1:4000/fabrikam/Ember Desktop/_workitems/edit/17\r\n";
        let found = refs(NOTIFICATION_SENDER, "Work item 17 - Sync stalls", body);
        assert_eq!(
            found,
            vec![(Some("fabrikam"), 17, LinkSource::Notification)]
        );
        for subject in [
            "Bug 981 - Crash on start",
            "[Fabrikam Fiber] Task 981: Write tests",
            "User Story 981 - Offline mode",
        ] {
            let found = refs(NOTIFICATION_SENDER, subject, "");
            assert_eq!(
                found,
                vec![(None, 981, LinkSource::Notification)],
                "{subject}"
            );
        }
        // Someone else quoting a number is no notification.
        assert!(refs("bob@example.org", "Bug 981 - Crash on start", "").is_empty());
    }

    #[test]
    fn hostile_text_is_bounded() {
        let huge = "AB#1 ".repeat(200_000);
        let found = find("a@x", "", &huge, &orgs());
        assert_eq!(found.len(), 1);
        let many: String = (1..500).map(|i| format!("AB#{i} ")).collect();
        assert_eq!(find("a@x", "", &many, &orgs()).len(), MAX_REFS);
        let odd = "/_workitems/edit/".repeat(50_000) + "ab#".repeat(50_000).as_str();
        assert!(find(NOTIFICATION_SENDER, "1 2 3", &odd, &orgs()).is_empty());
    }
}
