use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;

use basic_admin_app::auth::account_links;
use basic_admin_app::auth::accounts::{self, SignUp};
use basic_admin_app::master_key;
use basic_admin_app::signing_keys::KeyRing;
use basic_admin_core::model::Account;
use basic_admin_core::store::{LinkPurpose, Store};
use basic_admin_server::config::{Config, Flags};
use basic_admin_server::{App, backup, open_store, telemetry};
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

// Requests allocate many small short-lived values (headers, JSON, rows):
// under load glibc's allocator took 12-20 % of the server's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A self-hostable server for the Basic Admin API.
#[derive(Parser)]
#[command(name = "basic-admin", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the server (migrating the database first).
    Serve(Flags),
    /// Apply the database migrations, then exit.
    Migrate(Flags),
    /// Manage accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Manage the JWT signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Write the embedded database (a consistent snapshot, also while the
    /// server runs), the master key and the uploaded images to one archive.
    Backup {
        /// The archive to write (tar.gz, created readable by its owner only)
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        #[command(flatten)]
        flags: Flags,
    },
    /// Fill an empty data folder (and storage) from an archive written by `backup`.
    Restore {
        /// The archive to read
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        #[command(flatten)]
        flags: Flags,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Create an account (the password is asked for, or read from stdin).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: Option<String>,
        #[arg(long, default_value = "")]
        name: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        flags: Flags,
    },
    /// Mark an account's email address as confirmed, as its confirmation link would.
    VerifyEmail {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        flags: Flags,
    },
    /// Print a link that sets a new password for an account (once, within
    /// an hour; it signs the account out everywhere), to hand over yourself.
    ResetLink {
        #[arg(long)]
        email: String,
        #[command(flatten)]
        flags: Flags,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Start signing with a new key; the old ones stay published until their tokens expire.
    Rotate(Flags),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let flags = match &cli.command {
        Command::Serve(flags)
        | Command::Migrate(flags)
        | Command::Account {
            command:
                AccountCommand::Create { flags, .. }
                | AccountCommand::VerifyEmail { flags, .. }
                | AccountCommand::ResetLink { flags, .. },
        }
        | Command::Keys { command: KeysCommand::Rotate(flags) }
        | Command::Backup { flags, .. }
        | Command::Restore { flags, .. } => flags,
    };
    let config = match Config::load(flags.clone()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("basic-admin: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format, &config.log);
    let result = match cli.command {
        Command::Serve(_) => serve(config).await,
        Command::Migrate(_) => migrate(config).await,
        Command::Account { command: AccountCommand::Create { email, username, name, password_stdin, .. } } => {
            create_account(config, email, username, name, password_stdin).await
        }
        Command::Account { command: AccountCommand::VerifyEmail { email, .. } } => verify_email(config, email).await,
        Command::Account { command: AccountCommand::ResetLink { email, .. } } => reset_link(config, email).await,
        Command::Keys { command: KeysCommand::Rotate(_) } => rotate_keys(config).await,
        Command::Backup { to, .. } => backup::backup(&config, &to).await.map_err(Into::into).map(|manifest| {
            println!("{}: the database and {} files", to.display(), manifest.files);
        }),
        Command::Restore { from, .. } => backup::restore(&config, &from).await.map_err(Into::into).map(|manifest| {
            println!(
                "restored the backup of {} with {} files into {}",
                manifest.created_at,
                manifest.files,
                config.data_dir.display()
            );
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("basic-admin: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    tracing::debug!(?config, "configuration");
    let listen = config.listen;
    let public_url = config.public_url.clone();
    let app = App::build(config).await?;
    // Caught from before the first request: a signal that comes early stops
    // the server cleanly too, instead of killing it.
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, %public_url, "listening");
    app.serve(listener, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let store = migrated_store(&config).await?;
    let applied = store.applied_migrations().await?;
    tracing::info!(backend = store.backend(), ?applied, "migrations applied");
    store.close().await;
    Ok(())
}

/// Opens and migrates the configured database, for the one-shot commands.
async fn migrated_store(config: &Config) -> Result<Arc<dyn Store>, Box<dyn std::error::Error>> {
    basic_admin_server::create_data_dir(&config.data_dir)?;
    let store = open_store(config).await?;
    store.migrate().await?;
    Ok(store)
}

async fn create_account(
    config: Config,
    email: String,
    username: Option<String>,
    name: String,
    password_stdin: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        let first = rpassword::prompt_password("Password: ")?;
        if rpassword::prompt_password("Again: ")? != first {
            return Err("the passwords differ".into());
        }
        first
    };
    let store = migrated_store(&config).await?;
    let account = accounts::create(&*store, SignUp { email, username, name, password }).await?;
    println!("{}", account.id);
    store.close().await;
    Ok(())
}

async fn existing_account(store: &dyn Store, email: &str) -> Result<Account, Box<dyn std::error::Error>> {
    Ok(store.account_by_email(email.trim()).await?.ok_or_else(|| format!("no account has the email {email}"))?)
}

async fn verify_email(config: Config, email: String) -> Result<(), Box<dyn std::error::Error>> {
    let store = migrated_store(&config).await?;
    let account = existing_account(&*store, &email).await?;
    store.mark_email_verified(account.id, &account.email, basic_admin_core::time::now()).await?;
    println!("{} is confirmed", account.email);
    store.close().await;
    Ok(())
}

async fn reset_link(config: Config, email: String) -> Result<(), Box<dyn std::error::Error>> {
    let store = migrated_store(&config).await?;
    let account = existing_account(&*store, &email).await?;
    let link = account_links::issue(&*store, &config.public_url, &account, LinkPurpose::ResetPassword).await?;
    // Printed for the operator only: it is never logged.
    println!("{link}");
    store.close().await;
    Ok(())
}

async fn rotate_keys(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let store = migrated_store(&config).await?;
    let master_key = master_key::load(config.master_key.as_ref(), &config.data_dir)?;
    let kid = KeyRing::rotate(&*store, &master_key).await?;
    tracing::info!(%kid, "a new signing key is active; the previous ones stay published until their tokens expire");
    println!("{kid}");
    store.close().await;
    Ok(())
}

/// Completes on SIGINT or SIGTERM. The handlers are installed now, not
/// when the future is first polled (the server polls it on a task of its
/// own, which a loaded machine may run late).
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}
