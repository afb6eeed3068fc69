"""Choosing and building engines for a model: the options jobs pass and the executor factory."""

from typing import TYPE_CHECKING

from hdrvid.lazy import lazy_exports

_EXPORTS = {
    'options': ('EngineOptions', 'auto_scale', 'streaming_threads'),
    'factory': ('make_executor',),
}
__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # the names, for type checkers; at run time each submodule loads when first used
    from hdrvid.runtime.factory import make_executor  # noqa: F401
    from hdrvid.runtime.options import EngineOptions, auto_scale, streaming_threads  # noqa: F401
