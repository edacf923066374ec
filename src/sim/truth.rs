//! The simulator's own view of its state, for tests to compare with what a client believes.

/// Everything the simulator knows, at one instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SimSnapshot {
    /// Queues in name order.
    pub queues: Vec<QueueTruth>,
    /// Device states by device name (`PJSIP/147` → `NOT_INUSE`).
    pub devices: Vec<(String, String)>,
    /// Calls in progress.
    pub calls: Vec<CallTruth>,
}

/// One queue.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueTruth {
    /// Queue name.
    pub name: String,
    /// Strategy (`ringall`, `rrmemory`, ...).
    pub strategy: String,
    /// Uniqueids of the waiting callers, first in line first.
    pub waiting: Vec<String>,
    /// Calls answered (since the last reset).
    pub completed: u64,
    /// Callers who gave up (since the last reset).
    pub abandoned: u64,
    /// Members.
    pub members: Vec<MemberTruth>,
}

/// One member of one queue.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberTruth {
    /// Interface (`PJSIP/147`).
    pub interface: String,
    /// Member name.
    pub name: String,
    /// State interface.
    pub state_interface: String,
    /// Dynamic (added by `QueueAdd`) or static.
    pub dynamic: bool,
    /// Paused.
    pub paused: bool,
    /// Pause reason (empty when none).
    pub reason: String,
    /// Penalty.
    pub penalty: u32,
    /// Calls taken.
    pub calls_taken: u64,
    /// Device state code as in `QueueMemberStatus` (1 = not in use, 2 = in use, 6 = ringing...).
    pub status: u8,
    /// Talking on a call of this queue.
    pub in_call: bool,
}

/// One call in progress.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallTruth {
    /// Uniqueid of the caller's channel (inbound) or of the agent's channel (originated).
    pub uniqueid: String,
    /// Caller channel name.
    pub channel: String,
    /// Caller number.
    pub caller_number: String,
    /// Queue, for inbound calls.
    pub queue: Option<String>,
    /// Agent talking, or being rung, if any.
    pub agent: Option<String>,
    /// `waiting`, `ringing`, `talking`, `originating`.
    pub state: String,
}
