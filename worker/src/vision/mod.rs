//! The vision model behind a small trait, so tests and other providers can stand in.

pub mod openai;

use futures_util::future::BoxFuture;
use serde_json::Value;

/// One photo to identify.
#[derive(Debug, Clone)]
pub struct VisionRequest {
    pub model: String,
    pub detail: String,
    pub image: Vec<u8>,
    /// The real MIME type of `image`.
    pub content_type: &'static str,
}

/// The model's answer.
#[derive(Debug, Clone)]
pub struct VisionAnswer {
    pub text: String,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub raw: Value,
}

/// The kinds of provider failure. Users see one fixed sentence per kind; the provider's own
/// text (which may carry the base URL or part of the key) goes only to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    RateLimited,
    Unavailable,
    TimedOut,
    Unreachable,
    Rejected,
    BadRequest,
    BadAnswer,
}

impl FailureKind {
    /// What the job's owner reads in `error_message`.
    pub fn sentence(self) -> &'static str {
        match self {
            FailureKind::RateLimited => "The vision service is busy; please try again later.",
            FailureKind::Unavailable => {
                "The vision service is unavailable right now; please try again later."
            }
            FailureKind::TimedOut => "The vision service did not answer in time.",
            FailureKind::Unreachable => "The vision service could not be reached.",
            FailureKind::Rejected => "The vision service refused this server's credentials.",
            FailureKind::BadRequest => "The vision service could not process this photo.",
            FailureKind::BadAnswer => "The vision service's answer could not be read.",
        }
    }

    /// Transient failures are retried with backoff; the others fail the job at once.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            FailureKind::RateLimited
                | FailureKind::Unavailable
                | FailureKind::TimedOut
                | FailureKind::Unreachable
        )
    }
}

/// Why a call failed: the kind, and the provider's text for the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ProviderError {
    pub kind: FailureKind,
    pub detail: String,
}

impl ProviderError {
    pub fn new(kind: FailureKind, detail: impl Into<String>) -> Self {
        ProviderError {
            kind,
            detail: detail.into(),
        }
    }
}

/// Something that identifies animals in photos.
pub trait VisionProvider: Send + Sync + std::fmt::Debug {
    /// Asks the model about one photo.
    fn identify(
        &self,
        request: VisionRequest,
    ) -> BoxFuture<'_, Result<VisionAnswer, ProviderError>>;
}
