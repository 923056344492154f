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
