//! [`Principal`]: who is calling once authorized, and what it may touch.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::AuthError;
use crate::pbx::{AgentId, QueueName};

/// Who is calling, once authorized: a key's name and restrictions, or the anonymous principal of
/// an open service. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub(super) name: Option<Arc<str>>,
    pub(super) agents: Option<Arc<BTreeSet<AgentId>>>,
    pub(super) queues: Option<Arc<BTreeSet<QueueName>>>,
}

impl Principal {
    /// The principal of an open service: no name, no restriction.
    pub fn anonymous() -> Self {
        Self {
            name: None,
            agents: None,
            queues: None,
        }
    }

    /// The key's name (`None` when the service is open). Use it as the ticket owner.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// True when the key may subscribe to or act on `agent`.
    pub fn allows_agent(&self, agent: &AgentId) -> bool {
        self.agents.as_ref().is_none_or(|set| set.contains(agent))
    }

    /// True when the key may subscribe to or act on `queue`.
    pub fn allows_queue(&self, queue: &QueueName) -> bool {
        self.queues.as_ref().is_none_or(|set| set.contains(queue))
    }

    /// True when the key is not restricted to some queues.
    pub fn allows_all_queues(&self) -> bool {
        self.queues.is_none()
    }

    /// True when the key is not restricted to some agents.
    pub fn allows_all_agents(&self) -> bool {
        self.agents.is_none()
    }

    /// True when the key is restricted neither to some agents nor to some queues.
    pub fn is_unrestricted(&self) -> bool {
        self.agents.is_none() && self.queues.is_none()
    }

    /// `Ok` when every agent is allowed, else the 403 naming the first that is not.
    pub fn check_agents<'a>(
        &self,
        agents: impl IntoIterator<Item = &'a AgentId>,
    ) -> Result<(), AuthError> {
        match agents.into_iter().find(|a| !self.allows_agent(a)) {
            Some(a) => Err(AuthError::Agent(a.clone())),
            None => Ok(()),
        }
    }

    /// `Ok` for a raw channel only when the key is restricted neither to some queues nor to
    /// some agents.
    pub fn check_channel(&self) -> Result<(), AuthError> {
        if self.is_unrestricted() {
            Ok(())
        } else {
            Err(AuthError::Channel)
        }
    }

    /// `Ok` when every queue is allowed, else the 403 naming the first that is not.
    pub fn check_queues<'a>(
        &self,
        queues: impl IntoIterator<Item = &'a QueueName>,
    ) -> Result<(), AuthError> {
        match queues.into_iter().find(|q| !self.allows_queue(q)) {
            Some(q) => Err(AuthError::Queue(q.clone())),
            None => Ok(()),
        }
    }

    /// `Ok` for a queue the key may use; for `None` (every queue, every member), `Ok` only when
    /// the key is restricted neither to some queues nor to some agents.
    pub fn check_queue(&self, queue: Option<&QueueName>) -> Result<(), AuthError> {
        match queue {
            Some(q) => self.check_queues([q]),
            None if self.is_unrestricted() => Ok(()),
            None => Err(AuthError::AllQueues),
        }
    }
}
