//! The upload and the JSON objects of a conversion as the OpenAPI document shows them. The
//! handler reads the upload through `crate::upload` and keeps `transformations` and the
//! capture metadata as JSON, so these types only describe.

use utoipa::ToSchema;

/// A photo to convert, sent as `multipart/form-data`.
#[derive(ToSchema)]
pub struct ConvertRequest {
    /// The photo: JPEG, PNG or WebP, recognised from its bytes (the file name and declared type
    /// do not matter; HEIC, AVIF and GIF are refused). At most `MAX_UPLOAD_SIZE_MB` (10 MB by
    /// default), 12,000 pixels a side and 64 megapixels.
    #[schema(value_type = String, format = Binary)]
    pub image: String,
    /// Optional edits as JSON text, applied after the photo's EXIF orientation: see
    /// `Transformations`. Other keys are kept and echoed back. Empty means none.
    #[schema(
        nullable = false,
        example = r#"{"rotation": 90, "crop": {"x": 0, "y": 0, "width": 800, "height": 600}}"#
    )]
    pub transformations: Option<String>,
}

/// Edits to a photo, applied after its EXIF orientation.
///
/// In a response: the ones sent (other keys included, as sent) plus `exif_rotation` when the
/// photo's EXIF orientation turned it.
#[derive(ToSchema)]
pub struct Transformations {
    /// Clockwise degrees: 0, 90, 180 or 270 (`90.0` is accepted as 90).
    #[schema(nullable = false, example = 90)]
    pub rotation: Option<u16>,
    /// A crop in pixels of the rotated image; skipped when it does not fit inside it.
    #[schema(nullable = false)]
    pub crop: Option<Crop>,
    /// Clockwise degrees the EXIF orientation turned the photo; only in responses, only when
    /// not 0.
    #[schema(nullable = false)]
    pub exif_rotation: Option<u16>,
}

/// A crop rectangle, in pixels, from the top-left corner.
#[derive(ToSchema)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// When and where the photo was taken, from its EXIF.
///
/// Each key only when the photo carries it. Shown to the owner only, never copied onto a dex
/// entry.
#[derive(ToSchema)]
pub struct Capture {
    /// EXIF `DateTimeOriginal`: `YYYY-MM-DD HH:MM:SS` in the camera's local time (no zone).
    #[schema(nullable = false, example = "2026-11-25 16:39:38")]
    pub captured_at: Option<String>,
    /// Degrees, south negative.
    #[schema(nullable = false)]
    pub latitude: Option<f64>,
    /// Degrees, west negative.
    #[schema(nullable = false)]
    pub longitude: Option<f64>,
}
