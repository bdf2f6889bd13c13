//! The progress bar of `fleetsim check`: cases done and cases per second while the campaign
//! runs, shrink runs while it shrinks. Drawn on stderr only when stderr is a terminal, so
//! pipes, files and CI logs get the summary alone.

use std::io::IsTerminal;

use fleetsim_sim::fleet::campaign::{CaseId, Observer};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar over `total` cases on stderr, or nothing when stderr is not a terminal.
    pub fn new(total: u64) -> Progress {
        let target = std::io::stderr()
            .is_terminal()
            .then(ProgressDrawTarget::stderr);
        Progress::drawn_on(total, target)
    }

    /// A bar over `total` cases drawn on `target`, or nothing without one (the tests draw on
    /// an in-memory terminal).
    pub fn drawn_on(total: u64, target: Option<ProgressDrawTarget>) -> Progress {
        let Some(target) = target else {
            return Progress { bar: None };
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        // The template is a constant; should it ever fail to parse, the default bar will do.
        if let Ok(style) =
            ProgressStyle::with_template("{bar:40} {pos}/{len} cases ({per_sec}) {msg}")
        {
            bar.set_style(style);
        }
        Progress { bar: Some(bar) }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Observer for Progress {
    fn case_done(&self, _id: CaseId, _held: bool) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    fn shrinking(&self, runs: u32, faults: usize) {
        if let Some(b) = &self.bar {
            b.set_message(format!("shrinking: {runs} runs, down to {faults} faults"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::TermLike;
    use std::io;
    use std::sync::{Arc, Mutex};

    /// A terminal in memory: rows of characters and a cursor, enough of one for what
    /// indicatif writes (text, carriage returns, cleared lines, cursor moves).
    #[derive(Debug, Clone, Default)]
    struct Screen(Arc<Mutex<Cells>>);

    #[derive(Debug, Default)]
    struct Cells {
        rows: Vec<Vec<char>>,
        row: usize,
        col: usize,
    }

    impl Cells {
        fn line(&mut self) -> &mut Vec<char> {
            if self.rows.len() <= self.row {
                self.rows.resize(self.row + 1, Vec::new());
            }
            &mut self.rows[self.row]
        }
    }

    impl Screen {
        fn cells(&self) -> std::sync::MutexGuard<'_, Cells> {
            self.0.lock().unwrap()
        }

        /// What the screen shows, without trailing blanks.
        fn text(&self) -> String {
            let rows: Vec<String> = self
                .cells()
                .rows
                .iter()
                .map(|r| r.iter().collect::<String>().trim_end().to_string())
                .collect();
            rows.join("\n").trim_end().to_string()
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            100
        }

        fn move_cursor_up(&self, n: usize) -> io::Result<()> {
            let mut c = self.cells();
            c.row = c.row.saturating_sub(n);
            Ok(())
        }

        fn move_cursor_down(&self, n: usize) -> io::Result<()> {
            self.cells().row += n;
            Ok(())
        }

        fn move_cursor_right(&self, n: usize) -> io::Result<()> {
            self.cells().col += n;
            Ok(())
        }

        fn move_cursor_left(&self, n: usize) -> io::Result<()> {
            let mut c = self.cells();
            c.col = c.col.saturating_sub(n);
            Ok(())
        }

        fn write_line(&self, s: &str) -> io::Result<()> {
            self.write_str(s)?;
            self.write_str("\n")
        }

        fn write_str(&self, s: &str) -> io::Result<()> {
            let mut c = self.cells();
            for ch in s.chars() {
                match ch {
                    '\r' => c.col = 0,
                    '\n' => {
                        c.row += 1;
                        c.col = 0;
                    }
                    _ => {
                        let col = c.col;
                        let line = c.line();
                        if line.len() <= col {
                            line.resize(col + 1, ' ');
                        }
                        line[col] = ch;
                        c.col += 1;
                    }
                }
            }
            Ok(())
        }

        fn clear_line(&self) -> io::Result<()> {
            let mut c = self.cells();
            c.line().clear();
            c.col = 0;
            Ok(())
        }

        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    fn bar(total: u64) -> (Screen, Progress) {
        let screen = Screen::default();
        let target = ProgressDrawTarget::term_like(Box::new(screen.clone()));
        (screen, Progress::drawn_on(total, Some(target)))
    }

    fn id(index: u64) -> CaseId {
        CaseId { seed: 1, index }
    }

    #[test]
    fn cases_done_advance_the_bar() {
        let (screen, p) = bar(10);
        p.case_done(id(0), true);
        assert!(screen.text().contains(" 1/10 cases ("), "{}", screen.text());
        p.case_done(id(1), true);
        p.case_done(id(2), false);
        let text = screen.text();
        assert!(text.contains(" 3/10 cases ("), "{text}");
        // One line, redrawn in place.
        assert_eq!(text.lines().count(), 1, "{text}");
    }

    #[test]
    fn shrinking_shows_its_runs_and_faults() {
        let (screen, p) = bar(10);
        p.case_done(id(0), false);
        p.shrinking(7, 2);
        let text = screen.text();
        assert!(text.contains(" 1/10 cases ("), "{text}");
        assert!(
            text.ends_with(") shrinking: 7 runs, down to 2 faults"),
            "{text}"
        );
        p.shrinking(8, 1);
        assert!(
            screen
                .text()
                .ends_with(") shrinking: 8 runs, down to 1 faults"),
            "{}",
            screen.text()
        );
    }

    #[test]
    fn finish_clears_the_bar() {
        let (screen, p) = bar(4);
        p.case_done(id(0), true);
        p.shrinking(1, 3);
        assert!(!screen.text().is_empty());
        p.finish();
        assert_eq!(screen.text(), "", "nothing is left above the summary");
    }

    #[test]
    fn without_a_terminal_nothing_is_drawn() {
        let p = Progress::drawn_on(10, None);
        assert!(p.bar.is_none());
        // Every call is a no-op rather than a panic.
        p.case_done(id(0), true);
        p.shrinking(1, 1);
        p.finish();
    }
}
