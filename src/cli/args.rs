//! The command line's words: every subcommand and option, parsed by clap.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::DATA_DIR_ENV;

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
    /// Check Ember's health for a bug report: versions, data and log
    /// folders, the database (sizes, schema, integrity), the model, the
    /// keychain, each account's sync, the outbox and the categoriser. Each
    /// line that is not healthy says what to do. The text is ready to share
    /// (home folder as ~, addresses masked); --json gives every figure.
    Doctor {
        /// Print the whole report as JSON.
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
        /// Only this account (an `id` from `ember account list`).
        #[arg(long, value_name = "ID")]
        account: Option<i64>,
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
        /// Only those synced for this reason: assigned, created, mentioned,
        /// followed, or query:<id>.
        #[arg(long)]
        only: Option<String>,
        /// Search titles and descriptions: words, and type: state: assigned:.
        #[arg(long)]
        search: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show or change one work item (by its Azure DevOps number). Changes
    /// go through the outbox: sent on the account's next sync, or at once
    /// with --now.
    #[command(subcommand)]
    WorkItem(WorkItemCommand),
    /// Change mail the way the window does: applied locally at once and
    /// sent to the provider on the next sync run (or at once with --now).
    Mail(MailCommand),
    /// Write and send a message (a new one, or a reply or forward of a
    /// stored message): queued in the outbox and sent on the account's next
    /// sync run, or before returning with --now.
    Send(SendArgs),
    /// List drafts not yet sent: being written, queued, sending or refused.
    Drafts {
        /// Only this account's.
        #[arg(long, value_name = "ID")]
        account: Option<i64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List folders and labels with their ids and counts.
    Folders {
        /// Only this account's.
        #[arg(long, value_name = "ID")]
        account: Option<i64>,
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

/// What `ember mail` does to the messages it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MailVerb {
    /// Mark read.
    Read,
    /// Mark unread.
    Unread,
    /// Star (flag, for Microsoft 365).
    Star,
    /// Remove the star.
    Unstar,
    /// Take out of the inbox.
    Archive,
    /// Move to the trash.
    Trash,
    /// Move to the folder given by --to.
    Move,
}

/// `ember mail VERB ID...`.
#[derive(Debug, clap::Args)]
pub struct MailCommand {
    /// What to do.
    pub verb: MailVerb,
    /// Messages, by the `id` that `ember messages --json` prints.
    #[arg(required = true, num_args = 1..)]
    pub ids: Vec<i64>,
    /// The folder to move to (an `id` from `ember folders --json`).
    #[arg(long, value_name = "FOLDER", required_if_eq("verb", "move"))]
    pub to: Option<i64>,
    /// Send it now and wait for the provider's answer.
    #[arg(long)]
    pub now: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `ember send ...`.
#[derive(Debug, clap::Args)]
pub struct SendArgs {
    /// The mail account to send from (an `id` from `ember account list`);
    /// by default the account of the message answered or forwarded.
    #[arg(long, value_name = "ID")]
    pub account: Option<i64>,
    /// Recipients (`a@x.example` or `Name <a@x.example>`, repeat or separate
    /// with commas). A reply is addressed to the sender unless given.
    #[arg(long, value_name = "ADDR")]
    pub to: Vec<String>,
    /// Copy recipients.
    #[arg(long, value_name = "ADDR")]
    pub cc: Vec<String>,
    /// Blind copy recipients.
    #[arg(long, value_name = "ADDR")]
    pub bcc: Vec<String>,
    /// The subject (a reply or forward keeps the original's, with Re:/Fwd:).
    #[arg(long)]
    pub subject: Option<String>,
    /// The body, as plain text.
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// A file holding the body, as plain text (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// A file to attach (repeat for several).
    #[arg(long, value_name = "FILE")]
    pub attach: Vec<PathBuf>,
    /// Answer the sender of this message (an `id` from `ember messages --json`).
    #[arg(long, value_name = "ID", conflicts_with_all = ["reply_all", "forward"])]
    pub reply_to: Option<i64>,
    /// Answer the sender and every recipient of this message.
    #[arg(long, value_name = "ID", conflicts_with = "forward")]
    pub reply_all: Option<i64>,
    /// Forward this message, with its attachments.
    #[arg(long, value_name = "ID")]
    pub forward: Option<i64>,
    /// Send it now and wait for the provider's answer.
    #[arg(long)]
    pub now: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `ember work-item ...`.
#[derive(Debug, Subcommand)]
pub enum WorkItemCommand {
    /// Its fields, description, comments, history, related items and mail.
    Show {
        /// The work item's number.
        id: i64,
        /// Read it from Azure DevOps first (comments and history included).
        #[arg(long)]
        refresh: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Move it to another state its type allows.
    SetState {
        /// The work item's number.
        id: i64,
        /// The new state.
        state: String,
        /// Send it now and wait for Azure DevOps' answer.
        #[arg(long)]
        now: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a comment.
    Comment {
        /// The work item's number.
        id: i64,
        /// The comment.
        text: String,
        /// Send it now and wait for Azure DevOps' answer.
        #[arg(long)]
        now: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Assign it to someone (an address or name), or to nobody with `none`.
    Assign {
        /// The work item's number.
        id: i64,
        /// Who.
        to: String,
        /// Send it now and wait for Azure DevOps' answer.
        #[arg(long)]
        now: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set its priority (1 to 4).
    Priority {
        /// The work item's number.
        id: i64,
        /// The priority.
        #[arg(value_parser = clap::value_parser!(i64).range(1..=4))]
        priority: i64,
        /// Send it now and wait for Azure DevOps' answer.
        #[arg(long)]
        now: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

impl WorkItemCommand {
    fn json(&self) -> bool {
        match self {
            Self::Show { json, .. }
            | Self::SetState { json, .. }
            | Self::Comment { json, .. }
            | Self::Assign { json, .. }
            | Self::Priority { json, .. } => *json,
        }
    }
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
    /// The provider it signs in to.
    pub(super) fn kind(self) -> crate::model::ProviderKind {
        match self {
            Self::Gmail => crate::model::ProviderKind::Gmail,
            Self::Microsoft => crate::model::ProviderKind::Graph,
            Self::Ado => crate::model::ProviderKind::Ado,
        }
    }
}

/// A provider, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderArg {
    /// Gmail.
    Gmail,
    /// Microsoft 365 (Microsoft Graph).
    #[value(alias = "microsoft")]
    Graph,
    /// Azure DevOps.
    Ado,
}

impl ProviderArg {
    /// The provider.
    pub(super) fn kind(self) -> crate::model::ProviderKind {
        match self {
            Self::Gmail => crate::model::ProviderKind::Gmail,
            Self::Graph => crate::model::ProviderKind::Graph,
            Self::Ado => crate::model::ProviderKind::Ado,
        }
    }
}

/// `ember demo ...`.
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Add the Gmail, Microsoft 365 and Azure DevOps demo accounts against a
    /// running emulator (`ember emulator`), signing in through OAuth. The
    /// emulator's control token (printed when it starts) comes from
    /// EMBER_EMULATOR_TOKEN.
    Setup {
        /// The emulator's address (`http://127.0.0.1:PORT`).
        #[arg(long, value_name = "URL")]
        emulator: String,
        /// Initial sync window: a number of days, or `all`.
        #[arg(long, default_value = "90", value_parser = parse_window)]
        window: crate::model::SyncWindow,
        /// Then sync the demo accounts once (credentials may not outlive
        /// this process when no keychain is reachable).
        #[arg(long)]
        sync: bool,
        /// With --sync: sync only this provider's demo account.
        #[arg(long, value_enum, requires = "sync")]
        only: Option<ProviderArg>,
        /// With --sync: ignore the providers' quotas (for an emulator run
        /// with --no-quota, and benchmarks).
        #[arg(long, requires = "sync")]
        no_quota: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
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
    /// Opening a message with a large HTML body in the reading pane: the
    /// first open and the ones after it, through the service.
    Open {
        /// Megabytes of HTML in the message.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=200))]
        html_mb: u64,
        /// Timed reopens.
        #[arg(long, default_value_t = 20)]
        samples: usize,
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
        /// Which provider: gmail, graph or ado.
        #[arg(long, value_enum, default_value = "gmail")]
        provider: ProviderArg,
        /// Messages in the mailbox (work items, for ado).
        #[arg(long, alias = "items", default_value_t = 10_000)]
        messages: usize,
        /// Enforce the provider's quota in the emulator and in Ember.
        #[arg(long)]
        quota: bool,
        /// Print JSON (the only output; accepted for symmetry).
        #[arg(long)]
        json: bool,
    },
    /// What leaving Ember running costs: the service on a store of N
    /// messages, categorisation and sync on against an idle emulator (its
    /// own process), once settled: resident memory, CPU and context
    /// switches over the window, database size. Linux only.
    #[cfg(all(feature = "emulator", unix))]
    Footprint {
        /// Messages in the synthetic store.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(100..=2_000_000))]
        messages: u64,
        /// Seconds measured once settled (60 or more for a published figure).
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
        seconds: u64,
        /// Minutes between sync runs (the app's default).
        #[arg(long, default_value_t = 5)]
        sync_interval_minutes: u32,
        /// Keep the store here instead of a temporary directory (reused
        /// when it already holds N messages).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Only build the store in --dir (the benchmark's own child step).
        #[arg(long, hide = true, requires = "dir")]
        build_only: bool,
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
    /// Whether `--json` was given: the output is for a program, so no
    /// progress is drawn (benchmarks and training print JSON either way).
    pub(super) fn json_asked(&self) -> bool {
        match self {
            Self::Bench(
                BenchCommand::Classify { json, .. }
                | BenchCommand::Responsiveness { json, .. }
                | BenchCommand::Query { json, .. }
                | BenchCommand::Open { json, .. },
            ) => *json,
            #[cfg(all(feature = "emulator", unix))]
            Self::Bench(BenchCommand::Footprint { json, .. }) => *json,
            #[cfg(feature = "emulator")]
            Self::Bench(BenchCommand::Sync { json, .. } | BenchCommand::Emulator { json, .. }) => {
                *json
            }
            Self::Classifier(
                ClassifierCommand::Train { json, .. } | ClassifierCommand::Evaluate { json, .. },
            ) => *json,
            Self::Categorize { .. } => true,
            other => other.json(),
        }
    }

    /// Whether the command prints JSON (and so errors as JSON).
    pub(super) fn json(&self) -> bool {
        match self {
            Self::Status { json }
            | Self::Doctor { json }
            | Self::Messages { json, .. }
            | Self::Sync { json, .. }
            | Self::Search { json, .. }
            | Self::Render { json, .. }
            | Self::WorkItems { json, .. } => *json,
            Self::WorkItem(command) => command.json(),
            Self::Mail(command) => command.json,
            Self::Folders { json, .. } => *json,
            Self::Send(args) => args.json,
            Self::Drafts { json, .. } => *json,
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
