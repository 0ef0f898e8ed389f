//! OAuth as Google and Microsoft answer it: code + PKCE, refresh (rotating
//! for Microsoft), device code, revocation.

use base64::Engine as _;
use serde_json::Value;
use sha2::Digest as _;

use crate::support::{control, control_get, get_json, start};

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

fn query_param(url: &str, key: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn post_form(url: &str, form: &[(&str, &str)]) -> anyhow::Result<(u16, Value)> {
    let r = no_redirects().post(url).form(form).send().await?;
    Ok((r.status().as_u16(), r.json().await.unwrap_or(Value::Null)))
}

struct Client {
    id: String,
    secret: String,
}

async fn google_client(emu: &ember_emulator::Emulator) -> anyhow::Result<Client> {
    let a = control_get(emu, "accounts").await?;
    Ok(Client {
        id: a["gmail"]["client_id"].as_str().unwrap_or_default().into(),
        secret: a["gmail"]["client_secret"]
            .as_str()
            .unwrap_or_default()
            .into(),
    })
}

#[tokio::test]
async fn code_with_pkce_gives_tokens_that_open_gmail() -> anyhow::Result<()> {
    let emu = start(20).await?;
    let base = emu.base_url();
    let c = google_client(&emu).await?;
    let verifier = "a-verifier-that-is-long-enough-for-pkce-0123456789";
    let challenge =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier));
    let redirect = "http://127.0.0.1:9/callback";
    let auth = format!(
        "{base}/o/oauth2/v2/auth?client_id={}&redirect_uri={redirect}&response_type=code&scope=https://mail.google.com/&state=xyz&code_challenge={challenge}&code_challenge_method=S256",
        c.id
    );
    let r = no_redirects().get(&auth).send().await?;
    assert_eq!(r.status(), 302);
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(location.starts_with(redirect));
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some("xyz"),
        "state comes back"
    );
    let code = query_param(&location, "code").unwrap_or_default();

    let token_url = format!("{base}/token");
    let form = |v: &'static str| {
        vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("client_id", c.id.as_str()),
            ("client_secret", c.secret.as_str()),
            ("code_verifier", v),
        ]
    };
    let (status, body) = post_form(
        &token_url,
        &form("wrong-verifier-wrong-verifier-wrong-verifier"),
    )
    .await?;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "a wrong verifier fails"
    );
    // A failed redemption burns the code, as Google does: start again.
    let r = no_redirects().get(&auth).send().await?;
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let code = query_param(&location, "code").unwrap_or_default();
    let form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect),
        ("client_id", c.id.as_str()),
        ("client_secret", c.secret.as_str()),
        ("code_verifier", verifier),
    ];
    let (status, tokens) = post_form(&token_url, &form).await?;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap_or_default();
    let refresh = tokens["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(tokens["token_type"], "Bearer");
    let (status, _) = get_json(&format!("{base}/gmail/v1/users/me/profile"), access).await?;
    assert_eq!(status, 200);

    // Google keeps the refresh token: refreshing twice works.
    for _ in 0..2 {
        let (status, body) = post_form(
            &token_url,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", &c.id),
                ("client_secret", &c.secret),
            ],
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("refresh_token").is_none());
    }
    // An expired access token is refused; a refresh brings a new one.
    control(
        &emu,
        "expire_tokens",
        serde_json::json!({"provider": "gmail"}),
    )
    .await?;
    assert_eq!(
        get_json(&format!("{base}/gmail/v1/users/me/profile"), access)
            .await?
            .0,
        401
    );

    let r = no_redirects()
        .post(format!("{base}/revoke?token={refresh}"))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let (status, body) = post_form(
        &token_url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", &c.id),
            ("client_secret", &c.secret),
        ],
    )
    .await?;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "revoked"
    );
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn only_loopback_redirects_and_known_clients_are_served() -> anyhow::Result<()> {
    let emu = start(20).await?;
    let c = google_client(&emu).await?;
    let base = emu.base_url();
    let r = no_redirects().get(format!("{base}/o/oauth2/v2/auth?client_id={}&redirect_uri=https://evil.example/cb&response_type=code", c.id)).send().await?;
    assert_eq!(r.status(), 400);
    let r = no_redirects().get(format!("{base}/o/oauth2/v2/auth?client_id=nobody&redirect_uri=http://127.0.0.1:1/&response_type=code")).send().await?;
    assert_eq!(r.status(), 400);
    emu.stop().await;
    Ok(())
}

#[tokio::test]
async fn microsoft_rotates_refresh_tokens_and_runs_the_device_flow() -> anyhow::Result<()> {
    let emu = start(20).await?;
    let base = emu.base_url();
    let accounts = control_get(&emu, "accounts").await?;
    let client_id = accounts["graph"]["client_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let token_url = format!("{base}/common/oauth2/v2.0/token");

    let (status, device) = post_form(
        &format!("{base}/common/oauth2/v2.0/devicecode"),
        &[
            ("client_id", &client_id),
            ("scope", "Mail.ReadWrite offline_access"),
        ],
    )
    .await?;
    assert_eq!(status, 200, "{device}");
    let device_code = device["device_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let user_code = device["user_code"].as_str().unwrap_or_default().to_owned();
    let poll = [
        ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
        ("client_id", client_id.as_str()),
        ("device_code", device_code.as_str()),
    ];
    let (_, pending) = post_form(&token_url, &poll).await?;
    assert_eq!(pending["error"], "authorization_pending");
    let (_, fast) = post_form(&token_url, &poll).await?;
    assert_eq!(
        fast["error"], "slow_down",
        "polling faster than the interval"
    );

    let approve = no_redirects()
        .get(format!("{base}/device?user_code={user_code}"))
        .send()
        .await?;
    assert_eq!(approve.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(5100)).await;
    let (status, tokens) = post_form(&token_url, &poll).await?;
    assert_eq!(status, 200, "{tokens}");
    let first_refresh = tokens["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let refresh = |t: String| {
        [
            ("grant_type", "refresh_token".to_owned()),
            ("client_id", client_id.clone()),
            ("refresh_token", t),
        ]
    };
    let r = no_redirects()
        .post(&token_url)
        .form(&refresh(first_refresh.clone()))
        .send()
        .await?;
    assert_eq!(r.status(), 200);
    let rotated: Value = r.json().await?;
    let second = rotated["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_ne!(second, first_refresh, "Microsoft rotates refresh tokens");
    let r = no_redirects()
        .post(&token_url)
        .form(&refresh(first_refresh))
        .send()
        .await?;
    assert_eq!(r.status(), 400, "the old refresh token is rejected");
    let r = no_redirects()
        .post(&token_url)
        .form(&refresh(second.clone()))
        .send()
        .await?;
    assert_eq!(r.status(), 200);

    control(&emu, "revoke", serde_json::json!({"provider": "graph"})).await?;
    let r = no_redirects()
        .post(&token_url)
        .form(&refresh(second))
        .send()
        .await?;
    let body: Value = r.json().await?;
    assert_eq!(
        body["error"], "invalid_grant",
        "revoked accounts must sign in again"
    );
    emu.stop().await;
    Ok(())
}
