// Shared by the torch binding files (the only files in cuda_ext that include torch):
// input checks that turn misuse into a clear Python error instead of a crash.
#pragma once
#include <ATen/ATen.h>
#include <torch/library.h>

#define NG_CHECK_CONTIGUOUS(x) TORCH_CHECK((x).is_contiguous(), #x " must be contiguous")
#define NG_CHECK_DTYPE(x, dt) TORCH_CHECK((x).scalar_type() == (dt), #x " must be " #dt ", got ", (x).scalar_type())
#define NG_CHECK_INPUT(x, dt) \
  NG_CHECK_CONTIGUOUS(x);     \
  NG_CHECK_DTYPE(x, dt)

// Dispatch follows the tensors' devices; a tensor on another device would hand a host
// pointer to a CUDA kernel (or the reverse), so every input must sit on `ref`'s device.
#define NG_CHECK_SAME_DEVICE(x, ref) \
  TORCH_CHECK((x).device() == (ref).device(), #x " must be on ", (ref).device(), ", got ", (x).device())
