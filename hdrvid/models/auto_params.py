"""``hdrunet-auto``'s settings (no torch: the model module and its torch-free CPU path,
:mod:`hdrvid.models.auto_arrays`, read the same numbers)."""

from __future__ import annotations

from hdrvid.color.levels import LEVEL_GAIN

KNOTS = 8
SIGNAL_GAMMA = 2.2
"""The network sees (and the clip mask is taken on) linear light to the power 1 / 2.2."""
CLIP_LO, CLIP_HI = 0.965, 0.99
"""The clip mask rises (smoothstep) from signal 0.965 to 0.99 (codes ~246-252.5)."""
ALPHA_LO, ALPHA_HI = CLIP_LO, CLIP_HI
"""Where the expansion acts (smoothstep of the signal from ALPHA_LO to ALPHA_HI): the network's gains are applied
through this mask; the network's own input mask stays CLIP_LO..CLIP_HI, what it was trained with."""
CAMERA_ALPHA_LO, CAMERA_ALPHA_HI = 0.99, 0.998
"""hdrunet-auto on frames its detector calls camera footage (shoulder weight 0): the expansion starts at signal
0.99 (code ~252.5) instead of 0.965 (~246), since a camera that clips at white recorded the codes below that
exactly; on graded frames (weight 1) near-white codes are compressed highlights and the wide mask stays. In
between the bounds move with the weight. Chosen on validation (hdrunet card, session 11)."""
NEUTRAL_LO, NEUTRAL_HI = 4 / 255, 12 / 255
"""Near-neutral highlights expand as one: a channel whose signal is within NEUTRAL_LO of the pixel's brightest
channel takes the pixel's largest clip mask (with its own gain), fading out (smoothstep) by NEUTRAL_HI.
Per-channel masks alone turned a white car's roof, decoded as (254, 251, 255), into magenta and blue blotches:
the mask's ramp (codes ~252.5-254.5 on camera footage) expanded R and B and left G (session 19). Saturated
highlights (a channel well below the others) keep per-channel expansion."""
CLIP_START_LINEAR = ALPHA_LO**SIGNAL_GAMMA * (1 - 1e-5)
"""Linear light where the clip mask starts (signal 0.965), a hair low so float rounding of the power never
drops a pixel whose mask is above 0: pixels at or below it leave exactly as decoded (without the curve)."""
KNEE = 0.5
SHOULDER_LO, SHOULDER_HI = 0.6, 0.95
"""hdrunet-auto applies none of the BT.2446A curve below this detector probability and all of it above this one
(chosen on validation over 0.25-0.75, 0.4-0.8 and 0.5-0.9: the mean over the five cameras, see the card)."""
SETTLE_FRAMES = 24
"""Video: hdrunet-auto decides once per shot, on the mean detector probability of its first this many frames."""
AVERAGE_CAP = 250.0 / (203.0 * LEVEL_GAIN["bt2446a"])
"""The BT.2446A curve keeps a frame's mean max(R, G, B) at most this (relative: 1 = SDR white at the default
level, 398 nits; so 250 nits at the defaults, ``--average-cap``): on a bright frame (a white office wall, a snow
field, an overexposed floor) the curve's weight is lowered until its average light is back at the cap (never
below the light without the curve). The whole curve put a phone's white office wall at 600-1000 nits, MaxFALL
~400, where a grade keeps diffuse white near reference white; and on validation the detector's false "graded"
calls were bright camera frames, where the curve cost up to 12 dB in recorded pixels. Chosen on validation over
250, 320, 400 nits and none (session 21: 320), and again over 230-320 on three draws of the views after the per-blob
level (session 40: 250, the largest smallest clipped margin with every recorded-pixel margin within 0.1 dB; card)."""
CAP_SURE_LO, CAP_SURE_HI = 4.5, 6.5
"""How sure the detector must be (its logit; 4.5 = p 0.989, 6.5 = p 0.9985, smoothstep between) before the
average-light cap stops lowering the BT.2446A curve's weight on a frame whose top code is full and holds the frame's
average light with one gain instead, keeping the curve's shape (:func:`~hdrvid.models.auto_arrays.cap_sure`). The
weight cap is a hedge against the detector's false "graded" calls on bright camera frames; on frames it is sure
of (a consumer camera's shoulder: p > 0.995 on 75 % of them) the hedge cost 2.4 dB in recorded pixels. Chosen on
validation (session 51, hdrunet card) over hard thresholds at logits 3, 4 and 5.3 and ramps 4-6, 4.5-6.5, 5-7,
4-8 and 3-7 (scored from per-shot records, then measured): of those that keep both the broadcast camera's recorded
pixels (against ``none``) and the consumer camera's (against ``bt2446a``) within 0.1 dB, the one with the most
consumer margin, clipped and recorded, for 0.01 dB less broadcast headroom than 5-7."""
GRADED_BOOST = 1.0
"""hdrunet-auto: stops of extra light in the clipped pixels of frames it calls graded whose top code is nearly empty,
the same factor on every channel (:meth:`HDRUNet.graded_boost`); 0 = off. Chosen on validation over 1.5 and a
per-channel form (session 23, card)."""
TOP_CODE_LINEAR = (253.5 / 255) ** SIGNAL_GAMMA
"""Linear light of 8-bit code ~254 under the 2.2 signal the detector uses (codes 254-255 of sRGB and BT.1886)."""
TOP_SHARE_LO, TOP_SHARE_HI = 0.004, 0.012
"""The graded boost's gate: all of it when fewer than TOP_SHARE_LO of a frame's pixels reach code 254 in any
channel, none above TOP_SHARE_HI (smoothstep). A grade's shoulder leaves the top code almost empty; a camera's
clip piles pixels there (on validation every clip-at-white and consumer picture the detector called graded had
at least 1.3 %, graded pictures a median of 0.2 %)."""
EDGE_GATE = True
"""hdrunet-auto: each clipped area's expansion is scaled (as an exponent) by how steep the code values rise to white
around it (:mod:`hdrvid.models.clip_edges`), on frames called camera footage; on frames called graded (shoulder
weight w) the exponent moves to 1 as ``s + (1 - s) w``. Chosen on validation (session 27, card)."""
DEBLOCK = True
"""hdrunet-auto: the expansion mask reads near-white codes moved towards their window's mean by the window's
flatness (:mod:`hdrvid.models.deblock`), so a near-white area's codec blocks do not switch the expansion block by
block. Chosen on validation for camera frames (session 28, card); on every frame since session 50 (a graded
office wall's H.264 blocks became squares of +1 stop under the graded boost; validation's graded pictures +0.06 dB
clipped)."""
BLOB_LEVEL = True
"""``hdrunet-auto`` scales each clipped blob's light by a factor read from the picture (:mod:`blob_level`;
session 39)."""
MAX_GAIN = 64.0
"""The largest gain the network's head gives a clipped pixel (``HDRUNet(max_gain)``; its log is ``log_gain``)."""
RECEPTIVE_RADIUS = 160
"""Pixels of context each output pixel of the U-Net sees (outside the frame-wide vector), rounded up: 4 stride-2
levels and a dilated bottleneck (about 140 px). The executors discard a tile border at least this wide."""
