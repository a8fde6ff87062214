//! Providers: what kind of service a host runs, and what that means for its token — the format Nix
//! expects, the file (sink) Nix reads it from, and how the service checks and revokes it.
//!
//! - [`provider`]: one provider as its TOML file describes it (data only); [`registry`] loads the
//!   built-in files (`providers/*.toml`, embedded at build time) and the user's own.
//! - [`forge`]: the [`Forge`](forge::Forge) trait, what differs per kind; [`shared`]: the types and
//!   helpers the kinds share.
//! - One module per kind: [`github`], [`gitlab`], [`gitea`] (Gitea and Forgejo), [`sourcehut`],
//!   [`oidc`], [`cache`] (Nix binary caches); [`kinds`] lists them.
//! - [`detect`]: which kind an unknown host runs.

pub mod cache;
pub mod cache_use;
pub mod detect;
#[cfg(test)]
mod file_keys;
pub mod forge;
pub mod gitea;
pub mod github;
pub mod gitlab;
pub mod kinds;
pub mod lifetime_policy;
pub mod oidc;
pub mod provider;
pub mod registry;
pub mod shared;
pub mod sourcehut;

pub use provider::{Kind, Provider, Sink};
pub use registry::Registry;
