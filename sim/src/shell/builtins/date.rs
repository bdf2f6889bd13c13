//! `date` on the virtual clock (UTC), with a strftime subset shared by `ls -l` and `stat`.

use super::super::exec::{Ex, Shell};
use super::super::io::Fds;

/// Formats epoch seconds `t` (UTC) with a strftime subset.
pub(crate) fn format_time(t: f64, fmt: &str) -> String {
    let secs = t.floor() as i64;
    let nanos = ((t - t.floor()) * 1e9).round() as i64;
    // The calendar is the simulation clock's; only GNU date's format dialect lives here.
    let c = crate::clock::Civil::from_epoch(t);
    let (y, m, d) = (c.year, c.month, c.day);
    let (hh, mm, ss) = (i64::from(c.hour), i64::from(c.minute), i64::from(c.second));
    let dow_sun0 = c.weekday as usize; // 0 = Sunday
    let mut out = String::new();
    let cs: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        if cs[i] != '%' || i + 1 >= cs.len() {
            out.push(cs[i]);
            i += 1;
            continue;
        }
        i += 1;
        // GNU flags: `-` (no padding), `_` (space padding).
        let mut flag = None;
        if cs[i] == '-' || cs[i] == '_' {
            flag = Some(cs[i]);
            i += 1;
            if i >= cs.len() {
                break;
            }
        }
        let num = |v: i64, w: usize| -> String {
            match flag {
                Some('-') => v.to_string(),
                Some('_') => format!("{v:>w$}"),
                _ => format!("{v:0w$}"),
            }
        };
        let h12 = if hh % 12 == 0 { 12 } else { hh % 12 };
        let s = match cs[i] {
            'Y' => y.to_string(),
            'C' => num(y / 100, 2),
            'y' => num(y % 100, 2),
            'm' => num(m as i64, 2),
            'd' => num(d as i64, 2),
            'e' => format!("{:>2}", d),
            'H' => num(hh, 2),
            'k' => format!("{hh:>2}"),
            'I' => num(h12, 2),
            'l' => format!("{h12:>2}"),
            'M' => num(mm, 2),
            'S' => num(ss, 2),
            'N' => format!("{nanos:09}"),
            'p' => if hh < 12 { "AM" } else { "PM" }.to_string(),
            'P' => if hh < 12 { "am" } else { "pm" }.to_string(),
            'j' => num(i64::from(c.yday), 3),
            'a' => c.weekday_name()[..3].to_string(),
            'A' => c.weekday_name().to_string(),
            'b' | 'h' => c.month_name()[..3].to_string(),
            'B' => c.month_name().to_string(),
            'u' => (if dow_sun0 == 0 { 7 } else { dow_sun0 }).to_string(),
            'w' => dow_sun0.to_string(),
            's' => secs.to_string(),
            'Z' => "UTC".to_string(),
            'z' => "+0000".to_string(),
            ':' if cs.get(i + 1) == Some(&'z') => {
                i += 1;
                "+00:00".to_string()
            }
            'F' => format!("{y}-{m:02}-{d:02}"),
            'T' => format!("{hh:02}:{mm:02}:{ss:02}"),
            'R' => format!("{hh:02}:{mm:02}"),
            'D' => format!("{m:02}/{d:02}/{:02}", y % 100),
            'c' => format!(
                "{} {} {:>2} {hh:02}:{mm:02}:{ss:02} {y}",
                &c.weekday_name()[..3],
                &c.month_name()[..3],
                d
            ),
            'n' => "\n".to_string(),
            't' => "\t".to_string(),
            '%' => "%".to_string(),
            other => format!("%{other}"),
        };
        out.push_str(&s);
        i += 1;
    }
    out
}

/// `ls -l`'s time column: `Nov 26 07:33` within six months of now, else `Nov 26  2023`.
pub(crate) fn ls_time(mtime: f64, now: f64) -> String {
    let six_months = 15_778_476.0; // 365.2425 * 86400 / 2, as GNU ls uses
    if (now - mtime).abs() < six_months {
        format_time(mtime, "%b %e %H:%M")
    } else {
        format_time(mtime, "%b %e  %Y")
    }
}

pub(crate) fn date(sh: &mut Shell<'_>, argv: &[String], fds: &Fds) -> Ex {
    let mut t = sh.ctx.now + sh.ctx.clock_offset;
    let mut fmt = "%a %b %e %H:%M:%S %Z %Y".to_string();
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_str();
        let date_arg = if a == "-d" || a == "--date" {
            i += 1;
            argv.get(i).cloned()
        } else if let Some(v) = a.strip_prefix("--date=") {
            Some(v.to_string())
        } else {
            a.strip_prefix("-d")
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        if let Some(d) = date_arg {
            match d
                .strip_prefix('@')
                .and_then(|n| n.trim().parse::<f64>().ok())
            {
                Some(v) => t = v,
                None if d == "now" => {}
                None => {
                    sh.err(fds, format!("date: invalid date ‘{d}’\n"));
                    return Ok(1);
                }
            }
        } else if let Some(f) = a.strip_prefix('+') {
            fmt = f.to_string();
        } else if a == "-u" || a == "--utc" || a == "-Iseconds" {
            if a == "-Iseconds" {
                fmt = "%Y-%m-%dT%H:%M:%S+00:00".into();
            }
        } else if a == "-I" || a == "--iso-8601" {
            fmt = "%Y-%m-%d".into();
        } else if a == "-R" || a == "--rfc-email" {
            fmt = "%a, %d %b %Y %H:%M:%S +0000".into();
        } else {
            sh.err(fds, format!("date: invalid date ‘{a}’\n"));
            return Ok(1);
        }
        i += 1;
    }
    let s = format_time(t, &fmt);
    sh.out(fds, format!("{s}\n"));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strftime_matches_gnu_date() {
        // Expected strings from `date -u -d @N +FMT` on Debian.
        assert_eq!(
            format_time(0.0, "%Y-%m-%d %H:%M:%S %a %b %j %s %Z %z"),
            "1970-01-01 00:00:00 Thu Jan 001 0 UTC +0000"
        );
        assert_eq!(
            format_time(1_700_000_000.0, "%a %b %e %H:%M:%S %Z %Y"),
            "Tue Nov 14 22:13:20 UTC 2023"
        );
        assert_eq!(
            format_time(951_782_400.0, "%F %j %A %B"),
            "2000-02-29 060 Tuesday February"
        );
        assert_eq!(ls_time(1_700_000_000.0, 1_700_000_100.0), "Nov 14 22:13");
        assert_eq!(ls_time(0.0, 1_700_000_100.0), "Jan  1  1970");
    }
}
