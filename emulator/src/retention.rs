//! Bounds on what the emulator remembers, so that its memory stays flat under sustained
//! load (every new client id brings a token and an account, every task a session and its
//! statistics, every message a turn whose events are kept for `Last-Event-ID` replay).
//!
//! Each kind has a cap (`--max-tokens`, `--max-sessions`, `--replay-*`). Past it, the
//! oldest entries are forgotten, and a forgotten entry answers exactly like one that
//! expired: a token 1001, a session 1002 (the recovery in docs/protocol.md, "Error codes
//! and recovery": a new token for the same client id, a new session). A forgotten turn is
//! an unknown turn: a resume of it runs its message as a new turn, as for any turn id the
//! emulator does not know.
//!
//! Tokens and sessions are evicted in batches (down to 15/16 of the cap), so that the scan
//! that finds the oldest runs once per cap/16 insertions rather than on every one.
//! Finished turns sit in a queue in the order they finished, so dropping the oldest costs
//! nothing to find.

use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Instant, SystemTime},
};

use crate::{agent::turn::Turn, config::Limits, state::Store};

/// One finished turn waiting for a replay.
struct Entry {
    turn: Arc<Turn>,
    finished: Instant,
    bytes: usize,
}

/// Finished turns in the order they finished, and the bytes they hold.
#[derive(Default)]
pub struct Retired {
    queue: VecDeque<Entry>,
    bytes: usize,
}

impl Retired {
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The (estimated) bytes the finished turns hold.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// How many to evict from `len` entries so that `cap` holds again, with slack for the next
/// cap/16 insertions.
fn batch(len: usize, cap: usize) -> usize {
    if len <= cap {
        0
    } else {
        len - cap + cap / 16
    }
}

impl Store {
    /// Queues a turn that just finished for replay, then applies the `--replay-*` caps.
    /// A turn no longer in the store (reset meanwhile) is not queued.
    pub fn retire_turn(&mut self, turn: &Arc<Turn>, limits: &Limits) {
        if !self
            .turns
            .get(&turn.id)
            .is_some_and(|t| Arc::ptr_eq(t, turn))
        {
            return;
        }
        let bytes = turn.retained_bytes();
        self.retired.queue.push_back(Entry {
            turn: turn.clone(),
            finished: Instant::now(),
            bytes,
        });
        self.retired.bytes += bytes;
        self.evict_turns(limits);
    }

    /// Drops the oldest finished turns while there are more than `replay_turns` of them,
    /// they hold more than `replay_bytes`, or the oldest finished before the replay window.
    /// Running turns are never dropped.
    pub fn evict_turns(&mut self, limits: &Limits) {
        let now = Instant::now();
        while let Some(oldest) = self.retired.queue.front() {
            let over = self.retired.queue.len() > limits.replay_turns
                || self.retired.bytes > limits.replay_bytes
                || now.duration_since(oldest.finished) > limits.replay_window;
            if !over {
                break;
            }
            let Some(e) = self.retired.queue.pop_front() else {
                break;
            };
            self.retired.bytes -= e.bytes;
            if self
                .turns
                .get(&e.turn.id)
                .is_some_and(|t| Arc::ptr_eq(t, &e.turn))
            {
                self.turns.remove(&e.turn.id);
            }
        }
    }

    /// Applies `--max-tokens` (call after issuing one): expired tokens go first, then the
    /// oldest issued. A token takes its client id's entry and its account along.
    pub fn evict_tokens(&mut self, limits: &Limits) {
        let mut k = batch(self.tokens.len(), limits.max_tokens);
        if k == 0 {
            return;
        }
        let now = SystemTime::now();
        let mut by_age: Vec<(bool, SystemTime, String)> = self
            .tokens
            .iter()
            .map(|(tok, t)| (now < t.expires, t.issued, tok.clone()))
            .collect();
        // Expired (false) sort first, then the oldest issued.
        k = k.min(by_age.len());
        if k < by_age.len() {
            by_age.select_nth_unstable(k);
        }
        for (_, _, tok) in by_age.into_iter().take(k) {
            self.forget_token(&tok);
        }
        self.shrink();
    }

    fn forget_token(&mut self, token: &str) {
        let Some(t) = self.tokens.remove(token) else {
            return;
        };
        if self
            .by_client
            .get(&t.client_id)
            .is_some_and(|cur| cur == token)
        {
            self.by_client.remove(&t.client_id);
        }
        self.accounts.remove(&t.user_id);
    }

    /// Applies `--max-sessions` (call after creating one): the least recently used go
    /// first, with their statistics. Statistics of sessions that expired while idle (kept
    /// so far, for `/__emulator/stats`) go too once there are more than the cap of them.
    pub fn evict_sessions(&mut self, limits: &Limits) {
        let k = batch(self.sessions.len(), limits.max_sessions);
        if k > 0 {
            let mut by_use: Vec<(Instant, String)> = self
                .sessions
                .values()
                .map(|s| (s.last_active, s.id.clone()))
                .collect();
            if k < by_use.len() {
                by_use.select_nth_unstable(k);
            }
            for (_, sid) in by_use.into_iter().take(k) {
                self.sessions.remove(&sid);
                self.session_stats.remove(&sid);
            }
        }
        if self.session_stats.len() > limits.max_sessions {
            let live = &self.sessions;
            self.session_stats.retain(|sid, _| live.contains_key(sid));
        }
        if k > 0 {
            self.shrink();
        }
    }

    /// Hands memory back after a batch eviction: a map that once held many more entries
    /// than it does now keeps its table otherwise.
    fn shrink(&mut self) {
        fn fit<K: std::hash::Hash + Eq, V>(m: &mut std::collections::HashMap<K, V>) {
            if m.capacity() > 2 * m.len() + 64 {
                m.shrink_to_fit();
            }
        }
        fit(&mut self.tokens);
        fit(&mut self.by_client);
        fit(&mut self.accounts);
        fit(&mut self.sessions);
    }

    /// Drops claim tokens past their expiry (call when adding one).
    pub fn prune_claims(&mut self) {
        let now = SystemTime::now();
        self.claims.retain(|_, (_, _, expires)| now < *expires);
    }
}

#[cfg(test)]
mod tests {
    use super::batch;

    #[test]
    fn batches_leave_slack_below_the_cap() {
        assert_eq!(batch(5, 5), 0);
        assert_eq!(batch(3, 2), 1);
        assert_eq!(batch(10_001, 10_000), 1 + 625);
        assert_eq!(batch(1, 0), 1);
    }
}
