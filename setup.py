"""The C kernels (hdrvid/color/_native.c). Optional: where no C compiler is found the package installs without
them and runs numba's twins (hdrvid.color.kernels says which)."""

import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# IEEE float32 throughout (no fast-math, no contraction into fused multiply-adds): every build gives the same codes.
# Without errno and trap semantics the loops vectorise; neither changes a result.
FLAGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-std=c99"]
# GCC only: use the CPU's gather instructions for table reads (its generic tuning emulates them), ~1.7x faster
# SDR output on AVX2/AVX-512 machines.
GCC_FLAGS = ["-mtune-ctrl=use_gather_2parts,use_gather_4parts,use_gather"]


def _is_gcc(cmd: str) -> bool:
    try:
        out = subprocess.run([cmd, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "Free Software Foundation" in out and "clang" not in out.lower()


class BuildExt(build_ext):
    def build_extensions(self) -> None:
        cc = getattr(self.compiler, "compiler_so", None) or ["cc"]
        machine = subprocess.run([cc[0], "-dumpmachine"], capture_output=True, text=True).stdout if _is_gcc(cc[0]) else ""
        extra = GCC_FLAGS if machine.startswith("x86_64") else []
        for ext in self.extensions:
            ext.extra_compile_args = FLAGS + extra
        super().build_extensions()


setup(
    cmdclass={"build_ext": BuildExt},
    ext_modules=[Extension("hdrvid.color._native", ["hdrvid/color/_native.c"], optional=True)],
)
