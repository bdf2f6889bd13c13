//! Sandboxed filesystem: every path of a simulated host resolved inside its root, as a chroot would.
//!
//! Host path `/x/y` of host `web1` lives at `SANDBOX/hosts/web1/x/y` on the real machine.
//! Resolution is done component by component with `symlink_metadata`/`read_link` (never
//! `canonicalize`, which would follow links on the *real* machine): `..` stops at the root and
//! symlink targets, absolute or relative, are re-read as host paths, so no path, link, chain
//! of links or symlinked middle directory can reach outside the root. The real path handed to
//! `std::fs` therefore never contains a symlink except, for the operations that act on links
//! themselves (lstat, unlink, rename, link), as its last component.
//!
//! Ownership, virtual mtimes and set-uid/set-gid bits live in a sidecar map keyed by host path:
//! no real `chown`, no wall clock, no real set-uid file.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::fs as stdfs;
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

mod overlay;
pub use overlay::{controller_view, mount_project};

/// Linux allows 40 symlinks in one resolution before `ELOOP` (MAXSYMLINKS).
const MAX_SYMLINKS: usize = 40;

/// An errno-like error kind; [`Errno::message`] is the text `strerror` gives on Linux.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Errno {
    /// ENOENT
    NoEnt,
    /// ENOTDIR
    NotDir,
    /// EISDIR
    IsDir,
    /// EACCES
    Access,
    /// EPERM
    Perm,
    /// EEXIST
    Exist,
    /// ENOTEMPTY
    NotEmpty,
    /// ELOOP
    Loop,
    /// EROFS
    RoFs,
    /// ENOSPC
    NoSpc,
    /// EINVAL
    Inval,
    /// EBUSY
    Busy,
    /// EXDEV
    XDev,
    /// ENAMETOOLONG
    NameTooLong,
    /// Anything else the real OS reported, with its message.
    Other(String),
}

impl Errno {
    /// The message a real Linux host prints for this errno (`strerror`).
    pub fn message(&self) -> &str {
        match self {
            Errno::NoEnt => "No such file or directory",
            Errno::NotDir => "Not a directory",
            Errno::IsDir => "Is a directory",
            Errno::Access => "Permission denied",
            Errno::Perm => "Operation not permitted",
            Errno::Exist => "File exists",
            Errno::NotEmpty => "Directory not empty",
            Errno::Loop => "Too many levels of symbolic links",
            Errno::RoFs => "Read-only file system",
            Errno::NoSpc => "No space left on device",
            Errno::Inval => "Invalid argument",
            Errno::Busy => "Device or resource busy",
            Errno::XDev => "Invalid cross-device link",
            Errno::NameTooLong => "File name too long",
            Errno::Other(m) => m,
        }
    }

    /// Maps a real OS error. The numbers are Linux's (this simulator runs on Linux only; the
    /// sandbox relies on Unix symlink/permission APIs anyway), hard-coded to avoid a libc dep.
    fn from_io(e: &io::Error) -> Errno {
        match e.raw_os_error() {
            Some(1) => Errno::Perm,
            Some(2) => Errno::NoEnt,
            Some(13) => Errno::Access,
            Some(16) => Errno::Busy,
            Some(17) => Errno::Exist,
            Some(18) => Errno::XDev,
            Some(20) => Errno::NotDir,
            Some(21) => Errno::IsDir,
            Some(22) => Errno::Inval,
            Some(28) => Errno::NoSpc,
            Some(30) => Errno::RoFs,
            Some(36) => Errno::NameTooLong,
            Some(39) => Errno::NotEmpty,
            Some(40) => Errno::Loop,
            _ => match e.kind() {
                io::ErrorKind::NotFound => Errno::NoEnt,
                io::ErrorKind::PermissionDenied => Errno::Access,
                io::ErrorKind::AlreadyExists => Errno::Exist,
                _ => Errno::Other(e.to_string()),
            },
        }
    }
}

/// A failed sandbox operation: the errno and the path as the caller gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsError {
    /// What went wrong.
    pub errno: Errno,
    /// The path argument the error is about, as given (tools print it back).
    pub path: String,
}

impl FsError {
    fn new(errno: Errno, path: &str) -> Self {
        FsError {
            errno,
            path: path.to_string(),
        }
    }
    pub(crate) fn io(e: &io::Error, path: &str) -> Self {
        FsError::new(Errno::from_io(e), path)
    }
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.errno.message())
    }
}

impl std::error::Error for FsError {}

/// Result of sandbox operations.
pub type FsResult<T> = Result<T, FsError>;

/// The null device. On disk it is an empty placeholder file (so that listing and
/// resolving `/dev` find it); the sandbox describes it as a device (mode 0666), reads it as
/// empty and discards what is written to it, as Linux does.
pub const NULL_DEVICE: &str = "/dev/null";

/// What kind of object a path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link (only from [`Sandbox::lstat`]).
    Symlink,
    /// Anything else (fifo, socket, device): never created by the sandbox.
    Other,
}

/// `stat(2)` as the simulated host sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stat {
    /// Object kind.
    pub kind: FileKind,
    /// Permission bits including set-uid/set-gid/sticky (`& 0o7777`).
    pub mode: u32,
    /// Size in bytes (for a symlink: length of its target).
    pub size: u64,
    /// Virtual modification time, epoch seconds (0.0 if never written by the simulation).
    pub mtime: f64,
    /// Owner name (sidecar; `root` unless chowned).
    pub owner: String,
    /// Group name (sidecar; `root` unless chowned).
    pub group: String,
    /// Number of hard links.
    pub nlink: u64,
    /// Virtual access time (the mtime unless set apart, as by `touch -a` or the file module).
    pub atime: f64,
    /// Virtual status-change time: the last write, chmod, chown or time change.
    pub ctime: f64,
    /// Inode number: stable for a path across runs (derived from the host path), shared by
    /// hard links only as far as the real filesystem's link count says.
    pub inode: u64,
}

/// How [`Sandbox::write`] opens the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Create or truncate (`>`).
    Truncate,
    /// Create or append (`>>`).
    Append,
    /// Create; fail with `File exists` if present (`O_EXCL`).
    CreateNew,
}

/// Access wanted, for the simulated permission check of non-root users.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// r
    Read,
    /// w
    Write,
    /// x
    Exec,
}

/// Sidecar metadata of one host path.
#[derive(Debug, Clone, PartialEq, Default)]
struct Meta {
    owner: Option<String>,
    group: Option<String>,
    mtime: Option<f64>,
    atime: Option<f64>,
    ctime: Option<f64>,
    special: u32,
}

/// What [`Sandbox::save_ownership`] keeps of one path's sidecar.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct SavedOwnership {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    group: Option<String>,
    #[serde(default)]
    special: u32,
}

/// A path resolved inside the root.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The normalised host path (`/` joined, no `.`/`..`/symlinks except maybe the last).
    pub host: String,
    /// The real path under the sandbox root.
    pub real: PathBuf,
    /// The given path ended in `/`, so it must name a directory.
    pub trailing_slash: bool,
    /// What resolving found at `real` (its `lstat`: None when nothing is there), so the
    /// operation that follows need not ask the OS again; None when resolving did not look
    /// (a path ending in `..`, or `/`).
    last: Option<Option<stdfs::Metadata>>,
}

/// The filesystem of one simulated host, rooted at `SANDBOX/hosts/HOSTNAME`.
#[derive(Debug, Clone)]
pub struct Sandbox {
    root: PathBuf,
    hostname: String,
    meta: BTreeMap<String, Meta>,
    read_only: bool,
    capacity_bytes: Option<u64>,
    disk_full: bool,
    now: f64,
    umask: u32,
    actor_user: String,
    actor_group: String,
    /// Where changed paths are noted for whoever watches files (the fleet's services).
    journal: Option<Journal>,
    /// Real paths [`Sandbox::resolve`] found to be directories, not symlinks.
    known_dirs: KnownDirs,
    /// The project folders and working folder of the controller, when this is the
    /// controller's filesystem in a run that mounted them (see [`overlay`]).
    overlay: Option<Arc<overlay::ProjectOverlay>>,
}

/// Bumped by every operation, in any sandbox of the process, that may remove a directory, or
/// renames or links a path: the only ways a directory can stop being one (or become a
/// symlink). `unlink` of a file is none of these. Sandboxes
/// share folders (hosts that share a filesystem, the controller's lookups), so one that
/// removed nothing still has to forget what it knew.
static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Held while an operation removes, renames or links a path: [`GENERATION`] moves when it
/// starts and again when it ends, so that what another thread learns in between is
/// forgotten too.
struct Replacing;

impl Replacing {
    fn start() -> Replacing {
        GENERATION.fetch_add(1, Ordering::SeqCst);
        Replacing
    }
}

impl Drop for Replacing {
    fn drop(&mut self) {
        GENERATION.fetch_add(1, Ordering::SeqCst);
    }
}

/// Bumped after every change any sandbox of the process makes on disk (a file written,
/// created or removed, a folder made, a mode changed): what a sandbox remembers of the
/// `lstat` of last components ([`Known::stats`]) holds only while this has not moved, or moved
/// by that sandbox's own changes, whose paths it forgets itself. Bumped after the change, so
/// that an `lstat` made before it is never kept under the new value.
static CHANGES: AtomicU64 = AtomicU64::new(0);

/// What [`Sandbox::resolve`] learnt from the OS and may use again. A clone starts empty.
#[derive(Default)]
struct KnownDirs(Mutex<Known>);

#[derive(Default)]
struct Known {
    /// The [`GENERATION`] `dirs` and `stats` hold for.
    generation: u64,
    /// The directories found (the real path, not a symlink) since [`GENERATION`] last
    /// changed: resolving through them again skips their `lstat`. That keeps the chroot
    /// guarantee: a path that was a directory still is one until something removes, renames
    /// or links a path, which clears them all.
    dirs: FastSet<OsString>,
    /// The [`CHANGES`] `stats` holds for.
    changes: u64,
    /// The `lstat` of last components (None: nothing there), by real path. A module asks
    /// about its path several times (exists, is a folder, its mode, then writes it), and
    /// each ask resolved the path again; now only the first goes to the OS. Any change on
    /// disk by another sandbox clears it (sandboxes share folders); this sandbox's own
    /// changes forget their paths ([`Sandbox::changed`]).
    stats: FastMap<OsString, Option<stdfs::Metadata>>,
}

/// `Known`'s maps are keyed by the real path's bytes with a fast hash: resolution asks them
/// once per component, and `Path`'s own `Hash` walks the components under SipHash, which made
/// the lookups cost more than the walk. The bytes are canonical: `resolve` builds every real
/// path the same way (no `.`, no empty or `..` components), so equal paths are equal bytes.
type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

impl Clone for KnownDirs {
    fn clone(&self) -> Self {
        KnownDirs::default()
    }
}

impl fmt::Debug for KnownDirs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KnownDirs")
    }
}

/// Host paths changed by writes, in order, shared by the sandboxes of one world: a file
/// written, or a folder whose entries changed. A watcher drains it and rereads only what
/// it names, instead of rescanning its files after every task.
pub type Journal = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// The folder under `SANDBOX/hosts/` that holds a host's `/`: the host's name when it is a
/// plain file name, else the name with `%`, `/` and NUL percent-encoded (`a/b` is `a%2Fb`)
/// `.`/`..` spelled `%2E`/`%2E%2E`, the empty name `%`. Ansible accepts any of these as inventory names; none
/// may reach outside `SANDBOX/hosts/`, and two names never share a folder.
pub fn host_folder_name(hostname: &str) -> String {
    match hostname {
        // `%` alone: every other name with a `%` has it encoded as `%25`.
        "" => "%".to_string(),
        "." => "%2E".to_string(),
        ".." => "%2E%2E".to_string(),
        _ if !hostname.contains(['%', '/', '\0']) => hostname.to_string(),
        _ => hostname
            .replace('%', "%25")
            .replace('/', "%2F")
            .replace('\0', "%00"),
    }
}

impl Sandbox {
    /// Opens (creating on demand) the root of `hostname` under `sandbox_dir/hosts/`, in the
    /// folder [`host_folder_name`] gives it.
    pub fn new(sandbox_dir: &Path, hostname: &str) -> FsResult<Self> {
        let root = sandbox_dir.join("hosts").join(host_folder_name(hostname));
        stdfs::create_dir_all(&root).map_err(|e| FsError::io(&e, "/"))?;
        // The controller's filesystem (its own or shared through a local connection) sees
        // the project mounted for this run.
        let overlay = overlay::mounted_at(&root);
        Ok(Sandbox::new_at_root(root, hostname, overlay))
    }

    /// A sandbox on the existing folder `root`, with the project overlay given.
    fn new_at_root(
        root: PathBuf,
        hostname: &str,
        overlay: Option<Arc<overlay::ProjectOverlay>>,
    ) -> Sandbox {
        let mut sandbox = Sandbox {
            root,
            hostname: hostname.to_string(),
            meta: BTreeMap::new(),
            read_only: false,
            capacity_bytes: None,
            disk_full: false,
            now: 0.0,
            umask: 0o022,
            actor_user: "root".into(),
            actor_group: "root".into(),
            journal: None,
            known_dirs: KnownDirs::default(),
            overlay,
        };
        sandbox.load_ownership();
        sandbox
    }

    /// The working folder processes and relative paths start from: the controller's (the
    /// folder fleetsim runs in) when the project is mounted, else `/`.
    pub fn cwd(&self) -> &str {
        self.overlay.as_ref().map_or("/", |o| o.cwd.as_str())
    }

    /// Whether the project is mounted in this (controller) sandbox: project folders then
    /// read through it, at their real paths, and relative paths start at [`Sandbox::cwd`].
    pub fn has_project(&self) -> bool {
        self.overlay.is_some()
    }

    /// `SANDBOX/ownership/FOLDER.json`: where the owners, groups and set-uid bits recorded
    /// in the sidecar survive from one run on a kept `--sandbox` to the next (a second run
    /// must find `owner: www-data` already done). Outside `hosts/`, so no task can see it.
    fn ownership_file(&self) -> Option<PathBuf> {
        let folder = self.root.file_name()?;
        let sandbox_dir = self.root.parent()?.parent()?;
        let mut name = folder.to_os_string();
        name.push(".json");
        Some(sandbox_dir.join("ownership").join(name))
    }

    /// Reads what [`Sandbox::save_ownership`] kept, for the paths that still exist.
    fn load_ownership(&mut self) {
        let Some(file) = self.ownership_file() else {
            return;
        };
        let Ok(text) = stdfs::read_to_string(&file) else {
            return;
        };
        let Ok(saved) = serde_json::from_str::<BTreeMap<String, SavedOwnership>>(&text) else {
            return;
        };
        for (path, o) in saved {
            let real = self.root.join(path.trim_start_matches('/'));
            if stdfs::symlink_metadata(&real).is_err() {
                continue;
            }
            let m = self.meta.entry(path).or_default();
            m.owner = o.owner;
            m.group = o.group;
            m.special = o.special;
        }
    }

    /// Keeps the sidecar's owners, groups and set-uid bits for the next run on the same
    /// sandbox (see [`Sandbox::ownership_file`]). Writes nothing when the sandbox folder is
    /// gone (a temporary one already removed) or when there is nothing to keep.
    pub fn save_ownership(&self) -> io::Result<()> {
        let Some(file) = self.ownership_file() else {
            return Ok(());
        };
        if !self.root.is_dir() {
            return Ok(());
        }
        let saved: BTreeMap<&str, SavedOwnership> = self
            .meta
            .iter()
            .filter(|(_, m)| m.owner.is_some() || m.group.is_some() || m.special != 0)
            .map(|(path, m)| {
                let o = SavedOwnership {
                    owner: m.owner.clone(),
                    group: m.group.clone(),
                    special: m.special,
                };
                (path.as_str(), o)
            })
            .collect();
        if saved.is_empty() {
            return match stdfs::remove_file(&file) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        if let Some(dir) = file.parent() {
            stdfs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string_pretty(&saved).map_err(io::Error::other)?;
        stdfs::write(&file, text + "\n")
    }

    /// The real directory holding this host's `/`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The host this sandbox belongs to.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Sets the virtual time stamped as mtime on every later write.
    pub fn set_now(&mut self, now: f64) {
        self.now = now;
    }

    /// The virtual time last set with [`Sandbox::set_now`].
    pub fn now(&self) -> f64 {
        self.now
    }

    /// Makes every write fail with `Read-only file system` (a fault).
    pub fn set_read_only(&mut self, ro: bool) {
        self.read_only = ro;
    }

    /// Whether writes fail with `Read-only file system`.
    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Limits the total size of regular files; a write past it fails with `No space left on device`.
    pub fn set_capacity_bytes(&mut self, cap: Option<u64>) {
        self.capacity_bytes = cap;
    }

    /// Makes every write that adds data fail with `No space left on device` (a fault).
    pub fn set_disk_full(&mut self, full: bool) {
        self.disk_full = full;
    }

    /// Sets the umask applied to newly created files (0o666) and directories (0o777); default 022.
    pub fn set_umask(&mut self, umask: u32) {
        self.umask = umask & 0o777;
    }

    /// Sets the user/group that later operations act as; anyone but `root` gets the
    /// simulated permission checks against the mode bits and sidecar ownership.
    pub fn set_actor(&mut self, user: &str, group: &str) {
        self.actor_user = user.to_string();
        self.actor_group = group.to_string();
    }

    // ----- resolution -----

    /// Resolves a host path inside the root. Relative paths are taken from [`Sandbox::cwd`]
    /// (`/` but on the controller; the shell joins its own cwd first). Inside a mounted
    /// project folder, each folder walked through (and a folder resolved to) is first filled
    /// from the real project ([`overlay`]). Intermediate symlinks are always followed (inside the root); the last
    /// one only if `follow_last`. Missing last components are allowed (for creation); a
    /// missing middle component is `No such file or directory`.
    pub fn resolve(&self, path: &str, follow_last: bool) -> FsResult<Resolved> {
        if path.contains('\0') {
            return Err(FsError::new(Errno::Inval, path));
        }
        if path.is_empty() {
            return Err(FsError::new(Errno::NoEnt, path));
        }
        let trailing_slash = path.ends_with('/') && !path.trim_matches('/').is_empty();
        // Components still to walk, the next one last.
        let mut pending: Vec<Cow<'_, str>> = split(path).map(Cow::Borrowed).collect();
        if !path.starts_with('/') {
            pending.splice(0..0, split(self.cwd()).map(Cow::Borrowed));
        }
        pending.reverse();
        // The components walked so far, as a host path (`/a/b`, empty for `/`) and as the
        // real path under the root, kept in step so that neither is rebuilt per component.
        let mut host = String::new();
        let mut real = self.root.clone();
        let mut links = 0usize;
        let mut last: Option<Option<stdfs::Metadata>> = None;
        let mut known = self.known_dirs.0.lock().unwrap_or_else(|e| e.into_inner());
        let generation = GENERATION.load(Ordering::SeqCst);
        let changes = CHANGES.load(Ordering::SeqCst);
        if known.generation != generation {
            known.generation = generation;
            known.dirs.clear();
            known.stats.clear();
        }
        if known.changes != changes {
            known.changes = changes;
            known.stats.clear();
        }
        while let Some(comp) = pending.pop() {
            if comp == ".." {
                if let Some(i) = host.rfind('/') {
                    host.truncate(i);
                    real.pop();
                }
                last = None;
                continue;
            }
            if comp.len() > 255 {
                return Err(FsError::new(Errno::NameTooLong, path));
            }
            if let Some(o) = &self.overlay {
                let dir = if host.is_empty() { "/" } else { host.as_str() };
                if o.covers(dir) {
                    o.fill(dir, &real);
                }
            }
            let is_last = pending.is_empty();
            real.push(&*comp);
            if !is_last && known.dirs.contains(real.as_os_str()) {
                host.push('/');
                host.push_str(&comp);
                continue;
            }
            let found = if is_last {
                match known.stats.get(real.as_os_str()) {
                    Some(Some(md)) => Ok(md.clone()),
                    Some(None) => Err(io::Error::from(io::ErrorKind::NotFound)),
                    None => {
                        let found = stdfs::symlink_metadata(&real);
                        match &found {
                            Ok(md) => {
                                known
                                    .stats
                                    .insert(real.as_os_str().to_owned(), Some(md.clone()));
                            }
                            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                                known.stats.insert(real.as_os_str().to_owned(), None);
                            }
                            Err(_) => {}
                        }
                        found
                    }
                }
            } else {
                stdfs::symlink_metadata(&real)
            };
            match found {
                Ok(md)
                    if md.file_type().is_symlink()
                        && (!is_last || follow_last || trailing_slash) =>
                {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(FsError::new(Errno::Loop, path));
                    }
                    let target = stdfs::read_link(&real).map_err(|e| FsError::io(&e, path))?;
                    real.pop();
                    let target = target.to_string_lossy().into_owned();
                    if target.is_empty() {
                        return Err(FsError::new(Errno::NoEnt, path));
                    }
                    if target.starts_with('/') {
                        // An absolute target is a host path: restart from the host's root.
                        host.clear();
                        real = self.root.clone();
                    }
                    let at = pending.len();
                    pending.extend(split(&target).map(|c| Cow::Owned(c.to_string())));
                    pending[at..].reverse();
                }
                Ok(md) => {
                    if md.is_dir() {
                        known.dirs.insert(real.as_os_str().to_owned());
                    } else if !is_last {
                        return Err(FsError::new(Errno::NotDir, path));
                    }
                    host.push('/');
                    host.push_str(&comp);
                    last = is_last.then_some(Some(md));
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if !is_last {
                        return Err(FsError::new(Errno::NoEnt, path));
                    }
                    host.push('/');
                    host.push_str(&comp);
                    last = Some(None);
                }
                Err(e) => return Err(FsError::io(&e, path)),
            }
        }
        if host.is_empty() {
            host.push('/');
        }
        if let Some(o) = &self.overlay {
            let is_dir = matches!(&last, Some(Some(md)) if md.is_dir());
            if is_dir && o.covers(&host) {
                o.fill(&host, &real);
            }
        }
        Ok(Resolved {
            host,
            real,
            trailing_slash,
            last,
        })
    }

    /// Resolves and returns the real path (following the last symlink), for callers that
    /// must hand a real file to something else. Never outside [`Sandbox::root`].
    pub fn real_path(&self, path: &str) -> FsResult<PathBuf> {
        Ok(self.resolve(path, true)?.real)
    }

    fn lmeta(real: &Path) -> Option<stdfs::Metadata> {
        stdfs::symlink_metadata(real).ok()
    }

    /// The `lstat` of a path just resolved: what resolving found, else asked now.
    fn meta_of(r: &Resolved) -> Option<stdfs::Metadata> {
        match &r.last {
            Some(found) => found.clone(),
            None => Self::lmeta(&r.real),
        }
    }

    // ----- checks -----

    fn check_writable(&self, path: &str) -> FsResult<()> {
        if self.read_only {
            return Err(FsError::new(Errno::RoFs, path));
        }
        Ok(())
    }

    fn check_space(&self, path: &str, added: u64, replaced: u64) -> FsResult<()> {
        if added == 0 {
            return Ok(());
        }
        if self.disk_full {
            return Err(FsError::new(Errno::NoSpc, path));
        }
        if let Some(cap) = self.capacity_bytes {
            let used = usage(&self.root);
            if used.saturating_sub(replaced) + added > cap {
                return Err(FsError::new(Errno::NoSpc, path));
            }
        }
        Ok(())
    }

    fn is_root_actor(&self) -> bool {
        self.actor_user == "root"
    }

    /// Simulated permission check for non-root actors: mode bits of the real file against
    /// the sidecar owner/group (root:root by default). Root passes, as on a real host.
    fn check_access(&self, host: &str, real: &Path, want: Access, path: &str) -> FsResult<()> {
        if self.is_root_actor() {
            return Ok(());
        }
        let Some(md) = Self::lmeta(real) else {
            return Ok(());
        };
        let mode = md.permissions().mode();
        let meta = self.meta.get(host);
        let owner = meta.and_then(|m| m.owner.as_deref()).unwrap_or("root");
        let group = meta.and_then(|m| m.group.as_deref()).unwrap_or("root");
        let bits = if owner == self.actor_user {
            (mode >> 6) & 7
        } else if group == self.actor_group {
            (mode >> 3) & 7
        } else {
            mode & 7
        };
        let need = match want {
            Access::Read => 4,
            Access::Write => 2,
            Access::Exec => 1,
        };
        if bits & need == 0 {
            return Err(FsError::new(Errno::Access, path));
        }
        Ok(())
    }

    /// Checks the actor may create/remove entries in the parent directory of `r`.
    fn check_parent_write(&self, r: &Resolved, path: &str) -> FsResult<()> {
        if self.is_root_actor() {
            return Ok(());
        }
        let (phost, preal) = parent_of(r);
        self.check_access(&phost, &preal, Access::Write, path)
    }

    fn touch_meta(&mut self, host: &str) {
        self.stamp_now(host);
        self.note_change(host);
    }

    fn stamp_now(&mut self, host: &str) {
        let now = self.now;
        let m = self.meta.entry(host.to_string()).or_default();
        m.mtime = Some(now);
        m.atime = Some(now);
        m.ctime = Some(now);
    }

    fn note_change(&mut self, host: &str) {
        if let Some(j) = &self.journal {
            j.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(host.to_string());
        }
    }

    /// Notes every later change in `journal`.
    pub fn set_journal(&mut self, journal: Option<Journal>) {
        self.journal = journal;
    }

    /// The folder holding `r` gained or lost it: the folder's times change, and the journal
    /// notes the entry (not the folder: a watcher of `/tmp/app/config.toml` has nothing to
    /// reread when `/tmp/other` is created, which changes `/tmp`'s listing).
    fn touch_parent(&mut self, r: &Resolved) {
        let (phost, _) = parent_of(r);
        self.stamp_now(&phost);
        self.note_change(&r.host);
    }

    /// Forgets the sidecar of `host` and of everything under it: the range of keys that
    /// start with `host/`, not a scan of the whole map (a folder that a rollout fills and
    /// empties host by host holds thousands of entries).
    fn forget_meta(&mut self, host: &str) {
        if host == "/" {
            self.meta.clear();
            return;
        }
        self.meta.remove(host);
        let prefix = format!("{}/", host.trim_end_matches('/'));
        let inside: Vec<String> = self
            .meta
            .range::<str, _>((
                std::ops::Bound::Included(prefix.as_str()),
                std::ops::Bound::Unbounded,
            ))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for k in inside {
            self.meta.remove(&k);
        }
    }

    /// This sandbox just changed `r` on disk (and its folder's entries, with `entries`),
    /// whether or not the change succeeded: after it, so that no `lstat` from before is
    /// kept under the new [`CHANGES`]. What it remembers of those paths goes; the rest stays
    /// true unless another sandbox changed something since it learnt it.
    fn changed(&self, r: &Resolved, entries: bool) {
        // A file with other hard links changes under their names too (size, mode, link
        // count): then nothing remembered is kept. (None: resolving did not look.)
        let linked = match &r.last {
            Some(Some(md)) => !md.is_dir() && md.nlink() > 1,
            Some(None) => false,
            None => true,
        };
        let mut known = self.known_dirs.0.lock().unwrap_or_else(|e| e.into_inner());
        let before = CHANGES.fetch_add(1, Ordering::SeqCst);
        if known.changes == before && !linked {
            known.stats.remove(r.real.as_os_str());
            if entries {
                if let Some(parent) = r.real.parent() {
                    known.stats.remove(parent.as_os_str());
                }
            }
        } else {
            known.stats.clear();
        }
        known.changes = before + 1;
    }

    fn set_new_mode(real: &Path, mode: u32) -> FsResult<()> {
        // Explicit modes instead of the real process umask keep results deterministic.
        stdfs::set_permissions(real, stdfs::Permissions::from_mode(mode))
            .map_err(|e| FsError::io(&e, &real.to_string_lossy()))
    }

    // ----- reading -----

    /// Reads a whole file (following symlinks).
    pub fn read(&self, path: &str) -> FsResult<Vec<u8>> {
        let r = self.resolve(path, true)?;
        let md = Self::meta_of(&r).ok_or_else(|| FsError::new(Errno::NoEnt, path))?;
        if md.is_dir() {
            return Err(FsError::new(Errno::IsDir, path));
        }
        if r.trailing_slash {
            return Err(FsError::new(Errno::NotDir, path));
        }
        if !md.is_file() {
            // Never open fifos/devices: they could block the simulator.
            return Err(FsError::new(Errno::Access, path));
        }
        if r.host == NULL_DEVICE {
            return Ok(Vec::new());
        }
        self.check_access(&r.host, &r.real, Access::Read, path)?;
        stdfs::read(&r.real).map_err(|e| FsError::io(&e, path))
    }

    /// Reads a file as UTF-8 (lossy).
    pub fn read_to_string(&self, path: &str) -> FsResult<String> {
        // Valid UTF-8 (nearly always) is checked in one fast pass and kept as it is.
        Ok(String::from_utf8(self.read(path)?)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }

    /// Whether the path exists (following symlinks; a dangling link does not exist).
    pub fn exists(&self, path: &str) -> bool {
        self.resolve(path, true)
            .ok()
            .and_then(|r| Self::meta_of(&r))
            .is_some()
    }

    /// Whether the path is a directory (following symlinks).
    pub fn is_dir(&self, path: &str) -> bool {
        self.stat(path)
            .map(|s| s.kind == FileKind::Dir)
            .unwrap_or(false)
    }

    /// Whether the path is a regular file (following symlinks).
    pub fn is_file(&self, path: &str) -> bool {
        self.stat(path)
            .map(|s| s.kind == FileKind::File)
            .unwrap_or(false)
    }

    /// `stat(2)`: follows symlinks.
    pub fn stat(&self, path: &str) -> FsResult<Stat> {
        let r = self.resolve(path, true)?;
        self.stat_resolved(&r, path)
    }

    /// `lstat(2)`: a symlink as last component is described itself.
    pub fn lstat(&self, path: &str) -> FsResult<Stat> {
        let r = self.resolve(path, false)?;
        self.stat_resolved(&r, path)
    }

    fn stat_resolved(&self, r: &Resolved, path: &str) -> FsResult<Stat> {
        let md = match &r.last {
            Some(Some(md)) => md.clone(),
            Some(None) => return Err(FsError::new(Errno::NoEnt, path)),
            None => stdfs::symlink_metadata(&r.real).map_err(|e| FsError::io(&e, path))?,
        };
        let ft = md.file_type();
        let kind = if ft.is_symlink() {
            FileKind::Symlink
        } else if ft.is_dir() {
            FileKind::Dir
        } else if ft.is_file() {
            FileKind::File
        } else {
            FileKind::Other
        };
        if r.trailing_slash && kind != FileKind::Dir {
            return Err(FsError::new(Errno::NotDir, path));
        }
        let meta = self.meta.get(&r.host);
        let mtime = meta.and_then(|m| m.mtime).unwrap_or(0.0);
        let null_device = r.host == NULL_DEVICE && kind == FileKind::File;
        Ok(Stat {
            kind: if null_device { FileKind::Other } else { kind },
            mode: if null_device {
                0o666
            } else {
                (md.permissions().mode() & 0o1777) | meta.map(|m| m.special).unwrap_or(0)
            },
            size: if null_device { 0 } else { md.len() },
            mtime,
            atime: meta.and_then(|m| m.atime).unwrap_or(mtime),
            ctime: meta.and_then(|m| m.ctime).unwrap_or(mtime),
            inode: 0x1_0000 + crate::rng::fnv1a(r.host.as_bytes()) % 0xff_0000,
            owner: meta
                .and_then(|m| m.owner.clone())
                .unwrap_or_else(|| "root".into()),
            group: meta
                .and_then(|m| m.group.clone())
                .unwrap_or_else(|| "root".into()),
            nlink: md.nlink(),
        })
    }

    /// Lists a directory's entry names, sorted bytewise (no `.`/`..`).
    pub fn list_dir(&self, path: &str) -> FsResult<Vec<String>> {
        let r = self.resolve(path, true)?;
        let md = Self::meta_of(&r).ok_or_else(|| FsError::new(Errno::NoEnt, path))?;
        if !md.is_dir() {
            return Err(FsError::new(Errno::NotDir, path));
        }
        self.check_access(&r.host, &r.real, Access::Read, path)?;
        let mut names = Vec::new();
        for e in stdfs::read_dir(&r.real).map_err(|e| FsError::io(&e, path))? {
            let e = e.map_err(|e| FsError::io(&e, path))?;
            names.push(e.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    /// Reads a symlink's target (the last component is not followed).
    pub fn read_link(&self, path: &str) -> FsResult<String> {
        let r = self.resolve(path, false)?;
        let md = Self::meta_of(&r).ok_or_else(|| FsError::new(Errno::NoEnt, path))?;
        if !md.file_type().is_symlink() {
            return Err(FsError::new(Errno::Inval, path));
        }
        let t = stdfs::read_link(&r.real).map_err(|e| FsError::io(&e, path))?;
        Ok(t.to_string_lossy().into_owned())
    }

    /// The normalised host path after following every symlink (like `realpath`); the
    /// path must exist.
    pub fn canonical(&self, path: &str) -> FsResult<String> {
        let r = self.resolve(path, true)?;
        if Self::meta_of(&r).is_none() {
            return Err(FsError::new(Errno::NoEnt, path));
        }
        Ok(r.host)
    }

    // ----- writing -----

    /// Writes a file (following symlinks): create/truncate, append or exclusive create.
    /// New files get mode `0o666 & !umask`.
    pub fn write(&mut self, path: &str, data: &[u8], mode: WriteMode) -> FsResult<()> {
        let r = self.resolve(path, true)?;
        let md = Self::meta_of(&r);
        if let Some(md) = &md {
            if md.is_dir() {
                return Err(FsError::new(Errno::IsDir, path));
            }
            if !md.is_file() {
                return Err(FsError::new(Errno::Access, path));
            }
            if r.host == NULL_DEVICE && mode != WriteMode::CreateNew {
                return Ok(());
            }
            if mode == WriteMode::CreateNew {
                return Err(FsError::new(Errno::Exist, path));
            }
            if r.trailing_slash {
                return Err(FsError::new(Errno::NotDir, path));
            }
        } else if r.trailing_slash {
            return Err(FsError::new(Errno::IsDir, path));
        }
        self.check_writable(path)?;
        match &md {
            Some(_) => self.check_access(&r.host, &r.real, Access::Write, path)?,
            None => self.check_parent_write(&r, path)?,
        }
        let old = md.as_ref().map(|m| m.len()).unwrap_or(0);
        let (added, replaced) = match mode {
            WriteMode::Append => (data.len() as u64, 0),
            _ => (data.len() as u64, old),
        };
        self.check_space(path, added, replaced)?;
        let mut opts = stdfs::OpenOptions::new();
        opts.write(true);
        match mode {
            WriteMode::Truncate => opts.create(true).truncate(true),
            WriteMode::Append => opts.create(true).append(true),
            WriteMode::CreateNew => opts.create_new(true),
        };
        let written = opts
            .open(&r.real)
            .and_then(|mut f| f.write_all(data))
            .map_err(|e| FsError::io(&e, path))
            .and_then(|()| match md {
                None => Self::set_new_mode(&r.real, 0o666 & !self.umask),
                Some(_) => Ok(()),
            });
        self.changed(&r, md.is_none());
        written?;
        if md.is_none() {
            self.touch_parent(&r);
        }
        self.touch_meta(&r.host);
        Ok(())
    }

    /// Creates a directory (mode `0o777 & !umask`). With `parents`, creates missing parents
    /// and succeeds if it already is a directory (`mkdir -p`).
    pub fn mkdir(&mut self, path: &str, parents: bool) -> FsResult<()> {
        if !parents {
            return self.mkdir_one(path, path);
        }
        let abs = path.starts_with('/');
        let comps: Vec<&str> = split(path).collect();
        let n = comps.len();
        let mut prefix = String::new();
        for (i, c) in comps.into_iter().enumerate() {
            if abs || !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(c);
            if c == ".." {
                continue;
            }
            match self.stat(&prefix) {
                Ok(s) if s.kind == FileKind::Dir => continue,
                Ok(_) if i + 1 == n => return Err(FsError::new(Errno::Exist, path)),
                Ok(_) => return Err(FsError::new(Errno::NotDir, path)),
                Err(e) if e.errno == Errno::NoEnt => self.mkdir_one(&prefix, path)?,
                Err(e) => return Err(FsError::new(e.errno, path)),
            }
        }
        Ok(())
    }

    fn mkdir_one(&mut self, p: &str, shown: &str) -> FsResult<()> {
        let r = self.resolve(p, false)?;
        if Self::meta_of(&r).is_some() {
            return Err(FsError::new(Errno::Exist, shown));
        }
        self.check_writable(shown)?;
        self.check_parent_write(&r, shown)?;
        let made = stdfs::create_dir(&r.real)
            .map_err(|e| FsError::io(&e, shown))
            .and_then(|()| Self::set_new_mode(&r.real, 0o777 & !self.umask));
        self.changed(&r, true);
        made?;
        self.touch_meta(&r.host);
        self.touch_parent(&r);
        Ok(())
    }

    /// Removes a non-directory (`unlink`): a symlink itself, never its target.
    pub fn remove_file(&mut self, path: &str) -> FsResult<()> {
        // No [`Replacing`]: `unlink` cannot remove a directory (EISDIR), so no directory
        // stops being one here, and what [`KnownDirs`] holds stays true. (Bumping the
        // generation here made every sandbox forget its directories after each `file:
        // state=absent` of a fleet's rollout, and stat each folder of each path again.)
        let r = self.resolve(path, false)?;
        let md = Self::meta_of(&r).ok_or_else(|| FsError::new(Errno::NoEnt, path))?;
        if md.is_dir() {
            return Err(FsError::new(Errno::IsDir, path));
        }
        if r.trailing_slash {
            return Err(FsError::new(Errno::NotDir, path));
        }
        self.check_writable(path)?;
        self.check_parent_write(&r, path)?;
        let removed = stdfs::remove_file(&r.real);
        self.changed(&r, true);
        removed.map_err(|e| FsError::io(&e, path))?;
        self.forget_meta(&r.host);
        self.touch_parent(&r);
        Ok(())
    }

    /// Removes an empty directory (`rmdir`).
    pub fn remove_dir(&mut self, path: &str) -> FsResult<()> {
        let _replacing = Replacing::start();
        let r = self.resolve(path, true)?;
        if r.host == "/" {
            return Err(FsError::new(Errno::Busy, path));
        }
        let md = Self::meta_of(&r).ok_or_else(|| FsError::new(Errno::NoEnt, path))?;
        if !md.is_dir() {
            return Err(FsError::new(Errno::NotDir, path));
        }
        self.check_writable(path)?;
        self.check_parent_write(&r, path)?;
        stdfs::remove_dir(&r.real).map_err(|e| FsError::io(&e, path))?;
        self.forget_meta(&r.host);
        self.touch_parent(&r);
        Ok(())
    }

    /// Removes a file, a symlink (not its target) or a directory tree (`rm -r`). Removing `/`
    /// empties the host's root and keeps the root itself.
    pub fn remove_all(&mut self, path: &str) -> FsResult<()> {
        let _replacing = Replacing::start();
        let r = self.resolve(path, false)?;
        let md = Self::meta_of(&r).ok_or_else(|| FsError::new(Errno::NoEnt, path))?;
        self.check_writable(path)?;
        if md.is_dir() {
            self.check_access(&r.host, &r.real, Access::Write, path)?;
            remove_tree_contents(&r.real).map_err(|e| FsError::io(&e, path))?;
            if r.host != "/" {
                self.check_parent_write(&r, path)?;
                stdfs::remove_dir(&r.real).map_err(|e| FsError::io(&e, path))?;
            }
        } else {
            self.check_parent_write(&r, path)?;
            stdfs::remove_file(&r.real).map_err(|e| FsError::io(&e, path))?;
        }
        self.forget_meta(&r.host);
        if r.host != "/" {
            self.touch_parent(&r);
        }
        Ok(())
    }

    /// Renames (`rename(2)`): a symlink is moved itself; an existing target file is replaced.
    pub fn rename(&mut self, from: &str, to: &str) -> FsResult<()> {
        let _replacing = Replacing::start();
        let rf = self.resolve(from, false)?;
        let rt = self.resolve(to, false)?;
        let mf = Self::meta_of(&rf).ok_or_else(|| FsError::new(Errno::NoEnt, from))?;
        if rf.host == "/" || rt.host == "/" {
            return Err(FsError::new(Errno::Busy, from));
        }
        if mf.is_dir() && (rt.host.starts_with(&format!("{}/", rf.host))) {
            return Err(FsError::new(Errno::Inval, to));
        }
        if let Some(mt) = Self::meta_of(&rt) {
            if mt.is_dir() && !mf.is_dir() {
                return Err(FsError::new(Errno::IsDir, to));
            }
            if !mt.is_dir() && mf.is_dir() {
                return Err(FsError::new(Errno::NotDir, to));
            }
        }
        self.check_writable(from)?;
        self.check_parent_write(&rf, from)?;
        self.check_parent_write(&rt, to)?;
        stdfs::rename(&rf.real, &rt.real).map_err(|e| FsError::io(&e, to))?;
        // Move the sidecar entries of the tree along with it.
        let moved: Vec<(String, Meta)> = self
            .meta
            .iter()
            .filter(|(k, _)| *k == &rf.host || k.starts_with(&format!("{}/", rf.host)))
            .map(|(k, v)| (format!("{}{}", rt.host, &k[rf.host.len()..]), v.clone()))
            .collect();
        self.forget_meta(&rt.host);
        self.forget_meta(&rf.host);
        self.meta.extend(moved);
        self.touch_parent(&rf);
        self.touch_parent(&rt);
        Ok(())
    }

    /// Copies a file's bytes and permission bits to `to` (which, if it exists, must be a file).
    pub fn copy_file(&mut self, from: &str, to: &str) -> FsResult<()> {
        let data = self.read(from)?;
        let mode = self.stat(from)?.mode;
        self.write(to, &data, WriteMode::Truncate)?;
        self.chmod(to, mode)
    }

    /// Copies a tree like `cp -r`: directories recursively, symlinks as symlinks, files with
    /// their modes. `to` must not exist (the caller decides "into a directory" semantics).
    pub fn copy_tree(&mut self, from: &str, to: &str) -> FsResult<()> {
        let s = self.lstat(from)?;
        match s.kind {
            FileKind::Dir => {
                let rf = self.resolve(from, true)?;
                let rt = self.resolve(to, true)?;
                if rt.host == rf.host || rt.host.starts_with(&format!("{}/", rf.host)) {
                    return Err(FsError::new(Errno::Inval, to));
                }
                if !self.is_dir(to) {
                    self.mkdir(to, false)?;
                }
                for name in self.list_dir(from)? {
                    self.copy_tree(&format!("{from}/{name}"), &format!("{to}/{name}"))?;
                }
                self.chmod(to, s.mode)
            }
            FileKind::Symlink => {
                let t = self.read_link(from)?;
                if self.lstat(to).is_ok() {
                    self.remove_file(to)?;
                }
                self.symlink(&t, to)
            }
            _ => self.copy_file(from, to),
        }
    }

    /// Creates a symlink at `link` whose target text is `target` (stored verbatim; it is
    /// interpreted inside this root whenever resolved).
    pub fn symlink(&mut self, target: &str, link: &str) -> FsResult<()> {
        let _replacing = Replacing::start();
        if target.contains('\0') {
            return Err(FsError::new(Errno::Inval, link));
        }
        let r = self.resolve(link, false)?;
        if Self::meta_of(&r).is_some() {
            return Err(FsError::new(Errno::Exist, link));
        }
        self.check_writable(link)?;
        self.check_parent_write(&r, link)?;
        std::os::unix::fs::symlink(target, &r.real).map_err(|e| FsError::io(&e, link))?;
        self.touch_meta(&r.host);
        self.touch_parent(&r);
        Ok(())
    }

    /// Creates a hard link `new` to `existing` (not following a symlink `existing`, as
    /// Linux `link(2)`). Both resolve inside this root, so a link can never reach outside.
    pub fn hardlink(&mut self, existing: &str, new: &str) -> FsResult<()> {
        let re = self.resolve(existing, false)?;
        let me = Self::meta_of(&re).ok_or_else(|| FsError::new(Errno::NoEnt, existing))?;
        if me.is_dir() {
            return Err(FsError::new(Errno::Perm, existing));
        }
        let rn = self.resolve(new, false)?;
        if Self::meta_of(&rn).is_some() {
            return Err(FsError::new(Errno::Exist, new));
        }
        self.check_writable(new)?;
        self.check_parent_write(&rn, new)?;
        // std's hard_link uses linkat(..., 0) on Linux: it does not follow `existing`.
        let linked = stdfs::hard_link(&re.real, &rn.real);
        // The existing file's link count changes too.
        self.changed(&re, false);
        self.changed(&rn, true);
        linked.map_err(|e| FsError::io(&e, new))?;
        if let Some(m) = self.meta.get(&re.host).cloned() {
            self.meta.insert(rn.host.clone(), m);
        }
        self.touch_parent(&rn);
        Ok(())
    }

    /// Sets permission bits (`chmod`, following symlinks). Set-uid/set-gid are kept in the
    /// sidecar only, so the simulation never makes a real set-uid file.
    pub fn chmod(&mut self, path: &str, mode: u32) -> FsResult<()> {
        let r = self.resolve(path, true)?;
        if Self::meta_of(&r).is_none() {
            return Err(FsError::new(Errno::NoEnt, path));
        }
        self.check_writable(path)?;
        if !self.is_root_actor() {
            let owner = self
                .meta
                .get(&r.host)
                .and_then(|m| m.owner.clone())
                .unwrap_or_else(|| "root".into());
            if owner != self.actor_user {
                return Err(FsError::new(Errno::Perm, path));
            }
        }
        let set = stdfs::set_permissions(&r.real, stdfs::Permissions::from_mode(mode & 0o1777));
        self.changed(&r, false);
        set.map_err(|e| FsError::io(&e, path))?;
        let now = self.now;
        let m = self.meta.entry(r.host).or_default();
        m.special = mode & 0o6000;
        m.ctime = Some(now);
        Ok(())
    }

    /// Records owner and/or group in the sidecar (no real `chown`).
    pub fn chown(&mut self, path: &str, owner: Option<&str>, group: Option<&str>) -> FsResult<()> {
        let r = self.resolve(path, true)?;
        if Self::meta_of(&r).is_none() {
            return Err(FsError::new(Errno::NoEnt, path));
        }
        self.check_writable(path)?;
        if !self.is_root_actor() {
            return Err(FsError::new(Errno::Perm, path));
        }
        let now = self.now;
        let m = self.meta.entry(r.host).or_default();
        if let Some(o) = owner {
            m.owner = Some(o.to_string());
        }
        if let Some(g) = group {
            m.group = Some(g.to_string());
        }
        m.ctime = Some(now);
        Ok(())
    }

    /// Sets the virtual mtime of an existing path (`touch -d`).
    pub fn set_mtime(&mut self, path: &str, mtime: f64) -> FsResult<()> {
        let r = self.resolve(path, true)?;
        if Self::meta_of(&r).is_none() {
            return Err(FsError::new(Errno::NoEnt, path));
        }
        self.check_writable(path)?;
        self.meta.entry(r.host).or_default().mtime = Some(mtime);
        Ok(())
    }

    /// Sets the virtual access and/or modification time of an existing path (`os.utime`);
    /// `None` keeps that time as it is.
    pub fn set_times(
        &mut self,
        path: &str,
        atime: Option<f64>,
        mtime: Option<f64>,
    ) -> FsResult<()> {
        let before = self.stat(path)?;
        let r = self.resolve(path, true)?;
        self.check_writable(path)?;
        let now = self.now;
        let m = self.meta.entry(r.host).or_default();
        m.atime = Some(atime.unwrap_or(before.atime));
        m.mtime = Some(mtime.unwrap_or(before.mtime));
        m.ctime = Some(now);
        Ok(())
    }

    /// Bytes used by regular files under the root (what `capacity_bytes` limits).
    pub fn used_bytes(&self) -> u64 {
        usage(&self.root)
    }
}

/// Splits a path into its non-empty, non-`.` components.
fn split(path: &str) -> impl Iterator<Item = &str> + '_ {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

fn parent_of(r: &Resolved) -> (String, PathBuf) {
    let host = match r.host.rfind('/') {
        Some(0) | None => "/".to_string(),
        Some(i) => r.host[..i].to_string(),
    };
    let real = r
        .real
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| r.real.clone());
    (host, real)
}

/// Removes everything inside `dir` without following any symlink (a link is unlinked, never
/// descended), so a recursive removal cannot leave the tree.
fn remove_tree_contents(dir: &Path) -> io::Result<()> {
    for e in stdfs::read_dir(dir)? {
        let p = e?.path();
        let md = stdfs::symlink_metadata(&p)?;
        if md.is_dir() {
            remove_tree_contents(&p)?;
            stdfs::remove_dir(&p)?;
        } else {
            stdfs::remove_file(&p)?;
        }
    }
    Ok(())
}

/// Sum of regular file sizes under `dir`, not following symlinks.
fn usage(dir: &Path) -> u64 {
    let Ok(rd) = stdfs::read_dir(dir) else {
        return 0;
    };
    let mut total = 0;
    for e in rd.flatten() {
        let p = e.path();
        if let Ok(md) = stdfs::symlink_metadata(&p) {
            if md.is_dir() {
                total += usage(&p);
            } else if md.is_file() {
                total += md.len();
            }
        }
    }
    total
}

#[cfg(test)]
mod tests;
