//! Bridges and their legs, tracked from `BridgeEnter`/`BridgeLeave`/`BridgeDestroy` (and the
//! legacy `Bridge`/`Link`/`Unlink`): whoever shares a bridge with an agent's channel is that
//! agent's remote party.

use super::bounded::Recent;
use super::calls::{remote_name, Call};
use super::codes;
use super::event::Event;
use super::ids::AgentId;
use super::state::{field, State, MAX_TRACKED};
use crate::ami::AmiMessage;

/// One channel in a bridge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leg {
    /// Uniqueid.
    pub uid: String,
    /// Caller id number.
    pub number: String,
    /// Caller id name.
    pub name: Option<String>,
    /// The agent the channel belongs to.
    pub agent: Option<AgentId>,
}

/// Bridges and their legs: at most [`MAX_TRACKED`] legs in all. Entering a bridge makes it
/// the newest; when the legs would exceed the bound, the bridges entered longest ago are
/// forgotten (and a single bridge bigger than the bound keeps its newest legs).
#[derive(Clone, Debug)]
pub struct Bridges {
    pub(super) map: Recent<String, Vec<Leg>>,
    legs: usize,
}

impl Default for Bridges {
    fn default() -> Self {
        Self {
            map: Recent::new(MAX_TRACKED),
            legs: 0,
        }
    }
}

impl Bridges {
    pub(super) fn enter(&mut self, bridge: &str, leg: Leg) {
        let mut legs = self.map.remove(bridge).unwrap_or_default();
        self.legs -= legs.len();
        legs.retain(|l| l.uid != leg.uid);
        legs.push(leg);
        if legs.len() > MAX_TRACKED {
            legs.drain(..legs.len() - MAX_TRACKED);
        }
        while self.legs + legs.len() > MAX_TRACKED {
            match self.map.pop_oldest() {
                Some((_, old)) => self.legs -= old.len(),
                None => break,
            }
        }
        self.legs += legs.len();
        self.map.insert(bridge.to_owned(), legs);
    }

    /// Legs tracked, in all bridges.
    pub fn legs(&self) -> usize {
        self.legs
    }

    pub(super) fn destroy(&mut self, bridge: &str) {
        if let Some(legs) = self.map.remove(bridge) {
            self.legs -= legs.len();
        }
    }

    pub(super) fn leave(&mut self, bridge: &str, uid: &str) -> Vec<Leg> {
        let Some(legs) = self.map.get_mut(bridge) else {
            return Vec::new();
        };
        let before = legs.len();
        legs.retain(|l| l.uid != uid);
        self.legs -= before - legs.len();
        let rest = legs.clone();
        if rest.is_empty() {
            self.map.remove(bridge);
        }
        rest
    }
}

impl State {
    pub(super) fn bridge_enter(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let (Some(bridge), Some(uid)) = (field(msg, "BridgeUniqueid"), field(msg, "Uniqueid"))
        else {
            return;
        };
        if let Some(swapped) = field(msg, "SwapUniqueid") {
            // A Local channel optimized away, or a transfer: the new channel takes the old one's
            // place in the bridge and in the calls, so the call goes on without a flicker.
            self.bridges.leave(bridge, swapped);
            self.rename_channel(swapped, uid);
        }
        let leg = Leg {
            uid: uid.to_owned(),
            number: codes::number(msg.get("CallerIDNum")),
            name: codes::name(msg.get("CallerIDName")),
            agent: field(msg, "Channel").and_then(|c| self.channel_agent(c)),
        };
        self.bridges.enter(bridge, leg);
        self.connect_bridge(bridge, out);
    }

    /// Starts a call for every agent leg of a bridge with every other party in it.
    pub(super) fn connect_bridge(&mut self, bridge: &str, out: &mut Vec<Event>) {
        let Some(legs) = self.bridges.map.get(bridge).cloned() else {
            return;
        };
        for a in legs.iter().filter(|l| l.agent.is_some()) {
            for b in legs.iter().filter(|b| b.uid != a.uid && b.agent != a.agent) {
                let Some(agent) = &a.agent else { continue };
                let call = Call {
                    remote: b.uid.clone(),
                    leg: Some(a.uid.clone()),
                    number: b.number.clone(),
                    name: remote_name(b.name.clone(), &b.number, a.name.as_ref(), &a.number),
                    queue: self.caller_queue(&b.uid),
                };
                self.start_call(agent, call, out);
            }
        }
    }

    pub(super) fn bridge_leave(&mut self, msg: &AmiMessage, out: &mut Vec<Event>) {
        let (Some(bridge), Some(uid)) = (field(msg, "BridgeUniqueid"), field(msg, "Uniqueid"))
        else {
            return;
        };
        let rest = self.bridges.leave(bridge, uid);
        for other in &rest {
            if let Some(agent) = &other.agent {
                let leg = other.uid.clone();
                self.end_calls(
                    agent,
                    |c| c.remote == uid && c.leg.as_ref() == Some(&leg),
                    out,
                );
            }
        }
        if let Some(agent) = field(msg, "Channel").and_then(|c| self.channel_agent(c)) {
            let remotes: Vec<String> = rest.into_iter().map(|l| l.uid).collect();
            self.end_calls(
                &agent,
                |c| c.leg.as_deref() == Some(uid) && remotes.contains(&c.remote),
                out,
            );
        }
    }

    pub(super) fn bridge_destroy(&mut self, msg: &AmiMessage) {
        if let Some(bridge) = field(msg, "BridgeUniqueid") {
            self.bridges.destroy(bridge);
        }
    }

    /// `Bridge` (1.6–11, `Bridgestate: Link|Unlink`) and `Link`/`Unlink` (1.4).
    pub(super) fn legacy_bridge(&mut self, name: &str, msg: &AmiMessage, out: &mut Vec<Event>) {
        let link = match name {
            "Link" => true,
            "Unlink" => false,
            _ => !msg
                .get("Bridgestate")
                .is_some_and(|s| s.eq_ignore_ascii_case("Unlink")),
        };
        let side = |n: &str| {
            let ch = field(msg, &format!("Channel{n}"));
            let uid = field(msg, &format!("Uniqueid{n}")).or(ch);
            let num = codes::number(
                msg.get(&format!("CallerID{n}"))
                    .or_else(|| msg.get(&format!("CallerIDNum{n}"))),
            );
            (
                ch.and_then(|c| self.channel_agent(c)),
                uid.map(str::to_owned),
                num,
            )
        };
        let sides = [side("1"), side("2")];
        for (i, (agent, uid, _)) in sides.iter().enumerate() {
            let (other_agent, other_uid, other_num) = &sides[1 - i];
            let (Some(agent), Some(uid), Some(other_uid)) = (agent, uid, other_uid) else {
                continue;
            };
            if other_agent.as_ref() == Some(agent) {
                continue;
            }
            if link {
                let call = Call {
                    remote: other_uid.clone(),
                    leg: Some(uid.clone()),
                    number: other_num.clone(),
                    name: None,
                    queue: self.caller_queue(other_uid),
                };
                self.start_call(agent, call, out);
            } else {
                self.end_calls(agent, |c| &c.remote == other_uid, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(i: usize) -> Leg {
        Leg {
            uid: format!("1.{i}"),
            number: String::new(),
            name: None,
            agent: None,
        }
    }

    #[test]
    fn the_legs_stay_bounded_and_the_newest_bridges_are_kept() {
        let mut b = Bridges::default();
        b.enter("old", leg(0));
        b.enter("old", leg(1));
        for i in 2..MAX_TRACKED {
            b.enter(&format!("b{i}"), leg(i));
        }
        assert_eq!(b.legs(), MAX_TRACKED);
        // An existing bridge grows: the oldest bridge makes room.
        b.enter("b5", leg(MAX_TRACKED));
        assert!(b.legs() <= MAX_TRACKED, "{}", b.legs());
        assert!(b.map.get("old").is_none(), "the oldest bridge is forgotten");
        assert_eq!(b.map.get("b5").map(Vec::len), Some(2));
        // A new one too: now b2 is the oldest.
        for i in 0..3 {
            b.enter("new", leg(MAX_TRACKED + 1 + i));
        }
        assert!(b.legs() <= MAX_TRACKED, "{}", b.legs());
        assert!(b.map.get("b2").is_none());
        assert_eq!(b.map.get("new").map(Vec::len), Some(3));
        assert_eq!(b.legs(), b.map.iter().map(|(_, l)| l.len()).sum::<usize>());
    }
}
