//! The command reference (docs/commands.md) against the command line itself: each command's
//! section holds a table with every flag its `--help` lists and no other, the global flags have
//! a table of their own, and every table row is short.

use std::collections::BTreeSet;

use clap::CommandFactory;

use super::Cli;

/// The longest a table row of the reference may be, in characters.
const LONGEST_ROW: usize = 300;

/// The lines of the page's section under `## {heading}`, up to the next `## ` heading; `None`
/// when there is no such section.
fn section<'a>(page: &'a str, heading: &str) -> Option<Vec<&'a str>> {
    let mut lines = page.lines().skip_while(|l| *l != format!("## {heading}"));
    lines.next()?;
    Some(lines.take_while(|l| !l.starts_with("## ")).collect())
}

/// The flags the first cells of a section's table rows name: every word in code that starts
/// with `-` (`` `-p`, `--provider NAME` `` names `-p` and `--provider`).
fn documented(lines: &[&str]) -> BTreeSet<String> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|row| format!("`{row}").split(" | ").next().map(str::to_owned))
        .flat_map(|cell| {
            let code: Vec<String> = cell
                .split('`')
                .skip(1)
                .step_by(2)
                .filter_map(|c| c.split_whitespace().next())
                .filter(|word| word.starts_with('-'))
                .map(str::to_owned)
                .collect();
            code
        })
        .collect()
}

/// The flags `--help` lists for `command`'s own arguments: each long name, short name and
/// visible alias (not `--help` and `--version`, which clap adds to every command).
fn listed(command: &clap::Command) -> BTreeSet<String> {
    let mut flags = BTreeSet::new();
    let args = command
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !["help", "version"].contains(&a.get_id().as_str()));
    for arg in args {
        let longs = arg.get_long().into_iter();
        let longs = longs.chain(arg.get_visible_aliases().into_iter().flatten());
        flags.extend(longs.map(|l| format!("--{l}")));
        let shorts = arg.get_short().into_iter();
        let shorts = shorts.chain(arg.get_visible_short_aliases().into_iter().flatten());
        flags.extend(shorts.map(|s| format!("-{s}")));
    }
    flags
}

#[test]
fn the_reference_lists_every_flag_of_every_command() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md");
    let Ok(page) = std::fs::read_to_string(path) else {
        eprintln!("skipped: {path} is not in this source tree");
        return;
    };
    let cli = Cli::command();
    let global = section(&page, "Global flags").expect("docs/commands.md has `## Global flags`");
    assert_eq!(
        documented(&global),
        listed(&cli),
        "docs/commands.md: global flags"
    );
    let commands = cli.get_subcommands().filter(|c| !c.is_hide_set());
    for command in commands {
        let name = command.get_name();
        let lines = section(&page, name)
            .unwrap_or_else(|| panic!("docs/commands.md has no section `## {name}`"));
        assert_eq!(
            documented(&lines),
            listed(command),
            "docs/commands.md: the flags of `{name}` (left: documented; right: in --help)"
        );
    }
}

#[test]
fn the_reference_s_table_rows_are_short() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md");
    let Ok(page) = std::fs::read_to_string(path) else {
        eprintln!("skipped: {path} is not in this source tree");
        return;
    };
    for row in page.lines().filter(|l| l.starts_with('|')) {
        let length = row.chars().count();
        assert!(
            length <= LONGEST_ROW,
            "docs/commands.md: a row of {length} characters: {row}"
        );
    }
}

#[test]
fn flags_are_read_from_the_first_cell_of_a_section_s_rows() {
    let page = "## login\n\ntext `--not-a-row`\n\n| flag | what |\n| --- | --- |\n\
        | `-p`, `--provider NAME` | the provider, not `--other` |\n\
        | `--flow a\\|b`, `--oauth-flow` | how |\n\n## logout\n\n| `--all` | every |\n";
    let login = section(page, "login").unwrap();
    let found: Vec<String> = documented(&login).into_iter().collect();
    assert_eq!(found, ["--flow", "--oauth-flow", "--provider", "-p"]);
    assert!(section(page, "status").is_none());
    let cli = Cli::command();
    let logout = cli.find_subcommand("logout").unwrap();
    let flags = listed(logout);
    assert!(flags.contains("--provider") && flags.contains("-p") && flags.contains("--all"));
    assert!(!flags.contains("--help") && !flags.contains("--config"));
}
