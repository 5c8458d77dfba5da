//! Request bodies that may be JSON or multipart (the client uses both): text fields become a
//! JSON object (multipart text is kept as strings, as DRF's form parser did) and at most one
//! file part is read into memory under a size limit.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, http::header, web};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::{ApiError, ApiResult};

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
            .to_bytes_limited(max_file + 64 * 1024)
            .await
            .map_err(|_| ApiError::field("non_field_errors", "Request body is too large."))?
            .map_err(|e| ApiError::detail_error(format!("Could not read the request body: {e}")))?;
        if body.is_empty() {
            return Ok(Input {
                fields: Value::Object(Map::new()),
                file: None,
            });
        }
        let fields: Value = serde_json::from_slice(&body)
            .map_err(|e| ApiError::detail_error(format!("JSON parse error - {e}")))?;
        return Ok(Input { fields, file: None });
    }
    let mut multipart = Multipart::new(req.headers(), payload);
    let mut fields = Map::new();
    let mut file = None;
    while let Some(part) = multipart.next().await {
        let mut part =
            part.map_err(|e| ApiError::detail_error(format!("Multipart form parse error - {e}")))?;
        let name = part.name().unwrap_or_default().to_owned();
        let filename = part
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned);
        let limit = if filename.is_some() {
            max_file
        } else {
            1024 * 1024
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = part.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::detail_error(format!("Multipart form parse error - {e}")))?;
            if bytes.len() + chunk.len() > limit {
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
            file = Some(Upload {
                field: name,
                filename,
                bytes,
            });
        } else {
            let text = String::from_utf8(bytes)
                .map_err(|_| ApiError::field(&name, "Not a valid string."))?;
            fields.insert(name, Value::String(text));
        }
    }
    Ok(Input {
        fields: Value::Object(fields),
        file,
    })
}
