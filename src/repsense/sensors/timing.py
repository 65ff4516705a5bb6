"""Sample-time reconstruction for BLE sensors (sans-IO, vectorised).

BLE hands the host several samples per connection event, with jitter of a
connection interval or more, so a sample's *arrival* time is a poor clock.
What each protocol offers instead:

* a sample counter (the repsense reference sensor: 16 bits, wraps),
* a sensor timestamp per frame (Polar PMD: 64-bit nanoseconds of the last
  sample in the frame),
* nothing (WitMotion, Thingy:52): only the nominal rate.

All three are mapped onto the host clock by :class:`ClockSync`: a line
``host = offset + scale * sensor`` fitted to the *lower envelope* of the
(sensor time, arrival time) pairs.  Transport delay is always positive, so the
earliest arrivals in each stretch of time are the ones closest to the true
sample time; fitting through them is robust to jitter, retransmissions and
bursts.  ``scale - 1`` is the sensor clock's drift (in ppm) against the host;
for sensors without a clock it is the error of the nominal rate.

The fit is updated online; its offset is slewed (moved a little per
notification) instead of jumping, and block times never go backwards, so the
pipeline sees a smooth, monotonic time base.

Lost samples are counted, never invented: a counter jump, a timestamp jump or
(for clock-less sensors) a long silence is reported as ``lost`` with its size,
and the following samples simply carry later times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_DRIFT = 0.05
"""Largest clock-rate error believed (5 %); crystals are within 0.01 %, RC clocks 2 %."""


@dataclass(frozen=True)
class TimedBlock:
    """Times of one notification's samples and how many samples went missing before it."""

    t: np.ndarray
    lost: int = 0
    gap_start_s: float | None = None
    """Host time of the last sample before the gap (when ``lost`` > 0)."""
    rejected: str = ""
    """Why the block was rejected (a counter from the past, an impossible jump);
    its samples must be dropped as malformed.  Empty when accepted."""
    sensor_s: np.ndarray | None = None
    """Sensor-clock times of the samples (``TimestampTimer`` only), seconds."""


class ClockSync:
    """Online map from a sensor time base to the host clock.

    Pairs are reduced on arrival to the earliest arrival per ``bin_s`` of
    sensor time (the lower envelope), so each update is O(1) and a refit —
    once per closed bin — costs O(window / bin) however fast notifications
    come.

    Parameters
    ----------
    window_s
        Only bins within this much sensor time of the newest one are fitted
        (clocks drift with temperature; a window keeps the fit local).
    min_span_s
        Below this span the drift is not estimated (scale stays at 1).
    bin_s
        Width of the envelope bins in sensor seconds.
    slew_ratio
        Largest change of the applied mapping per second of sensor time
        (0.005 = 5 ms/s): corrections are spread out so that sample spacing
        never changes by more than this fraction.
    jump_s
        A correction larger than this is applied at once (a restart, not
        jitter).
    """

    def __init__(
        self,
        *,
        window_s: float = 120.0,
        min_span_s: float = 2.0,
        bin_s: float = 0.5,
        slew_ratio: float = 0.005,
        jump_s: float = 0.5,
    ) -> None:
        self.window_s = window_s
        self.min_span_s = min_span_s
        self.bin_s = bin_s
        self.slew_ratio = slew_ratio
        self.jump_s = jump_s
        self._slew_x: float | None = None
        nbins = int(np.ceil(window_s / bin_s)) + 2
        self._bx = np.empty(nbins)  # closed bins: sensor time and residual of their minimum
        self._br = np.empty(nbins)
        self._nb = 0
        self._cur: tuple[int, float, float] | None = None  # open bin: index, x, r
        self._target: tuple[float, float] | None = None  # (offset, scale)
        self._applied: tuple[float, float] | None = None
        self.drift_estimated = False
        self.pairs = 0

    @property
    def ready(self) -> bool:
        """True once at least one pair was added."""
        return self._applied is not None

    @property
    def scale(self) -> float:
        """Host seconds per sensor second (1.0 until estimated)."""
        return 1.0 if self._applied is None else self._applied[1]

    @property
    def drift_ppm(self) -> float | None:
        """``(scale - 1) * 1e6`` once the span allowed an estimate, else ``None``."""
        if not self.drift_estimated or self._target is None:
            return None
        return (self._target[1] - 1.0) * 1e6

    def add(self, sensor_s: float, host_s: float) -> None:
        """Add one pair: sensor time of a notification's last sample, its arrival time."""
        self.pairs += 1
        r = host_s - sensor_s
        b = math.floor(sensor_s / self.bin_s)
        refit = False
        if self._cur is None:
            self._cur = (b, sensor_s, r)
        elif b == self._cur[0]:
            if r < self._cur[2]:
                self._cur = (b, sensor_s, r)
        else:
            self._close_bin()
            self._cur = (b, sensor_s, r)
            refit = True
        if self._target is None:
            self._target = (r, 1.0)
            self._applied = self._target
            self._slew_x = sensor_s
            return
        off, sc = self._target
        if refit or self._nb < 4:
            self._fit()
        elif host_s < off + sc * sensor_s:
            # An arrival earlier than the envelope: move the envelope down now.
            self._target = (host_s - sc * sensor_s, sc)
        self._slew(sensor_s)

    def reanchor(self, sensor_s: float, host_s: float) -> None:
        """Forget the pairs (a sensor clock restart) but keep the drift estimate."""
        scale = self.scale if self.drift_estimated else 1.0
        self._nb = 0
        self._cur = (int(np.floor(sensor_s / self.bin_s)), sensor_s, host_s - sensor_s)
        self._target = (host_s - scale * sensor_s, scale)
        self._applied = self._target
        self._slew_x = sensor_s

    def to_host(self, sensor_s: np.ndarray | float) -> np.ndarray:
        """Host times of sensor times (with the currently applied mapping)."""
        if self._applied is None:
            raise RuntimeError("ClockSync.to_host before any pair was added")
        off, sc = self._applied
        return off + sc * np.asarray(sensor_s, dtype=np.float64)

    # -- internals -------------------------------------------------------

    def _close_bin(self) -> None:
        assert self._cur is not None
        _, x, r = self._cur
        if self._nb == self._bx.size:
            self._bx[:-1] = self._bx[1:]
            self._br[:-1] = self._br[1:]
            self._nb -= 1
        self._bx[self._nb] = x
        self._br[self._nb] = r
        self._nb += 1
        # Drop bins that left the window.
        lo = x - self.window_s
        if self._bx[0] < lo:
            k = int(np.searchsorted(self._bx[: self._nb], lo))
            self._bx[: self._nb - k] = self._bx[k : self._nb]
            self._br[: self._nb - k] = self._br[k : self._nb]
            self._nb -= k

    def _fit(self) -> None:
        assert self._cur is not None
        xb = np.append(self._bx[: self._nb], self._cur[1])
        rb = np.append(self._br[: self._nb], self._cur[2])
        span = float(xb[-1] - xb[0])
        if span < self.min_span_s or xb.size < 4:
            scale = self._target[1] if self._target is not None and self.drift_estimated else 1.0
            self._target = (float(np.min(rb + xb - scale * xb)), scale)
            return
        x0 = xb[0]
        slope, icpt = np.polyfit(xb - x0, rb, 1)
        resid = rb - (icpt + slope * (xb - x0))
        mad = float(np.median(np.abs(resid - np.median(resid)))) + 1e-6
        good = resid < 3.0 * 1.4826 * mad + 1e-4
        if good.sum() >= 3 and not good.all():
            slope, icpt = np.polyfit(xb[good] - x0, rb[good], 1)
        # No real sensor clock is 5 % off; a wilder fit means the host times are bad
        # (and a scale near zero would make every period division blow up).
        scale = min(max(1.0 + float(slope), 1.0 - MAX_DRIFT), 1.0 + MAX_DRIFT)
        # Put the line on the envelope: no kept bin minimum lies below it.
        offset = float(np.min((rb + xb)[good] - scale * xb[good]))
        self._target = (offset, scale)
        self.drift_estimated = True

    def _slew(self, sensor_now: float) -> None:
        assert self._target is not None and self._applied is not None
        off_t, sc_t = self._target
        off_a, sc_a = self._applied
        want = off_t + sc_t * sensor_now
        have = off_a + sc_a * sensor_now
        d = want - have
        last_x, self._slew_x = self._slew_x, sensor_now
        if abs(d) > self.jump_s or last_x is None:
            self._applied = self._target
            return
        limit = self.slew_ratio * max(0.0, sensor_now - last_x)
        step = min(limit, max(-limit, d))
        self._applied = (have + step - sc_t * sensor_now, sc_t)


class _BlockTimer:
    """Shared parts: nominal period, clock sync, monotonic output."""

    def __init__(self, rate_hz: float, sync: ClockSync | None = None) -> None:
        if not rate_hz > 0:
            raise ValueError(f"rate_hz must be positive, got {rate_hz}")
        self.rate_hz = float(rate_hz)
        self.sync = sync or ClockSync()
        self._last_t: float | None = None
        self._last_arrival: float | None = None
        self._rejects = 0

    #: A jump this much beyond what the host clock allows is implausible (s).
    SLACK_S = 3.0
    #: After this many consecutive implausible blocks the new time base is accepted.
    MAX_REJECTS = 3

    def _reject(self, why: str) -> TimedBlock | None:
        """Reject a block, unless it is the third in a row (then accept a restart)."""
        self._rejects += 1
        if self._rejects >= self.MAX_REJECTS:
            self._rejects = 0
            return None
        return TimedBlock(np.empty(0), rejected=why)

    @property
    def period_s(self) -> float:
        return 1.0 / self.rate_hz

    @property
    def true_period_s(self) -> float:
        """Nominal period corrected by the estimated drift."""
        return self.period_s * self.sync.scale

    def set_rate(self, rate_hz: float) -> None:
        """The sensor's rate changed (the caller also handles the sensor time base)."""
        self.rate_hz = float(rate_hz)

    def _emit(self, sensor_s: np.ndarray, arrival_s: float) -> np.ndarray:
        self.sync.add(float(sensor_s[-1]), arrival_s)
        t = self.sync.to_host(sensor_s)
        if self._last_t is not None and t[0] <= self._last_t:
            # Never go backwards: shift the block just after the previous one.
            t = t + (self._last_t + 0.25 * self.true_period_s - t[0])
        self._last_t = float(t[-1])
        self._last_arrival = arrival_s
        return t


class CounterTimer(_BlockTimer):
    """Times from a wrapping sample counter (the reference sensor's 16-bit counter).

    ``times(counter, n, arrival_s)`` takes the counter of the block's first
    sample and the number of samples.  The counter is unwrapped with the help
    of the host clock, so even a silence longer than one wrap period (65536
    samples) is measured correctly.
    """

    def __init__(self, rate_hz: float, bits: int = 16, sync: ClockSync | None = None) -> None:
        super().__init__(rate_hz, sync)
        self.modulus = 1 << bits
        self._next_counter: int | None = None
        self._next_sensor_s = 0.0

    def restart(self) -> None:
        """The sensor's counter restarted (boot, rate or range change)."""
        self._next_counter = None

    def times(self, counter: int, n: int, arrival_s: float) -> TimedBlock:
        """Host times of ``n`` samples starting at ``counter``, and the samples lost before."""
        m = self.modulus
        lost = 0
        gap_start = self._last_t
        if self._next_counter is not None and self._last_arrival is not None:
            delta = (counter - self._next_counter) % m
            elapsed = arrival_s - self._last_arrival
            est = elapsed / self.true_period_s - n  # samples the host clock allows
            if not math.isfinite(est):
                est = 0.0  # a broken host clock says nothing about how long the silence was
            if est > m / 2:  # a silence longer than half a wrap: count whole wraps
                delta += m * max(0, round((est - delta) / m))
            if delta >= m // 2 and est < m // 2:
                why = f"counter {counter} is from the past (expected {self._next_counter})"
            elif delta > est + self.SLACK_S * self.rate_hz + 16:
                why = f"counter jumped {delta} samples in {elapsed:.3f} s"
            else:
                why = ""
            if why:
                rejected = self._reject(why)
                if rejected is not None:
                    return rejected
                self._next_counter = None  # third in a row: the sensor restarted
            else:
                self._rejects = 0
                lost = int(delta)
                self._next_sensor_s += lost * self.period_s
        if self._next_counter is None and self._last_arrival is not None:
            # Counter restarted mid-stream: the gap is only known from the host clock.
            elapsed = arrival_s - self._last_arrival
            lost = max(0, round(elapsed / self.true_period_s) - n)
            self._next_sensor_s += lost * self.period_s
            self.sync.reanchor(self._next_sensor_s + (n - 1) * self.period_s, arrival_s)
        sensor = self._next_sensor_s + np.arange(n) * self.period_s
        self._next_sensor_s = float(sensor[-1] + self.period_s) if n else self._next_sensor_s
        self._next_counter = (counter + n) % m
        t = self._emit(sensor, arrival_s) if n else np.empty(0)
        return TimedBlock(t, lost, gap_start if lost else None)


class TimestampTimer(_BlockTimer):
    """Times from a per-frame sensor timestamp of the frame's last sample (Polar PMD).

    Samples inside a frame are spaced evenly between the previous frame's
    timestamp and this one (as the vendor SDK does); the first frame, and a
    frame after a gap, use the nominal period.  A gap longer than the frame's
    samples account for is reported as lost samples.
    """

    def __init__(
        self, rate_hz: float, sync: ClockSync | None = None, origin_s: float | None = None
    ) -> None:
        super().__init__(rate_hz, sync)
        self._prev_ts: float | None = None
        # Sensor time that maps to 0 in the clock fit; timers sharing one
        # ClockSync (several streams of one sensor) must share the origin.
        self._t0: float | None = origin_s

    def times(self, ts_last_s: float, n: int, arrival_s: float) -> TimedBlock:
        """Host times of ``n`` samples whose last one has sensor time ``ts_last_s``."""
        if n <= 0:
            return TimedBlock(np.empty(0))
        p = self.period_s
        lost = 0
        gap_start = self._last_t
        if self._t0 is None:
            self._t0 = ts_last_s - (n - 1) * p
        restart = self._prev_ts is None
        if self._prev_ts is not None and self._last_arrival is not None:
            span = ts_last_s - self._prev_ts
            elapsed = arrival_s - self._last_arrival
            if span <= 0:
                why = f"timestamp went back {-span:.3f} s"
            elif span > elapsed * 1.1 + self.SLACK_S + n * p:
                why = f"timestamp jumped {span:.3f} s in {elapsed:.3f} s"
            else:
                why = ""
            if why:
                rejected = self._reject(why)
                if rejected is not None:
                    return rejected
                # Third in a row: the sensor clock was reset; re-anchor on the host clock.
                self._t0 = ts_last_s - (n - 1) * p
                self.sync.reanchor(ts_last_s - self._t0, arrival_s)
                lost = max(0, round(elapsed / self.true_period_s) - n)
                restart = True
            else:
                self._rejects = 0
        if restart:
            spacing = p
        else:
            span = ts_last_s - self._prev_ts
            # Tolerate clock jitter, but a span that holds more than the frame's
            # samples (by more than half a sample) means frames were lost.
            missing = round(span / p) - n
            if missing >= 1 and span > (n + 0.5) * p:
                lost = int(missing)
                spacing = p
            else:
                spacing = span / n
        rel = ts_last_s - self._t0
        sensor = rel - (n - 1 - np.arange(n)) * spacing
        self._prev_ts = ts_last_s
        t = self._emit(sensor, arrival_s)
        return TimedBlock(t, lost, gap_start if lost else None, sensor_s=sensor + self._t0)


class ArrivalTimer(_BlockTimer):
    """Times for sensors without a counter or clock (WitMotion, Thingy:52).

    Samples are assumed consecutive at the nominal rate; :class:`ClockSync`
    fits the *actual* rate to the arrival times (the drift estimate is then
    the error of the nominal rate).  A silence longer than ``gap_s`` (and
    than ``gap_periods`` sample periods) beyond where the next sample was
    due is reported as lost samples; shorter stalls are BLE buffering and the
    samples that follow are the delayed ones, not new ones.
    """

    def __init__(
        self,
        rate_hz: float,
        sync: ClockSync | None = None,
        *,
        gap_s: float = 0.5,
        gap_periods: float = 10.0,
    ) -> None:
        super().__init__(rate_hz, sync)
        self.gap_s = gap_s
        self.gap_periods = gap_periods
        self._next_sensor_s = 0.0

    def times(self, n: int, arrival_s: float) -> TimedBlock:
        """Host times of ``n`` consecutive samples that arrived at ``arrival_s``."""
        if n <= 0:
            return TimedBlock(np.empty(0))
        p = self.period_s
        lost = 0
        gap_start = self._last_t
        if self.sync.ready and self._last_t is not None:
            due = float(self.sync.to_host(self._next_sensor_s + (n - 1) * p))
            late = arrival_s - due
            # An absurd lateness (beyond any float count) is a broken host clock, not loss.
            missed = late / self.true_period_s
            limit = max(self.gap_s, self.gap_periods * self.true_period_s)
            if math.isfinite(missed) and late > limit:
                lost = int(round(missed))
                self._next_sensor_s += lost * p
        sensor = self._next_sensor_s + np.arange(n) * p
        self._next_sensor_s = float(sensor[-1] + p)
        t = self._emit(sensor, arrival_s)
        return TimedBlock(t, lost, gap_start if lost else None)
