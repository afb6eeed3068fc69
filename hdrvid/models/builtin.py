"""The models that ship with hdrvid."""

from hdrvid.models.expandnet import ExpandNetITM
from hdrvid.models.itmo import BT2446AInverse, ClassicalITMO, Linearise
from hdrvid.models.registry import ModelSpec, register

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
