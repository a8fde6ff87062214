//! `login`'s options as a plan: which host, key, provider and file, what the token may do (the
//! provider's scopes, `--read-only` or `--public`), how it is obtained, which scopes and client,
//! where it is checked, and every combination of flags that cannot work, each refused with one
//! sentence. Pure: what it needs from the world comes in as [`Facts`].

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use super::{Flow, LoginArgs};
use crate::error::{Error, Result};
use crate::http;
use crate::nixconf::install::Install;
use crate::ops::login::{Access, BrowserPlan, IssuerFlow, IssuerPlan, LoginPlan, Obtain};
use crate::ops::save::Target;
use crate::providers::forge::TokenEntry;
use crate::providers::{Kind, Provider, Registry};

/// The built-in provider `--oauth` means for a host no provider file names.
const ISSUER_PROVIDER: &str = "oidc";
use crate::secret::Secret;
use issuer::{issuer_client_id, issuer_url};

/// What the plan needs to know of the world.
pub struct Facts {
    /// What detection found the host runs, once it ran.
    pub detected: Option<Kind>,
    /// Standard input is a terminal (so `--with-token` has nothing to read).
    pub stdin_is_terminal: bool,
    /// pixi's credential store (`RATTLER_AUTH_FILE`, else `~/.rattler/credentials.json`).
    pub pixi_file: Option<PathBuf>,
    /// Which process downloads from binary caches, and the netrc it reads.
    pub install: Install,
    /// `--system`: the system's files are changed.
    pub system: bool,
}

/// A plan, or the detection it needs first.
pub enum Planned<'r> {
    Ready(Box<Ready<'r>>),
    /// No provider file names the host: detect what `base` runs, then plan again.
    Detect {
        host: String,
        base: Url,
    },
}

/// A login plan, and the warnings the options deserve.
pub struct Ready<'r> {
    pub login: LoginPlan<'r>,
    pub warnings: Vec<String>,
}

/// Turns `login`'s options into a plan; see the module documentation.
pub fn plan<'r>(args: &LoginArgs, registry: &'r Registry, facts: &Facts) -> Result<Planned<'r>> {
    let (target, base) = match resolve(args, registry, facts)? {
        Ok(found) => found,
        Err(detect) => return Ok(detect),
    };
    let Some(provider) = target.provider else {
        return Err(Error::usage(format!(
            "pass --provider for {} with one of: {}",
            target.host,
            registry.names().join(", ")
        )));
    };
    let mut warnings = Vec::new();
    let (access, entry) = access(args, provider, &target)?;
    let flow = match access {
        Access::Default => args.flow,
        Access::ReadOnly { .. } if app_device(args, provider, &target.host) => Flow::DeviceCode,
        Access::ReadOnly { .. } => Flow::Token,
        Access::Public => Flow::DeviceCode,
    };
    let choice = choose(args, flow, provider, &target, &base, &mut warnings)?;
    if args.with_token && facts.stdin_is_terminal {
        return Err(Error::usage(
            "--with-token reads the token from standard input; pipe it in, for example `gh auth token | nix-tokens login github --with-token`",
        ));
    }
    let scopes = match (&access, args.scopes.is_empty()) {
        (Access::ReadOnly { .. } | Access::Public, _) => Vec::new(),
        (Access::Default, true) => provider.scopes.clone(),
        (Access::Default, false) => args.scopes.clone(),
    };
    let at_issuer = provider.forge().logs_in_at_issuer();
    // An OpenID Connect provider without an API of its own has its tokens checked at the issuer.
    let issuer = at_issuer
        .then(|| issuer_url(provider, &target.host, args))
        .transpose()?;
    let graphql = provider.oidc.as_ref().and_then(|o| o.graphql_path.as_ref());
    let (check_base, remembered_base) = match (&issuer, graphql) {
        (Some(issuer), None) => (issuer.clone(), Some(issuer.to_string())),
        _ if provider.forge().serves_substitutes() => {
            caches::substituter(args, provider, &target, facts)?
        }
        _ => (base, args.base_url.clone()),
    };
    let obtain = obtain(
        args,
        provider,
        &target.host,
        (choice, issuer),
        &check_base,
        entry,
    )?;
    let use_cache = caches::use_cache(args, provider, &target, &check_base)?;
    warnings.extend(caches::set_up_elsewhere(
        args,
        provider,
        use_cache.is_some(),
    ));
    let pixi_file = (at_issuer && !args.no_pixi)
        .then(|| facts.pixi_file.clone())
        .flatten();
    Ok(Planned::Ready(Box::new(Ready {
        login: LoginPlan {
            target,
            provider,
            access,
            obtain,
            scopes,
            check_base,
            remembered_base,
            pixi_file,
            use_cache,
            force: args.force,
            no_browser: args.no_browser,
            store: args.store,
        },
        warnings,
    })))
}

/// How the token is obtained, now that the flow is chosen and the issuer and base URL known.
fn obtain(
    args: &LoginArgs,
    provider: &Provider,
    host: &str,
    (choice, issuer): (Choice, Option<Url>),
    base: &Url,
    entry: TokenEntry,
) -> Result<Obtain> {
    Ok(match (choice, issuer) {
        (Choice::Issuer(flow), Some(issuer)) => Obtain::Issuer(IssuerPlan {
            client_id: issuer_client_id(provider, host, args)?,
            issuer,
            flow,
            client_secret: args.oauth_client_secret.clone().map(Secret::new),
            redirect_uri: args.oauth_redirect_uri.clone(),
            timeout: Duration::from_secs(args.oauth_timeout),
        }),
        (Choice::Browser(client_id), _) => {
            let login = provider
                .forge()
                .browser_login(base)
                .ok_or_else(|| Error::usage(format!("{} has no browser login", provider.name)))?;
            Obtain::Browser(BrowserPlan {
                client_id,
                authorization_url: login.authorization_url,
                token_url: login.token_url,
                timeout: Duration::from_secs(args.oauth_timeout),
                entry,
            })
        }
        (Choice::Device(client_id), _) => Obtain::Device {
            endpoints: provider
                .forge()
                .device_endpoints(provider, base)
                .ok_or_else(|| Error::usage(format!("{} has no device flow", provider.name)))?,
            client_id,
        },
        (_, _) => Obtain::Token {
            with_token: args.with_token,
            entry,
        },
    })
}

/// The target (key, host, provider, file) and the host's base URL; or the detection to run
/// first, when no provider file names the host.
fn resolve<'r>(
    args: &LoginArgs,
    registry: &'r Registry,
    facts: &Facts,
) -> Result<std::result::Result<(Target<'r>, Url), Planned<'r>>> {
    let mut target_arg = args.target.as_deref().unwrap_or("github").to_owned();
    if let Some(cache) = &args.cache {
        target_arg = caches::target(registry, &target_arg, args.provider.as_deref(), cache)?;
    }
    if let Some(owner) = &args.owner {
        target_arg = owner_key(registry, &target_arg, args.provider.as_deref(), owner)?;
    }
    let resolve =
        |provider: Option<&str>| Target::resolve(registry, &target_arg, provider, args.netrc, None);
    let mut target = resolve(args.provider.as_deref())?;
    // `--oauth` names the kind of login for a host no provider file knows: OpenID Connect.
    let oauth_asked = args.oauth || args.oauth_issuer_url.is_some();
    match target.provider {
        None if oauth_asked => target = resolve(Some(ISSUER_PROVIDER))?,
        Some(p) if oauth_asked && !p.forge().logs_in_at_issuer() => {
            return Err(Error::usage(format!(
                "--oauth is for hosts an OpenID Connect issuer guards, and {} runs {}; drop it",
                target.host, p.name
            )));
        }
        _ => {}
    }
    let base = http::base_url(&target.host, args.base_url.as_deref())?;
    if target.provider.is_none() {
        match facts.detected {
            Some(kind) => target = resolve(Some(kind.name()))?,
            None => {
                return Ok(Err(Planned::Detect {
                    host: target.host,
                    base,
                }));
            }
        }
    }
    Ok(Ok((target, base)))
}

/// What the token may do, from `--read-only` and `--public`, with the flags each cannot go with;
/// and the guided entry of a token made by hand.
fn access(args: &LoginArgs, provider: &Provider, target: &Target) -> Result<(Access, TokenEntry)> {
    let forge = provider.forge();
    let name = &provider.name;
    let host = &target.host;
    let plain = TokenEntry {
        page: provider.token_page_for(host),
        advice: provider.token_advice(host),
    };
    let flow = match args.flow {
        Flow::Auto => None,
        Flow::AuthCode => Some("--flow auth-code"),
        Flow::DeviceCode => Some("--flow device-code"),
        Flow::Token => Some("--flow token"),
    };
    match (args.read_only, args.public) {
        (false, false) => Ok((Access::Default, plain)),
        (true, true) => Err(Error::usage(
            "--read-only and --public are two different logins; pick one",
        )),
        (false, true) => {
            if !forge.public_login() {
                return Err(Error::usage(format!(
                    "{name} has no public login (the device flow asking for no scope); drop --public"
                )));
            }
            let flag = if args.with_token {
                Some("--with-token")
            } else {
                flow.filter(|_| args.flow != Flow::DeviceCode)
            };
            if let Some(flag) = flag {
                return Err(Error::usage(format!(
                    "--public logs in with the device flow, asking for no scope; drop {flag}"
                )));
            }
            if !args.scopes.is_empty() {
                return Err(Error::usage(
                    "--public asks for no scope at all; drop --scope",
                ));
            }
            Ok((Access::Public, plain))
        }
        (true, false) => {
            let owner = target.key.split_once('/').map(|(_, o)| o.to_owned());
            let Some(entry) = forge.read_only_entry(host, owner.as_deref()) else {
                let reads = !provider.scopes.is_empty()
                    && provider.scopes.iter().all(|s| forge.reads_only(s));
                return Err(Error::usage(if reads {
                    format!(
                        "{name} has no read-only login of its own: its logins ask for {} only, which read; drop --read-only",
                        provider.scopes.join(", ")
                    )
                } else {
                    format!("{name} has no read-only login; drop --read-only")
                }));
            };
            if let Some(flag) =
                flow.filter(|_| args.flow != Flow::Token && !app_device(args, provider, host))
            {
                return Err(Error::usage(format!(
                    "--read-only takes a token made by hand, not one from an OAuth flow; drop {flag}"
                )));
            }
            if !args.scopes.is_empty() {
                return Err(Error::usage(
                    "--read-only takes a token made by hand, which no OAuth scope describes; drop --scope",
                ));
            }
            Ok((Access::ReadOnly { owner }, entry))
        }
    }
}

/// A device login as an app: named with `--client-id`, or the provider file's own `app`.
fn app_device(args: &LoginArgs, provider: &Provider, host: &str) -> bool {
    let app = args.client_id.is_some() || provider.device_is_app(host);
    app && matches!(args.flow, Flow::Auto | Flow::DeviceCode)
}

/// How the token will be obtained, before the issuer or endpoints are known.
enum Choice {
    Token,
    /// The device flow on the host, as this client.
    Device(String),
    /// The authorization-code flow on the host, as this client.
    Browser(String),
    Issuer(IssuerFlow),
}

/// Checks the flags that choose how the token is obtained, and chooses: `flow` (`--flow`, or what
/// the access asked for needs) and `--with-token` say, and `auto` means OAuth for an issuer, or
/// where the provider has a device flow and a client id for the host.
fn choose(
    args: &LoginArgs,
    flow: Flow,
    provider: &Provider,
    target: &Target,
    base: &Url,
    warnings: &mut Vec<String>,
) -> Result<Choice> {
    let at_issuer = provider.forge().logs_in_at_issuer();
    // The host's own authorization-code login (Gitea, Forgejo), as `--client-id` or its app.
    let browser = provider.forge().browser_login(base).map(|b| {
        args.client_id
            .clone()
            .unwrap_or_else(|| b.client_id.to_owned())
    });
    let issuer_only = [
        (args.oauth_client_secret.is_some(), "--oauth-client-secret"),
        (args.oauth_redirect_uri.is_some(), "--oauth-redirect-uri"),
        (
            flow == Flow::AuthCode && browser.is_none(),
            "--oauth-flow auth-code",
        ),
    ];
    if let Some((_, flag)) = issuer_only.iter().find(|(given, _)| *given && !at_issuer) {
        return Err(Error::usage(format!(
            "{flag} is for OpenID Connect issuers, and {} is not one; drop it",
            provider.name
        )));
    }
    let client_id = provider.device_client_id(&target.host, args.client_id.as_deref());
    let oauth = match (flow, args.with_token) {
        (Flow::Token, _) | (_, true) => false,
        (Flow::Auto, false) => at_issuer || client_id.is_some() || browser.is_some(),
        (Flow::AuthCode, false) => true,
        (Flow::DeviceCode, false) => {
            if provider.device.is_none() && !at_issuer {
                return Err(Error::usage(format!(
                    "{} has no device flow; log in with --flow token",
                    provider.name
                )));
            }
            if client_id.is_none() && !at_issuer {
                return Err(Error::usage(format!(
                    "the device flow on {} needs the client id of an OAuth app registered there; pass --client-id",
                    target.host
                )));
            }
            true
        }
    };
    if oauth
        && args.netrc
        && let Some(refusal) = provider.forge().oauth_netrc_refusal()
    {
        return Err(Error::usage(refusal));
    }
    if args.client_id.is_some() && provider.device.is_none() && !at_issuer && browser.is_none() {
        warnings.push(format!(
            "--client-id is ignored: {} logs in with a personal token",
            provider.name
        ));
    }
    if let (true, false, Some(client_id)) = (oauth, at_issuer, browser) {
        return Ok(Choice::Browser(client_id));
    }
    Ok(match (oauth, at_issuer, client_id) {
        (false, _, _) => Choice::Token,
        (true, true, _) => Choice::Issuer(match flow {
            Flow::AuthCode => IssuerFlow::AuthCode,
            Flow::DeviceCode => IssuerFlow::DeviceCode,
            Flow::Auto | Flow::Token => IssuerFlow::Auto,
        }),
        (true, false, Some(client_id)) => Choice::Device(client_id),
        (true, false, None) => Choice::Token,
    })
}

/// The key `HOST/OWNER` for `login TARGET --owner OWNER`.
fn owner_key(
    registry: &Registry,
    target: &str,
    provider: Option<&str>,
    owner: &str,
) -> Result<String> {
    let (key, _) = registry.resolve_target(target, provider)?;
    let owner = owner.trim().trim_matches('/');
    if key.contains('/') || owner.is_empty() {
        return Err(Error::usage(format!(
            "--owner takes one owner (such as my-org) for a host; give `{}` and the owner alone",
            crate::nixconf::tokens::key_host(&key)
        )));
    }
    Ok(format!("{key}/{owner}"))
}

mod caches;
mod issuer;
#[cfg(test)]
mod tests;
