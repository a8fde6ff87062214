//! A download's question, as Nix's curl asks it: a `HEAD` (or a one-byte `GET` where `HEAD` is
//! refused) with the netrc entry, following redirects as curl does, judged where it ends.

use base64::Engine;
use reqwest::Url;

use super::probe::{Found, How};
use crate::http::{self, Http, Unreachable};
use crate::providers::shared::RepoAccess;
use crate::secret::Secret;

/// The most redirects followed, as Nix sets curl's `CURLOPT_MAXREDIRS`.
const MAX_REDIRECTS: usize = 10;

/// Nix's curl follows every redirect (`CURLOPT_FOLLOWLOCATION`), and Nix judges the answer it ends
/// at: so does this. `url` is asked with `basic` as curl sends a netrc entry; a redirect is
/// followed (the [`Http`] client follows those within the same origin itself), with the
/// credential sent again only to `url`'s own origin, as [`Http`] sends credentials, never to
/// another host or port. The final answer decides: a success is readable, except that an HTML
/// page (such as a login page a server redirects to) where Nix expects an `archive` is not:
/// Nix cannot unpack it and fails there.
pub async fn download(
    http: &Http,
    url: &Url,
    basic: Option<(String, Secret<String>)>,
    archive: bool,
) -> Found {
    let header = basic.as_ref().map(|(login, password)| {
        let pair = format!("{login}:{}", password.expose());
        Secret::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    });
    let mut at = url.clone();
    let mut moved = None;
    let mut used = false;
    for _ in 0..=MAX_REDIRECTS {
        let sent = at.origin() == url.origin() && header.is_some();
        used |= sent;
        let auth = header
            .as_ref()
            .filter(|_| sent)
            .map(|h| ("authorization", h));
        let response = match head_or_first_byte(http, &at, auth).await {
            Ok(response) => response,
            Err(Unreachable(why)) => {
                let why = match &moved {
                    Some(to) => format!("{why} at {to}, which it redirects to"),
                    None => why,
                };
                return Found::new(How::Download, RepoAccess::Unreachable(why).into());
            }
        };
        if !response.status.is_redirection() {
            return judge(&response, (sent, used), archive, moved);
        }
        let Some(next) = response
            .headers
            .get("location")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| at.join(l).ok())
            .filter(|l| matches!(l.scheme(), "http" | "https"))
        else {
            let why = format!(
                "answered HTTP {} without a place to go",
                response.status.as_u16()
            );
            return Found::new(How::Download, RepoAccess::Unreachable(why).into());
        };
        let host = next.host_str().unwrap_or("");
        moved = Some(crate::ui::printable(&match next.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        }));
        at = next;
    }
    let why = format!("it redirects more than {MAX_REDIRECTS} times, where Nix gives up");
    Found::new(How::Download, RepoAccess::Unreachable(why).into())
}

/// A `HEAD` of `url`, or a one-byte `GET` where `HEAD` is refused.
async fn head_or_first_byte(
    http: &Http,
    url: &Url,
    auth: Option<(&'static str, &Secret<String>)>,
) -> std::result::Result<http::Response, Unreachable> {
    let answer = http.head(url, auth).await?;
    match answer.status.as_u16() {
        405 | 501 => http.get_first_byte(url, auth).await,
        _ => Ok(answer),
    }
}

/// What the answer a download ends at means: `sent` tells whether that last request carried the
/// netrc entry, `used` whether any did; `moved` names where a redirect took it.
fn judge(
    response: &http::Response,
    (sent, used): (bool, bool),
    archive: bool,
    moved: Option<String>,
) -> Found {
    let code = response.status.as_u16();
    let html = response
        .headers
        .get("content-type")
        .and_then(|t| t.to_str().ok())
        .map(|t| {
            t.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|t| t == "text/html" || t == "application/xhtml+xml");
    let access = match code {
        200..=299 if archive && html => RepoAccess::Forbidden(
            "it ends at an HTML page (a login page?), which Nix cannot unpack".into(),
        ),
        200..=299 if used => RepoAccess::Private,
        200..=299 => RepoAccess::Public,
        401 if sent => RepoAccess::Refused(format!("HTTP {code}")),
        403 if sent => RepoAccess::Forbidden(format!("HTTP {code}")),
        401 | 403 | 404 | 410 => RepoAccess::Hidden,
        _ => RepoAccess::Unreachable(format!("answered HTTP {code}")),
    };
    Found {
        note: moved.map(|to| format!("it redirects to {to}")),
        ..Found::new(How::Download, access.into())
    }
}
