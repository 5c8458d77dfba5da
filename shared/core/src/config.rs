//! Settings, read once from environment variables (and a `.env` file in development).
//!
//! Names follow the old server's `.env` so an operator's file keeps working:
//! `SECRET_KEY`, `DEBUG`, `ENVIRONMENT`, `APP_VERSION`, `DATABASE_URL` (or `DB_NAME`, `DB_USER`,
//! `DB_PASSWORD`, `DB_HOST`, `DB_PORT`), `DB_POOL_SIZE`, `REDIS_URL` (or `REDIS_HOST`,
//! `REDIS_PORT`, `REDIS_PASSWORD`), `REDIS_KEY_PREFIX`, `BIND_ADDRESS`, `HTTP_WORKERS`, `MEDIA_ROOT`, `MEDIA_X_ACCEL_REDIRECT`,
//! `PUBLIC_BASE_URL`, `CORS_ALLOWED_ORIGINS`, `MAX_UPLOAD_SIZE_MB`,
//! `JWT_ACCESS_TOKEN_LIFETIME_MINUTES`, `JWT_REFRESH_TOKEN_LIFETIME_DAYS`, `THROTTLE_ANON_RATE`,
//! `THROTTLE_USER_RATE`, `THROTTLE_UPLOAD_RATE`, `THROTTLE_LOGIN_RATE`, `TRUSTED_PROXIES`,
//! `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL`, `OPENAI_ALLOWED_MODELS`,
//! `VISION_RETRY_BASE_SECONDS`, `VISION_DAILY_BUDGET_USD`, `GRAPH_CACHE_TTL`,
//! `WORKER_RUN_CRON`, `WORKER_METRICS_BIND`, `WORKER_CONCURRENCY`.

use std::{collections::HashMap, net::IpAddr, path::PathBuf, str::FromStr, time::Duration};

use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};

/// The placeholder that ships in `.env.example`; never acceptable outside DEBUG.
pub const PLACEHOLDER_SECRET_KEY: &str = "change-me";
const MIN_SECRET_KEY_LEN: usize = 32;

/// A configuration problem, reported as one line naming the variable to set.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// A request rate such as `100/hour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub requests: u64,
    pub period: Duration,
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (n, unit) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not a rate like 100/hour"))?;
        let requests: u64 = n.trim().parse().map_err(|_| format!("`{s}`: bad count"))?;
        // DRF only looks at the first letter of the unit (s, m, h, d).
        let secs = match unit.trim().chars().next() {
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3600,
            Some('d') => 86_400,
            _ => return Err(format!("`{s}`: unit must be second, minute, hour or day")),
        };
        Ok(Rate {
            requests,
            period: Duration::from_secs(secs),
        })
    }
}

/// Everything the binaries can be configured with. Built once in `main` and passed down.
#[derive(Debug, Clone)]
pub struct Settings {
    pub debug: bool,
    pub environment: String,
    pub version: String,
    pub secret_key: SecretString,
    pub bind_address: String,
    /// HTTP worker threads (`HTTP_WORKERS`; default: one per core).
    pub http_workers: Option<usize>,
    pub database_url: String,
    pub database_pool_size: u32,
    /// Read-only endpoints for reads that need not see the caller's own writes
    /// (`DATABASE_REPLICA_URLS`, comma-separated; empty = every read on the primary).
    pub database_replica_urls: Vec<String>,
    /// A replica further behind than this is skipped (`DATABASE_REPLICA_MAX_LAG_SECONDS`).
    pub database_replica_max_lag: Duration,
    pub redis_url: String,
    /// Prefix of every Redis key and queue name (a per-test namespace in tests).
    pub redis_key_prefix: String,
    pub media_root: PathBuf,
    /// The object store holding media instead of `media_root` (`MEDIA_STORAGE_URL`:
    /// `s3://bucket/prefix` or `gs://bucket/prefix`; the old server's `GCS_BUCKET_NAME` means
    /// `gs://<bucket>`).
    pub media_storage_url: Option<String>,
    /// Answer media downloads with a redirect to a pre-signed object store URL valid this long
    /// (`MEDIA_SIGNED_URL_SECONDS`; unset or 0 = the api sends the bytes itself).
    pub media_signed_url_ttl: Option<Duration>,
    /// Let nginx send media files (`X-Accel-Redirect: /protected-media/<key>`) after the api
    /// checked the capability token (`MEDIA_X_ACCEL_REDIRECT`).
    pub media_x_accel_redirect: bool,
    pub public_base_url: Option<String>,
    pub cors_allowed_origins: Vec<String>,
    pub max_upload_size_mb: usize,
    pub jwt_access_lifetime: Duration,
    pub jwt_refresh_lifetime: Duration,
    /// How long an api process may answer authentication from memory (`AUTH_CACHE_SECONDS`,
    /// 0 = never); changes reach every process at once regardless (docs/decisions.md#d30).
    pub auth_cache_ttl: Duration,
    pub throttle_anon: Rate,
    pub throttle_user: Rate,
    pub throttle_upload: Rate,
    pub throttle_login: Rate,
    /// Proxies (bare IPs as /32 or /128, or CIDR ranges) whose `X-Forwarded-*` are believed.
    pub trusted_proxies: Vec<IpNet>,
    pub openai_api_key: Option<SecretString>,
    pub openai_base_url: String,
    pub openai_model: String,
    pub openai_allowed_models: Vec<String>,
    pub vision_retry_base: Duration,
    pub vision_daily_budget_usd: Option<f64>,
    pub graph_cache_ttl: Duration,
    pub worker_run_cron: bool,
    pub worker_metrics_bind: String,
    pub worker_concurrency: usize,
    /// Log files beside stdout (`LOG_DIR`, `LOG_ROTATION`, `LOG_KEEP`); `None` = stdout only.
    pub log_files: Option<crate::telemetry::LogFiles>,
}

struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn get(&self, key: &str) -> Option<String> {
        (self.0)(key).filter(|v| !v.trim().is_empty())
    }
    fn or(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or_else(|| default.to_owned())
    }
    fn parse<T: FromStr>(&self, key: &str, default: T) -> Result<T, ConfigError> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| ConfigError(format!("{key}=`{v}` is not a valid value"))),
        }
    }
    fn flag(&self, key: &str, default: bool) -> Result<bool, ConfigError> {
        match self.get(key).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
            Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
            Some(v) => Err(ConfigError(format!("{key}=`{v}` must be true or false"))),
        }
    }
    fn rate(&self, key: &str, default: &str) -> Result<Rate, ConfigError> {
        self.or(key, default)
            .parse()
            .map_err(|e| ConfigError(format!("{key}: {e}")))
    }
    fn list(&self, key: &str, default: &str) -> Vec<String> {
        self.or(key, default)
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

impl Settings {
    /// Reads the process environment, after loading `.env` if present.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a broken one should not be silently half-read.
        if let Err(e) = dotenvy::dotenv()
            && !e.not_found()
        {
            return Err(ConfigError(format!(".env could not be read: {e}")));
        }
        Self::from_lookup(&|k| std::env::var(k).ok())
    }

    /// Reads settings from any lookup (tests pass a map).
    pub fn from_map(map: &HashMap<&str, &str>) -> Result<Self, ConfigError> {
        Self::from_lookup(&|k| map.get(k).map(|v| (*v).to_owned()))
    }

    fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        let debug = env.flag("DEBUG", false)?;
        let secret_key = match env.get("SECRET_KEY") {
            Some(k) if !debug && (k == PLACEHOLDER_SECRET_KEY || k.len() < MIN_SECRET_KEY_LEN) => {
                return Err(ConfigError(format!(
                    "SECRET_KEY is a placeholder or shorter than {MIN_SECRET_KEY_LEN} characters; \
                     set SECRET_KEY to a long random value (or DEBUG=true for development)"
                )));
            }
            Some(k) => k,
            None if debug => "insecure-development-key-do-not-use-in-production".to_owned(),
            None => {
                return Err(ConfigError(format!(
                    "SECRET_KEY is not set; set SECRET_KEY to a random value of at least \
                     {MIN_SECRET_KEY_LEN} characters (or DEBUG=true for development)"
                )));
            }
        };
        let openai_model = env.or("OPENAI_MODEL", "gpt-4o-mini");
        let mut openai_allowed_models = env.list("OPENAI_ALLOWED_MODELS", "");
        if openai_allowed_models.is_empty() {
            openai_allowed_models.push(openai_model.clone());
        }
        let trusted_proxies = env
            .list("TRUSTED_PROXIES", "")
            .iter()
            .map(|p| {
                p.parse::<IpNet>()
                    .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        ConfigError(format!(
                            "TRUSTED_PROXIES: `{p}` is not an IP address or CIDR range"
                        ))
                    })
            })
            .collect::<Result<_, _>>()?;
        let vision_daily_budget_usd = match env.get("VISION_DAILY_BUDGET_USD") {
            None => None,
            Some(_) => Some(env.parse("VISION_DAILY_BUDGET_USD", 0.0)?),
        };
        let media_storage_url = media_storage_url(&env)?;
        let media_x_accel_redirect = env.flag("MEDIA_X_ACCEL_REDIRECT", false)?;
        if media_x_accel_redirect && media_storage_url.is_some() {
            return Err(ConfigError(
                "MEDIA_X_ACCEL_REDIRECT needs media in MEDIA_ROOT (nginx reads the files); \
                 with MEDIA_STORAGE_URL use MEDIA_SIGNED_URL_SECONDS instead"
                    .to_owned(),
            ));
        }
        let media_signed_url_ttl = match env.parse::<u64>("MEDIA_SIGNED_URL_SECONDS", 0)? {
            0 => None,
            _ if media_storage_url.is_none() => {
                return Err(ConfigError(
                    "MEDIA_SIGNED_URL_SECONDS needs an object store (MEDIA_STORAGE_URL)".to_owned(),
                ));
            }
            secs => Some(Duration::from_secs(secs)),
        };
        Ok(Settings {
            debug,
            environment: env.or(
                "ENVIRONMENT",
                if debug { "development" } else { "production" },
            ),
            version: env.or("APP_VERSION", env!("CARGO_PKG_VERSION")),
            secret_key: SecretString::from(secret_key),
            bind_address: env.or("BIND_ADDRESS", "127.0.0.1:8000"),
            http_workers: match env.get("HTTP_WORKERS") {
                None => None,
                Some(_) => Some(env.parse("HTTP_WORKERS", 1)?),
            },
            database_url: database_url(&env),
            database_pool_size: env.parse("DB_POOL_SIZE", 16)?,
            database_replica_urls: env.list("DATABASE_REPLICA_URLS", ""),
            database_replica_max_lag: Duration::from_secs_f64(
                env.parse("DATABASE_REPLICA_MAX_LAG_SECONDS", 5.0_f64)?
                    .max(0.0),
            ),
            redis_url: redis_url(&env),
            redis_key_prefix: env.or("REDIS_KEY_PREFIX", "biologidex"),
            media_root: PathBuf::from(env.or("MEDIA_ROOT", "./media")),
            media_storage_url,
            media_signed_url_ttl,
            media_x_accel_redirect,
            public_base_url: env
                .get("PUBLIC_BASE_URL")
                .map(|u| u.trim_end_matches('/').to_owned()),
            cors_allowed_origins: env.list("CORS_ALLOWED_ORIGINS", ""),
            max_upload_size_mb: env.parse("MAX_UPLOAD_SIZE_MB", 10)?,
            jwt_access_lifetime: Duration::from_secs(
                60 * env.parse::<u64>("JWT_ACCESS_TOKEN_LIFETIME_MINUTES", 1440)?,
            ),
            jwt_refresh_lifetime: Duration::from_secs(
                86_400 * env.parse::<u64>("JWT_REFRESH_TOKEN_LIFETIME_DAYS", 30)?,
            ),
            auth_cache_ttl: Duration::from_secs(env.parse("AUTH_CACHE_SECONDS", 10)?),
            throttle_anon: env.rate("THROTTLE_ANON_RATE", "100/hour")?,
            throttle_user: env.rate("THROTTLE_USER_RATE", "1000/hour")?,
            throttle_upload: env.rate("THROTTLE_UPLOAD_RATE", "20/hour")?,
            throttle_login: env.rate("THROTTLE_LOGIN_RATE", "10/minute")?,
            trusted_proxies,
            openai_api_key: env.get("OPENAI_API_KEY").map(SecretString::from),
            openai_base_url: env.or("OPENAI_BASE_URL", "https://api.openai.com/v1"),
            openai_model,
            openai_allowed_models,
            vision_retry_base: Duration::from_secs(env.parse("VISION_RETRY_BASE_SECONDS", 5)?),
            vision_daily_budget_usd,
            graph_cache_ttl: Duration::from_secs(env.parse("GRAPH_CACHE_TTL", 120)?),
            worker_run_cron: env.flag("WORKER_RUN_CRON", true)?,
            worker_metrics_bind: env.or("WORKER_METRICS_BIND", "127.0.0.1:9464"),
            worker_concurrency: env.parse("WORKER_CONCURRENCY", 4)?,
            log_files: match env.get("LOG_DIR") {
                None => None,
                Some(dir) => Some(crate::telemetry::LogFiles {
                    dir: PathBuf::from(dir),
                    hourly: match env.or("LOG_ROTATION", "daily").trim() {
                        "daily" => false,
                        "hourly" => true,
                        other => {
                            return Err(ConfigError(format!(
                                "LOG_ROTATION=`{other}` must be daily or hourly"
                            )));
                        }
                    },
                    keep: env.parse("LOG_KEEP", 14)?,
                }),
            },
        })
    }

    /// Whether `ip` is one of `TRUSTED_PROXIES` (an address or within a range).
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }

    /// The JWT signing key.
    pub fn secret_bytes(&self) -> &[u8] {
        self.secret_key.expose_secret().as_bytes()
    }

    /// A Redis key in this deployment's namespace.
    pub fn redis_key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.redis_key_prefix)
    }
}

/// `MEDIA_STORAGE_URL`, or `gs://<GCS_BUCKET_NAME>` as the old server named its bucket.
fn media_storage_url(env: &Env<'_>) -> Result<Option<String>, ConfigError> {
    let url = match (env.get("MEDIA_STORAGE_URL"), env.get("GCS_BUCKET_NAME")) {
        (Some(url), _) => url.trim().to_owned(),
        (None, Some(bucket)) => format!("gs://{}", bucket.trim()),
        (None, None) => return Ok(None),
    };
    let known = ["s3://", "s3a://", "gs://"]
        .iter()
        .any(|scheme| url.len() > scheme.len() && url.starts_with(scheme));
    if !known {
        return Err(ConfigError(format!(
            "MEDIA_STORAGE_URL=`{url}` must be s3://bucket/prefix or gs://bucket/prefix"
        )));
    }
    Ok(Some(url))
}

fn database_url(env: &Env<'_>) -> String {
    if let Some(url) = env.get("DATABASE_URL") {
        return url;
    }
    let user = env.or("DB_USER", "biologidex");
    let password = env.or("DB_PASSWORD", "biologidex");
    let host = env.or("DB_HOST", "127.0.0.1");
    let port = env.or("DB_PORT", "5432");
    let name = env.or("DB_NAME", "biologidex");
    format!(
        "postgres://{}:{}@{host}:{port}/{}",
        userinfo(&user),
        userinfo(&password),
        userinfo(&name)
    )
}

/// Percent-encodes a URL component: passwords with `@`, `/`, `#` or `:` stay one component.
fn userinfo(part: &str) -> String {
    part.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn redis_url(env: &Env<'_>) -> String {
    if let Some(url) = env.get("REDIS_URL") {
        return url;
    }
    let host = env.or("REDIS_HOST", "127.0.0.1");
    let port = env.or("REDIS_PORT", "6379");
    match env.get("REDIS_PASSWORD") {
        Some(pw) => format!("redis://:{}@{host}:{port}/0", userinfo(&pw)),
        None => format!("redis://{host}:{port}/0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_a_missing_or_weak_secret_key() {
        let err = Settings::from_map(&HashMap::new()).unwrap_err().to_string();
        assert!(err.contains("SECRET_KEY is not set"), "{err}");
        let err = Settings::from_map(&HashMap::from([("SECRET_KEY", "change-me")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("placeholder or shorter"), "{err}");
        let err = Settings::from_map(&HashMap::from([("SECRET_KEY", "short")])).unwrap_err();
        assert!(!err.to_string().contains('\n'));
    }

    #[test]
    fn media_storage_is_named_by_url_or_the_old_bucket_variable() {
        let with = |pairs: &[(&str, &str)]| {
            let mut map = HashMap::from([("DEBUG", "true")]);
            map.extend(pairs.iter().copied());
            Settings::from_map(&map)
        };
        assert_eq!(with(&[]).unwrap().media_storage_url, None);
        let s = with(&[
            ("MEDIA_STORAGE_URL", "s3://media/bdx"),
            ("GCS_BUCKET_NAME", "old"),
        ]);
        assert_eq!(
            s.unwrap().media_storage_url.as_deref(),
            Some("s3://media/bdx")
        );
        let s = with(&[("GCS_BUCKET_NAME", "old-bucket")]).unwrap();
        assert_eq!(s.media_storage_url.as_deref(), Some("gs://old-bucket"));
        for bad in ["/srv/media", "s3://", "ftp://x/y"] {
            let err = with(&[("MEDIA_STORAGE_URL", bad)]).unwrap_err().to_string();
            assert!(err.contains("must be s3://"), "{bad}: {err}");
        }
        let err = with(&[("MEDIA_SIGNED_URL_SECONDS", "60")]).unwrap_err();
        assert!(err.to_string().contains("needs an object store"), "{err}");
        let err = with(&[
            ("MEDIA_STORAGE_URL", "s3://m"),
            ("MEDIA_X_ACCEL_REDIRECT", "true"),
        ]);
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("MEDIA_X_ACCEL_REDIRECT")
        );
        let s = with(&[
            ("MEDIA_STORAGE_URL", "s3://m"),
            ("MEDIA_SIGNED_URL_SECONDS", "60"),
        ]);
        assert_eq!(
            s.unwrap().media_signed_url_ttl,
            Some(Duration::from_secs(60))
        );
        let s = with(&[(
            "DATABASE_REPLICA_URLS",
            " postgres://a/x , postgres://b/x ,",
        )])
        .unwrap();
        assert_eq!(
            s.database_replica_urls,
            ["postgres://a/x", "postgres://b/x"]
        );
        assert_eq!(s.database_replica_max_lag, Duration::from_secs(5));
    }

    #[test]
    fn debug_allows_a_missing_secret_and_defaults_work() {
        let s = Settings::from_map(&HashMap::from([("DEBUG", "true")])).unwrap();
        assert_eq!(
            s.database_url,
            "postgres://biologidex:biologidex@127.0.0.1:5432/biologidex"
        );
        assert_eq!(s.redis_url, "redis://127.0.0.1:6379/0");
        assert_eq!(s.throttle_anon.requests, 100);
        assert_eq!(s.throttle_anon.period, Duration::from_secs(3600));
        assert_eq!(s.openai_allowed_models, vec!["gpt-4o-mini".to_owned()]);
        assert_eq!(s.jwt_access_lifetime, Duration::from_secs(86_400));
    }

    #[test]
    fn old_server_db_and_redis_variables_compose_urls() {
        let s = Settings::from_map(&HashMap::from([
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef-long"),
            ("DB_HOST", "db"),
            ("DB_NAME", "bdx"),
            ("REDIS_HOST", "cache"),
            ("REDIS_PASSWORD", "pw"),
        ]))
        .unwrap();
        assert_eq!(
            s.database_url,
            "postgres://biologidex:biologidex@db:5432/bdx"
        );
        assert_eq!(s.redis_url, "redis://:pw@cache:6379/0");
        let s = Settings::from_map(&HashMap::from([
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef-long"),
            ("DB_PASSWORD", "p@ss/w#rd:1 %"),
            ("REDIS_PASSWORD", "r@d:s/#"),
        ]))
        .unwrap();
        assert_eq!(
            s.database_url,
            "postgres://biologidex:p%40ss%2Fw%23rd%3A1%20%25@127.0.0.1:5432/biologidex"
        );
        assert_eq!(s.redis_url, "redis://:r%40d%3As%2F%23@127.0.0.1:6379/0");
    }

    #[test]
    fn log_dir_turns_on_rotated_log_files() {
        let base = [("DEBUG", "true")];
        let s = Settings::from_map(&HashMap::from(base)).unwrap();
        assert_eq!(s.log_files, None);
        let s = Settings::from_map(&HashMap::from([
            ("DEBUG", "true"),
            ("LOG_DIR", "/var/log/biologidex"),
            ("LOG_ROTATION", "hourly"),
            ("LOG_KEEP", "48"),
        ]))
        .unwrap();
        let files = s.log_files.unwrap();
        assert_eq!(files.dir, PathBuf::from("/var/log/biologidex"));
        assert!(files.hourly);
        assert_eq!(files.keep, 48);
        let err = Settings::from_map(&HashMap::from([
            ("DEBUG", "true"),
            ("LOG_DIR", "/tmp/x"),
            ("LOG_ROTATION", "weekly"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("LOG_ROTATION"));
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = Settings::from_map(&HashMap::from([
            ("DEBUG", "true"),
            ("THROTTLE_USER_RATE", "lots"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("THROTTLE_USER_RATE"), "{err}");
        let err = Settings::from_map(&HashMap::from([("DEBUG", "maybe")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("DEBUG"), "{err}");
        let err = Settings::from_map(&HashMap::from([
            ("DEBUG", "1"),
            ("MAX_UPLOAD_SIZE_MB", "-3"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("MAX_UPLOAD_SIZE_MB"), "{err}");
    }

    #[test]
    fn trusted_proxies_take_addresses_and_cidr_ranges() {
        let s = Settings::from_map(&HashMap::from([
            ("DEBUG", "true"),
            ("TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,fd00::/8,::1"),
        ]))
        .unwrap();
        assert_eq!(s.trusted_proxies.len(), 4);
        for ip in ["127.0.0.1", "10.0.0.1", "10.255.3.4", "fd12::7", "::1"] {
            assert!(s.is_trusted_proxy(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["127.0.0.2", "11.0.0.1", "fe80::1", "::2"] {
            assert!(!s.is_trusted_proxy(ip.parse().unwrap()), "{ip}");
        }
        let none = Settings::from_map(&HashMap::from([("DEBUG", "true")])).unwrap();
        assert!(!none.is_trusted_proxy("127.0.0.1".parse().unwrap()));
        for bad in ["nginx", "10.0.0.0/33", "10.0.0.0/", "fd00::/129"] {
            let err = Settings::from_map(&HashMap::from([
                ("DEBUG", "true"),
                ("TRUSTED_PROXIES", bad),
            ]))
            .unwrap_err()
            .to_string();
            assert!(
                err.contains(&format!(
                    "TRUSTED_PROXIES: `{bad}` is not an IP address or CIDR range"
                )),
                "{err}"
            );
        }
    }
}
