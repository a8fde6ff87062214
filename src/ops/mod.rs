//! What the commands do once their options are a plan: each operation runs a plan against the
//! store ([`crate::nixconf`]), the providers and the flows, and says what happened through the
//! [`Context`](crate::context::Context)'s `Ui`.
//!
//! - [`save`]: storing a token (`login`, `set-token`): its key, file and format, the question
//!   before replacing another token, the locked write.
//! - [`carry`]: copying caches' credentials from the system netrc into a user's netrc that
//!   replaces it.
//! - [`login`]: running a login plan: obtaining the token through a flow, checking it, saving it.
//! - [`refresh`]: renewing OAuth logins (`refresh`, and `status` and `git-credential` before they
//!   use a token).
//! - [`status`]: every token Nix sees, checked at once.
//! - [`statuses`]: the words `status` and `check` give tokens, caches and inputs, each with its
//!   JSON name and exit code.
//! - [`expiry`]: when credentials stop working, as far as they or their logins say, and which
//!   expire soon with nothing to renew them.
//! - [`check`]: every input of a flake's lock file, and whether Nix will be able to fetch it.
//! - [`logout`]: removing tokens, and revoking them at their providers.
//! - [`import`]: copying a user's logins into root's own files, for root's rebuilds.
//! - [`git_credential`]: git's credential requests, and adding the helper to git's configuration.
//! - [`token`]: the token Nix would send for a host, as the git helper picks it, for scripts.

pub mod carry;
pub mod check;
pub mod ci_output;
pub mod exec;
pub mod expiry;
pub mod git_credential;
pub mod import;
pub mod keyring_store;
pub mod login;
pub mod logout;
pub mod refresh;
pub mod save;
pub mod status;
pub mod statuses;
pub mod table;
pub mod token;
