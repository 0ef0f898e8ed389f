//! The health report (`ember doctor`, Settings → Diagnostics) on real
//! temporary data folders.

use std::process::Command;

use ember::auth::Secrets;
use ember::model::{AccountSettings, Diagnostics, Health, NewAccount, ProviderKind};
use ember::secret::Secret;
use ember::sync::SyncSources;
use ember::{Config, Ember};

async fn open(model_dir: &std::path::Path) -> anyhow::Result<(tempfile::TempDir, Ember)> {
    let dir = tempfile::tempdir()?;
    let mut config = Config::new(dir.path());
    config.secrets = Some(Secrets::memory("no keychain in tests"));
    config.model_dir = model_dir.to_owned();
    Ok((dir, Ember::open(config, SyncSources::new()).await?))
}

async fn add(ember: &Ember, provider: ProviderKind, address: &str) -> anyhow::Result<i64> {
    Ok(ember
        .add_account(NewAccount {
            provider,
            address: address.into(),
            display_name: address.into(),
            settings: AccountSettings::offline(provider),
            sync_enabled: true,
        })
        .await?
        .id)
}

fn check<'a>(report: &'a Diagnostics, name: &str) -> anyhow::Result<&'a ember::model::Check> {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| anyhow::anyhow!("no {name} line in {:#?}", report.checks))
}

#[tokio::test]
async fn every_unhealthy_line_says_what_to_do() -> anyhow::Result<()> {
    let (_dir, ember) = open(std::path::Path::new("/nonexistent/model")).await?;
    let signed_out = add(&ember, ProviderKind::Gmail, "alex.rivera@example.org").await?;
    let ado = add(&ember, ProviderKind::Ado, "contoso").await?;
    ember
        .secrets()
        .await
        .set(&ember::auth::pat_key(ado), &Secret::new("canary-pat"))
        .await?;
    let report = ember.diagnostics().await?;

    assert!(report.schema_version > 0, "the schema version is read");
    assert_eq!(report.quick_check, "ok");
    assert!(report.database_bytes > 0);
    assert_eq!(check(&report, "database")?.health, Health::Ok);
    let gmail = check(&report, &format!("account {signed_out}"))?;
    assert_eq!(gmail.health, Health::Problem, "no tokens: {gmail:?}");
    assert!(gmail.summary.contains("not signed in"));
    let with_pat = report
        .accounts
        .iter()
        .find(|a| a.id == ado)
        .ok_or_else(|| anyhow::anyhow!("no ado account"))?;
    assert_eq!(with_pat.signed_in, Some(true), "its PAT is filed");
    assert_eq!(check(&report, "model")?.health, Health::Warning);
    assert_eq!(
        check(&report, "secrets")?.health,
        Health::Problem,
        "memory only"
    );
    let unhealthy: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.health != Health::Ok)
        .collect();
    assert!(unhealthy.len() >= 3, "{unhealthy:#?}");
    for c in unhealthy {
        assert!(
            c.advice.as_deref().is_some_and(|a| a.len() > 10),
            "{} is unhealthy but says nothing to do",
            c.name
        );
    }
    // The shareable text: every line, addresses masked, no secret.
    assert!(report.report.contains("FAIL account"), "{}", report.report);
    assert!(
        report.report.contains("a…@example.org"),
        "{}",
        report.report
    );
    assert!(!report.report.contains("alex.rivera"), "{}", report.report);
    assert!(!serde_json::to_string(&report)?.contains("canary-pat"));
    Ok(())
}

#[tokio::test]
async fn a_model_that_is_not_the_shipped_one_is_a_problem() -> anyhow::Result<()> {
    let models = tempfile::tempdir()?;
    for file in ember::classify::embed::MODEL_FILES {
        std::fs::write(models.path().join(file), "not the model")?;
    }
    let (_dir, ember) = open(models.path()).await?;
    let report = ember.diagnostics().await?;
    assert!(report.model_present);
    assert_eq!(report.model_checksum_ok, Some(false));
    let model = check(&report, "model")?;
    assert_eq!(model.health, Health::Problem);
    assert!(model
        .advice
        .as_deref()
        .is_some_and(|a| a.contains("fetch-model")));
    Ok(())
}

#[tokio::test]
async fn the_shipped_model_passes_its_checksum() -> anyhow::Result<()> {
    let dir = ember::classify::embed::model_dir(std::path::Path::new("/nonexistent"));
    if !dir.join("model.safetensors").is_file() {
        // EMBER_MODEL_DIR unset (the Makefile sets it): nothing to compare.
        return Ok(());
    }
    let (_dir, ember) = open(&dir).await?;
    let report = ember.diagnostics().await?;
    assert_eq!(
        report.model_checksum_ok,
        Some(true),
        "{:?}",
        report.model_sha256
    );
    assert_eq!(check(&report, "model")?.health, Health::Ok);
    Ok(())
}

#[tokio::test]
async fn a_damaged_database_is_reported_with_what_to_do() -> anyhow::Result<()> {
    let (dir, ember) = open(std::path::Path::new("/nonexistent/model")).await?;
    // Enough rows that the message table spans many pages.
    let account = add(&ember, ProviderKind::Gmail, "a@example.org").await?;
    let messages: Vec<_> = (0..400)
        .map(|i| crate::support::message(account, &format!("m{i}"), i, &"padding ".repeat(40)))
        .collect();
    crate::support::insert_messages(ember.store(), &messages).await?;
    ember.shutdown(std::time::Duration::from_secs(5)).await;
    // Scribble over the middle of the file, away from the header and the
    // schema on page 1.
    let path = dir.path().join(ember::store::DATABASE_FILE);
    let mut bytes = std::fs::read(&path)?;
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 8192] {
        *b = 0x5a;
    }
    std::fs::write(&path, bytes)?;

    // Whether the damage stops the database opening or only fails its
    // check, the doctor reports it.
    let out = Command::new(env!("CARGO_BIN_EXE_ember"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["doctor", "--json"])
        .env("EMBER_SECRET_STORE", "memory")
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Diagnostics = serde_json::from_slice(&out.stdout)?;
    let database = check(&report, "database")?;
    assert_eq!(database.health, Health::Problem, "{database:?}");
    assert_ne!(report.quick_check, "ok");
    assert!(database
        .advice
        .as_deref()
        .is_some_and(|a| a.contains("ember.sqlite3")));
    assert!(report.report.contains("FAIL database"), "{}", report.report);
    Ok(())
}

#[tokio::test]
async fn ember_doctor_prints_the_report_and_its_json() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let run = |json: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ember"));
        command
            .arg("--data-dir")
            .arg(&data)
            .arg("doctor")
            .env("EMBER_SECRET_STORE", "memory")
            .env("EMBER_LOG_DIR", dir.path().join("logs"));
        if json {
            command.arg("--json");
        }
        command.output()
    };
    let text = run(false)?;
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout)?;
    assert!(text.starts_with("Fireside Ember diagnostics"), "{text}");
    assert!(text.contains("ok   database:"), "{text}");
    assert!(text.contains("logs"), "{text}");
    let json = run(true)?;
    assert!(json.status.success());
    let report: Diagnostics = serde_json::from_slice(&json.stdout)?;
    assert_eq!(
        report.log_dir,
        dir.path().join("logs").display().to_string()
    );
    assert!(report.took_ms < 60_000);
    Ok(())
}
