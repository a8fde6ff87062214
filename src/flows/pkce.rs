//! Proof Key for Code Exchange (RFC 7636, method S256) and the random `state` of an
//! authorization request, both drawn from the operating system's random source.

use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// A verifier, kept until the code is exchanged, and the challenge sent with the request.
pub struct Pkce {
    pub verifier: Secret<String>,
    pub challenge: String,
}

/// `n` random bytes, base64url-encoded without padding.
pub fn random_text(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::failed("the operating system gave no random numbers"))?;
    Ok(base64url(&bytes))
}

impl Pkce {
    /// A fresh pair: 32 random bytes make a 43-character verifier, the shortest RFC 7636 allows
    /// and as strong as it gets.
    pub fn new() -> Result<Self> {
        let verifier = random_text(32)?;
        Ok(Pkce {
            challenge: challenge(&verifier),
            verifier: Secret::new(verifier),
        })
    }
}

/// `BASE64URL-NOPAD(SHA256(verifier))`.
pub fn challenge(verifier: &str) -> String {
    base64url(digest(&SHA256, verifier.as_bytes()).as_ref())
}

/// Base64url without padding (RFC 4648 §5).
pub fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example_challenge() {
        // RFC 7636 Appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn base64url_has_no_padding() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn verifiers_are_43_unreserved_characters_and_differ() {
        let (a, b) = (Pkce::new().unwrap(), Pkce::new().unwrap());
        let v = a.verifier.expose();
        assert_eq!(v.len(), 43);
        assert!(
            v.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"-._~".contains(&c))
        );
        assert_ne!(v, b.verifier.expose());
        assert_eq!(a.challenge, challenge(v));
    }
}
