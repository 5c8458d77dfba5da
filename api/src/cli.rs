//! Operational commands of `biologidex-api` besides `serve`.

use std::io::{BufRead, IsTerminal, Write};

use shared::{
    config::Settings,
    db::models::accounts::{NewUser, User},
    domain::{email, password, username},
};

/// Arguments of `create-superuser`; missing ones are prompted for in a terminal.
#[derive(Debug, clap::Args)]
pub struct SuperuserArgs {
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub email: Option<String>,
    /// Prefer the prompt or `BIOLOGIDEX_SUPERUSER_PASSWORD`: flags show up in `ps`.
    #[arg(long, env = "BIOLOGIDEX_SUPERUSER_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

fn ask(label: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("--{label} is required when not running in a terminal");
    }
    eprint!("{label}: ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}

fn ask_password() -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "--password (or BIOLOGIDEX_SUPERUSER_PASSWORD) is required when not running in a terminal"
        );
    }
    let first = rpassword::prompt_password("password: ")?;
    let again = rpassword::prompt_password("password (again): ")?;
    if first != again {
        anyhow::bail!("the passwords didn't match");
    }
    Ok(first)
}

fn check<T>(field: &str, r: Result<T, Vec<String>>) -> anyhow::Result<T> {
    r.map_err(|errs| anyhow::anyhow!("{field}: {}", errs.join(" ")))
}

/// Creates a staff superuser (with profile and friend code).
pub async fn create_superuser(settings: &Settings, args: SuperuserArgs) -> anyhow::Result<()> {
    let name = check(
        "username",
        username::parse(&match args.username {
            Some(u) => u,
            None => ask("username")?,
        }),
    )?;
    let mail = check(
        "email",
        email::parse(&match args.email {
            Some(e) => e,
            None => ask("email")?,
        }),
    )?;
    let pw = match args.password {
        Some(p) => p,
        None => ask_password()?,
    };
    let weak = password::strength_errors(&pw);
    if !weak.is_empty() {
        anyhow::bail!("password: {}", weak.join(" "));
    }
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw)).await??;
    let pool = shared::db::build_pool(&settings.database_url, 1, std::time::Duration::from_secs(5));
    let mut conn = pool.get().await?;
    let created = User::create(
        &mut conn,
        &NewUser {
            username: name.clone(),
            email: mail,
            password_hash: hash,
            is_staff: true,
            is_superuser: true,
        },
    )
    .await;
    match created {
        Ok(view) => {
            tracing::info!(user.id = %view.user.id, "superuser created");
            eprintln!("superuser `{name}` created");
            Ok(())
        }
        Err(shared::Error::Validation(fields)) => {
            let msgs: Vec<String> = fields
                .into_iter()
                .map(|(f, m)| format!("{f}: {}", m.join(" ")))
                .collect();
            anyhow::bail!(
                "{} (a user with that name or email already exists)",
                msgs.join("; ")
            )
        }
        Err(e) => Err(e.into()),
    }
}
