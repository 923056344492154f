// The output cache behind empty_output (common.h): large CPU outputs reuse blocks that
// earlier outputs freed, instead of glibc mapping fresh memory for every call.
//
// Why: above glibc's mmap threshold (at most 32 MiB) every allocation is a fresh mapping,
// and its first touch costs a page fault per page plus the kernel zeroing it. A training
// step allocates the same large outputs every time (a 256k-point hash encoding is 32 MiB,
// its parameter gradient 64 MiB), and faulting them in was 10-15 % of the hash kernels'
// time even with huge pages. Blocks are 2 MiB aligned and advised onto transparent huge
// pages; freed ones are kept up to NERFGEN_OUTPUT_CACHE_MB (default 512; with 0 every
// block is a fresh mapping again, unmapped when freed) and handed to requests of their
// size down to half of it.
#include <ATen/EmptyTensor.h>
#include <c10/core/Allocator.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include "common.h"

#if defined(__linux__)
#include <sys/mman.h>

namespace {

constexpr size_t kHugePage = size_t(1) << 21;
constexpr size_t kMinBytes = size_t(4) << 20;  // smaller outputs: at::empty

struct Block {
  void* ptr;
  size_t bytes;
};

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

class OutputCache final : public c10::Allocator {
 public:
  explicit OutputCache(size_t limit_bytes) : limit_bytes_(limit_bytes) {}

  c10::DataPtr allocate(size_t n) override {
    if (n == 0) return {nullptr, nullptr, &release, c10::Device(c10::DeviceType::CPU)};
    const size_t bytes = round_up(n, kHugePage);
    Block block{nullptr, 0};
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      size_t best = free_.size();
      for (size_t i = 0; i < free_.size(); ++i) {
        const size_t have = free_[i].bytes;
        if (have >= bytes && have <= 2 * bytes && (best == free_.size() || have < free_[best].bytes)) best = i;
      }
      if (best < free_.size()) {
        block = free_[best];
        free_[best] = free_.back();
        free_.pop_back();
        free_bytes_ -= block.bytes;
      }
    }
    if (!block.ptr) block = map(bytes);
    return {block.ptr, new Block(block), &release, c10::Device(c10::DeviceType::CPU)};
  }

  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }

 private:
  // A fresh 2 MiB-aligned mapping: map a huge page more, then unmap the unaligned ends.
  static Block map(size_t bytes) {
    void* raw = mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TORCH_CHECK(raw != MAP_FAILED, "nerfgen: out of memory allocating ", bytes, " bytes");
    const auto begin = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = round_up(begin, kHugePage);
    if (aligned > begin) munmap(raw, aligned - begin);
    const uintptr_t tail = aligned + bytes, end = begin + bytes + kHugePage;
    if (end > tail) munmap(reinterpret_cast<void*>(tail), end - tail);
    madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
    return {reinterpret_cast<void*>(aligned), bytes};
  }

  static void release(void* context);

  const size_t limit_bytes_;
  std::mutex mutex_;
  std::vector<Block> free_;  // blocks of freed outputs, ready for reuse
  size_t free_bytes_ = 0;
};

// Never destroyed: outputs may be freed during interpreter shutdown, after static
// destructors would have run.
OutputCache& cache() {
  static OutputCache* instance = [] {
    const char* mb = std::getenv("NERFGEN_OUTPUT_CACHE_MB");
    return new OutputCache((mb ? std::strtoull(mb, nullptr, 10) : 512) << 20);
  }();
  return *instance;
}

// A freed output's block: kept while the cache has room, else unmapped.
void OutputCache::release(void* context) {
  if (!context) return;
  const Block block = *static_cast<Block*>(context);
  delete static_cast<Block*>(context);
  OutputCache& c = cache();
  {
    const std::lock_guard<std::mutex> lock(c.mutex_);
    if (c.free_bytes_ + block.bytes <= c.limit_bytes_) {
      c.free_.push_back(block);
      c.free_bytes_ += block.bytes;
      return;
    }
  }
  munmap(block.ptr, block.bytes);
}

}  // namespace

at::Tensor empty_output(at::IntArrayRef sizes, const at::TensorOptions& options) {
  const int64_t numel = c10::multiply_integers(sizes);
  const size_t nbytes = static_cast<size_t>(numel) * options.dtype().itemsize();
  if (!options.device().is_cpu() || nbytes < kMinBytes) return at::empty(sizes, options);
  return at::detail::empty_generic(sizes, &cache(), c10::DispatchKeySet(c10::DispatchKey::CPU),
                                   c10::typeMetaToScalarType(options.dtype()), c10::MemoryFormat::Contiguous);
}

#else

at::Tensor empty_output(at::IntArrayRef sizes, const at::TensorOptions& options) { return at::empty(sizes, options); }

#endif
