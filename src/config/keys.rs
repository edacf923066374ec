//! The list of every configuration key, derived from the model itself: the leaves of
//! [`Settings::default`](super::Settings) serialized (a list is one key). Each key has its
//! environment variable (`PBXIS_` and the path upper-cased, `.` as `_`: `PBXIS_LIMITS_MAX_TICKETS`
//! for `limits.max_tickets`) and its flag (`.` and `_` as `-`: `--limits-max-tickets`), and a
//! kind that says how the text of a variable or a flag becomes a value. Earlier names of a few
//! variables and flags are kept as aliases.

use figment::value::Value;
use std::sync::LazyLock;

use super::Settings;

/// How the text of a variable or a flag is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `true` or `false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
    Bool,
    /// A whole number.
    Integer,
    /// Text, as is.
    Text,
    /// A list: a TOML inline array (`["a", "b"]`, or `[{ name = "x" }]` for tables), or
    /// comma-separated text (`a,b`).
    List,
}

/// One configuration key.
#[derive(Clone, Debug)]
pub struct Key {
    /// Its dotted path in the file (`limits.max_tickets`).
    pub path: String,
    /// How a variable's or a flag's text is read.
    pub kind: Kind,
    /// Its default, as TOML text.
    pub default: String,
}

/// Environment variables of earlier versions, still read: (variable, key).
pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("PBXIS_AMI_USER", "ami.username"),
    ("PBXIS_TICKET_SECRET", "tickets.secret"),
    ("PBXIS_TICKET_PREVIOUS_SECRETS", "tickets.previous_secrets"),
];

/// Flags of earlier versions, still accepted: (flag without `--`, key).
pub const FLAG_ALIASES: &[(&str, &str)] = &[
    ("ami-user", "ami.username"),
    ("ticket-secret", "tickets.secret"),
    ("ticket-previous-secrets", "tickets.previous_secrets"),
];

/// Keys whose value is a secret: the help shows no default and prefers the variable.
pub const SECRET_KEYS: &[&str] = &["ami.secret", "tickets.secret", "tickets.previous_secrets"];

static KEYS: LazyLock<Vec<Key>> = LazyLock::new(derive);

/// Every key of the model, sorted by path.
pub fn all() -> &'static [Key] {
    &KEYS
}

/// The key at `path`.
pub fn find(path: &str) -> Option<&'static Key> {
    all().iter().find(|k| k.path == path)
}

fn derive() -> Vec<Key> {
    // The model's defaults are plain data: serializing them cannot fail.
    let value = serde_json::to_value(Settings::default()).unwrap_or_default();
    let mut keys = Vec::new();
    walk("", &value, &mut keys);
    keys
}

fn walk(prefix: &str, value: &serde_json::Value, keys: &mut Vec<Key>) {
    use serde_json::Value as J;
    if let J::Object(fields) = value {
        for (name, field) in fields {
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            walk(&path, field, keys);
        }
        return;
    }
    let kind = match value {
        J::Bool(_) => Kind::Bool,
        J::Number(_) => Kind::Integer,
        J::Array(_) => Kind::List,
        _ => Kind::Text,
    };
    let default = toml::Value::try_from(value)
        .map(|v| v.to_string())
        .unwrap_or_default();
    keys.push(Key {
        path: prefix.to_owned(),
        kind,
        default,
    });
}

impl Key {
    /// Its environment variable.
    pub fn env(&self) -> String {
        format!("PBXIS_{}", self.path.to_ascii_uppercase().replace('.', "_"))
    }

    /// Its flag, without the leading `--`.
    pub fn flag(&self) -> String {
        self.path.replace(['.', '_'], "-")
    }

    /// Whether its value is a secret.
    pub fn is_secret(&self) -> bool {
        SECRET_KEYS.contains(&self.path.as_str())
    }

    /// Reads the text of a variable or a flag as this key's value; the error says what was
    /// expected.
    pub fn parse(&self, text: &str) -> Result<Value, String> {
        let text = text.trim();
        match self.kind {
            Kind::Bool => match text.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true.into()),
                "false" | "0" | "no" | "off" => Ok(false.into()),
                _ => Err(format!("expected true or false, found {text:?}")),
            },
            Kind::Integer => text
                .parse::<u64>()
                .map(Value::from)
                .map_err(|_| format!("expected a whole number, found {text:?}")),
            Kind::Text => Ok(text.into()),
            Kind::List if text.starts_with('[') => {
                let table: toml::Table = toml::from_str(&format!("list = {text}"))
                    .map_err(|e| format!("not a TOML array: {}", e.message()))?;
                let list = table
                    .get("list")
                    .cloned()
                    .unwrap_or(toml::Value::Array(vec![]));
                Value::serialize(list).map_err(|e| e.to_string())
            }
            Kind::List => Ok(text
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
                .into()),
        }
    }
}

/// The key a variable sets, if it is one of ours.
pub fn for_env(name: &str) -> Option<&'static Key> {
    let alias = ENV_ALIASES.iter().find(|(n, _)| *n == name);
    match alias {
        Some((_, path)) => find(path),
        None => all().iter().find(|k| k.env() == name),
    }
}
