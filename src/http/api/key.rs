//! [`Key<S>`]: the API key of a request, checked for scope `S` before anything else of the
//! request is read (an extractor that goes first), so a request without a valid key gets its
//! 401/403 whatever else it holds, and costs no parsing.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::marker::PhantomData;

use crate::http::auth::{Principal, Scope};
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// A scope, as a type: what a [`Key`] must grant.
pub trait RequiredScope: Send + Sync {
    /// The scope.
    const SCOPE: Scope;
}

/// The scopes as types, for [`Key`].
pub mod scope {
    use super::{RequiredScope, Scope};

    /// `events`: tickets, queue status.
    pub struct Events;
    /// `control`: queue actions, originate, call control.
    pub struct Control;
    /// `admin`: `/stop` (and everything `health` allows).
    pub struct Admin;
    /// `health`: `/health`, `/ready` (`admin` too).
    pub struct Health;
    /// `supervise`: `/spy`.
    pub struct Supervise;

    impl RequiredScope for Supervise {
        const SCOPE: Scope = Scope::Supervise;
    }

    impl RequiredScope for Events {
        const SCOPE: Scope = Scope::Events;
    }
    impl RequiredScope for Control {
        const SCOPE: Scope = Scope::Control;
    }
    impl RequiredScope for Admin {
        const SCOPE: Scope = Scope::Admin;
    }
    impl RequiredScope for Health {
        const SCOPE: Scope = Scope::Health;
    }
}

/// The caller, authorized for scope `S`: with keys configured, a key that grants it; on an open
/// service, the anonymous principal.
pub struct Key<S> {
    /// Who is calling, and what it may touch.
    pub principal: Principal,
    scope: PhantomData<S>,
}

impl<S: RequiredScope> FromRequestParts<AppState> for Key<S> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let principal = state.auth().authorize(&parts.headers, S::SCOPE)?;
        Ok(Key {
            principal,
            scope: PhantomData,
        })
    }
}
