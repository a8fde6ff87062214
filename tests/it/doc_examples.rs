//! The console examples in README.md and docs/**/*.md, run against the real binary with `trycmd`,
//! so that a changed flag, message or exit code fails the tests until the docs say the same.
//!
//! The convention, for whoever writes the docs:
//! - A ```` ```console ```` block is run. Each `$ nix-tokens …` line is a command (`> ` continues
//!   it); the lines below it are what it prints, standard output and standard error together; a
//!   `? N` line right after the command is its exit code (`? failed` for any failure), else it
//!   must succeed. `...` on a line of its own stands for any number of lines and `[..]` for any
//!   text within a line.
//! - A ```` ```console,ignore ```` block is shown but not run: use it for an example that needs a
//!   real forge, a browser, a terminal to answer a prompt, standard input (`< token.txt`), a
//!   pipe, or a real Nix. ```` ```sh ````, ```` ```text ````, untagged and other blocks are never
//!   run.
//! - Each page runs in a temporary home of its own, its examples in order (what one writes the
//!   next one sees), in an empty working directory: `$HOME` is `[HOME]` in the expected output
//!   (`[HOME]/.config/nix/nix.conf`), `$NIX_CONF_DIR` is `[ETC]`. No example reaches the network:
//!   every proxy variable points at a closed port on 127.0.0.1.
//! - A failure names the page's copy in a temporary directory (where untagged blocks are marked
//!   as text, so that trycmd leaves them alone) and the line in the page itself, with a diff of
//!   the expected and the actual output; fix the page by hand.

use std::path::{Path, PathBuf};

use crate::support::*;

/// The pages whose examples are run: README.md and every Markdown file under docs/ (not the
/// site mdBook builds into docs/book).
fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let mut dirs = vec![root.join("docs")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && path != root.join("docs/book") {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// `nix-tokens` for one page: a script that runs the real binary with the environment of a
/// [`TestEnv`] (nothing of the developer's Nix, git, keyring or browser) in an empty directory.
fn isolated_bin(env: &TestEnv) -> PathBuf {
    let template = env.std_cmd();
    // env takes every `-u NAME` before the first `NAME=VALUE`.
    let mut unset = vec!["NO_PROXY".to_owned(), "no_proxy".to_owned()];
    let mut set = vec![("GIT_CONFIG_NOSYSTEM".to_owned(), "1".to_owned())];
    let gitconfig = env.home.join(".gitconfig");
    set.push(("GIT_CONFIG_GLOBAL".into(), gitconfig.display().to_string()));
    for proxy in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
    ] {
        set.push((proxy.into(), "http://127.0.0.1:9".into()));
    }
    for (key, value) in template.get_envs() {
        let key = key.to_str().expect("UTF-8 variable names").to_owned();
        match value {
            Some(v) => set.push((key, v.to_str().unwrap().to_owned())),
            None => unset.push(key),
        }
    }
    let mut script = String::from("#!/bin/sh\nexec env");
    for key in unset {
        script.push_str(&format!(" -u {key}"));
    }
    for (key, value) in set {
        script.push_str(&format!(" {key}={}", quote(&value)));
    }
    let work = env.root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    script.push_str(&format!(
        " sh -c 'cd \"$0\" && exec \"$@\"' {} {} \"$@\"\n",
        quote(work.to_str().unwrap()),
        quote(template.get_program().to_str().unwrap()),
    ));
    let bin = env.root.join("bin/nix-tokens");
    env.write(&bin, &script);
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// A copy of `page` at `dest`, line for line, in which only the console blocks are for trycmd:
/// it would run an untagged block too.
fn runnable_copy(page: &Path, dest: &Path) {
    let text = std::fs::read_to_string(page).unwrap();
    let mut fence: Option<String> = None;
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        let ticks = line.chars().take_while(|&c| c == '`').count();
        match &fence {
            Some(open) if line.starts_with(open.as_str()) => fence = None,
            Some(_) => {}
            None if ticks >= 3 => {
                fence = Some("`".repeat(ticks));
                let lang = line[ticks..].trim().split(',').next().unwrap_or("");
                if !matches!(lang, "console" | "trycmd") {
                    out.push_str(&format!("{}text\n", "`".repeat(ticks)));
                    continue;
                }
            }
            None => {}
        }
        out.push_str(line);
    }
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    std::fs::write(dest, out).unwrap();
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[test]
fn the_examples_in_the_readme_and_the_manual_say_what_the_binary_does() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for page in pages() {
        run_page(&page, page.strip_prefix(root).unwrap());
    }
}

/// Runs the examples of `page` (`name` in failures) in a home of their own; panics with trycmd's
/// diff when one prints something else or exits otherwise.
fn run_page(page: &Path, name: &Path) {
    let env = TestEnv::new();
    let bin = isolated_bin(&env);
    let copy = env.root.join("pages").join(name);
    runnable_copy(page, &copy);
    eprintln!("the examples in {}", name.display());
    let cases = trycmd::TestCases::new();
    cases
        .register_bin("nix-tokens", bin)
        .case(&copy)
        .insert_var("[HOME]", env.home.display().to_string())
        .unwrap()
        .insert_var("[ETC]", env.etc.display().to_string())
        .unwrap();
    cases.run();
}

#[test]
fn an_example_whose_output_or_exit_code_changed_fails() {
    let env = TestEnv::new();
    let page = |example: &str| {
        let path = env.root.join("page.md");
        let text = format!(
            "# A page\n\n```\nnot run\n```\n\n```console\n{example}\n```\n\n\
             ```console,ignore\n$ nix-tokens login github\nnot run either\n```\n"
        );
        env.write(&path, &text);
        path
    };
    let refresh = "$ nix-tokens refresh\nNo token needs renewing: none expires within 5 minutes.\n";
    run_page(&page(refresh), Path::new("right.md"));
    for wrong in [
        refresh.replace("5 minutes", "10 minutes"),
        refresh.replace("refresh\n", "refresh\n? 1\n"),
        refresh.replace("refresh", "refresh --no-such-flag"),
    ] {
        let path = page(&wrong);
        let failed = std::panic::catch_unwind(|| run_page(&path, Path::new("wrong.md")));
        assert!(failed.is_err(), "the examples passed:\n{wrong}");
    }
}
