//! The photo pipeline: detect the real format from the bytes, decode within limits (a hostile
//! file is refused before any large allocation), apply the EXIF orientation (all eight), the
//! user's rotation and crop, flatten transparency onto white, shrink to fit 2560×2560
//! (Lanczos3 via fast_image_resize), encode PNG and hash it. Output carries no EXIF.
//! CPU-bound: call from a blocking thread.

use std::io::Cursor;

use fast_image_resize as fir;
use image::{
    DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage, Rgba,
    metadata::Orientation,
};
use sha2::{Digest, Sha256};

use crate::blob::ImageBlob;

/// Longest side of a converted image.
pub const MAX_SIDE: u32 = 2560;
/// Longest side of a thumbnail.
pub const THUMB_SIDE: u32 = 256;
/// Largest accepted width or height of an upload.
pub const MAX_DIMENSION: u32 = 12_000;
/// Largest accepted pixel count (a 48-megapixel phone photo fits).
pub const MAX_PIXELS: u64 = 64_000_000;
/// Decoder allocation cap, and the budget of every buffer the pipeline holds at once across
/// all concurrent conversions of the process.
pub const MAX_ALLOC: u64 = 512 << 20;

/// Why an upload was refused; each message is shown to the client as a field error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("Unsupported image format: {0}. Allowed formats: JPEG, PNG, WebP.")]
    Unsupported(String),
    #[error(
        "Upload a valid image. The file you uploaded was either not an image or a corrupted image."
    )]
    Corrupt,
    #[error("Image is too large: {0}.")]
    TooLarge(String),
}

/// The user's edits, applied after the EXIF orientation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Edits {
    /// Clockwise degrees: 0, 90, 180 or 270.
    pub rotation: u16,
    /// `(x, y, width, height)` in the rotated image; skipped when it does not fit.
    pub crop: Option<(u32, u32, u32, u32)>,
}

/// A converted upload.
#[derive(Debug, Clone)]
pub struct Converted {
    pub image: ImageBlob,
    pub thumbnail: ImageBlob,
    /// `JPEG`, `PNG` or `WEBP`.
    pub original_format: &'static str,
    pub original_size: (u32, u32),
    /// Clockwise degrees the EXIF orientation turned the image (0 when none or mirrored only).
    pub exif_rotation: u16,
}

/// Detects the format from the bytes (never from the declared type or name).
pub fn detect(bytes: &[u8]) -> Result<ImageFormat, ImageError> {
    // ISO-BMFF containers (HEIC, AVIF) are recognised to give a clear message.
    if bytes.len() > 12 && &bytes[4..8] == b"ftyp" {
        let brand = String::from_utf8_lossy(&bytes[8..12]).to_string();
        let kind = match brand.as_str() {
            "avif" | "avis" => "image/avif",
            "heic" | "heix" | "hevc" | "hevx" | "mif1" | "msf1" => "image/heic",
            _ => "video/mp4",
        };
        return Err(ImageError::Unsupported(format!(
            "{kind} (HEIC and AVIF are not supported; send JPEG, PNG or WebP)"
        )));
    }
    match image::guess_format(bytes) {
        // MPO phone photos start as a plain JPEG; the first frame is the photo.
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)) => Ok(f),
        Ok(other) => Err(ImageError::Unsupported(other.to_mime_type().to_owned())),
        Err(_) => Err(ImageError::Corrupt),
    }
}

fn format_name(f: ImageFormat) -> &'static str {
    match f {
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::Png => "PNG",
        _ => "WEBP",
    }
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_DIMENSION);
    l.max_image_height = Some(MAX_DIMENSION);
    l.max_alloc = Some(MAX_ALLOC);
    l
}

/// True when a JPEG's scan data ends with an EOI marker. The decoder fills a truncated scan
/// with grey instead of failing, so the marker is looked for here: the segments before the
/// first scan are walked by their lengths (an EXIF thumbnail inside APP1 has its own EOI),
/// and inside the scan `FF` is always followed by `00`, a restart marker or a real marker.
pub fn jpeg_complete(bytes: &[u8]) -> bool {
    if bytes.len() < 4 || bytes[0..2] != [0xFF, 0xD8] {
        return false;
    }
    let mut i = 2;
    // Walk to the first start-of-scan.
    loop {
        while i < bytes.len() && bytes[i] == 0xFF && bytes.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (bytes.get(i), bytes.get(i + 1)) else {
            return false;
        };
        let Some(len) = bytes
            .get(i + 2..i + 4)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
        else {
            return false;
        };
        i += 2 + len;
        if marker == 0xDA {
            break;
        }
    }
    bytes
        .get(i..)
        .is_some_and(|scan| scan.windows(2).any(|w| w == [0xFF, 0xD9]))
}

/// The bytes the pipeline holds at its peak for a `w`×`h` image the decoder returns as
/// `color` in `decoded` bytes: the 8-bit copy of a 16-bit/float image next to its original,
/// a rotated copy next to the image, the flattened RGB next to its source, plus the resized
/// outputs.
fn pipeline_bytes(w: u32, h: u32, color: image::ColorType, decoded: u64) -> u64 {
    use image::ColorType as C;
    let px = u64::from(w) * u64::from(h);
    let eight_bit = matches!(color, C::L8 | C::La8 | C::Rgb8 | C::Rgba8);
    let (to_8bit, image) = if eight_bit {
        (decoded, decoded)
    } else {
        (decoded + px * 4, px * 4)
    };
    let resized = u64::from(MAX_SIDE) * u64::from(MAX_SIDE) * 3 * 2;
    to_8bit.max(2 * image).max(image + 3 * px) + resized
}

/// Bytes of decode buffers all decodes of this process hold at once: a decode waits for its
/// share, so concurrent hostile uploads cannot multiply the peak.
static IN_FLIGHT: std::sync::Mutex<u64> = std::sync::Mutex::new(0);
static FREED: std::sync::Condvar = std::sync::Condvar::new();

/// A share of the process-wide decode budget, returned when dropped.
struct Reservation(u64);

impl Reservation {
    fn take(bytes: u64) -> Reservation {
        let mut used = IN_FLIGHT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while *used + bytes > MAX_ALLOC {
            used = FREED
                .wait(used)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        *used += bytes;
        Reservation(bytes)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut used = IN_FLIGHT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *used = used.saturating_sub(self.0);
        FREED.notify_all();
    }
}

fn decode(
    bytes: &[u8],
    format: ImageFormat,
) -> Result<(DynamicImage, Orientation, Reservation), ImageError> {
    if format == ImageFormat::Jpeg && !jpeg_complete(bytes) {
        return Err(ImageError::Corrupt);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(limits());
    let mut decoder = reader.into_decoder().map_err(classify)?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(ImageError::TooLarge(format!(
            "{w}×{h} pixels, at most {MAX_PIXELS} allowed"
        )));
    }
    // One budget for every buffer of the pipeline, not per copy.
    let peak = pipeline_bytes(w, h, decoder.color_type(), decoder.total_bytes());
    if peak > MAX_ALLOC {
        return Err(ImageError::TooLarge(format!(
            "{w}×{h} pixels of {:?} need {} MiB to convert, at most {} MiB allowed",
            decoder.color_type(),
            peak >> 20,
            MAX_ALLOC >> 20
        )));
    }
    let reservation = Reservation::take(peak);
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let img = DynamicImage::from_decoder(decoder).map_err(classify)?;
    Ok((to_8bit(img), orientation, reservation))
}

/// 16-bit and float images become 8-bit at once (before rotating: a rotated 16-bit copy is
/// twice the size); 8-bit ones are returned as they are.
fn to_8bit(img: DynamicImage) -> DynamicImage {
    use image::ColorType as C;
    match img.color() {
        C::L8 | C::La8 | C::Rgb8 | C::Rgba8 => img,
        c if c.has_alpha() => DynamicImage::ImageRgba8(img.into_rgba8()),
        _ => DynamicImage::ImageRgb8(img.into_rgb8()),
    }
}

fn classify(e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Limits(l) => ImageError::TooLarge(l.to_string()),
        image::ImageError::Unsupported(u) => ImageError::Unsupported(u.to_string()),
        _ => ImageError::Corrupt,
    }
}

/// Clockwise degrees an orientation turns the image (mirrors count as their rotation part).
fn rotation_of(o: Orientation) -> u16 {
    match o {
        Orientation::Rotate90 | Orientation::Rotate90FlipH => 90,
        Orientation::Rotate180 | Orientation::FlipVertical => 180,
        Orientation::Rotate270 | Orientation::Rotate270FlipH => 270,
        _ => 0,
    }
}

/// Composites any transparency onto white and returns 8-bit RGB.
fn flatten(img: DynamicImage) -> RgbImage {
    if !img.color().has_alpha() {
        return img.into_rgb8();
    }
    let rgba = img.into_rgba8();
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (dst, Rgba([r, g, b, a])) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u16::from(*a);
        let blend = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
        *dst = image::Rgb([blend(*r), blend(*g), blend(*b)]);
    }
    out
}

/// Shrinks to fit `side`×`side` (never enlarges) with Lanczos3.
pub fn fit(img: RgbImage, side: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    if w <= side && h <= side {
        return img;
    }
    let scale = f64::from(side) / f64::from(w.max(h));
    let nw = ((f64::from(w) * scale).round() as u32).clamp(1, side);
    let nh = ((f64::from(h) * scale).round() as u32).clamp(1, side);
    let src = DynamicImage::ImageRgb8(img);
    let mut dst = fir::images::Image::new(nw, nh, fir::PixelType::U8x3);
    let options = fir::ResizeOptions::new()
        .resize_alg(fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3));
    match fir::Resizer::new().resize(&src, &mut dst, &options) {
        Ok(()) => RgbImage::from_raw(nw, nh, dst.into_vec()).unwrap_or_else(|| {
            src.resize(nw, nh, image::imageops::FilterType::Lanczos3)
                .into_rgb8()
        }),
        // fast_image_resize refuses nothing we pass; fall back to the slow path rather than fail.
        Err(_) => src
            .resize(nw, nh, image::imageops::FilterType::Lanczos3)
            .into_rgb8(),
    }
}

/// PNG bytes and their SHA-256.
pub fn encode_png(img: &RgbImage) -> Result<ImageBlob, ImageError> {
    let mut bytes = Vec::with_capacity(img.as_raw().len() / 2);
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut bytes,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::Adaptive,
    );
    img.write_with_encoder(encoder)
        .map_err(|_| ImageError::Corrupt)?;
    let checksum = hex::encode(Sha256::digest(&bytes));
    Ok(ImageBlob {
        bytes,
        checksum,
        content_type: "image/png",
        width: img.width(),
        height: img.height(),
    })
}

/// A smaller JPEG of a stored image for the vision model: cheaper to send and to bill, and
/// enough to identify an animal. Returns the bytes and their MIME type.
pub fn for_model(stored: &[u8], side: u32) -> Result<(Vec<u8>, &'static str), ImageError> {
    let format = detect(stored)?;
    let (img, _, _budget) = decode(stored, format)?;
    let rgb = fit(flatten(img), side);
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
    rgb.write_with_encoder(encoder)
        .map_err(|_| ImageError::Corrupt)?;
    Ok((out, "image/jpeg"))
}

/// Runs the whole pipeline on an upload.
pub fn convert(bytes: &[u8], edits: Edits) -> Result<Converted, ImageError> {
    let format = detect(bytes)?;
    let (mut img, orientation, _budget) = decode(bytes, format)?;
    let original_size = (img.width(), img.height());
    img.apply_orientation(orientation);
    img = match edits.rotation {
        90 => img.rotate90(),
        180 => img.rotate180(),
        270 => img.rotate270(),
        _ => img,
    };
    if let Some((x, y, w, h)) = edits.crop {
        let fits = w > 0
            && h > 0
            && x.checked_add(w).is_some_and(|r| r <= img.width())
            && y.checked_add(h).is_some_and(|b| b <= img.height());
        if fits {
            img = img.crop_imm(x, y, w, h);
        }
    }
    let rgb = fit(flatten(img), MAX_SIDE);
    let thumbnail = encode_png(&fit(rgb.clone(), THUMB_SIDE))?;
    let image = encode_png(&rgb)?;
    Ok(Converted {
        image,
        thumbnail,
        original_format: format_name(format),
        original_size,
        exif_rotation: rotation_of(orientation),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, f: impl Fn(u32, u32) -> Rgba<u8>) -> Vec<u8> {
        let img = image::RgbaImage::from_fn(w, h, f);
        let mut out = Vec::new();
        DynamicImage::ImageRgba8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn transparency_becomes_white_and_big_images_shrink() {
        let bytes = png(3000, 1000, |x, _| {
            if x < 1500 {
                Rgba([0, 0, 0, 0])
            } else {
                Rgba([255, 0, 0, 255])
            }
        });
        let c = convert(&bytes, Edits::default()).unwrap();
        assert_eq!(c.original_format, "PNG");
        assert_eq!(c.original_size, (3000, 1000));
        assert_eq!((c.image.width, c.image.height), (2560, 853));
        let out = image::load_from_memory(&c.image.bytes).unwrap().into_rgb8();
        assert_eq!(out.get_pixel(10, 10).0, [255, 255, 255]);
        assert_eq!(out.get_pixel(2500, 10).0, [255, 0, 0]);
        assert!(c.thumbnail.width <= THUMB_SIDE && c.thumbnail.height <= THUMB_SIDE);
        assert_eq!(c.image.checksum.len(), 64);
    }

    #[test]
    fn rotation_and_crop_apply_in_order() {
        // Left half red, right half blue; 90° clockwise puts red on top.
        let bytes = png(40, 20, |x, _| {
            if x < 20 {
                Rgba([255, 0, 0, 255])
            } else {
                Rgba([0, 0, 255, 255])
            }
        });
        let c = convert(
            &bytes,
            Edits {
                rotation: 90,
                crop: Some((0, 0, 20, 20)),
            },
        )
        .unwrap();
        let out = image::load_from_memory(&c.image.bytes).unwrap().into_rgb8();
        assert_eq!(out.dimensions(), (20, 20));
        assert_eq!(out.get_pixel(10, 10).0, [255, 0, 0]);
        // A crop that does not fit is skipped.
        let c = convert(
            &bytes,
            Edits {
                rotation: 0,
                crop: Some((30, 0, 20, 20)),
            },
        )
        .unwrap();
        assert_eq!((c.image.width, c.image.height), (40, 20));
    }

    #[test]
    fn the_budget_counts_every_copy_of_the_pipeline() {
        use image::ColorType as C;
        // A 16-bit RGBA 8000×8000 PNG (under 1 MB on the wire) needs far more than one copy.
        let px = 8000u64 * 8000;
        assert!(pipeline_bytes(8000, 8000, C::Rgba16, px * 8) > MAX_ALLOC);
        // A 64-megapixel 8-bit photo still fits.
        assert!(pipeline_bytes(8000, 8000, C::Rgb8, px * 3) < MAX_ALLOC);
        // Refused from the header, before any pixel is allocated.
        let mut bomb = Vec::new();
        image::ImageEncoder::write_image(
            image::codecs::png::PngEncoder::new(&mut bomb),
            &[0u8; 8 * 8 * 8],
            8,
            8,
            image::ExtendedColorType::Rgba16,
        )
        .unwrap();
        bomb[16..20].copy_from_slice(&8000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&8000u32.to_be_bytes());
        let crc = crc32fast::hash(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let started = std::time::Instant::now();
        let edits = Edits {
            rotation: 90,
            crop: None,
        };
        assert!(matches!(
            convert(&bomb, edits),
            Err(ImageError::TooLarge(_))
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn truncated_jpegs_are_corrupt_not_grey() {
        let img = RgbImage::from_fn(256, 256, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let mut jpeg = Vec::new();
        img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut jpeg, 90,
        ))
        .unwrap();
        assert!(convert(&jpeg, Edits::default()).is_ok());
        // Trailing bytes after the image (phone trailers) are still fine.
        let mut trailer = jpeg.clone();
        trailer.extend_from_slice(b"trailer");
        assert!(convert(&trailer, Edits::default()).is_ok());
        for cut in [jpeg.len() / 2, jpeg.len() - 2, 200] {
            assert_eq!(
                convert(&jpeg[..cut], Edits::default()).unwrap_err(),
                ImageError::Corrupt,
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn hostile_and_foreign_files_are_refused_quickly() {
        // A 20000×20000 PNG header: refused before decoding a pixel.
        let mut bomb = png(1, 1, |_, _| Rgba([0, 0, 0, 255]));
        bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        // Keep the IHDR checksum valid so the size, not the corruption, is what is refused.
        let crc = crc32fast::hash(&bomb[12..29]);
        bomb[29..33].copy_from_slice(&crc.to_be_bytes());
        let started = std::time::Instant::now();
        assert!(matches!(
            convert(&bomb, Edits::default()),
            Err(ImageError::TooLarge(_))
        ));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));

        let ok = png(64, 64, |_, _| Rgba([1, 2, 3, 255]));
        assert_eq!(
            convert(&ok[..ok.len() / 2], Edits::default()).unwrap_err(),
            ImageError::Corrupt
        );
        assert_eq!(
            convert(b"hello world, not an image", Edits::default()).unwrap_err(),
            ImageError::Corrupt
        );
        let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic";
        assert!(
            matches!(convert(heic, Edits::default()), Err(ImageError::Unsupported(m)) if m.contains("HEIC"))
        );
        let gif = b"GIF89a\x01\0\x01\0\0\0\0;";
        assert!(
            matches!(convert(gif, Edits::default()), Err(ImageError::Unsupported(m)) if m == "image/gif")
        );
    }
}
