//! The OS keyring (the Secret Service on Linux, through D-Bus) for refresh tokens, when one
//! answers. Every call is best effort: `None`/`false` means "not available here", and the caller
//! keeps the secret in its 0600 file instead.

use crate::secret::Secret;

/// The keyring service name; the account is the token key (`gitlab.com`).
pub const SERVICE: &str = "nix-tokens";

#[cfg(target_os = "linux")]
mod imp {
    use std::sync::OnceLock;

    use super::{SERVICE, Secret};

    /// Connects once per process; `false` when there is no session bus or no Secret Service.
    fn ready() -> bool {
        static READY: OnceLock<bool> = OnceLock::new();
        *READY.get_or_init(|| match zbus_secret_service_keyring_store::Store::new() {
            Ok(store) => {
                keyring_core::set_default_store(store);
                true
            }
            Err(_) => false,
        })
    }

    fn entry(account: &str) -> Option<keyring_core::Entry> {
        ready()
            .then(|| keyring_core::Entry::new(SERVICE, account).ok())
            .flatten()
    }

    pub fn set(account: &str, secret: &Secret<String>) -> bool {
        entry(account).is_some_and(|e| e.set_password(secret.expose()).is_ok())
    }

    pub fn get(account: &str) -> Option<Secret<String>> {
        entry(account)?.get_password().ok().map(Secret::new)
    }

    pub fn delete(account: &str) {
        if let Some(e) = entry(account) {
            let _ = e.delete_credential();
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::Secret;

    pub fn set(_account: &str, _secret: &Secret<String>) -> bool {
        false
    }

    pub fn get(_account: &str) -> Option<Secret<String>> {
        None
    }

    pub fn delete(_account: &str) {}
}

/// Stores `secret` for `account`; `false` when no keyring took it.
pub fn set(account: &str, secret: &Secret<String>) -> bool {
    imp::set(account, secret)
}

/// The secret stored for `account`, if a keyring has it.
pub fn get(account: &str) -> Option<Secret<String>> {
    imp::get(account)
}

/// Forgets `account`'s secret, if a keyring has one.
pub fn delete(account: &str) {
    imp::delete(account)
}
