//! `ChanSpy` run by an originated phone (recording 11): a tenth of a second after the phone
//! answers, the first other channel whose name starts with the prefix in `Data` is spied on
//! (`ChanSpyStart`); `ChanSpyStop` when the spying phone hangs up. Nothing in the events tells
//! listen, whisper and barge apart; a prefix that matches no channel gives no event at all.

use std::time::Duration;

use crate::sim::engine::{Engine, Job};
use crate::sim::events::chan_spy;
use crate::sim::state::{Channel, Orig};

/// Whether the originate runs `ChanSpy`.
pub(super) fn is_spy(o: &Orig) -> bool {
    o.application
        .as_ref()
        .is_some_and(|(app, _)| app.eq_ignore_ascii_case("ChanSpy"))
}

/// Schedules the search for the spied channel.
pub(super) fn schedule(e: &mut Engine, orig: u64) {
    e.after(Duration::from_millis(100), Job::SpyStart { orig });
}

/// The spying phone finds its channel (or nothing).
pub(super) fn start(e: &mut Engine, orig: u64) {
    let Some(o) = e.state.origs.get(&orig) else {
        return;
    };
    let prefix = o
        .application
        .as_ref()
        .map(|(_, data)| data.split(',').next().unwrap_or("").trim().to_owned())
        .unwrap_or_default();
    let spyer = o.agent.clone();
    if prefix.is_empty() {
        return;
    }
    let spyee: Option<Channel> = e
        .state
        .channels()
        .into_iter()
        .find(|c| {
            c.uniqueid != spyer.uniqueid
                && c.state == 6
                && c.name
                    .get(..prefix.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(&prefix))
        })
        .cloned();
    let Some(spyee) = spyee else {
        return;
    };
    e.emit(chan_spy("ChanSpyStart", &spyer, &spyee));
    if let Some(o) = e.state.origs.get_mut(&orig) {
        o.spying = Some(spyee);
    }
}

/// `ChanSpyStop` when the spying phone hangs up.
pub(super) fn stop(e: &mut Engine, o: &Orig) {
    if let Some(spyee) = &o.spying {
        e.emit(chan_spy("ChanSpyStop", &o.agent, spyee));
    }
}
