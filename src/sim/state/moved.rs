//! Calls whose member leg is gone while the caller lives on (redirected, transferred,
//! parked), and the parking lot.

use super::{Channel, Phase, State};

/// `AgentComplete` still due for a call whose member leg is gone: app_queue sends it only when
/// the caller hangs up (a single `Redirect` of the caller, a `Park`).
#[derive(Clone, Debug)]
pub(crate) struct Completion {
    pub interface: String,
    pub member_name: String,
    /// The member's channel as it was last (the event's `Dest*` fields).
    pub dest: Channel,
    pub connected: f64,
}

/// The phone a moved caller now runs (the simulated dialplan of an agent's extension), and
/// the channel bridged to it when a phone picked it up from a parking space.
#[derive(Clone, Debug)]
pub(crate) struct Phone {
    pub device: String,
    pub leg: Option<Channel>,
}

/// A caller waiting in a parking space.
#[derive(Clone, Debug)]
pub(crate) struct Parked {
    pub space: u32,
    /// Who parked it, as a dial string (`PJSIP/147`): `ParkerDialString`.
    pub parker: String,
    /// The agent called back when the time runs out (the `TimeoutChannel`'s).
    pub callback: Option<String>,
    pub timeout: u64,
    pub since: f64,
    /// The parking bridge.
    pub bridge: String,
}

/// Where a moved caller is.
#[derive(Clone, Debug)]
pub(crate) struct Moved {
    pub complete: Option<Completion>,
    pub phone: Option<Phone>,
    pub parked: Option<Parked>,
}

impl State {
    /// The first free space of the parking lot (701-720), if any.
    pub fn free_parking_space(&self) -> Option<u32> {
        (PARK_FIRST..=PARK_LAST).find(|s| self.parked_at(*s).is_none())
    }

    /// The call parked in `space`.
    pub fn parked_at(&self, space: u32) -> Option<u64> {
        self.calls.values().find_map(|c| match &c.phase {
            Phase::Moved(m) if m.parked.as_ref().is_some_and(|p| p.space == space) => Some(c.id),
            _ => None,
        })
    }
}

/// The parking lot's spaces (`default`: 701-720, as in the recorded rig).
pub(crate) const PARK_FIRST: u32 = 701;
/// The last parking space.
pub(crate) const PARK_LAST: u32 = 720;
/// Seconds a parked call waits before it calls its parker back (`parkingtime`).
pub(crate) const PARKING_TIME: u64 = 20;
