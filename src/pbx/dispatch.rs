//! Which handler of the model an AMI event goes to, decided from its name in one table lookup.
//! Most of what Asterisk sends (`VarSet`, `Newexten`, `Newstate`, ...) goes to none: those events
//! only name channels (`channels.rs`). Names are matched exactly, case included, as Asterisk
//! spells them (the old names of 1.4 to 11 too: `Join`, `Link`, ...).

use std::collections::HashMap;
use std::sync::LazyLock;

use foldhash::fast::FixedState;

/// A handler of [`super::State::apply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Handler {
    CallerJoin,
    CallerLeave,
    CallerAbandon,
    MemberUpdate,
    MemberRemoved,
    QueueParams,
    QueueEntry,
    ExtensionStatus,
    DeviceState,
    AgentCalled,
    AgentDropped,
    AgentComplete,
    DialBegin,
    DialEnd,
    BridgeEnter,
    BridgeLeave,
    BridgeDestroy,
    LegacyBridge,
    Hangup,
    OriginateResponse,
    Rename,
    ParkedCall,
    ParkEnded,
    ChanSpy,
}

const TABLE: &[(&str, Handler)] = &[
    ("QueueCallerJoin", Handler::CallerJoin),
    ("Join", Handler::CallerJoin),
    ("QueueCallerLeave", Handler::CallerLeave),
    ("Leave", Handler::CallerLeave),
    ("QueueCallerAbandon", Handler::CallerAbandon),
    ("QueueMemberAdded", Handler::MemberUpdate),
    ("QueueMemberStatus", Handler::MemberUpdate),
    ("QueueMemberPause", Handler::MemberUpdate),
    ("QueueMemberPaused", Handler::MemberUpdate),
    ("QueueMemberPenalty", Handler::MemberUpdate),
    ("QueueMemberRinginuse", Handler::MemberUpdate),
    ("QueueMember", Handler::MemberUpdate),
    ("QueueMemberRemoved", Handler::MemberRemoved),
    ("QueueParams", Handler::QueueParams),
    ("QueueEntry", Handler::QueueEntry),
    ("ExtensionStatus", Handler::ExtensionStatus),
    ("DeviceStateChange", Handler::DeviceState),
    ("AgentCalled", Handler::AgentCalled),
    ("AgentConnect", Handler::AgentCalled),
    ("AgentRingNoAnswer", Handler::AgentDropped),
    ("AgentDump", Handler::AgentDropped),
    ("AgentComplete", Handler::AgentComplete),
    ("DialBegin", Handler::DialBegin),
    ("DialEnd", Handler::DialEnd),
    ("BridgeEnter", Handler::BridgeEnter),
    ("BridgeLeave", Handler::BridgeLeave),
    ("BridgeDestroy", Handler::BridgeDestroy),
    ("Bridge", Handler::LegacyBridge),
    ("Link", Handler::LegacyBridge),
    ("Unlink", Handler::LegacyBridge),
    ("Hangup", Handler::Hangup),
    ("OriginateResponse", Handler::OriginateResponse),
    ("Rename", Handler::Rename),
    ("ParkedCall", Handler::ParkedCall),
    ("UnParkedCall", Handler::ParkEnded),
    ("ParkedCallTimeOut", Handler::ParkEnded),
    ("ParkedCallGiveUp", Handler::ParkEnded),
    ("ChanSpyStart", Handler::ChanSpy),
    ("ChanSpyStop", Handler::ChanSpy),
];

static HANDLERS: LazyLock<HashMap<&'static str, Handler, FixedState>> =
    LazyLock::new(|| TABLE.iter().copied().collect());

/// The handler of the event `name`, if the model handles it.
pub(super) fn handler(name: &str) -> Option<Handler> {
    HANDLERS.get(name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_found_exactly_and_others_are_not() {
        for (name, h) in TABLE {
            assert_eq!(handler(name), Some(*h), "{name}");
        }
        assert_eq!(HANDLERS.len(), TABLE.len(), "a name is listed twice");
        for other in [
            "VarSet", "Newexten", "hangup", "HANGUP", "Hangup ", "", "Cdr",
        ] {
            assert_eq!(handler(other), None, "{other:?}");
        }
    }
}
