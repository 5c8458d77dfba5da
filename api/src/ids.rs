//! Path ids: a malformed UUID is "not found" (DRF's answer), never a 500.

use biologidex_core::error::Missing;
use uuid::Uuid;

use crate::{ApiError, ApiResult};

/// Parses a `{pk}` path segment into the id of the route's table (or a bare `Uuid`).
pub fn path_uuid<T: From<Uuid>>(raw: &str) -> ApiResult<T> {
    Uuid::try_parse(raw)
        .map(T::from)
        .map_err(|_| ApiError(biologidex_core::Error::NotFound(Missing::Object)))
}
