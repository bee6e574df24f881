//! One request's authentication and automatic retries, as a sans-IO state
//! machine (in the style of quinn-proto and h11): no sockets, no timers, no
//! clock. The shell feeds it [`Input`]s (the time is one of them) and
//! performs the [`Step`]s it returns; the machine only decides.
//!
//! | reply | what [`Exchange`] says | docs/protocol.md |
//! |---|---|---|
//! | success | [`Step::Done`] | |
//! | 1001, anonymous token | [`Step::Authenticate`] with the stale token, then one re-send | "Error codes and recovery" |
//! | 1001, the integrator's token (or no token) | [`Step::Fail`]: theirs to renew | |
//! | 429 | [`Step::WaitUntil`] `now + rate_limit_wait_ms`, then a re-send; [`Timing::rate_limit_retries`] times | "Error codes and recovery" |
//! | time-out of a GET | a re-send at once, [`Timing::timeout_retries`] times | "Conventions we chose" |
//! | time-out or network error of a POST | [`Step::Fail`]: it may have been processed | "Recovery after a dropped stream" |
//! | anything after the caller's signal fired | [`Step::Fail`] with that reply's error | |
//! | anything else | [`Step::Fail`] with the error | |
//!
//! The budget of each retry is [`RetryBudget`]; this machine adds the order
//! of things around it (a token before the first send, which token a
//! re-authentication replaces, the caller's abort). It serves every small
//! request, the token call itself (unauthenticated: its 429 is waited out
//! like any other) and the agent stream's opening request (whose 2xx
//! non-JSON reply is the success the shell reports as `Ok`).
//!
//! Several requests that meet a 1001 at once share one re-authentication:
//! [`TokenGate`] holds the client's token and decides who starts the one
//! token request, who joins it, and when an abandoned one is stopped.

use crate::core::error::{Error, ErrorKind};
use crate::core::policy::{RetryBudget, RetryDecision, Timing};

/// Which token a request is sent with.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub enum Credential {
    /// No token (the anonymous-token call itself).
    None,
    /// The client's anonymous token (known, or fetched before the first
    /// send): a 1001 is answered with a new one for the same client id.
    Anonymous(Option<String>),
    /// A token the integrator gave: a 1001 is theirs to handle, so it is
    /// reported rather than swapped for an anonymous identity.
    Given(String),
}

/// What happened, fed to [`Exchange::handle`].
#[cfg_attr(test, derive(Debug))]
pub enum Input {
    /// Begin (once).
    Start,
    /// The token asked for by [`Step::Authenticate`].
    Token(String),
    /// The reply to [`Step::Send`]: `Ok` for a success (the shell keeps the
    /// value), else the classified error. `now_ms` is any monotonic
    /// millisecond clock. `aborted`: the caller's own signal had fired by
    /// then (an `AbortSignal.timeout` of theirs reads as a time-out, which
    /// must not be answered with a re-send).
    Reply {
        /// The time of the reply.
        now_ms: u64,
        /// Success, or the error the reply was.
        result: Result<(), Error>,
        /// Whether the caller's signal had fired.
        aborted: bool,
    },
    /// The wait asked for by [`Step::WaitUntil`] is over.
    Waited,
    /// The caller's signal fired (before the start, during a wait or while
    /// waiting for a token).
    Aborted,
    /// Getting the token (or waiting) failed with this error.
    Failed(Error),
}

/// What the shell does next.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub enum Step {
    /// Get a token, then feed [`Input::Token`]. `stale: None`: any current
    /// token will do (fetch one if there is none). `stale: Some(t)`: the
    /// server refused `t`; a token that replaces it (if `t` was already
    /// replaced, the current one; else a new one: see [`TokenGate`]).
    Authenticate {
        /// The token that was refused, if any.
        stale: Option<String>,
    },
    /// Send the request (with this token, if any), then feed
    /// [`Input::Reply`].
    Send {
        /// The bearer token to put on the request.
        token: Option<String>,
    },
    /// Wait until `at_ms` (on the clock of [`Input::Reply`]), then feed
    /// [`Input::Waited`].
    WaitUntil {
        /// When to send again.
        at_ms: u64,
    },
    /// The last reply was the success: hand it to the caller.
    Done,
    /// Give up with this error.
    Fail(Error),
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
enum Phase {
    Idle,
    Authenticating,
    Sending,
    Waiting,
    Ended,
}

/// The authentication and retries of one logical request. Make one per
/// call; feed it [`Input::Start`] and then what each [`Step`] led to,
/// until [`Step::Done`] or [`Step::Fail`].
pub struct Exchange {
    budget: RetryBudget,
    credential: Credential,
    phase: Phase,
}

impl Exchange {
    /// One request: `idempotent` (a GET, see
    /// [`ApiRequest::is_idempotent`](crate::core::api::ApiRequest::is_idempotent))
    /// may be re-sent after a time-out; `credential` is what it is sent
    /// with ([`TokenGate::credential`]).
    pub fn new(timing: &Timing, idempotent: bool, credential: Credential) -> Self {
        Exchange {
            budget: RetryBudget::for_request(timing, idempotent),
            credential,
            phase: Phase::Idle,
        }
    }

    /// Feeds one input; returns what to do next. An input that does not
    /// fit the step (or comes after the end) fails the exchange with a
    /// protocol error.
    pub fn handle(&mut self, input: Input) -> Step {
        let phase = core::mem::replace(&mut self.phase, Phase::Ended);
        match (phase, input) {
            (Phase::Ended, _) => Step::Fail(Error::protocol("a request was driven past its end")),
            (_, Input::Aborted) => Step::Fail(Error::aborted()),
            (_, Input::Failed(e)) => Step::Fail(e),
            (Phase::Idle, Input::Start) => match &self.credential {
                Credential::Anonymous(None) => self.authenticate(None),
                _ => self.send(),
            },
            (Phase::Authenticating, Input::Token(t)) => {
                match &mut self.credential {
                    Credential::Anonymous(token) => *token = Some(t),
                    Credential::Given(token) => *token = t,
                    Credential::None => {}
                }
                self.send()
            }
            (Phase::Sending, Input::Reply { result: Ok(()), .. }) => Step::Done,
            (
                Phase::Sending,
                Input::Reply {
                    now_ms,
                    result: Err(e),
                    aborted,
                },
            ) => self.on_error(now_ms, e, aborted),
            (Phase::Waiting, Input::Waited) => self.send(),
            _ => Step::Fail(Error::protocol("a request step got the wrong input")),
        }
    }

    /// The token the request is (or was last) sent with.
    pub fn token(&self) -> Option<&str> {
        match &self.credential {
            Credential::Anonymous(t) => t.as_deref(),
            Credential::Given(t) => Some(t),
            Credential::None => None,
        }
    }

    /// How many automatic retries (re-authentications, waits, re-sends
    /// after a time-out) were made so far.
    pub fn retries(&self) -> u32 {
        self.budget.attempts()
    }

    fn on_error(&mut self, now_ms: u64, e: Error, aborted: bool) -> Step {
        // The caller gave up (or their own time limit ran out): whatever
        // the reply, it is the answer.
        if aborted {
            return Step::Fail(e);
        }
        // Only the client's own anonymous token may be replaced.
        let renewable = matches!(self.credential, Credential::Anonymous(_));
        if e.kind() == ErrorKind::TokenExpired && !renewable {
            return Step::Fail(e);
        }
        match self.budget.on_error(now_ms, e.kind()) {
            RetryDecision::Reauthenticate => {
                let stale = self.token().map(str::to_owned);
                self.authenticate(stale)
            }
            RetryDecision::RetryAt { at_ms } if at_ms > now_ms => {
                self.phase = Phase::Waiting;
                Step::WaitUntil { at_ms }
            }
            RetryDecision::RetryAt { .. } => self.send(),
            RetryDecision::GiveUp => Step::Fail(e),
        }
    }

    fn authenticate(&mut self, stale: Option<String>) -> Step {
        self.phase = Phase::Authenticating;
        Step::Authenticate { stale }
    }

    fn send(&mut self) -> Step {
        self.phase = Phase::Sending;
        Step::Send {
            token: self.token().map(str::to_owned),
        }
    }
}

// ---- One shared token request ----------------------------------------------

/// What a caller asking [`TokenGate::request`] for a token does.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub enum Ticket {
    /// Use this token.
    Ready(String),
    /// Start token request number `n` and wait for it (the caller is its
    /// first waiter).
    Start(u32),
    /// Wait for token request number `n`, already in flight.
    Join(u32),
    /// The integrator's token was refused: report the 1001, do not swap
    /// identities.
    Refused,
}

/// The token request in flight.
#[derive(Clone, Copy)]
#[cfg_attr(test, derive(Debug))]
struct Pending {
    number: u32,
    waiters: u32,
}

/// The client's token and the one token request that replaces it, shared
/// by every request that needs it.
///
/// - A caller whose request was refused with token `t` asks for a token
///   replacing `t`. If `t` was already replaced, it gets the current token
///   at once; the first such caller starts one token request and the
///   others join it, so a burst of 1001s costs one token call.
/// - A waiter that gives up (its own signal) leaves without stopping the
///   request for the others; the last waiter to give up stops it
///   ([`leave`](Self::leave) says so), and the next caller starts a new one
///   instead of joining the abandoned one.
/// - A request that finishes, well or not, no longer takes waiters; a
///   success is the new token.
///
/// The shell keeps the promise of the request in flight next to the
/// request's number; the gate keeps the rules.
#[cfg_attr(test, derive(Debug))]
pub struct TokenGate {
    token: Option<String>,
    /// Whether the token is the anonymous one (renewable). An integrator's
    /// token is theirs to renew.
    anonymous: bool,
    pending: Option<Pending>,
    next: u32,
}

impl TokenGate {
    /// A gate holding the integrator's `given` token, or none yet (then the
    /// tokens are anonymous ones, fetched on demand).
    pub fn new(given: Option<String>) -> Self {
        TokenGate {
            anonymous: given.is_none(),
            token: given,
            pending: None,
            next: 0,
        }
    }

    /// The current token, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// What a request is sent with: no token when not `authenticated`,
    /// else the current token and whose it is.
    pub fn credential(&self, authenticated: bool) -> Credential {
        match (&self.token, authenticated, self.anonymous) {
            (_, false, _) => Credential::None,
            (Some(t), true, false) => Credential::Given(t.clone()),
            (t, true, _) => Credential::Anonymous(t.clone()),
        }
    }

    /// An anonymous token found in storage.
    pub fn restore(&mut self, token: String) {
        self.token = Some(token);
        self.anonymous = true;
    }

    /// A caller needs a token: any (`stale: None`) or one replacing `stale`.
    pub fn request(&mut self, stale: Option<&str>) -> Ticket {
        if let Some(cur) = &self.token {
            if stale.is_none_or(|s| s != cur) {
                return Ticket::Ready(cur.clone());
            }
        }
        if stale.is_some() && !self.anonymous {
            return Ticket::Refused;
        }
        // The refused token is gone for everyone: later callers join the
        // request instead of sending with it.
        self.token = None;
        match &mut self.pending {
            Some(p) => {
                p.waiters += 1;
                Ticket::Join(p.number)
            }
            None => {
                let number = self.next;
                self.next = number.wrapping_add(1);
                self.pending = Some(Pending { number, waiters: 1 });
                Ticket::Start(number)
            }
        }
    }

    /// A waiter of request `number` stops waiting: it got the token, or it
    /// `gave_up`. True when the request should be stopped: the last
    /// waiter gave up, and it no longer takes waiters.
    pub fn leave(&mut self, number: u32, gave_up: bool) -> bool {
        let Some(p) = self.pending.as_mut().filter(|p| p.number == number) else {
            return false;
        };
        p.waiters = p.waiters.saturating_sub(1);
        if gave_up && p.waiters == 0 {
            self.pending = None;
            return true;
        }
        false
    }

    /// Request `number` finished with `token` (`None`: it failed). True
    /// when it was the request in flight (the shell drops its promise).
    pub fn finish(&mut self, number: u32, token: Option<String>) -> bool {
        if let Some(t) = token {
            self.token = Some(t);
            self.anonymous = true;
        }
        let current = self.pending.is_some_and(|p| p.number == number);
        if current {
            self.pending = None;
        }
        current
    }

    /// The number of the request in flight, if any.
    pub fn in_flight(&self) -> Option<u32> {
        self.pending.map(|p| p.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A test clock: every reply comes `step_ms` after the previous one.
    struct Clock {
        now: u64,
    }

    impl Clock {
        fn tick(&mut self, ms: u64) -> u64 {
            self.now += ms;
            self.now
        }
    }

    fn timing() -> Timing {
        Timing::default()
    }

    fn anon(t: &str) -> Credential {
        Credential::Anonymous(Some(t.into()))
    }

    fn send(t: &str) -> Step {
        Step::Send {
            token: Some(t.into()),
        }
    }

    fn reply(now_ms: u64, result: Result<(), Error>) -> Input {
        Input::Reply {
            now_ms,
            result,
            aborted: false,
        }
    }

    fn expired() -> Error {
        Error::token_expired()
    }

    fn limited() -> Error {
        Error::rate_limited(30_000)
    }

    fn timeout() -> Error {
        Error::request_timeout(60_000)
    }

    fn kind(step: &Step) -> Option<ErrorKind> {
        match step {
            Step::Fail(e) => Some(e.kind()),
            _ => None,
        }
    }

    #[test]
    fn success_at_once() {
        let mut ex = Exchange::new(&timing(), true, anon("T"));
        assert_eq!(ex.handle(Input::Start), send("T"));
        assert_eq!(ex.handle(reply(0, Ok(()))), Step::Done);
        assert_eq!(ex.retries(), 0);
    }

    #[test]
    fn no_token_yet_gets_one_first() {
        let mut ex = Exchange::new(&timing(), false, Credential::Anonymous(None));
        assert_eq!(ex.handle(Input::Start), Step::Authenticate { stale: None });
        assert_eq!(ex.handle(Input::Token("T".into())), send("T"));
        assert_eq!(ex.handle(reply(0, Ok(()))), Step::Done);
    }

    #[test]
    fn code_1001_then_success_is_one_reauth_and_one_resend() {
        let mut clock = Clock { now: 1_000 };
        let mut ex = Exchange::new(&timing(), false, anon("T1"));
        assert_eq!(ex.handle(Input::Start), send("T1"));
        assert_eq!(
            ex.handle(reply(clock.tick(5), Err(expired()))),
            Step::Authenticate {
                stale: Some("T1".into())
            }
        );
        assert_eq!(ex.handle(Input::Token("T2".into())), send("T2"));
        assert_eq!(ex.handle(reply(clock.tick(5), Ok(()))), Step::Done);
        assert_eq!(ex.retries(), 1);
        assert_eq!(ex.token(), Some("T2"));
    }

    #[test]
    fn code_1001_twice_returns_the_second() {
        let mut ex = Exchange::new(&timing(), true, anon("T1"));
        ex.handle(Input::Start);
        ex.handle(reply(0, Err(expired())));
        assert_eq!(ex.handle(Input::Token("T2".into())), send("T2"));
        let second = expired().with_status(401);
        assert_eq!(
            ex.handle(reply(10, Err(second.clone()))),
            Step::Fail(second),
            "the second 1001 is the answer, as it came"
        );
    }

    #[test]
    fn reauth_after_the_token_was_already_replaced_uses_the_new_one() {
        // Request A was sent with T1; meanwhile request B re-authenticated
        // and the client now holds T2. A's 1001 asks for a token replacing
        // T1: the gate hands over T2 without a token call.
        let mut gate = TokenGate::new(None);
        gate.restore("T1".into());
        let mut a = Exchange::new(&timing(), true, gate.credential(true));
        assert_eq!(a.handle(Input::Start), send("T1"));
        assert_eq!(gate.request(Some("T1")), Ticket::Start(0));
        assert!(gate.finish(0, Some("T2".into())));
        let Step::Authenticate { stale } = a.handle(reply(3, Err(expired()))) else {
            panic!("A re-authenticates");
        };
        assert_eq!(stale.as_deref(), Some("T1"));
        assert_eq!(
            gate.request(stale.as_deref()),
            Ticket::Ready("T2".into()),
            "no second token call"
        );
        assert_eq!(a.handle(Input::Token("T2".into())), send("T2"));
        assert_eq!(a.handle(reply(4, Ok(()))), Step::Done);
    }

    #[test]
    fn several_requests_share_one_reauthentication() {
        let mut gate = TokenGate::new(None);
        gate.restore("T1".into());
        let mut ex: Vec<Exchange> = (0..3)
            .map(|i| Exchange::new(&timing(), i % 2 == 0, gate.credential(true)))
            .collect();
        let mut tickets = Vec::new();
        for e in &mut ex {
            assert_eq!(e.handle(Input::Start), send("T1"));
        }
        for e in &mut ex {
            let Step::Authenticate { stale } = e.handle(reply(1, Err(expired()))) else {
                panic!("re-authenticates");
            };
            tickets.push(gate.request(stale.as_deref()));
        }
        assert_eq!(
            tickets,
            [Ticket::Start(0), Ticket::Join(0), Ticket::Join(0)],
            "the first starts the one token request, the others join it"
        );
        assert_eq!(gate.token(), None, "nobody sends with the refused token");
        assert!(gate.finish(0, Some("T2".into())));
        for e in &mut ex {
            assert!(!gate.leave(0, false));
            assert_eq!(e.handle(Input::Token("T2".into())), send("T2"));
            assert_eq!(e.handle(reply(2, Ok(()))), Step::Done);
        }
        // A later caller with the old token gets the new one at once.
        assert_eq!(gate.request(Some("T1")), Ticket::Ready("T2".into()));
        assert_eq!(gate.request(None), Ticket::Ready("T2".into()));
    }

    #[test]
    fn a_waiter_giving_up_does_not_stop_the_others() {
        let mut gate = TokenGate::new(None);
        assert_eq!(gate.request(None), Ticket::Start(0));
        assert_eq!(gate.request(None), Ticket::Join(0));
        assert_eq!(gate.request(None), Ticket::Join(0));
        assert!(!gate.leave(0, true), "two still wait");
        assert!(!gate.leave(0, true), "one still waits");
        assert_eq!(gate.in_flight(), Some(0));
        assert!(gate.finish(0, Some("T".into())));
        assert!(!gate.leave(0, false));
        assert_eq!(gate.token(), Some("T"));
        assert_eq!(gate.in_flight(), None);
    }

    #[test]
    fn the_last_waiter_giving_up_stops_the_request() {
        let mut gate = TokenGate::new(None);
        assert_eq!(gate.request(None), Ticket::Start(0));
        assert_eq!(gate.request(None), Ticket::Join(0));
        assert!(!gate.leave(0, true));
        assert!(gate.leave(0, true), "the last one out stops it");
        assert_eq!(gate.in_flight(), None);
        // The next caller starts anew rather than joining the abandoned one,
        // whose late end changes nothing about the new one.
        assert_eq!(gate.request(None), Ticket::Start(1));
        assert!(!gate.finish(0, None), "not the request in flight");
        assert_eq!(gate.in_flight(), Some(1));
        assert!(gate.finish(1, Some("T".into())));
        assert_eq!(gate.request(None), Ticket::Ready("T".into()));
    }

    #[test]
    fn a_failed_token_request_takes_no_more_waiters() {
        let mut gate = TokenGate::new(None);
        assert_eq!(gate.request(None), Ticket::Start(0));
        assert!(gate.finish(0, None));
        assert_eq!(gate.token(), None);
        assert_eq!(gate.request(None), Ticket::Start(1));
    }

    #[test]
    fn the_integrators_token_is_never_swapped() {
        let mut gate = TokenGate::new(Some("given".into()));
        assert_eq!(gate.credential(true), Credential::Given("given".into()));
        assert_eq!(gate.credential(false), Credential::None);
        assert_eq!(gate.request(None), Ticket::Ready("given".into()));
        assert_eq!(gate.request(Some("given")), Ticket::Refused);
        assert_eq!(gate.token(), Some("given"));

        let mut ex = Exchange::new(&timing(), true, gate.credential(true));
        assert_eq!(ex.handle(Input::Start), send("given"));
        let e = expired().with_status(200);
        assert_eq!(
            ex.handle(reply(0, Err(e.clone()))),
            Step::Fail(e),
            "the 1001 is reported, without a re-authentication"
        );
        assert_eq!(ex.retries(), 0);
    }

    #[test]
    fn code_429_then_success_waits_the_rate_limit_wait() {
        let mut clock = Clock { now: 10_000 };
        let mut ex = Exchange::new(&timing(), false, anon("T"));
        ex.handle(Input::Start);
        let now = clock.tick(7);
        assert_eq!(
            ex.handle(reply(now, Err(limited()))),
            Step::WaitUntil {
                at_ms: now + 30_000
            }
        );
        assert_eq!(ex.handle(Input::Waited), send("T"));
        assert_eq!(ex.handle(reply(clock.tick(30_010), Ok(()))), Step::Done);
    }

    #[test]
    fn code_429_twice_is_rate_limited() {
        let mut ex = Exchange::new(&timing(), true, anon("T"));
        ex.handle(Input::Start);
        assert!(matches!(
            ex.handle(reply(0, Err(limited()))),
            Step::WaitUntil { at_ms: 30_000 }
        ));
        ex.handle(Input::Waited);
        let step = ex.handle(reply(30_001, Err(limited())));
        assert_eq!(kind(&step), Some(ErrorKind::RateLimited));
    }

    #[test]
    fn rate_limit_retries_and_wait_come_from_the_timing() {
        let t = Timing {
            rate_limit_retries: 2,
            rate_limit_wait_ms: 500,
            ..Timing::default()
        };
        let mut ex = Exchange::new(&t, false, anon("T"));
        ex.handle(Input::Start);
        assert_eq!(
            ex.handle(reply(100, Err(limited()))),
            Step::WaitUntil { at_ms: 600 }
        );
        ex.handle(Input::Waited);
        assert_eq!(
            ex.handle(reply(700, Err(limited()))),
            Step::WaitUntil { at_ms: 1_200 }
        );
        ex.handle(Input::Waited);
        let step = ex.handle(reply(1_300, Err(limited())));
        assert_eq!(kind(&step), Some(ErrorKind::RateLimited));
        assert_eq!(ex.retries(), 2);
    }

    #[test]
    fn code_1001_then_429_then_success() {
        let mut ex = Exchange::new(&timing(), false, anon("T1"));
        ex.handle(Input::Start);
        assert!(matches!(
            ex.handle(reply(0, Err(expired()))),
            Step::Authenticate { .. }
        ));
        ex.handle(Input::Token("T2".into()));
        assert_eq!(
            ex.handle(reply(1, Err(limited()))),
            Step::WaitUntil { at_ms: 30_001 }
        );
        assert_eq!(ex.handle(Input::Waited), send("T2"));
        assert_eq!(ex.handle(reply(30_002, Ok(()))), Step::Done);
    }

    #[test]
    fn a_get_that_timed_out_is_sent_once_more_at_once() {
        let mut ex = Exchange::new(&timing(), true, anon("T"));
        ex.handle(Input::Start);
        assert_eq!(ex.handle(reply(60_000, Err(timeout()))), send("T"));
        let step = ex.handle(reply(120_000, Err(timeout())));
        assert_eq!(kind(&step), Some(ErrorKind::Timeout), "only once");

        let mut ex = Exchange::new(&timing(), true, anon("T"));
        ex.handle(Input::Start);
        ex.handle(reply(60_000, Err(timeout())));
        assert_eq!(ex.handle(reply(60_005, Ok(()))), Step::Done);
    }

    #[test]
    fn a_post_that_timed_out_is_never_sent_again() {
        let mut ex = Exchange::new(&timing(), false, anon("T"));
        ex.handle(Input::Start);
        let e = timeout();
        assert_eq!(ex.handle(reply(60_000, Err(e.clone()))), Step::Fail(e));
    }

    #[test]
    fn a_network_error_is_not_retried() {
        for idempotent in [false, true] {
            let mut ex = Exchange::new(&timing(), idempotent, anon("T"));
            ex.handle(Input::Start);
            let e = Error::network("connection reset");
            assert_eq!(
                ex.handle(reply(5, Err(e.clone()))),
                Step::Fail(e),
                "idempotent: {idempotent}"
            );
        }
    }

    #[test]
    fn other_errors_are_the_answer() {
        for e in [
            Error::session_not_found(),
            Error::out_of_credits("https://w", Some("u")),
            Error::export_blocked(),
            Error::protocol("HTML"),
        ] {
            let mut ex = Exchange::new(&timing(), true, anon("T"));
            ex.handle(Input::Start);
            assert_eq!(ex.handle(reply(0, Err(e.clone()))), Step::Fail(e));
        }
    }

    #[test]
    fn the_callers_own_time_out_is_not_answered_with_a_resend() {
        let mut ex = Exchange::new(&timing(), true, anon("T"));
        ex.handle(Input::Start);
        let e = Error::timeout("signal timed out");
        assert_eq!(
            ex.handle(Input::Reply {
                now_ms: 0,
                result: Err(e.clone()),
                aborted: true,
            }),
            Step::Fail(e)
        );
    }

    #[test]
    fn the_token_call_waits_out_a_429_and_never_reauthenticates() {
        let mut ex = Exchange::new(&timing(), false, Credential::None);
        assert_eq!(ex.handle(Input::Start), Step::Send { token: None });
        assert_eq!(
            ex.handle(reply(0, Err(limited()))),
            Step::WaitUntil { at_ms: 30_000 }
        );
        assert_eq!(ex.handle(Input::Waited), Step::Send { token: None });
        let step = ex.handle(reply(30_000, Err(expired())));
        assert_eq!(kind(&step), Some(ErrorKind::TokenExpired));

        let mut ex = Exchange::new(&timing(), false, Credential::None);
        ex.handle(Input::Start);
        let step = ex.handle(reply(0, Err(timeout())));
        assert_eq!(kind(&step), Some(ErrorKind::Timeout), "a POST");
    }

    #[test]
    fn the_stream_request_follows_the_same_rule() {
        // POST /run_sse: 1001 → re-auth → 429 → wait → the stream (2xx,
        // not JSON) is the success.
        let mut gate = TokenGate::new(None);
        let mut ex = Exchange::new(&timing(), false, gate.credential(true));
        let Step::Authenticate { stale } = ex.handle(Input::Start) else {
            panic!("a token first");
        };
        assert_eq!(gate.request(stale.as_deref()), Ticket::Start(0));
        gate.finish(0, Some("T1".into()));
        assert_eq!(ex.handle(Input::Token("T1".into())), send("T1"));
        let Step::Authenticate { stale } = ex.handle(reply(1, Err(expired()))) else {
            panic!("re-authenticates");
        };
        assert_eq!(gate.request(stale.as_deref()), Ticket::Start(1));
        gate.finish(1, Some("T2".into()));
        assert_eq!(ex.handle(Input::Token("T2".into())), send("T2"));
        assert_eq!(
            ex.handle(reply(2, Err(limited()))),
            Step::WaitUntil { at_ms: 30_002 }
        );
        assert_eq!(ex.handle(Input::Waited), send("T2"));
        assert_eq!(ex.handle(reply(30_003, Ok(()))), Step::Done);
        // A stream that timed out (a POST) is not re-sent either.
        let mut ex = Exchange::new(&timing(), false, anon("T"));
        ex.handle(Input::Start);
        assert_eq!(
            kind(&ex.handle(reply(0, Err(timeout())))),
            Some(ErrorKind::Timeout)
        );
    }

    #[test]
    fn abort_at_each_step() {
        let aborted = Some(ErrorKind::Aborted);
        // Before the start.
        let mut ex = Exchange::new(&timing(), true, anon("T"));
        assert_eq!(kind(&ex.handle(Input::Aborted)), aborted);
        // While getting the first token.
        let mut ex = Exchange::new(&timing(), true, Credential::Anonymous(None));
        ex.handle(Input::Start);
        assert_eq!(kind(&ex.handle(Input::Aborted)), aborted);
        // While the request is out: the reply is an abort.
        let mut ex = Exchange::new(&timing(), true, anon("T"));
        ex.handle(Input::Start);
        let reply = Input::Reply {
            now_ms: 0,
            result: Err(Error::aborted()),
            aborted: true,
        };
        assert_eq!(kind(&ex.handle(reply)), aborted);
        // While re-authenticating.
        let mut ex = Exchange::new(&timing(), true, anon("T"));
        ex.handle(Input::Start);
        ex.handle(reply_err(expired()));
        assert_eq!(kind(&ex.handle(Input::Aborted)), aborted);
        // While waiting out a 429.
        let mut ex = Exchange::new(&timing(), true, anon("T"));
        ex.handle(Input::Start);
        ex.handle(reply_err(limited()));
        assert_eq!(kind(&ex.handle(Input::Aborted)), aborted);
        // A 1001 that arrives after the caller aborted is not re-authenticated.
        let mut ex = Exchange::new(&timing(), true, anon("T"));
        ex.handle(Input::Start);
        let step = ex.handle(Input::Reply {
            now_ms: 0,
            result: Err(expired()),
            aborted: true,
        });
        assert_eq!(kind(&step), Some(ErrorKind::TokenExpired));
    }

    fn reply_err(e: Error) -> Input {
        reply(0, Err(e))
    }

    #[test]
    fn a_failed_token_request_fails_the_exchange() {
        let mut ex = Exchange::new(&timing(), true, Credential::Anonymous(None));
        ex.handle(Input::Start);
        let e = Error::network("offline");
        assert_eq!(ex.handle(Input::Failed(e.clone())), Step::Fail(e));
    }

    #[test]
    fn inputs_out_of_turn_end_the_exchange() {
        let mut ex = Exchange::new(&timing(), true, anon("T"));
        assert_eq!(kind(&ex.handle(Input::Waited)), Some(ErrorKind::Protocol));
        assert_eq!(
            kind(&ex.handle(Input::Start)),
            Some(ErrorKind::Protocol),
            "ended"
        );
        let mut ex = Exchange::new(&timing(), true, anon("T"));
        ex.handle(Input::Start);
        ex.handle(reply(0, Ok(())));
        assert_eq!(
            kind(&ex.handle(reply(1, Ok(())))),
            Some(ErrorKind::Protocol)
        );
    }

    #[test]
    fn no_retry_budget_means_no_retries() {
        let t = Timing {
            rate_limit_retries: 0,
            reauth_retries: 0,
            timeout_retries: 0,
            ..Timing::default()
        };
        for e in [expired(), limited(), timeout()] {
            let mut ex = Exchange::new(&t, true, anon("T"));
            ex.handle(Input::Start);
            assert_eq!(ex.handle(reply(0, Err(e.clone()))), Step::Fail(e));
        }
    }
}
