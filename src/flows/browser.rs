//! Opening a URL in the person's browser, when there is a person and a browser to open.

use std::io::IsTerminal;
use std::process::{Command, Stdio};

/// Whether a browser can be opened here: someone is at a terminal, and there is a display (always
/// on macOS; `DISPLAY` or `WAYLAND_DISPLAY` elsewhere).
pub fn available() -> bool {
    let display = cfg!(target_os = "macos")
        || std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|v| !v.is_empty());
    display && std::io::stdin().is_terminal()
}

/// Starts the system's URL opener and does not wait for it. Returns whether it started; only
/// `https` URLs are opened, and plain `http` ones on this machine (an issuer run locally).
pub fn open(url: &str) -> bool {
    if !url.starts_with("https://") && crate::http::base_url("", Some(url)).is_err() {
        return false;
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    Command::new(opener)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .is_ok()
}
