//! The ways a token reaches nix-tokens from a person or a service. Provider names never appear
//! here: a flow gets what it needs (a URL, a prompt) from its caller.

pub mod browser;
pub mod device_code;
pub mod refresh;
pub mod token_entry;
