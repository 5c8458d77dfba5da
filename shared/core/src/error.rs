//! Domain-level errors, with no HTTP knowledge. The api maps them to responses in one place.

use std::collections::BTreeMap;

/// Field name → messages, rendered as DRF's bare field arrays.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// What a 404 was looking for; its `detail` names the kind as Django's did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Any row (a bare lookup by id).
    Object,
    /// A page number past the end of a list.
    Page,
    AnalysisJob,
    Animal,
    DataSource,
    DexEntry,
    Friendship,
    ImageConversion,
    ImportJob,
    Taxonomy,
    User,
}

impl Missing {
    /// The kind's name (Django's model name).
    pub fn name(self) -> &'static str {
        match self {
            Missing::Object => "object",
            Missing::Page => "page",
            Missing::AnalysisJob => "AnalysisJob",
            Missing::Animal => "Animal",
            Missing::DataSource => "DataSource",
            Missing::DexEntry => "DexEntry",
            Missing::Friendship => "Friendship",
            Missing::ImageConversion => "ImageConversion",
            Missing::ImportJob => "ImportJob",
            Missing::Taxonomy => "Taxonomy",
            Missing::User => "User",
        }
    }

    /// The 404's `detail`.
    pub fn detail(self) -> String {
        match self {
            Missing::Object => "Not found.".to_owned(),
            Missing::Page => "Invalid page.".to_owned(),
            kind => format!("No {} matches the given query.", kind.name()),
        }
    }
}

/// Every failure a shared function can report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kind of object does not exist (or is not visible to the caller).
    #[error("{} not found", .0.name())]
    NotFound(Missing),
    /// Not found, with the message the client shows (`{"detail": msg, "error": msg}`).
    #[error("{0}")]
    NotFoundBecause(String),
    /// A problem with one or more fields' values.
    #[error("invalid input")]
    Validation(FieldErrors),
    /// A malformed request (unparseable body, ...): `{"detail": msg}`.
    #[error("{0}")]
    BadRequest(String),
    /// A rule violation not tied to one field (befriending yourself, already friends, ...).
    #[error("{0}")]
    Rule(String),
    /// Credentials missing or invalid.
    #[error("authentication required")]
    Unauthorized,
    /// Authenticated, but not allowed.
    #[error("not allowed")]
    Forbidden,
    /// Authenticated, but not allowed, with the reason shown to the client.
    #[error("{0}")]
    ForbiddenBecause(String),
    /// Login with a wrong username or password (or an inactive account).
    #[error("bad credentials")]
    BadCredentials,
    /// An access token that is malformed, tampered with, expired or of the wrong type.
    #[error("invalid access token: {0}")]
    InvalidAccessToken(&'static str),
    /// A refresh token that is malformed, expired, revoked or of the wrong type.
    #[error("invalid refresh token: {0}")]
    InvalidRefreshToken(&'static str),
    /// A request body (or one of its parts) over its cap.
    #[error("request body too large")]
    TooLarge,
    /// Too many requests; retry after this many seconds.
    #[error("throttled for {0} s")]
    Throttled(u64),
    /// The database pool could not hand out a connection in time.
    #[error("database unavailable: {0}")]
    PoolUnavailable(String),
    /// Anything else: logged, never shown to a client.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Shorthand result type for shared code.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// One field error.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Error::Validation(FieldErrors::from([(
            field.to_owned(),
            vec![message.into()],
        )]))
    }
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => Error::NotFound(Missing::Object),
            // A connection PostgreSQL closed (a restart): unavailable, as a failed checkout is.
            other if connection_lost(&other) => Error::PoolUnavailable(other.to_string()),
            other => Error::Internal(other.into()),
        }
    }
}

/// True for errors of the connection rather than of the statement: it was closed (by a
/// PostgreSQL restart or an administrator), or the server is shutting down or starting up.
pub fn connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    match e {
        E::DatabaseError(K::UnableToSendCommand | K::ClosedConnection, _) => true,
        E::DatabaseError(_, info) => {
            let m = info.message();
            m.contains("terminating connection")
                || m.contains("the database system is shutting down")
                || m.contains("the database system is starting up")
        }
        E::BrokenTransactionManager => true,
        _ => false,
    }
}

/// True when retrying later may succeed: the database was unavailable, not the data refused.
pub fn is_transient(e: &Error) -> bool {
    match e {
        Error::PoolUnavailable(_) => true,
        Error::Internal(e) => e.downcast_ref::<diesel::result::Error>().is_some_and(|d| {
            connection_lost(d)
                || matches!(
                    d,
                    diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::SerializationFailure,
                        _
                    )
                )
        }),
        _ => false,
    }
}

impl From<diesel_async::pooled_connection::bb8::RunError> for Error {
    fn from(e: diesel_async::pooled_connection::bb8::RunError) -> Self {
        Error::PoolUnavailable(e.to_string())
    }
}

/// The constraint name of a unique violation, if that is what `e` is.
pub fn unique_violation(e: &diesel::result::Error) -> Option<&str> {
    match e {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            info,
        ) => info.constraint_name(),
        _ => None,
    }
}
