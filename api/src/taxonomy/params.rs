//! Query-string parameters with DRF's validation messages: a bad value is a 400 field error,
//! never a 500 (defect 21). Integral floats (`20.0`) count as integers.

use std::collections::HashMap;

use actix_web::HttpRequest;

use crate::{ApiError, ApiResult};

/// The request's query parameters (the last value of a repeated key wins, as in Django).
pub struct QueryParams(HashMap<String, String>);

impl QueryParams {
    /// Reads the query string.
    pub fn new(req: &HttpRequest) -> QueryParams {
        QueryParams(
            url::form_urlencoded::parse(req.query_string().as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// A trimmed, non-blank value.
    pub fn text(&self, key: &str) -> Option<String> {
        self.0
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A trimmed value of at most `max` characters.
    pub fn bounded_text(&self, key: &str, max: usize) -> ApiResult<Option<String>> {
        match self.text(key) {
            Some(v) if v.chars().count() > max => {
                Err(ApiError::field(key, crate::request::too_long(max)))
            }
            other => Ok(other),
        }
    }

    /// An integer, if given.
    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        let Some(raw) = self.text(key) else {
            return Ok(None);
        };
        let parsed = raw.parse::<i64>().ok().or_else(|| {
            raw.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        });
        parsed
            .map(Some)
            .ok_or_else(|| ApiError::field(key, "A valid integer is required."))
    }

    /// A boolean (`true/false`, `1/0`, `yes/no`, any case), if given.
    pub fn boolean(&self, key: &str) -> ApiResult<Option<bool>> {
        let Some(raw) = self.text(key) else {
            return Ok(None);
        };
        match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Some(true)),
            "false" | "0" | "no" | "off" => Ok(Some(false)),
            _ => Err(ApiError::field(key, "Must be a valid boolean.")),
        }
    }
}
