//! `user` and `group`: accounts in the simulated OS's `/etc/passwd`, `/etc/group` and
//! `/etc/shadow`, created, changed and removed as ansible-core's Linux `User`/`Group`
//! classes do through useradd/usermod/userdel, with their result keys.

use serde_json::{json, Value};

use fleetsim_sim::fs::Sandbox;
use fleetsim_sim::os::accounts::{self, Group, User};
use fleetsim_sim::os::{Distro, Family};

use super::spec::{opt, spec, Kind, ModuleName, Spec};
use super::{arg_bool, arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct UserModule;
pub struct GroupModule;

const USER_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("name", Kind::Str).aliases(&["user"]).required(),
        opt("state", Kind::Str).choices(&["absent", "present"]),
        opt("uid", Kind::Int),
        opt("non_unique", Kind::Bool),
        opt("group", Kind::Str),
        opt("groups", Kind::List),
        opt("comment", Kind::Str),
        opt("home", Kind::Path),
        opt("shell", Kind::Str),
        opt("password", Kind::Str),
        opt("force", Kind::Bool),
        opt("remove", Kind::Bool),
        opt("create_home", Kind::Bool).aliases(&["createhome"]),
        opt("move_home", Kind::Bool),
        opt("skeleton", Kind::Str),
        opt("system", Kind::Bool),
        opt("login_class", Kind::Str),
        opt("append", Kind::Bool),
        opt("update_password", Kind::Str).choices(&["always", "on_create"]),
        opt("password_lock", Kind::Bool),
        opt("local", Kind::Bool),
        opt("umask", Kind::Str),
        opt("seuser", Kind::Str),
        opt("hidden", Kind::Bool).refused(),
        opt("expires", Kind::Float).refused(),
        opt("generate_ssh_key", Kind::Bool).refused(),
        opt("ssh_key_bits", Kind::Int),
        opt("ssh_key_type", Kind::Str),
        opt("ssh_key_file", Kind::Path),
        opt("ssh_key_comment", Kind::Str),
        opt("ssh_key_passphrase", Kind::Str),
        opt("profile", Kind::Str),
        opt("authorization", Kind::Str),
        opt("role", Kind::Str),
        opt("password_expire_max", Kind::Int).refused(),
        opt("password_expire_min", Kind::Int).refused(),
        opt("password_expire_warn", Kind::Int).refused(),
        opt("password_expire_account_disable", Kind::Int).refused(),
        opt("uid_min", Kind::Int),
        opt("uid_max", Kind::Int),
    ],
);

const GROUP_SPEC: Spec = spec(
    ModuleName::AsWritten,
    &[
        opt("name", Kind::Str).required(),
        opt("state", Kind::Str).choices(&["absent", "present"]),
        opt("gid", Kind::Int),
        opt("force", Kind::Bool),
        opt("system", Kind::Bool),
        opt("local", Kind::Bool),
        opt("non_unique", Kind::Bool),
        opt("gid_min", Kind::Int),
        opt("gid_max", Kind::Int),
    ],
);

/// useradd's default shell (`SHELL=` in `/etc/default/useradd`).
fn default_shell(distro: Distro) -> &'static str {
    match distro.family() {
        Family::Debian => "/bin/sh",
        Family::Redhat => "/bin/bash",
    }
}

/// The host's distribution, its state laid out.
fn os_of(ctx: &mut ModuleCtx<'_>) -> Result<Distro, ModuleResult> {
    match ctx.target_host().map(|h| h.os()) {
        Err(r) => Err(r),
        Ok(Err(e)) => Err(super::fail(&e)),
        Ok(Ok(d)) => Ok(d),
    }
}

/// A group named by name or number.
fn find_group(fs: &Sandbox, g: &str) -> Option<Group> {
    accounts::group(fs, g).or_else(|| {
        g.parse()
            .ok()
            .and_then(|gid| accounts::group_by_gid(fs, gid))
    })
}

impl Module for UserModule {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &USER_SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        let distro = match os_of(ctx) {
            Ok(d) => d,
            Err(r) => return r,
        };
        let check = ctx.check_mode;
        let now = ctx.world.clock.now();
        let name = arg_str(&args, "name").unwrap_or_default();
        let state = arg_str(&args, "state").unwrap_or_else(|| "present".into());
        let flag = |k: &str, d: bool| arg_bool(&args, k, d).unwrap_or(d);
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let fs = &mut host.fs;
        let existing = accounts::user(fs, &name);
        let mut r = super::ok(false);
        r.insert("name".into(), json!(name));
        r.insert("state".into(), json!(state));
        if state == "absent" {
            if existing.is_some() {
                if check {
                    return super::ok(true);
                }
                let remove = flag("remove", false);
                if let Err(e) = accounts::remove_user(fs, &name, remove) {
                    return super::fail(&e);
                }
                r.insert("changed".into(), json!(true));
                r.insert("force".into(), json!(flag("force", false)));
                r.insert("remove".into(), json!(remove));
            }
            return r;
        }
        // A new user in check mode: the module answers before useradd would look at the
        // groups.
        if existing.is_none() && check {
            return super::ok(true);
        }
        // Supplementary groups: each must exist (`groups: ''` means none).
        let wanted_groups: Option<Vec<String>> = match args.get("groups") {
            Some(Value::Array(a)) => Some(
                a.iter()
                    .filter_map(|v| {
                        v.as_str()
                            .map(|s| s.trim().to_string())
                            .or_else(|| Some(v.to_string()))
                    })
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            _ => None,
        };
        let mut group_names = Vec::new();
        for g in wanted_groups.iter().flatten() {
            match find_group(fs, g) {
                Some(found) => group_names.push(found.name),
                None => return super::fail(&format!("Group {g} does not exist")),
            }
        }
        let primary = match arg_str(&args, "group") {
            Some(g) => match find_group(fs, &g) {
                Some(found) => Some(found),
                None => return super::fail(&format!("Group {g} does not exist")),
            },
            None => None,
        };
        let append = flag("append", false);
        let password = arg_str(&args, "password");
        let update_password = arg_str(&args, "update_password").unwrap_or_else(|| "always".into());
        let create_home = flag("create_home", true);
        let system = flag("system", false);
        let user = match existing {
            None => {
                if check {
                    return super::ok(true);
                }
                let uid = match args.get("uid").and_then(Value::as_u64) {
                    Some(u) => {
                        if !flag("non_unique", false)
                            && accounts::users(fs).iter().any(|x| x.uid as u64 == u)
                        {
                            let mut f = super::fail(&format!("useradd: UID {u} is not unique\n"));
                            f.insert("name".into(), json!(name));
                            f.insert("rc".into(), json!(4));
                            return f;
                        }
                        u as u32
                    }
                    None => accounts::next_uid(fs, system),
                };
                let gid = match &primary {
                    Some(g) => g.gid,
                    None => {
                        // USERGROUPS_ENAB: a group of the user's name, with the uid as gid
                        // when that is free.
                        let gid = if accounts::group_by_gid(fs, uid).is_none() {
                            uid
                        } else {
                            accounts::next_gid(fs, system)
                        };
                        if let Err(e) = accounts::save_group(
                            fs,
                            Group {
                                name: name.clone(),
                                gid,
                                members: vec![],
                            },
                        ) {
                            return super::fail(&e);
                        }
                        gid
                    }
                };
                let home = arg_str(&args, "home").unwrap_or_else(|| format!("/home/{name}"));
                let u = User {
                    name: name.clone(),
                    uid,
                    gid,
                    gecos: arg_str(&args, "comment").unwrap_or_default(),
                    home: home.clone(),
                    shell: arg_str(&args, "shell").unwrap_or_else(|| default_shell(distro).into()),
                };
                let result = accounts::save_user(fs, u.clone(), now)
                    .and_then(|_| match &password {
                        Some(p) => accounts::set_password(fs, &name, p),
                        None => Ok(()),
                    })
                    .and_then(|_| accounts::set_memberships(fs, &name, &group_names, true))
                    .and_then(|_| {
                        if create_home && !fs.exists(&home) {
                            let gname = accounts::group_by_gid(fs, gid)
                                .map(|g| g.name)
                                .unwrap_or_else(|| gid.to_string());
                            accounts::make_home(fs, &home, &name, &gname)
                        } else {
                            Ok(())
                        }
                    });
                if let Err(e) = result {
                    return super::fail(&e);
                }
                r.insert("changed".into(), json!(true));
                r.insert("system".into(), json!(system));
                r.insert("create_home".into(), json!(create_home));
                u
            }
            Some(mut u) => {
                let mut changed = false;
                if let Some(uid) = args.get("uid").and_then(Value::as_u64) {
                    if u.uid as u64 != uid {
                        u.uid = uid as u32;
                        changed = true;
                    }
                }
                if let Some(g) = &primary {
                    if u.gid != g.gid {
                        u.gid = g.gid;
                        changed = true;
                    }
                }
                if let Some(c) = arg_str(&args, "comment") {
                    if u.gecos != c {
                        u.gecos = c;
                        changed = true;
                    }
                }
                if let Some(s) = arg_str(&args, "shell") {
                    if u.shell != s {
                        u.shell = s;
                        changed = true;
                    }
                }
                let mut move_from = None;
                if let Some(h) = arg_str(&args, "home") {
                    if u.home != h {
                        if flag("move_home", false) {
                            move_from = Some(u.home.clone());
                        }
                        u.home = h;
                        changed = true;
                    }
                }
                let mut groups_changed = false;
                if wanted_groups.is_some() {
                    let primary_name = accounts::group_by_gid(fs, u.gid).map(|g| g.name);
                    let want: Vec<String> = group_names
                        .iter()
                        .filter(|g| Some(*g) != primary_name.as_ref())
                        .cloned()
                        .collect();
                    let have = accounts::memberships(fs, &name);
                    groups_changed = if append {
                        want.iter().any(|g| !have.contains(g))
                    } else {
                        let (mut a, mut b) = (want.clone(), have.clone());
                        a.sort();
                        b.sort();
                        a != b
                    };
                    if groups_changed && !check {
                        if let Err(e) = accounts::set_memberships(fs, &name, &want, append) {
                            return super::fail(&e);
                        }
                    }
                }
                let pw_changed = match &password {
                    Some(p) if update_password == "always" => {
                        accounts::password_hash(fs, &name).as_deref() != Some(p.as_str())
                    }
                    _ => false,
                };
                if !check {
                    let res = (if changed {
                        accounts::save_user(fs, u.clone(), now)
                    } else {
                        Ok(())
                    })
                    .and_then(|_| match (&password, pw_changed) {
                        (Some(p), true) => accounts::set_password(fs, &name, p),
                        _ => Ok(()),
                    });
                    if let Err(e) = res {
                        return super::fail(&e);
                    }
                    if let Some(old) = move_from.filter(|o| fs.is_dir(o)) {
                        if let Err(e) = fs.rename(&old, &u.home) {
                            return super::fail(&e.to_string());
                        }
                    }
                }
                r.insert(
                    "changed".into(),
                    json!(changed || groups_changed || pw_changed),
                );
                r.insert("append".into(), json!(append));
                r.insert("move_home".into(), json!(flag("move_home", false)));
                u
            }
        };
        if password.is_some() {
            r.insert("password".into(), json!("NOT_LOGGING_PASSWORD"));
        }
        r.insert("uid".into(), json!(user.uid));
        r.insert("group".into(), json!(user.gid));
        r.insert("comment".into(), json!(user.gecos));
        r.insert("home".into(), json!(user.home));
        r.insert("shell".into(), json!(user.shell));
        if let Some(g) = &wanted_groups {
            r.insert("groups".into(), json!(g.join(",")));
        }
        // A missing home folder is created for an existing user too.
        if create_home && !fs.exists(&user.home) {
            if !check {
                let gname = accounts::group_by_gid(fs, user.gid)
                    .map(|g| g.name)
                    .unwrap_or_else(|| user.gid.to_string());
                if let Err(e) = accounts::make_home(fs, &user.home, &name, &gname) {
                    return super::fail(&e);
                }
            }
            r.insert("changed".into(), json!(true));
        }
        r
    }
}

impl Module for GroupModule {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let args = match super::validated(ctx, &GROUP_SPEC, args) {
            Ok(a) => a,
            Err(r) => return r,
        };
        if let Err(r) = os_of(ctx) {
            return r;
        }
        let check = ctx.check_mode;
        let name = arg_str(&args, "name").unwrap_or_default();
        let state = arg_str(&args, "state").unwrap_or_else(|| "present".into());
        let system = arg_bool(&args, "system", false).unwrap_or(false);
        let gid = args.get("gid").and_then(Value::as_u64).map(|g| g as u32);
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let fs = &mut host.fs;
        let existing = accounts::group(fs, &name);
        let mut r = super::ok(false);
        r.insert("name".into(), json!(name));
        r.insert("state".into(), json!(state));
        if state == "absent" {
            if existing.is_some() {
                // groupdel refuses a group that is some user's primary group.
                if let Some(g) = &existing {
                    if let Some(u) = accounts::users(fs).into_iter().find(|u| u.gid == g.gid) {
                        let mut f = super::fail(&format!(
                            "groupdel: cannot remove the primary group of user '{}'\n",
                            u.name
                        ));
                        f.insert("name".into(), json!(name));
                        return f;
                    }
                }
                if !check {
                    if let Err(e) = accounts::remove_group(fs, &name) {
                        return super::fail(&e);
                    }
                }
                r.insert("changed".into(), json!(true));
            }
            return r;
        }
        let taken = |fs: &Sandbox, g: u32| {
            accounts::groups(fs)
                .iter()
                .any(|x| x.gid == g && x.name != name)
        };
        if let Some(g) = gid {
            if taken(fs, g) && !arg_bool(&args, "non_unique", false).unwrap_or(false) {
                let verb = if existing.is_some() {
                    "groupmod"
                } else {
                    "groupadd"
                };
                let mut f = super::fail(&format!("{verb}: GID '{g}' already exists\n"));
                f.insert("name".into(), json!(name));
                return f;
            }
        }
        let group = match existing {
            Some(mut g) => {
                if let Some(want) = gid.filter(|w| *w != g.gid) {
                    g.gid = want;
                    r.insert("changed".into(), json!(true));
                    if !check {
                        if let Err(e) = accounts::save_group(fs, g.clone()) {
                            return super::fail(&e);
                        }
                    }
                }
                g
            }
            None => {
                let g = Group {
                    name: name.clone(),
                    gid: gid.unwrap_or_else(|| accounts::next_gid(fs, system)),
                    members: vec![],
                };
                r.insert("changed".into(), json!(true));
                if check {
                    return super::ok(true);
                }
                if let Err(e) = accounts::save_group(fs, g.clone()) {
                    return super::fail(&e);
                }
                g
            }
        };
        r.insert("gid".into(), json!(group.gid));
        r.insert("system".into(), json!(system));
        r
    }
}
