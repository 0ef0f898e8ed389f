//! The window's commands, invoked through Tauri's IPC on the mock runtime:
//! the same path the UI's `invoke` takes, down to the core and back.

use ember::model::{MessagePage, Status};
use ember::sync::SyncSources;
use ember::{Config, Ember};
use serde_json::json;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{mock_builder, mock_context, noop_assets, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{WebviewWindow, WebviewWindowBuilder};

fn invoke(
    window: &WebviewWindow<MockRuntime>,
    cmd: &str,
    args: serde_json::Value,
) -> Result<serde_json::Value, serde_json::Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().map_err(|_| json!("bad url"))?,
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    tauri::test::get_ipc_response(window, request)
        .map(|body| body.deserialize::<serde_json::Value>().unwrap_or_default())
}

fn app() -> anyhow::Result<(tempfile::TempDir, Ember, WebviewWindow<MockRuntime>)> {
    let dir = tempfile::tempdir()?;
    let ember =
        tauri::async_runtime::block_on(Ember::open(Config::new(dir.path()), SyncSources::new()))?;
    let app =
        ember_app::app_builder(mock_builder(), ember.clone()).build(mock_context(noop_assets()))?;
    let window = WebviewWindowBuilder::new(&app, "main", Default::default()).build()?;
    // The app must outlive the window for the test's duration.
    std::mem::forget(app);
    Ok((dir, ember, window))
}

#[test]
fn the_sync_switch_command_changes_what_the_service_reports() -> anyhow::Result<()> {
    let (_dir, ember, window) = app()?;
    let status: Status = serde_json::from_value(
        invoke(&window, "get_status", json!({})).map_err(|e| anyhow::anyhow!("{e}"))?,
    )?;
    assert!(status.sync_enabled);

    let after: Status = serde_json::from_value(
        invoke(&window, "set_sync_enabled", json!({"enabled": false}))
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    )?;
    assert!(!after.sync_enabled);
    let seen = tauri::async_runtime::block_on(ember.status())?;
    assert!(!seen.sync_enabled, "the service agrees with the command");
    Ok(())
}

#[test]
fn list_messages_takes_the_ui_query_shape() -> anyhow::Result<()> {
    let (_dir, _ember, window) = app()?;
    let page: MessagePage = serde_json::from_value(
        invoke(
            &window,
            "list_messages",
            json!({"query": {"view": {"kind": "unified"}, "before": null, "limit": 25}}),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?,
    )?;
    assert!(page.messages.is_empty());
    assert_eq!(page.next, None);
    Ok(())
}

#[test]
fn a_failing_command_answers_with_a_code_and_a_sentence() -> anyhow::Result<()> {
    let (_dir, _ember, window) = app()?;
    let error = invoke(&window, "get_message", json!({"id": 4242}))
        .err()
        .ok_or_else(|| anyhow::anyhow!("getting a missing message succeeded"))?;
    assert_eq!(error["code"], "notFound");
    assert_eq!(error["message"], "message not found");
    Ok(())
}

#[test]
fn sync_now_accepts_a_missing_account_id() -> anyhow::Result<()> {
    let (_dir, _ember, window) = app()?;
    invoke(&window, "sync_now", json!({"accountId": null})).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

#[test]
fn mail_commands_take_the_contract_shapes() -> anyhow::Result<()> {
    let (_dir, _ember, window) = app()?;
    let call = |cmd: &str, args: serde_json::Value| {
        invoke(&window, cmd, args).map_err(|e| anyhow::anyhow!("{cmd}: {e}"))
    };
    assert_eq!(
        call(
            "search_messages",
            json!({"query": {"text": "from:ada", "limit": 20}})
        )?,
        json!([])
    );
    assert_eq!(call("list_folders", json!({"accountId": null}))?, json!([]));
    let conversations = call(
        "list_messages",
        json!({"query": {"view": {"kind": "unified"}, "before": null, "limit": 25, "conversations": true}}),
    )?;
    assert_eq!(conversations["messages"], json!([]));
    assert_eq!(
        call(
            "allow_remote",
            json!({"scope": {"kind": "sender", "address": "news@shop.example"}})
        )?,
        json!(null)
    );
    Ok(())
}

#[test]
fn bad_searches_and_links_are_refused_with_their_codes() -> anyhow::Result<()> {
    let (_dir, _ember, window) = app()?;
    let bad_query = invoke(
        &window,
        "search_messages",
        json!({"query": {"text": "before:soon", "limit": 20}}),
    )
    .err()
    .ok_or_else(|| anyhow::anyhow!("a bad date was accepted"))?;
    assert_eq!(bad_query["code"], "invalidQuery");
    assert!(bad_query["message"]
        .as_str()
        .unwrap_or_default()
        .contains("2024-05-01"));
    let refused = invoke(&window, "open_link", json!({"url": "javascript:alert(1)"}))
        .err()
        .ok_or_else(|| anyhow::anyhow!("a javascript: link was accepted"))?;
    assert_eq!(refused["code"], "refusedLink");
    let missing = invoke(&window, "render_message", json!({"id": 999}))
        .err()
        .ok_or_else(|| anyhow::anyhow!("a missing message rendered"))?;
    assert_eq!(missing["code"], "notFound");
    Ok(())
}

/// Every command the UI calls must be registered, declared to tauri-build and
/// granted to the window; a command missing from any of the three answers
/// "not allowed" in the real app while the mock runtime (which skips the ACL)
/// would still pass.
#[test]
fn every_command_the_ui_calls_is_registered_declared_and_granted() {
    fn quoted_after<'a>(text: &'a str, marker: &str) -> Vec<&'a str> {
        text.match_indices(marker)
            .filter_map(|(at, _)| {
                let rest = &text[at + marker.len()..];
                let end = rest.find('\'')?;
                Some(&rest[..end])
            })
            .collect()
    }
    let ui = include_str!("../../ui/src/lib/backend/tauri.ts");
    let handler = include_str!("../src/lib.rs");
    let declared = include_str!("../build.rs");
    let granted = include_str!("../capabilities/main.json");

    let called = quoted_after(ui, "call('")
        .into_iter()
        .chain(quoted_after(ui, "call<void>('"))
        .collect::<std::collections::BTreeSet<_>>();
    assert!(
        called.len() >= 20,
        "the UI's commands were found: {called:?}"
    );
    let mut missing = Vec::new();
    for command in &called {
        if !handler.contains(&format!("::{command},")) {
            missing.push(format!("{command}: not in generate_handler!"));
        }
        if !declared.contains(&format!("\"{command}\"")) {
            missing.push(format!("{command}: not declared in build.rs"));
        }
        let permission = format!("\"allow-{}\"", command.replace('_', "-"));
        if !granted.contains(&permission) {
            missing.push(format!("{command}: not granted in capabilities/main.json"));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}
