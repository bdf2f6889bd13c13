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
    /// A bar over `total` cases, or nothing when stderr is not a terminal.
    pub fn new(total: u64) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
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
