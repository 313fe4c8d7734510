// Reader for VPP's stats segment (version 2), in plain C++ with no VPP headers.
//
// Layout facts come from ../shared/vpp/STATS-SEGMENT.md (VPP 26.10): a 40-byte shared header at
// offset 0, a directory that is a clib vector of 144-byte entries, counter data in clib vectors
// whose u32 length sits 8 bytes before the data pointer. Every pointer in the segment is VPP's own
// virtual address and is rebased against header.base.
//
// Safety rule: every pointer, length and index read from the segment is checked against the
// mapping before it is used; a bad one becomes an Error, never a dereference. Values are copied
// out; callers never see a pointer into the mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace statseg {

constexpr uint64_t kSupportedVersion = 2;
constexpr size_t kHeaderSize = 40;
constexpr size_t kEntrySize = 144;
constexpr size_t kEntryNameOffset = 16;
constexpr size_t kEntryNameMax = 128;

// Log2 histogram bins whose upper bound is past 2^kHistogramMaxExp are folded into the last,
// open-ended bin: VPP's values are u64 (its writer takes u32), so no value reaches them. The
// renderer (native/exposition.h) and src/exporters/log2-histogram.ts use the same number.
constexpr uint64_t kHistogramMaxExp = 64;

enum EntryType : uint32_t {
  kIllegal = 0,
  kScalarIndex = 1,
  kCounterSimple = 2,
  kCounterCombined = 3,
  kNameVector = 4,
  kEmpty = 5,
  kSymlink = 6,
  kHistogramLog2 = 7,
  kRingBuffer = 8,
  kGauge = 9,
};

// Error codes cross into JavaScript as strings; the set is closed (see src/native/errors.ts).
enum class Code {
  kOk,
  kConnect,      // the stats socket could not be reached
  kRecvFd,       // the socket answered without a descriptor
  kOpen,         // the image file could not be opened
  kMap,          // fstat/mmap failed or the mapping is too small
  kVersion,      // unsupported segment version
  kBadPointer,   // a pointer, length or index points outside the mapping
  kBusy,         // in_progress stayed set, or the epoch kept moving, past the retry budget
  kStale,        // the directory changed since the caller's epoch
  kClosed,       // the segment was closed
  kInvalidArg,   // bad argument from the caller
};

const char* CodeName(Code c);

struct Error {
  Code code = Code::kOk;
  std::string message;
  bool ok() const { return code == Code::kOk; }
};

struct Header {
  uint64_t version;
  uint64_t base;
  uint64_t epoch;
  uint64_t in_progress;
  uint64_t directory_vector;
};

// One directory entry as read from the segment.
struct DirEntry {
  uint32_t index;
  uint32_t type;
  uint64_t value;  // raw union: value / data pointer / (index1 | index2 << 32)
  std::string name;
};

struct DirectoryOptions {
  // Symlinks whose name starts with one of these prefixes are left out of the result (the
  // exporter takes interface and node names from the name vectors instead).
  std::vector<std::string> skip_symlink_prefixes;
  bool include_empty = false;
  // Leave the directory's pages mapped after the read (ReleaseDirectoryPages gives them back
  // later), so that a re-read soon after, while interfaces come and go, does not fault them in.
  bool keep_pages = false;
};

struct Directory {
  uint64_t epoch = 0;
  uint32_t length = 0;  // the directory vector's length, including skipped entries
  std::vector<DirEntry> entries;
};

// How one entry's data was copied into the snapshot's value array.
//   status: 0 ok, else a Code (as int) for this entry alone
//   type:   the entry type read from the directory at snapshot time
//   offset: index of the first u64 of this entry in the value array
//   rows:   number of rows that follow (1 when threads are summed)
//   width:  u64 words per element (1 simple/scalar/histogram, 2 combined, 7 ring buffer header)
// At `offset`, `rows` u64 row lengths come first (in elements), then the rows' elements.
// A HISTOGRAM_LOG2 row is VPP's own: word 0 is the row's min_exp, then its bins. Summed, it is one
// row in the same form over the threads' bins aligned by exponent (see CopyHistogramSummed).
struct EntryLayout {
  uint32_t status;
  uint32_t type;
  uint64_t offset;
  uint32_t rows;
  uint32_t width;
};

struct SnapshotOptions {
  bool per_thread = false;
  bool has_expected_epoch = false;
  uint64_t expected_epoch = 0;
  // Bounded waits: in_progress is polled for at most this long per attempt, and a read is
  // retried at most max_attempts times when the epoch moved under it.
  uint64_t busy_timeout_ns = 100'000'000;
  uint32_t max_attempts = 16;
};

struct Snapshot {
  uint64_t epoch = 0;
  uint32_t attempts = 0;
  std::vector<uint64_t> values;
  std::vector<EntryLayout> layout;
  // Name vectors requested in the snapshot: one list per requested entry (empty for others).
  // nullopt-like elements are flagged in name_present.
  std::vector<std::vector<std::string>> names;
  std::vector<std::vector<uint8_t>> name_present;
};

// A mapped segment. Not thread-safe; one owner.
class Segment {
 public:
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  // Connect to VPP's stats socket (AF_UNIX SEQPACKET), receive the memfd and map it read-only.
  static Segment* OpenSocket(const std::string& path, Error* err);
  // Map an image file (or any fd-able file) read-only through the same code.
  static Segment* OpenFile(const std::string& path, Error* err);
  // Map an already-open descriptor (taken over: closed by the Segment).
  static Segment* OpenFd(int fd, Error* err);
  // Use caller-owned memory (for fuzzing and tests); the memory must outlive the Segment.
  static Segment* OpenMemory(const uint8_t* data, size_t size, Error* err);

  void Close();
  bool closed() const { return map_ == nullptr; }
  size_t size() const { return size_; }
  uint64_t inode() const { return inode_; }

  Error ReadHeader(Header* out) const;
  Error ReadDirectory(const DirectoryOptions& opts, Directory* out) const;
  // Copies the requested entries. A snapshot reads and copies at most twice the mapping's size
  // plus 4 KiB per requested entry; a corrupt segment whose pointers alias one vector over and
  // over gets BAD_POINTER for the entries past that budget instead of exhausting memory or time.
  Error TakeSnapshot(const std::vector<uint32_t>& entries, const SnapshotOptions& opts,
                     Snapshot* out) const;
  // Gives a snapshot's value vector back once copied out, so the next snapshot reuses its memory.
  void ReturnScratch(std::vector<uint64_t>&& values) const;
  // Gives back the pages of the last directory read made with keep_pages (when that directory
  // was large enough to be worth it); nothing when there is none.
  void ReleaseDirectoryPages() const;

 private:
  Segment(const uint8_t* map, size_t size, int fd, bool owns_map, uint64_t inode)
      : map_(map), size_(size), fd_(fd), owns_map_(owns_map), inode_(inode) {}

  // Epoch protocol (VPP's stat_segment_access_start/end).
  Error AccessStart(const SnapshotOptions& opts, uint64_t* epoch) const;
  bool AccessEnd(uint64_t epoch) const;

  // Bounds-checked accessors. `ptr` is a VPP-side address.
  bool Offset(uint64_t ptr, uint64_t need, uint64_t* off) const;
  bool VecLen(uint64_t ptr, uint32_t* len) const;
  bool Vec(uint64_t ptr, uint64_t elem_size, uint32_t* len, uint64_t* off) const;
  uint64_t U64(uint64_t off) const;
  uint32_t U32(uint64_t off) const;

  Error ReadDirectoryOnce(const DirectoryOptions& opts, uint64_t epoch, Directory* out) const;
  // Gives back our mapping of [off, off + len) once read, when len >= at_least (see statseg.cc).
  void DropPages(uint64_t off, uint64_t len, uint64_t at_least) const;
  // `budget`: bytes the snapshot may still copy (see kEntryBudget in statseg.cc).
  Error CopyEntry(uint32_t index, uint32_t dir_len, uint64_t dir_off, bool per_thread,
                  Snapshot* out, size_t slot, uint64_t* budget) const;
  Error CopyCounterVector(uint64_t data, uint32_t width, bool per_thread, int64_t column,
                          std::vector<uint64_t>* values, EntryLayout* lay, uint64_t* budget) const;
  Error CopyHistogramSummed(uint64_t data, std::vector<uint64_t>* values, EntryLayout* lay,
                            uint64_t* budget) const;
  Error CopyNameVector(uint64_t data, std::vector<std::string>* names,
                       std::vector<uint8_t>* present, uint64_t* budget) const;
  Error CopyRingBuffer(uint64_t data, std::vector<uint64_t>* values, EntryLayout* lay,
                       uint64_t* budget) const;

  const uint8_t* map_;
  size_t size_;
  mutable std::vector<uint64_t> scratch_;
  // The directory range a keep_pages read left mapped (len 0: none).
  mutable uint64_t kept_dir_off_ = 0;
  mutable uint64_t kept_dir_len_ = 0;
  int fd_;
  bool owns_map_;
  uint64_t inode_;
};

}  // namespace statseg
