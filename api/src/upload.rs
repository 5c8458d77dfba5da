//! Request bodies that may be JSON or multipart (the client uses both): text fields become a
//! JSON object (multipart text is kept as strings, as DRF's form parser did) and at most one
//! file part is read into memory under a size limit.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, http::header, web};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::{
    ApiError, ApiResult,
    input::{JSON_MAX, NUL_MESSAGE, refuse_nul, too_large},
};

/// Most parts one multipart body may have (the client sends two or three).
pub const MAX_PARTS: usize = 16;
/// Largest text part (`transformations`, names, notes): far below the file cap.
pub const MAX_TEXT_PART: usize = 64 * 1024;

/// An uploaded file.
#[derive(Debug)]
pub struct Upload {
    pub field: String,
    pub filename: Option<String>,
    pub bytes: Vec<u8>,
}

/// A parsed body.
#[derive(Debug)]
pub struct Input {
    pub fields: Value,
    pub file: Option<Upload>,
}

fn is_multipart(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// Reads a JSON or multipart body. `file_field` names the one accepted file part; a file
/// larger than `max_file` bytes is a 400 on that field.
pub async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    file_field: &str,
    max_file: usize,
) -> ApiResult<Input> {
    if !is_multipart(req) {
        let body = payload
            .to_bytes_limited(JSON_MAX)
            .await
            .map_err(|_| too_large())?
            .map_err(|e| ApiError::detail_error(format!("Could not read the request body: {e}")))?;
        if body.is_empty() {
            return Ok(Input {
                fields: Value::Object(Map::new()),
                file: None,
            });
        }
        let fields: Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::detail_error(format!("JSON parse error - {e}")))?;
        refuse_nul(&fields)?;
        return Ok(Input { fields, file: None });
    }
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut fields = Map::new();
    let mut file = None;
    let mut parts = 0;
    while let Some(part) = multipart.next().await {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(ApiError::detail_error(format!(
                "Too many form parts (at most {MAX_PARTS})."
            )));
        }
        let mut part =
            part.map_err(|e| ApiError::detail_error(format!("Multipart form parse error - {e}")))?;
        let name = part.name().unwrap_or_default().to_owned();
        let filename = part
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned);
        let limit = if filename.is_some() || name == file_field {
            max_file
        } else {
            MAX_TEXT_PART
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::detail_error(format!("Multipart form parse error - {e}")))?;
            if bytes.len() + chunk.len() > limit {
                if limit == MAX_TEXT_PART {
                    return Err(ApiError::field(
                        &name,
                        format!("Ensure this field has no more than {MAX_TEXT_PART} bytes."),
                    ));
                }
                let mb = limit as f64 / (1024.0 * 1024.0);
                return Err(ApiError::field(
                    &name,
                    format!("File too large. Maximum size is {mb:.1}MB."),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        if filename.is_some() || name == file_field {
            if name != file_field {
                return Err(ApiError::field(&name, "Unexpected file field."));
            }
            if file.is_some() {
                return Err(ApiError::field(&name, "Send one file only."));
            }
            file = Some(Upload {
                field: name,
                filename,
                bytes,
            });
        } else {
            let text = String::from_utf8(bytes)
                .map_err(|_| ApiError::field(&name, "Not a valid string."))?;
            if text.contains('\0') || name.contains('\0') {
                return Err(ApiError::field(&name.replace('\0', ""), NUL_MESSAGE));
            }
            fields.insert(name, Value::String(text));
        }
    }
    Ok(Input {
        fields: Value::Object(fields),
        file,
    })
}
