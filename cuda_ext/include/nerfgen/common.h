// Shared by the CPU (g++) and CUDA (nvcc) builds. Everything in include/nerfgen/ is
// torch-free inline code marked NG_HD so one definition serves both back ends.
#pragma once

#if defined(__CUDACC__)
#define NG_HD __host__ __device__ __forceinline__
#else
#define NG_HD inline
#endif

#include <cstdint>
