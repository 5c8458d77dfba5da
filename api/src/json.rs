//! Wire formats DRF used and the client parses: datetimes in UTC ending in `Z`, with
//! microseconds only when non-zero; dates as `YYYY-MM-DD`.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// `2026-11-25T16:39:38.061065Z` (or without the fraction when it is zero).
///
/// Written digit by digit: every entry of a sync carries several, and chrono's `format`
/// parses its pattern on every call (it showed in the sync routes' profile).
pub fn datetime(dt: &DateTime<Utc>) -> String {
    let micros = dt.timestamp_subsec_micros();
    let year = dt.year();
    if !(0..=9999).contains(&year) || micros >= 1_000_000 {
        // Years chrono writes with a sign, and leap seconds: its own rendering.
        return chrono_datetime(dt);
    }
    let mut out = String::with_capacity(27);
    digits(&mut out, year.unsigned_abs(), 4);
    let parts = [dt.month(), dt.day(), dt.hour(), dt.minute(), dt.second()];
    for (sep, n) in ['-', '-', 'T', ':', ':'].into_iter().zip(parts) {
        out.push(sep);
        digits(&mut out, n, 2);
    }
    if micros != 0 {
        out.push('.');
        digits(&mut out, micros, 6);
    }
    out.push('Z');
    out
}

/// `n`'s last `width` decimal digits, zero-padded.
fn digits(out: &mut String, n: u32, width: u32) {
    for i in (0..width).rev() {
        out.push(char::from(b'0' + ((n / 10u32.pow(i)) % 10) as u8));
    }
}

fn chrono_datetime(dt: &DateTime<Utc>) -> String {
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

    #[test]
    fn datetimes_are_written_as_chrono_formats_them() {
        let mut t = Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap();
        // Every field's width, over ten thousand years in uneven steps (micros included).
        while t.timestamp() < 253_402_300_799 {
            assert_eq!(super::datetime(&t), super::chrono_datetime(&t), "{t:?}");
            t += chrono::Duration::microseconds(3_141_592_653_589_793 / 7);
        }
        for t in [
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::microseconds(1),
        ] {
            assert_eq!(super::datetime(&t), super::chrono_datetime(&t), "{t:?}");
        }
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_micro_opt(23, 59, 59, 1_500_000)
            .unwrap()
            .and_utc();
        assert_eq!(super::datetime(&leap), super::chrono_datetime(&leap));
    }

    use chrono::Utc;
}
