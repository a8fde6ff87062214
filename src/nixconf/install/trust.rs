//! Whether the nix-daemon trusts this user, estimated as the daemon decides it (Nix's
//! `daemon.cc`, `matchUser`): a name in `trusted-users`, `@GROUP` for the user's primary group
//! or a group whose member list in /etc/group names the user, or `*`. `trusted-users` defaults to
//! `root`, `allowed-users` to `*`; a member of `build-users-group` may not connect at all.
//!
//! Only an estimate: the daemon read its configuration when it started, and resolves names
//! through NSS rather than /etc/passwd and /etc/group.

use std::path::Path;

use crate::nixconf::view::Setting;

/// Who this process runs as, in the daemon's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub name: String,
    /// The primary group's name.
    pub group: String,
    /// The groups whose member list names the user.
    pub member_of: Vec<String>,
}

/// What the daemon's configuration says of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Trusted,
    Untrusted,
    /// Not in `allowed-users` (or in the build users' group): the daemon refuses the connection.
    NotAllowed,
}

/// The users' lists of the system configuration: `trusted-users`, `allowed-users` (each
/// replaced by a later line, extended by its `extra-` form) and `build-users-group`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lists {
    pub trusted: Vec<String>,
    pub allowed: Vec<String>,
    pub build_group: Option<String>,
}

impl Lists {
    pub fn from_settings(settings: &[Setting]) -> Self {
        let mut lists = Lists {
            trusted: vec!["root".to_owned()],
            allowed: vec!["*".to_owned()],
            build_group: None,
        };
        for s in settings {
            let words = || s.value.split_whitespace().map(str::to_owned);
            match s.name.as_str() {
                "trusted-users" => lists.trusted = words().collect(),
                "extra-trusted-users" => lists.trusted.extend(words()),
                "allowed-users" => lists.allowed = words().collect(),
                "extra-allowed-users" => lists.allowed.extend(words()),
                "build-users-group" => lists.build_group = words().next(),
                _ => {}
            }
        }
        lists
    }

    /// The daemon's decision for `who`.
    pub fn verdict(&self, who: &Who) -> Verdict {
        if matches(&self.trusted, who) {
            return Verdict::Trusted;
        }
        let build_user = self.build_group.as_deref() == Some(who.group.as_str());
        if build_user || !matches(&self.allowed, who) {
            return Verdict::NotAllowed;
        }
        Verdict::Untrusted
    }
}

/// `matchUser`: `*`, the name, or `@GROUP` for the primary group or a listed membership.
fn matches(list: &[String], who: &Who) -> bool {
    list.iter().any(|entry| {
        entry == "*"
            || *entry == who.name
            || entry
                .strip_prefix('@')
                .is_some_and(|g| g == who.group || who.member_of.iter().any(|m| m == g))
    })
}

/// This process's user, from its uid and gid and the system's /etc/passwd and /etc/group; `None`
/// when /etc/passwd does not name the uid (the daemon would then match the number alone).
pub fn this_user() -> Who {
    let uid = rustix::process::getuid().as_raw();
    let gid = rustix::process::getgid().as_raw();
    let read = |p: &str| {
        crate::nixconf::seen::read_text(Path::new(p))
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    who(uid, gid, &read("/etc/passwd"), &read("/etc/group"))
}

/// [`this_user`] from the text of /etc/passwd and /etc/group.
pub fn who(uid: u32, gid: u32, passwd: &str, group: &str) -> Who {
    let fields = |line: &str| line.split(':').map(str::to_owned).collect::<Vec<_>>();
    let name = passwd
        .lines()
        .map(fields)
        .find(|f| f.len() > 2 && f[2] == uid.to_string())
        .map_or_else(|| uid.to_string(), |f| f[0].clone());
    let groups: Vec<Vec<String>> = group.lines().map(fields).filter(|f| f.len() > 3).collect();
    let primary = groups
        .iter()
        .find(|f| f[2] == gid.to_string())
        .map_or_else(|| gid.to_string(), |f| f[0].clone());
    let member_of = groups
        .iter()
        .filter(|f| f[3].split(',').any(|m| m == name))
        .map(|f| f[0].clone())
        .collect();
    Who {
        name,
        group: primary,
        member_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:100::/home/bob:/bin/sh\n";
    const GROUP: &str =
        "root:x:0:\nusers:x:100:\nalice:x:1000:\nwheel:x:10:alice\nnixbld:x:30000:\n";

    fn conf(lines: &[(&str, &str)]) -> Lists {
        let settings: Vec<Setting> = lines
            .iter()
            .enumerate()
            .map(|(i, (name, value))| Setting {
                file: "/etc/nix/nix.conf".into(),
                line: i + 1,
                name: (*name).into(),
                value: (*value).into(),
            })
            .collect();
        Lists::from_settings(&settings)
    }

    #[test]
    fn reads_the_user_and_the_groups_that_list_them() {
        let alice = who(1000, 1000, PASSWD, GROUP);
        assert_eq!(alice.name, "alice");
        assert_eq!(alice.group, "alice");
        assert_eq!(alice.member_of, ["wheel"]);
        let unknown = who(4242, 4242, PASSWD, GROUP);
        assert_eq!(
            (unknown.name.as_str(), unknown.group.as_str()),
            ("4242", "4242")
        );
    }

    #[test]
    fn decides_as_the_daemon_does() {
        let root = who(0, 0, PASSWD, GROUP);
        let alice = who(1000, 1000, PASSWD, GROUP);
        let bob = who(1001, 100, PASSWD, GROUP);
        let default = conf(&[]);
        assert_eq!(default.verdict(&root), Verdict::Trusted);
        assert_eq!(default.verdict(&alice), Verdict::Untrusted);
        let wheel = conf(&[("trusted-users", "root @wheel")]);
        assert_eq!(wheel.verdict(&alice), Verdict::Trusted);
        assert_eq!(wheel.verdict(&bob), Verdict::Untrusted);
        let primary = conf(&[("trusted-users", "@users")]);
        assert_eq!(primary.verdict(&bob), Verdict::Trusted);
        // Root is trusted by the default only, as in the daemon.
        assert_eq!(primary.verdict(&root), Verdict::Untrusted);
        let star = conf(&[("trusted-users", "alice"), ("trusted-users", "*")]);
        assert_eq!(star.verdict(&bob), Verdict::Trusted);
        let extra = conf(&[("trusted-users", "root"), ("extra-trusted-users", "bob")]);
        assert_eq!(extra.verdict(&bob), Verdict::Trusted);
        let replaced = conf(&[("trusted-users", "bob"), ("trusted-users", "root")]);
        assert_eq!(replaced.verdict(&bob), Verdict::Untrusted);
        let allowed = conf(&[("allowed-users", "@wheel")]);
        assert_eq!(allowed.verdict(&bob), Verdict::NotAllowed);
        assert_eq!(allowed.verdict(&alice), Verdict::Untrusted);
        let build = conf(&[("build-users-group", "users")]);
        assert_eq!(build.verdict(&bob), Verdict::NotAllowed);
    }
}
