// libFuzzer target for the stats segment reader (../statseg.cc), built by scripts/fuzz.sh with
// -fsanitize=fuzzer,address,undefined. Goal (docs/fuzzing.md, RELIABILITY.md B.6): no crash, no
// out-of-bounds read and no undefined behaviour on any segment image, however corrupt.
//
// Input format. The first byte picks the mode:
//
//   bit 0 = 0: MUTATE. A real VPP segment image (one of the fixtures, gunzipped by the script and
//     named in VPP_FUZZ_IMAGES) is copied and patched. The rest of the input is a list of 8-byte
//     patches {op, idx lo, idx hi, sub, value[4]}: op % kRegions picks where to write (header,
//     directory vector length word, a directory entry's type/value/name, the length word of a
//     vector the image really contains, a pointer slot the image really contains, ...), op /
//     kRegions picks what (raw bytes, a u32 length from a table of edge values, a pointer to a
//     real vector / near the end / outside the mapping, a symlink target, a type, ...). So a few
//     bytes of input make exactly the corruptions a reader has to survive: dangling pointers,
//     lengths that run past the mapping, aliased vectors, bad symlinks. Two kinds write runs:
//     one pointer smeared over up to 4096 slots, one entry copied over up to 8192 entries (the
//     aliasing that would make a reader copy the same vector thousands of times).
//     Byte 0 bit 1 picks the image; bit 2 truncates the image to the length in bytes 1-3;
//     bit 3 passes the header's epoch as the expected epoch; bit 4 adds a stale-epoch snapshot.
//   bit 0 = 1: RAW. The input after two option bytes is the segment image itself. Option byte 1:
//     bits 0-1 base (00 as in the image, 01 zero so pointers are plain offsets, 10 the fixtures'
//     base); bit 2 keeps the version word as it is (otherwise it is set to 2 so that the header
//     check passes and the fuzzer gets past it); bits 3-4 as bits 3-4 of byte 0 in mutate mode.
//
// Every image lives in a heap buffer of exactly its size, so ASan reports any read past its end.
// For each input: OpenMemory, ReadHeader, ReadDirectory (with and without skip prefixes,
// include_empty both ways), then TakeSnapshot over every directory index plus out-of-range ones,
// summed and per thread, with a 1 ms busy timeout. The results are checked against the
// documented layout contract (statseg.h EntryLayout) and the snapshot's copy budget (statseg.h
// TakeSnapshot): a violation aborts like a crash.
//
// VPP_FUZZ_WRITE_SEEDS=DIR: write the seed corpus (mutate seeds for each image, raw prefixes of
// the images and small raw images rebuilt from the images' own entries) into DIR and exit.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../statseg.h"

namespace {

using statseg::Code;
using statseg::Directory;
using statseg::DirectoryOptions;
using statseg::Error;
using statseg::Segment;
using statseg::Snapshot;
using statseg::SnapshotOptions;

constexpr uint64_t kFixtureBase = 0x7fae09de1000ull;
constexpr size_t kPatchSize = 8;

[[noreturn]] void Die(const char* what) {
  fprintf(stderr, "fuzz_statseg: %s\n", what);
  abort();
}

uint64_t Ld64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
uint32_t Ld32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
void St64(uint8_t* p, uint64_t v) { memcpy(p, &v, 8); }
void St32(uint8_t* p, uint32_t v) { memcpy(p, &v, 4); }

// A fixture image and the places in it worth corrupting, found by an independent, bounds-checked
// walk (not by the reader under test).
struct Image {
  std::string name;
  std::vector<uint8_t> bytes;
  uint64_t base = 0;
  uint64_t dir_off = 0;
  uint32_t dir_len = 0;
  std::vector<uint32_t> non_symlinks;  // directory indices of entries that are not symlinks
  std::vector<uint64_t> vec_data;      // offsets of vector data (u32 length at -8)
  std::vector<uint64_t> ptr_slots;     // offsets of u64 pointers inside vectors (rows, strings)
};

std::vector<Image> g_images;

// Inputs run per mode, printed at exit (scripts/fuzz.sh adds them up): a mutated 1 MB image costs
// ~400x a small raw one, so the mix says what the execution count is made of.
uint64_t g_mutate_runs = 0;
uint64_t g_raw_runs = 0;

void PrintRuns() {
  fprintf(stderr, "fuzz_statseg: executed %llu mutate, %llu raw\n",
          static_cast<unsigned long long>(g_mutate_runs),
          static_cast<unsigned long long>(g_raw_runs));
}

bool ToOff(const Image& im, uint64_t ptr, uint64_t need, uint64_t* off) {
  if (ptr < im.base) return false;
  const uint64_t o = ptr - im.base;
  if (o > im.bytes.size() || need > im.bytes.size() - o) return false;
  *off = o;
  return true;
}

// Vector at VPP address ptr with elements of elem bytes: data offset and length, if it fits.
bool ToVec(const Image& im, uint64_t ptr, uint64_t elem, uint64_t* off, uint32_t* len) {
  uint64_t h;
  if (ptr < 8 || !ToOff(im, ptr - 8, 8, &h)) return false;
  const uint32_t n = Ld32(im.bytes.data() + h);
  if (!ToOff(im, ptr, uint64_t(n) * elem, off)) return false;
  *len = n;
  return true;
}

void Index(Image* im) {
  const uint8_t* b = im->bytes.data();
  if (im->bytes.size() < 40) Die("fixture image smaller than the header");
  im->base = Ld64(b + 8);
  uint64_t off;
  uint32_t n;
  if (!ToVec(*im, Ld64(b + 32), statseg::kEntrySize, &off, &n)) Die("fixture directory unreadable");
  im->dir_off = off;
  im->dir_len = n;
  im->vec_data.push_back(off);
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t* e = b + off + uint64_t(i) * statseg::kEntrySize;
    const uint32_t type = Ld32(e);
    if (type != statseg::kSymlink) im->non_symlinks.push_back(i);
    const uint64_t value = Ld64(e + 8);
    uint64_t d;
    uint32_t rows;
    if (type == statseg::kCounterSimple || type == statseg::kCounterCombined ||
        type == statseg::kHistogramLog2 || type == statseg::kNameVector) {
      if (!ToVec(*im, value, 8, &d, &rows)) continue;
      im->vec_data.push_back(d);
      const uint64_t elem = type == statseg::kCounterCombined ? 16
                            : type == statseg::kNameVector    ? 1
                                                              : 8;
      for (uint32_t r = 0; r < rows; r++) {
        im->ptr_slots.push_back(d + uint64_t(r) * 8);
        uint64_t ro;
        uint32_t rl;
        if (ToVec(*im, Ld64(b + d + uint64_t(r) * 8), elem, &ro, &rl)) im->vec_data.push_back(ro);
      }
    }
  }
  if (im->non_symlinks.empty()) im->non_symlinks.push_back(0);
}

std::vector<uint8_t> ReadFile(const std::string& path) {
  std::vector<uint8_t> out;
  FILE* f = fopen(path.c_str(), "rb");
  if (f == nullptr) return out;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.insert(out.end(), buf, buf + n);
  fclose(f);
  return out;
}

void LoadImages() {
  std::string list;
  if (const char* env = getenv("VPP_FUZZ_IMAGES")) {
    list = env;
  } else {
    // The default place scripts/fuzz.sh gunzips the fixtures to.
    std::string cache;
    if (const char* c = getenv("VPP_EXPORTER_CACHE")) {
      cache = c;
    } else if (const char* x = getenv("XDG_CACHE_HOME")) {
      cache = std::string(x) + "/vpp-exporter";
    } else {
      const char* home = getenv("HOME");
      cache = std::string(home ? home : "/root") + "/.cache/vpp-exporter";
    }
    list = cache + "/fuzz/images/statseg.bin:" + cache + "/fuzz/images/statseg-churn.bin";
  }
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(':', pos);
    if (end == std::string::npos) end = list.size();
    const std::string path = list.substr(pos, end - pos);
    pos = end + 1;
    if (path.empty()) continue;
    Image im;
    im.name = path;
    im.bytes = ReadFile(path);
    if (im.bytes.empty()) {
      fprintf(stderr, "fuzz_statseg: cannot read image %s (set VPP_FUZZ_IMAGES)\n", path.c_str());
      abort();
    }
    Index(&im);
    g_images.push_back(std::move(im));
  }
  // Mutate mode is half of the point: refuse to run without the real images.
  if (g_images.empty()) Die("no fixture images (VPP_FUZZ_IMAGES is empty)");
}

// ---- Mutate mode ---------------------------------------------------------------------------

enum Region : uint8_t {
  kRegHeader,      // the 40-byte shared header
  kRegDirHeader,   // the directory vector's 16-byte vec header (length at -8)
  kRegEntry,       // any directory entry (most are symlinks)
  kRegDataEntry,   // a directory entry that is not a symlink
  kRegVecLen,      // the vec header of a vector the image contains
  kRegPtrSlot,     // a row / string pointer inside an outer vector
  kRegVecBody,     // the data of a vector (counters, string bytes)
  kRegAbsolute,    // any offset
  kRegEnd,         // the last 4 KiB of the image
  kRegDirEnd,      // around the end of the directory
  kRegions
};

// Value kinds 0-15 write one value (see ApplyPatch); these two write runs.
constexpr uint8_t kSmearPointer = 16;
constexpr uint8_t kSmearEntry = 17;
constexpr uint8_t kKinds = 18;

uint64_t CurBase(const uint8_t* buf, size_t size) { return size >= 16 ? Ld64(buf + 8) : 0; }

// Apply one patch to the image copy.
void ApplyPatch(const Image& im, uint8_t* buf, size_t size, const uint8_t* p) {
  const uint8_t op = p[0];
  const uint32_t idx = uint32_t(p[1]) | uint32_t(p[2]) << 8;
  const uint8_t sub = p[3];
  const uint32_t val = Ld32(p + 4);
  const uint8_t region = op % kRegions;
  const uint8_t kind = uint8_t(op / kRegions) % kKinds;

  if (kind == kSmearEntry) {
    // Copy one entry (by default a non-symlink one) over a run of 32..8192 entries starting at
    // `idx`: many entries sharing one data pointer, the shape of amplification attacks.
    const uint32_t src = (val >> 31) ? val % (im.dir_len ? im.dir_len : 1)
                                     : im.non_symlinks[val % im.non_symlinks.size()];
    const uint64_t from = im.dir_off + uint64_t(src) * statseg::kEntrySize;
    if (from + statseg::kEntrySize > size) return;
    uint8_t e[statseg::kEntrySize];
    memcpy(e, buf + from, sizeof e);
    const uint32_t count = 32u * (uint32_t(sub) + 1);
    const uint32_t first = idx % (im.dir_len + 1);
    for (uint32_t i = 0; i < count; i++) {
      const uint64_t to = im.dir_off + uint64_t(first + i) * statseg::kEntrySize;
      if (to + statseg::kEntrySize > size) break;
      memcpy(buf + to, e, sizeof e);
    }
    return;
  }

  uint64_t off = 0;
  switch (region) {
    case kRegHeader:
      off = idx % 40;
      break;
    case kRegDirHeader:
      off = im.dir_off - 16 + idx % 16;
      break;
    case kRegEntry:
    case kRegDataEntry: {
      const uint32_t e = region == kRegEntry ? idx % (im.dir_len + 1)
                                             : im.non_symlinks[idx % im.non_symlinks.size()];
      // sub < 128: a field (type @0, value @8, index2 @12); otherwise a byte of the name.
      static const uint8_t kField[3] = {0, 8, 12};
      off = im.dir_off + uint64_t(e) * statseg::kEntrySize +
            (sub < 128 ? kField[sub % 3] : statseg::kEntryNameOffset + (sub & 127));
      break;
    }
    case kRegVecLen:
      off = im.vec_data[idx % im.vec_data.size()] - 8 + sub % 8;
      break;
    case kRegPtrSlot:
      if (im.ptr_slots.empty()) return;
      off = im.ptr_slots[idx % im.ptr_slots.size()] + (kind < 2 ? sub % 8 : 0);
      break;
    case kRegVecBody:
      off = im.vec_data[idx % im.vec_data.size()] + uint64_t(sub) * 8;
      break;
    case kRegAbsolute:
      off = (uint64_t(idx) | uint64_t(sub) << 16) % im.bytes.size();
      break;
    case kRegEnd:
      if (size == 0) return;
      off = size - 1 - idx % 4096;  // wraps to a huge offset (skipped below) when size is small
      break;
    case kRegDirEnd:
      off = im.dir_off + uint64_t(im.dir_len) * statseg::kEntrySize + idx % 512 - 256;
      break;
  }

  const uint64_t base = CurBase(buf, size);
  uint8_t w[8];
  size_t wlen = 8;
  static const uint32_t kLens[] = {0,          1,          2,          3,         7,
                                   8,          4095,       4096,       4097,      65535,
                                   65536,      0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
                                   0x00ffffff};
  switch (kind) {
    case 0:  // one raw byte
      w[0] = uint8_t(val);
      wlen = 1;
      break;
    case 1:  // two raw bytes
      memcpy(w, p + 4, 2);
      wlen = 2;
      break;
    case 2:  // raw u32
      St32(w, val);
      wlen = 4;
      break;
    case 3:  // raw u32, zero-extended to u64
      St64(w, val);
      break;
    case 4: {  // pointer to (near) a real vector: aliasing, overlapping, off-by-some
      const uint64_t t = im.vec_data[val % im.vec_data.size()];
      St64(w, base + t + uint64_t(int64_t(int8_t(sub))));
      break;
    }
    case 5:  // pointer to the last bytes of the image
      St64(w, base + size - val % 4096);
      break;
    case 6:  // pointer anywhere in the image
      St64(w, base + (size ? val % size : 0));
      break;
    case 7:  // pointer just below base, or a small number (null-ish)
      St64(w, (val & 1) ? base - 1 - (val >> 1) % 4096 : (val >> 1) % 64);
      break;
    case 8: {  // edge-case u32 length, plus a small delta
      St32(w, kLens[val % 16] + uint32_t(int8_t(sub)));
      wlen = 4;
      break;
    }
    case 9: {  // copy 8 bytes from elsewhere in the image (a real pointer, length, name)
      const uint64_t from = size >= 8 ? val % (size - 7) : 0;
      if (size < 8) return;
      memcpy(w, buf + from, 8);
      break;
    }
    case 10:  // all ones
      memset(w, 0xff, 8);
      break;
    case 11: {  // symlink: index1 = a directory index (or just past), index2 = a column
      const uint32_t target = (val & 0xffff) % (im.dir_len + 2);
      const uint32_t column = sub < 250 ? sub : 0xffffffffu - (255 - sub);
      St64(w, uint64_t(target) | uint64_t(column) << 32);
      break;
    }
    case 12:  // an entry type, valid or not
      St32(w, val % 12 == 11 ? val : val % 12);
      wlen = 4;
      break;
    case 13:  // pointer to the vec header of a real vector (data - 8 and around)
      St64(w, base + im.vec_data[val % im.vec_data.size()] - (sub % 24));
      break;
    case 14:  // pointer with a huge offset (wraps when rebased)
      St64(w, base + (uint64_t(val) << 32) + sub);
      break;
    case 15:  // raw u64 from the four value bytes repeated
      St64(w, uint64_t(val) << 32 | val);
      break;
    case kSmearPointer: {  // 16..4096 copies of a pointer to a real vector (aliased rows)
      const uint64_t ptr = base + im.vec_data[val % im.vec_data.size()];
      const uint32_t count = 16u * (uint32_t(sub) + 1);
      for (uint32_t i = 0; i < count && off < size && size - off >= 8; i++, off += 8) {
        St64(buf + off, ptr);
      }
      return;
    }
    default:
      return;
  }
  if (off >= size) return;
  if (wlen > size - off) wlen = size - off;
  memcpy(buf + off, w, wlen);
}

// ---- The checks run on every image ---------------------------------------------------------

void Check(bool ok, const char* what) {
  if (!ok) Die(what);
}

// The reader's output must follow the contract in statseg.h, or the addon would index past it,
// and stay within the snapshot's copy budget (twice the mapping + 4 KiB per requested entry), or a
// corrupt segment could exhaust memory.
void CheckSnapshot(const std::vector<uint32_t>& idx, const Snapshot& s, size_t size, bool per_thread) {
  Check(s.layout.size() == idx.size(), "layout size != requested entries");
  Check(s.names.size() == idx.size() && s.name_present.size() == idx.size(),
        "names size != requested entries");
  uint64_t copied = s.values.size() * 8;
  for (const auto& v : s.names) {
    copied += v.size() * (sizeof(std::string) + 1);
    for (const auto& n : v) copied += n.size();
  }
  Check(copied <= 2 * uint64_t(size) + idx.size() * 4096, "snapshot copied past its budget");
  for (size_t k = 0; k < idx.size(); k++) {
    const auto& l = s.layout[k];
    if (l.status != 0) continue;
    Check(l.offset <= s.values.size(), "layout offset past the values");
    if (l.type == statseg::kNameVector) {
      Check(s.names[k].size() == s.name_present[k].size(), "names / name_present differ");
    }
    const bool summed_histogram = l.type == statseg::kHistogramLog2 && !per_thread;
    Check(!summed_histogram || (l.rows == 1 && l.width == 1), "summed histogram is not one row");
    if (l.rows == 0) continue;
    Check(l.width >= 1 && l.width <= 7, "bad width");
    Check(l.rows <= s.values.size() - l.offset, "row lengths past the values");
    uint64_t end = l.offset + l.rows;
    for (uint32_t r = 0; r < l.rows; r++) {
      const uint64_t len = s.values[l.offset + r];
      Check(len <= (s.values.size() - end) / l.width, "row past the values");
      end += len * l.width;
    }
    if (summed_histogram) {
      // [min_exp, at most kHistogramMaxExp finite bins, the open bin], or empty.
      const uint64_t len = s.values[l.offset];
      Check(len == 0 || (len >= 2 && len <= statseg::kHistogramMaxExp + 2), "summed histogram row length");
    }
  }
}

void CheckDirectory(const Directory& d, bool include_empty) {
  int64_t prev = -1;
  for (const auto& e : d.entries) {
    Check(e.index < d.length, "directory entry index past the length");
    Check(int64_t(e.index) > prev, "directory entries out of order");
    prev = e.index;
    Check(e.name.size() < statseg::kEntryNameMax + 1, "name too long");
    if (!include_empty) Check(e.type != statseg::kEmpty, "empty entry returned");
  }
}

// `buf` is the copy the reader sees: exactly `size` bytes on the heap, so ASan flags any overrun.
void Exercise(std::unique_ptr<uint8_t[]> buf, size_t size, uint8_t flags) {
  Error err;
  std::unique_ptr<Segment> seg(Segment::OpenMemory(buf.get(), size, &err));
  if (!seg) {
    Check(!err.ok(), "OpenMemory failed without an error");
    return;
  }
  statseg::Header h;
  Check(seg->ReadHeader(&h).ok(), "ReadHeader failed after OpenMemory succeeded");

  // ReadDirectory waits up to its own fixed 100 ms on in_progress and then reads nothing; skip it
  // then so a set in_progress costs 1 ms (the snapshot's busy timeout), not 400.
  uint32_t dir_len = 0;
  bool have_dir = false;
  if (h.in_progress == 0) {
    static const DirectoryOptions* kOpts = [] {
      auto* o = new DirectoryOptions[4];
      for (int i = 0; i < 4; i++) {
        if (i & 1) {
          o[i].skip_symlink_prefixes = {"/interfaces/", "/nodes/", "/err/", "",
                                        std::string(200, '/')};
        }
        o[i].include_empty = (i & 2) != 0;
      }
      return o;
    }();
    for (int i = 0; i < 4; i++) {
      Directory d;
      Error e = seg->ReadDirectory(kOpts[i], &d);
      if (!e.ok()) {
        Check(e.code == Code::kBadPointer, "ReadDirectory: unexpected error code");
        continue;
      }
      CheckDirectory(d, kOpts[i].include_empty);
      if (i & 1) {
        for (const auto& de : d.entries) Check(de.type != statseg::kSymlink, "symlink not skipped");
      }
      dir_len = d.length;
      have_dir = true;
    }
  }
  if (!have_dir) {
    // Size the index list from the vec header ourselves (bounded by the image).
    const uint64_t ptr = h.directory_vector;
    if (ptr >= h.base && ptr - h.base >= 8 && ptr - h.base <= size) {
      dir_len = Ld32(buf.get() + (ptr - h.base) - 8);
      const uint64_t cap = size / statseg::kEntrySize;
      if (dir_len > cap) dir_len = uint32_t(cap);
    }
  }

  std::vector<uint32_t> idx(dir_len);
  for (uint32_t i = 0; i < dir_len; i++) idx[i] = i;
  for (uint32_t x : {dir_len, dir_len + 1, 0x7fffffffu, 0xffffffffu}) idx.push_back(x);

  for (int per_thread = 0; per_thread < 2; per_thread++) {
    SnapshotOptions o;
    o.per_thread = per_thread != 0;
    o.busy_timeout_ns = 1'000'000;
    o.max_attempts = 2;
    if (flags & 1) {
      o.has_expected_epoch = true;
      o.expected_epoch = h.epoch;
    }
    Snapshot s;
    Error e = seg->TakeSnapshot(idx, o, &s);
    if (e.ok()) {
      CheckSnapshot(idx, s, size, per_thread != 0);
      Check(s.layout[dir_len].status == uint32_t(Code::kInvalidArg), "out-of-range index accepted");
    } else {
      Check(e.code == Code::kBadPointer || e.code == Code::kBusy || e.code == Code::kStale,
            "TakeSnapshot: unexpected error code");
    }
  }
  if (h.in_progress == 0 && (flags & 2)) {
    // A stale expected epoch must fail without reading.
    SnapshotOptions o;
    o.has_expected_epoch = true;
    o.expected_epoch = h.epoch + 1;
    o.busy_timeout_ns = 1'000'000;
    Snapshot s;
    Check(seg->TakeSnapshot(idx, o, &s).code == Code::kStale, "stale epoch not reported");
  }
  seg->Close();
  Directory d;
  Check(seg->ReadDirectory(DirectoryOptions{}, &d).code == Code::kClosed, "closed not reported");
}

void RunMutate(const uint8_t* data, size_t size) {
  const uint8_t mode = data[0];
  const Image& im = g_images[(mode >> 1) % g_images.size()];
  size_t pos = 1;
  size_t img_size = im.bytes.size();
  if (mode & 4) {  // truncated image: bytes 1-3 give the length
    if (size < 4) return;
    const uint32_t t = uint32_t(data[1]) | uint32_t(data[2]) << 8 | uint32_t(data[3]) << 16;
    img_size = t % (im.bytes.size() + 1);
    pos = 4;
  }
  std::unique_ptr<uint8_t[]> copy(new uint8_t[img_size]);
  if (img_size) memcpy(copy.get(), im.bytes.data(), img_size);
  for (; pos + kPatchSize <= size; pos += kPatchSize) {
    ApplyPatch(im, copy.get(), img_size, data + pos);
  }
  Exercise(std::move(copy), img_size, uint8_t(mode >> 3));
}

void RunRaw(const uint8_t* data, size_t size) {
  const uint8_t opt = size > 1 ? data[1] : 0;
  const size_t n = size > 2 ? size - 2 : 0;
  std::unique_ptr<uint8_t[]> img(new uint8_t[n]);
  if (n) memcpy(img.get(), data + 2, n);
  if (n >= statseg::kHeaderSize) {
    if (!(opt & 4)) St64(img.get(), statseg::kSupportedVersion);
    switch (opt & 3) {
      case 1: St64(img.get() + 8, 0); break;
      case 2: St64(img.get() + 8, kFixtureBase); break;
      default: break;
    }
  }
  Exercise(std::move(img), n, uint8_t(opt >> 3));
}

// ---- Seeds ---------------------------------------------------------------------------------

void WriteSeed(const std::string& dir, const std::string& name, const std::vector<uint8_t>& b) {
  const std::string path = dir + "/" + name;
  FILE* f = fopen(path.c_str(), "wb");
  if (f == nullptr) Die("cannot write a seed");
  fwrite(b.data(), 1, b.size(), f);
  fclose(f);
}

// A small image rebuilt from a fixture: the header, then a directory of a few entries of each
// kind taken from the fixture (rows cut to 4 counters, name vectors to 4 strings), symlinks
// retargeted to the copied counters, plus a histogram and a ring buffer (the fixtures have none).
// `base` is the base the pointers are written against.
std::vector<uint8_t> CompactImage(const Image& im, uint64_t base) {
  std::vector<uint8_t> out(64, 0);
  auto align = [&](size_t a) { out.resize((out.size() + a - 1) / a * a, 0); };
  // A vec of n elements of elem bytes: 16-byte header with the length at -8; returns data offset.
  auto vec = [&](uint32_t n, size_t elem, const uint8_t* src) -> uint64_t {
    align(8);
    out.resize(out.size() + 16, 0);
    const uint64_t d = out.size();
    St32(out.data() + d - 8, n);
    out[d - 4] = 2;  // hdr_size / 8
    out.resize(d + n * elem, 0);
    if (src && n) memcpy(out.data() + d, src, n * elem);
    return d;
  };
  const uint8_t* b = im.bytes.data();
  std::vector<uint32_t> pick;  // fixture indices copied, in order
  int per_type[10] = {};
  const int want[10] = {0, 3, 2, 2, 1, 1, 0, 0, 0, 2};
  for (uint32_t i = 0; i < im.dir_len && pick.size() < 12; i++) {
    const uint32_t t = Ld32(b + im.dir_off + uint64_t(i) * statseg::kEntrySize);
    if (t < 10 && per_type[t] < want[t]) {
      per_type[t]++;
      pick.push_back(i);
    }
  }
  std::vector<uint32_t> counters;  // new indices of the copied counter vectors
  for (size_t k = 0; k < pick.size(); k++) {
    const uint32_t t = Ld32(b + im.dir_off + uint64_t(pick[k]) * statseg::kEntrySize);
    if (t == statseg::kCounterSimple || t == statseg::kCounterCombined) {
      counters.push_back(uint32_t(k));
    }
  }
  const uint32_t n_sym = counters.empty() ? 0 : 3;
  const uint32_t n = uint32_t(pick.size()) + n_sym + 2;  // + symlinks, histogram, ring buffer
  const uint64_t dir = vec(n, statseg::kEntrySize, nullptr);
  St64(out.data() + 0, statseg::kSupportedVersion);
  St64(out.data() + 16, Ld64(b + 16));  // epoch
  St64(out.data() + 32, base + dir);
  auto entry = [&](uint32_t k) { return dir + uint64_t(k) * statseg::kEntrySize; };
  for (size_t k = 0; k < pick.size(); k++) {
    const uint8_t* src = b + im.dir_off + uint64_t(pick[k]) * statseg::kEntrySize;
    memcpy(out.data() + entry(uint32_t(k)), src, statseg::kEntrySize);
    const uint32_t t = Ld32(src);
    if (t != statseg::kCounterSimple && t != statseg::kCounterCombined && t != statseg::kNameVector)
      continue;
    uint64_t d;
    uint32_t rows;
    if (!ToVec(im, Ld64(src + 8), 8, &d, &rows)) continue;
    rows = rows > 4 ? 4 : rows;
    const size_t elem = t == statseg::kCounterCombined ? 16 : t == statseg::kNameVector ? 1 : 8;
    std::vector<uint64_t> ptrs(rows, 0);
    for (uint32_t r = 0; r < rows; r++) {
      uint64_t ro;
      uint32_t rl;
      if (!ToVec(im, Ld64(b + d + uint64_t(r) * 8), elem, &ro, &rl)) continue;
      if (t != statseg::kNameVector && rl > 4) rl = 4;
      ptrs[r] = base + vec(rl, elem, b + ro);
    }
    const uint64_t outer = vec(rows, 8, reinterpret_cast<const uint8_t*>(ptrs.data()));
    St64(out.data() + entry(uint32_t(k)) + 8, base + outer);
  }
  uint32_t k = uint32_t(pick.size());
  auto name = [&](uint32_t e, const char* s) {
    memset(out.data() + entry(e) + 16, 0, statseg::kEntryNameMax);
    memcpy(out.data() + entry(e) + 16, s, strlen(s));
  };
  for (uint32_t s = 0; s < n_sym; s++, k++) {
    St32(out.data() + entry(k), statseg::kSymlink);
    St64(out.data() + entry(k) + 8, uint64_t(counters[s % counters.size()]) | uint64_t(s) << 32);
    name(k, s == 0 ? "/interfaces/local0/rx" : s == 1 ? "/nodes/ip4-input/calls" : "/err/x/y");
  }
  {  // histogram: 2 threads of 1 + 4 bins
    const uint64_t bins[5] = {3, 1, 2, 3, 4};
    const uint64_t r0 = vec(5, 8, reinterpret_cast<const uint8_t*>(bins));
    const uint64_t r1 = vec(5, 8, reinterpret_cast<const uint8_t*>(bins));
    const uint64_t ptrs[2] = {base + r0, base + r1};
    const uint64_t outer = vec(2, 8, reinterpret_cast<const uint8_t*>(ptrs));
    St32(out.data() + entry(k), statseg::kHistogramLog2);
    St64(out.data() + entry(k) + 8, base + outer);
    name(k, "/fuzz/histogram");
    k++;
  }
  {  // ring buffer: header, 1 thread of metadata, 4 entries of 8 bytes
    align(8);
    const uint64_t rb = out.size();
    out.resize(rb + 28 + 4 + 64 + 32, 0);
    const uint32_t f[7] = {8, 4, 1, 0, 1, 32, 96};
    for (int i = 0; i < 7; i++) St32(out.data() + rb + i * 4, f[i]);
    St32(out.data() + entry(k), statseg::kRingBuffer);
    St64(out.data() + entry(k) + 8, base + rb);
    name(k, "/fuzz/ring");
    k++;
  }
  return out;
}

void WriteSeeds(const std::string& dir) {
  for (size_t i = 0; i < g_images.size() && i < 2; i++) {
    const Image& im = g_images[i];
    const std::string tag = "img" + std::to_string(i);
    const uint8_t mode = uint8_t(i << 1);  // mutate, image i
    WriteSeed(dir, "mutate-" + tag + "-plain", {mode});
    // One patch of each region, each with a different kind, to start the fuzzer off.
    for (uint8_t r = 0; r < kRegions; r++) {
      const uint8_t kind = uint8_t((r * 5 + 3) % 16);
      std::vector<uint8_t> s = {mode, uint8_t(r + kRegions * kind), 7, 0, 8, 0x10, 0, 0, 0};
      WriteSeed(dir, "mutate-" + tag + "-patch" + std::to_string(r), s);
    }
    WriteSeed(dir, "mutate-" + tag + "-truncated",
              {uint8_t(mode | 4), uint8_t(im.dir_off + 4000), uint8_t((im.dir_off + 4000) >> 8),
               uint8_t((im.dir_off + 4000) >> 16)});
    // Raw: prefixes of the real image (version and base as they are).
    for (size_t len : {8, 40, 48, 64, 512, 4094}) {
      std::vector<uint8_t> s = {1, 0};
      s.insert(s.end(), im.bytes.begin(), im.bytes.begin() + len);
      WriteSeed(dir, "raw-" + tag + "-prefix" + std::to_string(len), s);
    }
    // Raw: small images rebuilt from the real one, against the real base and against base 0.
    std::vector<uint8_t> s = {1, 0};
    auto c = CompactImage(im, im.base);
    s.insert(s.end(), c.begin(), c.end());
    WriteSeed(dir, "raw-" + tag + "-compact", s);
    s = {1, 1};
    c = CompactImage(im, 0);
    s.insert(s.end(), c.begin(), c.end());
    WriteSeed(dir, "raw-" + tag + "-compact-base0", s);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  LoadImages();
  if (const char* dir = getenv("VPP_FUZZ_WRITE_SEEDS")) {
    WriteSeeds(dir);
    exit(0);
  }
  atexit(PrintRuns);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] & 1) {
    g_raw_runs++;
    RunRaw(data, size);
  } else {
    g_mutate_runs++;
    RunMutate(data, size);
  }
  return 0;
}
