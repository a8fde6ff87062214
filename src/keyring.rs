//! The OS keyring (the Secret Service on Linux, through D-Bus) for refresh tokens, when one
//! answers. Every call is best effort: `None`/`false` means "not available here", and the caller
//! keeps the secret in its 0600 file instead.

use crate::secret::Secret;

/// The keyring service name; the account names the token key and the configuration directory
/// (`gitlab.com in /home/me/.config/nix`), so that two configurations never share a secret.
pub const SERVICE: &str = "nix-tokens";

/// What a keyring look-up found.
pub enum Lookup {
    Found(Secret<String>),
    /// The keyring answers but holds nothing for the account.
    Missing,
    /// No keyring answers here now.
    Unavailable,
}

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

    pub fn get(account: &str) -> super::Lookup {
        use super::Lookup;
        let Some(entry) = entry(account) else {
            return Lookup::Unavailable;
        };
        match entry.get_password() {
            Ok(secret) => Lookup::Found(Secret::new(secret)),
            Err(keyring_core::Error::NoEntry) => Lookup::Missing,
            Err(_) => Lookup::Unavailable,
        }
    }

    pub fn delete(account: &str) {
        if let Some(e) = entry(account) {
            let _ = e.delete_credential();
        }
    }

    pub fn holds(service: &str, account: &str) -> bool {
        use zeroize::Zeroize;
        let Some(entry) = ready()
            .then(|| keyring_core::Entry::new(service, account).ok())
            .flatten()
        else {
            return false;
        };
        entry.get_password().is_ok_and(|mut secret| {
            secret.zeroize();
            true
        })
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::Secret;

    pub fn set(_account: &str, _secret: &Secret<String>) -> bool {
        false
    }

    pub fn get(_account: &str) -> super::Lookup {
        super::Lookup::Unavailable
    }

    pub fn delete(_account: &str) {}

    pub fn holds(_service: &str, _account: &str) -> bool {
        false
    }
}

/// Stores `secret` for `account`; `false` when no keyring took it.
pub fn set(account: &str, secret: &Secret<String>) -> bool {
    imp::set(account, secret)
}

/// The secret stored for `account`.
pub fn get(account: &str) -> Lookup {
    imp::get(account)
}

/// Forgets `account`'s secret, if a keyring has one.
pub fn delete(account: &str) {
    imp::delete(account)
}

/// Whether the keyring holds a secret of another program's `service` for `account` (pixi keeps
/// its logins under `rattler`).
pub fn holds(service: &str, account: &str) -> bool {
    imp::holds(service, account)
}
