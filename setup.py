"""The C kernels of the plain transcode (hdrvid/color/_native.c). Optional: where no C compiler is found the
package installs without them and runs numba's twins (hdrvid.color.kernels says which)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "hdrvid.color._native",
            ["hdrvid/color/_native.c"],
            extra_compile_args=["-O3", "-ffp-contract=off", "-std=c99"],
            optional=True,
        )
    ]
)
