//! pixi's credential store: the JSON file rattler reads (`RATTLER_AUTH_FILE`, else
//! `~/.rattler/credentials.json`), which maps a host — or `*.domain`, for the domain and every
//! host under it — to one credential. nix-tokens edits only the entry of the host it logs in to
//! and keeps every other entry, in its order, as it was.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// The file pixi reads: `RATTLER_AUTH_FILE`, else `~/.rattler/credentials.json`.
pub fn path() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    var("RATTLER_AUTH_FILE")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".rattler/credentials.json")))
}

/// The key pixi stores a host under: `*.prefix.dev` for a host with a single dot, so that the
/// login covers `repo.prefix.dev` too, else the host itself (as `pixi auth login` does).
pub fn key_for(host: &str) -> String {
    if host.matches('.').count() == 1 {
        format!("*.{host}")
    } else {
        host.to_owned()
    }
}

/// An OAuth login as pixi keeps it, so that pixi uses and renews the same login.
pub struct OAuthEntry<'a> {
    pub access_token: &'a Secret<String>,
    pub refresh_token: Option<&'a Secret<String>>,
    /// Unix seconds.
    pub expires_at: u64,
    pub token_endpoint: &'a str,
    pub revocation_endpoint: Option<&'a str>,
    pub client_id: &'a str,
}

impl OAuthEntry<'_> {
    pub fn to_json(&self) -> Value {
        json!({ "OAuth": {
            "access_token": self.access_token.expose(),
            "refresh_token": self.refresh_token.map(|t| t.expose()),
            "expires_at": self.expires_at,
            "token_endpoint": self.token_endpoint,
            "revocation_endpoint": self.revocation_endpoint,
            "client_id": self.client_id,
        }})
    }
}

/// A token pixi sends as `Authorization: Bearer`.
pub fn bearer_entry(token: &Secret<String>) -> Value {
    json!({ "BearerToken": token.expose() })
}

/// Whether `entry` is the login nix-tokens wrote: the same bearer token, or an OAuth login of the
/// same client at the same token endpoint (which pixi may have renewed since).
pub fn is_ours(
    entry: &Value,
    token: Option<&Secret<String>>,
    client: Option<(&str, &str)>,
) -> bool {
    if let Some(bearer) = entry.get("BearerToken").and_then(Value::as_str) {
        return token.is_some_and(|t| t.expose() == bearer);
    }
    let Some(oauth) = entry.get("OAuth") else {
        return false;
    };
    let field = |k: &str| oauth.get(k).and_then(Value::as_str);
    let same_token = token.is_some_and(|t| field("access_token") == Some(t.expose()));
    let same_client = client.is_some_and(|(id, endpoint)| {
        field("client_id") == Some(id) && field("token_endpoint") == Some(endpoint)
    });
    same_token || same_client
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Credentials {
    entries: Map<String, Value>,
}

impl Credentials {
    /// Reads the file's text; `path` names it in errors, which never quote it.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        if text.trim().is_empty() {
            return Ok(Credentials::default());
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(entries)) => Ok(Credentials { entries }),
            Ok(_) => Err(Error::failed(format!(
                "{} is not a JSON object of hosts, so pixi cannot read it either; fix it, or pass --no-pixi",
                path.display()
            ))),
            Err(e) => Err(Error::failed(format!(
                "{} line {} is not valid JSON, so pixi cannot read it either; fix it, or pass --no-pixi",
                path.display(),
                e.line()
            ))),
        }
    }

    pub fn render(&self) -> String {
        let mut text =
            serde_json::to_string_pretty(&self.entries).expect("JSON values always serialize");
        text.push('\n');
        text
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.get(key)
    }

    pub fn set(&mut self, key: &str, entry: Value) {
        self.entries.insert(key.to_owned(), entry);
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.entries.shift_remove(key)
    }
}

impl super::document::Document for Credentials {
    fn parse(text: &str, path: &Path) -> Result<Self> {
        Credentials::parse(text, path)
    }

    fn render(&self) -> String {
        Credentials::render(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_with_one_dot_cover_their_subdomains() {
        assert_eq!(key_for("prefix.dev"), "*.prefix.dev");
        assert_eq!(key_for("conda.example.com"), "conda.example.com");
        assert_eq!(key_for("127.0.0.1:8080"), "127.0.0.1:8080");
    }

    #[test]
    fn other_entries_keep_their_order_and_content() {
        let text = r#"{
  "zeta.example": {"BasicHTTP": {"username": "u", "password": "p"}},
  "*.prefix.dev": {"BearerToken": "old"},
  "conda.anaconda.org": {"CondaToken": "c"}
}"#;
        let mut creds = Credentials::parse(text, Path::new("c.json")).unwrap();
        creds.set("*.prefix.dev", bearer_entry(&Secret::from("new")));
        creds.set("a.example", bearer_entry(&Secret::from("a")));
        let out: Value = serde_json::from_str(&creds.render()).unwrap();
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "zeta.example",
                "*.prefix.dev",
                "conda.anaconda.org",
                "a.example"
            ]
        );
        assert_eq!(out["zeta.example"]["BasicHTTP"]["password"], "p");
        assert_eq!(out["*.prefix.dev"]["BearerToken"], "new");
        creds.remove("a.example");
        creds.set("*.prefix.dev", json!({"BearerToken": "old"}));
        let back: Value = serde_json::from_str(&creds.render()).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(text).unwrap());
    }

    #[test]
    fn a_broken_file_is_named_not_quoted() {
        let err = Credentials::parse(
            "{\"h\": {\"BearerToken\": \"sekrit\"",
            Path::new("/p/c.json"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("/p/c.json line 1"), "{err}");
        assert!(!err.contains("sekrit"), "{err}");
        assert!(Credentials::parse("[]", Path::new("c")).is_err());
    }

    #[test]
    fn ours_is_the_same_token_or_the_same_client() {
        let token = Secret::from("tok");
        let entry = OAuthEntry {
            access_token: &token,
            refresh_token: None,
            expires_at: 1,
            token_endpoint: "https://i/token",
            revocation_endpoint: None,
            client_id: "rattler",
        }
        .to_json();
        assert!(is_ours(&entry, Some(&token), None));
        assert!(is_ours(&entry, None, Some(("rattler", "https://i/token"))));
        assert!(!is_ours(
            &entry,
            Some(&Secret::from("x")),
            Some(("other", "https://i/token"))
        ));
        assert!(!is_ours(
            &bearer_entry(&Secret::from("x")),
            Some(&token),
            None
        ));
        assert!(is_ours(&bearer_entry(&token), Some(&token), None));
    }
}
