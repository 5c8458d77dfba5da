//! Logging: JSON lines in production, readable lines when `DEBUG=true`, filtered by `RUST_LOG`.
//! With `LOG_DIR`, the same lines also go to a file there, rotated (`LOG_ROTATION`: daily or
//! hourly) and pruned to the newest `LOG_KEEP` files, for hosts without a log collector.

use std::path::Path;

use tracing_appender::{
    non_blocking::WorkerGuard,
    rolling::{RollingFileAppender, Rotation},
};
use tracing_subscriber::{EnvFilter, Layer, Registry, fmt, prelude::*};

/// Where and how to keep log files (from `LOG_DIR`, `LOG_ROTATION`, `LOG_KEEP`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFiles {
    pub dir: std::path::PathBuf,
    pub hourly: bool,
    pub keep: usize,
}

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

fn line_layer<W>(debug: bool, writer: W, ansi: bool) -> BoxedLayer
where
    W: for<'w> fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    if debug {
        fmt::layer()
            .with_target(false)
            .with_ansi(ansi)
            .with_writer(writer)
            .boxed()
    } else {
        fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(writer)
            .boxed()
    }
}

fn file_writer(
    files: &LogFiles,
    name: &str,
) -> Result<(tracing_appender::non_blocking::NonBlocking, WorkerGuard), String> {
    std::fs::create_dir_all(&files.dir)
        .map_err(|e| format!("LOG_DIR {}: {e}", files.dir.display()))?;
    let appender = RollingFileAppender::builder()
        .rotation(if files.hourly {
            Rotation::HOURLY
        } else {
            Rotation::DAILY
        })
        .filename_prefix(name)
        .filename_suffix("log")
        .max_log_files(files.keep.max(1))
        .build(Path::new(&files.dir))
        .map_err(|e| format!("LOG_DIR {}: {e}", files.dir.display()))?;
    Ok(tracing_appender::non_blocking(appender))
}

/// Installs the global subscriber once; later calls (tests) are ignored. `name` prefixes the
/// log files (`<name>.<date>.log`). Keep the returned guard for the life of the process: it
/// flushes the file on exit.
pub fn init_tracing(debug: bool, files: Option<&LogFiles>, name: &str) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let mut layers: Vec<BoxedLayer> = vec![line_layer(debug, std::io::stdout, true)];
    let mut guard = None;
    let mut problem = None;
    if let Some(files) = files {
        match file_writer(files, name) {
            Ok((writer, g)) => {
                layers.push(line_layer(debug, writer, false));
                guard = Some(g);
            }
            Err(e) => problem = Some(e),
        }
    }
    // Already installed (a second init in the same process): keep the first one.
    drop(
        tracing_subscriber::registry()
            .with(layers.with_filter(filter))
            .try_init(),
    );
    if let Some(e) = problem {
        tracing::error!("log files disabled: {e}");
    }
    guard
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_files_are_created_in_log_dir() {
        let dir = std::env::temp_dir().join(format!("bdx-logs-{}", uuid::Uuid::new_v4().simple()));
        let files = LogFiles {
            dir: dir.clone(),
            hourly: false,
            keep: 3,
        };
        let (writer, guard) = file_writer(&files, "unit")
            .map_err(|e| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        {
            use std::io::Write;
            let mut w = writer;
            let _ = w.write_all(b"{\"msg\":\"hello\"}\n");
        }
        drop(guard);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(
            names[0].starts_with("unit.") && names[0].ends_with(".log"),
            "{names:?}"
        );
        let text = std::fs::read_to_string(dir.join(&names[0])).unwrap_or_default();
        assert!(text.contains("hello"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
