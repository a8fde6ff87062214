//! GitHub's refusal of a fine-grained personal access token that lives longer than an
//! organisation (or enterprise) allows, explained. GitHub answers such a request 403 with
//! "The 'NAME' organization forbids access via a fine-grained personal access tokens if the
//! token's lifetime is greater than N days. Please adjust your token's lifetime at the following
//! URL: https://github.com/settings/personal-access-tokens/ID" (quoted in NixOS/org#247 and, for
//! an enterprise, in HHS/simpler-grants-gov#2547); the explanation names the organisation, the
//! limit, and how to make a token it accepts.

use crate::ui::printable;

/// The explanation of GitHub's `message` when it is a token-lifetime refusal; `None` otherwise.
/// Server text in it is made printable ([`printable`]).
pub fn explain(message: &str) -> Option<String> {
    if !message.contains("forbids access via a fine-grained personal access token") {
        return None;
    }
    let (_, rest) = message.split_once('\'')?;
    let (name, rest) = rest.split_once('\'')?;
    let owner = match rest.split_whitespace().next() {
        Some("enterprise") => "enterprise",
        _ => "organization",
    };
    let (_, after) = rest.split_once("lifetime is greater than ")?;
    let days: u32 = after
        .split_whitespace()
        .next()?
        .trim_end_matches('.')
        .parse()
        .ok()?;
    let at = rest
        .split_once("following URL: ")
        .and_then(|(_, u)| u.split_whitespace().next())
        .map(|u| u.trim_end_matches(['.', ',', ')']))
        .filter(|u| u.starts_with("https://"))
        .map(|u| format!(" at {u}"))
        .unwrap_or_default();
    let name: String = name.chars().take(100).collect();
    Some(printable(&format!(
        "the '{name}' {owner} refuses fine-grained personal access tokens that live longer than {days} days: set this token's expiry to at most {days} days away{at}, or make a new fine-grained token that expires within {days} days and store it with `nix-tokens set-token`"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_owner_the_limit_and_the_page() {
        let org = explain("The 'NixOS' organization forbids access via a fine-grained personal access tokens if the token's lifetime is greater than 90 days. Please adjust your token's lifetime at the following URL: https://github.com/settings/personal-access-tokens/12885303").unwrap();
        assert!(org.starts_with("the 'NixOS' organization refuses"), "{org}");
        assert!(org.contains("longer than 90 days"), "{org}");
        assert!(
            org.contains("at https://github.com/settings/personal-access-tokens/12885303,"),
            "{org}"
        );
        let enterprise = explain("GraphQL: The 'HHS ONC' enterprise forbids access via a fine-grained personal access tokens if the token's lifetime is greater than 366 days. Please adjust your token's lifetime at the following URL: https://github.com/settings/personal-access-tokens/4277325 (repository)").unwrap();
        assert!(
            enterprise.starts_with("the 'HHS ONC' enterprise"),
            "{enterprise}"
        );
        assert!(enterprise.contains("366 days"), "{enterprise}");
        assert!(explain("Resource not accessible by personal access token").is_none());
        assert!(
            explain(
                "The 'x' organization forbids access via a fine-grained personal access tokens"
            )
            .is_none()
        );
        let odd = explain("The 'x' organization forbids access via a fine-grained personal access tokens if the token's lifetime is greater than 30 days. See http://evil.example").unwrap();
        assert!(!odd.contains("evil"), "{odd}");
    }
}
