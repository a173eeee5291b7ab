"""The limiter's arithmetic, free of I/O: every method takes the time as an argument.

One :class:`BucketState` per token. It is a GCRA token bucket (a single "theoretical arrival
time" instead of a token count, so it needs no background refill and maps onto one Redis key
later) whose rate is re-derived from every response:

* Each advertised window (``limit``, ``remaining``, time to reset) leaves
  ``usable = remaining - in-flight - reserve`` requests, paced
  ``(usable + 1) / time-to-reset`` per second (one interval apart, the last one interval
  before the reset); the lowest pace binds.
  That spends a window's budget evenly over what is left of it, so a long window (an hour, a
  day) never burns out in a burst and leaves pollers idle until it resets.
* A window with nothing left closes a gate until it resets; so does ``Retry-After`` on a 429
  (or a 503), and the gate holds every waiter, not only the request that was refused. A
  ``Retry-After`` longer than ``max_wait`` closes it for ``max_wait`` only: the request told
  so fails at once, and a hostile value cannot hold every other request for years.
* The first request goes alone; its answer sets the pace for the rest. Without any header, the
  rate is the configured polite start; a 429 without any header halves it, and it climbs back
  linearly (AIMD).
* Far from every limit (each window has over four times more left than will be sent before
  the next reading), up to 32 successful responses in a row may go unread.
* Kong-style ``X-RateLimit-*-Minute`` windows carry no reset; they are fixed windows, so the
  time to reset is estimated from the wall clock, first as if aligned to it. That guess (the
  window's *phase*) is checked against the counts and re-learned when they contradict it: a
  ``remaining`` that jumps up (by more than answers out of order can explain) means a window
  began by now, and its start is taken as now, never earlier than it was; an answer counted in
  the old window by a request sent after the expected boundary (a low count, or a 429) means
  the server's window has not reset yet. Until one answer has confirmed the phase, an expected
  boundary lets one request through to see whether the window did reset, instead of a burst
  sized for a fresh window. Answers of requests sent before a boundary that land after it are
  counted in the old window; they are recognised and set aside.
* Never more requests are sent between two readings than the tightest window had left at the
  first (less those then in flight and the reserve): the pace alone, between two answers, could
  spend a window twice, and answers left unread still spent their share.
"""

from __future__ import annotations

import math

import attrs

from ..config import RateLimitConfig
from .headers import SOURCE_X_WINDOW, Observation, RateLimitSnapshot

__all__ = ["BucketState", "RateLimitView"]

_EPSILON = 1e-9  # seconds
_MIN_HORIZON = 0.05  # seconds; below this a window's reset is "now"
_BURST_TIME = 0.05  # seconds of pace a full bucket holds, at the least `burst` requests
_MAX_QUIET = 32  # responses; an upper bound on how stale the view may get
# Seconds to wait for an answer (the probe's, or one that frees room in a window). An answer
# wakes this process's waiters at once; those of other processes on a shared backend hear of
# it only by asking again, so they ask this often.
_PROBE_WAIT = 0.05
_BOUNDARY_TEST = 1.0  # seconds a guessed boundary is tested one request at a time, at most
_UNPACED_FALLBACK = 10.0  # req/s assumed when an unpaced client meets a header-less 429


@attrs.frozen
class RateLimitView:
    """What the server last said, merged: the window that binds now and the pace it allows."""

    #: Header family of the binding window (``"ietf-fields"``, ``"x-ratelimit-window"``, ...),
    #: ``None`` when the server has advertised nothing.
    source: str | None
    policy: str | None
    window: float | None
    limit: int | None
    remaining: int | None
    #: Seconds until the binding window resets (as of when the view was taken).
    reset_after: float | None
    #: The pace the limiter applies now, in requests per second (``None``: unpaced).
    rate: float | None
    #: Seconds until the gate opens (a Retry-After, or an exhausted window); 0 when open.
    blocked_for: float
    #: Requests sent and not yet answered.
    in_flight: int


@attrs.define
class _Window:
    source: str
    policy: str | None
    window: float | None
    limit: int | None
    remaining: int | None
    reset_at: float | None  # monotonic
    #: For a window whose reset is estimated from the clock: when its periods start (wall
    #: seconds modulo the window); ``None`` for windows whose reset the server sends.
    phase: float | None = None
    #: Whether an answer has confirmed (or taught) the phase.
    confirmed: bool = False
    #: ``remaining`` as last taken from an answer (the rollover does not change it).
    seen: int | None = None
    #: A rollover expected from the phase, not yet confirmed by an answer; then the grants
    #: count at that rollover, the requests in flight across it, and how many of their answers
    #: (counted in the old window) have been set aside.
    rolled: bool = False
    grants0: int = 0
    carry: int = 0
    late: int = 0
    #: Whether an answer carried this window since its last rollover (without any, its next
    #: boundary is not tested: answers without headers must not keep it one at a time).
    answered: bool = True


class BucketState:
    """The pacing state of one token (see the module docstring). Times are monotonic seconds."""

    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self.in_flight = 0
        self.gate_until = 0.0
        self._tat = 0.0  # GCRA theoretical arrival time of the next request
        self._last_grant = -math.inf  # when the last request was let through
        self._windows: dict[tuple[str, str | None, float | None], _Window] = {}
        self._server_rate: float | None = None  # derived from live windows; None: no info
        self._server_burst = config.burst
        self._binding: _Window | None = None
        self._valid_until = math.inf  # when the derived rate must be recomputed
        self._cut_rate: float | None = None  # AIMD: the rate after the last header-less 429
        self._cut_at = 0.0
        self._rate: float | None = config.initial_rate  # what try_acquire paces at
        self._grants = 0  # requests let through, ever (to tell a fresh window's counts)
        # The fewest requests any window had left at the last reading, less those then in
        # flight, and the grants count then: what was granted since (answered and read or
        # not) comes off it. In-flight counts alone miss answers that went unread.
        self._room = math.inf
        self._room_grants = 0
        # The grants count when a window rolled over at a boundary its phase only guessed: one
        # request then tests the boundary, the rest wait for an answer.
        self._boundary: int | None = None
        self._boundary_until = 0.0  # (answers without headers must not make it last forever)
        # The most requests in flight at once since a window's boundary last moved: answers
        # arriving out of order differ by at most that many, so a bigger jump is a new window.
        self._peak = 0
        # Until the first answer, one request at a time: its headers set the pace for the rest,
        # instead of a first burst finding out the limit by being refused.
        self.probing = True
        #: Successful responses that may go unread before the next one must be observed (see
        #: :meth:`may_skip`).
        self.quiet = 0

    # -- pacing -------------------------------------------------------------------------------

    def rate(self, now: float) -> float | None:
        """Requests per second allowed now (``None``: no pacing)."""
        if self._server_rate is not None:
            return self._server_rate
        initial = self.config.initial_rate
        if self._cut_rate is None:
            return initial
        # Climb back linearly to the configured pace (or, unpaced, to 4x the cut) after a 429.
        target = initial if initial is not None else self._cut_rate * 4
        climbed = self._cut_rate + (now - self._cut_at) * target / self.config.recovery
        if climbed >= target:
            self._cut_rate = None
            return initial
        return climbed

    def try_acquire(self, now: float) -> float:
        """Take a slot and return 0.0, or return the seconds to wait before asking again."""
        if now < self.gate_until:
            return self.gate_until - now
        if self.probing and self.in_flight > 0:
            return _PROBE_WAIT
        if now >= self._valid_until:
            self._recompute(now, others=max(self.in_flight, 0))
            if now < self.gate_until:
                return self.gate_until - now
        if self.in_flight > 0 and (
            self._room - (self._grants - self._room_grants) - self.config.reserve < 1
            or (
                self._boundary is not None
                and self._grants > self._boundary
                and now < self._boundary_until
            )
        ):
            # Never more in flight than the windows have left; at a guessed boundary, one
            # request at a time. An answer wakes the waiter sooner.
            return min(_PROBE_WAIT, max(self._valid_until - now, _EPSILON))
        # (the server's pace and burst read here, without a call, while it has advertised one)
        server_rate = self._server_rate
        rate = server_rate if server_rate is not None else self.rate(now)
        if rate is not self._rate:
            self._set_rate(rate, now)
        if rate is not None:
            interval = 1.0 / rate
            tat = self._tat if self._tat > now else now
            burst = self._server_burst if server_rate is not None else self._burst()
            allowed_at = tat - (burst - 1) * interval
            if allowed_at > now + _EPSILON:  # (a burst's arithmetic may land a hair past now)
                return allowed_at - now
            self._tat = tat + interval
            self._last_grant = now
        self.in_flight = in_flight = self.in_flight + 1
        self._grants += 1
        if in_flight > self._peak:
            self._peak = in_flight
        return 0.0

    def release(self) -> None:
        """A request finished (answered or failed)."""
        if self.in_flight > 0:
            self.in_flight -= 1

    def close_gate(self, until: float, now: float) -> None:
        """Hold every waiter until ``until``."""
        if until > self.gate_until:
            self.gate_until = until
        if self._tat < self.gate_until:
            self._tat = self.gate_until

    def _burst(self) -> int:
        """How many requests may go at once: what the windows allow, one at a time while
        climbing back after a header-less 429, else the configured burst."""
        if self._server_rate is not None:
            return self._server_burst
        if self._cut_rate is not None:
            return 1
        return self.config.burst

    # -- learning -----------------------------------------------------------------------------

    def may_skip(self) -> bool:
        """Whether the next successful response may go unread (and count it if so).

        While every advertised window has at least four times more requests left than will be
        sent before the next reading, its headers cannot change the pace in time to matter; so
        the pipeline skips parsing them, and reads the next one that is not allowed to pass.
        Errors, 429s and redirects are always read.
        """
        if self.quiet > 0:
            self.quiet -= 1
            return True
        return False

    def observe(self, snapshot: RateLimitSnapshot, *, status: int, now: float, wall: float) -> None:
        """Learn from one response. Call it before :meth:`release` for that request."""
        self.probing = False
        others = max(self.in_flight - 1, 0)
        retry_after = snapshot.retry_after
        if retry_after is not None and (status == 429 or status == 503):
            # Never longer than max_wait: the request that was told so fails at once (the retry
            # policy refuses the wait), and the others must not be held for what it was told.
            max_wait = self.config.max_wait
            if max_wait is not None and retry_after > max_wait:
                retry_after = max_wait
            self.close_gate(now + retry_after, now)
        for obs in snapshot.observations:
            self._remember(obs, now, wall, others)
        if status == 429 and not snapshot.observations:
            self._cut(now)
        if snapshot.observations or now >= self._valid_until:
            self._recompute(now, others)

    def _remember(self, obs: Observation, now: float, wall: float, others: int) -> None:
        key = (obs.source, obs.policy, obs.window)
        known = self._windows.get(key)
        if obs.reset_after is None and obs.source == SOURCE_X_WINDOW and obs.window:
            self._remember_clocked(key, known, obs, now, wall, others, obs.window)
            return
        reset_at = now + obs.reset_after if obs.reset_after is not None else None
        if known is None:
            self._windows[key] = _Window(
                obs.source, obs.policy, obs.window, obs.limit, obs.remaining, reset_at
            )
        else:
            known.limit, known.remaining, known.reset_at = obs.limit, obs.remaining, reset_at

    def _remember_clocked(
        self,
        key: tuple[str, str | None, float | None],
        known: _Window | None,
        obs: Observation,
        now: float,
        wall: float,
        others: int,
        period: float,
    ) -> None:
        """A window with no reset (Kong's): its reset comes from its learned phase."""
        if known is None or known.phase is None:
            self._windows[key] = _Window(
                obs.source,
                obs.policy,
                obs.window,
                obs.limit,
                obs.remaining,
                now + period - (wall % period),  # first guess: aligned to the clock
                phase=0.0,
                seen=obs.remaining,
            )
            return
        self._roll(known, now)
        known.answered = True
        fresh = known.rolled
        if not self._phase_checked(known, obs, now, wall, others, period):
            return
        remaining = obs.remaining
        if not fresh and remaining is not None and known.seen is not None:
            remaining = min(remaining, known.seen)  # a late answer never raises the count
        known.limit, known.remaining, known.seen = obs.limit, remaining, remaining
        known.reset_at = now + period - ((wall - known.phase) % period)

    def _phase_checked(
        self, w: _Window, obs: Observation, now: float, wall: float, others: int, period: float
    ) -> bool:
        """Check the answer against the window's phase; ``False`` when it was used up here
        (set aside as late, or taken to re-learn the phase)."""
        if obs.remaining is None or w.seen is None or obs.limit != w.limit or obs.limit is None:
            return True
        margin = max(others, self._peak - 1)
        if obs.remaining > w.seen + margin:
            # More left than the window had: a window began at or before now. Taking the latest
            # such instant never puts the boundary earlier than it is (a boundary guessed too
            # early would let a burst into a window that has not reset); a jump seen before the
            # boundary then expected moves it back towards the true one.
            self._rephase(w, obs, now, wall, period, confirmed=True)
            return False
        if not w.rolled:
            return True
        if obs.remaining >= obs.limit - (self._grants - w.grants0) - w.carry:
            w.rolled, w.confirmed = False, True  # counted in the new window: as expected
            self._boundary = None
            return True
        if w.late < w.carry:
            w.late += 1  # a request sent before the boundary, counted in the old window
            return False
        # Sent after the boundary we expected and still counted in the old window: the server's
        # window has not reset. It ends later than now; the next jump says when.
        self._rephase(w, obs, now, wall, period, confirmed=False)
        return False

    def _rephase(
        self,
        w: _Window,
        obs: Observation,
        now: float,
        wall: float,
        period: float,
        *,
        confirmed: bool,
    ) -> None:
        w.phase = wall % period
        w.confirmed = confirmed
        w.rolled = False
        self._boundary = None
        self._peak = self.in_flight
        w.limit, w.remaining, w.seen = obs.limit, obs.remaining, obs.remaining
        w.reset_at = now + period

    def _roll(self, w: _Window, now: float) -> None:
        """Roll a window over if its reset has passed: assume it full again until told
        otherwise; a clock-estimated window whose phase is unconfirmed lets one request test
        the boundary first."""
        if w.reset_at is None or w.reset_at > now or w.limit is None or w.window is None:
            return
        periods = math.floor((now - w.reset_at) / w.window) + 1
        w.reset_at += periods * w.window
        w.remaining = w.limit
        if w.phase is not None:
            w.rolled, w.grants0, w.carry, w.late = True, self._grants, self.in_flight, 0
            self._peak = self.in_flight
            if not w.confirmed and w.answered:
                self._boundary, self._boundary_until = self._grants, now + _BOUNDARY_TEST
            w.answered = False

    def _cut(self, now: float) -> None:
        current = self.rate(now)
        if current is None:
            current = _UNPACED_FALLBACK
        self._cut_rate = max(self.config.min_rate, current / 2)
        self._cut_at = now

    def _recompute(self, now: float, others: int) -> None:
        """Derive the pace and the gate from every live window; the most restrictive binds."""
        reserve = self.config.reserve
        best_rate = math.inf
        binding: _Window | None = None
        valid_until = math.inf
        cap = math.inf  # no burst may exceed what any window has left
        room = math.inf
        expired: list[tuple[str, str | None, float | None]] = []
        for key, w in self._windows.items():
            if w.reset_at is not None and w.reset_at <= now:
                if w.limit is None or w.window is None:
                    expired.append(key)
                    continue
                self._roll(w, now)
            if w.remaining is None:
                if w.limit is not None and w.window:
                    rate = w.limit / w.window
                    if rate < best_rate:
                        best_rate, binding = rate, w
                continue
            room = min(room, w.remaining)
            usable = w.remaining - others - reserve
            if w.reset_at is not None:
                valid_until = min(valid_until, w.reset_at)
                horizon = max(w.reset_at - now, _MIN_HORIZON)
            elif w.window:
                horizon = w.window
            else:
                continue  # a remaining count with no time frame says nothing about pace
            if usable <= 0:
                until = w.reset_at if w.reset_at is not None else now + horizon
                self.close_gate(until, now)
                best_rate, binding = 0.0, w
                continue
            cap = min(cap, usable)
            # u more requests, one interval apart after the last, need u + 1 intervals to
            # all land before the reset: u intervals put the last on the boundary, where it
            # is counted in the next window and this one's last request is never used.
            rate = (usable + 1) / horizon
            if rate < best_rate:
                best_rate, binding = rate, w
        for key in expired:
            del self._windows[key]
        self._valid_until = valid_until
        self._room = room - others
        self._room_grants = self._grants
        self._binding = binding
        if binding is None:
            self._server_rate = None
        elif best_rate > 0:
            self._server_rate = best_rate
        # best_rate == 0: the gate holds; keep the previous pace for when it opens.
        # A fast pace gets a proportionally larger bucket (``burst_time`` worth of requests), so
        # concurrent callers are not queued microseconds apart; never more than any window holds.
        if self._server_rate is not None:
            wanted = max(self.config.burst, self._server_rate * _BURST_TIME)
            self._server_burst = max(1, int(min(wanted, cap)))
        # Far from every limit, reading every response's headers changes nothing: allow a few
        # to pass unread, never more than a quarter of what the tightest window has left. Not
        # across a boundary its window has not confirmed yet: those answers check the phase.
        checking = any(w.rolled for w in self._windows.values())
        if self.gate_until > now or self._server_rate is None or cap == math.inf or checking:
            self.quiet = 0
        else:
            self.quiet = min(_MAX_QUIET, int(cap // 4))

    def _set_rate(self, rate: float | None, now: float) -> None:
        """Switch pace.

        A configured pace keeps the queue's debt in requests (so a halved pace after a 429
        doubles the wait). A pace derived from the server's counts already has every request
        sent deducted from them, so it carries no debt: the next request is one new interval
        after the last one, and no later.
        """
        old = self._rate
        if rate is None or old is None:
            self._tat = now
        elif self._tat > now:
            tat = now + (self._tat - now) * old / rate
            if self._server_rate is not None:
                tat = min(tat, max(now, self._last_grant + 1.0 / rate))
            self._tat = max(tat, self.gate_until)
        self._rate = rate

    # -- reporting ----------------------------------------------------------------------------

    def view(self, now: float) -> RateLimitView:
        w = self._binding
        reset_after = None
        if w is not None and w.reset_at is not None:
            reset_after = max(w.reset_at - now, 0.0)
        return RateLimitView(
            source=w.source if w else None,
            policy=w.policy if w else None,
            window=w.window if w else None,
            limit=w.limit if w else None,
            remaining=w.remaining if w else None,
            reset_after=reset_after,
            rate=self.rate(now),
            blocked_for=max(self.gate_until - now, 0.0),
            in_flight=self.in_flight,
        )
