//! Path ids: a malformed UUID is "not found" (DRF's answer), never a 500.

use biologidex_core::error::Missing;
use uuid::Uuid;

use crate::{ApiError, ApiResult};

/// Parses a `{pk}` path segment.
pub fn path_uuid(raw: &str) -> ApiResult<Uuid> {
    Uuid::try_parse(raw).map_err(|_| ApiError(biologidex_core::Error::NotFound(Missing::Object)))
}
