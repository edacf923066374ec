//! Event masks as Asterisk's manager.c keeps them: a bit per permission class
//! (`include/asterisk/manager.h`), parsed from Login's `Events:` and the `Events` action's
//! `EventMask:` the way `strings_to_mask()` parses them, and an event delivered only when
//! every class bit of its `Privilege` is in the session's mask and read permission.

/// The permission classes and their bits (`perms[]` in manager.c).
const CLASSES: &[(&str, u32)] = &[
    ("system", 1),
    ("call", 1 << 1),
    ("log", 1 << 2),
    ("verbose", 1 << 3),
    ("command", 1 << 4),
    ("agent", 1 << 5),
    ("user", 1 << 6),
    ("config", 1 << 7),
    ("dtmf", 1 << 8),
    ("reporting", 1 << 9),
    ("cdr", 1 << 10),
    ("dialplan", 1 << 11),
    ("originate", 1 << 12),
    ("agi", 1 << 13),
    ("cc", 1 << 15),
    ("aoc", 1 << 16),
    ("test", 1 << 17),
    ("security", 1 << 18),
    ("message", 1 << 30),
    ("all", u32::MAX),
    ("none", 0),
];

/// Which event classes a session receives: a set of class bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mask(u32);

impl Mask {
    /// Every class (a new session's mask, `send_events = -1`).
    pub const ALL: Mask = Mask(u32::MAX);

    /// Parses a mask as `strings_to_mask()` does: `None` for an empty value (the caller
    /// answers `Invalid event mask` or keeps the mask); digits are the bits themselves;
    /// `on`/`yes`/`true`/`y`/`t` every class, `off`/`no`/`false`/`n`/`f` none; otherwise the
    /// comma-separated class words, exact and case-sensitive, unknown words adding nothing.
    pub fn parse(s: &str) -> Option<Mask> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            // atoi(): out of range reads as all bits, like strtol's LONG_MAX cast to int.
            return Some(Mask(s.parse::<u64>().map_or(u32::MAX, |v| v as u32)));
        }
        let is = |words: &[&str]| words.iter().any(|w| s.eq_ignore_ascii_case(w));
        if is(&["off", "no", "false", "n", "f"]) {
            return Some(Mask(0));
        }
        if is(&["on", "yes", "true", "y", "t"]) {
            return Some(Mask::ALL);
        }
        let bits = s
            .split(',')
            .filter_map(|word| CLASSES.iter().find(|(name, _)| *name == word))
            .fold(0, |acc, (_, bit)| acc | bit);
        Some(Mask(bits))
    }

    /// True when no class gets through (`Events: Off`).
    pub fn is_off(self) -> bool {
        self.0 == 0
    }

    /// True when the mask has any of `class`'s bits (the `FullyBooted` test for `system`).
    pub fn has(self, class: &str) -> bool {
        self.0 & bits_of(class) != 0
    }

    /// True when every class bit of an event's `Privilege` (`call,all`) is in the mask and
    /// in the read permission `read`. An event with no class goes everywhere.
    pub fn delivers(self, read: Mask, privilege: &str) -> bool {
        let cat = category(privilege);
        self.0 & cat == cat && read.0 & cat == cat
    }
}

/// The bits of one class word (case-insensitive: `Privilege` values are ours).
fn bits_of(class: &str) -> u32 {
    CLASSES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(class.trim()))
        .map_or(0, |(_, bit)| *bit)
}

/// An event's category from its `Privilege` list; the trailing `all` Asterisk appends is a
/// label, not a requirement.
fn category(privilege: &str) -> u32 {
    privilege
        .split(',')
        .filter(|w| !w.trim().eq_ignore_ascii_case("all"))
        .fold(0, |acc, w| acc | bits_of(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_integers_and_booleans_parse_as_asterisk_does() {
        assert_eq!(Mask::parse(""), None);
        assert_eq!(Mask::parse("  "), None);
        assert_eq!(Mask::parse("on"), Some(Mask::ALL));
        assert_eq!(Mask::parse("True"), Some(Mask::ALL));
        assert_eq!(Mask::parse("off"), Some(Mask(0)));
        assert_eq!(Mask::parse("0"), Some(Mask(0)));
        assert_eq!(Mask::parse("34"), Some(Mask(34)));
        assert_eq!(Mask::parse("agent,call"), Some(Mask(34)));
        assert_eq!(Mask::parse("all"), Some(Mask::ALL));
        assert_eq!(Mask::parse("bogus"), Some(Mask(0)));
        assert_eq!(
            Mask::parse("Agent"),
            Some(Mask(0)),
            "class words are case-sensitive"
        );
        assert_eq!(Mask::parse("agent,bogus"), Some(Mask(32)));
        assert_eq!(Mask::parse("99999999999999999999999"), Some(Mask::ALL));
    }

    #[test]
    fn every_class_of_an_event_must_be_allowed() {
        let agent = Mask(32);
        assert!(agent.delivers(Mask::ALL, "agent,all"));
        assert!(!agent.delivers(Mask::ALL, "call,all"));
        assert!(!agent.delivers(Mask::ALL, "call,agent,all"));
        assert!(Mask(34).delivers(Mask::ALL, "call,agent,all"));
        assert!(
            !Mask::ALL.delivers(Mask(2), "call,agent,all"),
            "read permission"
        );
        assert!(Mask(0).delivers(Mask::ALL, ""), "no class goes everywhere");
        assert!(!Mask(0).delivers(Mask::ALL, "system,all"));
        assert!(Mask(1).has("system") && !Mask(2).has("system"));
    }
}
