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

/// Why a call failed: transient failures are retried with backoff, permanent ones fail the
/// job at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error("{0}")]
    Transient(String),
    #[error("{0}")]
    Permanent(String),
}

/// Something that identifies animals in photos.
pub trait VisionProvider: Send + Sync + std::fmt::Debug {
    /// Asks the model about one photo.
    fn identify(
        &self,
        request: VisionRequest,
    ) -> BoxFuture<'_, Result<VisionAnswer, ProviderError>>;
}
