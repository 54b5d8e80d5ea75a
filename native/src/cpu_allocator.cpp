// The CPU tensor allocator: large blocks from their own mappings, kept for reuse by size class.
//
// Why (docs/runtime.md#cpu-allocator): glibc serves each thread from an arena, and the JVM runs
// `main` on a thread that is not the process's first one, so every tensor of a Java program comes
// from a secondary arena, a chain of separately mapped heaps of at most 64 MiB. A freed 16 MiB
// activation near the end of one heap cannot serve a 20 MiB request, which opens another heap:
// the fp32 rectok_BB forward held about 300 MiB more than the same forward from Python (whose
// tensors come from the contiguous main heap). Here every block of at least `min_bytes` is its
// own anonymous mapping, so a freed block never strands memory inside another, and freed blocks
// are kept on a free list per size class (at most `cache_bytes` in all) so that the next forward,
// which asks for the same sizes, reuses them without page faults. Smaller blocks keep c10's
// aligned malloc.
#include "rectok_torch.h"
#include "guard.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/csrc/api/include/torch/version.h>

#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#define RT_BEGIN RT_GUARD_BEGIN
#define RT_END RT_GUARD_END(rt_guard::as_is)

// LibTorch 2.3 made Allocator::allocate non-const and added the pure virtual copy_data.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define RT_ALLOCATE_CONST
#define RT_ALLOCATOR_COPY_DATA 1
#else
#define RT_ALLOCATE_CONST const
#endif

namespace {

constexpr size_t kPage = 4096;

// Size classes: 8 per power of two (at most 12.5% rounding), page multiples. Rounding costs no
// memory until a page is touched, and a class serves every request that rounds to it.
size_t size_class(size_t n) {
  size_t p = 1;
  while ((p << 1) <= n) p <<= 1;
  size_t step = std::max(kPage, p / 8);
  return (n + step - 1) / step * step;
}

void* map_block(size_t c) {
  void* p = mmap(nullptr, c, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

class BlockAllocator final : public c10::Allocator {
 public:
  BlockAllocator(size_t min_bytes, size_t cache_bytes) : min_bytes_(min_bytes), cache_limit_(cache_bytes) {}

  c10::DataPtr allocate(size_t n) RT_ALLOCATE_CONST override {
    if (n < min_bytes_) {  // freed without the lock: only raw_deallocate needs release's lookup
      void* p = c10::alloc_cpu(n);
      return {p, p, &c10::free_cpu, c10::Device(c10::DeviceType::CPU)};
    }
    void* p = const_cast<BlockAllocator*>(this)->take(n);
    return {p, p, &release, c10::Device(c10::DeviceType::CPU)};
  }

  // Some kernels allocate through raw_allocate/raw_deallocate: data and context are equal here.
  c10::DeleterFnPtr raw_deleter() const override { return &release; }

#ifdef RT_ALLOCATOR_COPY_DATA
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
#endif

  // live, peak live, cached, hits, misses, min_bytes, cache_bytes
  void stats(int64_t* out) {
    std::lock_guard<std::mutex> lock(mu_);
    out[0] = static_cast<int64_t>(live_bytes_);
    out[1] = static_cast<int64_t>(peak_bytes_);
    out[2] = static_cast<int64_t>(cached_bytes_);
    out[3] = static_cast<int64_t>(hits_);
    out[4] = static_cast<int64_t>(misses_);
    out[5] = static_cast<int64_t>(min_bytes_);
    out[6] = static_cast<int64_t>(cache_limit_);
  }

  void reset_peak() {
    std::lock_guard<std::mutex> lock(mu_);
    peak_bytes_ = live_bytes_;
  }

  // Returns every cached block to the system.
  void trim() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [size, ptr] : free_) munmap(ptr, size);
    free_.clear();
    cached_bytes_ = 0;
  }

 private:
  void* take(size_t n) {
    size_t c = size_class(n);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(c);
      if (it != free_.end()) {
        void* p = it->second;
        free_.erase(it);
        cached_bytes_ -= c;
        hits_++;
        note_live(p, c);
        return p;
      }
      misses_++;
    }
    void* p = map_block(c);
    if (p == nullptr) {
      trim();  // memory is short: give the cache back and try once more
      p = map_block(c);
    }
    TORCH_CHECK(p != nullptr, "out of memory: cannot map ", n, " bytes for a tensor");
    std::lock_guard<std::mutex> lock(mu_);
    note_live(p, c);
    return p;
  }

  void note_live(void* p, size_t c) {  // under mu_
    live_[p] = c;
    live_bytes_ += c;
    peak_bytes_ = std::max(peak_bytes_, live_bytes_);
  }

  void give_back(void* p) {
    std::unique_lock<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) {  // a small block: c10's aligned malloc
      lock.unlock();
      c10::free_cpu(p);
      return;
    }
    size_t c = it->second;
    live_.erase(it);
    live_bytes_ -= c;
    if (cached_bytes_ + c <= cache_limit_) {
      free_.emplace(c, p);
      cached_bytes_ += c;
    } else {
      munmap(p, c);
    }
  }

  static void release(void* p);

  const size_t min_bytes_;
  const size_t cache_limit_;
  std::mutex mu_;
  std::multimap<size_t, void*> free_;
  std::unordered_map<void*, size_t> live_;
  size_t live_bytes_ = 0;
  size_t peak_bytes_ = 0;
  size_t cached_bytes_ = 0;
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

// Installed once and never destroyed: tensors allocated by it may outlive any scope.
std::atomic<BlockAllocator*> installed{nullptr};

void BlockAllocator::release(void* p) {
  if (p != nullptr) installed.load()->give_back(p);
}

}  // namespace

RT_API rt_status rt_configure_cpu_allocator(rt_ctx* ctx, int64_t min_bytes, int64_t cache_bytes) noexcept {
  RT_BEGIN
  if (min_bytes < static_cast<int64_t>(kPage))
    throw rt_guard::ArgError("min_bytes must be at least one page (4096), got " + std::to_string(min_bytes));
  if (cache_bytes < 0) throw rt_guard::ArgError("cache_bytes must be >= 0, got " + std::to_string(cache_bytes));
  if (installed.load() != nullptr) throw rt_guard::ArgError("the CPU block allocator is already installed");
  auto* a = new BlockAllocator(static_cast<size_t>(min_bytes), static_cast<size_t>(cache_bytes));
  installed.store(a);
  // Priority 1 beats LibTorch's default CPU allocator (priority 0).
  c10::SetCPUAllocator(a, 1);
  RT_END
}

RT_API rt_status rt_cpu_allocator_stats(rt_ctx* ctx, int64_t* out7) noexcept {
  RT_BEGIN
  if (!out7) throw rt_guard::ArgError("out is NULL");
  BlockAllocator* a = installed.load();
  if (a == nullptr) {
    for (int i = 0; i < 7; i++) out7[i] = -1;
  } else {
    a->stats(out7);
  }
  RT_END
}

RT_API rt_status rt_cpu_allocator_reset_peak(rt_ctx* ctx) noexcept {
  RT_BEGIN
  BlockAllocator* a = installed.load();
  if (a != nullptr) a->reset_peak();
  RT_END
}

RT_API rt_status rt_cpu_allocator_trim(rt_ctx* ctx) noexcept {
  RT_BEGIN
  BlockAllocator* a = installed.load();
  if (a != nullptr) a->trim();
  RT_END
}
