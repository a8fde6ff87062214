//! The expiry of a JWT-shaped credential (Attic and FlakeHub tokens, prefix.dev's minted
//! tokens): the `exp` claim of its payload, read locally for display and warnings only. The
//! signature is not checked: whoever accepts the token checks it; nix-tokens only says when the
//! token says it stops working.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The longest payload read (a JWT's claims are a few hundred bytes).
const MAX_PAYLOAD: usize = 16 * 1024;

/// The `exp` claim (unix seconds) of `token` when it is a JWT (`header.payload.signature`, each
/// base64url) whose payload is a JSON object with a numeric `exp`; `None` for anything else.
pub fn expiry(token: &str) -> Option<u64> {
    let mut parts = token.trim().split('.');
    let (Some(header), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if !header.starts_with("eyJ") || payload.len() > MAX_PAYLOAD {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?;
    exp.as_u64()
        .or_else(|| exp.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: &str) -> String {
        let enc = |s: &str| URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.c2ln",
            enc(r#"{"alg":"HS256","typ":"JWT"}"#),
            enc(claims)
        )
    }

    #[test]
    fn reads_exp_of_a_jwt_and_nothing_else() {
        assert_eq!(
            expiry(&jwt(r#"{"sub":"x","exp":1900000000}"#)),
            Some(1_900_000_000)
        );
        assert_eq!(expiry(&jwt(r#"{"exp":1900000000.5}"#)), Some(1_900_000_000));
        assert_eq!(expiry(&jwt(r#"{"sub":"x"}"#)), None);
        assert_eq!(expiry(&jwt(r#"{"exp":"soon"}"#)), None);
        assert_eq!(expiry(&jwt(r#"{"exp":-5}"#)), None);
        assert_eq!(expiry("ghp_abcdefghijklmnopqrstuvwxyz0123456789"), None);
        assert_eq!(expiry("a.b.c"), None);
        assert_eq!(expiry("eyJhbGciOiJub25lIn0.!!!.x"), None);
        assert_eq!(expiry(&format!("{}.extra", jwt(r#"{"exp":1}"#))), None);
    }
}
