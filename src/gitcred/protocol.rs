//! git's credential protocol (`git help credential`): `key=value` lines on standard input, ended
//! by a blank line or the end of input, and the same form for the answer.
//!
//! Only the attributes nix-tokens needs are kept; unknown ones (`capability[]`, `wwwauth[]`, …)
//! are skipped, as git asks of helpers. Errors name the line number, never its text, since a
//! `password=` line holds a secret.

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The most input a request may hold; git's are a few hundred bytes.
pub const MAX_INPUT: usize = 64 * 1024;

/// What git asks about.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub protocol: Option<String>,
    /// The host, with `:port` when the URL names one.
    pub host: Option<String>,
    /// The repository path, sent only with `credential.useHttpPath`.
    pub path: Option<String>,
    pub username: Option<String>,
}

/// The credential handed back to git.
#[derive(Debug)]
pub struct Answer {
    pub username: String,
    pub password: Secret<String>,
    /// Unix seconds at which the password stops working, so that git keeps no stale copy.
    pub expires_at: Option<u64>,
}

fn bad(line: usize, what: &str) -> Error {
    Error::usage(format!(
        "git credential input line {line} {what}; nix-tokens git-credential reads git's credential protocol (see `git help credential`)"
    ))
}

/// Reads a request. A line without `=`, a NUL, or input that is not UTF-8 or too long is an error
/// naming the line; unknown attributes are skipped.
pub fn parse(input: &[u8]) -> Result<Request> {
    if input.len() > MAX_INPUT {
        return Err(Error::usage(format!(
            "git credential input is longer than {} KiB; nix-tokens git-credential reads git's credential protocol (see `git help credential`)",
            MAX_INPUT / 1024
        )));
    }
    let mut request = Request::default();
    for (i, raw) in input.split(|b| *b == b'\n').enumerate() {
        let number = i + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            break;
        }
        if raw.contains(&0) {
            return Err(bad(number, "contains a NUL byte"));
        }
        let Ok(line) = std::str::from_utf8(raw) else {
            return Err(bad(number, "is not UTF-8"));
        };
        let Some((key, value)) = line.split_once('=') else {
            return Err(bad(number, "is not `key=value`"));
        };
        let slot = match key {
            "protocol" => &mut request.protocol,
            "host" => &mut request.host,
            "path" => &mut request.path,
            "username" => &mut request.username,
            "url" => {
                apply_url(&mut request, value).map_err(|()| bad(number, "holds no usable URL"))?;
                continue;
            }
            _ => continue,
        };
        *slot = Some(value.to_owned());
    }
    Ok(request)
}

/// `url=…`: git's shorthand for the parts of a URL.
fn apply_url(request: &mut Request, value: &str) -> std::result::Result<(), ()> {
    let url = url::Url::parse(value).map_err(|_| ())?;
    let host = url.host_str().ok_or(())?;
    request.protocol = Some(url.scheme().to_owned());
    request.host = Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    });
    let path = url.path().trim_start_matches('/');
    request.path = (!path.is_empty()).then(|| path.to_owned());
    if !url.username().is_empty() {
        request.username = Some(url.username().to_owned());
    }
    Ok(())
}

/// The answer's text: `username=`, `password=` and, when known, `password_expiry_utc=`; `None`
/// when a value holds a line break or NUL, which would end the line early and let the rest be read
/// as other attributes (a hand-edited netrc can quote one into a password).
pub fn render(answer: &Answer) -> Option<Secret<String>> {
    let unsafe_value = |v: &str| v.contains(['\n', '\r', '\0']);
    if unsafe_value(&answer.username) || unsafe_value(answer.password.expose()) {
        return None;
    }
    let mut text = format!(
        "username={}\npassword={}\n",
        answer.username,
        answer.password.expose()
    );
    if let Some(at) = answer.expires_at {
        text.push_str(&format!("password_expiry_utc={at}\n"));
    }
    Some(Secret::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_git_sends() {
        let r = parse(
            b"capability[]=authtype\nprotocol=https\nhost=github.com\npath=my-org/repo.git\nwwwauth[]=Basic realm=\"GitHub\"\n\nhost=ignored\n",
        )
        .unwrap();
        assert_eq!(r.protocol.as_deref(), Some("https"));
        assert_eq!(r.host.as_deref(), Some("github.com"));
        assert_eq!(r.path.as_deref(), Some("my-org/repo.git"));
        assert_eq!(r.username, None);
        let r = parse(b"url=https://me@git.example.com:8443/a/b.git\r\n").unwrap();
        assert_eq!(r.host.as_deref(), Some("git.example.com:8443"));
        assert_eq!(r.path.as_deref(), Some("a/b.git"));
        assert_eq!(r.username.as_deref(), Some("me"));
        assert_eq!(parse(b"").unwrap(), Request::default());
    }

    #[test]
    fn malformed_input_names_the_line_but_never_its_text() {
        for (input, line) in [
            (&b"protocol=https\npassword ghp_secretsecret\n"[..], 2),
            (b"host=a\0password=ghp_secretsecret\n", 1),
            (b"protocol=https\nhost=\xff\xfeghp_secretsecret\n", 2),
            (b"url=not a url ghp_secretsecret\n", 1),
        ] {
            let err = parse(input).unwrap_err().to_string();
            assert!(err.contains(&format!("line {line} ")), "{err}");
            assert!(!err.contains("secretsecret"), "{err}");
        }
        assert!(parse(&vec![b'a'; MAX_INPUT + 1]).is_err());
    }

    #[test]
    fn renders_the_answer() {
        let text = render(&Answer {
            username: "oauth2".into(),
            password: "tok".into(),
            expires_at: Some(1_700_000_000),
        })
        .unwrap();
        assert_eq!(
            text.expose(),
            "username=oauth2\npassword=tok\npassword_expiry_utc=1700000000\n"
        );
        for (username, password) in [
            ("me", "tok\nhost=evil.example"),
            ("me\rx", "tok"),
            ("me", "a\0b"),
        ] {
            let answer = Answer {
                username: username.into(),
                password: password.into(),
                expires_at: None,
            };
            assert!(render(&answer).is_none());
        }
    }
}
