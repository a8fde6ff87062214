//! Opening a URL in the person's browser, when there is a person and a browser to open: the
//! command `$BROWSER` names, else the system's opener (`open` on macOS, `xdg-open` elsewhere).

use std::io::IsTerminal;
use std::process::{Command, Stdio};

/// The first command of `$BROWSER` (a colon-separated list, as the convention has it).
fn browser_var() -> Option<String> {
    let value = std::env::var("BROWSER").ok()?;
    value
        .split(':')
        .map(str::trim)
        .find(|c| !c.is_empty())
        .map(str::to_owned)
}

/// Whether a browser can be started here: `$BROWSER` names one, or there is a display (always on
/// macOS; `DISPLAY` or `WAYLAND_DISPLAY` elsewhere).
pub fn can_open() -> bool {
    browser_var().is_some()
        || cfg!(target_os = "macos")
        || std::env::var_os("DISPLAY").is_some_and(|v| !v.is_empty())
        || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|v| !v.is_empty())
}

/// Whether a browser can be opened for someone at a terminal.
pub fn available() -> bool {
    can_open() && std::io::stdin().is_terminal()
}

/// Starts the browser and does not wait for it. Returns whether it started; only `https` URLs
/// are opened, and plain `http` ones on this machine (an issuer run locally).
pub fn open(url: &str) -> bool {
    if !url.starts_with("https://") && crate::http::base_url("", Some(url)).is_err() {
        return false;
    }
    let (program, args) = match browser_var() {
        // `%s` stands for the URL; without it the URL comes last.
        Some(command) => {
            let mut words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
            let program = words.remove(0);
            if words.iter().any(|w| w.contains("%s")) {
                words = words.into_iter().map(|w| w.replace("%s", url)).collect();
            } else {
                words.push(url.to_owned());
            }
            (program, words)
        }
        None if cfg!(target_os = "macos") => ("open".to_owned(), vec![url.to_owned()]),
        None => ("xdg-open".to_owned(), vec![url.to_owned()]),
    };
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .is_ok()
}
