// Shared by the torch binding files (the only files in cuda_ext that include torch):
// input checks that turn misuse into a clear Python error instead of a crash.
#pragma once
#include <ATen/ATen.h>
#include <torch/library.h>

#include <cstdint>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define NG_CHECK_CONTIGUOUS(x) TORCH_CHECK((x).is_contiguous(), #x " must be contiguous")
#define NG_CHECK_DTYPE(x, dt) TORCH_CHECK((x).scalar_type() == (dt), #x " must be " #dt ", got ", (x).scalar_type())
#define NG_CHECK_INPUT(x, dt) \
  NG_CHECK_CONTIGUOUS(x);     \
  NG_CHECK_DTYPE(x, dt)

// Dispatch follows the tensors' devices; a tensor on another device would hand a host
// pointer to a CUDA kernel (or the reverse), so every input must sit on `ref`'s device.
#define NG_CHECK_SAME_DEVICE(x, ref) \
  TORCH_CHECK((x).device() == (ref).device(), #x " must be on ", (ref).device(), ", got ", (x).device())

// Asks Linux to back a freshly allocated, not yet touched CPU tensor with transparent huge
// pages (a hint; no-op elsewhere). For outputs of tens or hundreds of MB (hash tables and
// encodings, packed samples) 2 MB pages mean a few dozen page faults instead of
// thousands, and TLB hits on random writes (hash backward_params 145 -> 112 ms).
inline void advise_huge_pages(const at::Tensor& t) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr uintptr_t kHuge = uintptr_t(1) << 21;
  const auto begin = reinterpret_cast<uintptr_t>(t.data_ptr());
  const uintptr_t end = begin + t.nbytes();
  const uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1), last = end & ~(kHuge - 1);
  if (t.is_cpu() && last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#endif
}
