//! Benchmarks run by `ember bench ...`: each measures a real code path
//! end to end on this machine and prints one JSON object, so figures can be
//! compared before and after a change rather than asserted in tests.

pub mod classify;
#[cfg(feature = "emulator")]
pub mod emulator;
#[cfg(all(feature = "emulator", unix))]
pub mod footprint;
pub mod open;
pub mod query;
pub mod responsiveness;
#[cfg(feature = "emulator")]
pub mod sync;

/// The Gmail-like account a benchmark's synthetic mail belongs to.
pub(crate) async fn bench_account(
    store: &crate::store::Store,
) -> Result<crate::model::Account, crate::store::StoreError> {
    use crate::model::{NewAccount, ProviderKind};
    store
        .upsert_account(&NewAccount {
            provider: ProviderKind::Gmail,
            address: "bench@example.org".into(),
            display_name: "Bench".into(),
            settings: crate::model::AccountSettings::offline(ProviderKind::Gmail),
            sync_enabled: false,
        })
        .await
}

/// The p-th percentile (0-100) of `samples`, in milliseconds.
pub fn percentile_ms(samples: &mut [std::time::Duration], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank.min(samples.len() - 1)].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn percentiles_pick_the_ranked_sample() {
        let mut s: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert!((super::percentile_ms(&mut s, 50.0) - 51.0).abs() < 1.0);
        assert!((super::percentile_ms(&mut s, 99.0) - 99.0).abs() < 1.0);
        assert_eq!(super::percentile_ms(&mut [], 50.0), 0.0);
    }
}
