//! `template`: render a controller-side Jinja file (from the role's or playbook's
//! `templates/`) with the host's variables and write it like `copy`.

use serde_json::Value;

use super::{arg_str, Args, Module, ModuleCtx, ModuleResult};

pub struct Template;

impl Module for Template {
    fn run(&self, ctx: &mut ModuleCtx<'_>, args: &Args) -> ModuleResult {
        let (Some(src), Some(dest)) = (arg_str(args, "src"), arg_str(args, "dest")) else {
            return super::action_fail("src and dest are required");
        };
        let Some(real) = ctx.find_controller_file(&src, "templates") else {
            return super::action_fail(&format!("Could not find or access '{src}' on the Ansible Controller."));
        };
        let text = match std::fs::read_to_string(&real) {
            Ok(t) => t,
            Err(e) => return super::action_fail(&format!("could not read {src}: {e}")),
        };
        let rendered = match ctx.templar.render_template_text(&text, &ctx.vars) {
            Ok(s) => s,
            Err(e) => return super::action_fail(e.message()),
        };
        let mode = args.get("mode").filter(|m| !m.is_null()).cloned();
        let check = ctx.check_mode;
        let host = match ctx.target_host() {
            Ok(h) => h,
            Err(r) => return r,
        };
        let mut target = dest.clone();
        if host.fs.is_dir(&dest) {
            let name = real.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            target = format!("{}/{}", dest.trim_end_matches('/'), name.trim_end_matches(".j2"));
        }
        let _ = Value::Null;
        super::copy::write_file(&mut host.fs, &target, rendered.as_bytes(), mode.as_ref(), Some(&real.display().to_string()), check)
    }
}
