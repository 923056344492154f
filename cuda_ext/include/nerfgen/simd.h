// Packs of floats and ints for the CPU (host-only; nvcc never includes this file).
//
// A pack holds one value per SIMD lane: GCC/Clang vector extensions, so +, -, *, /,
// comparisons (giving -1 / 0 per lane) and `mask ? a : b` work lane by lane with the same
// IEEE round-to-nearest results as the scalar ops (the build passes -ffp-contract=off,
// which keeps vector code unfused too). The ng_* overloads below let code written once
// for `float` (include/nerfgen/*.h, compiled by nvcc as well) run on a pack of rays; only
// the ops without a vector-extension spelling (ceil, gathers, mask bits) use intrinsics,
// each with a lane-by-lane fallback that gives the same values.
#pragma once
#if defined(__CUDACC__)
#error "simd.h is host-only"
#endif
#include <cstdint>
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "exact_math.h"

// One register of the widest vector ISA the build targets (-march=native): a wider pack
// split over narrower registers runs slower than the scalar code.
#if defined(__AVX512F__)
constexpr int kPackWidth = 16;
#elif defined(__AVX2__)
constexpr int kPackWidth = 8;
#else
constexpr int kPackWidth = 4;
#endif
typedef float PackF __attribute__((vector_size(4 * kPackWidth)));
typedef int32_t PackI __attribute__((vector_size(4 * kPackWidth)));
typedef uint32_t PackU __attribute__((vector_size(4 * kPackWidth)));

template <>
inline PackF ng_splat<PackF>(float x) {
  PackF v;
  for (int i = 0; i < kPackWidth; ++i) v[i] = x;
  return v;
}
inline PackF ng_add(PackF a, PackF b) { return a + b; }
inline PackF ng_sub(PackF a, PackF b) { return a - b; }
inline PackF ng_mul(PackF a, PackF b) { return a * b; }
inline PackF ng_div(PackF a, PackF b) { return a / b; }
inline PackF ng_min(PackF a, PackF b) { return b < a ? b : a; }  // as the float versions
inline PackF ng_max(PackF a, PackF b) { return a < b ? b : a; }
inline PackF ng_abs(PackF x) { return (PackF)((PackU)x & 0x7FFFFFFFu); }
inline PackU ng_float_bits(PackF x) { return (PackU)x; }
inline PackF ng_pow2(PackI e) { return (PackF)((e + 127) << 23); }
inline PackI ng_trunc_int(PackF x) { return __builtin_convertvector(x, PackI); }  // cvttps2dq, as static_cast<int>
inline PackF ng_to_float(PackI i) { return __builtin_convertvector(i, PackF); }

inline PackF ng_ceil(PackF x) {
#if defined(__AVX512F__)
  // the masked forms (all lanes) avoid GCC's "may be used uninitialized" on the plain ones
  return (PackF)_mm512_mask_roundscale_ps((__m512)x, 0xFFFF, (__m512)x, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
#elif defined(__AVX2__)
  return (PackF)_mm256_round_ps((__m256)x, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
#else
  PackF y;
  for (int i = 0; i < kPackWidth; ++i) y[i] = ng_ceil(x[i]);
  return y;
#endif
}

// words[index[i]] for every lane (index >= 0).
inline PackU ng_gather(const uint32_t* words, PackI index) {
#if defined(__AVX512F__)
  return (PackU)_mm512_mask_i32gather_epi32(_mm512_setzero_si512(), 0xFFFF, (__m512i)index, words, 4);
#elif defined(__AVX2__)
  return (PackU)_mm256_i32gather_epi32(reinterpret_cast<const int*>(words), (__m256i)index, 4);
#else
  PackU y;
  for (int i = 0; i < kPackWidth; ++i) y[i] = words[index[i]];
  return y;
#endif
}

// Bit i set where lane i of a comparison result is true.
inline uint32_t ng_mask_bits(PackI mask) {
#if defined(__AVX512F__)
  return _mm512_test_epi32_mask((__m512i)mask, (__m512i)mask);
#elif defined(__AVX2__)
  return static_cast<uint32_t>(_mm256_movemask_ps((__m256)mask));
#else
  uint32_t bits = 0;
  for (int i = 0; i < kPackWidth; ++i) bits |= static_cast<uint32_t>(mask[i] != 0) << i;
  return bits;
#endif
}
