//! SourceHut. Nix's `sourcehut:` fetcher reads the token from access-tokens and sends it as
//! `Authorization: Bearer …`; tokens are personal OAuth2 tokens made on meta.sr.ht. nix-tokens
//! does not check them yet, and they are revoked by hand.

use async_trait::async_trait;

use super::forge::{Forge, Site};
use super::provider::Kind;
use super::shared::Verdict;
use crate::http::Unreachable;
use crate::secret::Secret;

pub struct Sourcehut;

#[async_trait]
impl Forge for Sourcehut {
    fn kind(&self) -> Kind {
        Kind::Sourcehut
    }

    fn name(&self) -> &'static str {
        "sourcehut"
    }

    async fn check(
        &self,
        site: &Site<'_>,
        _token: &Secret<String>,
    ) -> Result<Verdict, Unreachable> {
        Ok(Verdict::Unverified(format!(
            "nix-tokens cannot check {} tokens yet",
            site.provider.name
        )))
    }
}
