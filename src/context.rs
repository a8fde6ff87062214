//! What every command gets: how to talk to the user and which files to use, and the few things
//! every command shows the same way (a commit's notes and report, the surprises a change caused).

use crate::error::Result;
use crate::nixconf::paths::Layout;
use crate::nixconf::picture::Picture;
use crate::nixconf::store::{Note, Report};
use crate::nixconf::view::{self, SeenToken};
use crate::providers::{Registry, registry};
use crate::secret::Secret;
use crate::ui::Ui;

/// What every command gets: how to talk to the user and which files to use.
pub struct Context {
    pub ui: Ui,
    pub layout: Layout,
}

impl Context {
    /// Shows the notes a store session collected.
    pub fn show_notes(&self, notes: &[Note]) {
        for note in notes {
            match note {
                Note::Warn(text) => self.ui.warn(text),
                Note::Info(text) => self.ui.info(text),
            }
        }
    }

    /// The providers: the built-in ones and the user's own files.
    pub fn registry(&self) -> Result<Registry> {
        Registry::load(registry::user_dir().as_deref())
    }

    /// The tokens Nix uses now; empty when its configuration cannot be read (the command that
    /// follows reports that itself).
    pub fn nix_tokens_now(&self) -> Vec<SeenToken> {
        Picture::read(&self.layout)
            .map(|p| p.tokens_used().cloned().collect())
            .unwrap_or_default()
    }

    /// Warns about what a change did to the tokens Nix uses that the user did not ask for.
    pub fn warn_surprises(
        &self,
        before: &[SeenToken],
        set: Option<(&str, &Secret<String>)>,
        removed: &[String],
    ) {
        let Ok(picture) = Picture::read(&self.layout) else {
            return;
        };
        let after: Vec<SeenToken> = picture.tokens_used().cloned().collect();
        // When Nix does not read the token file at all, the store already said which line to add.
        let read = picture
            .settings
            .iter()
            .any(|s| s.file == self.layout.token_file);
        for sentence in view::surprises(before, &after, set.filter(|_| read), removed) {
            self.ui.warn(&sentence);
        }
    }

    /// Shows what a commit did: its notes, then the files it wrote (with `-v`), or in a dry run
    /// the files it would have written.
    pub fn show_report(&self, report: &Report, dry_run: bool) {
        self.show_notes(&report.notes);
        if dry_run {
            for path in &report.changed {
                self.ui.info(&format!("would change {}", path.display()));
            }
            self.ui.info("Dry run: nothing was written.");
            return;
        }
        if let Some(backup) = &report.backup {
            self.ui
                .detail(&format!("nix.conf backed up to {}", backup.display()));
        }
        for path in &report.changed {
            self.ui.detail(&format!("wrote {}", path.display()));
        }
    }
}
