"""Temporal smoothing: IIR over frame statistics, reset at scene cuts."""

import numpy as np
import torch

from hdrvid.pipeline.decoder import signal_histogram
from hdrvid.pipeline.frame import Frame, FrameStats
from hdrvid.pipeline.smoothing import TemporalSmoother, frame_statistics


def make_frame(i: int, level: float, peak: float) -> Frame:
    data = torch.full((3, 36, 64), level)
    data[:, :4, :4] = peak
    sig = np.clip(data.permute(1, 2, 0).numpy(), 0, 1) ** (1 / 2.2)
    return Frame(index=i, pts=i, time_base=None, data=data, stats=FrameStats(hist=signal_histogram(sig)))


def test_statistics_use_a_robust_peak():
    data = torch.full((3, 270, 480), 0.2)
    data[0, 0, 0] = 1000.0  # one hot pixel does not set the peak
    log_avg, peak = frame_statistics(data)
    assert abs(log_avg - 0.2) < 1e-3 and peak < 2


def test_iir_smooths_flashes_and_resets_at_cuts():
    s = TemporalSmoother(period=20, cut_threshold=0.3)
    out = [next(s.process(make_frame(i, 0.2, 4.0))) for i in range(30)]
    flash = next(s.process(make_frame(30, 0.2, 40.0)))  # a one-frame highlight flash, same scene
    assert not flash.stats.scene_cut
    assert flash.stats.peak_smooth < 1.2 * out[-1].stats.peak_smooth  # barely moves
    cut = next(s.process(make_frame(31, 0.01, 0.5)))  # hard cut to a dark scene
    assert cut.stats.scene_cut and s.cuts == [31]
    assert abs(cut.stats.log_average_smooth - cut.stats.log_average) < 1e-9  # adapted at once
