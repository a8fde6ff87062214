//! git's credential helper protocol, and what nix-tokens answers through it: `git+https` flake
//! inputs go through git, which asks its credential helpers rather than reading `access-tokens`.
//!
//! [`protocol`] reads git's request and writes the answer (pure text), [`answer`] picks the token
//! for a request (longest `host/owner` prefix) and the username each forge wants beside it,
//! [`gitconfig`] adds and removes the helper in the user's git configuration by running git, and
//! [`urlmatch`] reads from git's configuration which helpers git asks for a URL.

pub mod answer;
pub mod gitconfig;
pub mod protocol;
pub mod urlmatch;
