//! Finding 14 through the real sync paths: a per-sender remote-content
//! allowance holds only for mail whose From the provider authenticated (its
//! topmost Authentication-Results), for Gmail (raw MIME) and Microsoft 365
//! (internetMessageHeaders) alike; a forged From is shown with remote
//! content blocked and the reason; what loads, loads over https.

use base64::Engine as _;
use ember::model::{RemoteScope, SyncWindow};
use serde_json::{json, Value};

use crate::gmail_sync::gmail_ember;
use crate::graph_sync::{graph_ember, local_id};
use crate::support::{control, start};

/// A newsletter from news@shop.example with a plain-http tracking pixel,
/// `auth` as its Authentication-Results headers (topmost first).
fn newsletter(provider: &str, to: &str, subject: &str, auth: &[&str]) -> Value {
    let mut raw = String::new();
    for line in auth {
        raw.push_str(&format!("Authentication-Results: {line}\r\n"));
    }
    raw.push_str(&format!(
        "From: Shop <news@shop.example>\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Date: Mon, 2 Jun 2025 10:00:00 +0000\r\nMessage-ID: <{subject}@shop.example>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
         <p>Deals</p><img src=\"http://t.shop.example/{subject}.gif\">\r\n"
    ));
    let folder = if provider == "gmail" {
        "INBOX"
    } else {
        "inbox"
    };
    json!({"provider": provider, "folder": folder,
           "raw_base64": base64::engine::general_purpose::STANDARD.encode(raw)})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sender_allowance_holds_only_for_mail_the_provider_authenticated() -> anyhow::Result<()> {
    let emu = start(10).await?;
    for provider in ["gmail", "graph"] {
        let (_dir, ember, account) = if provider == "gmail" {
            gmail_ember(&emu, SyncWindow::All).await?
        } else {
            graph_ember(&emu, SyncWindow::All).await?
        };
        let to = if provider == "gmail" {
            "alex.rivera@gmail.example"
        } else {
            "alex.rivera@contoso.example"
        };
        let pass =
            "mx.example; dkim=pass header.d=shop.example; dmarc=pass header.from=shop.example";
        let fail =
            "mx.example; spf=pass smtp.mailfrom=evil.example; dmarc=fail header.from=shop.example";
        let genuine = format!("genuine-{provider}");
        let forged = format!("forged-{provider}");
        let genuine_id = control(&emu, "mail", newsletter(provider, to, &genuine, &[pass])).await?;
        // The forger writes a passing verdict of their own below the
        // provider's failing one.
        let forged_id = control(
            &emu,
            "mail",
            newsletter(provider, to, &forged, &[fail, pass]),
        )
        .await?;
        ember.sync_once(account).await?;
        ember
            .allow_remote(&RemoteScope::Sender {
                address: "news@shop.example".into(),
            })
            .await?;

        let body = ember
            .render_message(
                local_id(
                    &ember,
                    account,
                    genuine_id["id"].as_str().unwrap_or_default(),
                )
                .await?,
            )
            .await?;
        assert!(
            body.remote_allowed,
            "{provider}: the authenticated sender's mail loads"
        );
        assert!(
            body.html
                .contains(&format!("https://t.shop.example/{genuine}.gif")),
            "{provider}: over https: {}",
            body.html
        );
        assert!(
            !body.html.contains("http://t.shop.example"),
            "{}",
            body.html
        );

        let body = ember
            .render_message(
                local_id(
                    &ember,
                    account,
                    forged_id["id"].as_str().unwrap_or_default(),
                )
                .await?,
            )
            .await?;
        assert!(
            !body.remote_allowed,
            "{provider}: a forged From loads nothing"
        );
        assert!(body.sender_unverified, "{provider}: and the pane says why");
        assert!(!body.html.contains("t.shop.example"), "{}", body.html);
        ember.shutdown(std::time::Duration::from_secs(5)).await;
    }
    emu.stop().await;
    Ok(())
}
