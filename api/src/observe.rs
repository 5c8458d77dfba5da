//! Per-request observability: an `X-Request-ID` (echoed, or generated) carried on every log
//! line of the request, a completion log line, metrics by route template, and panics turned
//! into a logged, generic 500.

use std::{panic::AssertUnwindSafe, time::Instant};

use actix_web::{
    Error, HttpResponse,
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    error::InternalError,
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web::Data,
};
use futures_util::FutureExt;
use serde_json::json;
use tracing::Instrument;

use crate::metrics::ApiMetrics;

/// Name of the request-id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A client-supplied id is kept only if it is short and printable (it goes into logs).
fn accepted_id(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then(|| s.to_owned())
}

/// The middleware function (`middleware::from_fn(observe)`).
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(accepted_id)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let metrics = req.app_data::<Data<ApiMetrics>>().cloned();
    let method = req.method().to_string();
    // The route template keeps label cardinality bounded; unmatched paths share one label.
    // It is computed from the resource map, so it is known before routing runs.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    // Matched requests are logged by route template: raw paths can hold capability tokens.
    let path = if route == "unmatched" {
        req.path().to_owned()
    } else {
        route.clone()
    };
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, path = %path);
    let started = Instant::now();
    if let Some(m) = &metrics {
        m.in_flight.inc();
    }

    let outcome = AssertUnwindSafe(next.call(req))
        .catch_unwind()
        .instrument(span.clone())
        .await;
    let result = match outcome {
        Ok(Ok(res)) => Ok(res.map_into_boxed_body()),
        Ok(Err(e)) => Err(e),
        Err(_) => {
            span.in_scope(|| tracing::error!("handler panicked"));
            let body = HttpResponse::InternalServerError()
                .insert_header((REQUEST_ID, request_id.clone()))
                .json(json!({ "detail": "A server error occurred." }));
            Err(InternalError::from_response("handler panicked", body).into())
        }
    };

    let elapsed = started.elapsed();
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    if let Some(m) = &metrics {
        m.in_flight.dec();
        m.requests
            .with_label_values(&[method.as_str(), &route, status.as_str()])
            .inc();
        m.latency
            .with_label_values(&[method.as_str(), &route])
            .observe(elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        tracing::info!(status = status.as_u16(), route = %route, duration_ms = elapsed.as_secs_f64() * 1e3, "request completed");
    });
    let mut res = result?;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}
