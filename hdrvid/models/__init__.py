"""Model architectures, the registry, shipped weights and model cards.

Importing this package registers the built-in models by name only (``registry.Deferred``): no torch until a
model is built."""

from hdrvid.models import builtin  # noqa: F401  (the built-in models register themselves)
from hdrvid.models.registry import (
    ModelSpec,
    arrays_file,
    build,
    for_single_exposure,
    for_upscale,
    get,
    int8_file,
    names,
    packaged_file,
    register,
)

__all__ = ["ModelSpec", "arrays_file", "build", "for_single_exposure", "for_upscale", "get", "int8_file", "names", "packaged_file", "register"]
