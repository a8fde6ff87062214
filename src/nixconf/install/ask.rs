//! Asking the installed Nix, with a time limit, whether the daemon trusts this user: `nix store
//! info --json`, or `store ping` before Nix 2.19 and on Lix, whose `trusted` key a 2.15+ daemon
//! fills in. What Nix it is, [`crate::nixconf::nix_version::installed`] asks, once a run.

use crate::nixconf::nix_version::{Implementation, NixVersion, run_nix as nix};

/// What the daemon says of this user's trust, when this Nix can ask and the daemon answers:
/// `nix store info --json` from Nix 2.19, `nix store ping --json` (its older name, which Lix
/// keeps) from 2.15.
pub fn trusted(version: &NixVersion) -> Option<bool> {
    let lix = version.implementation == Implementation::Lix;
    let verb = match version.number {
        n if n < (2, 15) => return None,
        n if n < (2, 19) || lix => "ping",
        _ => "info",
    };
    let out = nix(&[
        "--extra-experimental-features",
        "nix-command",
        "store",
        verb,
        "--json",
    ])?;
    parse_store_info(&out)
}

/// `trusted` of `nix store info --json` (a boolean, or 1/0 in some versions); absent against a
/// daemon too old to say, and for a store that is not a daemon.
pub fn parse_store_info(json: &str) -> Option<bool> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    if value.get("url").and_then(|u| u.as_str()) != Some("daemon")
        && !value
            .get("url")
            .and_then(|u| u.as_str())
            .is_some_and(|u| u.starts_with("unix://"))
    {
        return None;
    }
    match value.get("trusted")? {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::Number(n) => n.as_u64().map(|n| n != 0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_daemons_answer() {
        let info = |s: &str| parse_store_info(s);
        assert_eq!(
            info(r#"{"trusted":true,"url":"daemon","version":"2.34.8"}"#),
            Some(true)
        );
        assert_eq!(info(r#"{"trusted":0,"url":"daemon"}"#), Some(false));
        assert_eq!(info(r#"{"url":"unix:///s","trusted":false}"#), Some(false));
        assert_eq!(
            info(r#"{"url":"daemon"}"#),
            None,
            "an old daemon says nothing"
        );
        assert_eq!(info(r#"{"url":"local","trusted":true}"#), None, "no daemon");
        assert_eq!(info("not json"), None);
    }
}
