//! URLs as nix-tokens shows them: the one rule for a credential inside a URL. A password in the
//! user part (`https://ci:****@cache/…`), a user part that is a token of a known kind
//! (`https://ghp_****@github.com/…`), and the value of every query parameter whose name looks like
//! a credential (`?token=****`, `?private_token=****`) are masked; everything else is kept as it
//! was written, so that the URL is still recognisable. Every URL printed, put in JSON, or written
//! to a step summary or annotation passes through [`mask_url`].

use super::kind_prefix;

const MASK: &str = "****";

/// Words that make a query parameter's name a credential's (lower-cased, `-` read as `_`):
/// `token`, `private_token`, `access_token`, `password`, `api_key`, `secret`, `auth`,
/// `X-Amz-Signature`, `X-Amz-Credential`, `session`, …
const CREDENTIAL_WORDS: &[&str] = &[
    "token",
    "passw",
    "passphrase",
    "pwd",
    "secret",
    "key",
    "auth",
    "sig",
    "credential",
    "session",
];

/// Whether a query parameter named `name` (already decoded) holds a credential.
fn is_credential_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    name == "pass" || name == "pw" || CREDENTIAL_WORDS.iter().any(|w| name.contains(w))
}

/// `url` with the credentials in it masked (see the module's documentation). Text that is not a
/// URL comes back as it was, but for a `?…` part, which is read as a query all the same.
pub fn mask_url(url: &str) -> String {
    let (authority_start, authority_end) = match url.find("://") {
        Some(i) => {
            let start = i + 3;
            let end = url[start..]
                .find(['/', '?', '#'])
                .map_or(url.len(), |e| start + e);
            (start, end)
        }
        None => (0, 0),
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..authority_start]);
    out.push_str(&mask_authority(&url[authority_start..authority_end]));
    let rest = &url[authority_end..];
    let Some(q) = rest.find('?') else {
        out.push_str(rest);
        return out;
    };
    out.push_str(&rest[..=q]);
    let query = &rest[q + 1..];
    let (query, fragment) = query.split_at(query.find('#').unwrap_or(query.len()));
    let pairs: Vec<String> = query.split('&').map(mask_pair).collect();
    out.push_str(&pairs.join("&"));
    out.push_str(fragment);
    out
}

/// `user:password@host` with the password masked, or a user part that is a token.
fn mask_authority(authority: &str) -> String {
    let Some(at) = authority.rfind('@') else {
        return authority.to_owned();
    };
    let (userinfo, host) = authority.split_at(at);
    let shown = match userinfo.split_once(':') {
        Some((user, password)) if !password.is_empty() => format!("{user}:{MASK}"),
        Some(_) => userinfo.to_owned(),
        None => match kind_prefix(userinfo) {
            Some(kind) => format!("{kind}{MASK}"),
            None => userinfo.to_owned(),
        },
    };
    format!("{shown}{host}")
}

/// `name=value`, its value masked when its name is a credential's.
fn mask_pair(pair: &str) -> String {
    let Some((name, value)) = pair.split_once('=') else {
        return pair.to_owned();
    };
    let decoded: String = url::form_urlencoded::parse(name.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default();
    if value.is_empty() || !is_credential_name(&decoded) {
        return pair.to_owned();
    }
    format!("{name}={MASK}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_credential_queries_are_masked() {
        assert_eq!(
            mask_url("https://ci:s3cret@cache.example/x"),
            "https://ci:****@cache.example/x"
        );
        assert_eq!(
            mask_url("https://c.example/?priority=30&token=abc&private_token=d#frag"),
            "https://c.example/?priority=30&token=****&private_token=****#frag"
        );
        assert_eq!(
            mask_url("s3://bucket?X-Amz-Signature=ab&region=eu&access%5Ftoken=x&API-KEY=k"),
            "s3://bucket?X-Amz-Signature=****&region=eu&access%5Ftoken=****&API-KEY=****"
        );
        assert_eq!(
            mask_url("git+https://ghp_abcdefghijklmnop@github.com/o/r?ref=main"),
            "git+https://ghp_****@github.com/o/r?ref=main"
        );
        assert_eq!(
            mask_url("file+http://h/f?Password=p&pass=q&pw=r&passive=1"),
            "file+http://h/f?Password=****&pass=****&pw=****&passive=1"
        );
    }

    #[test]
    fn other_urls_are_kept_as_written() {
        for url in [
            "https://cache.nixos.org",
            "https://git@host:8443/a/b?ref=main&rev=0c9a",
            "https://user:@host/x?token=",
            "github:NixOS/nixpkgs/nixos-unstable?host=github.example",
            "not a url at all",
            "https://host/path@with/at?a=b=c&&x",
        ] {
            assert_eq!(mask_url(url), url);
        }
    }
}
