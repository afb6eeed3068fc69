"""Where SDR's tones sit in an HDR signal: a documented convention, shared by SDR -> HDR and HDR -> SDR."""

from __future__ import annotations

from typing import Literal, get_args

Level = Literal["bt2446a", "bt2408"]
LEVELS: tuple[str, ...] = get_args(Level)
LEVEL_GAIN = {"bt2446a": 1.96, "bt2408": 1.0}
"""Where SDR's tones land in an HDR10/HLG output, as a gain on ``--reference-white`` (203 nits):

- ``bt2446a`` (default): the mid-tone level of ITU-R BT.2446 Method A's inverse mapping, which puts 18 % SDR grey
  at 72 nits, 1.96x BT.2408's 203-nit convention (professional HDR grades also sit well above it in
  mid-tones). Applied as one gain, so recorded pixels keep their ratios and the model's highlights go above;
  SDR white lands at ~398 nits, highlights up to the mastering peak (BT.2390 roll-off).
- ``bt2408``: SDR reference white at exactly ``--reference-white`` (ITU-R BT.2408's display-light convention).

A convention, not something data can teach (scene radiance has no absolute scale). ``hdrvid tonemap`` (HDR ->
SDR) applies the inverse with the same ``--level``: reference white x gain -> SDR white, so the HDR10 output of
``convert --model none`` comes back to its SDR input."""


SdrMapping = Literal["scene", "display"]
SDR_MAPPINGS: tuple[str, ...] = get_args(SdrMapping)
SDR_MAPPING_TRANSFER = {"scene": "bt709", "display": "bt1886"}
"""How SDR video tagged BT.709 maps to light, both ways (decoding SDR input, encoding SDR output):

- ``scene`` (default): the inverse of the BT.709 camera curve (ITU-R BT.709 OETF), i.e. scene light; an SDR
  output is encoded with the OETF again, so SDR -> HDR -> SDR with ``--model none`` returns the input.
- ``display``: the BT.1886 display EOTF (gamma 2.4), i.e. the light of a reference SDR display: what FFmpeg's
  zscale, broadcast practice and ITU-R BT.2408's display-light mapping use; SDR outputs are encoded with its
  inverse.

Chosen by measurement on the project's validation split of graded SDR (8 scenes x 3 views, BT.709-tagged
graded pictures, plain linearisation, one scale per picture): scene 28.71 dB PSNR-mu / 30.35 PQ-PSNR /
deltaE_ITP 20.9 vs display 27.57 / 29.50 / 25.9; on the broadcast camera (a BT.709 OETF camera) 31.68 vs
25.36 dB. Real graded masters may prefer ``display``: the option exists for them."""
