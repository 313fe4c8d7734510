// See statseg.h. Offsets and protocol: ../shared/vpp/STATS-SEGMENT.md.
#include "statseg.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "fdpass.h"

namespace statseg {

namespace {

// Rows of a counter vector are one per vlib main (threads); VPP caps workers far below this.
// A larger value can only come from a corrupt segment.
constexpr uint32_t kMaxRows = 4096;

// What one snapshot may read from the mapping and copy out, in bytes: twice the mapping plus this
// much per requested entry. The vectors of a consistent segment do not overlap, so the data of
// distinct entries adds up to less than the mapping, and row lengths, symlink columns and a
// repeated request fit in the rest. Only a corrupt segment whose pointers alias one vector many
// times (4096 rows, every directory entry, every string of a name vector) asks for more, up to
// rows x entries x the mapping: the budget turns that into kBadPointer instead of exhausting
// memory or summing the same rows for minutes.
constexpr uint64_t kEntryBudget = 4096;

// The rows of a counter vector whose rows together hold this much (a row's bytes times the rows:
// 10k combined counters on 9 threads, 64k simple ones on 2) are given back to the kernel after
// each read (Segment::DropPages): at 100k interfaces and 9 threads they are about 250 MB of VPP's
// memory that would otherwise count in our RSS. Smaller vectors stay mapped: reading them again
// costs no page faults.
constexpr uint64_t kDropVectorAtLeast = 1 << 20;
// The same for the directory, read once per epoch (24 MB at 10k interfaces, mostly symlinks).
constexpr uint64_t kDropDirectoryAtLeast = 8 << 20;

// Takes `bytes` from the snapshot's copy budget; false when it would run out.
bool Charge(uint64_t* budget, uint64_t bytes) {
  if (bytes > *budget) return false;
  *budget -= bytes;
  return true;
}

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000ull + uint64_t(ts.tv_nsec);
}

void Pause(uint32_t spins) {
  if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    return;
  }
  // VPP holds the lock for microseconds; sleep briefly instead of burning the core.
  timespec ts{0, 20'000};
  nanosleep(&ts, nullptr);
}

Error Fail(Code code, std::string msg) { return Error{code, std::move(msg)}; }

}  // namespace

const char* CodeName(Code c) {
  switch (c) {
    case Code::kOk: return "OK";
    case Code::kConnect: return "CONNECT";
    case Code::kRecvFd: return "RECV_FD";
    case Code::kOpen: return "OPEN";
    case Code::kMap: return "MAP";
    case Code::kVersion: return "VERSION";
    case Code::kBadPointer: return "BAD_POINTER";
    case Code::kBusy: return "BUSY";
    case Code::kStale: return "STALE";
    case Code::kClosed: return "CLOSED";
    case Code::kInvalidArg: return "INVALID_ARG";
  }
  return "UNKNOWN";
}

Segment::~Segment() { Close(); }

void Segment::Close() {
  if (map_ != nullptr && owns_map_) munmap(const_cast<uint8_t*>(map_), size_);
  map_ = nullptr;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

Segment* Segment::OpenSocket(const std::string& path, Error* err) {
  int fd = -1;
  std::string msg;
  switch (fdpass::ReceiveFd(path, 2000, &fd, &msg)) {
    case fdpass::Result::kOk:
      break;
    case fdpass::Result::kConnectFailed:
      *err = Fail(Code::kConnect, msg);
      return nullptr;
    case fdpass::Result::kNoFd:
      *err = Fail(Code::kRecvFd, msg);
      return nullptr;
  }
  return OpenFd(fd, err);
}

Segment* Segment::OpenFile(const std::string& path, Error* err) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *err = Fail(Code::kOpen, "open " + path + ": " + strerror(errno));
    return nullptr;
  }
  return OpenFd(fd, err);
}

Segment* Segment::OpenFd(int fd, Error* err) {
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *err = Fail(Code::kMap, std::string("fstat: ") + strerror(errno));
    close(fd);
    return nullptr;
  }
  if (st.st_size < off_t(kHeaderSize)) {
    *err = Fail(Code::kMap, "segment is " + std::to_string(st.st_size) +
                                " bytes, smaller than the 40-byte header");
    close(fd);
    return nullptr;
  }
  size_t size = size_t(st.st_size);
  void* p = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  int saved = errno;
  // The mapping keeps the memory alive; the descriptor is not needed after mmap.
  close(fd);
  if (p == MAP_FAILED) {
    *err = Fail(Code::kMap, std::string("mmap: ") + strerror(saved));
    return nullptr;
  }
  auto* seg = new Segment(static_cast<const uint8_t*>(p), size, -1, true, uint64_t(st.st_ino));
  Header h;
  Error e = seg->ReadHeader(&h);
  if (!e.ok()) {
    delete seg;
    *err = e;
    return nullptr;
  }
  return seg;
}

Segment* Segment::OpenMemory(const uint8_t* data, size_t size, Error* err) {
  if (size < kHeaderSize) {
    *err = Fail(Code::kMap, "segment smaller than the header");
    return nullptr;
  }
  auto* seg = new Segment(data, size, -1, false, 0);
  Header h;
  Error e = seg->ReadHeader(&h);
  if (!e.ok()) {
    delete seg;
    *err = e;
    return nullptr;
  }
  return seg;
}

uint64_t Segment::U64(uint64_t off) const {
  uint64_t v;
  memcpy(&v, map_ + off, sizeof v);
  return v;
}

uint32_t Segment::U32(uint64_t off) const {
  uint32_t v;
  memcpy(&v, map_ + off, sizeof v);
  return v;
}

bool Segment::Offset(uint64_t ptr, uint64_t need, uint64_t* off) const {
  const uint64_t base = U64(8);
  if (ptr < base) return false;
  uint64_t o = ptr - base;
  if (o > size_ || need > size_ - o) return false;
  *off = o;
  return true;
}

bool Segment::VecLen(uint64_t ptr, uint32_t* len) const {
  uint64_t off;
  // The length is a u32 8 bytes before the data; the header must lie inside the mapping too.
  if (ptr < 8 || !Offset(ptr - 8, 8, &off)) return false;
  *len = U32(off);
  return true;
}

bool Segment::Vec(uint64_t ptr, uint64_t elem_size, uint32_t* len, uint64_t* off) const {
  uint32_t n;
  if (!VecLen(ptr, &n)) return false;
  if (!Offset(ptr, uint64_t(n) * elem_size, off)) return false;
  *len = n;
  return true;
}

Error Segment::ReadHeader(Header* out) const {
  if (map_ == nullptr) return Fail(Code::kClosed, "segment is closed");
  const auto* words = reinterpret_cast<const uint64_t*>(map_);
  out->version = __atomic_load_n(&words[0], __ATOMIC_ACQUIRE);
  out->base = __atomic_load_n(&words[1], __ATOMIC_ACQUIRE);
  out->epoch = __atomic_load_n(&words[2], __ATOMIC_ACQUIRE);
  out->in_progress = __atomic_load_n(&words[3], __ATOMIC_ACQUIRE);
  out->directory_vector = __atomic_load_n(&words[4], __ATOMIC_ACQUIRE);
  if (out->version != kSupportedVersion) {
    return Fail(Code::kVersion, "stats segment version " + std::to_string(out->version) +
                                    " is not supported (expected 2)");
  }
  return Error{};
}

Error Segment::AccessStart(const SnapshotOptions& opts, uint64_t* epoch) const {
  const auto* words = reinterpret_cast<const uint64_t*>(map_);
  *epoch = __atomic_load_n(&words[2], __ATOMIC_ACQUIRE);
  const uint64_t start = NowNs();
  for (uint32_t spins = 0; __atomic_load_n(&words[3], __ATOMIC_ACQUIRE) != 0; spins++) {
    if (NowNs() - start > opts.busy_timeout_ns) {
      return Fail(Code::kBusy, "stats segment in_progress stayed set for " +
                                   std::to_string(opts.busy_timeout_ns / 1000000) + " ms");
    }
    Pause(spins);
  }
  return Error{};
}

bool Segment::AccessEnd(uint64_t epoch) const {
  std::atomic_thread_fence(std::memory_order_acquire);
  const auto* words = reinterpret_cast<const uint64_t*>(map_);
  return __atomic_load_n(&words[3], __ATOMIC_ACQUIRE) == 0 &&
         __atomic_load_n(&words[2], __ATOMIC_ACQUIRE) == epoch;
}

Error Segment::ReadDirectory(const DirectoryOptions& dopts, Directory* out) const {
  if (map_ == nullptr) return Fail(Code::kClosed, "segment is closed");
  SnapshotOptions opts;
  const uint64_t deadline = NowNs() + opts.busy_timeout_ns;
  for (uint32_t attempt = 0; attempt < opts.max_attempts; attempt++) {
    uint64_t epoch;
    Error e = AccessStart(opts, &epoch);
    if (!e.ok()) return e;
    out->entries.clear();
    e = ReadDirectoryOnce(dopts, epoch, out);
    bool consistent = AccessEnd(epoch);
    if (consistent) return e;  // a bad pointer read consistently is real corruption
    if (NowNs() > deadline) break;
  }
  return Fail(Code::kBusy, "the stats directory kept changing while it was read");
}

Error Segment::ReadDirectoryOnce(const DirectoryOptions& opts, uint64_t epoch,
                                 Directory* out) const {
  uint32_t n;
  uint64_t off;
  const uint64_t dir = U64(32);
  if (!Vec(dir, kEntrySize, &n, &off)) {
    return Fail(Code::kBadPointer, "directory vector pointer is outside the mapping");
  }
  out->epoch = epoch;
  out->length = n;
  // With symlinks skipped (the exporter's case) only a few thousand of n entries are kept.
  out->entries.reserve(opts.skip_symlink_prefixes.empty() ? n : std::min<uint32_t>(n, 4096));
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t eo = off + uint64_t(i) * kEntrySize;
    const uint32_t type = U32(eo);
    if (type == kEmpty && !opts.include_empty) continue;
    const char* name = reinterpret_cast<const char*>(map_ + eo + kEntryNameOffset);
    const size_t name_len = strnlen(name, kEntryNameMax);
    if (type == kSymlink && !opts.skip_symlink_prefixes.empty()) {
      bool skip = false;
      for (const auto& p : opts.skip_symlink_prefixes) {
        if (name_len >= p.size() && memcmp(name, p.data(), p.size()) == 0) {
          skip = true;
          break;
        }
      }
      if (skip) continue;
    }
    out->entries.push_back(DirEntry{i, type, U64(eo + 8), std::string(name, name_len)});
  }
  // The directory is read once per epoch and is mostly per-interface symlinks (24 MB at 10k
  // interfaces). Small directories are left mapped: little RSS to win, and a re-read must stay
  // quick (page faults on every read make it likelier to straddle an epoch change).
  const uint64_t len = uint64_t(n) * kEntrySize;
  // A range kept from an earlier read goes now unless it is this one (the vector may have moved).
  if (kept_dir_len_ != 0 && (kept_dir_off_ != off || kept_dir_len_ != len)) ReleaseDirectoryPages();
  if (opts.keep_pages) {
    kept_dir_off_ = off;
    kept_dir_len_ = len;
  } else {
    kept_dir_len_ = 0;
    DropPages(off, len, kDropDirectoryAtLeast);
  }
  return Error{};
}

void Segment::ReleaseDirectoryPages() const {
  if (map_ == nullptr || kept_dir_len_ == 0) return;
  DropPages(kept_dir_off_, kept_dir_len_, kDropDirectoryAtLeast);
  kept_dir_len_ = 0;
}

void Segment::DropPages(uint64_t off, uint64_t len, uint64_t at_least) const {
  // Drop our page-table entries for memory we have read, so that VPP's pages stop counting in
  // our RSS. The memory is VPP's shared segment and stays; only mappings we made are touched, and
  // the next read maps the pages again with minor faults (the kernel maps 16 neighbours per
  // fault on shared memory). Best effort: a hugepage segment refuses 4 KiB ranges (EINVAL).
  if (!owns_map_ || len < at_least) return;
  const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
  const uint64_t start = (off + page - 1) / page * page;
  const uint64_t end = (off + len) / page * page;
  if (end > start) madvise(const_cast<uint8_t*>(map_) + start, end - start, MADV_DONTNEED);
}

Error Segment::TakeSnapshot(const std::vector<uint32_t>& entries, const SnapshotOptions& opts,
                            Snapshot* out) const {
  if (map_ == nullptr) return Fail(Code::kClosed, "segment is closed");
  const uint64_t deadline = NowNs() + opts.busy_timeout_ns;
  for (uint32_t attempt = 1; attempt <= opts.max_attempts; attempt++) {
    uint64_t epoch;
    Error e = AccessStart(opts, &epoch);
    if (!e.ok()) return e;
    if (opts.has_expected_epoch && epoch != opts.expected_epoch) {
      return Fail(Code::kStale, "stats directory changed (epoch " +
                                    std::to_string(opts.expected_epoch) + " -> " +
                                    std::to_string(epoch) + ")");
    }
    out->epoch = epoch;
    out->attempts = attempt;
    // Build in the segment's scratch vector: its pages stay mapped from scrape to scrape, where
    // a fresh multi-megabyte allocation would page-fault on every word.
    if (out->values.capacity() < scratch_.capacity()) out->values.swap(scratch_);
    out->values.clear();
    out->layout.assign(entries.size(), EntryLayout{0, 0, 0, 0, 0});
    out->names.assign(entries.size(), {});
    out->name_present.assign(entries.size(), {});

    uint32_t dir_len;
    uint64_t dir_off;
    uint64_t budget = 2 * uint64_t(size_) + uint64_t(entries.size()) * kEntryBudget;
    if (!Vec(U64(32), kEntrySize, &dir_len, &dir_off)) {
      e = Fail(Code::kBadPointer, "directory vector pointer is outside the mapping");
    } else {
      for (size_t k = 0; k < entries.size(); k++) {
        Error ee = CopyEntry(entries[k], dir_len, dir_off, opts.per_thread, out, k, &budget);
        if (!ee.ok()) out->layout[k].status = uint32_t(ee.code);
      }
    }
    if (AccessEnd(epoch)) return e;
    if (opts.has_expected_epoch) {
      // The epoch moved under the read: the caller's directory may no longer be valid.
      const auto* words = reinterpret_cast<const uint64_t*>(map_);
      if (__atomic_load_n(&words[2], __ATOMIC_ACQUIRE) != opts.expected_epoch) {
        return Fail(Code::kStale, "stats directory changed during the read");
      }
    }
    if (NowNs() > deadline) break;
  }
  return Fail(Code::kBusy, "no consistent read of the stats segment within the retry budget");
}

void Segment::ReturnScratch(std::vector<uint64_t>&& values) const {
  if (values.capacity() > scratch_.capacity()) scratch_ = std::move(values);
}

Error Segment::CopyEntry(uint32_t index, uint32_t dir_len, uint64_t dir_off, bool per_thread,
                         Snapshot* out, size_t slot, uint64_t* budget) const {
  EntryLayout& lay = out->layout[slot];
  lay.offset = out->values.size();
  if (index >= dir_len) {
    return Fail(Code::kInvalidArg, "entry index " + std::to_string(index) + " is past the directory");
  }
  const uint64_t eo = dir_off + uint64_t(index) * kEntrySize;
  const uint32_t type = U32(eo);
  const uint64_t value = U64(eo + 8);
  lay.type = type;
  switch (type) {
    case kScalarIndex:
    case kGauge:
      if (!Charge(budget, 16)) return Fail(Code::kBadPointer, "snapshot copy budget exhausted");
      lay.rows = 1;
      lay.width = 1;
      out->values.push_back(1);
      out->values.push_back(value);
      return Error{};
    case kCounterSimple:
      return CopyCounterVector(value, 1, per_thread, -1, &out->values, &lay, budget);
    case kHistogramLog2:
      // Per thread the rows are copied as they are; summed, word 0 (min_exp) must not be added.
      if (per_thread) return CopyCounterVector(value, 1, true, -1, &out->values, &lay, budget);
      return CopyHistogramSummed(value, &out->values, &lay, budget);
    case kCounterCombined:
      return CopyCounterVector(value, 2, per_thread, -1, &out->values, &lay, budget);
    case kNameVector:
      return CopyNameVector(value, &out->names[slot], &out->name_present[slot], budget);
    case kSymlink: {
      const uint32_t target = uint32_t(value & 0xffffffffu);
      const uint32_t column = uint32_t(value >> 32);
      if (target >= dir_len) {
        return Fail(Code::kBadPointer, "symlink target " + std::to_string(target) +
                                           " is past the directory");
      }
      const uint64_t to = dir_off + uint64_t(target) * kEntrySize;
      const uint32_t ttype = U32(to);
      if (ttype != kCounterSimple && ttype != kCounterCombined) {
        return Fail(Code::kBadPointer, "symlink points at an entry of type " +
                                           std::to_string(ttype));
      }
      // Report the target's type: the values have its shape.
      lay.type = ttype;
      return CopyCounterVector(U64(to + 8), ttype == kCounterCombined ? 2 : 1, per_thread,
                               int64_t(column), &out->values, &lay, budget);
    }
    case kRingBuffer:
      return CopyRingBuffer(value, &out->values, &lay, budget);
    default:  // empty, illegal or unknown: no data
      return Error{};
  }
}

Error Segment::CopyCounterVector(uint64_t data, uint32_t width, bool per_thread, int64_t column,
                                 std::vector<uint64_t>* values, EntryLayout* lay,
                                 uint64_t* budget) const {
  uint32_t nrows;
  uint64_t rows_off;
  if (!Vec(data, 8, &nrows, &rows_off)) {
    return Fail(Code::kBadPointer, "counter vector pointer is outside the mapping");
  }
  if (nrows > kMaxRows) {
    return Fail(Code::kBadPointer, "counter vector claims " + std::to_string(nrows) + " threads");
  }
  lay->width = width;
  const uint64_t elem = uint64_t(width) * 8;
  const size_t start = values->size();
  auto over = [] {
    return Fail(Code::kBadPointer, "counter vector copies more than the segment holds");
  };
  // Row pointers read (summed) or row lengths written (per thread).
  if (!Charge(budget, uint64_t(nrows) * 8)) return over();
  if (per_thread) {
    lay->rows = nrows;
    values->resize(start + nrows, 0);
    for (uint32_t r = 0; r < nrows; r++) {
      const uint64_t row = U64(rows_off + uint64_t(r) * 8);
      uint32_t len = 0;
      uint64_t off = 0;
      if (row != 0 && !Vec(row, elem, &len, &off)) {
        values->resize(start);
        return Fail(Code::kBadPointer, "counter row pointer is outside the mapping");
      }
      const size_t at = values->size();
      if (!Charge(budget, column >= 0 ? elem : uint64_t(len) * elem)) {
        values->resize(start);
        return over();
      }
      if (column >= 0) {
        (*values)[start + r] = 1;
        values->resize(at + width, 0);
        if (uint64_t(column) < len) memcpy(values->data() + at, map_ + off + uint64_t(column) * elem, elem);
      } else {
        (*values)[start + r] = len;
        values->resize(at + uint64_t(len) * width);
        if (len) memcpy(values->data() + at, map_ + off, uint64_t(len) * elem);
        DropPages(off, uint64_t(len) * elem, kDropVectorAtLeast / nrows);
      }
    }
    return Error{};
  }
  // Summed over threads: one row as long as the longest thread row.
  if (!Charge(budget, 8 + (column >= 0 ? elem : 0))) return over();
  lay->rows = 1;
  values->push_back(0);
  const size_t body = values->size();
  uint64_t cols = 0;
  if (column >= 0) {
    cols = 1;
    values->resize(body + width, 0);
  }
  for (uint32_t r = 0; r < nrows; r++) {
    const uint64_t row = U64(rows_off + uint64_t(r) * 8);
    uint32_t len = 0;
    uint64_t off = 0;
    if (row == 0) continue;
    if (!Vec(row, elem, &len, &off)) {
      values->resize(start);
      return Fail(Code::kBadPointer, "counter row pointer is outside the mapping");
    }
    // Summing reads every row even when little is written: charge the reads.
    if (!Charge(budget, column >= 0 ? elem : uint64_t(len) * elem)) {
      values->resize(start);
      return over();
    }
    uint64_t* dst = values->data() + body;
    if (column >= 0) {
      if (uint64_t(column) >= len) continue;
      for (uint32_t w = 0; w < width; w++) dst[w] += U64(off + uint64_t(column) * elem + w * 8);
      continue;
    }
    if (len > cols) {
      values->resize(body + uint64_t(len) * width, 0);
      cols = len;
      dst = values->data() + body;
    }
    const uint64_t words = uint64_t(len) * width;
    const uint8_t* src = map_ + off;
    for (uint64_t i = 0; i < words; i++) {
      uint64_t v;
      memcpy(&v, src + i * 8, 8);
      dst[i] += v;
    }
    DropPages(off, words * 8, kDropVectorAtLeast / nrows);
  }
  (*values)[start] = cols;
  return Error{};
}

namespace {

// Finite bins of a log2 histogram row with `bins` bins from `min_exp`: every bin but the last
// (open-ended) whose upper bound 2^(min_exp + j + 1) is at most 2^kHistogramMaxExp.
uint64_t FiniteBins(uint64_t min_exp, uint64_t bins) {
  if (bins < 2 || min_exp >= kHistogramMaxExp) return 0;
  return std::min(bins - 1, kHistogramMaxExp - min_exp);
}

}  // namespace

// A HISTOGRAM_LOG2 entry (vlib/counter.h, vlib_validate_log2_histogram and
// vlib_log2_histogram_bin_index in VPP): one row per thread, each [min_exp, bin 0, bin 1, ...];
// bin j counts values below 2^(min_exp + j + 1) that are at least 2^(min_exp + j) (bin 0 also
// everything smaller, 0 included), the last bin everything above. VPP writes the same min_exp into
// every row, but nothing in the layout says so: rows are aligned by exponent. The summed row
// starts at the smallest min_exp of a row with a finite bin; a row's finite bin j lands at
// (its min_exp - that) + j, its last bin and any bin past 2^kHistogramMaxExp in the summed
// row's last (open-ended) bin. Rows without bins add nothing; when no row has one, the summed row
// is empty.
Error Segment::CopyHistogramSummed(uint64_t data, std::vector<uint64_t>* values, EntryLayout* lay,
                                   uint64_t* budget) const {
  uint32_t nrows;
  uint64_t rows_off;
  if (!Vec(data, 8, &nrows, &rows_off)) {
    return Fail(Code::kBadPointer, "histogram vector pointer is outside the mapping");
  }
  if (nrows > kMaxRows) {
    return Fail(Code::kBadPointer, "histogram vector claims " + std::to_string(nrows) + " threads");
  }
  auto over = [] { return Fail(Code::kBadPointer, "histogram copies more than the segment holds"); };
  if (!Charge(budget, uint64_t(nrows) * 8)) return over();
  // min_exp and length are read once: the second pass must index with what the first computed,
  // even if the segment changes in between (the epoch check then discards the result anyway).
  struct Row {
    uint64_t off;
    uint64_t bins;
    uint64_t min_exp;
    uint64_t finite;
  };
  std::vector<Row> rows;
  rows.reserve(nrows);
  uint64_t low_any = UINT64_MAX;
  uint64_t low_finite = UINT64_MAX;
  for (uint32_t r = 0; r < nrows; r++) {
    const uint64_t row = U64(rows_off + uint64_t(r) * 8);
    if (row == 0) continue;
    uint32_t len;
    uint64_t off;
    if (!Vec(row, 8, &len, &off)) {
      return Fail(Code::kBadPointer, "histogram row pointer is outside the mapping");
    }
    if (!Charge(budget, uint64_t(len) * 8)) return over();
    if (len < 2) continue;  // no bins (not validated yet, or min_exp only)
    const uint64_t min_exp = U64(off);
    const uint64_t bins = uint64_t(len) - 1;
    rows.push_back(Row{off, bins, min_exp, FiniteBins(min_exp, bins)});
    low_any = std::min(low_any, min_exp);
    if (rows.back().finite > 0) low_finite = std::min(low_finite, min_exp);
  }
  lay->rows = 1;
  lay->width = 1;
  if (rows.empty()) {
    values->push_back(0);
    return Error{};
  }
  const uint64_t low = low_finite != UINT64_MAX ? low_finite : low_any;
  uint64_t finite = 0;  // at most kHistogramMaxExp - low: finite <= kHistogramMaxExp - min_exp
  for (const Row& h : rows) {
    if (h.finite > 0) finite = std::max(finite, h.min_exp - low + h.finite);
  }
  if (!Charge(budget, (finite + 3) * 8)) return over();
  values->push_back(finite + 2);
  const size_t at = values->size();
  values->resize(at + finite + 2, 0);
  uint64_t* dst = values->data() + at;
  dst[0] = low;
  for (const Row& h : rows) {
    for (uint64_t j = 0; j < h.bins; j++) {
      const uint64_t to = j < h.finite ? h.min_exp - low + j : finite;
      dst[1 + to] += U64(h.off + (1 + j) * 8);
    }
  }
  return Error{};
}

Error Segment::CopyNameVector(uint64_t data, std::vector<std::string>* names,
                              std::vector<uint8_t>* present, uint64_t* budget) const {
  uint32_t n;
  uint64_t off;
  if (!Vec(data, 8, &n, &off)) {
    return Fail(Code::kBadPointer, "name vector pointer is outside the mapping");
  }
  auto over = [] {
    return Fail(Code::kBadPointer, "name vector copies more than the segment holds");
  };
  if (!Charge(budget, uint64_t(n) * (sizeof(std::string) + 1))) return over();
  names->resize(n);
  present->assign(n, 0);
  for (uint32_t i = 0; i < n; i++) {
    const uint64_t s = U64(off + uint64_t(i) * 8);
    if (s == 0) continue;
    uint32_t len;
    uint64_t soff;
    if (!Vec(s, 1, &len, &soff)) {
      return Fail(Code::kBadPointer, "name string pointer is outside the mapping");
    }
    // VPP stores the NUL as part of the vector; stop at the first one.
    const char* p = reinterpret_cast<const char*>(map_ + soff);
    const size_t slen = strnlen(p, len);
    if (!Charge(budget, slen)) return over();
    (*names)[i].assign(p, slen);
    (*present)[i] = 1;
  }
  return Error{};
}

Error Segment::CopyRingBuffer(uint64_t data, std::vector<uint64_t>* values, EntryLayout* lay,
                              uint64_t* budget) const {
  constexpr uint64_t kRingHeader = 28;
  constexpr uint64_t kMetadataSize = 64;
  uint64_t off;
  if (!Offset(data, kRingHeader, &off)) {
    return Fail(Code::kBadPointer, "ring buffer pointer is outside the mapping");
  }
  uint32_t f[7];
  for (int i = 0; i < 7; i++) f[i] = U32(off + uint64_t(i) * 4);
  const uint64_t entry_size = f[0], ring_size = f[1], n_threads = f[2];
  const uint64_t metadata_offset = f[5], data_offset = f[6];
  uint64_t unused, ring_bytes;
  // n_threads is capped and the sizes are u32, but their product can still overflow.
  if (n_threads > kMaxRows || __builtin_mul_overflow(n_threads * ring_size, entry_size, &ring_bytes) ||
      !Offset(off + metadata_offset + U64(8), n_threads * kMetadataSize, &unused) ||
      !Offset(off + data_offset + U64(8), ring_bytes, &unused)) {
    return Fail(Code::kBadPointer, "ring buffer extends outside the mapping");
  }
  if (!Charge(budget, 64)) return Fail(Code::kBadPointer, "snapshot copy budget exhausted");
  lay->rows = 1;
  lay->width = 7;
  values->push_back(1);
  for (int i = 0; i < 7; i++) values->push_back(f[i]);
  return Error{};
}

}  // namespace statseg
