//! The `transformations` field: `{"rotation": 0|90|180|270, "crop": {x, y, width, height}}`,
//! other keys kept and echoed back. Integral floats are accepted (the client's JSON round trip).

use biologidex_media::images::Edits;
use serde_json::Value;

fn int(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
}

/// Validates `transformations` (a JSON object, or a JSON string as multipart sends it).
/// Returns the edits and the object to store, or a field error message.
pub fn parse_edits(raw: Option<Value>) -> Result<(Edits, Value), String> {
    let value = match raw {
        None | Some(Value::Null) => {
            return Ok((Edits::default(), Value::Object(Default::default())));
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            return Ok((Edits::default(), Value::Object(Default::default())));
        }
        Some(Value::String(s)) => {
            serde_json::from_str(&s).map_err(|_| "Value must be valid JSON.".to_owned())?
        }
        Some(v) => v,
    };
    let Value::Object(map) = &value else {
        return Err("Transformations must be a JSON object.".to_owned());
    };
    let mut edits = Edits::default();
    if let Some(r) = map.get("rotation") {
        edits.rotation = match int(r) {
            Some(d @ (0 | 90 | 180 | 270)) => d as u16,
            _ => return Err("Rotation must be one of: 0, 90, 180, 270.".to_owned()),
        };
    }
    if let Some(c) = map.get("crop") {
        let Value::Object(c) = c else {
            return Err("Crop must be a JSON object.".to_owned());
        };
        let part = |k: &str| c.get(k).and_then(int).and_then(|n| u32::try_from(n).ok());
        match (part("x"), part("y"), part("width"), part("height")) {
            (Some(x), Some(y), Some(w), Some(h)) => edits.crop = Some((x, y, w, h)),
            _ => return Err("Crop must contain: x, y, width, height.".to_owned()),
        }
    }
    Ok((edits, value))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn transformations_are_validated_like_the_old_server() {
        let (e, v) = parse_edits(Some(json!("{\"rotation\":90,\"foo\":\"bar\"}"))).unwrap();
        assert_eq!(e.rotation, 90);
        assert_eq!(v["foo"], "bar");
        assert_eq!(
            parse_edits(Some(json!({"rotation": 270.0})))
                .unwrap()
                .0
                .rotation,
            270
        );
        assert_eq!(
            parse_edits(Some(json!({"rotation": 45}))).unwrap_err(),
            "Rotation must be one of: 0, 90, 180, 270."
        );
        assert_eq!(
            parse_edits(Some(json!("nope"))).unwrap_err(),
            "Value must be valid JSON."
        );
        assert_eq!(
            parse_edits(Some(json!([1]))).unwrap_err(),
            "Transformations must be a JSON object."
        );
        assert_eq!(
            parse_edits(Some(json!({"crop": {"x": 1}}))).unwrap_err(),
            "Crop must contain: x, y, width, height."
        );
        assert_eq!(
            parse_edits(Some(
                json!({"crop": {"x": 1, "y": 2, "width": 3, "height": 4}})
            ))
            .unwrap()
            .0
            .crop,
            Some((1, 2, 3, 4))
        );
    }
}
