//! An encoded image and the content-addressed key it is stored under.

/// An encoded image ready to store.
#[derive(Debug, Clone)]
pub struct ImageBlob {
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes`, lowercase hex.
    pub checksum: String,
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

impl ImageBlob {
    /// The content-addressed storage key.
    pub fn key(&self) -> String {
        let ext = match self.content_type {
            "image/jpeg" => "jpg",
            "image/webp" => "webp",
            _ => "png",
        };
        format!("images/{}/{}.{ext}", &self.checksum[..2], self.checksum)
    }
}
