//! An OpenAI-compatible chat-completions provider (`OPENAI_BASE_URL`, so a local model server
//! works too), through async-openai with its built-in retry replaced by a plain transport: the
//! job's own retry schedule decides (docs/decisions.md#d12). Asks for structured JSON; servers that
//! ignore the schema answer in text, which the parser also reads.

use std::time::Duration;

use async_openai::{Client, config::OpenAIConfig, error::OpenAIError, middleware::ReqwestService};
use base64::Engine;
use biologidex_core::vision::prompt::{PROMPT, answer_schema};
use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use super::{FailureKind, ProviderError, VisionAnswer, VisionProvider, VisionRequest};

/// Longest a provider call may take before it counts as a (transient) timeout. The only
/// timeout: the HTTP client has none of its own to race it (only a connect timeout).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_OUTPUT_TOKENS: u32 = 500;

/// The OpenAI-compatible provider.
#[derive(Clone)]
pub struct OpenAiProvider {
    client: Client<OpenAIConfig>,
    call_timeout: Duration,
}

impl std::fmt::Debug for OpenAiProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpenAiProvider { .. }")
    }
}

impl OpenAiProvider {
    /// A provider for `base_url` (including `/v1`) with `api_key`.
    pub fn new(base_url: &str, api_key: &str) -> anyhow::Result<Self> {
        let config = OpenAIConfig::new()
            .with_api_base(base_url)
            .with_api_key(api_key);
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        let client = Client::with_config(config).with_http_service(ReqwestService::new(http));
        Ok(OpenAiProvider {
            client,
            call_timeout: CALL_TIMEOUT,
        })
    }

    /// The same provider with another call timeout (tests of a hanging provider).
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }
}

/// Newer model families take `max_completion_tokens` instead of `max_tokens`.
fn token_cap_key(model: &str) -> &'static str {
    if ["gpt-5", "o1", "o3", "o4"]
        .iter()
        .any(|p| model.starts_with(p))
    {
        "max_completion_tokens"
    } else {
        "max_tokens"
    }
}

/// The request body: the prompt and the photo as a data URL labelled with its real type.
pub fn request_body(req: &VisionRequest) -> Value {
    let data = base64::engine::general_purpose::STANDARD.encode(&req.image);
    let mut body = json!({
        "model": req.model,
        "stream": false,
        "messages": [{
            "role": "user",
            "content": [
                {"type": "text", "text": PROMPT},
                {"type": "image_url", "image_url": {
                    "url": format!("data:{};base64,{data}", req.content_type),
                    "detail": req.detail,
                }},
            ],
        }],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "animal_detections", "strict": true, "schema": answer_schema()},
        },
    });
    body[token_cap_key(&req.model)] = json!(MAX_OUTPUT_TOKENS);
    body
}

/// Sorts errors: rate limits, server errors, timeouts and connection failures are transient;
/// rejected keys, bad requests and unreadable answers are permanent.
pub fn classify(e: &OpenAIError) -> ProviderError {
    match e {
        OpenAIError::ApiError(api) => {
            let status = api.status_code.as_u16();
            let detail = format!(
                "vision provider answered {status}: {}",
                api.api_error.message
            );
            let kind = match status {
                429 => FailureKind::RateLimited,
                408 => FailureKind::TimedOut,
                s if s >= 500 => FailureKind::Unavailable,
                401 | 403 => FailureKind::Rejected,
                _ => FailureKind::BadRequest,
            };
            ProviderError::new(kind, detail)
        }
        OpenAIError::Reqwest(r) if r.is_timeout() => ProviderError::new(
            FailureKind::TimedOut,
            format!("vision provider timed out: {r}"),
        ),
        OpenAIError::Reqwest(r) if r.is_connect() || r.is_request() => ProviderError::new(
            FailureKind::Unreachable,
            format!("vision provider unreachable: {r}"),
        ),
        OpenAIError::Reqwest(r) if r.status().is_some_and(|s| s.as_u16() == 429) => {
            ProviderError::new(
                FailureKind::RateLimited,
                format!("vision provider error: {r}"),
            )
        }
        OpenAIError::Reqwest(r) if r.status().is_some_and(|s| s.is_server_error()) => {
            ProviderError::new(
                FailureKind::Unavailable,
                format!("vision provider error: {r}"),
            )
        }
        other => ProviderError::new(
            FailureKind::BadAnswer,
            format!("vision provider error: {other}"),
        ),
    }
}

fn answer(raw: Value) -> Result<VisionAnswer, ProviderError> {
    let text = raw["choices"][0]["message"]["content"]
        .as_str()
        .map(str::trim)
        .map(str::to_owned)
        .ok_or_else(|| {
            ProviderError::new(FailureKind::BadAnswer, "vision provider returned no answer")
        })?;
    let tokens = |k: &str| {
        raw["usage"][k]
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    };
    Ok(VisionAnswer {
        input_tokens: tokens("prompt_tokens"),
        output_tokens: tokens("completion_tokens"),
        text,
        raw,
    })
}

impl VisionProvider for OpenAiProvider {
    fn identify(
        &self,
        request: VisionRequest,
    ) -> BoxFuture<'_, Result<VisionAnswer, ProviderError>> {
        Box::pin(async move {
            let body = request_body(&request);
            let chat = self.client.chat();
            let call = chat.create_byot::<Value, Value>(body);
            match tokio::time::timeout(self.call_timeout, call).await {
                Err(_) => Err(ProviderError::new(
                    FailureKind::TimedOut,
                    format!("vision provider timed out after {:?}", self.call_timeout),
                )),
                Ok(Err(e)) => Err(classify(&e)),
                Ok(Ok(raw)) => answer(raw),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A provider that never answers in time is one failure, the same every time: timed out,
    /// with its fixed sentence.
    #[tokio::test]
    async fn a_hanging_provider_is_always_a_timeout() {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(wiremock::ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        let provider = OpenAiProvider::new(&format!("{}/v1", server.uri()), "test-key")
            .unwrap()
            .with_call_timeout(Duration::from_millis(300));
        for _ in 0..3 {
            let err = provider
                .identify(VisionRequest {
                    model: "gpt-4o-mini".to_owned(),
                    detail: "auto".to_owned(),
                    image: vec![0xFF, 0xD8, 0xFF],
                    content_type: "image/jpeg",
                })
                .await
                .unwrap_err();
            assert_eq!(err.kind, FailureKind::TimedOut, "{err:?}");
            assert_eq!(
                err.kind.sentence(),
                "The vision service did not answer in time."
            );
        }
    }
}
