//! Users and groups: `/etc/passwd`, `/etc/group` and `/etc/shadow` in the host's sandbox,
//! read and written the way `useradd`, `usermod`, `groupadd` and friends edit them.

use super::{fs_err, put, text, Distro, Family};
use crate::fs::Sandbox;

/// One `/etc/passwd` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub gecos: String,
    pub home: String,
    pub shell: String,
}

impl User {
    fn line(&self) -> String {
        format!(
            "{}:x:{}:{}:{}:{}:{}",
            self.name, self.uid, self.gid, self.gecos, self.home, self.shell
        )
    }
}

/// One `/etc/group` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

impl Group {
    fn line(&self) -> String {
        format!("{}:x:{}:{}", self.name, self.gid, self.members.join(","))
    }
}

pub const PASSWD: &str = "/etc/passwd";
pub const GROUP: &str = "/etc/group";
pub const SHADOW: &str = "/etc/shadow";

/// The accounts a fresh installation has.
fn base_users(distro: Distro) -> &'static str {
    match distro.family() {
        Family::Debian => {
            "root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
bin:x:2:2:bin:/bin:/usr/sbin/nologin
sys:x:3:3:sys:/dev:/usr/sbin/nologin
sync:x:4:65534:sync:/bin:/bin/sync
games:x:5:60:games:/usr/games:/usr/sbin/nologin
man:x:6:12:man:/var/cache/man:/usr/sbin/nologin
lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin
mail:x:8:8:mail:/var/mail:/usr/sbin/nologin
news:x:9:9:news:/var/spool/news:/usr/sbin/nologin
uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin
proxy:x:13:13:proxy:/bin:/usr/sbin/nologin
www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin
backup:x:34:34:backup:/var/backups:/usr/sbin/nologin
list:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin
irc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin
_apt:x:42:65534::/nonexistent:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
sshd:x:100:65534::/run/sshd:/usr/sbin/nologin
"
        }
        Family::Redhat => {
            "root:x:0:0:root:/root:/bin/bash
bin:x:1:1:bin:/bin:/sbin/nologin
daemon:x:2:2:daemon:/sbin:/sbin/nologin
adm:x:3:4:adm:/var/adm:/sbin/nologin
lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin
sync:x:5:0:sync:/sbin:/bin/sync
shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown
halt:x:7:0:halt:/sbin:/sbin/halt
mail:x:8:12:mail:/var/spool/mail:/sbin/nologin
operator:x:11:0:operator:/root:/sbin/nologin
games:x:12:100:games:/usr/games:/sbin/nologin
ftp:x:14:50:FTP User:/var/ftp:/sbin/nologin
nobody:x:65534:65534:Kernel Overflow User:/:/sbin/nologin
sshd:x:74:74:Privilege-separated SSH:/usr/share/empty.sshd:/sbin/nologin
"
        }
    }
}

fn base_groups(distro: Distro) -> &'static str {
    match distro.family() {
        Family::Debian => {
            "root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
news:x:9:
uucp:x:10:
man:x:12:
proxy:x:13:
kmem:x:15:
dialout:x:20:
cdrom:x:24:
sudo:x:27:
audio:x:29:
www-data:x:33:
backup:x:34:
operator:x:37:
list:x:38:
irc:x:39:
src:x:40:
shadow:x:42:
utmp:x:43:
video:x:44:
plugdev:x:46:
staff:x:50:
games:x:60:
users:x:100:
nogroup:x:65534:
"
        }
        Family::Redhat => {
            "root:x:0:
bin:x:1:
daemon:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mem:x:8:
kmem:x:9:
wheel:x:10:
cdrom:x:11:
mail:x:12:
man:x:15:
dialout:x:18:
floppy:x:19:
games:x:20:
tape:x:33:
video:x:39:
ftp:x:50:
lock:x:54:
audio:x:63:
users:x:100:
nobody:x:65534:
sshd:x:74:
"
        }
    }
}

/// Writes the base accounts (called once, by [`super::ensure`]).
pub(super) fn lay_base(fs: &mut Sandbox, distro: Distro) -> Result<(), String> {
    let users = base_users(distro);
    put(fs, PASSWD, users)?;
    put(fs, GROUP, base_groups(distro))?;
    let shadow: String = users
        .lines()
        .filter_map(|l| l.split(':').next())
        .map(|n| format!("{n}:*:19700:0:99999:7:::\n"))
        .collect();
    put(fs, SHADOW, &shadow)?;
    let _ = fs.chmod(SHADOW, 0o640);
    let _ = fs.chown(SHADOW, Some("root"), Some("shadow"));
    Ok(())
}

/// Every `/etc/passwd` entry, in file order.
pub fn users(fs: &Sandbox) -> Vec<User> {
    text(fs, PASSWD)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() == 7).then(|| User {
                name: f[0].into(),
                uid: f[2].parse().unwrap_or(0),
                gid: f[3].parse().unwrap_or(0),
                gecos: f[4].into(),
                home: f[5].into(),
                shell: f[6].into(),
            })
        })
        .collect()
}

/// Every `/etc/group` entry, in file order.
pub fn groups(fs: &Sandbox) -> Vec<Group> {
    text(fs, GROUP)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() == 4).then(|| Group {
                name: f[0].into(),
                gid: f[2].parse().unwrap_or(0),
                members: f[3]
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect()
}

pub fn user(fs: &Sandbox, name: &str) -> Option<User> {
    users(fs).into_iter().find(|u| u.name == name)
}

pub fn group(fs: &Sandbox, name: &str) -> Option<Group> {
    groups(fs).into_iter().find(|g| g.name == name)
}

pub fn group_by_gid(fs: &Sandbox, gid: u32) -> Option<Group> {
    groups(fs).into_iter().find(|g| g.gid == gid)
}

/// The supplementary groups `user` is a member of, in `/etc/group` order.
pub fn memberships(fs: &Sandbox, user: &str) -> Vec<String> {
    groups(fs)
        .into_iter()
        .filter(|g| g.members.iter().any(|m| m == user))
        .map(|g| g.name)
        .collect()
}

/// The shadow entry's password field.
pub fn password_hash(fs: &Sandbox, user: &str) -> Option<String> {
    text(fs, SHADOW).lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next() == Some(user)).then(|| f.next().unwrap_or("").to_string())
    })
}

/// The next free id: from 1000 up for regular accounts, from 999 down for system ones (as
/// useradd's UID_MIN / SYS_UID_MAX allocate them).
fn next_id(taken: &[u32], system: bool) -> u32 {
    if system {
        (100..1000)
            .rev()
            .find(|i| !taken.contains(i))
            .unwrap_or(999)
    } else {
        (1000..60000).find(|i| !taken.contains(i)).unwrap_or(60000)
    }
}

pub fn next_uid(fs: &Sandbox, system: bool) -> u32 {
    let taken: Vec<u32> = users(fs).iter().map(|u| u.uid).collect();
    next_id(&taken, system)
}

pub fn next_gid(fs: &Sandbox, system: bool) -> u32 {
    let taken: Vec<u32> = groups(fs).iter().map(|g| g.gid).collect();
    next_id(&taken, system)
}

fn write_users(fs: &mut Sandbox, users: &[User]) -> Result<(), String> {
    let s: String = users.iter().map(|u| u.line() + "\n").collect();
    put(fs, PASSWD, &s)
}

fn write_groups(fs: &mut Sandbox, groups: &[Group]) -> Result<(), String> {
    let s: String = groups.iter().map(|g| g.line() + "\n").collect();
    put(fs, GROUP, &s)
}

/// Adds or replaces a group.
pub fn save_group(fs: &mut Sandbox, g: Group) -> Result<(), String> {
    let mut all = groups(fs);
    match all.iter_mut().find(|x| x.name == g.name) {
        Some(x) => *x = g,
        None => all.push(g),
    }
    write_groups(fs, &all)
}

pub fn remove_group(fs: &mut Sandbox, name: &str) -> Result<(), String> {
    let mut all = groups(fs);
    all.retain(|g| g.name != name);
    write_groups(fs, &all)
}

/// Adds or replaces a user (and its shadow entry, `!` locked until a password is set).
pub fn save_user(fs: &mut Sandbox, u: User, now: f64) -> Result<(), String> {
    let mut all = users(fs);
    let new = !all.iter().any(|x| x.name == u.name);
    match all.iter_mut().find(|x| x.name == u.name) {
        Some(x) => *x = u.clone(),
        None => all.push(u.clone()),
    }
    write_users(fs, &all)?;
    if new {
        let days = (now / 86_400.0).floor() as i64;
        let mut sh = text(fs, SHADOW);
        sh.push_str(&format!("{}:!:{days}:0:99999:7:::\n", u.name));
        put(fs, SHADOW, &sh)?;
    }
    Ok(())
}

/// Sets the shadow password field.
pub fn set_password(fs: &mut Sandbox, user: &str, hash: &str) -> Result<(), String> {
    let sh: String = text(fs, SHADOW)
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(':').collect();
            if f.first() == Some(&user) && f.len() > 1 {
                f[1] = hash;
            }
            f.join(":") + "\n"
        })
        .collect();
    put(fs, SHADOW, &sh)
}

/// Removes a user, its shadow entry and its memberships (`userdel`; `remove` also deletes
/// its home folder).
pub fn remove_user(fs: &mut Sandbox, name: &str, remove_home: bool) -> Result<(), String> {
    let mut all = users(fs);
    let home = all.iter().find(|u| u.name == name).map(|u| u.home.clone());
    all.retain(|u| u.name != name);
    write_users(fs, &all)?;
    let sh: String = text(fs, SHADOW)
        .lines()
        .filter(|l| l.split(':').next() != Some(name))
        .map(|l| format!("{l}\n"))
        .collect();
    put(fs, SHADOW, &sh)?;
    let mut gs = groups(fs);
    for g in &mut gs {
        g.members.retain(|m| m != name);
    }
    // useradd's USERGROUPS_ENAB: the user's own group goes with it when nobody else uses it.
    gs.retain(|g| !(g.name == name && g.members.is_empty()));
    write_groups(fs, &gs)?;
    if remove_home {
        if let Some(h) = home.filter(|h| fs.is_dir(h) && h != "/") {
            fs.remove_all(&h).map_err(fs_err)?;
        }
    }
    Ok(())
}

/// Sets `user`'s supplementary groups to exactly `wanted` (or adds them, with `append`).
pub fn set_memberships(
    fs: &mut Sandbox,
    user: &str,
    wanted: &[String],
    append: bool,
) -> Result<(), String> {
    let mut gs = groups(fs);
    for g in &mut gs {
        let want = wanted.contains(&g.name);
        let has = g.members.iter().any(|m| m == user);
        if want && !has {
            g.members.push(user.to_string());
        } else if !want && has && !append {
            g.members.retain(|m| m != user);
        }
    }
    write_groups(fs, &gs)
}

/// Creates a home folder from `/etc/skel`'s usual files, owned by the user.
pub fn make_home(fs: &mut Sandbox, home: &str, user: &str, group: &str) -> Result<(), String> {
    fs.mkdir(home, true).map_err(fs_err)?;
    for (f, body) in [
        (
            ".bashrc",
            "# ~/.bashrc: executed by bash(1) for non-login shells.\n",
        ),
        (
            ".profile",
            "# ~/.profile: executed by the command interpreter for login shells.\n",
        ),
        (
            ".bash_logout",
            "# ~/.bash_logout: executed by bash(1) when login shell exits.\n",
        ),
    ] {
        let p = format!("{}/{f}", home.trim_end_matches('/'));
        put(fs, &p, body)?;
        let _ = fs.chown(&p, Some(user), Some(group));
        let _ = fs.chmod(&p, 0o644);
    }
    let _ = fs.chmod(home, 0o755);
    fs.chown(home, Some(user), Some(group)).map_err(fs_err)
}

/// `getent passwd|group|shadow [KEY]`'s lines; `None` for an unknown database.
pub fn getent(fs: &Sandbox, database: &str) -> Option<Vec<String>> {
    let file = match database {
        "passwd" => PASSWD,
        "group" => GROUP,
        "shadow" => SHADOW,
        _ => return None,
    };
    Some(text(fs, file).lines().map(str::to_string).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::tests::host;

    #[test]
    fn users_are_added_with_the_next_free_ids_and_removed_cleanly() {
        let (_t, mut fs) = host(Distro::Debian12);
        assert_eq!(next_uid(&fs, false), 1000);
        assert_eq!(next_uid(&fs, true), 999);
        let gid = next_gid(&fs, false);
        save_group(
            &mut fs,
            Group {
                name: "alice".into(),
                gid,
                members: vec![],
            },
        )
        .unwrap();
        save_user(
            &mut fs,
            User {
                name: "alice".into(),
                uid: 1000,
                gid,
                gecos: "".into(),
                home: "/home/alice".into(),
                shell: "/bin/bash".into(),
            },
            86_400.0 * 3.0,
        )
        .unwrap();
        set_memberships(&mut fs, "alice", &["sudo".into()], false).unwrap();
        assert_eq!(memberships(&fs, "alice"), vec!["sudo"]);
        assert_eq!(password_hash(&fs, "alice").as_deref(), Some("!"));
        remove_user(&mut fs, "alice", true).unwrap();
        assert!(user(&fs, "alice").is_none());
        assert!(group(&fs, "alice").is_none());
        assert!(memberships(&fs, "alice").is_empty());
    }
}
