//! Integration tests: the real `nix-tokens` binary run in temporary homes.

#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod caches;
mod check;
mod ci;
mod cli_surface;
mod conf_lines;
mod crash;
mod crash_elsewhere;
mod detect;
mod device_flow;
mod file_safety;
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
mod pasted_token;
mod privileges;
mod prompts;
mod providers;
mod read_only;
mod read_only_mount;
mod real_cache;
mod real_fetch;
mod refresh;
mod revoke;
mod set_token;
mod state_files;
mod status;
mod status_online;
mod store_links;
mod stress;
mod tls;
mod untrusted_values;
mod write_failure;
