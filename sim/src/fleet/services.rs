//! The services' state machines: an app with a health endpoint and restarts, a load
//! balancer with its pool read from files, a database primary or replica. They know nothing
//! of time or faults beyond what the fleet hands them; the fleet drives them.

use std::collections::HashMap;

use indexmap::{IndexMap, IndexSet};
use serde_json::json;

use super::conf::{self, Stanza};
use super::http::{HttpRequest, HttpResponse};

/// The life of an app process.
#[derive(Debug, Clone, PartialEq)]
pub enum AppState {
    Running,
    /// Restarting: refuses `/` and answers 503 on `/health` until `until` (epoch seconds).
    Starting {
        until: f64,
    },
    /// Stopped by `systemctl stop`: the port is closed.
    Stopped,
    /// Died (a crash fault, or a config it cannot read): the port is closed.
    Crashed {
        why: String,
    },
}

/// An HTTP app on one host.
#[derive(Debug, Clone)]
pub struct App {
    pub host: String,
    pub port: u16,
    pub environment: String,
    pub tier: String,
    /// Config file (host path) whose writes restart the app.
    pub config_path: String,
    pub unit: String,
    /// The folder (host path) whose files the app serves, if any.
    pub docroot: Option<String>,
    /// Virtual seconds a restart takes when no fault slows it.
    pub restart_seconds: f64,
    pub version: String,
    /// The version the running restart will come up with.
    pub next_version: String,
    pub state: AppState,
    /// Last config bytes seen (None: no file).
    pub config_seen: Option<Vec<u8>>,
    /// Restarts begun in this run.
    pub restarts: u32,
    /// Virtual time (epoch) the latest restart began, if any.
    pub restarted_at: Option<f64>,
    /// A request by the playbook (not client traffic) got a 2xx from this app since its latest
    /// restart began: `healthy_before_readd` asks for it.
    pub checked_since_restart: bool,
}

impl App {
    /// Up and serving (whatever its health endpoint would say under faults).
    pub fn is_up(&self) -> bool {
        self.state == AppState::Running
    }

    /// Why it is not ready, in a few words, or None when it is.
    pub fn unready_reason(&self) -> Option<String> {
        match &self.state {
            AppState::Running => None,
            AppState::Starting { .. } => Some("restarting".into()),
            AppState::Stopped => Some("stopped".into()),
            AppState::Crashed { why } => Some(format!("crashed ({why})")),
        }
    }

    /// The app's answer to a request that reached its port (closed ports are refused before).
    /// `unhealthy` is the status an `unhealthy` fault imposes.
    /// The answer to `req`. `served` is the docroot file the path names, read by the fleet
    /// from the host's sandbox beforehand (None: no docroot, or no such file).
    pub fn respond(
        &self,
        req: &HttpRequest,
        unhealthy: Option<u16>,
        served: Option<&[u8]>,
    ) -> HttpResponse {
        let path = req.path.split('?').next().unwrap_or("/");
        if let AppState::Starting { .. } = self.state {
            return HttpResponse::json(
                503,
                &json!({"status": "starting", "version": self.version, "host": self.host}),
            );
        }
        if let Some(status) = unhealthy {
            return HttpResponse::json(
                status,
                &json!({"status": "unhealthy", "version": self.version, "host": self.host}),
            );
        }
        match path {
            "/health" => HttpResponse::json(
                200,
                &json!({"status": "ok", "version": self.version, "host": self.host}),
            ),
            "/" => HttpResponse::text(200, &format!("{} version {}\n", self.host, self.version)),
            _ => match served {
                Some(bytes) => {
                    let mut resp = HttpResponse::new(200);
                    resp.body = bytes.to_vec();
                    resp.with_header("Content-Type", "application/octet-stream")
                }
                None => HttpResponse::text(404, "not found\n"),
            },
        }
    }
}

/// One backend of a load balancer's pool, as its stanza says.
#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    pub name: String,
    pub address: String,
    pub port: u16,
    pub weight: u32,
}

/// A pool as loaded from `active/` and `draining/`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pool {
    /// Stanzas of `active/`, by server name (file order).
    pub active: IndexMap<String, Backend>,
    /// Server names in `draining/`: no new requests, whatever `active/` says.
    pub draining: IndexSet<String>,
}

impl Pool {
    /// Backends taking new requests: in `active/`, not draining, weight above 0.
    pub fn in_rotation(&self) -> Vec<&Backend> {
        self.active
            .values()
            .filter(|b| b.weight > 0 && !self.draining.contains(&b.name))
            .collect()
    }

    /// Reads a pool from the stanza files of `active/` and `draining/` (file name, content).
    /// `cache` keeps what each file parsed to: a file with the same bytes as last time is
    /// not parsed again (a pool of hundreds of files reloads after each one changes).
    pub fn from_files(
        active: &StanzaFiles,
        draining: &StanzaFiles,
        cache: &mut StanzaCache,
    ) -> Result<Pool, String> {
        let mut pool = Pool::default();
        for (file, bytes) in active {
            for s in parse_file_cached(file, bytes, cache)? {
                let (Some(address), Some(port)) = (s.address(), s.port()) else {
                    return Err(format!(
                        "{file}:{}: server {} has no address or port",
                        s.line, s.name
                    ));
                };
                // A stanza saying `status = "draining"` in active/ takes no new requests
                // either.
                let weight = if s.status() == Some("draining") {
                    0
                } else {
                    s.weight()
                };
                pool.active.insert(
                    s.name.clone(),
                    Backend {
                        name: s.name.clone(),
                        address: address.to_string(),
                        port,
                        weight,
                    },
                );
            }
        }
        pool.draining = Pool::draining_from_files(draining, cache)?;
        Ok(pool)
    }

    /// The server names of `draining/`'s stanza files, as [`Pool::from_files`] reads them:
    /// what a change that only drains or undrains needs, without rebuilding the active map.
    pub fn draining_from_files(
        draining: &StanzaFiles,
        cache: &mut StanzaCache,
    ) -> Result<IndexSet<String>, String> {
        let mut names = IndexSet::new();
        for (file, bytes) in draining {
            for s in parse_file_cached(file, bytes, cache)? {
                names.insert(s.name.clone());
            }
        }
        Ok(names)
    }
}

/// What a stanza file parsed to, by file name, with the bytes it was parsed from.
pub type StanzaCache = HashMap<String, (Vec<u8>, Result<Vec<Stanza>, String>)>;

fn parse_file_cached<'c>(
    file: &str,
    bytes: &[u8],
    cache: &'c mut StanzaCache,
) -> Result<&'c [Stanza], String> {
    let fresh = cache.get(file).is_none_or(|(seen, _)| seen != bytes);
    if fresh {
        cache.insert(file.to_string(), (bytes.to_vec(), parse_file(file, bytes)));
    }
    match &cache[file].1 {
        Ok(stanzas) => Ok(stanzas),
        Err(e) => Err(e.clone()),
    }
}

fn parse_file(file: &str, bytes: &[u8]) -> Result<Vec<Stanza>, String> {
    let text = String::from_utf8_lossy(bytes);
    conf::parse_stanzas(&text).map_err(|e| format!("{file}: {e}"))
}

/// Stanza files by name (`active/web-1.conf`) with their bytes, sorted by name.
pub type StanzaFiles = Vec<(String, Vec<u8>)>;

/// A load balancer on one host.
#[derive(Debug, Clone)]
pub struct Lb {
    pub host: String,
    pub port: u16,
    pub environment: String,
    pub tier: String,
    pub pool_dir: String,
    pub unit: String,
    pub max_unavailable: usize,
    /// Pool size before the first play: N of `capacity_floor`.
    pub initial_size: usize,
    /// The pool in force (the last one that loaded). Replace it with [`Lb::set_pool`]; after
    /// changing its `draining` or `failing_checks`, call [`Lb::rotation_changed`].
    pub pool: Pool,
    /// The files last seen (active, draining), to notice changes.
    pub files_seen: (StanzaFiles, StanzaFiles),
    /// Smooth weighted round-robin state, by backend name, of the pools before the one in
    /// force (while a pool is in force its counters are in `rr`).
    pub rr_current: IndexMap<String, i64>,
    /// The round-robin counters of the pool in force, by index in `pool.active` (None: not
    /// taken from `rr_current` yet). Kept by index so that a request looks no name up.
    pub rr: Option<Vec<i64>>,
    /// The backends [`Lb::pick`] chooses among (index in `pool.active`, weight), None when
    /// the pool, the draining set or the failing checks changed since it was made: a pool of
    /// hundreds changes far less often than it takes a request.
    pub eligible: Option<Vec<(usize, i64)>>,
    pub running: bool,
    /// Backends the LB's own health checks took out of rotation.
    pub failing_checks: IndexSet<String>,
    /// Active health checking: seconds between two rounds, and when the next one is due.
    pub health_interval: Option<f64>,
    pub next_health_check: Option<f64>,
}

impl Lb {
    /// The next backend for a request (smooth weighted round-robin, as nginx does): its
    /// index in the pool's `active` map, or None when nothing is in rotation. Called for
    /// every client request, so it allocates nothing once each backend has been seen.
    pub fn pick(&mut self) -> Option<usize> {
        let rr = self.rr.get_or_insert_with(|| {
            self.pool
                .active
                .keys()
                .map(|n| self.rr_current.get(n).copied().unwrap_or(0))
                .collect()
        });
        let eligible = self.eligible.get_or_insert_with(|| {
            self.pool
                .active
                .values()
                .enumerate()
                .filter(|(_, b)| {
                    b.weight > 0
                        && !self.pool.draining.contains(&b.name)
                        && !self.failing_checks.contains(&b.name)
                })
                .map(|(index, b)| (index, i64::from(b.weight)))
                .collect()
        });
        let mut total: i64 = 0;
        let mut best: Option<(usize, i64)> = None;
        for &(index, weight) in eligible.iter() {
            total += weight;
            let current = &mut rr[index];
            *current += weight;
            if best.is_none_or(|(_, w)| *current > w) {
                best = Some((index, *current));
            }
        }
        let (index, _) = best?;
        rr[index] -= total;
        Some(index)
    }

    /// Puts `pool` in force: the round-robin counters of the one before go back to
    /// `rr_current` by name, so a backend in both keeps its place.
    pub fn set_pool(&mut self, pool: Pool) {
        if let Some(rr) = self.rr.take() {
            for (name, c) in self.pool.active.keys().zip(rr) {
                match self.rr_current.get_mut(name) {
                    Some(current) => *current = c,
                    None => {
                        self.rr_current.insert(name.clone(), c);
                    }
                }
            }
        }
        self.pool = pool;
        self.eligible = None;
    }

    /// The pool's draining set or the failing checks changed: what [`Lb::pick`] chooses
    /// among is made again.
    pub fn rotation_changed(&mut self) {
        self.eligible = None;
    }

    /// Names of the backends in rotation (what clients can reach).
    pub fn rotation_names(&self) -> Vec<String> {
        self.pool
            .in_rotation()
            .into_iter()
            .filter(|b| !self.failing_checks.contains(&b.name))
            .map(|b| b.name.clone())
            .collect()
    }
}

/// Primary or replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbRole {
    Primary,
    Replica,
}

/// A database on one host.
#[derive(Debug, Clone)]
pub struct Db {
    pub host: String,
    pub port: u16,
    pub environment: String,
    pub role: DbRole,
    pub unit: String,
    pub replication_config: String,
    pub backups_dir: Option<String>,
    pub up: bool,
    /// Replicas: the primary they follow (host name), None when it names no database.
    pub source: Option<String>,
    /// Replicas: the address:port its config names (for messages).
    pub source_text: String,
    pub config_seen: Option<Vec<u8>>,
    /// Replicas: epoch time up to which the primary's writes are applied.
    pub applied_until: f64,
    /// Backups seen (file names).
    pub backups_seen: IndexSet<String>,
    pub writes_per_second: f64,
    pub base_lag: f64,
    pub max_lag: f64,
}

impl Db {
    pub fn respond(&self, req: &HttpRequest, now: f64, start: f64) -> HttpResponse {
        let position = ((now - start) * self.writes_per_second).floor().max(0.0);
        let applied = ((self.applied_until - start) * self.writes_per_second)
            .floor()
            .max(0.0);
        let path = req.path.split('?').next().unwrap_or("/");
        match (path, self.role) {
            ("/health", DbRole::Primary) => HttpResponse::json(
                200,
                &json!({"status": "ok", "role": "primary", "host": self.host, "position": position}),
            ),
            ("/health", DbRole::Replica) => HttpResponse::json(
                200,
                &json!({"status": "ok", "role": "replica", "host": self.host,
                        "source": self.source, "applied": applied,
                        "lag_seconds": ((now - self.applied_until) * 1000.0).round() / 1000.0}),
            ),
            _ => HttpResponse::text(404, "not found\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stanza(name: &str, port: u16, weight: u32, status: &str) -> (String, Vec<u8>) {
        (
            format!("active/{name}.conf"),
            format!(
                "server {name} {{\n  address = \"127.1.0.9\"\n  port = {port}\n  weight = {weight}\n  status = \"{status}\"\n}}\n"
            )
            .into_bytes(),
        )
    }

    fn lb(pool: Pool) -> Lb {
        Lb {
            host: "lb".into(),
            port: 80,
            environment: "production".into(),
            tier: "frontend".into(),
            pool_dir: "/tmp/lb".into(),
            unit: "lb".into(),
            max_unavailable: 1,
            initial_size: pool.active.len(),
            pool,
            files_seen: Default::default(),
            rr_current: IndexMap::new(),
            rr: None,
            eligible: None,
            running: true,
            failing_checks: IndexSet::new(),
            health_interval: None,
            next_health_check: None,
        }
    }

    #[test]
    fn draining_wins_over_active_and_weight_zero_takes_nothing() {
        let active = vec![
            stanza("a", 1, 100, "active"),
            stanza("b", 2, 100, "active"),
            stanza("c", 3, 0, "active"),
            stanza("d", 4, 100, "draining"),
        ];
        let draining = vec![("draining/b.conf".into(), b"server b {\n}\n".to_vec())];
        let pool = Pool::from_files(&active, &draining, &mut Default::default()).unwrap();
        let names: Vec<&str> = pool.in_rotation().iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["a"]);
    }

    #[test]
    fn a_cached_parse_is_used_only_while_the_bytes_are_the_same() {
        let mut cache = StanzaCache::default();
        let first = vec![stanza("a", 1, 100, "active")];
        let pool = Pool::from_files(&first, &Vec::new(), &mut cache).unwrap();
        assert_eq!(pool.active["a"].port, 1);
        assert_eq!(
            Pool::from_files(&first, &Vec::new(), &mut cache).unwrap(),
            pool
        );
        // The same file with other bytes is parsed again, not taken from the cache.
        let changed = vec![stanza("a", 2, 0, "active")];
        let pool = Pool::from_files(&changed, &Vec::new(), &mut cache).unwrap();
        assert_eq!((pool.active["a"].port, pool.active["a"].weight), (2, 0));
        let broken = vec![("active/a.conf".to_string(), b"server a {\n".to_vec())];
        assert!(Pool::from_files(&broken, &Vec::new(), &mut cache).is_err());
        assert!(Pool::from_files(&broken, &Vec::new(), &mut cache).is_err());
    }

    #[test]
    fn a_stanza_without_a_port_is_rejected_with_its_file() {
        let active = vec![(
            "active/x.conf".to_string(),
            b"server x {\n  address = \"127.1.0.2\"\n}\n".to_vec(),
        )];
        let err = Pool::from_files(&active, &Vec::new(), &mut Default::default()).unwrap_err();
        assert_eq!(err, "active/x.conf:1: server x has no address or port");
    }

    #[test]
    fn smooth_weighted_round_robin_follows_the_weights() {
        let active = vec![stanza("a", 1, 5, "active"), stanza("b", 2, 1, "active")];
        let mut lb = lb(Pool::from_files(&active, &Vec::new(), &mut Default::default()).unwrap());
        let picks: String = (0..12)
            .map(|_| {
                let k = lb.pick().unwrap();
                lb.pool.active[k].name.clone()
            })
            .collect::<Vec<_>>()
            .concat();
        // nginx's smooth WRR spreads the light backend out: aaabaa aaabaa.
        assert_eq!(picks, "aaabaaaaabaa");
        let mut empty = self::lb(Pool::default());
        assert!(empty.pick().is_none());
    }

    /// The round-robin as it was written first, by name on every request: what
    /// [`Lb::pick`]'s counters by index must keep doing.
    fn pick_by_name(lb: &Lb, rr: &mut IndexMap<String, i64>) -> Option<String> {
        let mut total = 0;
        let mut best: Option<(String, i64)> = None;
        for b in lb.pool.active.values() {
            if b.weight == 0
                || lb.pool.draining.contains(&b.name)
                || lb.failing_checks.contains(&b.name)
            {
                continue;
            }
            total += i64::from(b.weight);
            let c = rr.entry(b.name.clone()).or_insert(0);
            *c += i64::from(b.weight);
            if best.as_ref().is_none_or(|(_, w)| *c > *w) {
                best = Some((b.name.clone(), *c));
            }
        }
        let (name, _) = best?;
        rr[&name] -= total;
        Some(name)
    }

    #[test]
    fn the_round_robin_keeps_each_backends_place_across_drains_checks_and_reloads() {
        let files = |names: &[(&str, u32)]| -> StanzaFiles {
            names
                .iter()
                .enumerate()
                .map(|(i, (n, w))| stanza(n, i as u16 + 1, *w, "active"))
                .collect()
        };
        let mut cache = StanzaCache::default();
        let first = files(&[("a", 3), ("b", 1), ("c", 2), ("d", 1)]);
        let mut lb = lb(Pool::from_files(&first, &Vec::new(), &mut cache).unwrap());
        let mut rr = IndexMap::new();
        let picks = |lb: &mut Lb, rr: &mut IndexMap<String, i64>, n: usize| {
            for _ in 0..n {
                let want = pick_by_name(lb, rr);
                let got = lb.pick().map(|k| lb.pool.active[k].name.clone());
                assert_eq!(got, want);
            }
        };
        picks(&mut lb, &mut rr, 7);
        lb.pool.draining.insert("c".into());
        lb.rotation_changed();
        picks(&mut lb, &mut rr, 5);
        lb.failing_checks.insert("a".into());
        lb.rotation_changed();
        picks(&mut lb, &mut rr, 3);
        lb.pool.draining.clear();
        lb.failing_checks.clear();
        lb.rotation_changed();
        picks(&mut lb, &mut rr, 6);
        // A reload that reorders the backends, drops one and adds one.
        let second = files(&[("e", 2), ("c", 2), ("a", 3), ("b", 1)]);
        lb.set_pool(Pool::from_files(&second, &Vec::new(), &mut cache).unwrap());
        picks(&mut lb, &mut rr, 9);
        lb.set_pool(Pool::from_files(&first, &Vec::new(), &mut cache).unwrap());
        picks(&mut lb, &mut rr, 9);
    }

    #[test]
    fn an_app_answers_by_state() {
        let mut app = App {
            host: "web-1".into(),
            port: 8080,
            environment: "production".into(),
            tier: "frontend".into(),
            config_path: "/tmp/app/config.toml".into(),
            unit: "app".into(),
            docroot: None,
            restart_seconds: 0.1,
            version: "1".into(),
            next_version: "2".into(),
            state: AppState::Running,
            config_seen: None,
            restarts: 0,
            restarted_at: None,
            checked_since_restart: false,
        };
        let health = HttpRequest::get("127.1.0.2:8080", "/health");
        assert_eq!(app.respond(&health, None, None).status, 200);
        assert_eq!(app.respond(&health, Some(503), None).status, 503);
        assert_eq!(
            app.respond(&HttpRequest::get("x", "/nope"), None, None)
                .status,
            404
        );
        app.state = AppState::Starting { until: 5.0 };
        assert_eq!(app.respond(&health, None, None).status, 503);
        assert_eq!(app.unready_reason().as_deref(), Some("restarting"));
    }
}
