//! Trigger times that shrink towards round seconds, earlier or later: the strategy and the
//! proptest value tree behind [`super::trigger_time`].
//!
//! A counterexample reads best with `time: 13` rather than `time: 12.347`, and the time that
//! keeps a case failing is often a lower limit ("the fault must start after the first server
//! is drained"), so a time cannot only move towards the low bound, as an integer's binary
//! search does. The tree tries, in order:
//!
//! 1. the low bound (the earliest time; when the failure does not depend on the time, this is
//!    the only step);
//! 2. the whole seconds on either side of the failing time, the nearer first (on a tie the
//!    earlier), so a time may move later; when one fails, a bisection over whole seconds
//!    between the latest time known to pass and it, which settles on the earliest whole
//!    second that still fails (for "fails at 12.347 s or later": 13);
//! 3. when neither fails, the same with tenths, then hundredths, then thousandths (the
//!    thousandths bisection is the old search towards the low bound).
//!
//! Every step is a pure function of the answers so far, so the same failing case shrinks to
//! the same time; the steps are bounded (at most two probes per grid and a bisection of each),
//! so shrinking terminates; and every probe lies within the range.

use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// The grids a time moves to, coarsest first, in thousandths of a second.
const GRIDS: [i64; 4] = [1000, 100, 10, 1];

/// A time within `[lo, hi]` thousandths of a second, as [`TimeTree`] shrinks it.
#[derive(Debug, Clone, Copy)]
pub struct TriggerTime {
    lo: i64,
    hi: i64,
}

impl TriggerTime {
    /// Bounds in thousandths; a `hi` below `lo` is taken as `lo` (a single value).
    pub fn new(lo: i64, hi: i64) -> TriggerTime {
        TriggerTime { lo, hi: hi.max(lo) }
    }
}

impl Strategy for TriggerTime {
    type Tree = TimeTree;
    type Value = f64;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        // Drawn exactly as `strategy::number` draws (an integer range, no draw at all for a
        // single value), so a space gives the same cases as before this tree existed.
        let start = if self.lo >= self.hi {
            self.lo
        } else {
            (self.lo..=self.hi).new_tree(runner)?.current()
        };
        Ok(TimeTree::new(self.lo, self.hi, start))
    }
}

/// Where the search is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Nothing tried yet: the drawn time is the failing one.
    Start,
    /// Probing the low bound.
    Low,
    /// Probing the points of grid `level` next to the failing time; `next` is the other one,
    /// still to probe.
    Near { level: usize, next: Option<i64> },
    /// Bisecting grid `level` between grid index `pass` (passes, or lies at or below a time
    /// that does) and `fail` (fails); probing their middle.
    Bisect { level: usize, pass: i64, fail: i64 },
    /// Nothing left to try.
    Done,
}

/// The value tree of one trigger time, in thousandths of a second.
#[derive(Debug, Clone)]
pub struct TimeTree {
    lo: i64,
    hi: i64,
    /// The time under test (what [`ValueTree::current`] gives).
    current: i64,
    /// The simplest time known to fail: the drawn one until a probe fails.
    fail: i64,
    /// The latest time below `fail` known to pass (the low bound once it has).
    pass: i64,
    step: Step,
}

impl TimeTree {
    /// A tree at `start` thousandths within `[lo, hi]` (`start` is clamped into it).
    pub fn new(lo: i64, hi: i64, start: i64) -> TimeTree {
        let hi = hi.max(lo);
        let start = start.clamp(lo, hi);
        TimeTree {
            lo,
            hi,
            current: start,
            fail: start,
            pass: lo,
            step: Step::Start,
        }
    }

    /// The current time in thousandths.
    pub fn thousandths(&self) -> i64 {
        self.current
    }

    /// Takes the verdict on `current` and moves to the next probe; false when none is left
    /// (then `current` is the simplest failing time).
    fn advance(&mut self, failed: bool) -> bool {
        let probed = self.current;
        if failed {
            self.fail = probed;
        } else if probed < self.fail {
            self.pass = self.pass.max(probed);
        }
        let next = match self.step {
            Step::Start | Step::Done => {
                if self.step == Step::Done || !failed {
                    // Done, or told the drawn time passes (the protocol says it fails):
                    // nothing to learn from here on.
                    None
                } else if self.fail > self.lo {
                    self.step = Step::Low;
                    Some(self.lo)
                } else {
                    None
                }
            }
            Step::Low if failed => None,
            Step::Low => self.enter_level(0),
            Step::Near { level, .. } if failed => self.enter_bisect(level),
            Step::Near { level, next } => match next {
                Some(t) if t > self.pass => {
                    self.step = Step::Near { level, next: None };
                    Some(t)
                }
                _ => self.enter_level(level + 1),
            },
            Step::Bisect { level, pass, fail } => {
                let mid = probed / GRIDS[level];
                let (pass, fail) = if failed { (pass, mid) } else { (mid, fail) };
                self.bisect(level, pass, fail)
            }
        };
        match next {
            Some(t) => {
                self.current = t;
                true
            }
            None => {
                self.step = Step::Done;
                self.current = self.fail;
                // After a passing probe, going back to the failing time is a move (the caller
                // reruns it, then simplifies, which ends here); after a failing one the tree
                // already stands on it.
                !failed && probed != self.fail
            }
        }
    }

    /// Starts grid `level`: bisect at once when the failing time is on the grid, else probe
    /// its neighbours on the grid, the nearer first. Past the finest grid, nothing is left.
    fn enter_level(&mut self, level: usize) -> Option<i64> {
        let g = *GRIDS.get(level)?;
        if self.fail.rem_euclid(g) == 0 {
            return self.enter_bisect(level);
        }
        let down = self.fail.div_euclid(g) * g;
        let up = down + g;
        let (near, far) = if self.fail - down <= up - self.fail {
            (down, up)
        } else {
            (up, down)
        };
        // Only times in range, above the latest pass (a time at or below it is taken to pass).
        let usable = |t: i64| t > self.pass && t >= self.lo && t <= self.hi;
        let mut probes = [near, far].into_iter().filter(|t| usable(*t));
        match probes.next() {
            Some(first) => {
                self.step = Step::Near {
                    level,
                    next: probes.next(),
                };
                Some(first)
            }
            None => self.enter_level(level + 1),
        }
    }

    /// Bisects grid `level` between the latest pass and the failing time (on that grid).
    fn enter_bisect(&mut self, level: usize) -> Option<i64> {
        let g = GRIDS[level];
        self.bisect(level, self.pass.div_euclid(g), self.fail / g)
    }

    fn bisect(&mut self, level: usize, pass: i64, fail: i64) -> Option<i64> {
        if fail - pass <= 1 {
            return None;
        }
        let mid = pass + (fail - pass) / 2;
        self.step = Step::Bisect { level, pass, fail };
        Some(mid * GRIDS[level])
    }
}

impl ValueTree for TimeTree {
    type Value = f64;

    fn current(&self) -> f64 {
        self.current as f64 / super::SCALE
    }

    /// The current time still fails: try a simpler one.
    fn simplify(&mut self) -> bool {
        self.advance(true)
    }

    /// The current time passes: try one between it and the failing time, or go back to the
    /// failing time.
    fn complicate(&mut self) -> bool {
        if matches!(self.step, Step::Start | Step::Done) {
            return false;
        }
        self.advance(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Drives a tree as proptest's runner (and the campaign's shrinker) does, with `fails`
    /// standing for the test; returns the time it settles on and the probes it made.
    fn shrink(mut tree: TimeTree, fails: impl Fn(i64) -> bool) -> (i64, Vec<i64>) {
        let mut probes = Vec::new();
        let mut best = tree.thousandths();
        assert!(fails(best), "the drawn time must fail");
        if tree.simplify() {
            // Far more than any search needs; a loop that never ends fails the test.
            for _ in 0..1000 {
                let t = tree.thousandths();
                probes.push(t);
                let moved = if fails(t) {
                    best = t;
                    tree.simplify()
                } else {
                    tree.complicate()
                };
                if !moved {
                    return (best, probes);
                }
            }
            panic!("no end after 1000 probes: {probes:?}");
        }
        (best, probes)
    }

    #[test]
    fn a_time_the_failure_ignores_goes_to_the_low_bound_in_one_probe() {
        let (t, probes) = shrink(TimeTree::new(0, 60_000, 42_347), |_| true);
        assert_eq!((t, probes), (0, vec![0]));
        let (t, probes) = shrink(TimeTree::new(500, 60_000, 42_347), |_| true);
        assert_eq!((t, probes), (500, vec![500]));
        // Already at the low bound, or a single value: nothing to try.
        assert_eq!(
            shrink(TimeTree::new(0, 60_000, 0), |_| true).1,
            Vec::<i64>::new()
        );
        assert_eq!(
            shrink(TimeTree::new(7_000, 7_000, 7_000), |_| true).1,
            Vec::<i64>::new()
        );
    }

    #[test]
    fn a_lower_limit_settles_on_the_next_whole_second_earlier_or_later() {
        let late_enough = |t: i64| t >= 12_347;
        // Drawn later: moves earlier, to 13 s.
        assert_eq!(
            shrink(TimeTree::new(0, 60_000, 41_003), late_enough).0,
            13_000
        );
        // Drawn between 12.347 and 13: moves later, to 13 s.
        assert_eq!(
            shrink(TimeTree::new(0, 60_000, 12_500), late_enough).0,
            13_000
        );
        // A whole limit is itself the answer.
        assert_eq!(
            shrink(TimeTree::new(0, 60_000, 30_000), |t| t >= 12_000).0,
            12_000
        );
        // No whole second above the limit in range: the next tenth.
        assert_eq!(
            shrink(TimeTree::new(0, 12_900, 12_871), late_enough).0,
            12_400
        );
    }

    #[test]
    fn a_window_settles_inside_it_on_its_roundest_earliest_time() {
        let window = |a: i64, b: i64| move |t: i64| (a..=b).contains(&t);
        assert_eq!(
            shrink(TimeTree::new(0, 60_000, 33_412), window(31_400, 33_600)).0,
            32_000
        );
        assert_eq!(
            shrink(TimeTree::new(0, 60_000, 20_740), window(20_250, 20_750)).0,
            20_300
        );
        assert_eq!(
            shrink(TimeTree::new(0, 60_000, 20_260), window(20_250, 20_750)).0,
            20_300
        );
        assert_eq!(
            shrink(TimeTree::new(0, 60_000, 7_345), window(7_341, 7_349)).0,
            7_341
        );
        assert_eq!(
            shrink(TimeTree::new(0, 60_000, 7_345), window(7_345, 7_345)).0,
            7_345
        );
    }

    #[test]
    fn the_same_tree_makes_the_same_probes() {
        let fails = |t: i64| (10_123..=40_000).contains(&t);
        let a = shrink(TimeTree::new(0, 60_000, 38_765), fails);
        let b = shrink(TimeTree::new(0, 60_000, 38_765), fails);
        assert_eq!(a, b);
        assert_eq!(a.0, 11_000);
    }

    proptest! {
        /// Whatever the range, the drawn time and the failing set (a window), every probe and
        /// the result stay in range, the result still fails, and the search ends.
        #[test]
        fn probes_and_results_stay_in_range(
            lo in 0i64..100_000,
            len in 0i64..100_000,
            start in 0.0f64..=1.0,
            a in 0.0f64..=1.0,
            b in 0.0f64..=1.0,
        ) {
            let hi = lo + len;
            let at = |f: f64| lo + (f * len as f64) as i64;
            let start = at(start);
            let (wa, wb) = (at(a).min(at(b)).min(start), at(a).max(at(b)).max(start));
            let fails = |t: i64| (wa..=wb).contains(&t);
            let (t, probes) = shrink(TimeTree::new(lo, hi, start), fails);
            prop_assert!(probes.iter().all(|p| (lo..=hi).contains(p)), "{probes:?}");
            prop_assert!(fails(t));
            // A later time is only ever a round one (a whole second, tenth or hundredth).
            prop_assert!(t <= start || t % 10 == 0, "{t} after {start}");
        }
    }
}
