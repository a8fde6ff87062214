//! `nix-tokens set-token HOST [TOKEN]`: store a token the user already has.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::error::{Error, Result, exit};
use crate::flows::token_entry::read_token;
use crate::nixconf::store::Session;
use crate::nixconf::tokens::{check_login, check_token, host_without_port, key_host};
use crate::providers::Sink;
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
    let registry = ctx.registry()?;
    let (key, provider) = registry.resolve_target(&args.host, args.provider.as_deref())?;
    let sink = match (args.netrc, provider) {
        (true, _) => Sink::Netrc,
        (false, Some(p)) => p.sink,
        (false, None) => Sink::AccessTokens,
    };
    // curl matches a netrc `machine` by host name alone, without a port.
    let host = match sink {
        Sink::Netrc => host_without_port(key_host(&key)).to_owned(),
        Sink::AccessTokens => key_host(&key).to_owned(),
    };
    let login = args
        .login
        .as_deref()
        .or(provider.map(|p| p.netrc_login.as_str()))
        .unwrap_or("nix-tokens");
    check_login(login)?;
    if sink == Sink::Netrc && key.contains('/') {
        return Err(Error::usage(format!(
            "netrc holds one token per host, so `{key}` cannot go there; give the host alone ({host})"
        )));
    }
    let advice = provider.and_then(|p| p.token_advice(&host));
    let (token, _source) = read_token(&ctx.ui, &key, args.token, advice.as_deref())?;
    check_token(&token, &key)?;
    // The format Nix's fetchers expect (GitLab's `PAT:`) applies to access-tokens only; netrc
    // holds the bare token for basic auth.
    let token = match (provider, sink) {
        (Some(p), Sink::AccessTokens) => p.nix_format(token),
        _ => token,
    };

    let before = ctx.nix_tokens_now();
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
    let check = (sink == Sink::AccessTokens).then(|| token.clone());
    match sink {
        Sink::AccessTokens => {
            session.set_access_token(&key, token);
        }
        Sink::Netrc => session.set_netrc(&host, login, &token)?,
    }
    // Nix never reads a token for a Gitea or Forgejo host from access-tokens (nix-auth put them
    // there): it goes, now that the token is where Nix reads it.
    let useless = provider.is_some_and(|p| p.sink == Sink::Netrc)
        && session.remove_access_token(&key).is_some();
    let report = session.commit(args.dry_run)?;
    ctx.show_report(&report, args.dry_run);
    if args.dry_run {
        return Ok(ExitCode::from(exit::OK));
    }
    let removed = if useless {
        vec![key.clone()]
    } else {
        Vec::new()
    };
    ctx.warn_surprises(&before, check.as_ref().map(|t| (key.as_str(), t)), &removed);
    if unchanged {
        ctx.ui.info(&format!(
            "{key} already has this token in {}.",
            file.display()
        ));
        return Ok(ExitCode::from(exit::OK));
    }
    if useless {
        ctx.ui.info(&format!(
            "Removed the token for {key} from {}, where Nix never reads it.",
            ctx.layout.token_file.display()
        ));
    }
    ctx.ui.info(&format!(
        "Saved the token for {key} ({masked}) in {}.",
        file.display()
    ));
    Ok(ExitCode::from(exit::OK))
}
