//! A Microsoft Graph message delta page (bytes as the HTTP body arrives) to
//! what sync stores: decoded into `DeltaPage` as `Http::send_json` does,
//! then `graph::convert::page_changes`, the function the sync run calls on
//! every page; stored bodies must be safe HTML.
#![no_main]

use ember::providers::graph::client::DeltaPage;
use ember::providers::graph::convert::page_changes;
use ember::sync::Change;
use ember_fuzz::{assert_safe, Origin};
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: ember_fuzz::self_check(), |data: &[u8]| {
    let Ok(page) = serde_json::from_slice::<DeltaPage>(data) else {
        return;
    };
    let changes = page_changes(7, "inbox-id", &page.value);
    assert!(changes.len() <= page.value.len());
    for change in &changes {
        if let Change::Message { row, body, .. } = change {
            assert!(!row.provider_id.is_empty());
            if let Some(html) = body.as_ref().and_then(|b| b.html.as_deref()) {
                assert_safe(html, Origin::Stored, data);
            }
        }
    }
});
