//! Modules: one file each, one trait, one registry. A module acts on one simulated host (the
//! task's host, or the host it is delegated to) and returns Ansible's result dict.
//!
//! Failures set `failed: true` and `msg`; `_ansible_action_failed` marks a failure raised by
//! the action itself (`fail`, `assert`) rather than by the module on the host, which changes
//! the `[ERROR]: Task failed: Action failed: ...` / `Module failed: ...` wording.

mod apt_repository;
mod assemble;
mod assert;
pub mod async_status;
mod blockinfile;
mod command;
mod copy;
mod deb822_repository;
mod debconf;
mod debug;
mod fail;
mod fetch;
mod file;
pub(crate) use file::add_path_info;
mod find;
mod get_url;
mod iptables;
mod known_hosts;
mod lineinfile;
mod os_info;
mod os_misc;
mod package;
mod pause;
mod ping;
mod pip;
mod pyre;
mod raw;
mod replace;
mod script;
mod service;
pub(crate) mod set_fact;
pub mod set_stats;
pub mod setup;
mod slurp;
pub mod spec;
mod stat;
mod tempfile;
mod template;
mod unarchive;
mod uri;
mod user;
mod validate_argument_spec;
mod wait_for;
mod yum_repository;

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use fleetsim_sim::world::World;

use crate::playbook::Task;
use crate::template::{Templar, VarSource};

pub type Args = Map<String, Value>;
pub type ModuleResult = Map<String, Value>;

/// What a module can see and touch while it runs.
pub struct ModuleCtx<'a> {
    pub world: &'a mut World,
    /// The host whose filesystem and shell the module acts on (the delegated host, if any).
    pub target: String,
    /// The inventory host the task runs for.
    pub host: String,
    pub vars: Arc<dyn VarSource>,
    pub templar: &'a Templar,
    pub task: &'a Task,
    pub check_mode: bool,
    pub diff: bool,
    /// Controller folders searched for relative `src:` paths, in order.
    pub search_dirs: Vec<PathBuf>,
    /// Lines the module asks the callback to print before the result (pause's prompt).
    pub display: Vec<String>,
    /// The task's `environment:`, resolved: the variables the module's process (and the
    /// commands it runs) starts with, besides the host's own.
    pub environment: indexmap::IndexMap<String, String>,
    /// The run's `-v` count (`debug`'s `verbosity:` is compared with it).
    pub verbosity: u8,
    /// The soft open-files limit the module's wrapper set (`ansible_python_module_rlimit_nofile`),
    /// or None for the host's.
    pub nofile: Option<u64>,
}

impl ModuleCtx<'_> {
    /// The simulated host the module acts on.
    pub fn target_host(&mut self) -> Result<&mut fleetsim_sim::host::Host, ModuleResult> {
        let name = self.target.clone();
        self.world
            .host(&name)
            .map_err(|e| fail(&format!("cannot open the sandbox of {name}: {e}")))
    }

    /// The target host with its simulated distribution (the OS modules' start), or the
    /// failure to report.
    pub fn target_os_host(
        &mut self,
    ) -> Result<(&mut fleetsim_sim::host::Host, fleetsim_sim::os::Distro), ModuleResult> {
        let host = self.target_host()?;
        let distro = host.os().map_err(|e| fail(&e))?;
        Ok((host, distro))
    }

    /// Finds a controller-side file (`copy src=`, `template src=`) as Ansible's DWIM search
    /// does: absolute paths inside the controller's sandbox, relative ones in `files/` or
    /// `templates/` of the role and beside the playbook.
    pub fn find_controller_file(&self, src: &str, subdir: &str) -> Option<PathBuf> {
        if std::path::Path::new(src).is_absolute() {
            // Inside the simulated controller, as a chroot resolves it: `..` and links stay in.
            let real = crate::exec::controller_path(
                &self.world.sandbox_dir,
                std::path::Path::new("/"),
                src,
            )?;
            return crate::project::readable(&real);
        }
        // The one project check every controller read goes through: `..` out of the
        // project, or a link inside it to a file outside, reads as missing.
        for dir in &self.search_dirs {
            for cand in [dir.join(subdir).join(src), dir.join(src)] {
                if let Some(p) = crate::project::readable(&cand) {
                    return Some(p);
                }
            }
        }
        None
    }
}

/// A module: validates its arguments and acts on the target host.
pub trait Module: Sync {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult;

    /// Whether the task needs a connection to its host. Ansible's controller-side actions
    /// (debug, set_fact, assert, fail, pause) never open one, so an unreachable host does
    /// not stop them.
    fn connects(&self) -> bool {
        true
    }
}

/// The modules fleetsim simulates, by short name.
pub fn lookup(name: &str) -> Option<&'static dyn Module> {
    Some(match name {
        "apt_repository" => &apt_repository::AptRepository,
        "assemble" => &assemble::Assemble,
        "assert" => &assert::Assert,
        "async_status" => &async_status::AsyncStatus,
        "fetch" => &fetch::Fetch,
        "get_url" => &get_url::GetUrl,
        "iptables" => &iptables::Iptables,
        "find" => &find::Find,
        "ping" => &ping::Ping,
        "pip" => &pip::Pip,
        "raw" => &raw::Raw,
        "replace" => &replace::Replace,
        "script" => &script::Script,
        "blockinfile" => &blockinfile::BlockInFile,
        "command" => &command::Command { shell: false },
        "shell" => &command::Command { shell: true },
        "copy" => &copy::Copy,
        "debconf" => &debconf::Debconf,
        "deb822_repository" => &deb822_repository::Deb822Repository,
        "debug" => &debug::Debug,
        "fail" => &fail::Fail,
        "file" => &file::File,
        "known_hosts" => &known_hosts::KnownHosts,
        "lineinfile" => &lineinfile::LineInFile,
        "pause" => &pause::Pause,
        "set_fact" => &set_fact::SetFact,
        "set_stats" => &set_stats::SetStats,
        "slurp" => &slurp::Slurp,
        "tempfile" => &tempfile::TempFile,
        "wait_for" => &wait_for::WaitFor,
        "stat" => &stat::Stat,
        "template" => &template::Template,
        "unarchive" => &unarchive::Unarchive,
        "uri" => &uri::Uri,
        "package" => &package::PackageModule(package::Manager::Generic),
        "apt" => &package::PackageModule(package::Manager::Apt),
        "dnf" | "yum" | "dnf5" => &package::PackageModule(package::Manager::Dnf),
        "service" => &service::Service { generic: true },
        "systemd" | "systemd_service" => &service::Service { generic: false },
        "user" => &user::UserModule,
        "group" => &user::GroupModule,
        "service_facts" => &os_info::ServiceFacts,
        "package_facts" => &os_info::PackageFacts,
        "getent" => &os_info::Getent,
        "cron" => &os_misc::Cron,
        "hostname" => &os_misc::Hostname,
        "reboot" => &os_misc::Reboot,
        "wait_for_connection" => &os_misc::WaitForConnection,
        "yum_repository" => &yum_repository::YumRepository,
        "validate_argument_spec" => &validate_argument_spec::ValidateArgumentSpec,
        _ => return None,
    })
}

/// The module's options checked against its spec (see [`spec::Spec::validate`]).
pub fn validated(
    ctx: &ModuleCtx<'_>,
    spec: &spec::Spec,
    args: &Args,
) -> Result<Args, ModuleResult> {
    spec.validate(&ctx.task.action_written, args)
}

/// `module.backup_local(path)`: copies the file to `PATH.PID.YYYY-MM-DD@HH:MM:SS~` (the
/// host's virtual time, the PID the simulated shell reports) and returns that name, or ""
/// when there is no file to back up.
pub fn backup_local(
    fs: &mut fleetsim_sim::fs::Sandbox,
    path: &str,
    check: bool,
) -> Result<String, ModuleResult> {
    if !fs.exists(path) {
        return Ok(String::new());
    }
    let now = fs.now();
    let stamp = fleetsim_sim::clock::Civil::from_epoch(now).format("%Y-%m-%d@%H:%M:%S~", now);
    let dest = format!("{path}.{SIMULATED_PID}.{stamp}");
    if !check {
        // shutil.copy2: content, mode and times.
        let mtime = fs.stat(path).map(|s| s.mtime).ok();
        fs.copy_file(path, &dest)
            .map_err(|_| fail(&format!("Could not make backup of '{path}' to '{dest}'.")))?;
        if let Some(t) = mtime.filter(|t| *t > 0.0) {
            let _ = fs.set_mtime(&dest, t);
        }
    }
    Ok(dest)
}

/// A result key by which a module says its `diff` belongs in the result whatever the diff
/// mode (ansible-core modules that return it unconditionally); the executor removes the key.
pub const DIFF_ALWAYS: &str = "_fleetsim_diff_always";

/// The process id modules and the simulated shell (`$$`) report.
pub const SIMULATED_PID: u32 = 4242;

/// How Python prints the OSError a sandbox error stands for, when the module passed a
/// bytes path: `[Errno 20] Not a directory: b'/tmp/f/e'` (the detail of an error line).
pub fn py_os_error(e: &fleetsim_sim::fs::FsError) -> String {
    use fleetsim_sim::fs::Errno;
    let number = match e.errno {
        Errno::Perm => 1,
        Errno::NoEnt => 2,
        Errno::Access => 13,
        Errno::Busy => 16,
        Errno::Exist => 17,
        Errno::XDev => 18,
        Errno::NotDir => 20,
        Errno::IsDir => 21,
        Errno::Inval => 22,
        Errno::NoSpc => 28,
        Errno::RoFs => 30,
        Errno::NameTooLong => 36,
        Errno::NotEmpty => 39,
        Errno::Loop => 40,
        Errno::Other(_) => return format!("{}: b'{}'", e.errno.message(), e.path),
    };
    format!("[Errno {number}] {}: b'{}'", e.errno.message(), e.path)
}

/// A failed result with Ansible's shape.
pub fn fail(msg: &str) -> ModuleResult {
    let mut m = Map::new();
    m.insert("changed".into(), json!(false));
    m.insert("failed".into(), json!(true));
    m.insert("msg".into(), json!(msg));
    m
}

/// The value of `_ansible_raised` for an AnsibleError the action raises (as opposed to an
/// AnsibleActionFail): the task executor's generic failure, which failed_when cannot change.
pub const RAISED_ERROR: &str = "error";

/// The value of `_ansible_raised` for an AnsibleActionFail raised in an `except` of an error
/// with the same message (template's `_find_needle`): shown with that error as its cause.
pub const RAISED_FROM_ERROR: &str = "from_error";

/// The value of `_ansible_raised` for an AnsibleActionFail an action re-raises as
/// `Unexpected AnsibleActionFail error: ...` (copy): no cause shown, the result kept.
pub const RAISED_UNEXPECTED: &str = "unexpected";

/// Ansible's AnsibleFileNotFound text for a controller file `name` searched in `paths`.
pub fn controller_file_not_found(name: &str, paths: &[std::path::PathBuf]) -> String {
    let searched: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!(
        "Could not find or access '{name}'\nSearched in:\n\t{} on the Ansible Controller.\nIf you are using a module and expect the file to exist on the remote, see the remote_src option",
        searched.join("\n\t")
    )
}

/// A failure raised by the action plugin itself (`Action failed:` in the error line).
pub fn action_fail(msg: &str) -> ModuleResult {
    let mut m = fail(msg);
    m.insert("_ansible_action_failed".into(), json!(true));
    m
}

pub fn ok(changed: bool) -> ModuleResult {
    let mut m = Map::new();
    m.insert("changed".into(), json!(changed));
    m
}

/// A string argument (numbers and bools as Python would print them).
pub fn arg_str(args: &Args, name: &str) -> Option<String> {
    match args.get(name)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        other => Some(other.to_string()),
    }
}

/// The file a module acts on: `path`, or its aliases `dest` and `name`.
pub fn arg_path(args: &Args) -> Option<String> {
    arg_str(args, "path")
        .or_else(|| arg_str(args, "dest"))
        .or_else(|| arg_str(args, "name"))
}

/// The `diff` of a file edited in place (lineinfile, blockinfile): `PATH (content)` headers.
///
/// Outside diff mode `before` and `after` are empty, as the modules return them: the texts
/// can be large (a log every host appends to) and would be copied into every result.
pub fn content_diff(diff_mode: bool, path: &str, before: &str, after: &str) -> Option<Value> {
    let header = format!("{path} (content)");
    if !diff_mode {
        return copy::text_diff(Some(&header), &header, b"", b"");
    }
    copy::text_diff(Some(&header), &header, before.as_bytes(), after.as_bytes())
}

/// A boolean argument as Ansible's `boolean()` converts it.
pub fn arg_bool(args: &Args, name: &str, default: bool) -> Result<bool, ModuleResult> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => to_bool(v).ok_or_else(|| {
            fail(&format!(
                "argument '{name}' is of type {} and we were unable to convert to bool: The value '{}' is not a valid boolean.  Valid booleans include: 0, 'on', 'f', 'false', 1, 'no', 'n', '1', '0', 't', 'y', 'off', 'yes', 'true'",
                py_type(v),
                crate::playbook::scalar_text(v)
            ))
        }),
    }
}

/// Ansible's `boolean()`.
pub fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.to_lowercase().trim() {
            "yes" | "on" | "1" | "true" | "t" | "y" | "1.0" => Some(true),
            "no" | "off" | "0" | "false" | "f" | "n" | "0.0" | "" => Some(false),
            _ => None,
        },
        Value::Null => Some(false),
        _ => None,
    }
}

pub fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Parses a `mode:` argument: octal strings (`'0644'`, `'644'`), ints as YAML gave them
/// (`0644` is already 420), or symbolic modes (`u+rwx,g-w`, `u=rwX`) applied to `current`
/// (`X` needs to know whether the path is a folder).
pub fn parse_mode(v: &Value, current: u32, is_dir: bool) -> Result<u32, String> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .map(|m| m as u32 & 0o7777)
            .ok_or_else(|| "mode must be in octal or symbolic form".to_string()),
        Value::String(s) => {
            let s = s.trim();
            if !s.is_empty() && s.chars().all(|c| ('0'..='7').contains(&c)) {
                u32::from_str_radix(s, 8)
                    .map(|m| m & 0o7777)
                    .map_err(|_| "mode must be in octal or symbolic form".to_string())
            } else {
                symbolic_mode(s, current, is_dir)
                    .ok_or_else(|| "mode must be in octal or symbolic form".to_string())
            }
        }
        _ => Err("mode must be in octal or symbolic form".into()),
    }
}

/// The umask modules run under on the simulated hosts.
const UMASK: u32 = 0o022;

/// ansible-core's `_symbolic_mode_to_octal`: clauses split on `,`, each `WHO(OP PERMS)+`.
fn symbolic_mode(s: &str, current: u32, is_dir: bool) -> Option<u32> {
    let mut mode = current & 0o7777;
    for clause in s.split(',') {
        let op_at = clause.find(['+', '-', '='])?;
        let (who, rest) = clause.split_at(op_at);
        if !who.chars().all(|c| "ugoa".contains(c)) {
            return None;
        }
        let use_umask = who.is_empty();
        let users = if who.is_empty() || who == "a" {
            "ugo"
        } else {
            who
        };
        // (operator, perms) pairs: "=rw-x+X" gives ('=', "rw"), ('-', "x"), ('+', "X").
        let mut ops: Vec<(char, String)> = Vec::new();
        for c in rest.chars() {
            if matches!(c, '+' | '-' | '=') {
                ops.push((c, String::new()));
            } else if "rwxXstugo".contains(c) {
                ops.last_mut()?.1.push(c);
            } else {
                return None;
            }
        }
        for (op, perms) in &ops {
            for user in users.chars() {
                let bits = symbolic_perm_bits(user, perms, use_umask, mode, is_dir);
                mode = match op {
                    '=' => {
                        let mask = match user {
                            'u' => 0o4700,
                            'g' => 0o2070,
                            _ => 0o1007,
                        };
                        (mode & !mask & 0o7777) | bits
                    }
                    '+' => mode | bits,
                    _ => mode & !bits,
                };
            }
        }
    }
    Some(mode)
}

/// The bits `perms` stand for in `user`'s class (`_get_octal_mode_from_symbolic_perms`).
fn symbolic_perm_bits(user: char, perms: &str, use_umask: bool, prev: u32, is_dir: bool) -> u32 {
    let shift = match user {
        'u' => 6,
        'g' => 3,
        _ => 0,
    };
    let keep = if use_umask { !UMASK & 0o777 } else { 0o777 };
    let apply_x = is_dir || prev & 0o111 != 0;
    let mut bits = 0;
    for p in perms.chars() {
        bits |= match p {
            'r' => (0o4 << shift) & keep,
            'w' => (0o2 << shift) & keep,
            'x' => (0o1 << shift) & keep,
            'X' if apply_x => 0o1 << shift,
            's' if user == 'u' => 0o4000,
            's' if user == 'g' => 0o2000,
            't' if user == 'o' => 0o1000,
            // Copy another class's bits: `g=u`.
            'u' => ((prev >> 6) & 0o7) << shift,
            'g' => ((prev >> 3) & 0o7) << shift,
            'o' => (prev & 0o7) << shift,
            _ => 0,
        };
    }
    bits
}

/// The hex digest of `data` with one of the `checksum_algorithm` choices of stat and find.
pub fn digest_hex(algorithm: &str, data: &[u8]) -> Option<String> {
    use sha2::Digest;
    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
    Some(match algorithm {
        "md5" => crate::template::filters::hash::md5_bytes_hex(data),
        "sha1" => sha1_hex(data),
        "sha224" => hex(&sha2::Sha224::digest(data)),
        "sha256" => hex(&sha2::Sha256::digest(data)),
        "sha384" => hex(&sha2::Sha384::digest(data)),
        "sha512" => hex(&sha2::Sha512::digest(data)),
        _ => return None,
    })
}

/// SHA-1 of content, as Ansible's `checksum` fields.
pub fn sha1_hex(data: &[u8]) -> String {
    use sha1::Digest;
    let digest = sha1::Sha1::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert_eq!(parse_mode(&json!("0644"), 0, false), Ok(0o644));
        assert_eq!(parse_mode(&json!(420), 0, false), Ok(0o644));
        assert_eq!(parse_mode(&json!("u+x,g-w"), 0o664, false), Ok(0o744));
        assert_eq!(parse_mode(&json!("a=r"), 0o777, false), Ok(0o444));
        assert_eq!(parse_mode(&json!("u=rw,g=r,o="), 0o777, false), Ok(0o640));
        assert!(parse_mode(&json!("bogus"), 0, false).is_err());
        assert!(parse_mode(&json!("z+x"), 0, false).is_err());
    }

    #[test]
    fn capital_x_only_for_folders_or_executables() {
        assert_eq!(parse_mode(&json!("a+X"), 0o644, false), Ok(0o644));
        assert_eq!(parse_mode(&json!("a+X"), 0o744, false), Ok(0o755));
        assert_eq!(parse_mode(&json!("a+X"), 0o644, true), Ok(0o755));
        assert_eq!(parse_mode(&json!("u=rwX,g=rX,o="), 0o600, true), Ok(0o750));
        assert_eq!(parse_mode(&json!("g=u"), 0o640, false), Ok(0o660));
        assert_eq!(parse_mode(&json!("+w"), 0o444, false), Ok(0o644));
    }

    #[test]
    fn booleans() {
        assert_eq!(to_bool(&json!("yes")), Some(true));
        assert_eq!(to_bool(&json!("No")), Some(false));
        assert_eq!(to_bool(&json!(2)), None);
    }
}
