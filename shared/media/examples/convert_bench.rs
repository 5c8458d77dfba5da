#![expect(
    clippy::print_stdout,
    clippy::expect_used,
    reason = "a benchmark prints its results and fails loudly"
)]

//! Times the photo pipeline on a 12-megapixel phone-like JPEG (4000×3000, quality 90, noisy
//! texture, EXIF orientation 6) single-threaded: decode, orient, shrink to 2560, PNG, SHA-256.
//! `cargo run --release -p biologidex-media --example convert_bench [runs]`

use std::time::Instant;

use biologidex_media::images::{Edits, convert};
use image::{ImageEncoder, RgbImage};

fn photo() -> Vec<u8> {
    // Smooth gradients plus pseudo-random noise, like a real photo (pure noise is far worse
    // for PNG, a flat image far better).
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let img = RgbImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed & 0x1F) as u32;
        image::Rgb([
            ((x / 16 + n) % 256) as u8,
            ((y / 12 + n) % 256) as u8,
            (((x + y) / 28 + n) % 256) as u8,
        ])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .write_image(img.as_raw(), 4000, 3000, image::ExtendedColorType::Rgb8)
        .expect("encode");
    let mut exif = vec![0xFF, 0xE1, 0, 34];
    exif.extend_from_slice(
        b"Exif\0\0II\x2A\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06\0\0\0\0\0\0\0",
    );
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let bytes = photo();
    println!(
        "input: 4000x3000 JPEG q90, {:.1} MB, EXIF orientation 6",
        bytes.len() as f64 / 1e6
    );
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        let c = convert(&bytes, Edits::default()).expect("convert");
        times.push(started.elapsed().as_secs_f64() * 1e3);
        last = Some(c);
    }
    times.sort_by(f64::total_cmp);
    if let Some(c) = last {
        println!(
            "output: {}x{} PNG {:.1} MB (+{}x{} thumbnail)",
            c.image.width,
            c.image.height,
            c.image.bytes.len() as f64 / 1e6,
            c.thumbnail.width,
            c.thumbnail.height
        );
    }
    println!(
        "convert (single thread): min {:.0} ms, median {:.0} ms, max {:.0} ms over {runs} runs",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
}
