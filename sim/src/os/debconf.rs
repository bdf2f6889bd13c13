//! The debconf database of a Debian-family host, in debconf's own files: answers in
//! `/var/cache/debconf/config.dat` (passwords in `passwords.dat`, mode 0600), question
//! types in `templates.dat`, each a list of RFC 822 style stanzas (`Name:`, `Value:`,
//! `Owners:`, `Flags: seen` / `Type:`). The `debconf` module and the shell's
//! `debconf-show`, `debconf-get-selections` and `debconf-set-selections` read and write them.

use super::{fs_err, put, text};
use crate::fs::Sandbox;

pub const CONFIG: &str = "/var/cache/debconf/config.dat";
pub const PASSWORDS: &str = "/var/cache/debconf/passwords.dat";
pub const TEMPLATES: &str = "/var/cache/debconf/templates.dat";

/// One question and its answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// `pkg/question`.
    pub name: String,
    pub owner: String,
    pub vtype: String,
    pub value: String,
    pub seen: bool,
}

fn stanzas(text: &str) -> Vec<Vec<(String, String)>> {
    text.split("\n\n")
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.lines()
                .filter_map(|l| l.split_once(':'))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect()
        })
        .collect()
}

fn field<'a>(st: &'a [(String, String)], key: &str) -> Option<&'a str> {
    st.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Every question in the database, in name order.
pub fn all(fs: &Sandbox) -> Vec<Entry> {
    let types = stanzas(&text(fs, TEMPLATES));
    let mut out = Vec::new();
    for path in [CONFIG, PASSWORDS] {
        for st in stanzas(&text(fs, path)) {
            let Some(name) = field(&st, "Name") else {
                continue;
            };
            let vtype = types
                .iter()
                .find(|t| field(t, "Name") == Some(name))
                .and_then(|t| field(t, "Type"))
                .unwrap_or("string");
            out.push(Entry {
                name: name.to_string(),
                owner: field(&st, "Owners").unwrap_or_default().to_string(),
                vtype: vtype.to_string(),
                value: field(&st, "Value").unwrap_or_default().to_string(),
                seen: field(&st, "Flags").is_some_and(|f| f.split(", ").any(|x| x == "seen")),
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn save(fs: &mut Sandbox, entries: &[Entry]) -> Result<(), String> {
    let mut config = String::new();
    let mut passwords = String::new();
    let mut templates = String::new();
    for e in entries {
        let stanza = format!(
            "Name: {}\nTemplate: {}\nValue: {}\nOwners: {}\n{}\n",
            e.name,
            e.name,
            e.value,
            e.owner,
            if e.seen { "Flags: seen\n" } else { "" }
        );
        if e.vtype == "password" {
            passwords.push_str(&stanza);
        } else {
            config.push_str(&stanza);
        }
        templates.push_str(&format!(
            "Name: {}\nType: {}\nOwners: {}\n\n",
            e.name, e.vtype, e.owner
        ));
    }
    put(fs, CONFIG, &config)?;
    put(fs, TEMPLATES, &templates)?;
    put(fs, PASSWORDS, &passwords)?;
    fs.chmod(PASSWORDS, 0o600).map_err(fs_err)
}

/// `debconf-set-selections` of one line `OWNER QUESTION TYPE VALUE`; `seen` unless `-u`.
pub fn set(
    fs: &mut Sandbox,
    owner: &str,
    name: &str,
    vtype: &str,
    value: &str,
    seen: bool,
) -> Result<(), String> {
    let mut entries = all(fs);
    let e = Entry {
        name: name.to_string(),
        owner: owner.to_string(),
        vtype: vtype.to_string(),
        value: value.to_string(),
        seen,
    };
    match entries.iter_mut().find(|x| x.name == name) {
        Some(x) => *x = e,
        None => entries.push(e),
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    save(fs, &entries)
}

/// `debconf-show PKG`: `* question: value` per question the package owns (`*` once seen),
/// passwords omitted.
pub fn show(fs: &Sandbox, pkg: &str) -> String {
    all(fs)
        .iter()
        .filter(|e| e.owner.split(", ").any(|o| o == pkg))
        .map(|e| {
            format!(
                "{} {}: {}\n",
                if e.seen { "*" } else { " " },
                e.name,
                if e.vtype == "password" {
                    "(password omitted)"
                } else {
                    &e.value
                }
            )
        })
        .collect()
}

/// `debconf-get-selections`: `OWNER\tQUESTION\tTYPE\tVALUE` lines.
pub fn get_selections(fs: &Sandbox) -> String {
    all(fs)
        .iter()
        .map(|e| {
            let owner = e.owner.split(", ").next().unwrap_or_default();
            format!("{owner}\t{}\t{}\t{}\n", e.name, e.vtype, e.value)
        })
        .collect()
}

/// `debconf-set-selections` of its input; returns an error line for a malformed one.
pub fn set_selections(fs: &mut Sandbox, input: &str, seen: bool) -> Result<(), String> {
    for line in input.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(4, char::is_whitespace);
        let (Some(owner), Some(name), Some(vtype)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("error: Cannot parse line \"{line}\"\n"));
        };
        let value = parts.next().unwrap_or_default().trim_start();
        set(fs, owner, name, vtype, value, seen)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::tests::host;
    use crate::os::Distro;

    #[test]
    fn selections_round_trip_through_debconfs_files() {
        let (_t, mut fs) = host(Distro::Debian12);
        set_selections(
            &mut fs,
            "tzdata tzdata/Areas select Europe\nmysql-server mysql-server/root_password password s3cret\n",
            true,
        )
        .unwrap();
        set(
            &mut fs,
            "tzdata",
            "tzdata/Zones/Europe",
            "select",
            "Paris",
            false,
        )
        .unwrap();
        assert_eq!(
            show(&fs, "tzdata"),
            "* tzdata/Areas: Europe\n  tzdata/Zones/Europe: Paris\n"
        );
        assert_eq!(
            show(&fs, "mysql-server"),
            "* mysql-server/root_password: (password omitted)\n"
        );
        assert!(get_selections(&fs)
            .contains("mysql-server\tmysql-server/root_password\tpassword\ts3cret\n"));
        assert_eq!(fs.stat(PASSWORDS).unwrap().mode & 0o777, 0o600);
        assert!(!text(&fs, CONFIG).contains("s3cret"));
        assert!(set_selections(&mut fs, "justone\n", true).is_err());
    }
}
