"""The models that ship with hdrvid."""

from hdrvid.models.registry import Deferred, ModelSpec, register

AHDRMerge = Deferred("hdrvid.models.merge_nets", "AHDRMerge")
BT2446AInverse = Deferred("hdrvid.models.itmo", "BT2446AInverse")
BracketDebevec = Deferred("hdrvid.models.brackets", "BracketDebevec")
BracketHDR = Deferred("hdrvid.models.brackets", "BracketHDR")
BracketHDR2x = Deferred("hdrvid.models.brackets", "BracketHDR2x")
Brackets2x = Deferred("hdrvid.models.superres", "Brackets2x")
ClassicalITMO = Deferred("hdrvid.models.itmo", "ClassicalITMO")
DiffHDRMerge = Deferred("hdrvid.models.diffhdr", "DiffHDRMerge")
DiffHDRSingle = Deferred("hdrvid.models.diffhdr", "DiffHDRSingle")
ExpandNetITM = Deferred("hdrvid.models.expandnet", "ExpandNetITM")
HDRUNet = Deferred("hdrvid.models.hdrunet", "HDRUNet")
HDRUNet2x = Deferred("hdrvid.models.superres", "HDRUNet2x")
KalantariMerge = Deferred("hdrvid.models.merge_nets", "KalantariMerge")
Linearise = Deferred("hdrvid.models.itmo", "Linearise")

register(
    ModelSpec(
        name="itmo",
        kind="classical",
        factory=ClassicalITMO,
        summary="classical inverse tone mapping: exact linearisation plus edge-aware highlight expansion",
    )
)
register(
    ModelSpec(
        name="none",
        kind="classical",
        factory=Linearise,
        summary="no expansion: the linearised input placed at reference white (plain transcode)",
    )
)
register(
    ModelSpec(
        name="bt2446a",
        kind="classical",
        factory=BT2446AInverse,
        summary="ITU-R BT.2446 Method A inverse tone mapping (libplacebo's inverse), SDR white to 1000 nits",
    )
)
register(
    ModelSpec(
        name="expandnet",
        kind="single-exposure",
        factory=ExpandNetITM,
        summary="ExpandNet (Marnerides et al. 2018, published architecture) filling in clipped highlights",
        weights="expandnet.pt",
        sha256="65f4db02aefc969f0cb9f491d03f5733b0e130a385303217ca5292c5bea6fd12",
        card="expandnet.md",
    )
)

HDRUNET_SHA256 = "1d54a37b4327adc62f727864dcddf60f02bc8e35159c9fe7426251878b0bc922"
HDRUNET_INT8_SHA256 = "c9d0b76876e0675c50464d3f332b1d602957221a23908615090fdfd285615e0d"
HDRUNET_ARRAYS = {"hdrunet-context.onnx": "68badc09de412a398f485d079d9d6fce1922b81ea6ee23565e543a80d9d01d65",
                  "hdrunet-shoulder.json": "39359d6526502cb9f049548cfaa0a0d9b073da65f46e2bbc2a2f2ebbb2af9c74"}
"""``hdrunet-auto``'s torch-free CPU path (made by docs/training/hdrunet/arrays-session47/make_files.py)."""
"""``weights/hdrunet-field_tile-int8.onnx``: the network part ``field_tile`` of ``hdrunet.pt`` in int8 (card,
session 46)."""
for _name, _kwargs, _summary in (
    ("hdrunet", {"curve": False},
     "U-Net highlight expansion with mask blending (HDRCNN-style) and a frame-wide context; recorded pixels stay "
     "exactly as decoded"),
    ("hdrunet-graded", {"curve": True},
     "hdrunet plus its learned frame-wide inverse response (undoes the shoulder of graded SDR in bright tones; "
     "better on graded footage, worse on plain camera footage)"),
    ("hdrunet-auto", {"curve": False, "adaptive": True},
     "hdrunet plus BT.2446 Method A's inverse curve where a detector finds a grade's shoulder (graded footage); "
     "camera footage that clips at white keeps its recorded pixels"),
):  # one network and one weights file, three ways to apply it
    register(ModelSpec(name=_name, kind="single-exposure", factory=HDRUNet, factory_kwargs=_kwargs,
                       summary=_summary, weights="hdrunet.pt", sha256=HDRUNET_SHA256, card="hdrunet.md",
                       upscaled="hdrunet-2x" if _name == "hdrunet-auto" else None,
                       int8="hdrunet-field_tile-int8.onnx", int8_sha256=HDRUNET_INT8_SHA256,
                       arrays=HDRUNET_ARRAYS if _name == "hdrunet-auto" else None,
                       encoder_thread_share=0.5))  # BENCHMARKS.md, issue 17 session 22
HDRUNET_LITE_SHA256: str | None = "e27cced089f7438261afd867a2d9c6b5fafc7529a7a33f7fd3e94ed416925370"
register(ModelSpec(name="hdrunet-lite", kind="single-exposure", factory=HDRUNet,
                   factory_kwargs={"curve": False, "adaptive": True, "width": 8},
                   summary="hdrunet-auto with its network distilled to a third of the parameters (width 8): ~2x "
                           "faster network for the CPU fast mode, clipped highlights a little worse (card, session 33)",
                   weights="hdrunet-lite.pt", sha256=HDRUNET_LITE_SHA256, trained=HDRUNET_LITE_SHA256 is not None,
                   card="hdrunet.md", encoder_thread_share=0.5))
HDRUNET2X_SHA256: str | None = "dfc4b5faab07de5d4d58b792fb6fa5e1e495056a292aaea9821742cee1767c73"


def register_superres(name: str, factory: Deferred, base: str, sha256: str | None, card: str, also: str) -> None:
    """A 2x model that refines ``base``'s output (``models.superres``): its own weights file ``NAME.pt``."""
    register(ModelSpec(name=name, kind="single-exposure", factory=factory,
                       summary=f"{base} at the input's size, then 2x super-resolution by a residual network guided by "
                               f"the picture (also {also})",
                       weights=f"{name}.pt", sha256=sha256, trained=sha256 is not None, card=card, output_scale=2,
                       base=base))


register_superres("hdrunet-2x", HDRUNet2x, "hdrunet-auto", HDRUNET2X_SHA256, "superres.md",
                  "--upscale 2 with the default model")

MERGE_INPUT = "packed reference + two neighbours (hdrvid.models.merge_nets.pack), NCHW float32"
MERGE_OUTPUT = "mu-law radiance normalised by the shortest exposure's white, NCHW float32 in [0, 1]"
register(
    ModelSpec(
        name="ahdr",
        kind="multi-exposure",
        factory=AHDRMerge,
        summary="alternating-exposure merge: attention + dilated residual dense blocks (AHDRNet style)",
        input_convention=MERGE_INPUT,
        output_convention=MERGE_OUTPUT,
        weights="ahdr.pt",
        sha256="c372d98169509259308dd449ebe0be49e5d7001b51dbf120e710f01669445861",
        card="ahdr.md",
    )
)
register(
    ModelSpec(
        name="kalantari",
        kind="multi-exposure",
        factory=KalantariMerge,
        summary="alternating-exposure merge: CNN-refined DIS flow + merge CNN (Kalantari 2017/2019 style)",
        input_convention=MERGE_INPUT,
        output_convention=MERGE_OUTPUT,
        weights="kalantari.pt",
        sha256="c99dfce95e03fe275fe52d1f907d5ca6224b7f5c349b2f67bf374b89b2760136",
        card="kalantari.md",
    )
)
register(
    ModelSpec(
        name="diffhdr",
        kind="diffusion",
        factory=DiffHDRMerge,
        summary="alternating-exposure merge: conditional diffusion (DiffHDR style) from the kalantari estimate, "
                "few-step DDIM",
        input_convention=MERGE_INPUT,
        output_convention=MERGE_OUTPUT,
        weights="diffhdr.pt",
        sha256="deeb912de4b8e23a392d876e57ad156623671f87dd84caf4fad13336d6240c46",
        card="diffhdr.md",
        single_exposure="diffhdr-single",
        # session 18: fine-tuned for a chain started at t = 250, where 4 steps first reach kalantari (the card)
        factory_kwargs={"start": 0.25, "steps": 4},
    )
)
register(
    ModelSpec(
        name="diffhdr-single",
        kind="diffusion",
        factory=DiffHDRSingle,
        summary="single exposure: conditional diffusion (DiffHDR style) on the hdrunet estimate's clipped pixels, "
                "few-step DDIM (also --model diffhdr)",
        weights="diffhdr-single.pt",
        sha256="4a19755c723b82ec2acf8c82dd2029fe38936321835e1e480dca89a18ab2cc8f",
        card="diffhdr.md",
    )
)
BRACKETS_SHA256: str | None = "7149a18ddfba50534f75ba81e091bc1549e0e270c259afb9629a404c008b7d11"
for _name, _factory, _summary in (
    ("brackets", BracketHDR, "two stages: a synthetic bracket at -3..+3 EV (DrTMO style) fused by a coupled-feedback "
                             "network (CF-Net style) with the Debevec merge of the stack, into the clipped pixels"),
    ("brackets-cf2x", BracketHDR2x, "brackets' CF-Net-style joint fusion + 2x super-resolution network on whole "
                                    "frames (below bicubic upscaling of brackets on validation; brackets-2x is the 2x path)"),
    ("brackets-debevec", BracketDebevec, "brackets' synthetic stack (-3..+3 EV) merged classically (Debevec, known "
                                         "response, DrTMO's rule for frames that move the wrong way, one choice per shot)"),
):  # one weights file: the generator and both fusion networks
    register(ModelSpec(name=_name, kind="single-exposure", factory=_factory, summary=_summary, weights="brackets.pt",
                       sha256=BRACKETS_SHA256, trained=BRACKETS_SHA256 is not None, card="brackets.md",
                       upscaled="brackets-2x" if _name == "brackets" else None,
                       output_scale=2 if _name == "brackets-cf2x" else 1))
BRACKETS2X_SHA256: str | None = "22eaf89fba9c89161ce8a0522856c58bbb95c6b2b1fc8b48dd1351e005e64301"
register_superres("brackets-2x", Brackets2x, "brackets", BRACKETS2X_SHA256, "brackets.md", "--model brackets --upscale 2")
