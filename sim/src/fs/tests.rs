//! Unit tests of the sandbox: errno behaviour and every way out of the root we could think of.

use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A temp dir holding `outside/` (real files a sandbox must never touch) and `sb/` (the
/// sandbox folder).
struct World {
    _tmp: tempfile::TempDir,
    base: PathBuf,
}

impl World {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let base = tmp.path().to_path_buf();
        stdfs::create_dir_all(base.join("outside/etc")).unwrap();
        stdfs::write(base.join("outside/etc/passwd"), "real secret\n").unwrap();
        stdfs::write(base.join("outside/keep.txt"), "keep\n").unwrap();
        stdfs::create_dir_all(base.join("sb")).unwrap();
        World { _tmp: tmp, base }
    }
    fn sandbox(&self, host: &str) -> Sandbox {
        Sandbox::new(&self.base.join("sb"), host).unwrap()
    }
    /// Every real path under `outside/` with its content: must be identical after an attack.
    fn outside(&self) -> BTreeMap<String, Vec<u8>> {
        let mut m = BTreeMap::new();
        walk(&self.base.join("outside"), &mut m);
        m
    }
}

fn walk(p: &Path, m: &mut BTreeMap<String, Vec<u8>>) {
    for e in stdfs::read_dir(p).unwrap() {
        let p = e.unwrap().path();
        let md = stdfs::symlink_metadata(&p).unwrap();
        if md.is_dir() {
            m.insert(p.display().to_string(), b"<dir>".to_vec());
            walk(&p, m);
        } else {
            m.insert(p.display().to_string(), stdfs::read(&p).unwrap());
        }
    }
}

#[test]
fn write_read_and_layout() {
    let w = World::new();
    let mut sb = w.sandbox("web1");
    sb.mkdir("/etc", false).unwrap();
    sb.write("/etc/motd", b"hi\n", WriteMode::Truncate).unwrap();
    sb.write("/etc/motd", b"more\n", WriteMode::Append).unwrap();
    assert_eq!(sb.read("/etc/motd").unwrap(), b"hi\nmore\n");
    assert_eq!(
        stdfs::read(w.base.join("sb/hosts/web1/etc/motd")).unwrap(),
        b"hi\nmore\n"
    );
    assert_eq!(sb.root(), w.base.join("sb/hosts/web1"));
}

#[test]
fn errno_messages() {
    let w = World::new();
    let mut sb = w.sandbox("h");
    let e = sb.read("/nope").unwrap_err();
    assert_eq!(e.to_string(), "/nope: No such file or directory");
    sb.write("/f", b"x", WriteMode::Truncate).unwrap();
    assert_eq!(sb.read("/f/x").unwrap_err().errno, Errno::NotDir);
    assert_eq!(
        sb.write("/f/x", b"", WriteMode::Truncate)
            .unwrap_err()
            .errno,
        Errno::NotDir
    );
    sb.mkdir("/d", false).unwrap();
    assert_eq!(sb.read("/d").unwrap_err().errno, Errno::IsDir);
    assert_eq!(sb.read("/d").unwrap_err().errno.message(), "Is a directory");
    assert_eq!(sb.mkdir("/d", false).unwrap_err().errno, Errno::Exist);
    assert_eq!(
        sb.mkdir("/d", false).unwrap_err().errno.message(),
        "File exists"
    );
    sb.write("/d/x", b"", WriteMode::Truncate).unwrap();
    assert_eq!(sb.remove_dir("/d").unwrap_err().errno, Errno::NotEmpty);
    assert_eq!(
        sb.remove_dir("/d").unwrap_err().errno.message(),
        "Directory not empty"
    );
    assert_eq!(sb.remove_file("/d").unwrap_err().errno, Errno::IsDir);
    assert_eq!(
        sb.write("/f", b"", WriteMode::CreateNew).unwrap_err().errno,
        Errno::Exist
    );
    assert_eq!(sb.mkdir("/a/b/c", false).unwrap_err().errno, Errno::NoEnt);
    sb.mkdir("/a/b/c", true).unwrap();
    sb.mkdir("/a/b/c", true).unwrap();
    assert!(sb.is_dir("/a/b/c"));
    assert_eq!(sb.mkdir("/f/g", true).unwrap_err().errno, Errno::NotDir);
}

#[test]
fn permission_denied_for_non_root() {
    let w = World::new();
    let mut sb = w.sandbox("h");
    sb.write("/secret", b"s", WriteMode::Truncate).unwrap();
    sb.chmod("/secret", 0o600).unwrap();
    sb.mkdir("/home/app", true).unwrap();
    sb.chown("/home/app", Some("app"), Some("app")).unwrap();
    sb.set_actor("app", "app");
    let e = sb.read("/secret").unwrap_err();
    assert_eq!(e.to_string(), "/secret: Permission denied");
    assert_eq!(
        sb.write("/new", b"", WriteMode::Truncate)
            .unwrap_err()
            .errno,
        Errno::Access
    );
    sb.write("/home/app/ok", b"fine", WriteMode::Truncate)
        .unwrap();
    assert_eq!(sb.stat("/home/app/ok").unwrap().mode, 0o644);
    sb.set_actor("root", "root");
    assert_eq!(sb.read("/secret").unwrap(), b"s");
}

#[test]
fn faults_read_only_and_disk_full() {
    let w = World::new();
    let mut sb = w.sandbox("h");
    sb.write("/a", b"12345", WriteMode::Truncate).unwrap();
    sb.set_read_only(true);
    let e = sb.write("/a", b"x", WriteMode::Truncate).unwrap_err();
    assert_eq!(e.to_string(), "/a: Read-only file system");
    assert_eq!(sb.mkdir("/d", false).unwrap_err().errno, Errno::RoFs);
    assert_eq!(sb.read("/a").unwrap(), b"12345");
    sb.set_read_only(false);
    sb.set_capacity_bytes(Some(8));
    sb.write("/b", b"123", WriteMode::Truncate).unwrap();
    let e = sb.write("/c", b"1", WriteMode::Truncate).unwrap_err();
    assert_eq!(e.to_string(), "/c: No space left on device");
    // Replacing a file counts its old size as freed.
    sb.write("/a", b"1234", WriteMode::Truncate).unwrap();
    sb.set_capacity_bytes(None);
    sb.set_disk_full(true);
    assert_eq!(
        sb.write("/z", b"1", WriteMode::Append).unwrap_err().errno,
        Errno::NoSpc
    );
    // Writing nothing still works on a full disk (touch).
    sb.write("/z", b"", WriteMode::Append).unwrap();
}

#[test]
fn stat_chmod_chown_mtime() {
    let w = World::new();
    let mut sb = w.sandbox("h");
    sb.set_now(1_700_000_000.0);
    sb.write("/f", b"abc", WriteMode::Truncate).unwrap();
    let s = sb.stat("/f").unwrap();
    assert_eq!(
        (s.kind, s.mode, s.size, s.mtime),
        (FileKind::File, 0o644, 3, 1_700_000_000.0)
    );
    assert_eq!((s.owner.as_str(), s.group.as_str()), ("root", "root"));
    sb.chmod("/f", 0o4750).unwrap();
    assert_eq!(sb.stat("/f").unwrap().mode, 0o4750);
    // The real file never gets a set-uid bit.
    let real = stdfs::metadata(w.base.join("sb/hosts/h/f")).unwrap();
    assert_eq!(real.permissions().mode() & 0o7777, 0o750);
    sb.chown("/f", Some("www-data"), None).unwrap();
    assert_eq!(sb.stat("/f").unwrap().owner, "www-data");
    sb.rename("/f", "/g").unwrap();
    assert_eq!(sb.stat("/g").unwrap().owner, "www-data");
    sb.set_mtime("/g", 5.0).unwrap();
    assert_eq!(sb.stat("/g").unwrap().mtime, 5.0);
    sb.mkdir("/d", false).unwrap();
    assert_eq!(sb.stat("/d").unwrap().mode, 0o755);
}

#[test]
fn list_rename_copy_links() {
    let w = World::new();
    let mut sb = w.sandbox("h");
    for n in ["b", "a", "C", ".h"] {
        sb.write(&format!("/d/{n}"), b"", WriteMode::Truncate)
            .unwrap_or_else(|_| {
                sb.mkdir("/d", true).unwrap();
                sb.write(&format!("/d/{n}"), b"", WriteMode::Truncate)
                    .unwrap();
            });
    }
    assert_eq!(sb.list_dir("/d").unwrap(), vec![".h", "C", "a", "b"]);
    sb.write("/d/a", b"data", WriteMode::Truncate).unwrap();
    sb.copy_file("/d/a", "/d/a2").unwrap();
    assert_eq!(sb.read("/d/a2").unwrap(), b"data");
    sb.symlink("a", "/d/la").unwrap();
    sb.copy_tree("/d", "/e").unwrap();
    assert_eq!(sb.read_link("/e/la").unwrap(), "a");
    assert_eq!(sb.read("/e/la").unwrap(), b"data");
    assert_eq!(
        sb.copy_tree("/d", "/d/sub").unwrap_err().errno,
        Errno::Inval
    );
    sb.rename("/e", "/f").unwrap();
    assert!(!sb.exists("/e"));
    assert_eq!(sb.read("/f/a").unwrap(), b"data");
    sb.hardlink("/f/a", "/f/hard").unwrap();
    assert_eq!(sb.stat("/f/a").unwrap().nlink, 2);
    assert_eq!(sb.hardlink("/f", "/g").unwrap_err().errno, Errno::Perm);
    sb.remove_all("/f").unwrap();
    assert!(!sb.exists("/f"));
    assert_eq!(sb.rename("/d", "/d/x").unwrap_err().errno, Errno::Inval);
}

#[test]
fn dotdot_stops_at_root() {
    let w = World::new();
    let before = w.outside();
    let mut sb = w.sandbox("h");
    sb.mkdir("../../outside", true).unwrap();
    sb.write(
        "/../../../../outside/keep.txt",
        b"pwned",
        WriteMode::Truncate,
    )
    .unwrap();
    sb.write("../../x", b"pwned", WriteMode::Truncate).unwrap();
    sb.mkdir("/../../../../../outside/etc", true).unwrap();
    assert_eq!(
        sb.resolve("/a/../../..", false).unwrap_err().errno,
        Errno::NoEnt
    );
    sb.mkdir("/a", false).unwrap();
    assert_eq!(sb.resolve("/a/../../..", false).unwrap().host, "/");
    assert_eq!(
        sb.resolve("/../../outside/keep.txt", true).unwrap().host,
        "/outside/keep.txt"
    );
    assert!(sb.read("/../../../outside/etc/passwd").is_err());
    assert_eq!(sb.read("/outside/keep.txt").unwrap(), b"pwned");
    assert_eq!(w.outside(), before);
}

#[test]
fn symlinks_resolve_inside_root() {
    let w = World::new();
    let before = w.outside();
    let mut sb = w.sandbox("h");
    let real_passwd = w.base.join("outside/etc/passwd").display().to_string();
    let real_outside = w.base.join("outside").display().to_string();
    // Absolute links to real paths of the machine are host paths: they do not exist here.
    sb.symlink(&real_passwd, "/abs").unwrap();
    assert_eq!(sb.read("/abs").unwrap_err().errno, Errno::NoEnt);
    assert_eq!(
        sb.write("/abs", b"pwned", WriteMode::Truncate)
            .unwrap_err()
            .errno,
        Errno::NoEnt
    );
    sb.mkdir(&format!("{real_outside}/etc"), true).unwrap();
    sb.write("/abs", b"pwned", WriteMode::Truncate).unwrap();
    assert_eq!(sb.read(&real_passwd).unwrap(), b"pwned");
    assert!(sb
        .resolve("/abs", true)
        .unwrap()
        .real
        .starts_with(sb.root()));
    // Relative links with many `..` stop at the root.
    sb.symlink("../../../../../../outside/keep.txt", "/rel")
        .unwrap();
    sb.mkdir("/outside", true).unwrap();
    sb.write("/rel", b"pwned", WriteMode::Truncate).unwrap();
    assert_eq!(sb.read("/outside/keep.txt").unwrap(), b"pwned");
    // Chains and symlinked directories in the middle.
    sb.symlink("/", "/rootlink").unwrap();
    sb.symlink("rootlink/..", "/up").unwrap();
    sb.symlink("up/../up/..", "/chain").unwrap();
    sb.write(
        "/chain/../../outside/../etc-x",
        b"pwned",
        WriteMode::Truncate,
    )
    .unwrap();
    sb.symlink(&real_outside, "/dirlink").unwrap();
    sb.mkdir("/dirlink/etc", true).unwrap();
    sb.write("/dirlink/etc/passwd", b"fake\n", WriteMode::Truncate)
        .unwrap();
    assert_eq!(
        sb.read(&format!("{real_outside}/etc/passwd")).unwrap(),
        b"fake\n"
    );
    sb.remove_all("/dirlink").unwrap(); // removes the link only
    assert!(sb.exists(&format!("{real_outside}/etc/passwd")));
    // Loops.
    sb.symlink("/loop2", "/loop1").unwrap();
    sb.symlink("/loop1", "/loop2").unwrap();
    let e = sb.read("/loop1").unwrap_err();
    assert_eq!(e.errno, Errno::Loop);
    assert_eq!(e.errno.message(), "Too many levels of symbolic links");
    sb.symlink("self", "/self").unwrap();
    assert_eq!(sb.stat("/self/x").unwrap_err().errno, Errno::Loop);
    // lstat sees the link itself.
    assert_eq!(sb.lstat("/loop1").unwrap().kind, FileKind::Symlink);
    assert_eq!(w.outside(), before);
}

#[test]
fn hardlinks_cannot_reach_outside() {
    let w = World::new();
    let before = w.outside();
    let mut sb = w.sandbox("h");
    let real_passwd = w.base.join("outside/etc/passwd").display().to_string();
    // The source resolves inside the root, so it does not exist.
    assert_eq!(
        sb.hardlink(&real_passwd, "/stolen").unwrap_err().errno,
        Errno::NoEnt
    );
    assert_eq!(
        sb.hardlink("/../../outside/keep.txt", "/k")
            .unwrap_err()
            .errno,
        Errno::NoEnt
    );
    // A hard link to a symlink pointing outside links the symlink, which still resolves inside.
    sb.symlink(&real_passwd, "/sl").unwrap();
    sb.hardlink("/sl", "/hl").unwrap();
    assert_eq!(sb.read("/hl").unwrap_err().errno, Errno::NoEnt);
    sb.mkdir(&format!("{}/outside/etc", w.base.display()), true)
        .unwrap();
    sb.write("/hl", b"pwned", WriteMode::Truncate).unwrap();
    assert_eq!(w.outside(), before);
}

#[test]
fn removing_root_only_empties_this_host() {
    let w = World::new();
    let before = w.outside();
    let mut a = w.sandbox("a");
    let mut b = w.sandbox("b");
    for sb in [&mut a, &mut b] {
        sb.mkdir("/etc", false).unwrap();
        sb.write("/etc/hosts", b"127.0.0.1\n", WriteMode::Truncate)
            .unwrap();
        sb.symlink("/../../../..", "/up").unwrap();
    }
    a.remove_all("/").unwrap();
    assert!(a.root().is_dir());
    assert_eq!(a.list_dir("/").unwrap(), Vec::<String>::new());
    assert_eq!(b.read("/etc/hosts").unwrap(), b"127.0.0.1\n");
    assert_eq!(w.outside(), before);
}

#[test]
fn any_host_name_gets_its_own_folder_under_hosts() {
    let w = World::new();
    let before = w.outside();
    let names = [
        "..",
        ".",
        "",
        "a/b",
        "a%2Fb",
        "../../evil",
        "x\0y",
        "plain-01",
    ];
    let mut roots = Vec::new();
    for name in names {
        let sb = Sandbox::new(&w.base.join("sb"), name).unwrap();
        assert_eq!(
            sb.root().parent(),
            Some(w.base.join("sb/hosts").as_path()),
            "{name:?}"
        );
        roots.push(sb.root().to_path_buf());
    }
    roots.sort();
    roots.dedup();
    assert_eq!(
        roots.len(),
        names.len(),
        "two names share a folder: {roots:?}"
    );
    assert_eq!(w.outside(), before);
    assert_eq!(host_folder_name("plain-01"), "plain-01");
    assert_eq!(host_folder_name("a/b"), "a%2Fb");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Whatever the path and whatever links exist, the real path stays under the root.
    #[test]
    fn resolution_never_leaves_root(
        links in proptest::collection::vec(("[a-c]{1,2}", "(/|\\.\\./|[a-c]/|\\.\\.|[a-c]){0,6}"), 0..6),
        path in "(/|\\.\\./|[a-c]{1,2}/|\\.\\.|\\.|[a-c]){0,10}",
    ) {
        let w = World::new();
        let mut sb = w.sandbox("h");
        sb.mkdir("/a/b", true).unwrap();
        for (name, target) in &links {
            let _ = sb.symlink(target, &format!("/a/{name}"));
            let _ = sb.symlink(target, &format!("/{name}"));
        }
        for follow in [true, false] {
            if let Ok(r) = sb.resolve(&path, follow) {
                prop_assert!(r.real.starts_with(sb.root()));
                prop_assert!(!r.real.components().any(|c| c == std::path::Component::ParentDir));
                // Every real ancestor below the root is a real directory, never a link.
                let mut p = r.real.parent().map(Path::to_path_buf);
                while let Some(q) = p {
                    if !q.starts_with(sb.root()) || q == sb.root() { break; }
                    let md = stdfs::symlink_metadata(&q).unwrap();
                    prop_assert!(md.is_dir() && !md.file_type().is_symlink());
                    p = q.parent().map(Path::to_path_buf);
                }
            }
            let _ = sb.write(&path, b"x", WriteMode::Truncate);
            let _ = sb.remove_all(&path);
        }
        prop_assert_eq!(w.outside().len(), 3);
    }
}

#[test]
fn ownership_survives_into_the_next_run_for_paths_that_still_exist() {
    let w = World::new();
    let mut sb = w.sandbox("web1.example.com");
    sb.write("/f", b"x", WriteMode::Truncate).unwrap();
    sb.write("/g", b"y", WriteMode::Truncate).unwrap();
    sb.chown("/f", Some("www-data"), Some("adm")).unwrap();
    sb.chown("/g", Some("app"), None).unwrap();
    sb.save_ownership().unwrap();
    assert!(w.base.join("sb/ownership/web1.example.com.json").is_file());
    let mut next = w.sandbox("web1.example.com");
    let st = next.stat("/f").unwrap();
    assert_eq!((st.owner.as_str(), st.group.as_str()), ("www-data", "adm"));
    // A path removed since is not given its old owner back.
    next.remove_file("/f").unwrap();
    next.save_ownership().unwrap();
    let again = w.sandbox("web1.example.com");
    assert_eq!(again.stat("/g").unwrap().owner, "app");
    assert!(again.stat("/f").is_err());
}

#[test]
fn removing_a_path_forgets_its_sidecar_and_what_is_under_it_only() {
    let w = World::new();
    let mut sb = w.sandbox("h");
    for d in ["/a", "/a/b", "/a/bc"] {
        sb.mkdir(d, false).unwrap();
    }
    for f in ["/a/b/f", "/a/bc/f", "/a/b.conf", "/a/b/g"] {
        sb.write(f, b"x", WriteMode::Truncate).unwrap();
        sb.chown(f, Some("app"), None).unwrap();
    }
    sb.chown("/a/b", Some("app"), None).unwrap();
    sb.remove_file("/a/b/g").unwrap();
    sb.write("/a/b/g", b"x", WriteMode::Truncate).unwrap();
    assert_eq!(sb.stat("/a/b/g").unwrap().owner, "root");
    assert_eq!(sb.stat("/a/b/f").unwrap().owner, "app");
    sb.remove_all("/a/b").unwrap();
    sb.mkdir("/a/b", false).unwrap();
    sb.write("/a/b/f", b"x", WriteMode::Truncate).unwrap();
    assert_eq!(sb.stat("/a/b").unwrap().owner, "root");
    assert_eq!(sb.stat("/a/b/f").unwrap().owner, "root");
    // Neighbours whose names only start with the same letters keep theirs.
    assert_eq!(sb.stat("/a/bc/f").unwrap().owner, "app");
    assert_eq!(sb.stat("/a/b.conf").unwrap().owner, "app");
}

#[test]
fn a_remembered_lstat_follows_every_change_made_through_any_sandbox() {
    let w = World::new();
    let mut a = w.sandbox("web1");
    // A second sandbox on the same folder, as hosts sharing a filesystem have.
    let mut b = w.sandbox("web1");
    assert!(!a.exists("/f"));
    b.write("/f", b"12345", WriteMode::Truncate).unwrap();
    assert_eq!(a.stat("/f").unwrap().size, 5, "a file another sandbox made");
    a.write("/f", b"1", WriteMode::Append).unwrap();
    assert_eq!(a.stat("/f").unwrap().size, 6, "its own append");
    assert_eq!(b.stat("/f").unwrap().size, 6, "another sandbox's append");
    b.chmod("/f", 0o600).unwrap();
    assert_eq!(a.stat("/f").unwrap().mode, 0o600);
    a.mkdir("/d", false).unwrap();
    let links = a.stat("/d").unwrap().nlink;
    b.mkdir("/d/sub", false).unwrap();
    assert_eq!(
        a.stat("/d").unwrap().nlink,
        links + 1,
        "a folder made inside"
    );
    b.hardlink("/f", "/g").unwrap();
    assert_eq!(a.stat("/f").unwrap().nlink, 2, "a hard link made to it");
    a.remove_file("/g").unwrap();
    assert_eq!(a.stat("/f").unwrap().nlink, 1);
    assert!(b.lstat("/g").is_err(), "a file another sandbox removed");
    b.remove_file("/f").unwrap();
    assert!(!a.exists("/f"));
    // A file becoming a symbolic link is followed at once.
    a.write("/t", b"target", WriteMode::Truncate).unwrap();
    a.write("/l", b"x", WriteMode::Truncate).unwrap();
    assert_eq!(a.read("/l").unwrap(), b"x");
    b.remove_file("/l").unwrap();
    b.symlink("/t", "/l").unwrap();
    assert_eq!(a.read("/l").unwrap(), b"target");
    assert_eq!(a.lstat("/l").unwrap().kind, FileKind::Symlink);
}

#[test]
fn a_change_through_one_hard_link_is_seen_through_the_others() {
    let w = World::new();
    let mut a = w.sandbox("web1");
    a.write("/f", b"1", WriteMode::Truncate).unwrap();
    a.hardlink("/f", "/g").unwrap();
    assert_eq!(a.stat("/f").unwrap().size, 1);
    a.write("/g", b"234", WriteMode::Append).unwrap();
    assert_eq!(a.stat("/f").unwrap().size, 4);
    a.chmod("/g", 0o600).unwrap();
    assert_eq!(a.stat("/f").unwrap().mode, 0o600);
}
