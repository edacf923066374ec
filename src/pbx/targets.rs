//! What call control acts on: a raw [`ChannelName`], or an agent ([`AgentOrChannel`]), whose
//! call the model knows as channels (`channels.rs`).
//!
//! | type | characters | length |
//! |---|---|---|
//! | `ChannelName` | ASCII letters, digits, `/ @ - _ . ; : + # * ~ =`; contains a `/` | 3–80 |
//!
//! A channel name is `Tech/resource` (`PJSIP/147-0000002a`, `Local/147@agents-00000007;1`):
//! the `/` tells it from an agent id, which never contains one. No space, comma, `|`, `&`,
//! quote or control character: nothing that could end an AMI header or split a dialplan
//! application's arguments. 80 is Asterisk's own limit (`AST_CHANNEL_NAME`).

use super::ids::AgentId;
use super::validated::validated_string;
use super::values::ValueError;

/// Longest channel name, Asterisk's `AST_CHANNEL_NAME`.
pub const MAX_CHANNEL_NAME: usize = 80;

fn check_channel(s: &str) -> Result<(), ValueError> {
    let what = "channel";
    if s.is_empty() {
        return Err(ValueError::Empty { what });
    }
    if s.chars().count() > MAX_CHANNEL_NAME {
        return Err(ValueError::TooLong {
            what,
            max: MAX_CHANNEL_NAME,
        });
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || "/@-_.;:+#*~=".contains(c);
    if let Some(found) = s.chars().find(|&c| !ok(c)) {
        return Err(ValueError::BadChar { what, found });
    }
    match s.split_once('/') {
        Some((tech, resource)) if !tech.is_empty() && !resource.is_empty() => Ok(()),
        _ => Err(ValueError::Shape {
            what,
            shape: "Tech/resource",
        }),
    }
}

validated_string!(
    /// A channel name (`PJSIP/147-0000002a`).
    ChannelName,
    ValueError,
    check_channel
);

/// An agent (its call) or a raw channel: `agent-or-channel` of the call-control endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentOrChannel {
    /// An agent: its call.
    Agent(AgentId),
    /// A channel by name.
    Channel(ChannelName),
}

impl AgentOrChannel {
    /// A channel name when it contains a `/`, else an agent id.
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.contains('/') {
            ChannelName::parse(s)
                .map(AgentOrChannel::Channel)
                .map_err(|e| e.to_string())
        } else {
            AgentId::parse(s)
                .map(AgentOrChannel::Agent)
                .map_err(|e| e.to_string())
        }
    }
}

impl<'de> serde::Deserialize<'de> for AgentOrChannel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <String as serde::Deserialize>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_and_agents_are_told_apart() {
        for ok in [
            "PJSIP/147-0000002a",
            "Local/147@agents-00000007;1",
            "SIP/trunk-0a",
        ] {
            assert_eq!(
                AgentOrChannel::parse(ok),
                Ok(AgentOrChannel::Channel(ChannelName::parse(ok).unwrap()))
            );
        }
        assert!(matches!(
            AgentOrChannel::parse("147"),
            Ok(AgentOrChannel::Agent(_))
        ));
    }

    #[test]
    fn nothing_that_could_inject_passes() {
        for bad in [
            "PJSIP/1\r\nAction: Hangup",
            "PJSIP/1\n",
            "PJSIP/1 2",
            "PJSIP/1,q",
            "PJSIP/1|q",
            "PJSIP/\u{85}",
            "/x",
            "PJSIP/",
            "",
        ] {
            assert!(ChannelName::parse(bad).is_err(), "{bad:?}");
            assert!(AgentOrChannel::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("PJSIP/{}", "a".repeat(MAX_CHANNEL_NAME));
        assert!(ChannelName::parse(&long).is_err());
    }
}
