//! `ember bench ...`: each benchmark prints one JSON object.

use super::args::BenchCommand;
use super::{model_dir, output};

/// Runs one benchmark.
pub(super) async fn run_bench(
    bench: BenchCommand,
    data_dir: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    match bench {
        BenchCommand::Classify {
            emails,
            threads,
            batch_size,
            ..
        } => {
            let result = crate::bench::classify::run(
                emails.max(1),
                threads,
                batch_size,
                &model_dir(data_dir),
            )
            .await?;
            output::json_line(&result)
        }
        BenchCommand::Responsiveness {
            messages, threads, ..
        } => {
            let result =
                crate::bench::responsiveness::run(messages.max(100), threads, &model_dir(data_dir))
                    .await?;
            output::json_line(&result)
        }
        BenchCommand::Open {
            html_mb, samples, ..
        } => {
            let result = crate::bench::open::run(usize::try_from(html_mb)?, samples.max(1)).await?;
            output::json_line(&result)
        }
        BenchCommand::Query {
            messages,
            samples,
            dir,
            ..
        } => {
            let result = crate::bench::query::run(
                usize::try_from(messages)?,
                samples.max(10),
                dir.as_deref(),
            )
            .await?;
            output::json_line(&result)
        }
        #[cfg(feature = "emulator")]
        BenchCommand::Sync {
            provider,
            messages,
            quota,
            ..
        } => {
            let result = crate::bench::sync::run(provider.kind(), messages.max(10), quota).await?;
            output::json_line(&result)
        }
        #[cfg(all(feature = "emulator", unix))]
        BenchCommand::Footprint {
            messages,
            seconds,
            sync_interval_minutes,
            dir,
            build_only,
            ..
        } => {
            let messages = usize::try_from(messages)?;
            if build_only {
                let dir = dir.ok_or_else(|| anyhow::anyhow!("--build-only needs --dir"))?;
                return crate::bench::footprint::build_store(messages, &dir).await;
            }
            let result = crate::bench::footprint::run(crate::bench::footprint::FootprintOptions {
                messages,
                window: std::time::Duration::from_secs(seconds),
                sync_interval_minutes,
                dir,
                model_dir: model_dir(data_dir),
            })
            .await?;
            output::json_line(&result)
        }
        #[cfg(feature = "emulator")]
        BenchCommand::Emulator {
            messages, samples, ..
        } => {
            let result = crate::bench::emulator::run(messages, samples.max(1)).await?;
            output::json_line(&result)
        }
    }
}
