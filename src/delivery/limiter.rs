//! An in-flight limit that adapts to Twilio's 429s the way TCP adapts its congestion window.
//!
//! Twilio's concurrency limit belongs to the account, and every process sending for that account
//! (several Logto replicas, a back-office tool) shares it without knowing about the others. A
//! fixed limit per process is either too low for one replica or too high for eight. So each
//! process keeps, per credential (`limiters` says why not per account), a window: at most `window` requests in flight, starting at the configured
//! ceiling; a 429 halves it (at most once per round trip: only a request admitted after the
//! last cut can cut again, as TCP cuts once per window of data); each delivered request adds
//! `1 / window`, about one slot per round trip, back up to the ceiling. Additive increase and
//! multiplicative decrease make processes that share one limit converge to fair shares of it,
//! with no coordination between them.
//!
//! Waiting sends are admitted in arrival order. A send keeps its place in line across its
//! retries: after a backoff it is admitted before anyone who arrived after it. It does not hold
//! its slot while it sleeps, though: slots held by sleeping sends would all come back at once
//! when they wake, at the window they had before the cut, which is exactly the load the cut is
//! meant to remove. Giving the slot back lets the cut take effect at once, and the place in
//! line keeps the retry from starving behind newer sends.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::oneshot;

pub struct Limiter {
    ceiling: usize,
    state: Mutex<State>,
}

struct State {
    /// How many requests may be in flight, in `[1, ceiling]`; fractional so that growth by
    /// `1 / window` per delivery adds up to one slot per round trip.
    window: f64,
    in_flight: usize,
    /// Admissions so far; each admitted request carries its number.
    admitted: u64,
    /// A 429 on a request admitted at or before this number belongs to a round already cut.
    cut_after: u64,
    /// Places in line handed out so far.
    arrivals: u64,
    /// Sends waiting for a slot, by place in line; the sender carries the admission number.
    waiting: BTreeMap<u64, oneshot::Sender<u64>>,
}

/// A send's position in the line of its account: taken once, kept across retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place(u64);

impl Limiter {
    pub fn new(ceiling: usize) -> Limiter {
        let ceiling = ceiling.max(1);
        Limiter {
            ceiling,
            state: Mutex::new(State {
                window: ceiling as f64,
                in_flight: 0,
                admitted: 0,
                cut_after: 0,
                arrivals: 0,
                waiting: BTreeMap::new(),
            }),
        }
    }

    #[cfg(test)]
    pub fn ceiling(&self) -> usize {
        self.ceiling
    }

    /// The current limit, in whole requests.
    #[cfg(test)]
    pub fn window(&self) -> usize {
        self.lock().slots()
    }

    #[cfg(test)]
    pub fn in_flight(&self) -> usize {
        self.lock().in_flight
    }

    /// No request in flight, nobody waiting, the window at its ceiling: a fresh limiter would
    /// behave the same.
    pub fn at_rest(&self) -> bool {
        let state = self.lock();
        state.in_flight == 0 && state.waiting.is_empty() && state.window == self.ceiling as f64
    }

    /// A slot, admitted without waiting; panics if the window is full.
    #[cfg(test)]
    pub(crate) fn admit_now(&self) -> Slot<'_> {
        use std::future::Future;
        use std::task::{Context, Poll, Waker};
        let admit = std::pin::pin!(self.admit(self.enqueue()));
        match admit.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(slot) => slot,
            Poll::Pending => panic!("no free slot"),
        }
    }

    /// A place at the end of the line.
    pub fn enqueue(&self) -> Place {
        let mut state = self.lock();
        state.arrivals += 1;
        Place(state.arrivals)
    }

    /// Waits until `place` is first in line and the window has room. Cancel-safe: dropping
    /// the future leaves the line, or gives back a slot granted in the meantime.
    pub async fn admit(&self, place: Place) -> Slot<'_> {
        let receiver = {
            let mut state = self.lock();
            let first = state
                .waiting
                .keys()
                .next()
                .is_none_or(|&next| next > place.0);
            if first && state.in_flight < state.slots() {
                let admission = state.take_slot();
                return Slot {
                    limiter: self,
                    admission,
                    ended: false,
                };
            }
            let (sender, receiver) = oneshot::channel();
            state.waiting.insert(place.0, sender);
            receiver
        };
        let mut waiting = Waiting {
            limiter: self,
            place,
            receiver,
            admitted: false,
        };
        // The sender lives in `waiting` (the map) until it is used, and `Waiting` owns the
        // receiver, so this cannot fail while the limiter lives.
        let admission = (&mut waiting.receiver)
            .await
            .expect("a waiting send is only removed from the line by itself or by a grant");
        waiting.admitted = true;
        Slot {
            limiter: self,
            admission,
            ended: false,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every await point, so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn release(&self, adjust: impl FnOnce(&mut State)) {
        let mut state = self.lock();
        adjust(&mut state);
        state.in_flight -= 1;
        state.grant(self.ceiling);
    }
}

impl State {
    fn slots(&self) -> usize {
        (self.window as usize).max(1)
    }

    fn take_slot(&mut self) -> u64 {
        self.in_flight += 1;
        self.admitted += 1;
        self.admitted
    }

    /// Admits waiting sends, first in line first, while the window has room.
    fn grant(&mut self, ceiling: usize) {
        debug_assert!(self.window >= 1.0 && self.window <= ceiling as f64);
        while self.in_flight < self.slots() {
            let Some((_, sender)) = self.waiting.pop_first() else {
                return;
            };
            let admission = self.take_slot();
            // The receiver is alive: a waiter leaves the line under this lock before dropping it.
            if sender.send(admission).is_err() {
                self.in_flight -= 1;
            }
        }
    }
}

/// A send in line. Dropped before its grant, it leaves the line; dropped after, it gives the
/// granted slot back.
struct Waiting<'a> {
    limiter: &'a Limiter,
    place: Place,
    receiver: oneshot::Receiver<u64>,
    admitted: bool,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if self.admitted {
            return;
        }
        let mut state = self.limiter.lock();
        if state.waiting.remove(&self.place.0).is_none() {
            // Granted while being cancelled: the slot is ours to return.
            state.in_flight -= 1;
            state.grant(self.limiter.ceiling);
        }
    }
}

/// One request's right to be in flight. Report how it ended with `delivered` or `throttled`;
/// dropped without either (a timeout, any other failure), it frees the slot and leaves the
/// window as it is.
pub struct Slot<'a> {
    limiter: &'a Limiter,
    admission: u64,
    ended: bool,
}

impl Slot<'_> {
    /// The request was delivered: grow the window by one slot per window's worth of
    /// deliveries, up to the ceiling.
    pub fn delivered(mut self) {
        self.ended = true;
        let ceiling = self.limiter.ceiling as f64;
        self.limiter.release(|state| {
            state.window = (state.window + 1.0 / state.window).min(ceiling);
        });
    }

    /// Twilio answered 429: halve the window, unless a request admitted after this one was
    /// already cut for (the same overload reported twice).
    pub fn throttled(mut self) {
        self.ended = true;
        let admission = self.admission;
        self.limiter.release(|state| {
            if admission > state.cut_after {
                state.window = (state.window / 2.0).max(1.0);
                state.cut_after = state.admitted;
            }
        });
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        if !self.ended {
            self.limiter.release(|_| {});
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Polls `future` once: `Some` if it is ready without waiting.
    fn now<F: Future>(future: F) -> Option<F::Output> {
        let mut future = pin!(future);
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(value) => Some(value),
            Poll::Pending => None,
        }
    }

    fn admit_now(limiter: &Limiter) -> Slot<'_> {
        now(limiter.admit(limiter.enqueue())).expect("admitted at once")
    }

    #[test]
    fn starts_at_the_ceiling_and_never_admits_past_the_window() {
        let limiter = Limiter::new(3);
        let slots: Vec<_> = (0..3).map(|_| admit_now(&limiter)).collect();
        assert_eq!(limiter.in_flight(), 3);
        assert!(now(limiter.admit(limiter.enqueue())).is_none());
        drop(slots);
        assert_eq!(limiter.in_flight(), 0);
    }

    #[test]
    fn a_429_halves_the_window_once_per_round() {
        let limiter = Limiter::new(40);
        let round: Vec<_> = (0..40).map(|_| admit_now(&limiter)).collect();
        // Every request of the round is refused: one cut, not forty.
        for slot in round {
            slot.throttled();
        }
        assert_eq!(limiter.window(), 20);
        // A request admitted after the cut that is refused too: the next round, cut again.
        admit_now(&limiter).throttled();
        assert_eq!(limiter.window(), 10);
    }

    #[test]
    fn the_window_never_falls_below_one() {
        let limiter = Limiter::new(4);
        for _ in 0..10 {
            admit_now(&limiter).throttled();
        }
        assert_eq!(limiter.window(), 1);
        // One request can always go.
        let slot = admit_now(&limiter);
        assert!(now(limiter.admit(limiter.enqueue())).is_none());
        drop(slot);
    }

    #[test]
    fn deliveries_grow_it_back_by_about_one_per_round_up_to_the_ceiling() {
        let limiter = Limiter::new(16);
        for _ in 0..3 {
            admit_now(&limiter).throttled();
        }
        assert_eq!(limiter.window(), 2);
        // +1/window per delivery: 2 + 1/2 + 1/2.5 = 2.9 after a round of two, 3.24 after
        // one more.
        admit_now(&limiter).delivered();
        admit_now(&limiter).delivered();
        assert_eq!(limiter.window(), 2);
        admit_now(&limiter).delivered();
        assert_eq!(limiter.window(), 3);
        for _ in 0..1000 {
            admit_now(&limiter).delivered();
        }
        assert_eq!(
            limiter.window(),
            16,
            "the configured limit stays the ceiling"
        );
        // Other endings leave the window alone.
        drop(admit_now(&limiter));
        assert_eq!(limiter.window(), 16);
    }

    /// Polls a pinned future once.
    fn poll<F: Future>(future: &mut std::pin::Pin<&mut F>) -> Option<F::Output> {
        match future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
        {
            Poll::Ready(value) => Some(value),
            Poll::Pending => None,
        }
    }

    #[test]
    fn waiters_are_admitted_in_order_and_a_retry_keeps_its_place() {
        let limiter = Limiter::new(1);
        let first = limiter.enqueue();
        let slot = now(limiter.admit(first)).unwrap();
        let (b, c) = (limiter.enqueue(), limiter.enqueue());
        let mut b_waits = pin!(limiter.admit(b));
        let mut c_waits = pin!(limiter.admit(c));
        assert!(poll(&mut b_waits).is_none() && poll(&mut c_waits).is_none());

        // `first` is refused: its slot goes to b, the next in line, not to c.
        slot.throttled();
        let b_slot = poll(&mut b_waits).expect("b is next");
        assert!(poll(&mut c_waits).is_none());

        // `first` comes back from its backoff: behind b, who holds the slot, but before c.
        let mut retry = pin!(limiter.admit(first));
        assert!(poll(&mut retry).is_none());
        drop(b_slot);
        assert!(
            poll(&mut c_waits).is_none(),
            "c overtook a retry that arrived before it"
        );
        let retry_slot = poll(&mut retry).expect("the retry kept its place");
        drop(retry_slot);
        assert!(poll(&mut c_waits).is_some());
    }

    #[test]
    fn a_cancelled_waiter_leaves_the_line_and_frees_any_slot_it_was_granted() {
        let limiter = Limiter::new(1);
        let slot = admit_now(&limiter);
        let place = limiter.enqueue();
        {
            let mut waiting = pin!(limiter.admit(place));
            assert!(waiting
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending());
            // Granted the slot, then dropped before it looks.
            drop(slot);
            assert_eq!(limiter.in_flight(), 1);
        }
        assert_eq!(limiter.in_flight(), 0);
        // Dropped while still waiting: the line is empty again.
        let slot = admit_now(&limiter);
        drop(now(limiter.admit(limiter.enqueue())));
        drop(slot);
        assert_eq!(limiter.in_flight(), 0);
        assert!(limiter.lock().waiting.is_empty());
    }
}
