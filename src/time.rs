//! Calendar time in UTC, for backup names and RFC 3339 expiry dates, without a date crate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A moment as a UTC calendar date and time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u64,
    pub minute: u64,
    pub second: u64,
    pub nanos: u32,
}

impl Civil {
    pub fn of(t: SystemTime) -> Self {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = d.as_secs();
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (year, month, day) = civil_from_days(days as i64);
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem % 3600 / 60,
            second: rem % 60,
            nanos: d.subsec_nanos(),
        }
    }
}

/// `t` as RFC 3339 in UTC, to the second.
pub fn rfc3339(t: SystemTime) -> String {
    let c = Civil::of(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// The longest validity believed from a server (a year): anything beyond is a bogus number.
pub const MAX_LIFETIME: u64 = 366 * 86_400;

/// A lifetime in seconds as a server gave it, bounded by [`MAX_LIFETIME`].
pub fn lifetime(secs: u64) -> u64 {
    secs.min(MAX_LIFETIME)
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
    let (date, rest) = text.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()??, d.next()??);
    let (time, offset) = match rest.strip_suffix('Z') {
        Some(time) => (time, 0),
        None => {
            let at = rest.rfind(['+', '-'])?;
            let (time, zone) = rest.split_at(at);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone[1..].split_once(':')?;
            (
                time,
                sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60),
            )
        }
    };
    let mut t = time
        .split(':')
        .map(|p| p.split('.').next().unwrap_or("").parse::<i64>().ok());
    let (h, m, s) = (t.next()??, t.next()??, t.next()??);
    let days = days_from_civil(year, month, day);
    u64::try_from(days * 86_400 + h * 3600 + m * 60 + s - offset).ok()
}

/// (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
}
