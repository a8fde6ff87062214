//! Integration tests: the real `nix-tokens` binary run in temporary homes.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod cache_use;
mod caches;
mod check;
mod cli_surface;
mod crash;
mod detect;
mod device_flow;
mod flake;
mod git_credential;
mod hostile_server;
mod keyring;
mod least_privilege_login;
mod login;
mod logout;
mod modules;
mod netrc;
mod nix_agrees;
mod no_permission;
mod oidc;
mod parallel;
mod privileges;
mod providers;
mod read_only;
mod read_only_mount;
mod real_cache;
mod real_cache_use;
mod real_fetch;
mod refresh;
mod revoke;
mod set_token;
mod status;
mod status_online;
mod stress;
mod tls;
mod write_failure;
