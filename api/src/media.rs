//! Absolute media URLs (the client downloads them without a token and needs default ports).

use actix_web::HttpRequest;
use shared::config::Settings;

use crate::urls::base_url;

/// Builds absolute URLs for one request.
#[derive(Debug, Clone)]
pub struct MediaUrls {
    base: String,
}

impl MediaUrls {
    /// URLs as the caller of `req` reaches this server.
    pub fn new(req: &HttpRequest, settings: &Settings) -> Self {
        MediaUrls {
            base: base_url(req, settings),
        }
    }

    /// The public URL of a public media object (avatars).
    pub fn public(&self, key: &str) -> String {
        format!("{}/media/{key}", self.base)
    }

    /// `public` for an optional key.
    pub fn public_opt(&self, key: Option<&str>) -> Option<String> {
        key.filter(|k| !k.is_empty()).map(|k| self.public(k))
    }
}
