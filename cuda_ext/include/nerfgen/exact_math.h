// IEEE round-to-nearest float arithmetic that nvcc may not fuse or approximate.
//
// The march and ray-box kernels must produce bit-identical results on CPU, on CUDA and
// in the pure-PyTorch references (a sample whose midpoint lands on a cell boundary must
// fall on the same side everywhere). nvcc contracts a*b+c into an FMA by default and
// --use_fast_math approximates division; the __f*_rn intrinsics do neither. g++ on
// x86-64 without -mfma emits plain mul/add, which is what these map to on the host.
// Remaining difference: fast-math flushes denormals to zero on the device.
#pragma once
#include "common.h"

#include <cmath>

#if defined(__CUDA_ARCH__)
NG_HD float ng_add(float a, float b) { return __fadd_rn(a, b); }
NG_HD float ng_sub(float a, float b) { return __fsub_rn(a, b); }
NG_HD float ng_mul(float a, float b) { return __fmul_rn(a, b); }
NG_HD float ng_div(float a, float b) { return __fdiv_rn(a, b); }
#else
NG_HD float ng_add(float a, float b) { return a + b; }
NG_HD float ng_sub(float a, float b) { return a - b; }
NG_HD float ng_mul(float a, float b) { return a * b; }
NG_HD float ng_div(float a, float b) { return a / b; }
#endif

NG_HD float ng_inf() { return __builtin_huge_valf(); }
