//! `biologidex-api`: serve the HTTP API (default), or run one operational command.

use biologidex_core::config::Settings;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "biologidex-api", version, about = "BiologiDex HTTP API")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve {
        /// Address to bind, e.g. 0.0.0.0:8000.
        #[arg(long, env = "BIND_ADDRESS")]
        bind: Option<String>,
        /// Apply pending migrations before serving (development).
        #[arg(long)]
        migrate: bool,
    },
    /// Apply pending database migrations and exit (safe to run twice, or twice at once).
    Migrate,
    /// Load the sample taxonomy and a small demo world (players, friendships, dex entries).
    SeedDemo(api::demo::SeedArgs),
    /// Create a staff superuser (flags, or prompts in a terminal).
    CreateSuperuser(api::cli::SuperuserArgs),
    /// Import a Catalogue of Life release (ColDP zip or extracted folder).
    ImportCol(api::cli::ImportColArgs),
    /// Import the old Django server's database and media (safe to re-run; resumable).
    ImportDjango(api::import::ImportDjangoArgs),
    /// Manage accounts (the console's user actions).
    #[command(subcommand)]
    User(api::admin::cli::UserCommand),
    /// Manage vision jobs.
    #[command(subcommand)]
    Jobs(api::admin::cli::JobsCommand),
    /// Manage the species catalogue.
    #[command(subcommand)]
    Animals(api::admin::cli::AnimalsCommand),
    /// Manage media storage (move a local folder into an object store).
    #[command(subcommand)]
    Media(api::cli::MediaCommand),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let _log_guard = biologidex_core::telemetry::init_tracing(
        settings.debug,
        settings.log_files.as_ref(),
        "api",
    );
    biologidex_core::legacy_env::warn_about_process_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command.unwrap_or(Command::Serve {
        bind: None,
        migrate: false,
    }) {
        Command::Migrate => runtime.block_on(migrate(&settings)),
        Command::SeedDemo(args) => runtime.block_on(api::demo::seed_demo(&settings, args)),
        Command::CreateSuperuser(args) => {
            runtime.block_on(api::cli::create_superuser(&settings, args))
        }
        Command::ImportCol(args) => runtime.block_on(api::cli::import_col(&settings, args)),
        Command::ImportDjango(args) => {
            runtime.block_on(api::import::import_django(&settings, args))
        }
        Command::User(cmd) => runtime.block_on(api::admin::cli::user(&settings, cmd)),
        Command::Jobs(cmd) => runtime.block_on(api::admin::cli::jobs(&settings, cmd)),
        Command::Animals(cmd) => runtime.block_on(api::admin::cli::animals(&settings, cmd)),
        Command::Media(cmd) => runtime.block_on(api::cli::media(&settings, cmd)),
        Command::Serve {
            bind,
            migrate: run_migrations,
        } => {
            if let Some(bind) = bind {
                settings.bind_address = bind;
            }
            runtime.block_on(async {
                if run_migrations {
                    migrate(&settings).await?;
                }
                let app = api::startup::Application::build(settings).await?;
                tracing::info!(port = app.port(), "api listening");
                app.run_until_signal().await?;
                Ok(())
            })
        }
    }
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let applied = biologidex_db::run_migrations(&settings.database_url).await?;
    tracing::info!(count = applied.len(), versions = ?applied, "migrations applied");
    Ok(())
}
