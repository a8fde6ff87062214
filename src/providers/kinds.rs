//! The kinds of provider nix-tokens knows, and the module that implements each. This is the one
//! place kinds are listed: a new kind is a module implementing [`Forge`], its variant in
//! [`Kind`], and its line in [`ALL`] (whose order is the order detection tries them in).

use super::forge::Forge;
use super::provider::{Kind, Provider};
use super::{cache, gitea, github, gitlab, oidc, sourcehut};

/// Every kind, in the order detection asks them: GitHub Enterprise and GitLab mark their answers
/// plainly; Forgejo before Gitea, since Forgejo answers Gitea's endpoint too; then a binary cache;
/// OpenID Connect last, since a forge may also be an issuer.
pub const ALL: &[&dyn Forge] = &[
    &github::Github,
    &gitlab::Gitlab,
    &gitea::FORGEJO,
    &gitea::GITEA,
    &cache::NixCache,
    &oidc::Oidc,
    &sourcehut::Sourcehut,
];

impl Kind {
    /// The implementation of this kind.
    pub fn forge(self) -> &'static dyn Forge {
        *ALL.iter()
            .find(|f| f.kind() == self)
            .expect("every kind is listed in ALL")
    }

    /// The name provider files use for the kind, which is also its built-in provider's.
    pub fn name(self) -> &'static str {
        self.forge().name()
    }
}

impl Provider {
    /// What this provider's kind does.
    pub fn forge(&self) -> &'static dyn Forge {
        self.kind.forge()
    }
}

/// The kind whose own format `token` (as stored for Nix) is in, if any (GitLab's `PAT:`).
pub fn claiming(token: &str) -> Option<&'static dyn Forge> {
    ALL.iter().copied().find(|f| f.claims_token(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What masks show of a token is the kinds' facts: `secret`'s copy holds exactly them.
    #[test]
    fn masks_know_exactly_the_kinds_markers_and_prefixes() {
        let sorted = |mut v: Vec<&'static str>| {
            v.sort_unstable();
            v
        };
        let of = |facts: fn(&dyn Forge) -> &'static [&'static str]| {
            sorted(ALL.iter().flat_map(|f| facts(*f)).copied().collect())
        };
        assert_eq!(
            of(|f| f.stored_markers()),
            sorted(crate::secret::STORED_MARKERS.to_vec())
        );
        assert_eq!(
            of(|f| f.token_prefixes()),
            sorted(crate::secret::PREFIXES.to_vec())
        );
        assert_eq!(
            gitlab::Gitlab.stored_markers(),
            [gitlab::PERSONAL_MARKER, gitlab::OAUTH_MARKER]
        );
        // Each marker claims a token for its kind.
        assert!(claiming("PAT:glpat-x").is_some_and(|f| f.kind() == Kind::Gitlab));
        assert!(claiming("OAuth2:x").is_some_and(|f| f.kind() == Kind::Gitlab));
        assert!(claiming("glpat-x").is_none() && claiming("ghp_x").is_none());
    }

    #[test]
    fn every_kind_is_listed_once() {
        for kind in [
            Kind::Github,
            Kind::Gitlab,
            Kind::Gitea,
            Kind::Forgejo,
            Kind::Sourcehut,
            Kind::Oidc,
            Kind::NixCache,
        ] {
            assert_eq!(
                ALL.iter().filter(|f| f.kind() == kind).count(),
                1,
                "{kind:?}"
            );
            assert_eq!(kind.forge().kind(), kind);
            // The name is the one provider files use.
            #[derive(serde::Deserialize)]
            struct File {
                kind: Kind,
            }
            let file: File = toml::from_str(&format!("kind = \"{}\"", kind.name())).unwrap();
            assert_eq!(file.kind, kind);
        }
    }
}
