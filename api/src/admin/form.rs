//! The console's form extractor: `application/x-www-form-urlencoded` bodies up to 64 KiB, with
//! unknown fields refused by the form structs and NUL characters (raw or `%00`) refused before
//! anything reaches PostgreSQL, which cannot store them. Every console form uses it.

use std::{future::Future, ops::Deref, pin::Pin};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use super::page::AdminError;

/// Largest console form body.
const LIMIT: usize = 64 * 1024;

/// A parsed console form.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T> Form<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Form<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// Whether a urlencoded body carries a NUL, raw or percent-encoded.
fn has_nul(body: &[u8]) -> bool {
    body.contains(&0) || body.windows(3).any(|w| w == b"%00")
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body
                .await
                .map_err(|_| AdminError::BadRequest("The form could not be read.".to_owned()))?;
            if bytes.len() > LIMIT {
                return Err(AdminError::BadRequest("The form is too large.".to_owned()));
            }
            if has_nul(&bytes) {
                return Err(AdminError::BadRequest(
                    "Null characters are not allowed.".to_owned(),
                ));
            }
            serde_urlencoded::from_bytes(&bytes)
                .map(Form)
                .map_err(|e| AdminError::BadRequest(format!("The form is not valid: {e}.")))
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn nul_characters_are_found_raw_and_encoded() {
        assert!(super::has_nul(b"name=a%00b"));
        assert!(super::has_nul(b"name=a\0b"));
        assert!(!super::has_nul(b"name=a%2500b"));
        assert!(!super::has_nul(b"name=100%25"));
    }
}
