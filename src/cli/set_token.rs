//! `nix-tokens set-token HOST [TOKEN]`: store a token the user already has.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::error::{Error, Result, exit};
use crate::flows::token_entry::read_token;
use crate::nixconf::store::Session;
use crate::nixconf::tokens::{check_token, key_host};
use crate::providers::{self, Sink};
use crate::secret::mask;

#[derive(Debug, Args)]
pub struct SetTokenArgs {
    /// The host (github.com, or github.com/my-org for one owner) or a provider name (github)
    pub host: String,
    /// The token. Prefer standard input or the prompt: an argument lands in shell history
    pub token: Option<String>,
    /// The provider the host runs (github, gitlab, gitea, forgejo, codeberg, sourcehut, prefix-dev);
    /// decides the token's format and the file Nix reads it from
    #[arg(long, short = 'p', value_name = "NAME")]
    pub provider: Option<String>,
    /// Replace an existing token without asking
    #[arg(long, short = 'f')]
    pub force: bool,
    /// Write the token to netrc (read by every Nix download) instead of access-tokens
    #[arg(long)]
    pub netrc: bool,
    /// The netrc login to write beside the token (default: one the provider accepts)
    #[arg(long, value_name = "USER", requires = "netrc")]
    pub login: Option<String>,
    /// Show what would change without writing anything
    #[arg(long, short = 'n')]
    pub dry_run: bool,
}

pub fn run(ctx: &Context, args: SetTokenArgs) -> Result<ExitCode> {
    let (key, provider) = providers::resolve_target(&args.host, args.provider.as_deref())?;
    let sink = match (args.netrc, provider) {
        (true, _) => Sink::Netrc,
        (false, Some(p)) => p.sink(),
        (false, None) => Sink::AccessTokens,
    };
    let host = key_host(&key).to_owned();
    if sink == Sink::Netrc && key.contains('/') {
        return Err(Error::usage(format!(
            "netrc holds one token per host, so `{key}` cannot go there; give the host alone ({host})"
        )));
    }
    let page = provider.and_then(|p| p.token_page_for(&host));
    let (token, _source) = read_token(&ctx.ui, &key, args.token, page.as_deref())?;
    check_token(&token, &key)?;
    let token = match provider {
        Some(p) => p.nix_format(token),
        None => token,
    };

    let mut session = Session::open(&ctx.layout)?;
    let existing = match sink {
        Sink::AccessTokens => session
            .tokens()
            .get(&key)
            .cloned()
            .or_else(|| session.nix_conf_tokens().get(&key).cloned()),
        Sink::Netrc => session.netrc().get(&host).and_then(|e| e.password.clone()),
    };
    let file = match sink {
        Sink::AccessTokens => ctx.layout.token_file.clone(),
        Sink::Netrc => session.netrc_path().to_path_buf(),
    };
    let unchanged = existing.as_ref() == Some(&token);
    let ask = !(unchanged || args.force || args.dry_run);
    if let Some(old) = existing.filter(|_| ask) {
        let question = format!(
            "{key} already has a token ({}) in {}. Replace it with {}?",
            mask(&old),
            file.display(),
            mask(&token)
        );
        let refusal = || {
            format!(
                "{key} already has a token ({}) in {}; pass --force to replace it",
                mask(&old),
                file.display()
            )
        };
        if !ctx.ui.confirm(&question, refusal)? {
            ctx.ui.info("Nothing changed.");
            return Ok(ExitCode::from(exit::FAILURE));
        }
    }
    let masked = mask(&token);
    match sink {
        Sink::AccessTokens => {
            session.set_access_token(&key, token);
        }
        Sink::Netrc => {
            let login = args
                .login
                .as_deref()
                .or(provider.map(|p| p.netrc_login()))
                .unwrap_or("nix-tokens");
            session.set_netrc(&host, login, &token);
            // A token for this host in access-tokens has no effect once it is in netrc.
            if session.tokens().contains(&key) {
                session.remove_access_token(&key);
            }
        }
    }
    let report = session.commit(args.dry_run)?;
    ctx.show_report(&report, args.dry_run);
    if args.dry_run {
        return Ok(ExitCode::from(exit::OK));
    }
    if unchanged {
        ctx.ui.info(&format!(
            "{key} already has this token in {}.",
            file.display()
        ));
        return Ok(ExitCode::from(exit::OK));
    }
    ctx.ui.info(&format!(
        "Saved the token for {key} ({masked}) in {}.",
        file.display()
    ));
    Ok(ExitCode::from(exit::OK))
}
