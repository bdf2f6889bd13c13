//! TEMPORARY placeholder with the agreed API (replaced at merge).
use indexmap::IndexMap;
#[derive(Debug, Clone, PartialEq)]
pub enum ConfValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Word(String),
}
#[derive(Debug, Clone, PartialEq)]
pub struct Stanza {
    pub name: String,
    pub line: usize,
    pub fields: IndexMap<String, ConfValue>,
}
impl Stanza {
    pub fn address(&self) -> Option<&str> {
        match self.fields.get("address") {
            Some(ConfValue::Str(s)) => Some(s),
            _ => None,
        }
    }
    pub fn port(&self) -> Option<u16> {
        match self.fields.get("port") {
            Some(ConfValue::Int(i)) => u16::try_from(*i).ok(),
            _ => None,
        }
    }
    pub fn weight(&self) -> u32 {
        match self.fields.get("weight") {
            Some(ConfValue::Int(i)) => *i as u32,
            _ => 1,
        }
    }
    pub fn status(&self) -> Option<&str> {
        match self.fields.get("status") {
            Some(ConfValue::Str(s)) => Some(s),
            _ => None,
        }
    }
    pub fn str_field(&self, k: &str) -> Option<&str> {
        match self.fields.get(k) {
            Some(ConfValue::Str(s)) => Some(s),
            _ => None,
        }
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct ConfError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}
impl std::fmt::Display for ConfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}
pub fn parse_stanzas(text: &str) -> Result<Vec<Stanza>, ConfError> {
    let mut out = Vec::new();
    let mut cur: Option<Stanza> = None;
    for (i, l) in text.lines().enumerate() {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(rest) = l.strip_prefix("server ") {
            cur = Some(Stanza {
                name: rest.trim_end_matches('{').trim().into(),
                line: i + 1,
                fields: IndexMap::new(),
            });
            continue;
        }
        if l == "}" {
            out.extend(cur.take());
            continue;
        }
        if let (Some(s), Some((k, v))) = (cur.as_mut(), l.split_once('=')) {
            let v = v.trim();
            let cv = if let Some(q) = v.strip_prefix('"') {
                ConfValue::Str(q.trim_end_matches('"').into())
            } else if let Ok(n) = v.parse() {
                ConfValue::Int(n)
            } else {
                ConfValue::Word(v.into())
            };
            s.fields.insert(k.trim().into(), cv);
        }
    }
    Ok(out)
}
pub fn app_version(text: &str) -> Result<Option<String>, ConfError> {
    Ok(text.lines().find_map(|l| {
        l.trim()
            .strip_prefix("version = \"")
            .map(|v| v.trim_end_matches('"').to_string())
    }))
}
pub fn replication_source(text: &str) -> Result<Option<(String, u16)>, ConfError> {
    let h = text.lines().find_map(|l| {
        l.trim()
            .strip_prefix("primary_host = \"")
            .map(|v| v.trim_end_matches('"').to_string())
    });
    let p = text.lines().find_map(|l| {
        l.trim()
            .strip_prefix("primary_port = ")
            .and_then(|v| v.parse().ok())
    });
    Ok(h.zip(p))
}
