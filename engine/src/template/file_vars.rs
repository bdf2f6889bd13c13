//! The variables a template file sees on top of the task's: `template_host`,
//! `template_path`, `template_fullpath`, `template_destpath`, `template_uid`,
//! `template_mtime`, `template_run_date` and `ansible_managed`, as ansible-core's
//! `generate_ansible_template_vars` gives them to the `template` action and lookup.

use std::sync::Arc;

use minijinja::value::Value;
use serde_json::{Map, Value as J};

use super::vars::VarSource;

/// The simulated controller's host name (`os.uname()[1]` in ansible-core): the inventory's
/// implicit `localhost`, whose facts and in-process shell use the same name.
pub const CONTROLLER_HOSTNAME: &str = "localhost";
/// The user the simulated controller runs as (the owner of the files it reads), as its
/// environment says (`USER=root`).
pub const CONTROLLER_USER: &str = "root";
/// DEFAULT_MANAGED_STR's default; `{host}`, `{uid}` and `{file}` in it would become
/// templates of the variables above.
const MANAGED_DEFAULT: &str = "Ansible managed";

/// Where a template file is and when: what [`with_template_file_vars`] needs.
pub struct TemplateFile<'a> {
    /// The name as the task or lookup wrote it (`template_path`).
    pub written: &'a str,
    /// The file's absolute path on the controller (`template_fullpath`).
    pub fullpath: &'a str,
    /// The template action's `dest`; the lookup has none.
    pub dest: Option<&'a str>,
    /// The file's modification time, epoch seconds.
    pub mtime: f64,
    /// The (virtual) time of the render, epoch seconds.
    pub now: f64,
}

/// `vars` with the template file's variables on top. `ansible_managed` is added only when
/// the variables do not define it (ansible-core does not clobber a user's), and it is a
/// template like any other; the rest are data.
pub fn with_template_file_vars(
    vars: &Arc<dyn VarSource>,
    file: &TemplateFile,
) -> Arc<dyn VarSource> {
    let mut top = Map::new();
    top.insert("template_host".into(), J::from(CONTROLLER_HOSTNAME));
    top.insert("template_path".into(), J::from(file.written));
    top.insert("template_mtime".into(), J::from(py_datetime(file.mtime)));
    top.insert("template_uid".into(), J::from(CONTROLLER_USER));
    top.insert("template_run_date".into(), J::from(py_datetime(file.now)));
    top.insert(
        "template_destpath".into(),
        file.dest.map(J::from).unwrap_or(J::Null),
    );
    top.insert("template_fullpath".into(), J::from(file.fullpath));
    let mut trusted = Vec::new();
    if vars.get("ansible_managed").is_none() {
        // `_generate_ansible_managed`: the default passed through `str.format` and
        // `time.strftime` (neither changes "Ansible managed").
        top.insert("ansible_managed".into(), J::from(MANAGED_DEFAULT));
        trusted.push("ansible_managed".to_string());
    }
    Arc::new(Overlay {
        top,
        trusted,
        base: vars.clone(),
    })
}

/// `vars` with the variables of `top` over them (the `template` lookup's `template_vars`:
/// values, not templates).
pub fn with_vars_over(vars: &Arc<dyn VarSource>, top: Map<String, J>) -> Arc<dyn VarSource> {
    Arc::new(Overlay {
        top,
        trusted: Vec::new(),
        base: vars.clone(),
    })
}

/// A Python `datetime` as `str()` prints it (the simulated controller runs in UTC):
/// microseconds only when there are some.
fn py_datetime(epoch: f64) -> String {
    let fmt = if epoch.fract() == 0.0 {
        "%Y-%m-%d %H:%M:%S"
    } else {
        "%Y-%m-%d %H:%M:%S.%f"
    };
    super::filters::strftime(fmt, epoch)
}

/// Variables of `top` over those of `base`; only the names in `trusted` among `top`'s are
/// templates.
struct Overlay {
    top: Map<String, J>,
    trusted: Vec<String>,
    base: Arc<dyn VarSource>,
}

impl VarSource for Overlay {
    fn get(&self, name: &str) -> Option<J> {
        match self.top.get(name) {
            Some(v) => Some(v.clone()),
            None => self.base.get(name),
        }
    }
    fn names(&self) -> Vec<String> {
        let mut names = self.base.names();
        for k in self.top.keys() {
            if !names.contains(k) {
                names.push(k.clone());
            }
        }
        names
    }
    fn host_vars(&self, host: &str) -> Option<Arc<dyn VarSource>> {
        self.base.host_vars(host)
    }
    fn host_names(&self) -> Vec<String> {
        self.base.host_names()
    }
    fn origin(&self, name: &str) -> Option<String> {
        if self.top.contains_key(name) {
            return None;
        }
        self.base.origin(name)
    }
    fn is_trusted(&self, name: &str) -> bool {
        if self.top.contains_key(name) {
            return self.trusted.iter().any(|t| t == name);
        }
        self.base.is_trusted(name)
    }
    fn get_with_trust(&self, name: &str) -> Option<(J, bool)> {
        match self.top.get(name) {
            Some(v) => Some((v.clone(), self.trusted.iter().any(|t| t == name))),
            None => self.base.get_with_trust(name),
        }
    }
    fn get_shared(&self, name: &str) -> Option<Value> {
        if self.top.contains_key(name) {
            return None;
        }
        self.base.get_shared(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::MapVars;
    use serde_json::json;

    fn file(dest: Option<&str>) -> TemplateFile<'_> {
        TemplateFile {
            written: "foo.j2",
            fullpath: "/p/templates/foo.j2",
            dest,
            mtime: 1_767_225_600.0,
            now: 1_767_225_600.25,
        }
    }

    #[test]
    fn a_template_file_sees_where_and_when_it_is() {
        let base: Arc<dyn VarSource> = Arc::new(MapVars::new(json!({"x": 1})));
        let vars = with_template_file_vars(&base, &file(Some("/etc/foo")));
        assert_eq!(vars.get("template_path"), Some(json!("foo.j2")));
        assert_eq!(
            vars.get("template_fullpath"),
            Some(json!("/p/templates/foo.j2"))
        );
        assert_eq!(vars.get("template_destpath"), Some(json!("/etc/foo")));
        assert_eq!(vars.get("template_host"), Some(json!("localhost")));
        assert_eq!(vars.get("template_uid"), Some(json!("root")));
        assert_eq!(
            vars.get("template_mtime"),
            Some(json!("2026-01-01 00:00:00"))
        );
        assert_eq!(
            vars.get("template_run_date"),
            Some(json!("2026-01-01 00:00:00.250000"))
        );
        assert_eq!(vars.get("ansible_managed"), Some(json!("Ansible managed")));
        assert!(vars.is_trusted("ansible_managed") && !vars.is_trusted("template_path"));
        assert_eq!(vars.get("x"), Some(json!(1)));
        // The lookup has no destination.
        let vars = with_template_file_vars(&base, &file(None));
        assert_eq!(vars.get("template_destpath"), Some(J::Null));
    }

    #[test]
    fn a_users_ansible_managed_is_kept() {
        let base: Arc<dyn VarSource> =
            Arc::new(MapVars::new(json!({"ansible_managed": "mine {{ x }}"})));
        let vars = with_template_file_vars(&base, &file(None));
        assert_eq!(vars.get("ansible_managed"), Some(json!("mine {{ x }}")));
        assert!(vars.is_trusted("ansible_managed"));
    }
}
