//! `token`: the credential Nix would send for a host (and owner), chosen exactly as the git
//! helper chooses it ([`crate::ops::git_credential::get`]: the longest `host/owner` key that covers
//! it, else the host's key, else its netrc entry), renewing an expiring OAuth login first.

use crate::context::Context;
use crate::error::Result;
use crate::gitcred::protocol::Request;
use crate::ops::git_credential;
use crate::secret::Secret;
use crate::ui::Ui;

/// The host (lower case, with its port) and the owner path a script asks a token for.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenPlan {
    pub host: String,
    pub path: Option<String>,
}

/// The token for `plan`, without any prefix Nix's configuration adds (GitLab's `PAT:`/`OAuth2:`),
/// or `None` when Nix has none for it (or its login expired and could not be renewed).
pub fn credential(ctx: &Context, plan: &TokenPlan) -> Result<Option<Secret<String>>> {
    // Only warnings reach the script's terminal: no notes, no questions.
    let quiet = Context {
        ui: Ui {
            verbosity: ctx.ui.verbosity.min(-1),
            progress: false,
            interactive: false,
            ..ctx.ui.clone()
        },
        layout: ctx.layout.clone(),
    };
    let request = Request {
        protocol: Some("https".to_owned()),
        host: Some(plan.host.clone()),
        path: plan.path.clone(),
        username: None,
    };
    Ok(git_credential::get_as_nix(&quiet, &request)?.map(|answer| answer.password))
}
