//! `blockinfile`: insert, replace or remove a block of lines between marker lines
//! (`# BEGIN ANSIBLE MANAGED BLOCK` / `# END ...`), as Ansible's module places it.

use serde_json::json;

use fleetsim_sim::fs::WriteMode;

use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct BlockInFile;

impl Module for BlockInFile {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let Some(path) = super::arg_path(args) else {
            return super::fail("missing required arguments: path");
        };
        let state = arg_str(args, "state").unwrap_or_else(|| "present".into());
        let marker =
            arg_str(args, "marker").unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into());
        let begin = arg_str(args, "marker_begin").unwrap_or_else(|| "BEGIN".into());
        let end = arg_str(args, "marker_end").unwrap_or_else(|| "END".into());
        let block = arg_str(args, "block")
            .or_else(|| arg_str(args, "content"))
            .unwrap_or_default();
        let insertafter = arg_str(args, "insertafter");
        let insertbefore = arg_str(args, "insertbefore");
        let create = super::arg_bool(args, "create", false).unwrap_or(false);
        let mode = args.get("mode").filter(|m| !m.is_null()).cloned();
        let check = ctx.check_mode;
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let fs = &mut host.fs;
        if fs.is_dir(&path) {
            let mut r = super::fail(&format!("Path {path} is a directory !"));
            r.insert("rc".into(), json!(256));
            return r;
        }
        let exists = fs.exists(&path);
        if !exists && !create {
            let mut r = super::fail(&format!("Path {path} does not exist !"));
            r.insert("rc".into(), json!(257));
            return r;
        }
        let original = if exists {
            fs.read_to_string(&path).unwrap_or_default()
        } else {
            String::new()
        };
        let mut lines: Vec<String> = original.split_inclusive('\n').map(str::to_string).collect();
        let marker0 = marker.replace("{mark}", &begin);
        let marker1 = marker.replace("{mark}", &end);
        let blocklines: Vec<String> = if state == "present" && !block.is_empty() {
            let mut b = vec![format!("{marker0}\n")];
            b.extend(block.lines().map(|l| format!("{l}\n")));
            b.push(format!("{marker1}\n"));
            b
        } else {
            Vec::new()
        };
        let bare = |l: &String| l.trim_end_matches(['\r', '\n']).to_string();
        let mut n0 = None;
        let mut n1 = None;
        for (i, l) in lines.iter().enumerate() {
            if bare(l) == marker0 {
                n0 = Some(i);
            }
            if bare(l) == marker1 {
                n1 = Some(i);
            }
        }
        let at = match (n0, n1) {
            (Some(a), Some(b)) => {
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                lines.drain(lo..=hi);
                lo
            }
            _ => {
                let pattern = match (&insertbefore, &insertafter) {
                    (Some(b), _) if b != "BOF" => Some((b.clone(), false)),
                    (None, Some(a)) if a != "EOF" => Some((a.clone(), true)),
                    _ => None,
                };
                match pattern {
                    Some((p, after)) => {
                        let re = match fancy_regex::Regex::new(&p) {
                            Ok(r) => r,
                            Err(e) => {
                                return super::fail(&format!(
                                    "invalid regular expression '{p}': {e}"
                                ))
                            }
                        };
                        let found = lines.iter().rposition(|l| re.is_match(l).unwrap_or(false));
                        match found {
                            Some(i) if after => i + 1,
                            Some(i) => i,
                            None => lines.len(),
                        }
                    }
                    None if insertbefore.as_deref() == Some("BOF") => 0,
                    None => lines.len(),
                }
            }
        };
        if at > 0 && !blocklines.is_empty() && !lines[at - 1].ends_with('\n') {
            lines[at - 1].push('\n');
        }
        let at = at.min(lines.len());
        for (k, l) in blocklines.iter().enumerate() {
            lines.insert(at + k, l.clone());
        }
        let result = lines.concat();
        let mut changed = original != result || (!exists && create);
        let msg = if !changed {
            String::new()
        } else if !exists {
            "File created".to_string()
        } else if blocklines.is_empty() {
            "Block removed".to_string()
        } else {
            "Block inserted".to_string()
        };
        if changed && !check {
            if let Err(e) = fs.write(&path, result.as_bytes(), WriteMode::Truncate) {
                return super::fail(&e.to_string());
            }
        }
        if fs.exists(&path) {
            match super::file::apply_mode(fs, &path, mode.as_ref(), check) {
                Ok(c) => changed |= c,
                Err(e) => return super::fail(&e),
            }
        }
        let mut r = super::ok(changed);
        if let Some(d) = super::content_diff(&path, &original, &result).filter(|_| changed) {
            r.insert("diff".into(), d);
        }
        r.insert("msg".into(), json!(msg));
        r
    }
}
