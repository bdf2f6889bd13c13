//! The virtual clock: epoch seconds that only the simulation advances (pauses, sleeps,
//! retries, restarts), and civil-time conversion in UTC for facts and `date`.

/// Virtual time in epoch seconds. Wall time never waits for it.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Clock {
    now: f64,
    start: f64,
}

impl Clock {
    pub fn new(start: f64) -> Clock {
        Clock { now: start, start }
    }

    pub fn now(&self) -> f64 {
        self.now
    }

    pub fn start(&self) -> f64 {
        self.start
    }

    /// Virtual seconds since the run started.
    pub fn elapsed(&self) -> f64 {
        self.now - self.start
    }

    /// Moves time forward by `seconds` (negative values are ignored: time never goes back).
    pub fn advance(&mut self, seconds: f64) {
        if seconds > 0.0 && seconds.is_finite() {
            self.now += seconds;
        }
    }

    /// Runs `work` once per host as if the hosts ran in parallel: each starts at the current
    /// time, and the clock ends at the latest host's end (a task's hosts run concurrently on
    /// a real fleet, so two hosts sleeping 2 s take 2 s, not 4 s).
    pub fn parallel_start(&self) -> ParallelSpan {
        ParallelSpan {
            start: self.now,
            latest: self.now,
        }
    }

    /// Ends a task cut short by its `timeout` at its deadline `t`: what the task would have
    /// done after the alarm never happened, so the clock goes back to `t` if it is past it
    /// (never before the run's start).
    pub fn cut_to(&mut self, t: f64) {
        if t < self.now && t >= self.start {
            self.now = t;
        }
    }

    /// Moves time forward to `t` if it is later than now.
    pub fn advance_to(&mut self, t: f64) {
        if t > self.now {
            self.now = t;
        }
    }
}

/// The span of one task over several hosts; see [`Clock::parallel_start`].
#[derive(Debug, Clone, Copy)]
pub struct ParallelSpan {
    start: f64,
    latest: f64,
}

impl ParallelSpan {
    /// Puts the clock back at the task's start before the next host runs, remembering how far
    /// the previous host got.
    pub fn next_host(&mut self, clock: &mut Clock) {
        self.latest = self.latest.max(clock.now);
        clock.now = self.start;
    }

    /// Ends the span: the clock stands at the latest end of any host.
    pub fn finish(mut self, clock: &mut Clock) {
        self.latest = self.latest.max(clock.now);
        clock.now = self.latest;
    }
}

/// A UTC date and time broken into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
    /// 0 = Sunday .. 6 = Saturday
    pub weekday: u32,
    /// 1-based day of the year
    pub yday: u32,
}

const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Civil {
    /// Breaks epoch seconds into UTC fields (Howard Hinnant's days-from-civil algorithm).
    pub fn from_epoch(t: f64) -> Civil {
        let secs = t.floor() as i64;
        let micros = ((t - t.floor()) * 1_000_000.0).round().min(999_999.0) as u32;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = if m <= 2 { y + 1 } else { y };
        let weekday = (days + 4).rem_euclid(7) as u32;
        let yday = (days - days_from_civil(year, 1, 1)) as u32 + 1;
        Civil {
            year,
            month: m,
            day: d,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            micros,
            weekday,
            yday,
        }
    }

    pub fn weekday_name(&self) -> &'static str {
        WEEKDAYS[self.weekday as usize]
    }

    pub fn month_name(&self) -> &'static str {
        MONTHS[(self.month - 1) as usize]
    }

    /// `strftime` with the common conversions (`%Y %m %d %H %M %S %j %a %A %b %B %y %e %s %f
    /// %F %T %D %R %z %Z %u %w %U %p %I %n %t %%`); others are kept as written.
    pub fn format(&self, fmt: &str, epoch: f64) -> String {
        let mut out = String::new();
        let mut chars = fmt.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let Some(spec) = chars.next() else {
                out.push('%');
                break;
            };
            match spec {
                'Y' => out.push_str(&self.year.to_string()),
                'y' => out.push_str(&format!("{:02}", self.year.rem_euclid(100))),
                'm' => out.push_str(&format!("{:02}", self.month)),
                'd' => out.push_str(&format!("{:02}", self.day)),
                'e' => out.push_str(&format!("{:>2}", self.day)),
                'H' => out.push_str(&format!("{:02}", self.hour)),
                'I' => out.push_str(&format!("{:02}", (self.hour + 11) % 12 + 1)),
                'p' => out.push_str(if self.hour < 12 { "AM" } else { "PM" }),
                'M' => out.push_str(&format!("{:02}", self.minute)),
                'S' => out.push_str(&format!("{:02}", self.second)),
                'f' => out.push_str(&format!("{:06}", self.micros)),
                'j' => out.push_str(&format!("{:03}", self.yday)),
                'a' => out.push_str(&self.weekday_name()[..3]),
                'A' => out.push_str(self.weekday_name()),
                'b' | 'h' => out.push_str(&self.month_name()[..3]),
                'B' => out.push_str(self.month_name()),
                'u' => {
                    out.push_str(&(if self.weekday == 0 { 7 } else { self.weekday }).to_string())
                }
                'w' => out.push_str(&self.weekday.to_string()),
                'U' => out.push_str(&format!("{:02}", (self.yday + 6 - self.weekday) / 7)),
                'W' => out.push_str(&format!(
                    "{:02}",
                    (self.yday + 6 - (self.weekday + 6) % 7) / 7
                )),
                's' => out.push_str(&(epoch.floor() as i64).to_string()),
                'F' => out.push_str(&format!("{}-{:02}-{:02}", self.year, self.month, self.day)),
                'T' => out.push_str(&format!(
                    "{:02}:{:02}:{:02}",
                    self.hour, self.minute, self.second
                )),
                'R' => out.push_str(&format!("{:02}:{:02}", self.hour, self.minute)),
                'D' => out.push_str(&format!(
                    "{:02}/{:02}/{:02}",
                    self.month,
                    self.day,
                    self.year.rem_euclid(100)
                )),
                'z' => out.push_str("+0000"),
                'Z' => out.push_str("UTC"),
                'n' => out.push('\n'),
                't' => out.push('\t'),
                '%' => out.push('%'),
                other => {
                    out.push('%');
                    out.push(other);
                }
            }
        }
        out
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339 time (`2024-05-01T12:00:00Z`, `...+02:00`, fractional seconds) into
/// epoch seconds.
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let s = s.trim();
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let mut dp = date.split('-');
    let y: i64 = dp.next()?.parse().ok()?;
    let mo: i64 = dp.next()?.parse().ok()?;
    let d: i64 = dp.next()?.parse().ok()?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let (clock, offset) = if let Some(t) = time.strip_suffix(['Z', 'z']) {
        (t, 0i64)
    } else {
        let idx = time.rfind(['+', '-'])?;
        let (t, off) = time.split_at(idx);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let (oh, om) = off[1..].split_once(':')?;
        (
            t,
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
        )
    };
    let mut tp = clock.split(':');
    let h: i64 = tp.next()?.parse().ok()?;
    let mi: i64 = tp.next()?.parse().ok()?;
    let sec: f64 = tp.next()?.parse().ok()?;
    if h > 23 || mi > 59 || !(0.0..61.0).contains(&sec) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 - offset) as f64 + sec)
}

/// Formats epoch seconds as RFC 3339 UTC (`2024-05-01T12:00:00Z`).
pub fn to_rfc3339(t: f64) -> String {
    Civil::from_epoch(t).format("%Y-%m-%dT%H:%M:%SZ", t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        let t = parse_rfc3339("2024-02-29T13:45:10Z").unwrap();
        assert_eq!(t, 1_709_214_310.0);
        let c = Civil::from_epoch(t);
        assert_eq!(
            (c.year, c.month, c.day, c.hour, c.minute, c.second),
            (2024, 2, 29, 13, 45, 10)
        );
        assert_eq!(c.weekday_name(), "Thursday");
        assert_eq!(c.yday, 60);
        assert_eq!(to_rfc3339(t), "2024-02-29T13:45:10Z");
    }

    #[test]
    fn offsets_and_formats() {
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0.0));
        let c = Civil::from_epoch(0.0);
        assert_eq!(
            c.format("%a %b %e %T %Z %Y", 0.0),
            "Thu Jan  1 00:00:00 UTC 1970"
        );
        assert_eq!(parse_rfc3339("not a time"), None);
    }

    #[test]
    fn clock_only_moves_forward() {
        let mut c = Clock::new(100.0);
        c.advance(5.0);
        c.advance(-3.0);
        c.advance_to(90.0);
        assert_eq!(c.now(), 105.0);
        assert_eq!(c.elapsed(), 5.0);
    }
}
