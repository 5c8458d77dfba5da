//! `biologidex-worker`: consumes job queues and (with `WORKER_RUN_CRON=true`) runs the cron
//! schedule, until SIGTERM or SIGINT, then drains in-flight jobs.

use biologidex_core::config::Settings;
use tokio::signal::unix::{SignalKind, signal};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let _log_guard = biologidex_core::telemetry::init_tracing(
        settings.debug,
        settings.log_files.as_ref(),
        "worker",
    );
    biologidex_core::legacy_env::warn_about_process_env();
    let state = worker::state::WorkerState::connect(settings).await?;
    let (server, port) =
        worker::server::serve(&state.settings.worker_metrics_bind, state.metrics.clone())?;
    let server_handle = server.handle();
    tokio::spawn(server);
    tracing::info!(
        port,
        cron = state.settings.worker_run_cron,
        "worker started"
    );

    let (monitor, fatal) = worker::monitor::build(&state)?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let died = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let died_flag = died.clone();
    let stop = async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: draining"),
            _ = int.recv() => tracing::info!("SIGINT: draining"),
            () = fatal.notified() => {
                tracing::error!("a worker stopped for good: exiting");
                died_flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        Ok(())
    };
    let result = monitor.run_with_signal(stop).await;
    server_handle.stop(true).await;
    result?;
    if died.load(std::sync::atomic::Ordering::SeqCst) {
        anyhow::bail!("worker gave up after repeated failures");
    }
    tracing::info!("worker stopped");
    Ok(())
}
