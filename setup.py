"""Builds nerfgen._C from cuda_ext/.

Always: a C++ extension (-O3 -g0 -fopenmp -std=c++20: torch's headers need C++20) from
cuda_ext/torch/*.cpp (the only files that include torch headers: op registration, checks,
allocation) and cuda_ext/cpu/*.cpp (torch-free loops over raw pointers). With a CUDA
build of torch and nvcc present it also compiles cuda_ext/cuda/*.cu (torch-free kernels)
and defines NERFGEN_WITH_CUDA so the CUDA dispatch entries are registered.
"""
import glob
import os

from setuptools import setup

ROOT = os.path.dirname(os.path.abspath(__file__))


def _rel(pattern):
    return sorted(os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, pattern)))


def _extensions():
    # The Makefile installs the package and its dependencies with NERFGEN_SKIP_EXT=1 and
    # then builds the extension with `setup.py build_ext --inplace`, which ninja keeps
    # incremental: a second `make test` recompiles nothing.
    if os.environ.get("NERFGEN_SKIP_EXT") == "1":
        return []
    import torch
    from torch.utils import cpp_extension

    sources = _rel("cuda_ext/torch/*.cpp") + _rel("cuda_ext/cpu/*.cpp")
    include_dirs = [os.path.join(ROOT, "cuda_ext", "include")]
    cxx_flags = ["-O3", "-g0", "-fopenmp", "-std=c++20", "-march=native", "-ffp-contract=off"]
    with_cuda = (
        torch.version.cuda is not None
        and cpp_extension.CUDA_HOME is not None
        and os.environ.get("NERFGEN_NO_CUDA", "0") != "1"
    )
    if with_cuda:
        return [
            cpp_extension.CUDAExtension(
                "nerfgen._C",
                sources + _rel("cuda_ext/cuda/*.cu"),
                include_dirs=include_dirs,
                define_macros=[("NERFGEN_WITH_CUDA", "1")],
                extra_compile_args={"cxx": cxx_flags, "nvcc": ["-O3", "-std=c++20", "--use_fast_math"]},
                extra_link_args=["-fopenmp"],
            )
        ]
    return [
        cpp_extension.CppExtension(
            "nerfgen._C",
            sources,
            include_dirs=include_dirs,
            extra_compile_args={"cxx": cxx_flags},
            extra_link_args=["-fopenmp"],
        )
    ]


def _cmdclass():
    from torch.utils import cpp_extension

    return {"build_ext": cpp_extension.BuildExtension.with_options(use_ninja=True)}


setup(ext_modules=_extensions(), cmdclass=_cmdclass())
