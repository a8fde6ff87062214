//! Which lines of a user's files are tokens: the `access-tokens` pairs of the token file and
//! nix.conf, and the netrc entries of the hosts the user logged in to, each checked as `set-token`
//! checks a token. Pure: the caller reads the files.

use std::path::Path;

use crate::error::{Error, Result};
use crate::nixconf::conf::{ConfFile, Entry};
use crate::nixconf::hosts::{HostInfo, Hosts};
use crate::nixconf::netrc::Netrc;
use crate::nixconf::tokens::{
    ACCESS_TOKENS, EXTRA_ACCESS_TOKENS, TokenMap, check_login, check_token, key_host, normalize_key,
};
use crate::secret::Secret;

/// One netrc entry to copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetrcLogin {
    pub host: String,
    pub login: String,
    pub password: Secret<String>,
}

/// The validated token lines of the user's files.
#[derive(Debug, Default)]
pub struct Picked {
    pub tokens: TokenMap,
    pub netrc: Vec<NetrcLogin>,
    /// What the user's nix-tokens remembers about the hosts imported (never pixi's entry).
    pub hosts: Vec<(String, HostInfo)>,
}

/// The user's files, as read.
pub struct Sources<'a> {
    pub token_file: (&'a Path, &'a str),
    pub nix_conf: &'a str,
    /// The netrc the user's Nix reads, and whether nix-tokens chose it (then every entry is one of
    /// its logins; in a netrc the user named, only the hosts nix-tokens logged in to count).
    pub netrc: Option<(&'a Path, &'a str, bool)>,
    pub hosts: &'a Hosts,
}

fn refused(file: &Path, what: &str) -> Error {
    Error::failed(format!(
        "{} {what}; nix-tokens imports only tokens, so nothing was imported: remove that line and run the import again",
        file.display()
    ))
}

/// The token lines of `sources`, each checked as `set-token` checks a token; a token file line
/// that is not a token, or a token or netrc entry Nix would misread, refuses the whole import.
pub fn pick(sources: &Sources) -> Result<Picked> {
    let (token_path, token_text) = sources.token_file;
    let mut picked = Picked::default();
    let mut lines = Vec::new();
    for (i, line) in ConfFile::parse(token_text).entries() {
        match line {
            Entry::Setting { name, value }
                if name == ACCESS_TOKENS || name == EXTRA_ACCESS_TOKENS =>
            {
                add_pairs(&mut TokenMap::default(), &value, token_path, i + 1)?;
                lines.push((name, value));
            }
            // nix-tokens writes it to point Nix at its netrc, which is read below.
            Entry::Setting { name, .. } if name == "netrc-file" => {}
            Entry::Blank => {}
            Entry::Setting { name, .. } => {
                let name = crate::ui::printable(&name);
                return Err(refused(
                    token_path,
                    &format!("line {} sets `{name}`, which is not a token", i + 1),
                ));
            }
            Entry::Include { .. } => {
                return Err(refused(
                    token_path,
                    &format!("line {} includes another file", i + 1),
                ));
            }
            Entry::Invalid { reason } => {
                return Err(refused(
                    token_path,
                    &format!("line {} is not valid Nix configuration ({reason})", i + 1),
                ));
            }
        }
    }
    // The tokens as the token file sets them (a later `access-tokens` line wins, as in Nix), and
    // the keys a later line hid, as nix-tokens keeps them.
    for (name, value) in &lines {
        picked.tokens.apply(name, value);
    }
    for (_, value) in &lines {
        for (k, t) in TokenMap::parse(value).iter() {
            picked.tokens.insert_if_absent(k, t.clone());
        }
    }
    // Tokens the user's nix.conf holds itself (before nix-tokens moved them); nothing else of it.
    for (i, name, value) in ConfFile::parse(sources.nix_conf).settings() {
        if name == ACCESS_TOKENS || name == EXTRA_ACCESS_TOKENS {
            let mut map = TokenMap::default();
            add_pairs(&mut map, &value, Path::new("the user's nix.conf"), i + 1)?;
            for (k, t) in map.iter() {
                picked.tokens.insert_if_absent(k, t.clone());
            }
        }
    }
    if let Some((path, text, ours)) = sources.netrc {
        picked.netrc = netrc_logins(path, text, ours, sources.hosts)?;
    }
    let imported = |host: &str| {
        picked.tokens.keys().any(|k| key_host(k) == host)
            || picked.netrc.iter().any(|n| n.host == host)
    };
    picked.hosts = sources
        .hosts
        .hosts
        .iter()
        .filter(|(host, _)| imported(host))
        .map(|(host, info)| {
            (
                host.clone(),
                HostInfo {
                    pixi: None,
                    ..info.clone()
                },
            )
        })
        .collect();
    Ok(picked)
}

/// Adds the `KEY=TOKEN` pairs of one value, refusing a key that is not a host (without repeating
/// it: it may be a token) and a token Nix would misread.
fn add_pairs(map: &mut TokenMap, value: &str, file: &Path, line: usize) -> Result<()> {
    for (key, token) in TokenMap::parse(value).iter() {
        if normalize_key(key).ok().as_deref() != Some(key) {
            return Err(refused(
                file,
                &format!("line {line} has a pair whose key is not a host"),
            ));
        }
        check_token(token, key).map_err(|_| {
            refused(
                file,
                &format!("line {line} has a token for {key} that Nix would misread"),
            )
        })?;
        map.insert_if_absent(key, token.clone());
    }
    Ok(())
}

fn netrc_logins(path: &Path, text: &str, ours: bool, hosts: &Hosts) -> Result<Vec<NetrcLogin>> {
    let netrc = Netrc::parse(text);
    if let Some(problem) = netrc.problem() {
        return Err(refused(
            path,
            &format!("{problem}, so curl would misread it"),
        ));
    }
    let mut out: Vec<NetrcLogin> = Vec::new();
    for entry in netrc.entries() {
        let Some(host) = entry.machine.as_deref() else {
            continue; // `default` answers every host: never a login of one.
        };
        if !(ours || hosts.get(host).is_some()) || out.iter().any(|n| n.host == host) {
            continue;
        }
        let bad = |what: &str| refused(path, &format!("has an entry for {host} {what}"));
        if normalize_key(host).ok().as_deref() != Some(host) || host.contains('/') {
            return Err(refused(path, "has a `machine` that is not a host"));
        }
        let login = entry.login.clone().unwrap_or_default();
        if !login.is_empty() && check_login(&login).is_err() {
            return Err(bad("whose login curl would misread"));
        }
        let Some(password) = entry.password.clone() else {
            continue;
        };
        if check_token(&password, host).is_err() || password.expose().len() > 4000 {
            return Err(bad("whose password curl would misread"));
        }
        out.push(NetrcLogin {
            host: host.to_owned(),
            login,
            password,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GH: &str = "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn hosts(names: &[&str]) -> Hosts {
        let mut h = Hosts::default();
        for n in names {
            h.hosts.insert(
                (*n).to_owned(),
                HostInfo {
                    provider: "cache".into(),
                    ..HostInfo::default()
                },
            );
        }
        h
    }

    fn pick_from(
        token_file: &str,
        nix_conf: &str,
        netrc: Option<(&str, bool)>,
        h: &Hosts,
    ) -> Result<Picked> {
        pick(&Sources {
            token_file: (Path::new("/home/a/access-tokens.conf"), token_file),
            nix_conf,
            netrc: netrc.map(|(t, o)| (Path::new("/home/a/netrc"), t, o)),
            hosts: h,
        })
    }

    #[test]
    fn picks_tokens_and_the_logged_in_netrc_hosts() {
        let tf = format!(
            "# header\nextra-access-tokens = github.com={GH} gitlab.com/grp=PAT:glpat-x1\nnetrc-file = /home/a/netrc\n"
        );
        let conf = "substituters = https://x\naccess-tokens = git.example=tok1 github.com=older\n";
        let netrc = "machine cache.example login u password p1\nmachine other.example password p2\ndefault password d\n";
        let h = hosts(&["cache.example", "github.com"]);
        let p = pick_from(&tf, conf, Some((netrc, false)), &h).unwrap();
        let keys: Vec<&str> = p.tokens.keys().collect();
        assert_eq!(keys, ["github.com", "gitlab.com/grp", "git.example"]);
        assert_eq!(p.tokens.get("github.com").unwrap().expose(), GH);
        assert_eq!(p.netrc.len(), 1);
        assert_eq!(
            (p.netrc[0].host.as_str(), p.netrc[0].login.as_str()),
            ("cache.example", "u")
        );
        let hosts: Vec<&str> = p.hosts.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(hosts, ["cache.example", "github.com"]);
        // nix-tokens' own netrc: every entry is one of its logins.
        let p = pick_from("", "", Some((netrc, true)), &Hosts::default()).unwrap();
        assert_eq!(p.netrc.len(), 2);
    }

    #[test]
    fn a_later_access_tokens_line_wins_as_in_nix() {
        let tf = "extra-access-tokens = a.example=old1 b.example=keep1\naccess-tokens = a.example=new1\n";
        let p = pick_from(tf, "", None, &Hosts::default()).unwrap();
        assert_eq!(p.tokens.get("a.example").unwrap().expose(), "new1");
        assert_eq!(p.tokens.get("b.example").unwrap().expose(), "keep1");
    }

    #[test]
    fn refuses_every_line_that_is_not_a_token() {
        let h = Hosts::default();
        let err = |tf: &str, netrc: Option<&str>| {
            pick_from(tf, "", netrc.map(|n| (n, true)), &h)
                .unwrap_err()
                .to_string()
        };
        let e = err(
            "access-tokens = github.com=t\npost-build-hook = /tmp/evil\n",
            None,
        );
        assert!(
            e.contains("line 2 sets `post-build-hook`, which is not a token"),
            "{e}"
        );
        assert!(e.contains("nothing was imported"), "{e}");
        assert!(err("!include /tmp/more.conf\n", None).contains("line 1 includes another file"));
        let e = err("access-tokens = ghp_notahostnotahostnotahost=x\n", None);
        assert!(
            e.contains("key is not a host") && !e.contains("ghp_notahost"),
            "{e}"
        );
        assert!(err("access-tokens = github.com=\"q\"\n", None).contains("Nix would misread"));
        assert!(err("", Some("machine h.example password \"open\n")).contains("not closed"));
        assert!(err("", Some("machine Bad/Host password p\n")).contains("not a host"));
        // The user's nix.conf may set anything; only its tokens are read.
        let p = pick_from("", "post-build-hook = /tmp/evil\n", None, &h).unwrap();
        assert!(p.tokens.keys().next().is_none());
    }
}
