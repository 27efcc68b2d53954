use std::process::ExitCode;

use basic_admin_server::config::{Config, Flags};
use basic_admin_server::{App, open_store, telemetry};
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

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
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let (Command::Serve(flags) | Command::Migrate(flags)) = &cli.command;
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
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, %public_url, "listening");
    app.serve(listener, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    basic_admin_server::create_data_dir(&config.data_dir)?;
    let store = open_store(&config).await?;
    store.migrate().await?;
    let applied = store.applied_migrations().await?;
    tracing::info!(backend = store.backend(), ?applied, "migrations applied");
    store.close().await;
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
