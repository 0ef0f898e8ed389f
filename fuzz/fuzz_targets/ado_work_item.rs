//! An Azure DevOps work item, its updates and its comments (JSON bodies as
//! they arrive) to the row sync stores: `ado::convert::work_item`,
//! `history` and `comments`; the stored description must be safe HTML.
#![no_main]

use ember::providers::ado::convert;
use ember_fuzz::{assert_safe, Origin};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(init: ember_fuzz::self_check(), |data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Some(item) = convert::work_item("https://dev.azure.com", "org", &value, Vec::new()) {
        if let Some(html) = item.description.as_deref() {
            assert_safe(html, Origin::Stored, data);
        }
    }
    if let Some(list) = value["value"].as_array() {
        let _ = convert::history(list);
        let _ = convert::comments(list);
    }
});
