//! `unarchive`: unpacks a real tar (plain, gzip, bzip2, xz or zstd) or zip archive into a folder of the target host's
//! sandbox, as ansible-core's action plugin and module do: the archive from the controller
//! (`files/` search), from the host itself (`remote_src`), or downloaded (`remote_src` with a
//! URL, through [`super::get_url::fetch`]); `creates`, `exclude`/`include`, `keep_newer`,
//! `list_files`, the file attributes, and the handlers' own idempotence checks (`tar --diff`,
//! the zip handler's per-file comparison with its `prepared` diff), tar's
//! `--strip-components` in `extra_opts` (other options refused by name). As in Ansible, tar
//! archives are skipped in check mode; zip archives answer it.
//!
//! The archive is read in-process (the `tar`, `flate2`, `bzip2`, `lzma-rs`, `ruzstd` and
//! `zip` crates); members are
//! written through the sandbox, and a member whose path leaves the destination (`..`) is
//! refused as GNU tar and unzip refuse it.

use std::io::Read;

use serde_json::{json, Value};

use fleetsim_sim::fs::{FileKind, Sandbox, WriteMode};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Unarchive;

const SPEC: Spec = spec(
    ModuleName::Fixed("ansible.legacy.unarchive"),
    &[
        opt("src", Kind::Path).required(),
        opt("dest", Kind::Path).required(),
        opt("remote_src", Kind::Bool),
        opt("creates", Kind::Path),
        opt("list_files", Kind::Bool),
        opt("keep_newer", Kind::Bool),
        opt("exclude", Kind::List),
        opt("include", Kind::List),
        // tar's `--strip-components` is honoured; other raw tar/unzip options are refused
        // by name (see `strip_components`).
        opt("extra_opts", Kind::List),
        opt("validate_certs", Kind::Bool),
        opt("io_buffer_size", Kind::Int),
        opt("copy", Kind::Bool),
        opt("decrypt", Kind::Bool),
    ],
)
.file_common()
.mutually_exclusive(&[&["include", "exclude"]]);

/// The module's temporary folder on the host (a random name under Ansible; fixed here so
/// runs print the same bytes).
const MODULE_TMP: &str = "/root/.ansible/tmp/ansible-tmp-fleetsim-unarchive";

/// What kind of archive a file is, by its first bytes; named as ansible-core's handlers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handler {
    Zip,
    Tgz,
    Tar,
    TarBzip,
    TarXz,
    TarZstd,
}

impl Handler {
    fn name(self) -> &'static str {
        match self {
            Handler::Zip => "ZipArchive",
            Handler::Tgz => "TgzArchive",
            // pick_handler tries TarArchive before the compressed-tar handlers, and GNU tar
            // recognises bzip2, xz and zstd input by itself, so plain TarArchive takes them.
            Handler::Tar | Handler::TarBzip | Handler::TarXz | Handler::TarZstd => "TarArchive",
        }
    }

    /// tar's compression flag (none for the archives TarArchive takes, see [`Self::name`]).
    fn zipflag(self) -> Option<&'static str> {
        match self {
            Handler::Tgz => Some("-z"),
            _ => None,
        }
    }

    fn sniff(data: &[u8]) -> Option<Handler> {
        Some(
            if data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06") {
                Handler::Zip
            } else if data.starts_with(&[0x1f, 0x8b]) {
                Handler::Tgz
            } else if data.starts_with(b"BZh") {
                Handler::TarBzip
            } else if data.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
                Handler::TarXz
            } else if data.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
                Handler::TarZstd
            } else if data.len() >= 512 && tar_header_ok(&data[..512]) {
                Handler::Tar
            } else {
                return None;
            },
        )
    }
}

/// Whether a 512-byte block is a tar header (its checksum adds up).
fn tar_header_ok(block: &[u8]) -> bool {
    let field = String::from_utf8_lossy(&block[148..156]);
    let Ok(stored) = u32::from_str_radix(field.trim_matches(|c: char| c == '\0' || c == ' '), 8)
    else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == stored
}

/// One member of an archive.
#[derive(Clone, Debug)]
enum Body {
    File(Vec<u8>),
    Dir,
    Symlink(String),
    /// A hard link to another member (its archive path).
    Hardlink(String),
}

#[derive(Clone, Debug)]
struct Member {
    /// The name as the archive lists it (folders end in `/`, a leading `/` dropped).
    name: String,
    body: Body,
    mode: u32,
    mtime: f64,
    /// Owner and group names for tar members (root keeps them when it extracts).
    owner: Option<String>,
    group: Option<String>,
    /// A zip member stored deflated (unzip says `inflating`, else `extracting`).
    deflated: bool,
}

impl Member {
    /// The path under dest, without the trailing slash.
    fn rel(&self) -> &str {
        self.name.trim_end_matches('/')
    }
    fn kind_letter(&self) -> char {
        match self.body {
            Body::Dir => 'd',
            Body::Symlink(_) => 'L',
            _ => 'f',
        }
    }
}

/// Reads every member of the archive.
fn read_members(handler: Handler, data: &[u8]) -> Result<Vec<Member>, String> {
    match handler {
        Handler::Zip => read_zip(data),
        Handler::Tar => read_tar(data),
        Handler::Tgz => {
            let mut raw = Vec::new();
            flate2::read::GzDecoder::new(data)
                .read_to_end(&mut raw)
                .map_err(|e| format!("gzip: stdin: {e}"))?;
            read_tar(&raw)
        }
        Handler::TarBzip => {
            let mut raw = Vec::new();
            bzip2::read::MultiBzDecoder::new(data)
                .read_to_end(&mut raw)
                .map_err(|e| format!("bzip2: (stdin): {e}"))?;
            read_tar(&raw)
        }
        Handler::TarXz => {
            let mut raw = Vec::new();
            lzma_rs::xz_decompress(&mut std::io::BufReader::new(data), &mut raw)
                .map_err(|e| format!("xz: (stdin): {e}"))?;
            read_tar(&raw)
        }
        Handler::TarZstd => read_tar(&unzstd(data)?),
    }
}

/// Every frame of a zstd stream, decoded (`zstd -d` concatenates them, as for a file
/// written by `cat a.zst b.zst`).
fn unzstd(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut raw = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let mut decoder = ruzstd::decoding::StreamingDecoder::new(&mut rest)
            .map_err(|e| format!("zstd: /*stdin*\\: {e}"))?;
        decoder
            .read_to_end(&mut raw)
            .map_err(|e| format!("zstd: /*stdin*\\: {e}"))?;
    }
    Ok(raw)
}

fn read_tar(data: &[u8]) -> Result<Vec<Member>, String> {
    let mut archive = tar::Archive::new(data);
    let mut members = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| format!("/usr/bin/tar: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("/usr/bin/tar: {e}"))?;
        let header = entry.header().clone();
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let name = name.trim_start_matches('/').to_string();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let mtime = header.mtime().unwrap_or(0) as f64;
        let owner = header
            .username()
            .ok()
            .flatten()
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .or_else(|| header.uid().ok().map(|u| u.to_string()));
        let group = header
            .groupname()
            .ok()
            .flatten()
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .or_else(|| header.gid().ok().map(|g| g.to_string()));
        let link = || {
            entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default()
        };
        let body = match header.entry_type() {
            tar::EntryType::Directory => Body::Dir,
            tar::EntryType::Symlink => Body::Symlink(link()),
            tar::EntryType::Link => Body::Hardlink(link().trim_start_matches('/').to_string()),
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut bytes = Vec::new();
                entry
                    .read_to_end(&mut bytes)
                    .map_err(|e| format!("/usr/bin/tar: {e}"))?;
                Body::File(bytes)
            }
            // pax headers and GNU long names are folded in by the reader; devices and
            // FIFOs cannot exist in a sandbox.
            _ => continue,
        };
        let name = if matches!(body, Body::Dir) && !name.ends_with('/') {
            format!("{name}/")
        } else {
            name
        };
        members.push(Member {
            name,
            body,
            mode,
            mtime,
            owner,
            group,
            deflated: false,
        });
    }
    Ok(members)
}

fn read_zip(data: &[u8]) -> Result<Vec<Member>, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(data))
        .map_err(|e| format!("  End-of-central-directory signature not found ({e})"))?;
    let mut members = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| e.to_string())?;
        let name = file.name().to_string();
        let is_dir = file.is_dir();
        let unix = file.unix_mode();
        let is_link = unix.is_some_and(|m| m & 0o170000 == 0o120000);
        // No Unix mode (an archive made on Windows): unzip gives 0666/0777 less the umask.
        let mode = unix.map_or(if is_dir { 0o755 } else { 0o644 }, |m| m & 0o7777);
        let mtime = file.last_modified().map_or(315_532_800.0, |t| {
            let days = fleetsim_sim::clock::days_from_civil(
                i64::from(t.year()),
                i64::from(t.month()),
                i64::from(t.day()),
            );
            (days * 86_400
                + i64::from(t.hour()) * 3600
                + i64::from(t.minute()) * 60
                + i64::from(t.second())) as f64
        });
        let deflated = file.compression() != zip::CompressionMethod::Stored;
        let mut bytes = Vec::new();
        if !is_dir {
            file.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        }
        let body = if is_dir {
            Body::Dir
        } else if is_link {
            Body::Symlink(String::from_utf8_lossy(&bytes).into_owned())
        } else {
            Body::File(bytes)
        };
        members.push(Member {
            name,
            body,
            mode,
            mtime,
            owner: None,
            group: None,
            deflated,
        });
    }
    Ok(members)
}

/// The members the handler works on: tar's `--exclude` (a pattern excludes a member and
/// everything under it) or its member list (`include`); zip's `fnmatch` filters.
fn selected(
    handler: Handler,
    members: Vec<Member>,
    exclude: &[String],
    include: &[String],
) -> Vec<Member> {
    use crate::template::filters::paths::fnmatch;
    members
        .into_iter()
        .filter(|m| {
            let name = m.name.as_str();
            if handler == Handler::Zip {
                if !include.is_empty() {
                    return include.iter().any(|p| fnmatch(name, p));
                }
                return !exclude.iter().any(|p| fnmatch(name, p));
            }
            let rel = m.rel();
            // tar matches a pattern against the member and each folder above it.
            let mut prefixes = vec![rel.to_string()];
            let mut cut = rel;
            while let Some(i) = cut.rfind('/') {
                cut = &cut[..i];
                prefixes.push(cut.to_string());
            }
            if !include.is_empty() {
                return include
                    .iter()
                    .map(|p| p.trim_end_matches('/'))
                    .any(|p| prefixes.iter().any(|x| x == p));
            }
            !exclude
                .iter()
                .map(|p| p.trim_end_matches('/'))
                .any(|p| prefixes.iter().any(|x| fnmatch(x, p)))
        })
        .collect()
}

/// A member path that would leave the destination.
fn escapes(rel: &str) -> bool {
    rel.split('/').any(|c| c == "..")
}

/// Compares the members with what is at dest: (unpacked already, zip's `prepared` diff).
fn compare(
    fs: &Sandbox,
    handler: Handler,
    dest: &str,
    members: &[Member],
    args: &Args,
    keep_newer: bool,
) -> (bool, String) {
    let mode_given = args.get("mode").is_some_and(|m| !m.is_null());
    let owner_given = arg_str(args, "owner").is_some_and(|o| !o.is_empty());
    let group_given = arg_str(args, "group").is_some_and(|g| !g.is_empty());
    let mut unarchived = true;
    let mut diff = String::new();
    for m in members {
        if escapes(m.rel()) {
            continue;
        }
        let path = format!("{}/{}", dest.trim_end_matches('/'), m.rel());
        let ftype = m.kind_letter();
        let Ok(st) = fs.lstat(&path) else {
            unarchived = false;
            diff.push_str(&format!(">{ftype}++++++.?? {}\n", m.name));
            continue;
        };
        let kind_ok = matches!(
            (&m.body, st.kind),
            (Body::Dir, FileKind::Dir)
                | (Body::Symlink(_), FileKind::Symlink)
                | (Body::File(_) | Body::Hardlink(_), FileKind::File)
        );
        if !kind_ok {
            unarchived = false;
            diff.push_str(&format!("c{ftype}++++++.?? {}\n", m.name));
            continue;
        }
        let mut itemized: Vec<char> = format!(".{ftype}.......??").chars().collect();
        let mut change = false;
        if let Body::File(bytes) = &m.body {
            if keep_newer && st.mtime > m.mtime {
                // A newer file at dest is kept.
                continue;
            }
            if st.mtime.floor() != m.mtime {
                change = true;
                itemized[4] = 't';
            }
            if st.size != bytes.len() as u64 {
                change = true;
                itemized[3] = 's';
            }
            if fs.read(&path).ok().as_deref() != Some(bytes.as_slice()) {
                change = true;
                itemized[2] = 'c';
            }
        }
        if let Body::Symlink(target) = &m.body {
            if fs.read_link(&path).ok().as_deref() != Some(target.as_str()) {
                change = true;
                itemized[2] = 'c';
            }
        }
        if !matches!(m.body, Body::Symlink(_)) {
            // zip compares the mode asked for, tar the archive's when none is asked for.
            let wanted = match (handler, args.get("mode").filter(|v| !v.is_null())) {
                (Handler::Zip, Some(v)) => {
                    super::parse_mode(v, st.mode, st.kind == FileKind::Dir).ok()
                }
                (_, Some(_)) => None,
                (_, None) => Some(m.mode),
            };
            if wanted.is_some_and(|w| w != st.mode & 0o7777) {
                change = true;
                itemized[5] = 'p';
            }
        }
        if handler != Handler::Zip && !owner_given && !mode_given {
            if let Some(o) = &m.owner {
                if o != &st.owner && super::file::id_of(o) != super::file::id_of(&st.owner) {
                    change = true;
                }
            }
        }
        if handler != Handler::Zip && !group_given {
            if let Some(g) = &m.group {
                if g != &st.group && super::file::id_of(g) != super::file::id_of(&st.group) {
                    change = true;
                }
            }
        }
        if change {
            unarchived = false;
            diff.push_str(&format!(
                "{} {}\n",
                itemized.iter().collect::<String>(),
                m.name
            ));
        }
    }
    (unarchived, diff)
}

/// Writes the members under dest; returns unzip's listing (tar prints nothing).
fn extract(
    fs: &mut Sandbox,
    handler: Handler,
    src: &str,
    dest: &str,
    members: &[Member],
    keep_newer: bool,
) -> Result<String, String> {
    let dest = dest.trim_end_matches('/');
    let mut out = String::new();
    if handler == Handler::Zip {
        out.push_str(&format!("Archive:  {src}\n"));
    }
    // Folders' times and modes are set after their contents are written, as tar does.
    let mut folders: Vec<(String, &Member)> = Vec::new();
    for m in members {
        if escapes(m.rel()) || m.rel().is_empty() {
            continue;
        }
        let path = format!("{dest}/{}", m.rel());
        if let Some(i) = path.rfind('/') {
            let parent = &path[..i.max(1)];
            if !fs.is_dir(parent) {
                fs.mkdir(parent, true).map_err(|e| e.to_string())?;
            }
        }
        match &m.body {
            Body::Dir => {
                if !fs.is_dir(&path) {
                    if fs.lstat(&path).is_ok() {
                        fs.remove_file(&path).map_err(|e| e.to_string())?;
                    }
                    fs.mkdir(&path, true).map_err(|e| e.to_string())?;
                    if handler == Handler::Zip {
                        out.push_str(&format!("   creating: {path}/\n"));
                    }
                }
                folders.push((path, m));
                continue;
            }
            Body::File(bytes) => {
                if keep_newer && fs.stat(&path).is_ok_and(|st| st.mtime > m.mtime) {
                    continue;
                }
                if fs.lstat(&path).is_ok_and(|st| st.kind == FileKind::Symlink) {
                    fs.remove_file(&path).map_err(|e| e.to_string())?;
                }
                fs.write(&path, bytes, WriteMode::Truncate)
                    .map_err(|e| e.to_string())?;
                if handler == Handler::Zip {
                    let verb = if m.deflated {
                        "  inflating"
                    } else {
                        " extracting"
                    };
                    out.push_str(&format!("{verb}: {path}  \n"));
                }
            }
            Body::Symlink(target) => {
                if fs.lstat(&path).is_ok() {
                    fs.remove_file(&path).map_err(|e| e.to_string())?;
                }
                fs.symlink(target, &path).map_err(|e| e.to_string())?;
                if handler == Handler::Zip {
                    out.push_str(&format!("    linking: {path}  -> {target} \n"));
                }
                continue;
            }
            Body::Hardlink(target) => {
                let existing = format!("{dest}/{}", target.trim_end_matches('/'));
                if fs.lstat(&path).is_ok() {
                    fs.remove_file(&path).map_err(|e| e.to_string())?;
                }
                fs.hardlink(&existing, &path).map_err(|e| e.to_string())?;
                continue;
            }
        }
        fs.chmod(&path, m.mode).map_err(|e| e.to_string())?;
        if m.owner.is_some() || m.group.is_some() {
            fs.chown(&path, m.owner.as_deref(), m.group.as_deref())
                .map_err(|e| e.to_string())?;
        }
        fs.set_mtime(&path, m.mtime).map_err(|e| e.to_string())?;
    }
    for (path, m) in folders.iter().rev() {
        fs.chmod(path, m.mode).map_err(|e| e.to_string())?;
        if m.owner.is_some() || m.group.is_some() {
            fs.chown(path, m.owner.as_deref(), m.group.as_deref())
                .map_err(|e| e.to_string())?;
        }
        fs.set_mtime(path, m.mtime).map_err(|e| e.to_string())?;
    }
    Ok(out)
}

/// The command line the handler would have run, for `extract_results.cmd`.
fn command_line(
    handler: Handler,
    src: &str,
    dest: &str,
    args: &Args,
    exclude: &[String],
    include: &[String],
) -> Vec<String> {
    let mut cmd: Vec<String> = Vec::new();
    if handler == Handler::Zip {
        cmd.extend(["/usr/bin/unzip".into(), "-o".into(), src.into()]);
        if !exclude.is_empty() {
            cmd.push("-x".into());
            cmd.extend(exclude.iter().cloned());
        }
        cmd.extend(include.iter().cloned());
        cmd.extend(["-d".into(), dest.into()]);
        return cmd;
    }
    cmd.extend([
        "/usr/bin/tar".into(),
        "--extract".into(),
        "-C".into(),
        dest.into(),
    ]);
    if let Some(flag) = handler.zipflag() {
        cmd.push(flag.into());
    }
    let opts = strings(args, "extra_opts");
    if !opts.is_empty() {
        cmd.push("--show-transformed-names".into());
        cmd.extend(opts);
    }
    for key in ["owner", "group"] {
        if let Some(v) = arg_str(args, key).filter(|v| !v.is_empty()) {
            cmd.push(format!("--{key}={v}"));
        }
    }
    if args.get("keep_newer").and_then(super::to_bool) == Some(true) {
        cmd.push("--keep-newer-files".into());
    }
    for e in exclude {
        cmd.push(format!("--exclude={}", e.trim_end_matches('/')));
    }
    cmd.extend(["-f".into(), src.into()]);
    cmd.extend(include.iter().cloned());
    cmd
}

/// The `extra_opts` fleetsim honours: tar's `--strip-components=N` (or as two items).
/// Anything else, and any option for a zip archive, is an error naming it.
fn strip_components(handler: Handler, opts: &[String]) -> Result<usize, String> {
    let mut n = 0;
    let mut i = 0;
    while i < opts.len() {
        let o = opts[i].as_str();
        let value = if let Some(v) = o.strip_prefix("--strip-components=") {
            Some(v.to_string())
        } else if o == "--strip-components" {
            i += 1;
            opts.get(i).cloned()
        } else {
            None
        };
        match value {
            Some(v) if handler != Handler::Zip => {
                n = v.trim().parse().map_err(|_| {
                    format!("/usr/bin/tar: {v}: Invalid number of elements")
                })?;
            }
            _ => {
                return Err(format!(
                    "fleetsim does not simulate the {} option '{o}' in extra_opts (tar's --strip-components only)",
                    if handler == Handler::Zip { "unzip" } else { "tar" }
                ))
            }
        }
        i += 1;
    }
    Ok(n)
}

/// Drops the first `n` components of each member's name, as tar's `--strip-components`
/// (with `--show-transformed-names`) does; a member left with no name keeps the empty
/// name (tar lists it as an empty line, which `files` shows) and is not extracted.
fn strip_members(members: Vec<Member>, n: usize) -> Vec<Member> {
    if n == 0 {
        return members;
    }
    let strip = |name: &str| -> Option<String> {
        let dir = name.ends_with('/');
        let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
        if parts.len() <= n {
            return Some(String::new());
        }
        let mut s = parts[n..].join("/");
        if dir {
            s.push('/');
        }
        Some(s)
    };
    members
        .into_iter()
        .filter_map(|mut m| {
            m.name = strip(&m.name)?;
            if let Body::Hardlink(t) = &m.body {
                m.body = Body::Hardlink(strip(t).filter(|t| !t.is_empty())?);
            }
            Some(m)
        })
        .collect()
}

fn strings(args: &Args, key: &str) -> Vec<String> {
    match args.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

impl Module for Unarchive {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        // The action plugin, on the controller.
        let mut args = args.clone();
        let mut remote_src = args
            .get("remote_src")
            .and_then(super::to_bool)
            .unwrap_or(false);
        if let Some(copy) = args.get("copy").cloned() {
            if args.contains_key("remote_src") {
                return super::action_fail(
                    "parameters are mutually exclusive: ('copy', 'remote_src')",
                );
            }
            args.remove("copy");
            remote_src = !super::to_bool(&copy).unwrap_or(true);
            args.insert("remote_src".into(), json!(remote_src));
        }
        let (Some(src), Some(dest)) = (arg_str(&args, "src"), arg_str(&args, "dest")) else {
            return super::action_fail("src (or content) and dest are required");
        };
        let expand = |p: &str| match p.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("/root{rest}"),
            _ => p.to_string(),
        };
        if let Some(creates) = arg_str(&args, "creates").filter(|c| !c.is_empty()) {
            let creates = expand(&creates);
            let exists = match ctx.target_host() {
                Ok(h) => h.fs.exists(&creates),
                Err(r) => return r,
            };
            if exists {
                let mut r = super::ok(false);
                r.insert("skipped".into(), json!(true));
                r.insert(
                    "msg".into(),
                    json!(format!("skipped, since {creates} exists")),
                );
                return r;
            }
        }
        let dest = expand(&dest);
        let mut local: Option<Vec<u8>> = None;
        if !remote_src {
            if src.contains("://") {
                return super::action_fail(&format!(
                    "Unsupported option, an URI src ({src}) is only supported when remote_src is True"
                ));
            }
            let Some(real) = ctx.find_controller_file(&src, "files") else {
                // The action lets `_find_needle`'s AnsibleFileNotFound out: the executor's
                // failure, `Task failed: ...` in its msg.
                let searched: Vec<std::path::PathBuf> = ctx
                    .search_dirs
                    .iter()
                    .flat_map(|d| [d.join("files").join(&src), d.join(&src)])
                    .collect();
                let mut r = super::fail(&super::controller_file_not_found(&src, &searched));
                r.insert("_ansible_raised".into(), json!(super::RAISED_ERROR));
                return r;
            };
            match std::fs::read(&real) {
                Ok(d) => local = Some(d),
                Err(e) => return super::action_fail(&format!("could not read {src}: {e}")),
            }
        }
        let dest_ok = match ctx.target_host() {
            Ok(h) => h.fs.is_dir(&dest),
            Err(r) => return r,
        };
        if !dest_ok {
            return super::action_fail(&format!("dest '{dest}' must be an existing dir"));
        }
        args.remove("decrypt");
        if local.is_some() {
            args.insert("src".into(), json!(format!("{MODULE_TMP}/source")));
        }

        // The module, on the host.
        let args = match super::validated(ctx, &SPEC, &args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let mut src = arg_str(&args, "src").unwrap_or_default();
        let dest = arg_str(&args, "dest").unwrap_or_default();
        let check = ctx.check_mode;
        let data = match local {
            Some(d) => d,
            None => {
                let on_host = match ctx.target_host() {
                    Ok(h) => h.fs.read(&src).ok(),
                    Err(r) => return r,
                };
                match on_host {
                    Some(d) => d,
                    None if src.contains("://") => {
                        let fetched = super::get_url::fetch(
                            ctx,
                            super::get_url::Request {
                                url: &src,
                                method: "GET",
                                timeout: 10.0,
                                headers: vec![("User-Agent".into(), "ansible-httpget".into())],
                            },
                        );
                        match fetched {
                            Ok(f) => {
                                let name = src
                                    .split(['?', '#'])
                                    .next()
                                    .and_then(|u| u.rsplit('/').next())
                                    .filter(|n| !n.is_empty())
                                    .unwrap_or("download");
                                src = format!("{MODULE_TMP}/{name}");
                                f.body
                            }
                            Err(e) => {
                                return super::fail(&format!(
                                    "Failure downloading {src}, {}",
                                    e.msg
                                ))
                            }
                        }
                    }
                    None => return super::fail(&format!("Source '{src}' does not exist")),
                }
            }
        };
        if data.is_empty() {
            return super::fail(&format!("Invalid archive '{src}', the file is 0 bytes"));
        }
        let handler = Handler::sniff(&data);
        if check && handler != Some(Handler::Zip) {
            let mut r = super::ok(false);
            r.insert("skipped".into(), json!(true));
            r.insert(
                "msg".into(),
                json!("remote module (ansible.legacy.unarchive) does not support check mode when using gtar"),
            );
            return r;
        }
        let Some(handler) = handler else {
            return super::fail(&format!(
                "Failed to find handler for \"{src}\". Make sure the required command to extract the file is installed.\nCommand \"/usr/bin/unzip\" could not handle archive:   End-of-central-directory signature not found.  Either this file is not\n  a zipfile, or it constitutes one disk of a multi-part archive.\nCommand \"/usr/bin/tar\" could not handle archive: Unable to list files in the archive: /usr/bin/tar: This does not look like a tar archive\n"
            ));
        };
        let members = match read_members(handler, &data) {
            Ok(m) => m,
            Err(e) => {
                return super::fail(&format!(
                    "Failed to find handler for \"{src}\". Make sure the required command to extract the file is installed.\nCommand \"{}\" could not handle archive: Unable to list files in the archive: {e}\n",
                    if handler == Handler::Zip { "/usr/bin/unzip" } else { "/usr/bin/tar" }
                ))
            }
        };
        if members.is_empty() {
            return super::fail(&format!(
                "Failed to find handler for \"{src}\". Make sure the required command to extract the file is installed.\nCommand \"{}\" found no files in archive. Empty archive files are not supported.",
                if handler == Handler::Zip { "/usr/bin/unzip" } else { "/usr/bin/tar" }
            ));
        }
        let exclude = strings(&args, "exclude");
        let include = strings(&args, "include");
        let keep_newer = args.get("keep_newer").and_then(super::to_bool) == Some(true);
        let members = selected(handler, members, &exclude, &include);
        let extra_opts = strings(&args, "extra_opts");
        let mut members = match strip_components(handler, &extra_opts) {
            Ok(n) => strip_members(members, n),
            Err(e) => return super::fail(&e),
        };
        let files: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
        members.retain(|m| !m.name.is_empty());

        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let (unarchived, prepared) = compare(&host.fs, handler, &dest, &members, &args, keep_newer);
        let mut r = super::ok(false);
        r.insert("handler".into(), json!(handler.name()));
        r.insert("dest".into(), json!(dest));
        r.insert("src".into(), json!(src));
        let mut changed = if check { !unarchived } else { false };
        if !check && !unarchived {
            let cmd = command_line(handler, &src, &dest, &args, &exclude, &include);
            match extract(&mut host.fs, handler, &src, &dest, &members, keep_newer) {
                Ok(out) => {
                    r.insert(
                        "extract_results".into(),
                        json!({"cmd": cmd, "err": "", "out": out, "rc": 0}),
                    );
                    changed = true;
                }
                Err(e) => {
                    r.insert(
                        "extract_results".into(),
                        json!({"cmd": cmd, "err": e, "out": "", "rc": 2}),
                    );
                    r.insert("failed".into(), json!(true));
                    r.insert(
                        "msg".into(),
                        json!(format!("failed to unpack {src} to {dest}")),
                    );
                    return r;
                }
            }
        }
        if handler == Handler::Zip && !prepared.is_empty() {
            r.insert("diff".into(), json!({ "prepared": prepared }));
            r.insert(super::DIFF_ALWAYS.into(), json!(true));
        }
        if !check {
            // The file attributes on every member, then on the top folders.
            let mut top: Vec<String> = Vec::new();
            for m in &members {
                let rel = m.rel();
                if escapes(rel) || rel.is_empty() {
                    continue;
                }
                let path = format!("{}/{rel}", dest.trim_end_matches('/'));
                if host.fs.lstat(&path).is_err() {
                    continue;
                }
                match super::file::apply_file_args(&mut host.fs, &path, &args, false) {
                    Ok(c) => changed |= c,
                    Err(e) => return super::fail(&e),
                }
                if let Some((first, _)) = m.name.split_once('/') {
                    if !top.iter().any(|t| t == first) {
                        top.push(first.to_string());
                    }
                }
            }
            for t in top {
                let path = format!("{dest}/{t}");
                if host.fs.exists(&path) {
                    match super::file::apply_file_args(&mut host.fs, &path, &args, false) {
                        Ok(c) => changed |= c,
                        Err(e) => return super::fail(&e),
                    }
                }
            }
        }
        r.insert("changed".into(), json!(changed));
        if args.get("list_files").and_then(super::to_bool) == Some(true) {
            r.insert("files".into(), json!(files));
        }
        super::get_url::path_info(&host.fs, &dest, &mut r);
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o640);
            h.set_mtime(1_700_000_000);
            h.set_cksum();
            builder.append_data(&mut h, name, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn tar_gz(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let raw = tar(entries);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, &raw).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn sniffs_archives_by_their_bytes() {
        let tgz = tar_gz(&[("a.txt", b"one\n")]);
        assert_eq!(Handler::sniff(&tgz), Some(Handler::Tgz));
        assert_eq!(Handler::sniff(b"PK\x03\x04rest"), Some(Handler::Zip));
        assert_eq!(Handler::sniff(b"hello: world\n"), None);
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(tgz.as_slice())
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(Handler::sniff(&raw), Some(Handler::Tar));
    }

    #[test]
    fn reads_tar_members_with_modes_and_times() {
        let tgz = tar_gz(&[("app/a.txt", b"one\n"), ("app/b.txt", b"two\n")]);
        let members = read_members(Handler::Tgz, &tgz).unwrap();
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].name, "app/a.txt");
        assert_eq!(members[0].mode, 0o640);
        assert_eq!(members[0].mtime, 1_700_000_000.0);
        assert!(matches!(&members[1].body, Body::File(b) if b == b"two\n"));
    }

    #[test]
    fn bzip2_xz_and_zstd_tarballs_unpack() {
        let raw = tar(&[("app/a.txt", b"one\n"), ("app/b.txt", b"two\n")]);
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        std::io::Write::write_all(&mut bz, &raw).unwrap();
        let bz = bz.finish().unwrap();
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut raw.as_slice(), &mut xz).unwrap();
        let zst = ruzstd::encoding::compress_to_vec(
            raw.as_slice(),
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        // Two zstd frames back to back read as their concatenation.
        let half = tar(&[("app/c.txt", b"three\n")]);
        let mut two_frames = ruzstd::encoding::compress_to_vec(
            &half[..half.len() - 1024],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        two_frames.extend(ruzstd::encoding::compress_to_vec(
            &half[half.len() - 1024..],
            ruzstd::encoding::CompressionLevel::Fastest,
        ));
        for (data, handler) in [
            (bz, Handler::TarBzip),
            (xz, Handler::TarXz),
            (zst, Handler::TarZstd),
        ] {
            assert_eq!(Handler::sniff(&data), Some(handler));
            let members = read_members(handler, &data).unwrap();
            let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
            assert_eq!(names, ["app/a.txt", "app/b.txt"], "{handler:?}");
            assert!(matches!(&members[1].body, Body::File(b) if b == b"two\n"));
        }
        let members = read_members(Handler::TarZstd, &two_frames).unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].name, "app/c.txt");
    }

    #[test]
    fn corrupt_compressed_streams_are_errors() {
        let e = read_members(Handler::TarBzip, b"BZh9garbage").unwrap_err();
        assert!(e.starts_with("bzip2: "), "{e}");
        let e = read_members(Handler::TarXz, b"\xfd7zXZ\0garbage").unwrap_err();
        assert!(e.starts_with("xz: "), "{e}");
        let e = read_members(Handler::TarZstd, b"\x28\xb5\x2f\xfdgarbage").unwrap_err();
        assert!(e.starts_with("zstd: "), "{e}");
    }

    #[test]
    fn tar_excludes_cover_subtrees_and_zip_ones_do_not() {
        let member = |name: &str| Member {
            name: name.into(),
            body: Body::File(Vec::new()),
            mode: 0o644,
            mtime: 0.0,
            owner: None,
            group: None,
            deflated: false,
        };
        let all = vec![
            member("app/a.txt"),
            member("app/sub/b.txt"),
            member("app/sub/"),
        ];
        let names = |ms: Vec<Member>| ms.into_iter().map(|m| m.name).collect::<Vec<_>>();
        assert_eq!(
            names(selected(
                Handler::Tar,
                all.clone(),
                &["app/sub".into()],
                &[]
            )),
            vec!["app/a.txt"]
        );
        assert_eq!(
            names(selected(
                Handler::Zip,
                all.clone(),
                &["app/sub".into()],
                &[]
            )),
            vec!["app/a.txt", "app/sub/b.txt", "app/sub/"]
        );
        assert_eq!(
            names(selected(Handler::Zip, all, &[], &["*.txt".into()])),
            vec!["app/a.txt", "app/sub/b.txt"]
        );
    }

    #[test]
    fn strip_components_is_honoured_and_other_options_named() {
        let ms = read_members(
            Handler::Tgz,
            &tar_gz(&[("app-1/conf/a.txt", b"a"), ("app-1/b.txt", b"b")]),
        )
        .unwrap();
        let names = |ms: Vec<Member>| ms.into_iter().map(|m| m.name).collect::<Vec<_>>();
        assert_eq!(names(strip_members(ms.clone(), 1)), ["conf/a.txt", "b.txt"]);
        assert_eq!(names(strip_members(ms, 2)), ["a.txt", ""]);
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            strip_components(Handler::Tgz, &v(&["--strip-components=1"])),
            Ok(1)
        );
        assert_eq!(
            strip_components(Handler::Tar, &v(&["--strip-components", "2"])),
            Ok(2)
        );
        let e = strip_components(Handler::Tgz, &v(&["--no-same-owner"])).unwrap_err();
        assert!(e.contains("'--no-same-owner'"), "{e}");
        let e = strip_components(Handler::Zip, &v(&["-j"])).unwrap_err();
        assert!(e.contains("unzip option '-j'"), "{e}");
    }

    #[test]
    fn members_leaving_dest_are_refused() {
        assert!(escapes("../etc/passwd"));
        assert!(escapes("app/../../x"));
        assert!(!escapes("app/..x"));
    }
}
