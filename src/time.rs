//! Time for nix-tokens: unix seconds, RFC 3339 expiry dates, the lifetimes servers give, the UTC
//! stamps of backup names, and the waits a server asks for ([`scaled`]). Calendar arithmetic and
//! parsing are jiff's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::Timestamp;
use jiff::fmt::strtime;

/// `t` as RFC 3339 in UTC, to the second.
pub fn rfc3339(t: SystemTime) -> String {
    timestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `t` as `YYYYMMDDTHHMMSS.NNNNNNNNNZ` in UTC, which sorts in time order.
pub fn utc_stamp(t: SystemTime) -> String {
    timestamp(t).strftime("%Y%m%dT%H%M%S.%NZ").to_string()
}

fn timestamp(t: SystemTime) -> Timestamp {
    Timestamp::try_from(t).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The longest validity believed from a server (a year): anything beyond is a bogus number.
pub const MAX_LIFETIME: u64 = 366 * 86_400;

/// A lifetime in seconds as a server gave it, bounded by [`MAX_LIFETIME`].
pub fn lifetime(secs: u64) -> u64 {
    secs.min(MAX_LIFETIME)
}

/// How long a pause of `nominal` (a polling interval, a retry's pause, a wait a server asks for)
/// really lasts: `nominal`, except that it is multiplied by `NIX_TOKENS_TEST_TIME_SCALE` (a factor
/// from 0 to 1) when the tests set it, so that a test can count a minute's pauses without waiting a
/// minute (`0` makes every such pause none). It is honoured in release builds too: the
/// package's own check runs the tests in release mode. No user has a reason to set it, and it can
/// only shorten a pause.
pub fn pause(nominal: Duration) -> Duration {
    match std::env::var("NIX_TOKENS_TEST_TIME_SCALE")
        .ok()
        .and_then(|f| f.parse::<f64>().ok())
        .filter(|f| f.is_finite() && (0.0..=1.0).contains(f))
    {
        Some(factor) => nominal.mul_f64(factor),
        None => nominal,
    }
}

/// Seconds since 1970-01-01 UTC.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// `secs` seconds since 1970-01-01 UTC, as RFC 3339.
pub fn rfc3339_unix(secs: u64) -> String {
    rfc3339(UNIX_EPOCH + Duration::from_secs(secs.min(unix_now().saturating_add(MAX_LIFETIME))))
}

/// The moment `secs` seconds from now, as RFC 3339.
pub fn rfc3339_in(secs: u64) -> String {
    rfc3339(SystemTime::now() + Duration::from_secs(lifetime(secs)))
}

/// Unix seconds of an RFC 3339 time (`2026-12-01T12:00:00Z` or with a `+02:00` offset).
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let t: Timestamp = text.parse().ok()?;
    u64::try_from(t.as_second()).ok()
}

/// A time as GitHub writes its token-expiry header (`2026-12-01 12:00:00 UTC`, or with an offset
/// such as `+0200`), as RFC 3339 with the same offset.
pub fn rfc3339_from_header(text: &str) -> Option<String> {
    let text = text.trim();
    let text = match text.strip_suffix(" UTC") {
        Some(t) => format!("{t} +0000"),
        None => text.to_owned(),
    };
    let tm = strtime::parse("%Y-%m-%d %H:%M:%S %z", &text).ok()?;
    let offset = tm.offset()?;
    let t = tm.to_timestamp().ok()?;
    Some(match offset.seconds() {
        0 => t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        _ => t.display_with_offset(offset).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses_back() {
        for secs in [0, 951_782_400, 1_795_459_713] {
            assert_eq!(parse_rfc3339(&rfc3339_unix(secs)), Some(secs));
        }
        assert_eq!(
            parse_rfc3339("2026-12-01T12:00:00+02:00"),
            parse_rfc3339("2026-12-01T10:00:00Z")
        );
        assert_eq!(
            parse_rfc3339("2027-01-31T00:00:00.123Z"),
            parse_rfc3339("2027-01-31T00:00:00Z")
        );
        assert_eq!(parse_rfc3339("soon"), None);
    }

    #[test]
    fn calendar_dates_in_utc() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::new(1_795_459_713, 5);
        assert_eq!(rfc3339(t), "2026-11-23T18:48:33Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn stamps_are_utc_calendar_times() {
        assert_eq!(utc_stamp(UNIX_EPOCH), "19700101T000000.000000000Z");
        let t = UNIX_EPOCH + Duration::new(1_795_459_713, 5);
        assert_eq!(utc_stamp(t), "20261123T184833.000000005Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(utc_stamp(leap), "20000229T000000.000000000Z");
    }

    #[test]
    fn expiry_headers_become_rfc3339() {
        assert_eq!(
            rfc3339_from_header("2026-12-01 12:00:00 UTC").as_deref(),
            Some("2026-12-01T12:00:00Z")
        );
        assert_eq!(
            rfc3339_from_header("2026-12-01 12:00:00 +0200").as_deref(),
            Some("2026-12-01T12:00:00+02:00")
        );
        assert_eq!(rfc3339_from_header("soon"), None);
    }
}
