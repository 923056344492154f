// torch.ops.nerfgen.merge_samples: concatenates the fields' sample arrays, shifts their
// offsets into that concatenation, and runs a per-ray k-way merge. Output offsets are the
// sums of the fields' offsets, known before merging (no counting pass needed).
#include "common.h"
#include "nerfgen/merge.h"

#ifdef NERFGEN_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace {

enum class Backend { CPU, CUDA };

using MergeResult = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor>;

MergeResult merge_samples(Backend backend, at::TensorList t_starts, at::TensorList t_ends, at::TensorList offsets) {
  const int64_t n_fields = static_cast<int64_t>(offsets.size());
  TORCH_CHECK(n_fields >= 1 && n_fields <= kMaxMergeFields, "merge_samples takes 1 to ", kMaxMergeFields,
              " fields, got ", n_fields);
  TORCH_CHECK(t_starts.size() == offsets.size() && t_ends.size() == offsets.size(),
              "t_starts, t_ends and offsets need one entry per field");
  const int64_t n_rays = offsets[0].size(0) - 1;
  std::vector<int64_t> base(n_fields);
  int64_t total = 0;
  for (int64_t f = 0; f < n_fields; ++f) {
    NG_CHECK_INPUT(t_starts[f], at::kFloat);
    NG_CHECK_INPUT(t_ends[f], at::kFloat);
    NG_CHECK_INPUT(offsets[f], at::kLong);
    NG_CHECK_SAME_DEVICE(t_starts[f], offsets[0]);
    NG_CHECK_SAME_DEVICE(t_ends[f], offsets[0]);
    NG_CHECK_SAME_DEVICE(offsets[f], offsets[0]);
    TORCH_CHECK(offsets[f].dim() == 1 && offsets[f].size(0) == n_rays + 1, "field ", f,
                ": offsets must be [n_rays + 1] with the same n_rays as field 0");
    TORCH_CHECK(t_starts[f].dim() == 1 && t_ends[f].sizes() == t_starts[f].sizes(), "field ", f,
                ": t_starts and t_ends must be 1-D and the same length");
    base[f] = total;
    total += t_starts[f].size(0);
  }
  const auto long_opts = offsets[0].options();
  auto field_base = at::tensor(base, at::kLong).to(long_opts.device());
  auto field_offsets = (at::stack(offsets) + field_base.unsqueeze(1)).contiguous();  // [n_fields, n_rays + 1]
  auto out_offsets = at::stack(offsets).sum(0);
  // The concatenations are hundreds of MB too: allocated here, as the outputs below, from
  // the output cache before cat_out fills them.
  auto ts = empty_output({total}, t_starts[0].options());
  auto te = empty_output({total}, t_starts[0].options());
  at::cat_out(ts, t_starts);
  at::cat_out(te, t_ends);
  const int64_t n_out = out_offsets[n_rays].item<int64_t>();
  TORCH_CHECK(n_out == total, "offsets[-1] must equal the number of samples in every field");

  // 32 bytes of output per sample (1.7 GB for the benchmark's 53M samples): mapped afresh
  // on every call with 4 KB pages, ~400k page faults were most of the op's time.
  auto ray_indices = empty_output({total}, long_opts);
  auto field_ids = empty_output({total}, long_opts);
  auto source_index = empty_output({total}, long_opts);
  auto out_ts = empty_output({total}, ts.options());
  auto out_te = empty_output({total}, ts.options());
  if (backend == Backend::CPU) {
    merge_samples_cpu(n_rays, static_cast<int>(n_fields), field_offsets.data_ptr<int64_t>(),
                      field_base.data_ptr<int64_t>(), ts.data_ptr<float>(), te.data_ptr<float>(),
                      out_offsets.data_ptr<int64_t>(), ray_indices.data_ptr<int64_t>(), out_ts.data_ptr<float>(),
                      out_te.data_ptr<float>(), field_ids.data_ptr<int64_t>(), source_index.data_ptr<int64_t>());
  } else {
#ifdef NERFGEN_WITH_CUDA
    merge_samples_cuda(n_rays, static_cast<int>(n_fields), field_offsets.data_ptr<int64_t>(),
                       field_base.data_ptr<int64_t>(), ts.data_ptr<float>(), te.data_ptr<float>(),
                       out_offsets.data_ptr<int64_t>(), ray_indices.data_ptr<int64_t>(), out_ts.data_ptr<float>(),
                       out_te.data_ptr<float>(), field_ids.data_ptr<int64_t>(), source_index.data_ptr<int64_t>(),
                       at::cuda::getCurrentCUDAStream().stream());
#endif
  }
  return {ray_indices, out_ts, out_te, out_offsets, field_ids, source_index};
}

MergeResult merge_samples_cpu_op(at::TensorList t_starts, at::TensorList t_ends, at::TensorList offsets) {
  return merge_samples(Backend::CPU, t_starts, t_ends, offsets);
}

#ifdef NERFGEN_WITH_CUDA
MergeResult merge_samples_cuda_op(at::TensorList t_starts, at::TensorList t_ends, at::TensorList offsets) {
  return merge_samples(Backend::CUDA, t_starts, t_ends, offsets);
}
#endif

}  // namespace

TORCH_LIBRARY_FRAGMENT(nerfgen, m) {
  m.def(
      "merge_samples(Tensor[] t_starts, Tensor[] t_ends, Tensor[] offsets) -> (Tensor ray_indices,"
      " Tensor t_starts, Tensor t_ends, Tensor offsets, Tensor field_ids, Tensor source_index)");
}

TORCH_LIBRARY_IMPL(nerfgen, CPU, m) { m.impl("merge_samples", &merge_samples_cpu_op); }

#ifdef NERFGEN_WITH_CUDA
TORCH_LIBRARY_IMPL(nerfgen, CUDA, m) { m.impl("merge_samples", &merge_samples_cuda_op); }
#endif
