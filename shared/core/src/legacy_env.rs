//! Variables of the old Django/Celery server that do nothing here. Each one set gets one
//! warning line at start, naming what replaces it, so none is silently ignored.

/// (variable or `PREFIX*`, what to use instead).
const LEGACY: &[(&str, &str)] = &[
    (
        "ALLOWED_HOSTS",
        "nginx's server_name; set PUBLIC_BASE_URL for absolute URLs",
    ),
    ("LOG_LEVEL", "RUST_LOG (e.g. RUST_LOG=info)"),
    (
        "CELERY_BROKER_URL",
        "REDIS_URL (or REDIS_HOST/REDIS_PORT/REDIS_PASSWORD)",
    ),
    (
        "CELERY_RESULT_BACKEND",
        "nothing: job state lives in PostgreSQL",
    ),
    (
        "CELERY_*",
        "WORKER_CONCURRENCY and WORKER_RUN_CRON; the schedule is in shared/core/src/schedule.rs",
    ),
    (
        "SENTRY_DSN",
        "nothing: errors are JSON log lines and Prometheus alerts (ops/prometheus/alerts.yml)",
    ),
    ("DJANGO_SETTINGS_MODULE", "nothing"),
    ("DJANGO_*", "nothing"),
    ("CSRF_TRUSTED_ORIGINS", "CORS_ALLOWED_ORIGINS"),
    (
        "SECURE_SSL_REDIRECT",
        "nginx (ops/nginx/) redirects to HTTPS",
    ),
    ("GUNICORN_WORKERS", "HTTP_WORKERS"),
    ("WEB_CONCURRENCY", "HTTP_WORKERS"),
    ("STATIC_ROOT", "nothing: the API serves no static files"),
    ("STATIC_URL", "nothing: the API serves no static files"),
    (
        "MEDIA_URL",
        "PUBLIC_BASE_URL (media URLs are <PUBLIC_BASE_URL>/media/...)",
    ),
    (
        "REDIS_DB",
        "REDIS_URL with the database number (redis://host:6379/N)",
    ),
    ("OPENAI_VISION_MODEL", "OPENAI_MODEL"),
    ("EMAIL_*", "nothing: the server sends no mail"),
];

/// One line per legacy variable among `keys` (the environment's variable names), sorted.
pub fn warnings<I: IntoIterator<Item = String>>(keys: I) -> Vec<String> {
    let mut out: Vec<String> = keys
        .into_iter()
        .filter_map(|key| {
            let (_, instead) = LEGACY
                .iter()
                .find(|(name, _)| match name.strip_suffix('*') {
                    Some(prefix) => key.starts_with(prefix),
                    None => key == *name,
                })?;
            Some(format!(
                "{key} is a variable of the old server and has no effect here; use {instead}"
            ))
        })
        .collect();
    out.sort();
    out
}

/// Logs one warning per legacy variable set in the process environment (call after tracing
/// is set up).
pub fn warn_about_process_env() {
    for line in warnings(std::env::vars_os().filter_map(|(k, _)| k.into_string().ok())) {
        tracing::warn!("{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_legacy_variable_gets_one_line_naming_its_replacement() {
        let keys = [
            "LOG_LEVEL",
            "CELERY_WORKER_CONCURRENCY",
            "PATH",
            "SENTRY_DSN",
            "RUST_LOG",
        ]
        .map(str::to_owned);
        let lines = warnings(keys);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].starts_with("CELERY_WORKER_CONCURRENCY")
                && lines[0].contains("WORKER_CONCURRENCY")
        );
        assert!(lines[1].starts_with("LOG_LEVEL") && lines[1].contains("RUST_LOG"));
        assert!(lines[2].starts_with("SENTRY_DSN"));
        // The first matching entry wins: CELERY_BROKER_URL names REDIS_URL, not the prefix's text.
        let lines = warnings(["CELERY_BROKER_URL".to_owned()]);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("REDIS_URL"), "{lines:?}");
    }
}
