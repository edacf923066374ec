//! Values read from an action's fields: caller ids, seconds, channel variables.

use std::time::Duration;

use crate::ami::message::AmiMessage;
use crate::sim::state::Channel;

/// Splits `"Name" <num>` / `Name <num>` / `num` into (number, name).
pub(crate) fn parse_caller_id(s: &str) -> (Option<String>, Option<String>) {
    let s = s.trim();
    if let (Some(lt), Some(gt)) = (s.rfind('<'), s.rfind('>')) {
        if lt < gt {
            let num = s[lt + 1..gt].trim().to_owned();
            let name = s[..lt].trim().trim_matches('"').trim().to_owned();
            return (
                Some(num).filter(|n| !n.is_empty()),
                Some(name).filter(|n| !n.is_empty()),
            );
        }
    }
    (Some(s.to_owned()).filter(|n| !n.is_empty()), None)
}

/// The recorded rig's agent phone marks itself in use half a second after answering and only
/// then talks `TALKTIME` seconds; rig-style callers reproduce that.
pub(crate) const RIG_SETTLE: Duration = Duration::from_millis(500);

/// A positive number of seconds (at most a day).
pub(crate) fn seconds(s: &str) -> Option<Duration> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && *p > 0.0)
        .map(|p| Duration::from_secs_f64(p.min(86_400.0)))
}

/// The value of channel variable `name` set by the action (`Variable: NAME=value`, several
/// per line separated by commas; `_`/`__` inheritance prefixes ignored).
pub(crate) fn variable<'a>(msg: &'a AmiMessage, name: &str) -> Option<&'a str> {
    msg.get_all("Variable")
        .flat_map(|v| v.split(','))
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.trim().trim_start_matches('_').eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// At most this many variables are kept per channel.
const MAX_VARS: usize = 32;

/// Every `NAME=value` of the action's `Variable` fields (inheritance prefixes dropped).
pub(crate) fn variables(msg: &AmiMessage) -> Vec<(String, String)> {
    msg.get_all("Variable")
        .flat_map(|v| v.split(','))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim().trim_start_matches('_').to_owned(), v.to_owned()))
        .take(MAX_VARS)
        .collect()
}

/// The value of a channel variable or function, `(null)` when unset (as `Status` shows it).
pub(crate) fn channel_var(c: &Channel, name: &str) -> String {
    match name {
        "CALLERID(num)" => return c.cid_num.clone(),
        "CALLERID(name)" => return c.cid_name.clone(),
        _ => {}
    }
    c.vars
        .iter()
        .find(|(k, _)| k == name)
        .map_or_else(|| "(null)".to_owned(), |(_, v)| v.clone())
}
