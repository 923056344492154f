// Shared by the torch binding files (the only files in cuda_ext that include torch):
// input checks that turn misuse into a clear Python error instead of a crash.
#pragma once
#include <ATen/ATen.h>
#include <torch/library.h>

#include <cstdint>

#define NG_CHECK_CONTIGUOUS(x) TORCH_CHECK((x).is_contiguous(), #x " must be contiguous")
#define NG_CHECK_DTYPE(x, dt) TORCH_CHECK((x).scalar_type() == (dt), #x " must be " #dt ", got ", (x).scalar_type())
#define NG_CHECK_INPUT(x, dt) \
  NG_CHECK_CONTIGUOUS(x);     \
  NG_CHECK_DTYPE(x, dt)

// Dispatch follows the tensors' devices; a tensor on another device would hand a host
// pointer to a CUDA kernel (or the reverse), so every input must sit on `ref`'s device.
#define NG_CHECK_SAME_DEVICE(x, ref) \
  TORCH_CHECK((x).device() == (ref).device(), #x " must be on ", (ref).device(), ", got ", (x).device())

// An uninitialised tensor for a kernel's output, which the kernel must write in full.
// CPU outputs of 4 MiB and more (hash encodings and gradients, packed samples) come from
// the output cache (output_cache.cpp): huge-page blocks freed by earlier outputs, reused
// instead of faulted in afresh on every call. Others: at::empty.
at::Tensor empty_output(at::IntArrayRef sizes, const at::TensorOptions& options);
