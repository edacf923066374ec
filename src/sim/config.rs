//! What the simulated call center is made of: credentials, agents, queues, timings, bounds.

use std::collections::BTreeMap;
use std::time::Duration;

/// The simulator's configuration. Build one with [`SimConfig::quiet`] and adjust fields.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// AMI user name clients log in with.
    pub username: String,
    /// AMI secret (plain or MD5 challenge).
    pub secret: String,
    /// Agent numbers; agent `A` has interface `location` with `{agent}` = A and hint
    /// `A@hint_context` → device `PJSIP/A`.
    pub agents: Vec<String>,
    /// Queue names; every agent is a dynamic member of every queue at start.
    pub queues: Vec<String>,
    /// Member interface template, `{agent}` replaced by the agent number.
    pub location: String,
    /// Device (state interface and hint) template, `{agent}` replaced by the agent number.
    pub device: String,
    /// Context of the agents' hints.
    pub hint_context: String,
    /// Strategy of named queues (`ringall`, `rrmemory`); a queue not named here alternates by
    /// its position: the first `ringall`, the second `rrmemory`, and so on.
    pub strategies: BTreeMap<String, String>,
    /// Whether every agent starts as a dynamic member of every queue.
    pub initial_members: bool,
    /// Static members `(queue, agent)` (named `Agent <agent> (static)`), which `QueueRemove`
    /// refuses to remove.
    pub static_members: Vec<(String, String)>,
    /// Inbound calls per minute of simulated time, spread over the queues; 0 = none.
    pub call_rate: f64,
    /// Seed of the random generator: the same seed and inputs give the same run.
    pub seed: u64,
    /// Simulated seconds per real second (10 = ten times faster).
    pub time_scale: f64,
    /// Firehose mode: this many extra events per (real) second for benchmarks; 0 = off.
    pub firehose: u32,
    /// How long each agent takes to answer; absent or `None` = never answers.
    pub answer_delays: BTreeMap<String, Option<Duration>>,
    /// Outside numbers that are busy: an agent's Originate to one of them dials it, gets
    /// `DialStatus: BUSY` and hangs up (the recorded rig's `1562831`).
    pub busy_numbers: Vec<String>,
    /// Talk time of answered calls: uniform in this range (simulated time).
    pub talk_time: (Duration, Duration),
    /// Share of answered calls the agent (rather than the caller) hangs up, 0..=1.
    pub agent_hangup_share: f64,
    /// Caller patience before abandoning: uniform in this range (simulated time).
    pub patience: (Duration, Duration),
    /// Queue ring timeout per attempt (`timeout` in queues.conf).
    pub ring_timeout: Duration,
    /// Pause between ring attempts (`retry` in queues.conf).
    pub retry: Duration,
    /// At most this many AMI connections at once; more are closed at once.
    pub max_connections: usize,
    /// Messages queued for one client before it counts as not reading and is disconnected
    /// (Asterisk's `writetimeout`).
    pub max_pending_messages: usize,
    /// How long a client may leave a write blocked before it is disconnected.
    pub write_timeout: Duration,
    /// Entries kept in the action log ([`crate::sim::SimHandle::actions_received`]); oldest dropped.
    pub max_logged_actions: usize,
    /// At most this many calls at once; further callers are refused (logged).
    pub max_calls: usize,
}

impl SimConfig {
    /// The recorded rig without automatic traffic: `pbxis`/`pbxis`, agents 147 148 149, queues
    /// q1 (ringall) and q2 (rrmemory), every agent a dynamic, unpaused member of every queue;
    /// 147 answers after 2 s, 148 after 3 s, 149 never; the outside number 1562831 is busy.
    pub fn quiet() -> Self {
        let agents: Vec<String> = ["147", "148", "149"].map(String::from).to_vec();
        let mut answer_delays = BTreeMap::new();
        answer_delays.insert("147".to_owned(), Some(Duration::from_secs(2)));
        answer_delays.insert("148".to_owned(), Some(Duration::from_secs(3)));
        answer_delays.insert("149".to_owned(), None);
        Self {
            username: "pbxis".to_owned(),
            secret: "pbxis".to_owned(),
            agents,
            queues: vec!["q1".to_owned(), "q2".to_owned()],
            location: "PJSIP/{agent}".to_owned(),
            device: "PJSIP/{agent}".to_owned(),
            hint_context: "default".to_owned(),
            strategies: BTreeMap::new(),
            initial_members: true,
            static_members: Vec::new(),
            call_rate: 0.0,
            seed: 0,
            time_scale: 1.0,
            firehose: 0,
            answer_delays,
            busy_numbers: vec!["1562831".to_owned()],
            talk_time: (Duration::from_secs(5), Duration::from_secs(60)),
            agent_hangup_share: 0.7,
            patience: (Duration::from_secs(20), Duration::from_secs(120)),
            ring_timeout: Duration::from_secs(5),
            retry: Duration::from_secs(1),
            max_connections: 64,
            max_pending_messages: 20_000,
            write_timeout: Duration::from_millis(500),
            max_logged_actions: 10_000,
            max_calls: 500,
        }
    }

    /// The member interface of `agent` (the `location` template applied).
    pub fn interface_of(&self, agent: &str) -> String {
        self.location.replace("{agent}", agent)
    }

    /// The device (state interface, hint) of `agent`.
    pub fn device_of(&self, agent: &str) -> String {
        self.device.replace("{agent}", agent)
    }

    /// The answer delay of `agent` (`None` = never answers).
    pub fn answer_delay(&self, agent: &str) -> Option<Duration> {
        self.answer_delays.get(agent).copied().flatten()
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self::quiet()
    }
}
