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
#if !defined(__CUDA_ARCH__) && defined(__SSE4_1__)
#include <smmintrin.h>
#elif !defined(__CUDA_ARCH__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

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
NG_HD float ng_abs(float x) { return fabsf(x); }
NG_HD int ng_trunc_int(float x) { return static_cast<int>(x); }  // toward zero
NG_HD float ng_to_float(int i) { return static_cast<float>(i); }

// A constant as the lane type F of code written for both one ray (float) and a pack of
// rays (simd.h).
template <class F>
NG_HD F ng_splat(float x);
template <>
NG_HD float ng_splat<float>(float x) {
  return x;
}

NG_HD uint32_t ng_float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  uint32_t bits;
  __builtin_memcpy(&bits, &x, sizeof bits);
  return bits;
#endif
}

// 2**e for e in [-126, 127], exactly, from the exponent bits.
NG_HD float ng_pow2(int e) {
  const uint32_t bits = static_cast<uint32_t>(e + 127) << 23;
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float x;
  __builtin_memcpy(&x, &bits, sizeof x);
  return x;
#endif
}

// min/max/ceil without libm calls on the host: in the march loop fminf/ceilf are
// out-of-line calls on baseline x86-64 and dominated the per-step latency. Inputs on these
// paths are never NaN except where noted; results equal torch.minimum/clamp/floor/ceil.
NG_HD float ng_min(float a, float b) { return b < a ? b : a; }
NG_HD float ng_max(float a, float b) { return a < b ? b : a; }  // NaN a stays NaN, like torch.clamp

// ceil for any x: floats >= 2^23 are integers already; NaN and inf pass through. On the
// host it is branch-free: in the march loop k = ceil(t_exit / dt) is data dependent, and a
// branch here mispredicted on a large share of the visits.
NG_HD float ng_ceil(float x) {
#if defined(__CUDA_ARCH__)
  return ceilf(x);
#elif defined(__SSE4_1__)
  // roundss (SSE4.1, in every x86-64 built with -march=native since 2008): one instruction,
  // IEEE ceil exactly (NaN and inf pass through), instead of the chain below.
  return _mm_cvtss_f32(_mm_round_ss(_mm_setzero_ps(), _mm_set_ss(x), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC));
#elif defined(__SSE2__)
  // cvttss2si truncates, giving INT_MIN out of range (those x are selected away below).
  const float i = static_cast<float>(_mm_cvttss_si32(_mm_set_ss(x)));
  const float up = i < x ? 1.f : 0.f;
  return fabsf(x) < 8388608.f ? i + up : x;
#else
  if (!(x < 8388608.f && x > -8388608.f)) return x;
  const float i = static_cast<float>(static_cast<int>(x));
  return i < x ? i + 1.f : i;
#endif
}
