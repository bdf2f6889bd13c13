//! Where each host is in a play section: a stack of block frames (tasks, rescue, always),
//! advanced and failed as Ansible's PlayIterator does, so that rescue catches a failure,
//! always runs regardless, and an uncaught failure ends the host's play.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::playbook::{Block, Item, Task};

/// Which list of a block a frame is walking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Tasks,
    Rescue,
    Always,
}

/// One block being walked by one host.
#[derive(Debug, Clone)]
struct Frame {
    block: Arc<Block>,
    section: Section,
    idx: usize,
    /// A failure happened in this block and was not (yet) rescued.
    failed: bool,
    /// Vars that an `include_tasks` gives the tasks of the included block: as task vars
    /// (its parents' and its own), and as include params (its own and its loop item).
    include_vars: Option<IncludeVars>,
}

impl Frame {
    fn new(block: Arc<Block>, include_vars: Option<IncludeVars>) -> Frame {
        Frame {
            block,
            section: Section::Tasks,
            idx: 0,
            failed: false,
            include_vars,
        }
    }

    fn list(&self) -> &[Item] {
        match self.section {
            Section::Tasks => &self.block.block,
            Section::Rescue => &self.block.rescue,
            Section::Always => &self.block.always,
        }
    }
}

/// An include's vars for the tasks it brought in: (task vars, include params).
pub type IncludeVars = (Arc<Map<String, Value>>, Arc<Map<String, Value>>);

/// The next task of a host, with the vars its includes add.
#[derive(Debug, Clone)]
pub struct NextTask {
    pub task: Arc<Task>,
    pub include_vars: Vec<IncludeVars>,
}

/// A host's position in a list of top-level blocks.
#[derive(Debug, Clone)]
pub struct HostCursor {
    blocks: Arc<Vec<Arc<Block>>>,
    /// Index of the top-level block being walked (Ansible's `cur_block`).
    pub top: usize,
    stack: Vec<Frame>,
    /// The host failed and nothing caught it: it runs no more tasks in this play.
    pub failed: bool,
}

impl HostCursor {
    pub fn new(blocks: Arc<Vec<Arc<Block>>>) -> HostCursor {
        HostCursor {
            blocks,
            top: 0,
            stack: Vec::new(),
            failed: false,
        }
    }

    /// Whether the host is inside a block section that a failure would be rescued by.
    pub fn in_rescuable(&self) -> bool {
        self.stack
            .iter()
            .any(|f| f.section == Section::Tasks && !f.block.rescue.is_empty())
    }

    /// Settles the stack so that its top frame points at a task, and returns it; `None` when
    /// the host has finished every block.
    pub fn peek(&mut self) -> Option<NextTask> {
        if self.failed {
            return None;
        }
        loop {
            if self.stack.is_empty() {
                let block = self.blocks.get(self.top)?.clone();
                self.stack.push(Frame::new(block, None));
            }
            let frame = self.stack.last_mut().expect("stack is not empty here");
            if frame.idx < frame.list().len() {
                match frame.list()[frame.idx].clone() {
                    Item::Task(task) => {
                        let include_vars = self
                            .stack
                            .iter()
                            .filter_map(|f| f.include_vars.clone())
                            .collect();
                        return Some(NextTask { task, include_vars });
                    }
                    Item::Block(b) => {
                        frame.idx += 1;
                        self.stack.push(Frame::new(b, None));
                        continue;
                    }
                }
            }
            // The frame's current list is done: move on to always, or leave the block.
            match frame.section {
                Section::Tasks | Section::Rescue if !frame.block.always.is_empty() => {
                    if frame.section == Section::Rescue {
                        frame.failed = false;
                    }
                    frame.section = Section::Always;
                    frame.idx = 0;
                }
                Section::Rescue => {
                    frame.failed = false;
                    self.pop_frame(false);
                    if self.failed {
                        return None;
                    }
                }
                _ => {
                    let failed = frame.failed;
                    self.pop_frame(failed);
                    if self.failed {
                        return None;
                    }
                }
            }
        }
    }

    /// Moves past the task `peek` returned.
    pub fn advance(&mut self) {
        if let Some(f) = self.stack.last_mut() {
            f.idx += 1;
        }
    }

    /// Inserts included files' blocks to run right after the current task (call after
    /// [`HostCursor::advance`]), each block with the vars of its include.
    pub fn include(&mut self, includes: &[super::task::Included]) {
        // Pushed in reverse so the first included block runs first; each is a child frame.
        for inc in includes.iter().rev() {
            for b in inc.blocks.iter().rev() {
                self.stack.push(Frame::new(
                    b.clone(),
                    Some((inc.vars.clone(), inc.params.clone())),
                ));
            }
        }
    }

    /// Records a failure of the current task: rescue, always, or the host's end.
    /// Returns true when the failure will be handled by a rescue section.
    pub fn fail(&mut self) -> bool {
        let rescued = self.in_rescuable();
        self.fail_frame();
        rescued
    }

    fn fail_frame(&mut self) {
        let Some(frame) = self.stack.last_mut() else {
            self.failed = true;
            return;
        };
        match frame.section {
            Section::Tasks if !frame.block.rescue.is_empty() => {
                frame.failed = true;
                frame.section = Section::Rescue;
                frame.idx = 0;
            }
            Section::Tasks | Section::Rescue if !frame.block.always.is_empty() => {
                frame.failed = true;
                frame.section = Section::Always;
                frame.idx = 0;
            }
            _ => self.pop_frame(true),
        }
    }

    /// Leaves the top frame; a failure that was not rescued fails the enclosing frame.
    fn pop_frame(&mut self, failed: bool) {
        self.stack.pop();
        if self.stack.is_empty() {
            self.top += 1;
            if failed {
                self.failed = true;
            }
        } else if failed {
            self.fail_frame();
        }
    }

    /// Forgets the failures of the blocks the host is in (`meta: clear_host_errors`, as
    /// ansible-core's `PlayIterator.clear_host_errors`): leaving an always section after a
    /// failure then goes on with the next task instead of failing the host. A host that
    /// already left the play stays out.
    pub fn clear_errors(&mut self) {
        for frame in &mut self.stack {
            frame.failed = false;
        }
    }

    /// Stops the host (meta end_host, unreachable, any_errors_fatal).
    pub fn stop(&mut self, failed: bool) {
        self.stack.clear();
        self.top = self.blocks.len();
        self.failed = failed;
    }
}
