//! GitHub's rate limits as its answers tell them (docs.github.com, "Rate limits for the REST API"
//! and "… for the GraphQL API"): a used-up hourly budget answers 403 or 429 with
//! `x-ratelimit-remaining: 0` and `x-ratelimit-reset` (unix seconds); a secondary limit (too many
//! requests at once, or too many points a minute) answers 403 or 429 with `retry-after` (seconds),
//! or with a message naming it, in which case GitHub asks for a wait of at least a minute.

use serde_json::Value;

use crate::http::Response;
use crate::providers::shared::json;

/// A rate limit's refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// What to tell when there is no time to wait.
    pub why: String,
    /// Seconds GitHub asks to wait before asking again, where it says.
    pub wait: Option<u64>,
    /// A secondary limit (it lifts within minutes), not the hour's budget.
    pub secondary: bool,
}

/// Seconds until `x-ratelimit-reset`.
pub fn reset_in(response: &Response) -> Option<u64> {
    response
        .number("x-ratelimit-reset")
        .map(|at| at.saturating_sub(crate::time::unix_now()))
}

/// The rate limit that refused `response`, if one did.
pub fn of(response: &Response) -> Option<Limit> {
    let status = response.status.as_u16();
    if !matches!(status, 403 | 429) {
        return None;
    }
    let retry_after = response.number("retry-after");
    let message = json(response)
        .and_then(|v| {
            v.get("message")
                .and_then(Value::as_str)
                .map(str::to_lowercase)
        })
        .unwrap_or_default();
    if retry_after.is_some() || message.contains("secondary rate limit") {
        return Some(Limit {
            why: format!("GitHub's secondary rate limit refused it (HTTP {status})"),
            wait: retry_after.or_else(|| reset_in(response)).or(Some(60)),
            secondary: true,
        });
    }
    let remaining = response.number("x-ratelimit-remaining");
    let limit = response.number("x-ratelimit-limit");
    match (remaining, limit) {
        (Some(0), Some(limit)) => Some(Limit {
            why: format!("GitHub's rate limit is used up (0 of {limit} requests left this hour)"),
            wait: reset_in(response),
            secondary: false,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;

    fn answer(status: u16, headers: &[(&'static str, &str)], body: &str) -> Response {
        let mut map = HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, v.parse().unwrap());
        }
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn secondary_limits_and_a_used_up_hour() {
        let secondary = of(&answer(403, &[("retry-after", "30")], "{}")).unwrap();
        assert_eq!((secondary.wait, secondary.secondary), (Some(30), true));
        let said = r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#;
        let worded = of(&answer(403, &[], said)).unwrap();
        assert_eq!((worded.wait, worded.secondary), (Some(60), true));
        let hour = of(&answer(
            429,
            &[("x-ratelimit-remaining", "0"), ("x-ratelimit-limit", "60")],
            "{}",
        ))
        .unwrap();
        assert_eq!(hour.wait, None);
        assert!(!hour.secondary);
        assert_eq!(
            hour.why,
            "GitHub's rate limit is used up (0 of 60 requests left this hour)"
        );
        let soon = (crate::time::unix_now() + 20).to_string();
        let hour = of(&answer(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-reset", &soon),
            ],
            "{}",
        ))
        .unwrap();
        assert!(matches!(hour.wait, Some(19..=20)), "{hour:?}");
        assert_eq!(
            of(&answer(403, &[("x-ratelimit-remaining", "10")], "{}")),
            None
        );
        assert_eq!(of(&answer(404, &[("retry-after", "5")], "{}")), None);
    }
}
