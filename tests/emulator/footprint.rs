//! `ember bench footprint` end to end: a real store, the real service,
//! `ember emulator` in its own process. Figures are printed, not asserted
//! (they depend on the machine); what is checked is that the benchmark
//! settles with the model loaded, measures the window it was asked for,
//! and reports every figure the README quotes.

use std::process::Command;

#[test]
fn the_footprint_benchmark_settles_with_the_model_loaded_and_reports_every_figure(
) -> anyhow::Result<()> {
    let model = ember::classify::embed::model_dir(std::path::Path::new("/nonexistent"));
    if !model.join("model.safetensors").is_file() {
        // EMBER_MODEL_DIR unset (the Makefile sets it): it measures with the model only.
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let out = Command::new(env!("CARGO_BIN_EXE_ember"))
        .arg("--data-dir")
        .arg(dir.path().join("cli"))
        .args(["bench", "footprint", "--messages", "300", "--seconds", "2"])
        .arg("--dir")
        .arg(dir.path().join("store"))
        .env("EMBER_MODEL_DIR", &model)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let number = |key: &str| {
        report[key]
            .as_f64()
            .ok_or_else(|| anyhow::anyhow!("no {key} in {report}"))
    };
    assert_eq!(number("messages")?, 300.0);
    assert!(
        number("stored_messages")? > 300.0,
        "the demo accounts synced into the store: {report}"
    );
    assert!(number("seconds")? >= 2.0);
    assert!(number("rss_mb")? > 0.0 && number("peak_rss_mb")? >= number("rss_mb")?);
    assert!(number("db_mb")? > 0.0);
    for key in ["idle_cpu_percent", "wakeups_per_min", "sync_interval_s"] {
        assert!(number(key)? >= 0.0, "{key}");
    }
    assert_eq!(report["categoriser_available"], true, "{report}");
    // The store was kept where asked.
    assert!(dir
        .path()
        .join("store")
        .join(ember::store::DATABASE_FILE)
        .is_file());
    Ok(())
}
