//! Asterisk's numeric and textual codes, mapped to the model's values: device states
//! (`AST_DEVICE_*`, numeric in queue events and by name in `DeviceStateChange`), extension state
//! bitmasks (`ExtensionStatus`), originate failure reasons, and the small parsers for AMI's
//! booleans and caller ids.

use super::event::DeviceStatus;
use super::state::MAX_TEXT_BYTES;
use crate::clip::clip;

/// A queue member's `Status` (`enum ast_device_state`, 0..8).
pub fn device_from_code(code: &str) -> DeviceStatus {
    match code.trim() {
        "1" => DeviceStatus::NotInuse,
        "2" => DeviceStatus::Inuse,
        "3" => DeviceStatus::Busy,
        "4" | "5" => DeviceStatus::Unavailable,
        "6" => DeviceStatus::Ringing,
        "7" => DeviceStatus::Ringinuse,
        "8" => DeviceStatus::Onhold,
        _ => DeviceStatus::Unknown,
    }
}

/// A `DeviceStateChange` `State` (`NOT_INUSE`, `RINGING`, ...).
pub fn device_from_name(name: &str) -> DeviceStatus {
    match name.trim().to_ascii_uppercase().as_str() {
        "NOT_INUSE" => DeviceStatus::NotInuse,
        "INUSE" => DeviceStatus::Inuse,
        "BUSY" => DeviceStatus::Busy,
        "INVALID" | "UNAVAILABLE" => DeviceStatus::Unavailable,
        "RINGING" => DeviceStatus::Ringing,
        "RINGINUSE" => DeviceStatus::Ringinuse,
        "ONHOLD" => DeviceStatus::Onhold,
        _ => DeviceStatus::Unknown,
    }
}

/// An extension state (`ExtensionStatus` `Status`), a bitmask: 1 in use, 2 busy,
/// 4 unavailable, 8 ringing, 16 on hold; negative values mean "no hint".
pub fn device_from_extension_state(code: &str) -> DeviceStatus {
    let Ok(bits) = code.trim().parse::<i64>() else {
        return DeviceStatus::Unknown;
    };
    match bits {
        b if b < 0 => DeviceStatus::Unknown,
        b if b & 4 != 0 => DeviceStatus::Unavailable,
        b if b & 8 != 0 && b & 1 != 0 => DeviceStatus::Ringinuse,
        b if b & 8 != 0 => DeviceStatus::Ringing,
        b if b & 16 != 0 => DeviceStatus::Onhold,
        b if b & 2 != 0 => DeviceStatus::Busy,
        b if b & 1 != 0 => DeviceStatus::Inuse,
        0 => DeviceStatus::NotInuse,
        _ => DeviceStatus::Unknown,
    }
}

/// `OriginateResponse` `Reason` in words (`pbx_dial_reason()` codes).
pub fn originate_reason(code: &str) -> String {
    match code.trim() {
        "0" => "failed".into(),
        "1" => "hangup".into(),
        "3" => "no answer".into(),
        "4" => "answered".into(),
        "5" => "busy".into(),
        "8" => "congestion".into(),
        other => format!("failed (reason {other})"),
    }
}

/// AMI's `ast_true`: yes/true/y/t/1/on.
pub fn is_true(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "yes" | "true" | "y" | "t" | "1" | "on"
    )
}

/// A caller id number as shown to subscribers: Asterisk's `<unknown>` becomes empty; clipped
/// to [`MAX_TEXT_BYTES`].
pub fn number(v: Option<&str>) -> String {
    match v.map(|v| clip(v, MAX_TEXT_BYTES)) {
        Some(n) if n != "<unknown>" && n != "unknown" => n.to_owned(),
        _ => String::new(),
    }
}

/// A caller id name: `<unknown>` or empty becomes `None`; snapshot names are C-escaped by
/// Asterisk (`\"`, `\'`, `\\`), which is undone; clipped to [`MAX_TEXT_BYTES`].
pub fn name(v: Option<&str>) -> Option<String> {
    let v = clip(v?, MAX_TEXT_BYTES);
    if v.is_empty() || v == "<unknown>" || v == "unknown" {
        return None;
    }
    if !v.contains('\\') {
        return Some(v.to_owned());
    }
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(n @ ('"' | '\'' | '\\'))) => {
                out.push(n);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    Some(out)
}

/// An unsigned integer field; junk reads as 0.
pub fn uint(v: Option<&str>) -> u64 {
    v.and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_codes() {
        assert_eq!(device_from_code("1"), DeviceStatus::NotInuse);
        assert_eq!(device_from_code("4"), DeviceStatus::Unavailable);
        assert_eq!(device_from_code("8"), DeviceStatus::Onhold);
        assert_eq!(device_from_code("x"), DeviceStatus::Unknown);
        assert_eq!(device_from_name("RINGING"), DeviceStatus::Ringing);
        assert_eq!(device_from_name("INVALID"), DeviceStatus::Unavailable);
    }

    #[test]
    fn extension_state_bits() {
        let cases = [
            ("0", DeviceStatus::NotInuse),
            ("1", DeviceStatus::Inuse),
            ("2", DeviceStatus::Busy),
            ("4", DeviceStatus::Unavailable),
            ("8", DeviceStatus::Ringing),
            ("9", DeviceStatus::Ringinuse),
            ("16", DeviceStatus::Onhold),
            ("17", DeviceStatus::Onhold),
            ("-1", DeviceStatus::Unknown),
            ("-2", DeviceStatus::Unknown),
        ];
        for (code, want) in cases {
            assert_eq!(device_from_extension_state(code), want, "{code}");
        }
    }

    #[test]
    fn caller_ids() {
        assert_eq!(number(Some("<unknown>")), "");
        assert_eq!(number(Some("0911")), "0911");
        assert_eq!(name(Some("<unknown>")), None);
        assert_eq!(name(Some(r#"A \"B\" C\\"#)).as_deref(), Some(r#"A "B" C\"#));
        assert!(is_true("On") && is_true("1") && !is_true("0") && !is_true("nope"));
        assert_eq!(originate_reason("3"), "no answer");
    }
}
