//! Agent ↔ Asterisk names. The configured location template (`PJSIP/{agent}`, `SIP/{agent}`,
//! `Local/{agent}@agents/n`, ...) maps an agent to its queue interface, and Asterisk's channel,
//! device and interface names back to the agent. No technology is hard-coded: the template is
//! the only source of truth.
//!
//! - Interface: the template with `{agent}` replaced (`Local/147@agents/n`).
//! - Device: the interface without dial options after a second `/` (`Local/147@agents`).
//! - Channel: the device plus `-<hex>` and, for Local channels, `;1`/`;2`
//!   (`PJSIP/147-0000002a`, `Local/147@agents-00000012;1`).

use super::ids::AgentId;

/// The placeholder in a location template.
pub const AGENT_PLACEHOLDER: &str = "{agent}";

/// Why a location template was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template has no `{agent}` or more than one.
    #[error("the location template must contain {AGENT_PLACEHOLDER} exactly once: {0:?}")]
    Placeholder(String),
    /// The template has no technology (`TECH/...`) or a forbidden character.
    #[error("the location template must look like TECH/...{AGENT_PLACEHOLDER}...: {0:?}")]
    Shape(String),
}

/// A parsed location template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    prefix: String,
    suffix: String,
    /// The suffix up to the dial options (`@agents` of `@agents/n`).
    device_suffix: String,
}

impl Location {
    /// Parses a template such as `PJSIP/{agent}` or `Local/{agent}@agents/n`.
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let mut parts = template.split(AGENT_PLACEHOLDER);
        let (Some(prefix), Some(suffix), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(TemplateError::Placeholder(template.into()));
        };
        let tech_ok = prefix
            .find('/')
            .is_some_and(|i| i > 0 && prefix[..i].chars().all(|c| c.is_ascii_alphanumeric()));
        let clean = template
            .chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, ':' | ',' | ';'));
        if !tech_ok || !clean {
            return Err(TemplateError::Shape(template.into()));
        }
        let device_suffix = suffix.split('/').next().unwrap_or_default().to_owned();
        Ok(Self {
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
            device_suffix,
        })
    }

    /// The queue interface of an agent (`Local/147@agents/n`).
    pub fn interface(&self, agent: &AgentId) -> String {
        format!("{}{}{}", self.prefix, agent, self.suffix)
    }

    /// The device name of an agent (`Local/147@agents`, `PJSIP/147`).
    pub fn device(&self, agent: &AgentId) -> String {
        format!("{}{}{}", self.prefix, agent, self.device_suffix)
    }

    /// The agent of a queue interface, or of a device name.
    pub fn agent_of_interface(&self, interface: &str) -> Option<AgentId> {
        self.strip(interface, &self.suffix)
            .or_else(|| self.strip(interface, &self.device_suffix))
    }

    /// The agent of a channel name (`PJSIP/147-0000002a`, `Local/147@agents-00000012;1`).
    pub fn agent_of_channel(&self, channel: &str) -> Option<AgentId> {
        let base = match channel.rsplit_once(';') {
            Some((b, n)) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) => b,
            _ => channel,
        };
        let (device, seq) = base.rsplit_once('-')?;
        if seq.is_empty() || !seq.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        self.strip(device, &self.device_suffix)
    }

    fn strip(&self, name: &str, suffix: &str) -> Option<AgentId> {
        let head = name.get(..self.prefix.len())?;
        if !head.eq_ignore_ascii_case(&self.prefix) {
            return None;
        }
        let rest = &name[self.prefix.len()..];
        let agent = rest.strip_suffix(suffix)?;
        AgentId::parse(agent).ok()
    }

    /// True when the template dials a Local channel, whose device state is not the phone's.
    pub fn is_local(&self) -> bool {
        self.prefix
            .get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case("Local/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> AgentId {
        AgentId::parse(s).unwrap()
    }

    #[test]
    fn pjsip_template_maps_both_ways() {
        let l = Location::parse("PJSIP/{agent}").unwrap();
        assert_eq!(l.interface(&a("147")), "PJSIP/147");
        assert_eq!(l.agent_of_interface("PJSIP/147"), Some(a("147")));
        assert_eq!(l.agent_of_channel("PJSIP/147-0000002a"), Some(a("147")));
        assert_eq!(
            l.agent_of_channel("PJSIP/agent-07-0000002a"),
            Some(a("agent-07"))
        );
        assert_eq!(l.agent_of_channel("SIP/147-0000002a"), None);
        assert_eq!(
            l.agent_of_channel("PJSIP/147"),
            None,
            "a device is no channel"
        );
        assert_eq!(l.agent_of_interface("PJSIP/trunk/x"), None);
        assert!(!l.is_local());
    }

    #[test]
    fn local_template_maps_channels_and_devices() {
        let l = Location::parse("Local/{agent}@agents/n").unwrap();
        assert_eq!(l.interface(&a("147")), "Local/147@agents/n");
        assert_eq!(l.device(&a("147")), "Local/147@agents");
        assert_eq!(l.agent_of_interface("Local/147@agents/n"), Some(a("147")));
        assert_eq!(l.agent_of_interface("local/147@agents/n"), Some(a("147")));
        assert_eq!(l.agent_of_interface("Local/147@agents"), Some(a("147")));
        let ch = "Local/147@agents-00000012;1";
        assert_eq!(l.agent_of_channel(ch), Some(a("147")));
        assert_eq!(
            l.agent_of_channel("Local/147@agents-00000012;2"),
            Some(a("147"))
        );
        assert_eq!(l.agent_of_channel("Local/q1@callers-00000012;2"), None);
        assert_eq!(l.agent_of_channel("Local/147@nosuchctx-00000007;1"), None);
        assert!(l.is_local());
    }

    #[test]
    fn sip_template_does_not_match_pjsip() {
        let l = Location::parse("SIP/{agent}").unwrap();
        assert_eq!(l.agent_of_channel("PJSIP/147-0000002a"), None);
        assert_eq!(l.agent_of_channel("SIP/147-0000002a"), Some(a("147")));
        assert_eq!(l.agent_of_channel("SIP/prov-00000012"), Some(a("prov")));
    }

    #[test]
    fn bad_templates_are_refused() {
        for bad in [
            "PJSIP/147",
            "{agent}",
            "PJSIP/{agent}{agent}",
            "PJSIP/{agent}\r\n",
            "/{agent}",
        ] {
            assert!(Location::parse(bad).is_err(), "{bad:?}");
        }
    }
}
