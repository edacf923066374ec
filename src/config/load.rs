//! Loading the settings in layers with `figment`: the model's defaults, then the file, then the
//! `PBXIS_*` environment variables, then the flags, each later layer winning. Every value knows
//! where it came from, so that a refusal names the source (the file's path, the variable, the
//! flag), the key and the reason, in one line.

use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::{keys, ConfigError, Settings};

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Not known (settings built in code).
    Unknown,
    /// The model's default.
    Default,
    /// The configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Unknown => Ok(()),
            Origin::Default => f.write_str("default"),
            Origin::File(path) => write!(f, "file {}", path.display()),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::Flag(name) => write!(f, "flag --{name}"),
        }
    }
}

/// The layers of one start: the file, the variables and the flags given.
#[derive(Debug, Default)]
pub struct Sources {
    /// The configuration file, if any.
    pub file: Option<PathBuf>,
    /// Environment variables (only `PBXIS_*` ones that name a key are read).
    pub env: Vec<(String, String)>,
    /// Flags given on the command line: (flag without `--`, key, text).
    pub flags: Vec<(String, String, String)>,
}

/// One layer of values, each with the name it was given under.
struct Layer {
    name: &'static str,
    values: Vec<(String, Value)>,
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        Metadata::named(self.name)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut root = Dict::new();
        for (path, value) in &self.values {
            insert(&mut root, path, value.clone());
        }
        Ok(Map::from([(Profile::Default, root)]))
    }
}

fn insert(dict: &mut Dict, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            dict.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let child = dict
                .entry(head.to_owned())
                .or_insert_with(|| Value::from(Dict::new()));
            if let Value::Dict(_, inner) = child {
                insert(inner, rest, value);
            }
        }
    }
}

impl Sources {
    /// The process's own: `PBXIS_*` variables from the environment.
    pub fn from_process(file: Option<PathBuf>, flags: Vec<(String, String, String)>) -> Self {
        let env = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.starts_with("PBXIS_"))
            .collect();
        Self { file, env, flags }
    }

    /// Loads, layers and checks the settings.
    pub fn load(&self) -> Result<Settings, ConfigError> {
        self.layered(true)
    }

    /// Loads and layers the settings; checks their values too with `check` (the types are
    /// checked either way).
    fn layered(&self, check: bool) -> Result<Settings, ConfigError> {
        let mut origins: BTreeMap<String, Origin> = BTreeMap::new();
        let mut figment = Figment::new();
        let mut file_text = None;
        if let Some(path) = &self.file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
                origin: Origin::File(path.clone()),
                key: String::new(),
                reason: toml_reason(&text, &e),
            })?;
            figment = figment.merge(figment::providers::Serialized::defaults(&table));
            file_text = Some(table);
        }
        let env = self.env_layer(&mut origins)?;
        figment = figment.merge(env);
        let flags = self.flag_layer(&mut origins)?;
        figment = figment.merge(flags);
        let origin_of = |key: &str| -> Origin {
            if let Some(origin) = origins.get(key) {
                return origin.clone();
            }
            match (&self.file, &file_text) {
                (Some(path), Some(table)) if has_key(table, key) => Origin::File(path.clone()),
                _ => Origin::Default,
            }
        };
        let settings: Settings = figment.extract().map_err(|e| {
            let mut key = e.path.join(".");
            let reason = match &e.kind {
                figment::error::Kind::UnknownField(field, _) => {
                    // The path names the field already, except at the top.
                    if e.path.last() != Some(field) {
                        key = e
                            .path
                            .iter()
                            .chain([field])
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(".");
                    }
                    "unknown key".to_owned()
                }
                kind => one_line(&kind.to_string()),
            };
            ConfigError::Invalid {
                origin: origin_of(&key),
                key,
                reason,
            }
        })?;
        if !check {
            return Ok(settings);
        }
        settings.validate().map_err(|e| match e {
            ConfigError::Invalid { key, reason, .. } => ConfigError::Invalid {
                origin: origin_of(&key),
                key,
                reason,
            },
            other => other,
        })?;
        Ok(settings)
    }

    fn env_layer(&self, origins: &mut BTreeMap<String, Origin>) -> Result<Layer, ConfigError> {
        // An alias first, so that the variable of the key's own name wins over it.
        let mut env: Vec<_> = self.env.iter().collect();
        env.sort_by_key(|(name, _)| keys::all().iter().any(|k| k.env() == *name));
        let mut values = Vec::new();
        for (name, text) in env {
            let Some(key) = keys::for_env(name) else {
                continue;
            };
            let origin = Origin::Env(name.clone());
            let value = key.parse(text).map_err(|reason| ConfigError::Invalid {
                origin: origin.clone(),
                key: key.path.clone(),
                reason,
            })?;
            origins.insert(key.path.clone(), origin);
            values.push((key.path.clone(), value));
        }
        Ok(Layer {
            name: "environment variables",
            values,
        })
    }

    fn flag_layer(&self, origins: &mut BTreeMap<String, Origin>) -> Result<Layer, ConfigError> {
        let mut values = Vec::new();
        for (flag, path, text) in &self.flags {
            let Some(key) = keys::find(path) else {
                continue;
            };
            let origin = Origin::Flag(flag.clone());
            let value = key.parse(text).map_err(|reason| ConfigError::Invalid {
                origin: origin.clone(),
                key: key.path.clone(),
                reason,
            })?;
            origins.insert(key.path.clone(), origin);
            values.push((key.path.clone(), value));
        }
        Ok(Layer {
            name: "flags",
            values,
        })
    }
}

/// Whether the file's table holds `key` (a dotted path).
fn has_key(table: &toml::Table, key: &str) -> bool {
    let mut current = table;
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        match current.get(part) {
            Some(toml::Value::Table(inner)) if parts.peek().is_some() => current = inner,
            Some(_) => return parts.peek().is_none(),
            None => return false,
        }
    }
    false
}

/// A TOML syntax error in one line: where, and what.
fn toml_reason(text: &str, error: &toml::de::Error) -> String {
    match error.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            format!("line {line}: {}", one_line(error.message()))
        }
        None => one_line(error.message()),
    }
}

/// The text on one line.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads the settings of a file alone (no variables, no flags), with the same checks.
pub fn from_file(path: &Path) -> Result<Settings, ConfigError> {
    Sources {
        file: Some(path.to_owned()),
        ..Sources::default()
    }
    .load()
}

#[cfg(test)]
mod tests;
