//! The `ember` command line: the same service layer as the window, for
//! scripts, tests and people who live in a terminal.
//!
//! Every command prints human-readable text by default and one JSON document
//! with `--json`. Errors go to stderr (as `{"code","message"}` with
//! `--json`) and exit with status 1; bad arguments exit with status 2.

mod args;
mod bench;
mod categorize;
mod mail;
mod output;
mod progress;
mod send;
mod work_items;

#[cfg(feature = "emulator")]
pub use args::EmulatorArgs;
pub use args::{
    AccountCommand, AddProvider, BenchCommand, ClassifierCommand, Cli, Command, DemoCommand,
    ProviderArg, WorkItemCommand,
};

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;

use crate::config::{resolve_data_dir, Config};
use crate::model::{SearchQuery, WorkItemQuery};
use crate::service::{ApiError, Ember, ErrorCode, ServiceError};

/// Runs the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.command.json();
    let bars = progress::enable(cli.command.json_asked());
    let _logs = init_logging(cli.data_dir.as_deref(), bars, json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return output::fail(json, &internal(format!("cannot start: {e}"))),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let api = api_error(e);
            output::fail(json, &api)
        }
    }
}

/// The `{code, message}` an error is reported as.
fn api_error(e: anyhow::Error) -> ApiError {
    use crate::service::demo::DemoError;
    let unavailable = |message: String| ApiError {
        code: ErrorCode::Unavailable,
        message,
    };
    let e = match e.downcast::<ServiceError>() {
        Ok(service) => return ApiError::from(service),
        Err(e) => e,
    };
    let e = match e.downcast::<DemoError>() {
        Ok(DemoError::Service(service)) => return ApiError::from(service),
        Ok(other) => return unavailable(other.to_string()),
        Err(e) => e,
    };
    match e.downcast::<crate::auth::AuthError>() {
        Ok(auth) => unavailable(auth.to_string()),
        Err(other) => internal(format!("{other:#}")),
    }
}

fn internal(message: String) -> ApiError {
    ApiError {
        code: ErrorCode::Internal,
        message,
    }
}

/// Logs to the profile's log folder and to stderr (warnings only unless
/// `EMBER_LOG` asks for more; scripts and the crash tests read stderr).
/// A log folder that cannot be written is a warning, except for a command
/// answering in JSON, whose stderr carries only its JSON error (the
/// folder's trouble is then in that error, or in `ember doctor`).
fn init_logging(
    data_dir: Option<&std::path::Path>,
    bars: bool,
    json: bool,
) -> crate::logging::LogGuard {
    let guard = crate::logging::init(crate::logging::LogOptions {
        program: "ember",
        dir: resolve_data_dir(data_dir).map(|d| crate::logging::log_dir(&d)),
        terminal: Some(progress::log_writer()),
        ansi: crate::logging::stderr_is_terminal(),
        terminal_default: "warn",
        extra: bars.then(progress::layer),
    });
    match &guard.problem {
        Some(problem) if json => tracing::info!("{problem}"),
        Some(problem) => tracing::warn!("{problem}"),
        None => {}
    }
    guard
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => return serve_emulator(args).await,
        Command::Bench(bench) => return bench::run_bench(bench, cli.data_dir.as_deref()).await,
        Command::Categorize { input } => {
            return categorize::categorize(&input, &model_dir(cli.data_dir.as_deref())).await
        }
        Command::Classifier(command) => {
            let model_dir = model_dir(cli.data_dir.as_deref());
            let report = match command {
                ClassifierCommand::Train {
                    data,
                    out,
                    embeddings_from,
                    ..
                } => categorize::train(&data, &out, &model_dir, embeddings_from.as_deref()).await?,
                ClassifierCommand::Evaluate {
                    data,
                    folds,
                    header_weight,
                    embedding_weight,
                    sender_weight,
                    l2,
                    epochs,
                    ..
                } => {
                    let candidate = categorize::Candidate {
                        header_weight,
                        embedding_weight,
                        sender_weight,
                        l2,
                        epochs,
                    };
                    categorize::evaluate(&data, folds as usize, &model_dir, candidate).await?
                }
            };
            return output::json_line(&report);
        }
        Command::Render {
            file,
            allow_remote,
            json,
        } => return render_file(&file, allow_remote, json).await,
        _ => {}
    }
    let data_dir = resolve_data_dir(cli.data_dir.as_deref())
        .context("no data directory: pass --data-dir or set EMBER_DATA_DIR")?;
    let sources = match &cli.command {
        Command::Demo(DemoCommand::Setup { no_quota: true, .. }) => {
            crate::service::sources::unmetered()?
        }
        _ => crate::service::sources::standard()?,
    };
    let config = Config::new(data_dir);
    let ember = match Ember::open(config.clone(), sources).await {
        Ok(ember) => ember,
        // The doctor still reports on a folder whose database will not open.
        Err(e) => {
            if let Command::Doctor { json } = cli.command {
                let report = crate::service::doctor::unopened(&config, &e).await;
                return if json {
                    output::json_line(&report)
                } else {
                    output::text(&report.report)
                };
            }
            return Err(e.into());
        }
    };
    let result = execute(&ember, cli.command).await;
    ember.shutdown(std::time::Duration::from_secs(5)).await;
    result
}

#[cfg(feature = "emulator")]
async fn serve_emulator(args: EmulatorArgs) -> anyhow::Result<()> {
    use ember_emulator::{faults::FaultSpec, world::WorldConfig, Emulator, EmulatorConfig};
    let emulator = Emulator::start(EmulatorConfig {
        world: WorldConfig {
            seed: args.seed,
            messages: usize::try_from(args.messages)?,
            work_items: args.work_items,
        },
        faults: FaultSpec::parse(&args.faults)?,
        no_quota: args.no_quota,
        port: args.port,
    })
    .await
    .context("cannot start the emulator")?;
    output::line(&format!("listening on {}", emulator.base_url()))?;
    // Its own user's terminal: the secret `ember demo setup` and tests need
    // (nothing else on the machine can read it there).
    output::line(&format!("control token {}", emulator.control_token()))?;
    shutdown_signal().await;
    emulator.stop().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere).
#[cfg(feature = "emulator")]
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A secret from the environment variable `var`, or the first line of
/// standard input when `stdin` is set; never from the command line.
fn secret(var: &str, stdin: bool) -> anyhow::Result<Option<crate::secret::Secret>> {
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the secret from standard input")?;
        let line = crate::secret::Secret::new(line.trim());
        anyhow::ensure!(!line.is_blank(), "standard input held no secret");
        return Ok(Some(line));
    }
    Ok(std::env::var(var)
        .ok()
        .map(|v| crate::secret::Secret::new(v.trim()))
        .filter(|v| !v.is_blank()))
}

/// Where the sentence model is: `EMBER_MODEL_DIR`, else under the data directory.
fn model_dir(data_dir: Option<&std::path::Path>) -> PathBuf {
    let data_dir = resolve_data_dir(data_dir).unwrap_or_else(|| PathBuf::from("."));
    crate::classify::embed::model_dir(&data_dir)
}

/// `ember render`: the same parse and render path as a synced message.
async fn render_file(file: &std::path::Path, allow_remote: bool, json: bool) -> anyhow::Result<()> {
    let raw = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let rendered = crate::cpu::run(move || {
        let parsed = crate::providers::mime::parse(&raw)?;
        Ok::<_, crate::providers::mime::MimeError>(match parsed.html {
            Some(html) => crate::render::render(&html, allow_remote),
            None => crate::render::render_text(parsed.text.as_deref().unwrap_or_default()),
        })
    })
    .await??;
    if json {
        output::json_line(&rendered)
    } else {
        output::line(&rendered.html)
    }
}

async fn execute(ember: &Ember, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Status { json } => {
            let status = ember.status().await?;
            output::status(json, &status)
        }
        Command::Doctor { json } => {
            let report = ember.diagnostics().await?;
            if json {
                output::json_line(&report)
            } else {
                output::text(&report.report)
            }
        }
        Command::Messages {
            limit,
            all,
            account,
            json,
        } => {
            let rows = ember
                .export_messages(account, if all { None } else { Some(limit) })
                .await?;
            output::exported(json, &rows)
        }
        Command::Sync {
            once,
            account: only,
            json,
        } => {
            if !once {
                anyhow::bail!("only `ember sync --once` is available; the app syncs continuously");
            }
            // Refused as a whole, before anything runs, when another
            // process (the app) syncs this profile.
            ember.claim_profile().await?;
            let mut results = Vec::new();
            let accounts = ember.accounts().await?;
            let _bars = progress::SyncBars::follow(ember, &accounts);
            for account in accounts {
                if only.is_some_and(|id| id != account.id) {
                    continue;
                }
                if !account.sync_enabled || account.state != crate::model::AccountState::Active {
                    continue;
                }
                let started = std::time::Instant::now();
                let outcome = ember.sync_once(account.id).await;
                results.push(output::SyncResult::new(
                    &account,
                    outcome,
                    started.elapsed(),
                ));
            }
            if let (Some(id), true) = (only, results.is_empty()) {
                anyhow::bail!("no enabled, signed-in account has the id {id}");
            }
            output::sync_results(json, &results)
        }
        Command::Search { query, limit, json } => {
            let found = ember.search(&SearchQuery { text: query, limit }).await?;
            output::search_hits(json, &found)
        }
        Command::WorkItems {
            limit,
            only,
            search,
            json,
        } => {
            let items = ember
                .work_items(&WorkItemQuery {
                    account_id: None,
                    membership: only,
                    search,
                    limit,
                })
                .await?;
            output::work_items(json, &items)
        }
        Command::WorkItem(command) => work_items::run(ember, command).await,
        Command::Mail(command) => mail::run(ember, command).await,
        Command::Send(args) => send::run(ember, args).await,
        Command::Drafts { account, json } => send::drafts(json, &ember.drafts(account).await?),
        Command::Folders { account, json } => mail::folders(json, &ember.folders(account).await?),
        Command::Demo(DemoCommand::Setup {
            emulator,
            window,
            sync,
            only,
            json,
            ..
        }) => {
            use crate::service::demo::EMULATOR_TOKEN_ENV;
            let token = secret(EMULATOR_TOKEN_ENV, false)?.ok_or_else(|| {
                anyhow::anyhow!(
                    "set {EMULATOR_TOKEN_ENV} to the control token `ember emulator` printed"
                )
            })?;
            let accounts = {
                let _spinner = progress::Spinner::new("signing in the demo accounts");
                crate::service::demo::setup(ember, &emulator, token.expose(), window).await?
            };
            if !sync {
                return output::accounts(json, &accounts);
            }
            let _bars = progress::SyncBars::follow(ember, &accounts);
            let mut results = Vec::new();
            let wanted = |a: &&crate::model::Account| only.is_none_or(|p| p.kind() == a.provider);
            for account in accounts.iter().filter(wanted) {
                let started = std::time::Instant::now();
                let outcome = ember.sync_once(account.id).await;
                results.push(output::SyncResult::new(account, outcome, started.elapsed()));
            }
            output::sync_results(json, &results)
        }
        Command::Account(AccountCommand::Add {
            provider,
            client_id,
            client_secret_stdin,
            tenant,
            device_code,
            organization,
            pat_stdin,
            base_url,
            window,
            json,
        }) => {
            let add = crate::model::AddAccount {
                provider: provider.kind(),
                client_id,
                client_secret: secret("EMBER_CLIENT_SECRET", client_secret_stdin)?,
                organization,
                pat: if provider == AddProvider::Ado {
                    secret("EMBER_ADO_PAT", pat_stdin)?
                } else {
                    None
                },
                base_url,
                tenant,
                device_code,
            };
            let account = ember
                .sign_in_with_window(add, window, &crate::auth::PrintBrowser)
                .await?;
            if let crate::auth::SecretStorage::Memory(reason) = ember.secrets().await.storage() {
                tracing::warn!(
                    "no secure storage ({reason}): the sign-in lasts until this command exits"
                );
            }
            output::accounts(json, std::slice::from_ref(&account))
        }
        Command::Account(AccountCommand::List { json }) => {
            output::accounts(json, &ember.accounts().await?)
        }
        Command::Account(AccountCommand::Remove { id }) => {
            ember.remove_account(id).await?;
            Ok(())
        }
        #[cfg(feature = "emulator")]
        Command::Emulator(_) => Ok(()),
        Command::Bench(_)
        | Command::Categorize { .. }
        | Command::Classifier(_)
        | Command::Render { .. } => Ok(()),
    }
}
