//! Capture metadata (date and GPS) read from the photo's EXIF. It stays on the owner's
//! conversion: never shown to others, never copied onto an entry (docs/decisions.md#d10).

use serde_json::{Map, Value, json};

fn gps(exif: &exif::Exif, value: exif::Tag, reference: exif::Tag) -> Option<f64> {
    let field = exif.get_field(value, exif::In::PRIMARY)?;
    let exif::Value::Rational(parts) = &field.value else {
        return None;
    };
    let [d, m, s] = parts.as_slice() else {
        return None;
    };
    let deg = d.to_f64() + m.to_f64() / 60.0 + s.to_f64() / 3600.0;
    let sign = exif
        .get_field(reference, exif::In::PRIMARY)
        .map(|r| r.display_value().to_string())
        .filter(|r| r.starts_with('S') || r.starts_with('W'))
        .map_or(1.0, |_| -1.0);
    deg.is_finite().then_some(sign * deg)
}

/// `{"captured_at": "...", "latitude": f, "longitude": f}` with whatever the photo carries.
pub fn read(bytes: &[u8]) -> Value {
    let mut out = Map::new();
    let Ok(exif) = exif::Reader::new().read_from_container(&mut std::io::Cursor::new(bytes)) else {
        return Value::Object(out);
    };
    if let Some(f) = exif.get_field(exif::Tag::DateTimeOriginal, exif::In::PRIMARY) {
        out.insert(
            "captured_at".to_owned(),
            json!(f.display_value().to_string()),
        );
    }
    if let (Some(lat), Some(lon)) = (
        gps(&exif, exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef),
        gps(&exif, exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef),
    ) {
        out.insert("latitude".to_owned(), json!(lat));
        out.insert("longitude".to_owned(), json!(lon));
    }
    Value::Object(out)
}
