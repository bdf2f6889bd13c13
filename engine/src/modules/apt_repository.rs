//! `apt_repository`: adds or removes an APT source line in `/etc/apt/sources.list` and
//! `/etc/apt/sources.list.d/*.list` on a Debian-family host, as ansible-core's module does
//! (its `SourcesList`: a line already present anywhere is re-enabled rather than added, a
//! new one goes to a file named after the repository's host and path, or `filename`; files
//! are rewritten in the module's normalised form when anything changed; a file left empty
//! is removed), with `mode` for new files, check mode, the diff, and `update_cache`
//! refreshing the host's simulated apt cache (what `apt: cache_valid_time` then sees).
//! `ppa:` sources need Launchpad and are refused.

use serde_json::{json, Value};

use fleetsim_sim::fs::{Sandbox, WriteMode};
use fleetsim_sim::os::packages::APT_STAMP;
use fleetsim_sim::os::Family;

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct AptRepository;

const SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("repo", Kind::Str).required(),
        opt("state", Kind::Str).choices(&["absent", "present"]),
        opt("mode", Kind::Raw),
        opt("update_cache", Kind::Bool).aliases(&["update-cache"]),
        opt("update_cache_retries", Kind::Int),
        opt("update_cache_retry_max_delay", Kind::Int),
        opt("filename", Kind::Str),
        opt("install_python_apt", Kind::Bool),
        opt("validate_certs", Kind::Bool),
        opt("codename", Kind::Str),
    ],
);

const SOURCES_LIST: &str = "/etc/apt/sources.list";
const SOURCES_DIR: &str = "/etc/apt/sources.list.d";
const VALID_SOURCE_TYPES: &[&str] = &["deb", "deb-src"];
/// Virtual seconds `apt-get update` takes after a repository is added.
const CACHE_UPDATE_SECONDS: f64 = 3.0;

/// One line of a sources file, as `SourcesList._parse` reads it.
#[derive(Clone, Debug, PartialEq)]
struct Line {
    valid: bool,
    enabled: bool,
    source: String,
    comment: String,
}

fn parse(line: &str) -> Line {
    let mut line = line.trim();
    let mut enabled = true;
    if let Some(rest) = line.strip_prefix('#') {
        enabled = false;
        line = rest;
    }
    let mut comment = String::new();
    let mut body = line;
    if let Some(i) = line.find('#').filter(|i| *i > 0) {
        comment = line[i + 1..].trim().to_string();
        body = &line[..i];
    }
    let mut source = body.trim().to_string();
    let mut valid = false;
    let chunks: Vec<&str> = source.split_whitespace().collect();
    if chunks
        .first()
        .is_some_and(|c| VALID_SOURCE_TYPES.contains(c))
    {
        valid = true;
        source = chunks.join(" ");
    }
    Line {
        valid,
        enabled,
        source,
        comment,
    }
}

/// `dump()` of one file: its lines in the module's normal form.
fn dump(lines: &[Line]) -> String {
    lines
        .iter()
        .map(|l| {
            let mut s = String::new();
            if !l.enabled {
                s.push_str("# ");
            }
            s.push_str(&l.source);
            if !l.comment.is_empty() {
                s.push_str(" # ");
                s.push_str(&l.comment);
            }
            s.push('\n');
            s
        })
        .collect()
}

/// `_suggest_filename`: the repository's host and path, alphanumerics joined by `_`.
fn suggest_filename(source: &str, filename: Option<&str>) -> String {
    let options =
        regex::Regex::new(r"\[[^\]]+\]").map(|re| re.replace_all(source, "").into_owned());
    let line = options.unwrap_or_else(|_| source.to_string());
    let line = regex::Regex::new(r"\w+://")
        .map(|re| re.replace_all(&line, "").into_owned())
        .unwrap_or(line);
    let first = line
        .split_whitespace()
        .find(|p| !VALID_SOURCE_TYPES.contains(p))
        .unwrap_or_default();
    let first = first.rsplit_once('@').map_or(first, |(_, host)| host);
    let name = match filename {
        Some(f) => f.to_string(),
        None => first
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("_"),
    };
    format!("{name}.list")
}

/// The sources files of the host: `sources.list`, then `sources.list.d/*.list` by name.
fn load(fs: &Sandbox) -> Vec<(String, Vec<Line>)> {
    let mut files = Vec::new();
    let mut read = |path: String| {
        if let Ok(text) = fs.read_to_string(&path) {
            files.push((path, text.lines().map(parse).collect()));
        }
    };
    if fs.is_file(SOURCES_LIST) {
        read(SOURCES_LIST.to_string());
    }
    let mut names = fs.list_dir(SOURCES_DIR).unwrap_or_default();
    names.sort();
    for name in names.into_iter().filter(|n| n.ends_with(".list")) {
        read(format!("{SOURCES_DIR}/{name}"));
    }
    files
}

fn dumped(files: &[(String, Vec<Line>)]) -> Vec<(String, String)> {
    files
        .iter()
        .filter(|(_, lines)| !lines.is_empty())
        .map(|(name, lines)| (name.clone(), dump(lines)))
        .collect()
}

impl Module for AptRepository {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let repo = arg_str(&args, "repo").unwrap_or_default();
        let state = arg_str(&args, "state").unwrap_or_else(|| "present".into());
        let update_cache = args.get("update_cache").and_then(super::to_bool) != Some(false);
        let filename = arg_str(&args, "filename");
        let check = ctx.check_mode;
        let diff_mode = ctx.diff;
        let now = ctx.world.clock.now();
        let (host, distro) = match ctx.target_os_host() {
            Ok(hd) => hd,
            Err(r) => return r,
        };
        if distro.family() != Family::Debian {
            // No python3-apt on a Red Hat host, and no apt-get to install it with.
            return super::fail("python3-apt must be installed and visible from /usr/bin/python3.");
        }
        if repo.is_empty() {
            return super::fail("Please set argument 'repo' to a non-empty value");
        }
        if repo.starts_with("ppa:") {
            return super::fail(
                "fleetsim does not simulate ppa: repositories (they need Launchpad); give the deb line",
            );
        }
        let mut files = load(&host.fs);
        let before = dumped(&files);
        let new = parse(&repo);
        if !new.valid || !new.enabled {
            let shown = repo.trim().trim_start_matches('#');
            return super::fail(&format!("Invalid repository string: {shown}"));
        }
        let mut new_files: Vec<String> = Vec::new();
        if state == "present" {
            let mut found = false;
            for (_, lines) in files.iter_mut() {
                for l in lines.iter_mut().filter(|l| l.source == new.source) {
                    l.enabled = true;
                    found = true;
                }
            }
            if !found {
                let name = suggest_filename(&new.source, filename.as_deref());
                let path = if name.contains('/') {
                    name
                } else {
                    format!("{SOURCES_DIR}/{name}")
                };
                let entry = Line {
                    valid: true,
                    enabled: true,
                    source: new.source.clone(),
                    comment: String::new(),
                };
                match files.iter_mut().find(|(n, _)| *n == path) {
                    Some((_, lines)) => lines.push(entry),
                    None => files.push((path.clone(), vec![entry])),
                }
                new_files.push(path);
            }
        } else {
            for (_, lines) in files.iter_mut() {
                lines.retain(|l| !(l.source == new.source && l.enabled));
            }
        }
        let after = dumped(&files);
        let changed = before != after;
        let lookup = |set: &[(String, String)], name: &str| {
            set.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone())
        };
        let names = |set: &[(String, String)]| -> Vec<String> {
            set.iter().map(|(n, _)| n.clone()).collect()
        };
        let (before_names, after_names) = (names(&before), names(&after));
        let added: Vec<String> = after_names
            .iter()
            .filter(|n| !before_names.contains(n))
            .cloned()
            .collect();
        let removed: Vec<String> = before_names
            .iter()
            .filter(|n| !after_names.contains(n))
            .cloned()
            .collect();
        let mut diff = Vec::new();
        if changed && diff_mode {
            for name in added.iter().chain(removed.iter()) {
                let b = lookup(&before, name);
                let a = lookup(&after, name);
                diff.push(json!({
                    "before": b.clone().unwrap_or_default(),
                    "after": a.clone().unwrap_or_default(),
                    "before_header": if b.is_some() { name.as_str() } else { "/dev/null" },
                    "after_header": if a.is_some() { name.as_str() } else { "/dev/null" },
                }));
            }
        }
        if changed && !check {
            // save(): every file rewritten in normal form, the emptied ones removed.
            for (name, lines) in &files {
                if lines.is_empty() {
                    if host.fs.exists(name) {
                        if let Err(e) = host.fs.remove_file(name) {
                            return super::fail(&e.to_string());
                        }
                    }
                    continue;
                }
                if !host.fs.is_dir(SOURCES_DIR) {
                    if let Err(e) = host.fs.mkdir(SOURCES_DIR, true) {
                        return super::fail(&e.to_string());
                    }
                }
                if let Err(e) = host
                    .fs
                    .write(name, dump(lines).as_bytes(), WriteMode::Truncate)
                {
                    return super::fail(&format!("Failed to write to file '{name}': {e}"));
                }
                if new_files.contains(name) {
                    let mode = args
                        .get("mode")
                        .filter(|m| !m.is_null())
                        .cloned()
                        .unwrap_or(json!(0o644));
                    if let Err(e) = super::file::apply_mode(&mut host.fs, name, Some(&mode), false)
                    {
                        return super::fail(&e);
                    }
                }
            }
            if update_cache {
                // apt-get update: the cache is fresh as of now.
                let done = now + CACHE_UPDATE_SECONDS;
                let _ = fleetsim_sim::os::put(&mut host.fs, APT_STAMP, &format!("{done}\n"));
                ctx.world.clock.advance(CACHE_UPDATE_SECONDS);
            }
        }
        let mut r = super::ok(changed);
        r.insert("repo".into(), json!(repo));
        r.insert("sources_added".into(), json!(added));
        r.insert("sources_removed".into(), json!(removed));
        r.insert("state".into(), json!(state));
        r.insert("diff".into(), Value::Array(diff));
        r.insert(super::DIFF_ALWAYS.into(), json!(true));
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_the_repository() {
        assert_eq!(
            suggest_filename(
                "deb http://dl.google.com/linux/chrome/deb/ stable main",
                None
            ),
            "dl_google_com_linux_chrome_deb.list"
        );
        assert_eq!(
            suggest_filename(
                "deb [arch=amd64 signed-by=/k.gpg] https://user:pw@repo.example.org/apt bookworm main",
                None
            ),
            "repo_example_org_apt.list"
        );
        assert_eq!(
            suggest_filename("deb http://x/ y z", Some("custom")),
            "custom.list"
        );
    }

    #[test]
    fn lines_parse_and_dump_in_normal_form() {
        let l = parse("#  deb   http://a/  b   c  # note ");
        assert!(l.valid && !l.enabled);
        assert_eq!(l.source, "deb http://a/ b c");
        assert_eq!(l.comment, "note");
        assert_eq!(dump(&[l]), "# deb http://a/ b c # note\n");
        assert!(!parse("hello world").valid);
    }
}
