"""The exposure cycle of alternating-exposure footage: which frame has which EV, and how far the camera's
response is from its tag (measured from the frames themselves; used by the pipeline and by training)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hdrvid.errors import InputError

log = logging.getLogger("hdrvid")


@dataclass(frozen=True)
class Cycle:
    """exposures[i] is the EV of frames i, i + len, i + 2 len, ... (frame 0 first)."""

    exposures: tuple[float, ...]
    measured: tuple[float, ...] = ()
    """Relative EV measured for each analysed frame."""
    response_power: float = 1.0
    """Radiometric self-calibration: decoded light is raised to this power before merging. A camera whose
    response is not the curve the file is tagged with (a gamma 2.6 or filmic look tagged BT.709) makes the
    decoded ratio between two exposures a power of the true one; the frames then disagree on every
    scene point's radiance and the merge's brightness alternates at half the frame rate. The power that
    maps the measured spread of exposures onto the known one puts them back in agreement (exact for power
    law responses, close for others)."""

    def ev(self, index: int) -> float:
        return self.exposures[index % len(self.exposures)]


def relative_evs(pictures: Sequence[np.ndarray]) -> list[float]:
    """EV of each picture relative to the first, from the intensity mapping between neighbours.

    Neighbouring frames see (nearly) the same scene, so matching quantiles of their luminance pairs
    the same scene points even when things move (Grossberg & Nayar's comparagram by histogram
    specification). The ratio is the median over quantiles where both pictures are in their reliable
    range: above the noise floor and 8-bit steps, below clipping."""
    qs = np.linspace(0.01, 0.99, 99)
    evs = [0.0]
    for a, b in zip(pictures, pictures[1:]):
        qa = np.quantile(np.clip(a, 0, 1).mean(0), qs)
        qb = np.quantile(np.clip(b, 0, 1).mean(0), qs)
        lo, hi = 0.08**2.2, 0.9**2.2  # signal 0.08 .. 0.9
        ok = (qa > lo) & (qa < hi) & (qb > lo) & (qb < hi)
        if ok.sum() < 3:
            raise InputError("too few well-exposed tones in two consecutive frames to measure the exposure "
                             "cycle; give it with --exposures")
        evs.append(evs[-1] + float(np.median(np.log2(qb[ok] / qa[ok]))))
    return evs


def fit_cycle(measured: Sequence[float], exposures: Sequence[float] | None = None) -> Cycle:
    """The cycle (2 or 3 exposures, any phase) that best explains the measured EVs.

    With ``exposures`` given, only the phase is found (rotations of the given cycle). Without, the period
    is the one whose frames of equal phase agree best, and the EVs are relative to the cycle's mean."""
    m = np.asarray(measured, np.float64)
    if exposures is not None:
        p = len(exposures)
        best, best_err = tuple(exposures), float("inf")
        for shift in range(p):
            cand = np.array([exposures[(i + shift) % p] for i in range(len(m))], np.float64)
            err = float(np.mean(np.abs((m - m.mean()) - (cand - cand.mean()))))
            if err < best_err:
                best, best_err = tuple(exposures[(i + shift) % p] for i in range(p)), err
        if best_err > 0.75:
            log.warning("the measured exposures (%s) fit the given cycle %s poorly (mean error %.2f EV)",
                        ", ".join(f"{v:+.2f}" for v in m - m.mean()), list(exposures), best_err)
        return Cycle(tuple(float(v) for v in best), tuple(float(v) for v in m), _power(m, best))
    scores = {}
    for p in (2, 3):
        if len(m) < 2 * p + 1:
            continue
        phases = [m[i::p] for i in range(p)]
        spread = float(np.mean([np.std(ph) for ph in phases]))
        means = np.array([ph.mean() for ph in phases])
        scores[p] = (spread, means)
    if not scores:
        raise InputError("too few frames to find the exposure cycle; give it with --exposures")
    p = min(scores, key=lambda k: scores[k][0])
    spread, means = scores[p]
    means = means - means.mean()
    if np.ptp(means) < 0.5:
        raise InputError("the frames do not alternate in exposure (less than half a stop apart); "
                         "use the normal mode, or give --exposures")
    if spread > 0.5:
        log.warning("exposure cycle of %d found, but frames of one phase differ by %.2f EV", p, spread)
    evs = tuple(_snap(float(v)) for v in means)
    return Cycle(evs, tuple(float(v) for v in m), _power(m, evs))


POWER_RANGE = (0.6, 1.8)


def _power(measured: np.ndarray, cycle: Sequence[float]) -> float:
    """Response power = spread of the cycle's EVs / spread of the measured phase means (see Cycle)."""
    p = len(cycle)
    if len(measured) < 2 * p:
        return 1.0
    means = np.array([measured[i::p].mean() for i in range(p)])
    got, want = float(np.ptp(means)), float(np.ptp(np.asarray(cycle, np.float64)))
    if got < 0.25 or want <= 0:
        return 1.0
    g = want / got
    if abs(g - 1) < 0.03:
        return 1.0
    if not POWER_RANGE[0] <= g <= POWER_RANGE[1]:
        log.warning("the exposures measured in the frames are %.1fx the cycle's; the camera's response is far "
                    "from its tag (calibration limited to %s)", 1 / g, POWER_RANGE)
    return float(np.clip(g, *POWER_RANGE))


def _snap(ev: float) -> float:
    """To the nearest third or half stop (the steps cameras offer)."""
    return min((round(ev * 3) / 3, round(ev * 2) / 2), key=lambda c: abs(c - ev))


