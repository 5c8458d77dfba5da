//! Wire formats DRF used and the client parses: datetimes in UTC ending in `Z`, with
//! microseconds only when non-zero; dates as `YYYY-MM-DD`.

use chrono::{DateTime, Utc};
use serde::Serializer;

/// `2026-11-25T16:39:38.061065Z` (or without the fraction when it is zero).
pub fn datetime(dt: &DateTime<Utc>) -> String {
    if dt.timestamp_subsec_micros() == 0 {
        dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

/// `serialize_with` for a datetime field.
pub fn ser_datetime<S: Serializer>(dt: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&datetime(dt))
}

/// `serialize_with` for an optional datetime field (null when absent).
pub fn ser_opt_datetime<S: Serializer>(
    dt: &Option<DateTime<Utc>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match dt {
        Some(dt) => s.serialize_str(&datetime(dt)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn datetimes_look_like_drf() {
        let dt = Utc.with_ymd_and_hms(2026, 11, 25, 16, 39, 38).unwrap();
        assert_eq!(super::datetime(&dt), "2026-11-25T16:39:38Z");
        let dt = dt + chrono::Duration::microseconds(61_065);
        assert_eq!(super::datetime(&dt), "2026-11-25T16:39:38.061065Z");
    }

    use chrono::Utc;
}
