//! The work-item link parser over a mail's sender, subject and text
//! (`links::find`, what sync runs on every stored message): bounded output,
//! positive item numbers, every organisation one Ember knows.
#![no_main]

use ember::links::{self, KnownOrg, MAX_REFS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line is the subject, the rest the body.
    let (subject, body) = text.split_once('\n').unwrap_or((&*text, ""));
    let orgs = [
        KnownOrg {
            name: "fabrikam".into(),
            hosts: vec!["127.0.0.1:4000".into()],
        },
        KnownOrg {
            name: "contoso".into(),
            hosts: Vec::new(),
        },
    ];
    for from in ["someone@example.com", links::NOTIFICATION_SENDER] {
        let refs = links::find(from, subject, body, &orgs);
        assert!(refs.len() <= MAX_REFS, "{} refs", refs.len());
        for r in &refs {
            assert!(r.item > 0, "item {}", r.item);
            if let Some(org) = &r.organization {
                assert!(
                    orgs.iter().any(|o| o.name.eq_ignore_ascii_case(org)),
                    "org {org}"
                );
            }
        }
    }
});
