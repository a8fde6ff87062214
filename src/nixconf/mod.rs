//! Nix's configuration files: the lossless nix.conf model, the `access-tokens` value, netrc,
//! which files Nix reads, and the locked, atomic, backed-up way nix-tokens changes them.
//!
//! Everything here is pure text handling except [`fsio`] and [`backup`] (the only modules that
//! write), the readers in [`view`], and [`store`], whose session stages every file as a
//! [`document`] and commits the changed ones in one loss-free order.

pub mod backup;
pub mod cache_rules;
pub mod ci_logins;
pub mod conf;
pub mod determinate;
pub mod document;
pub mod fsio;
pub mod hosts;
pub mod install;
pub mod json_file;
pub mod netrc;
pub mod nix_version;
pub mod oauth;
pub mod pasted;
pub mod paths;
pub mod picture;
pub mod pixi;
pub mod runtime;
pub mod seen;
pub mod store;
pub mod token_file;
pub mod tokens;
pub mod trust;
pub mod vault;
pub mod view;

/// Cases per property test: 2000 in `cargo test`, more with `PROPTEST_CASES=N`.
#[cfg(test)]
pub(crate) fn proptest_cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}
