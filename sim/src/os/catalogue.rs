//! The package catalogue: what `apt`/`dnf` can install on a simulated host, read from
//! `sim/data/packages.toml` (documented there) and extendable by a scenario.

use indexmap::IndexMap;
use serde::Deserialize;

use super::{Distro, Family};

/// A service unit a package ships.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub name: String,
    pub description: String,
    pub exec: String,
}

/// A system account a package creates.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub name: String,
    pub home: String,
    pub shell: String,
}

/// One package of one distribution family.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Package {
    pub name: String,
    pub family: Family,
    #[serde(default)]
    pub base: bool,
    pub summary: String,
    /// Version by distribution id (`debian-12`...).
    pub versions: IndexMap<String, String>,
    #[serde(default)]
    pub depends: Vec<String>,
    /// Other names the package answers to when asked for (dnf resolves `vim` to
    /// `vim-enhanced` through its `Provides:`).
    #[serde(default)]
    pub provides: Vec<String>,
    #[serde(default)]
    pub services: Vec<ServiceSpec>,
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub dirs: Vec<String>,
    #[serde(default)]
    pub bins: Vec<String>,
    #[serde(default)]
    pub files: IndexMap<String, String>,
}

impl Package {
    /// The version `distro`'s repositories offer, if it has the package.
    pub fn version_for(&self, distro: Distro) -> Option<&str> {
        if self.family != distro.family() {
            return None;
        }
        self.versions.get(distro.id()).map(String::as_str)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    package: Vec<Package>,
}

/// Every installable package, in file order.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    packages: Vec<Package>,
}

/// The catalogue shipped with fleetsim.
pub const BUILTIN: &str = include_str!("../../data/packages.toml");

impl Catalogue {
    /// The built-in catalogue (checked by a unit test, so it always parses).
    pub fn builtin() -> Catalogue {
        static CAT: std::sync::OnceLock<Catalogue> = std::sync::OnceLock::new();
        CAT.get_or_init(|| {
            let mut c = Catalogue::default();
            // The file ships inside the binary and a unit test parses it.
            c.extend_from_toml(BUILTIN, "sim/data/packages.toml")
                .expect("the built-in catalogue parses");
            c
        })
        .clone()
    }

    /// Adds (or replaces, by name and family) the packages of a TOML file of the same shape.
    pub fn extend_from_toml(&mut self, text: &str, origin: &str) -> Result<(), String> {
        let file: CatalogueFile =
            toml::from_str(text).map_err(|e| format!("{origin}: {}", e.message()))?;
        for p in file.package {
            match self
                .packages
                .iter_mut()
                .find(|q| q.name == p.name && q.family == p.family)
            {
                Some(q) => *q = p,
                None => self.packages.push(p),
            }
        }
        Ok(())
    }

    /// The package `name` as `distro` offers it.
    pub fn get(&self, distro: Distro, name: &str) -> Option<&Package> {
        self.packages
            .iter()
            .find(|p| p.name == name && p.version_for(distro).is_some())
    }

    /// The package a request for `name` installs on `distro`: the package of that name, else
    /// one that provides it.
    pub fn resolve(&self, distro: Distro, name: &str) -> Option<&Package> {
        self.get(distro, name).or_else(|| {
            self.all(distro)
                .find(|p| p.provides.iter().any(|q| q == name))
        })
    }

    /// The packages a fresh `distro` host has installed.
    pub fn base(&self, distro: Distro) -> impl Iterator<Item = &Package> {
        self.packages
            .iter()
            .filter(move |p| p.base && p.version_for(distro).is_some())
    }

    /// Every package `distro` offers.
    pub fn all(&self, distro: Distro) -> impl Iterator<Item = &Package> {
        self.packages
            .iter()
            .filter(move |p| p.version_for(distro).is_some())
    }

    /// The package shipping unit `unit` on `distro`.
    pub fn unit_owner(&self, distro: Distro, unit: &str) -> Option<&Package> {
        self.all(distro)
            .find(|p| p.services.iter().any(|s| s.name == unit))
    }

    pub fn len(&self) -> usize {
        self.packages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packages.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_dependencies_exist() {
        let mut c = Catalogue::default();
        c.extend_from_toml(BUILTIN, "packages.toml").unwrap();
        assert!(c.len() > 60);
        for d in [Distro::Debian12, Distro::Ubuntu2404, Distro::Rocky9] {
            for p in c.all(d) {
                for dep in &p.depends {
                    assert!(
                        c.get(d, dep).is_some(),
                        "{} needs {dep} on {}",
                        p.name,
                        d.id()
                    );
                }
            }
            assert!(c.get(d, "nginx").is_some());
        }
        assert!(c.get(Distro::Rocky9, "apache2").is_none());
        assert!(c.get(Distro::Rocky9, "httpd").is_some());
    }

    #[test]
    fn a_bad_extension_names_its_file() {
        let mut c = Catalogue::default();
        let e = c
            .extend_from_toml("[[package]]\nname = 1\n", "extra.toml")
            .unwrap_err();
        assert!(e.starts_with("extra.toml: "), "{e}");
    }
}
