//! `status`'s binary caches: every substituter Nix reads, the credential the process that
//! downloads from it will send (from the nix-daemon's netrc on a multi-user install, else the
//! user's), and what the cache says to that: `valid`, `invalid`, `public` (no token needed),
//! `missing` (private, and no credential where it is read), `unreachable`, or `unverified`; and
//! whether Nix trusts a key for it and the priority it has (see [`super::trust`]).

use std::path::PathBuf;

use reqwest::Url;
use serde::Serialize;

use super::trust;
use crate::http::{self, Http};
use crate::nixconf::hosts::Hosts;
use crate::nixconf::install::Install;
use crate::nixconf::netrc::Netrc;
use crate::nixconf::view::Setting;
use crate::ops::statuses::CacheStatus;
use crate::providers::Registry;
use crate::providers::cache::{CacheAnswer, ask_info};
use crate::secret::{Secret, mask_url};

/// The settings that name substituters.
const SETTINGS: &[&str] = &[
    "substituters",
    "extra-substituters",
    "trusted-substituters",
    "extra-trusted-substituters",
];

/// One substituter as `status` reports it; the JSON keys are documented in docs/json.md.
#[derive(Debug, Serialize)]
pub struct CacheRow {
    kind: &'static str,
    pub host: String,
    pub url: String,
    pub status: CacheStatus,
    /// The netrc the downloading process reads.
    pub source: PathBuf,
    pub message: Option<String>,
    /// The trusted public key that is this cache's (`None`: Nix refuses its paths unless another
    /// trusted key signed them); see [`super::trust`].
    pub public_key: Option<String>,
    /// The priority Nix gives the cache (lower wins), when known: the URL's `?priority=`, else
    /// the cache's `nix-cache-info`, else 50 for a cache that answered without one.
    pub priority: Option<u32>,
    /// Whether the nix-daemon ignores this substituter for this user: the user is not trusted and
    /// only the user's own files name it (the system's `trusted-substituters` do not).
    pub ignored_by_daemon: bool,
    /// The URL as the configuration writes it; `url` is how it is shown, its credentials masked.
    #[serde(skip)]
    pub written: String,
    /// The login and token that process will send, when it has one and may send it (https, or
    /// plain http to this machine).
    #[serde(skip)]
    credential: Option<(String, Secret<String>)>,
    #[serde(skip)]
    parsed: Option<Url>,
}

/// Every substituter `settings` name, once each, in their order.
pub fn substituters(settings: &[Setting]) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for s in settings
        .iter()
        .filter(|s| SETTINGS.contains(&s.name.as_str()))
    {
        for url in s.value.split_whitespace() {
            let url = url.trim_end_matches('/').to_owned();
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
    }
    urls
}

/// The rows of `urls`, with the credential the downloading process of `install` will send.
pub fn rows(urls: &[String], install: &Install) -> Vec<CacheRow> {
    let netrc = crate::nixconf::seen::read_text(&install.netrc)
        .ok()
        .flatten()
        .map(|text| Netrc::parse(&text))
        .unwrap_or_default();
    urls.iter()
        .map(|url| {
            let parsed = Url::parse(url).ok();
            let host = parsed
                .as_ref()
                .and_then(|u| u.host_str())
                .unwrap_or_default()
                .to_owned();
            let https = parsed
                .as_ref()
                .is_some_and(|u| http::base_url(&host, Some(u.as_str())).is_ok());
            let entry = netrc
                .get(&host)
                .and_then(|e| Some((e.login.clone().unwrap_or_default(), e.password.clone()?)));
            let http = parsed
                .as_ref()
                .is_some_and(|u| u.scheme().starts_with("http"));
            let message = match (http, https, &entry) {
                (false, _, _) => Some("not an HTTP cache; not checked".to_owned()),
                (true, false, Some(_)) => Some(format!(
                    "plain http: nix-tokens sends it no credential, but Nix's curl sends the one in {} unencrypted; use https",
                    install.netrc.display()
                )),
                (true, false, None) => Some("plain http: nix-tokens sends it no credential".to_owned()),
                (true, true, _) => None,
            };
            let credential = entry.filter(|_| https);
            CacheRow {
                kind: "substituter",
                host,
                url: mask_url(url),
                written: url.clone(),
                status: CacheStatus::Unverified,
                source: install.netrc.clone(),
                message,
                public_key: None,
                priority: trust::url_priority(url),
                ignored_by_daemon: false,
                credential,
                parsed: parsed.filter(|_| http),
            }
        })
        .collect()
}

/// Finds each cache's trusted public key among those `settings` trust.
pub fn find_keys(rows: &mut [CacheRow], settings: &[Setting], hosts: &Hosts) {
    let keys = trust::trusted_keys(settings);
    for row in rows {
        row.public_key = trust::key_for(&row.written, &keys, hosts);
    }
}

impl CacheRow {
    /// What Nix does with the cache's paths when it trusts no key for it.
    pub fn key_note(&self) -> Option<String> {
        self.public_key.is_none().then(|| {
            format!(
                "Nix trusts no public key for {}: it refuses the cache's paths unless a key it trusts signed them (log in with the cache's key: `nix-tokens login {} --public-key NAME:KEY`)",
                self.url, self.host
            )
        })
    }
}

/// Asks each cache, all at once: anonymously, then with the credential when it refuses.
pub async fn check(
    http: &Http,
    rows: &mut [CacheRow],
    install: &Install,
    (registry, remembered): (&Registry, &Hosts),
) {
    let asks = rows.iter().map(|row| async move {
        let url = row.parsed.as_ref()?;
        let (anonymous, stated) = ask_info(http, url, None).await;
        let (with_token, stated) = match (&anonymous, &row.credential) {
            (CacheAnswer::Refused(_), Some((login, token))) => {
                let (answer, stated) = ask_info(http, url, Some((login, token))).await;
                (Some(answer), stated)
            }
            _ => (None, stated),
        };
        Some((anonymous, with_token, stated))
    });
    let answers = futures_util::future::join_all(asks).await;
    for (row, answer) in rows.iter_mut().zip(answers) {
        let Some((anonymous, with_token, stated)) = answer else {
            continue;
        };
        let answered = matches!(
            (&anonymous, &with_token),
            (CacheAnswer::Cache, _) | (_, Some(CacheAnswer::Cache))
        );
        if answered {
            row.priority = row.priority.or(stated).or(Some(trust::DEFAULT_PRIORITY));
        }
        let (status, message) =
            verdict(row, anonymous, with_token, install, (registry, remembered));
        row.status = status;
        row.message = message.or(row.message.take());
    }
}

/// The status and message of a cache's answers.
fn verdict(
    row: &CacheRow,
    anonymous: CacheAnswer,
    with_token: Option<CacheAnswer>,
    install: &Install,
    providers: (&Registry, &Hosts),
) -> (CacheStatus, Option<String>) {
    match (anonymous, with_token) {
        (CacheAnswer::Cache, _) if row.credential.is_some() => (
            CacheStatus::Public,
            Some("public: Nix needs no token for it".to_owned()),
        ),
        (CacheAnswer::Cache, _) => (CacheStatus::Public, None),
        (CacheAnswer::Unreachable(why), _) => (CacheStatus::Unreachable, Some(why)),
        (CacheAnswer::Refused(_), Some(CacheAnswer::Cache)) => (CacheStatus::Valid, None),
        (CacheAnswer::Refused(_), Some(CacheAnswer::Refused(why))) => (
            CacheStatus::Invalid,
            Some(format!(
                "{why}: the credential for {} in {} does not work",
                row.host,
                row.source.display()
            )),
        ),
        (CacheAnswer::Refused(_), Some(CacheAnswer::Unreachable(why))) => {
            (CacheStatus::Unreachable, Some(why))
        }
        (CacheAnswer::Refused(why), None) => (
            CacheStatus::Missing,
            Some(missing(row, &why, install, providers)),
        ),
    }
}

/// Why a private cache gets no credential, and the command that gives it one.
fn missing(
    row: &CacheRow,
    why: &str,
    install: &Install,
    (registry, remembered): (&Registry, &Hosts),
) -> String {
    let reader = if install.daemon {
        "which the nix-daemon reads"
    } else {
        "which Nix reads"
    };
    let provider = registry
        .serving(&row.host, remembered)
        .filter(|p| p.forge().serves_substitutes())
        .map_or("nix-cache", |p| p.name.as_str());
    let sudo = if !install.reads_user_settings() {
        "sudo nix-tokens --system"
    } else {
        "nix-tokens"
    };
    format!(
        "private ({why}), and {} ({reader}) has no credential for {}; run `{sudo} login {} --provider {provider}`",
        row.source.display(),
        row.host,
        row.host
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(name: &str, value: &str) -> Setting {
        Setting {
            file: "/etc/nix/nix.conf".into(),
            line: 1,
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn every_setting_that_names_substituters_counts_once() {
        let settings = [
            setting("substituters", "https://cache.nixos.org/ https://a.example"),
            setting("max-jobs", "4"),
            setting("extra-substituters", "https://a.example/ s3://bucket"),
            setting("trusted-substituters", "https://t.example"),
            setting("extra-trusted-substituters", "http://10.0.0.1:5000"),
        ];
        assert_eq!(
            substituters(&settings),
            [
                "https://cache.nixos.org",
                "https://a.example",
                "s3://bucket",
                "https://t.example",
                "http://10.0.0.1:5000"
            ]
        );
    }

    #[test]
    fn plain_http_and_other_stores_get_no_credential() {
        let dir = tempfile::tempdir().unwrap();
        let netrc = dir.path().join("netrc");
        std::fs::write(
            &netrc,
            "machine a.example password ta\nmachine 10.0.0.1 password tb\nmachine 127.0.0.1 login u password tc\n",
        )
        .unwrap();
        let install = Install::example(true, netrc.clone());
        let urls = [
            "https://a.example".to_owned(),
            "http://10.0.0.1:5000".to_owned(),
            "http://127.0.0.1:8080".to_owned(),
            "s3://bucket".to_owned(),
        ];
        let rows = rows(&urls, &install);
        assert_eq!(rows[0].priority, None);
        let sent: Vec<Option<(&str, &str)>> = rows
            .iter()
            .map(|r| {
                r.credential
                    .as_ref()
                    .map(|(l, t)| (l.as_str(), t.expose().as_str()))
            })
            .collect();
        assert_eq!(sent, [Some(("", "ta")), None, Some(("u", "tc")), None]);
        let warned = rows[1].message.as_deref().unwrap_or_default();
        assert!(
            warned.contains("but Nix's curl sends the one in"),
            "{warned}"
        );
        assert!(rows[3].parsed.is_none());
        assert!(
            rows.iter()
                .all(|r| r.source == netrc && r.kind == "substituter")
        );
    }
}
