//! The `ember` command line: the same service layer as the window, for
//! scripts, tests and people who live in a terminal.
//!
//! Every command prints human-readable text by default and one JSON document
//! with `--json`. Errors go to stderr (as `{"code","message"}` with
//! `--json`) and exit with status 1; bad arguments exit with status 2.

mod categorize;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::{resolve_data_dir, Config, DATA_DIR_ENV};
use crate::model::{SearchQuery, WorkItemQuery};
use crate::service::{ApiError, Ember, ErrorCode, ServiceError};

/// Fireside Ember: Gmail, Microsoft 365 and Azure DevOps in one local store.
#[derive(Debug, Parser)]
#[command(name = "ember", version, about)]
pub struct Cli {
    /// Where Ember keeps its database (default: the platform's data folder).
    #[arg(long, global = true, env = DATA_DIR_ENV, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the sync switch, each account's state and the store's size.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List stored messages, newest first.
    Messages {
        /// At most this many.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
        /// Every message, ignoring --limit.
        #[arg(long)]
        all: bool,
        /// Only this account's.
        #[arg(long, value_name = "ID")]
        account: Option<i64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sync accounts.
    Sync {
        /// Sync every enabled account once and exit (the only mode for now).
        #[arg(long)]
        once: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Search stored mail: words, "phrases", -excluded, and the operators
    /// from: to: subject: has:attachment is:unread is:read is:starred
    /// category: in: before: after: (dates YYYY-MM-DD, UTC).
    Search {
        /// What to find, as typed in the window's search box.
        query: String,
        /// At most this many.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the sanitised HTML document the reading pane would load into
    /// its sandboxed frame for a message file.
    Render {
        /// An RFC 822 message (.eml).
        file: PathBuf,
        /// Keep remote images (as when the user allowed remote content).
        #[arg(long)]
        allow_remote: bool,
        /// Print the RenderedBody as JSON instead of the document.
        #[arg(long)]
        json: bool,
    },
    /// List stored work items, most recently changed first.
    WorkItems {
        /// At most this many.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve the emulated Gmail, Microsoft Graph and Azure DevOps on 127.0.0.1.
    #[cfg(feature = "emulator")]
    #[command(after_help = ember_emulator::faults::FAULT_SPEC_HELP)]
    Emulator(EmulatorArgs),
    /// Measure a code path and print one JSON object.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Demo accounts served by an emulator.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Add, list or remove accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Categorise emails from a JSON Lines file (`{"subject","from","body"}`,
    /// optional `"list_id"`, `"list_unsubscribe"`): one
    /// `{"category","spam","confidence"}` line per input, in order.
    Categorize {
        /// The input file.
        #[arg(long, value_name = "FILE.jsonl")]
        input: PathBuf,
    },
    /// Build or evaluate the categoriser's default weights.
    #[command(subcommand)]
    Classifier(ClassifierCommand),
}

/// `ember classifier ...`.
#[derive(Debug, Subcommand)]
pub enum ClassifierCommand {
    /// Train the default model from the labelled emails and write it.
    Train {
        /// The labelled emails.
        #[arg(long, default_value = crate::classify::dataset::DEFAULT_TRAIN_CSV)]
        data: PathBuf,
        /// Where to write the model file.
        #[arg(long, default_value = "src/classify/default_model.json")]
        out: PathBuf,
        /// Take the training rows' embeddings from this model file instead
        /// of computing them (quick retuning; same rows required).
        #[arg(long, value_name = "MODEL.json")]
        embeddings_from: Option<PathBuf>,
        /// Print JSON (the only output; accepted for symmetry).
        #[arg(long)]
        json: bool,
    },
    /// Cross-validate the shipped configuration next to the TF-IDF baseline.
    Evaluate {
        /// The labelled emails.
        #[arg(long, default_value = crate::classify::dataset::DEFAULT_TRAIN_CSV)]
        data: PathBuf,
        /// Number of stratified folds.
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=20))]
        folds: u32,
        /// Also cross-validate a candidate with this header-block weight
        /// (the other knobs default to the shipped ones).
        #[arg(long)]
        header_weight: Option<f32>,
        /// ... with this embedding-block weight.
        #[arg(long)]
        embedding_weight: Option<f32>,
        /// ... with this sender-history weight.
        #[arg(long)]
        sender_weight: Option<f32>,
        /// ... with this L2 penalty.
        #[arg(long)]
        l2: Option<f32>,
        /// ... with this many training epochs.
        #[arg(long)]
        epochs: Option<usize>,
        /// Print JSON (the only output; accepted for symmetry).
        #[arg(long)]
        json: bool,
    },
}

/// `ember account ...`.
#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Sign in to an account. Opens nothing by itself: it prints the address
    /// to open in a browser (or, with --device-code, an address and a code
    /// to type on any device) and waits for the sign-in to come back.
    /// Secrets are never arguments (they would show in `ps` and the shell's
    /// history): an OAuth client secret comes from EMBER_CLIENT_SECRET or
    /// standard input (--client-secret-stdin), an Azure DevOps personal
    /// access token from EMBER_ADO_PAT or standard input (--pat-stdin).
    Add {
        /// Which service.
        #[arg(value_enum)]
        provider: AddProvider,
        /// Your OAuth client id (Google Cloud: a "Desktop app" client;
        /// Microsoft: the application (client) id of an app registration).
        #[arg(long, required_if_eq_any([("provider", "gmail"), ("provider", "microsoft")]))]
        client_id: Option<String>,
        /// Read the OAuth client secret from the first line of standard input.
        #[arg(long)]
        client_secret_stdin: bool,
        /// The Microsoft Entra tenant (default: common, any account).
        #[arg(long)]
        tenant: Option<String>,
        /// Sign in with a code typed on any device instead of a browser on
        /// this one.
        #[arg(long)]
        device_code: bool,
        /// The Azure DevOps organisation.
        #[arg(long, required_if_eq("provider", "ado"))]
        organization: Option<String>,
        /// Read the Azure DevOps personal access token from the first line
        /// of standard input.
        #[arg(long)]
        pat_stdin: bool,
        /// Talk to this address instead of the real service (an emulator).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
        /// Initial sync window: a number of days, or `all`.
        #[arg(long, value_parser = parse_window)]
        window: Option<crate::model::SyncWindow>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List accounts.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove an account and everything synced for it.
    Remove {
        /// The account's id.
        id: i64,
    },
}

/// Services `account add` can sign in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AddProvider {
    /// Gmail.
    Gmail,
    /// Microsoft 365 mail (Microsoft Graph).
    #[value(alias = "graph")]
    Microsoft,
    /// Azure DevOps work items.
    Ado,
}

impl AddProvider {
    fn kind(self) -> crate::model::ProviderKind {
        match self {
            Self::Gmail => crate::model::ProviderKind::Gmail,
            Self::Microsoft => crate::model::ProviderKind::Graph,
            Self::Ado => crate::model::ProviderKind::Ado,
        }
    }
}

/// A mail provider, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MailProvider {
    /// Gmail.
    Gmail,
    /// Microsoft 365 (Microsoft Graph).
    #[value(alias = "microsoft")]
    Graph,
}

impl MailProvider {
    fn kind(self) -> crate::model::ProviderKind {
        match self {
            Self::Gmail => crate::model::ProviderKind::Gmail,
            Self::Graph => crate::model::ProviderKind::Graph,
        }
    }
}

/// `ember demo ...`.
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Add the Gmail, Microsoft 365 and Azure DevOps demo accounts against a
    /// running emulator (`ember emulator`), signing in through OAuth.
    Setup {
        /// The emulator's address (`http://127.0.0.1:PORT`).
        #[arg(long, value_name = "URL")]
        emulator: String,
        /// Initial sync window: a number of days, or `all`.
        #[arg(long, default_value = "90", value_parser = parse_window)]
        window: crate::model::SyncWindow,
        /// Then sync the demo mail accounts once (credentials may not
        /// outlive this process when no keychain is reachable).
        #[arg(long)]
        sync: bool,
        /// With --sync: sync only this provider's demo account.
        #[arg(long, value_enum, requires = "sync")]
        only: Option<MailProvider>,
        /// With --sync: ignore the providers' quotas (for an emulator run
        /// with --no-quota, and benchmarks).
        #[arg(long, requires = "sync")]
        no_quota: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// A secret from the environment variable `var`, or the first line of
/// standard input when `stdin` is set; never from the command line.
fn secret(var: &str, stdin: bool) -> anyhow::Result<Option<String>> {
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("cannot read the secret from standard input")?;
        let line = line.trim().to_owned();
        anyhow::ensure!(!line.is_empty(), "standard input held no secret");
        return Ok(Some(line));
    }
    Ok(std::env::var(var)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty()))
}

fn parse_window(text: &str) -> Result<crate::model::SyncWindow, String> {
    crate::model::SyncWindow::parse(text)
        .ok_or_else(|| format!("expected a number of days or 'all', not {text:?}"))
}

/// `ember emulator` options.
#[cfg(feature = "emulator")]
#[derive(Debug, clap::Args)]
pub struct EmulatorArgs {
    /// Seed of the generated world.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Messages per mailbox (10 to 1,000,000).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(10..=1_000_000))]
    pub messages: u64,
    /// Work items in the Azure DevOps organisation.
    #[arg(long, default_value_t = 200)]
    pub work_items: usize,
    /// Faults to inject (see below).
    #[arg(long, default_value = "")]
    pub faults: String,
    /// Turn the providers' quotas off.
    #[arg(long)]
    pub no_quota: bool,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Categorise synthetic emails end to end (tokenise, embed, score) on the
    /// categoriser's pool, next to the machine's fp32 compute ceiling.
    Classify {
        /// Emails to categorise.
        #[arg(long, default_value_t = 512)]
        emails: usize,
        /// Threads of the categoriser's pool (default: EMBER_CLASSIFY_THREADS
        /// or cores − 1).
        #[arg(long)]
        threads: Option<usize>,
        /// Emails per batch (default: the categoriser's).
        #[arg(long)]
        batch_size: Option<usize>,
        /// Print JSON (the only output; accepted for symmetry).
        #[arg(long)]
        json: bool,
    },
    /// Command latency (inbox page, one message, status) through the
    /// service while its categoriser works through N stored messages.
    Responsiveness {
        /// Uncategorised messages in the synthetic store.
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        /// Threads of the categoriser's pool (default: EMBER_CLASSIFY_THREADS
        /// or cores − 1).
        #[arg(long)]
        threads: Option<usize>,
        /// Print JSON (the only output; accepted for symmetry).
        #[arg(long)]
        json: bool,
    },
    /// Message list pages and searches over a synthetic store of N messages.
    Query {
        /// Messages in the synthetic store.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(100..=2_000_000))]
        messages: u64,
        /// Timed runs per figure.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Keep the store here instead of a temporary directory (reused
        /// when it already holds N messages).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Print JSON (the only output; accepted for symmetry).
        #[arg(long)]
        json: bool,
    },
    /// A first sync of one mail provider against an in-process emulator,
    /// next to the machine's write ceiling (and the provider's quota
    /// ceiling with --quota).
    #[cfg(feature = "emulator")]
    Sync {
        /// Which provider: gmail or graph.
        #[arg(long, value_enum, default_value = "gmail")]
        provider: MailProvider,
        /// Messages in the mailbox.
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        /// Enforce the provider's quota in the emulator and in Ember.
        #[arg(long)]
        quota: bool,
        /// Print JSON (the only output; accepted for symmetry).
        #[arg(long)]
        json: bool,
    },
    /// How fast the emulated Gmail answers messages.list and messages.get.
    #[cfg(feature = "emulator")]
    Emulator {
        /// Messages in the mailbox.
        #[arg(long, default_value_t = 100_000)]
        messages: usize,
        /// Requests timed per figure.
        #[arg(long, default_value_t = 200)]
        samples: usize,
        /// Print JSON (the only output; accepted for symmetry).
        #[arg(long)]
        json: bool,
    },
}

impl Command {
    fn json(&self) -> bool {
        match self {
            Self::Status { json }
            | Self::Messages { json, .. }
            | Self::Sync { json, .. }
            | Self::Search { json, .. }
            | Self::Render { json, .. }
            | Self::WorkItems { json, .. } => *json,
            #[cfg(feature = "emulator")]
            Self::Emulator(_) => false,
            Self::Bench(_) => true,
            Self::Demo(DemoCommand::Setup { json, .. }) => *json,
            Self::Account(AccountCommand::Add { json, .. } | AccountCommand::List { json }) => {
                *json
            }
            Self::Account(AccountCommand::Remove { .. }) => false,
            Self::Categorize { .. } | Self::Classifier(_) => true,
        }
    }
}

/// Runs the CLI with the process's arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let json = cli.command.json();
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

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EMBER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    use std::io::IsTerminal as _;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// Runs one parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => return serve_emulator(args).await,
        Command::Bench(bench) => return run_bench(bench, cli.data_dir.as_deref()).await,
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
            crate::service::sources::unmetered()
        }
        _ => crate::service::sources::standard(),
    };
    let ember = Ember::open(Config::new(data_dir), sources).await?;
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
    shutdown_signal().await;
    emulator.stop().await;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere).
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

async fn run_bench(bench: BenchCommand, data_dir: Option<&std::path::Path>) -> anyhow::Result<()> {
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
        #[cfg(feature = "emulator")]
        BenchCommand::Emulator {
            messages, samples, ..
        } => {
            let result = crate::bench::emulator::run(messages, samples.max(1)).await?;
            output::json_line(&result)
        }
    }
}

async fn execute(ember: &Ember, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Status { json } => {
            let status = ember.status().await?;
            output::status(json, &status)
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
        Command::Sync { once, json } => {
            if !once {
                anyhow::bail!("only `ember sync --once` is available; the app syncs continuously");
            }
            let mut results = Vec::new();
            for account in ember.accounts().await? {
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
            output::sync_results(json, &results)
        }
        Command::Search { query, limit, json } => {
            let found = ember.search(&SearchQuery { text: query, limit }).await?;
            output::search_hits(json, &found)
        }
        Command::WorkItems { limit, json } => {
            let items = ember
                .work_items(&WorkItemQuery {
                    account_id: None,
                    limit,
                })
                .await?;
            output::work_items(json, &items)
        }
        Command::Demo(DemoCommand::Setup {
            emulator,
            window,
            sync,
            only,
            json,
            ..
        }) => {
            let accounts = crate::service::demo::setup(ember, &emulator, window).await?;
            if !sync {
                return output::accounts(json, &accounts);
            }
            let mut results = Vec::new();
            let wanted = |a: &&crate::model::Account| {
                a.provider.is_mail() && only.is_none_or(|p| p.kind() == a.provider)
            };
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
