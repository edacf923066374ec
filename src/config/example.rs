//! `pbxis.example.toml`, embedded: every key of the model with its default and, in the comment
//! block right above it, what it means. Those comments are also each flag's help (and so the
//! man page's), so a key is described in one place; a test checks that the example parses and
//! holds every key of the model.

use std::collections::BTreeMap;
use std::sync::LazyLock;

/// The example configuration file.
pub const EXAMPLE: &str = include_str!("../../pbxis.example.toml");

static DESCRIPTIONS: LazyLock<BTreeMap<String, String>> = LazyLock::new(|| describe(EXAMPLE));

/// What a key means, from the comment above it in the example.
pub fn description(path: &str) -> Option<&'static str> {
    DESCRIPTIONS.get(path).map(String::as_str)
}

/// The keys a TOML text sets (`key = value` lines, by section) with the comment block right
/// above each, joined into one paragraph. A blank line or a section header ends a block.
pub fn describe(text: &str) -> BTreeMap<String, String> {
    let mut section = String::new();
    let mut comment: Vec<&str> = Vec::new();
    let mut found = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix('#') {
            comment.push(rest.trim());
        } else if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).trim().to_owned();
            comment.clear();
        } else if let Some((name, _)) = line.split_once('=') {
            let name = name.trim();
            let path = if section.is_empty() {
                name.to_owned()
            } else {
                format!("{section}.{name}")
            };
            found.insert(path, comment.join(" "));
            comment.clear();
        } else {
            comment.clear();
        }
    }
    found
}
