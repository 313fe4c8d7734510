// libFuzzer target for the stats segment reader (../statseg.cc), built by scripts/fuzz.sh with
// -fsanitize=fuzzer,address,undefined. Goal (docs/fuzzing.md, RELIABILITY.md B.6): no crash, no
// out-of-bounds read and no undefined behaviour on any segment image, however corrupt.
//
// Input format. The first byte picks the mode:
//
//   bit 0 = 0: MUTATE. A real VPP segment image (one of the fixtures, gunzipped by the script and
//     named in VPP_FUZZ_IMAGES) is patched in place. The rest of the input is a list of 8-byte
//     patches {op, idx lo, idx hi, sub, value[4]}: op % kRegions picks where to write (header,
//     directory vector length word, a directory entry's type/value/name, the length word of a
//     vector the image really contains, a pointer slot the image really contains, ...), op /
//     kRegions picks what (raw bytes, a u32 length from a table of edge values, a pointer to a
//     real vector / near the end / outside the mapping, a symlink target, a type, ...). So a few
//     bytes of input make exactly the corruptions a reader has to survive: dangling pointers,
//     lengths that run past the mapping, aliased vectors, bad symlinks. Two kinds write runs:
//     one pointer smeared over up to 4096 slots, one entry copied over up to 8192 entries (the
//     aliasing that would make a reader copy the same vector thousands of times).
//     Byte 0 bit 1 picks the image; bit 7 takes it whole (~5,180 directory entries), otherwise
//     with its directory cut to ~150 (CutDirectory: every vector as it is, fewer symlinks); bit 2
//     truncates the image to the length in bytes 1-3; bit 3 passes the header's epoch as the
//     expected epoch; bit 4 adds a stale-epoch snapshot; bits 5-6 pick the ReadDirectory options
//     (DirOptions(); 0 is the exporter's own).
//   bit 0 = 1: RAW. The input after two option bytes is the segment image itself. Option byte 1:
//     bits 0-1 base (00 as in the image, 01 zero so pointers are plain offsets, 10 the fixtures'
//     base); bit 2 keeps the version word as it is (otherwise it is set to 2 so that the header
//     check passes and the fuzzer gets past it); bits 3-4 as bits 3-4 of byte 0 in mutate mode.
//
// Every image lives in a heap buffer of exactly its size, so ASan reports any read past its end
// (a truncated image: the bytes past its length are poisoned). For each input: OpenMemory,
// ReadHeader, ReadDirectory, TakeSnapshot summed and per thread (200 us of busy timeout),
// the stale-epoch snapshot, Close. The results are checked against the documented layout contract
// (statseg.h EntryLayout) and the snapshot's copy budget (statseg.h TakeSnapshot): a violation
// aborts like a crash.
//
// What is read. A raw image (at most 4 KiB) is read whole: ReadDirectory with each of the four
// options, a snapshot of every directory index. A mutated image is read where the patches can
// make a difference (PlanMutate, and docs/fuzzing.md for the argument): the snapshot takes every
// entry whose reads (BuildFootprints) include a patched byte or a byte past the truncated end,
// every entry when the header's base or directory pointer moved, the entries and symlinks a
// changed directory length brings in or out, the targets of the symlinks taken, one entry named
// by each patch; ReadDirectory runs once, with the input's options, when a patch reached what it
// reads. Both add four out-of-range indices. Everything else reads the pristine bytes and so
// returns the pristine result: VPP_FUZZ_CHECK_UNTOUCHED=1 checks that on every run (a full
// snapshot of the rest, compared entry by entry with the pristine one; slow, for checking the
// target itself).
//
// VPP_FUZZ_WRITE_SEEDS=DIR: write the seed corpus (mutate seeds for each image, whole and cut,
// raw prefixes of the images and small raw images rebuilt from the images' own entries) into DIR
// and exit.
#include <sanitizer/asan_interface.h>

#include <algorithm>
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
using statseg::DirEntry;
using statseg::Directory;
using statseg::DirectoryOptions;
using statseg::Error;
using statseg::Segment;
using statseg::Snapshot;
using statseg::SnapshotOptions;

constexpr uint64_t kFixtureBase = 0x7fae09de1000ull;
constexpr size_t kPatchSize = 8;

// For the target's own loops that run on every input (selection, checks): libFuzzer learns
// nothing about the reader from their branches and comparisons, and tracing them cost a quarter
// of each run. ASan and UBSan still instrument them.
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))

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

// A byte range [off, off + len) of an image.
struct Range {
  uint64_t off;
  uint64_t len;
};

// A fixture image and the places in it worth corrupting, found by an independent, bounds-checked
// walk (not by the reader under test).
struct Image {
  std::string name;
  std::vector<uint8_t> bytes;  // pristine; `work` is restored from it after every run
  uint64_t base = 0;
  uint64_t dir_off = 0;
  uint32_t dir_len = 0;
  std::vector<uint32_t> non_symlinks;  // directory indices of entries that are not symlinks
  std::vector<uint64_t> vec_data;      // offsets of vector data (u32 length at -8)
  std::vector<uint64_t> ptr_slots;     // offsets of u64 pointers inside vectors (rows, strings)
  std::vector<uint32_t> cut_from;      // a cut image's entries: their index in the whole image

  // The buffer the reader sees in mutate mode: a heap block of exactly bytes.size(), patched in
  // place and restored after each run (a truncated image gets its tail poisoned instead), so ASan
  // still reports any read past the image's end without a 1 MB allocation and copy per run.
  std::unique_ptr<uint8_t[]> work;
  uint64_t runs = 0;

  // Footprints: what a snapshot of each entry of the pristine image reads (BuildFootprints).
  // Directory entries are read by their own entry and by the symlinks to them. Outside the
  // directory, foot_words lists the 8-byte words some entry reads, in order; the entries that read
  // foot_words[j] are foot_entries[foot_start[j] .. foot_start[j + 1]).
  std::vector<uint32_t> foot_words;
  std::vector<uint32_t> foot_start;
  std::vector<uint32_t> foot_entries;
  std::vector<uint32_t> link_start;    // symlinks to entry t: link_entries[link_start[t] ..]
  std::vector<uint32_t> link_entries;
  std::vector<uint32_t> dangling;      // symlinks whose target is past the directory's end
  std::vector<uint64_t> foot_end;      // per entry: where the last byte it reads or checks ends
  std::vector<uint32_t> by_foot_end;   // entries, the latest-ending first
  std::vector<uint32_t> mark;          // per entry: the last selection that took it
  uint32_t mark_gen = 0;

  // Pristine reads, for VPP_FUZZ_CHECK_UNTOUCHED (see CheckUntouched).
  std::vector<statseg::Directory> pristine_dirs;  // one per DirectoryOptions in DirOptions()
  statseg::Snapshot pristine_snap[2];             // every entry, summed and per thread
};

std::vector<Image> g_images;  // the fixture images
std::vector<Image> g_cut;     // the same with the directory cut (CutDirectory), one per image

// Inputs run per mode, printed at exit (scripts/fuzz.sh adds them up), and what the mutate runs
// read: the mix says what the execution count is made of.
uint64_t g_mutate_runs = 0;
uint64_t g_raw_runs = 0;
uint64_t g_full_runs = 0;     // mutate runs on a whole fixture image
uint64_t g_cut_runs = 0;      // mutate runs on one with its directory cut
uint64_t g_dir_reads = 0;     // mutate runs that read the directory
uint64_t g_moved_runs = 0;    // mutate runs that snapshot every entry (base or directory moved)
uint64_t g_entries_read = 0;  // entries snapshotted in mutate runs (out-of-range ones not counted)

void PrintRuns() {
  fprintf(stderr, "fuzz_statseg: executed %llu mutate, %llu raw\n",
          static_cast<unsigned long long>(g_mutate_runs),
          static_cast<unsigned long long>(g_raw_runs));
  fprintf(stderr,
          "fuzz_statseg: mutate runs: %llu on whole images, %llu on cut ones; %llu read the "
          "directory, %llu every entry; %llu entries snapshotted\n",
          static_cast<unsigned long long>(g_full_runs), static_cast<unsigned long long>(g_cut_runs),
          static_cast<unsigned long long>(g_dir_reads),
          static_cast<unsigned long long>(g_moved_runs),
          static_cast<unsigned long long>(g_entries_read));
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

// Each entry's footprint: the bytes a TakeSnapshot of it reads in the pristine image, following
// the reader's own read order (statseg.cc CopyEntry and below) with this file's independent
// bounds checks: the entry's type and value; for a counter vector or histogram, the outer
// vector's length word, its row pointers, each row's length word and data (all of it; for a
// symlink, only the element of its column, after the target entry's type and value); for a name
// vector, the outer vector and each string's length word and bytes; for a ring buffer, its
// 28-byte header. Vec headers are taken whole (8 bytes) though only the length is read. A walk
// that fails stops where the reader would stop. foot_end also covers what is only bounds-checked
// (a symlink's whole row, a ring buffer's regions), which a truncation can cut. Not in any
// footprint: the header words and the directory's length, which every entry reads (PlanMutate
// treats a change there on its own), and the entries' names, which only ReadDirectory reads.
//
// Why this is enough to pick the entries a patched run must snapshot: the reader is a
// deterministic function of the bytes it reads, the mapping's size and the copy budget left. An
// entry none of whose footprint bytes changed, in an image not cut short of its footprint, reads
// exactly what it read in the pristine image, step by step, so it takes the same path and returns
// the same result (the budget aside: docs/fuzzing.md); only an entry one of whose footprint bytes
// changed can reach anything new, and it does so from the first changed byte on.
NO_COVERAGE void BuildFootprints(Image* im) {
  const uint8_t* b = im->bytes.data();
  const uint64_t size = im->bytes.size();
  std::vector<std::pair<uint32_t, uint32_t>> words;  // (word, entry)
  std::vector<std::pair<uint32_t, uint32_t>> links;  // (target, symlink)
  const uint64_t dir_end = im->dir_off + uint64_t(im->dir_len) * statseg::kEntrySize;
  im->foot_end.assign(im->dir_len, 0);
  // A range the reader checks against the mapping's size without reading all of it: it matters
  // when the image is truncated, not when bytes change.
  auto checked = [&](uint32_t e, uint64_t off, uint64_t len) {
    if (len > 0) im->foot_end[e] = std::max(im->foot_end[e], off + len);
  };
  auto add = [&](uint32_t e, uint64_t off, uint64_t len) {
    if (len == 0 || off >= size) return;
    if (len > size - off) len = size - off;
    checked(e, off, len);
    // Vectors never overlap the directory (itself a vector) in a consistent image; PlanMutate
    // finds the entries that read a directory byte from the entry's index instead.
    if (off < dir_end && off + len > im->dir_off - 8) Die("fixture vector overlaps the directory");
    for (uint64_t w = off / 8; w <= (off + len - 1) / 8; w++) words.push_back({uint32_t(w), e});
  };
  // CopyCounterVector: `column` < 0 for the whole rows, else a symlink's column.
  auto counters = [&](uint32_t e, uint64_t ptr, uint64_t elem, int64_t column) {
    uint64_t h, d;
    uint32_t n;
    if (ptr < 8 || !ToOff(*im, ptr - 8, 8, &h)) return;
    add(e, h, 8);
    if (!ToVec(*im, ptr, 8, &d, &n) || n > 4096) return;  // 4096: statseg.cc kMaxRows
    add(e, d, uint64_t(n) * 8);
    for (uint32_t r = 0; r < n; r++) {
      const uint64_t row = Ld64(b + d + uint64_t(r) * 8);
      if (row == 0) continue;
      uint64_t rh, ro;
      uint32_t len;
      if (row < 8 || !ToOff(*im, row - 8, 8, &rh)) return;
      add(e, rh, 8);
      if (!ToVec(*im, row, elem, &ro, &len)) return;
      if (column < 0) {
        add(e, ro, uint64_t(len) * elem);
      } else {
        checked(e, ro, uint64_t(len) * elem);  // the whole row is bounds-checked
        if (uint64_t(column) < len) add(e, ro + uint64_t(column) * elem, elem);
      }
    }
  };
  for (uint32_t i = 0; i < im->dir_len; i++) {
    const uint64_t eo = im->dir_off + uint64_t(i) * statseg::kEntrySize;
    checked(i, eo, 16);  // its type and value
    const uint32_t type = Ld32(b + eo);
    const uint64_t value = Ld64(b + eo + 8);
    switch (type) {
      case statseg::kCounterSimple:
      case statseg::kHistogramLog2:
        counters(i, value, 8, -1);
        break;
      case statseg::kCounterCombined:
        counters(i, value, 16, -1);
        break;
      case statseg::kNameVector: {
        uint64_t h, d;
        uint32_t n;
        if (value < 8 || !ToOff(*im, value - 8, 8, &h)) break;
        add(i, h, 8);
        if (!ToVec(*im, value, 8, &d, &n)) break;
        add(i, d, uint64_t(n) * 8);
        for (uint32_t k = 0; k < n; k++) {
          const uint64_t str = Ld64(b + d + uint64_t(k) * 8);
          uint64_t sh, so;
          uint32_t len;
          if (str == 0) continue;
          if (str < 8 || !ToOff(*im, str - 8, 8, &sh)) break;
          add(i, sh, 8);
          if (!ToVec(*im, str, 1, &so, &len)) break;
          add(i, so, len);
        }
        break;
      }
      case statseg::kSymlink: {
        const uint32_t target = uint32_t(value);
        if (target >= im->dir_len) {
          im->dangling.push_back(i);
          break;
        }
        const uint64_t to = im->dir_off + uint64_t(target) * statseg::kEntrySize;
        links.push_back({target, i});  // reads the target's type and value
        checked(i, to, 16);
        const uint32_t tt = Ld32(b + to);
        if (tt == statseg::kCounterSimple || tt == statseg::kCounterCombined) {
          counters(i, Ld64(b + to + 8), tt == statseg::kCounterCombined ? 16 : 8,
                   int64_t(value >> 32));
        }
        break;
      }
      case statseg::kRingBuffer: {
        // Its header is read; the metadata and data regions it points at are only checked.
        uint64_t o;
        if (!ToOff(*im, value, 28, &o)) break;
        add(i, o, 28);
        const uint64_t threads = Ld32(b + o + 8), ring = Ld32(b + o + 4), entry = Ld32(b + o);
        uint64_t bytes;
        if (threads <= 4096 && !__builtin_mul_overflow(threads * ring, entry, &bytes)) {
          checked(i, o + Ld32(b + o + 20), threads * 64);
          checked(i, o + Ld32(b + o + 24), bytes);
        }
        break;
      }
      default:
        break;
    }
  }
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  for (size_t k = 0; k < words.size(); k++) {
    if (k == 0 || words[k].first != words[k - 1].first) {
      im->foot_words.push_back(words[k].first);
      im->foot_start.push_back(uint32_t(k));
    }
    im->foot_entries.push_back(words[k].second);
  }
  im->foot_start.push_back(uint32_t(words.size()));
  std::sort(links.begin(), links.end());
  im->link_start.assign(im->dir_len + 1, 0);
  im->link_entries.resize(links.size());
  for (size_t k = 0; k < links.size(); k++) {
    im->link_start[links[k].first + 1]++;
    im->link_entries[k] = links[k].second;
  }
  for (uint32_t t = 0; t < im->dir_len; t++) im->link_start[t + 1] += im->link_start[t];
  im->mark.assign(im->dir_len, 0);
  for (uint32_t i = 0; i < im->dir_len; i++) im->by_foot_end.push_back(i);
  std::sort(im->by_foot_end.begin(), im->by_foot_end.end(),
            [&](uint32_t x, uint32_t y) { return im->foot_end[x] > im->foot_end[y]; });
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

void Prepare(Image* im) {
  Index(im);
  BuildFootprints(im);
  im->work.reset(new uint8_t[im->bytes.size()]);
  memcpy(im->work.get(), im->bytes.data(), im->bytes.size());
}

// The image with its directory cut from ~5,180 entries to ~150: every entry that is not a
// symlink, and of the symlinks to each target the first, the last and two evenly spaced between
// (so the lowest and highest columns), retargeted to the target's new index. The space the
// directory no longer needs is taken out: the vectors after it move down and the pointers to them
// (entry values, row and string pointers) are rebased, so the image shrinks from 1 MB to ~300 KB.
// Every vector keeps its bytes; LLVMFuzzerInitialize checks that each entry of the cut image
// snapshots exactly like the entry it came from. A run on it costs a fraction of one on the whole
// image: the directory read and the snapshots of aliased entries scale with the entry count, and
// the copy budget that bounds an aliasing corruption with the mapping's size.
Image CutDirectory(const Image& full) {
  constexpr size_t kPerTarget = 4;
  const uint8_t* b = full.bytes.data();
  std::vector<uint32_t> keep;
  std::vector<std::vector<uint32_t>> by_target(full.dir_len);
  for (uint32_t i = 0; i < full.dir_len; i++) {
    const uint64_t eo = full.dir_off + uint64_t(i) * statseg::kEntrySize;
    const uint32_t target = Ld32(b + eo + 8);
    if (Ld32(b + eo) == statseg::kSymlink && target < full.dir_len) {
      by_target[target].push_back(i);
    } else {
      keep.push_back(i);
    }
  }
  for (const auto& v : by_target) {
    const size_t k = std::min(v.size(), kPerTarget);
    for (size_t j = 0; j < k; j++) keep.push_back(v[k == 1 ? 0 : j * (v.size() - 1) / (k - 1)]);
  }
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  std::vector<uint32_t> renumber(full.dir_len, UINT32_MAX);
  for (size_t k = 0; k < keep.size(); k++) renumber[keep[k]] = uint32_t(k);

  const uint64_t dir_end = full.dir_off + uint64_t(full.dir_len) * statseg::kEntrySize;
  const uint64_t cut_end = full.dir_off + keep.size() * statseg::kEntrySize;
  const uint64_t shift = dir_end - cut_end;
  Image im;
  im.name = full.name + " (directory cut)";
  im.cut_from = keep;
  im.bytes.assign(full.bytes.begin(), full.bytes.begin() + cut_end);
  im.bytes.insert(im.bytes.end(), full.bytes.begin() + dir_end, full.bytes.end());
  uint8_t* out = im.bytes.data();
  auto rebase = [&](uint64_t ptr) {
    if (ptr < full.base) return ptr;
    const uint64_t off = ptr - full.base;
    if (off >= cut_end && off < dir_end) Die("fixture pointer into its own directory");
    return off >= dir_end ? ptr - shift : ptr;
  };
  for (size_t k = 0; k < keep.size(); k++) {
    const uint64_t to = full.dir_off + k * statseg::kEntrySize;
    const uint64_t from = full.dir_off + uint64_t(keep[k]) * statseg::kEntrySize;
    memcpy(out + to, b + from, statseg::kEntrySize);
    const uint32_t type = Ld32(b + from);
    const uint64_t value = Ld64(b + from + 8);
    if (type == statseg::kSymlink && uint32_t(value) < full.dir_len) {
      St32(out + to + 8, renumber[uint32_t(value)]);  // a symlink's target is never a symlink: kept
    } else if (type == statseg::kCounterSimple || type == statseg::kCounterCombined ||
               type == statseg::kNameVector || type == statseg::kHistogramLog2 ||
               type == statseg::kRingBuffer) {
      St64(out + to + 8, rebase(value));
    }
  }
  for (uint64_t slot : full.ptr_slots) {
    if (slot >= full.dir_off && slot < dir_end) Die("fixture pointer slot inside its directory");
    St64(out + (slot >= dir_end ? slot - shift : slot), rebase(Ld64(b + slot)));
  }
  St32(out + full.dir_off - 8, uint32_t(keep.size()));
  Prepare(&im);
  return im;
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
    Prepare(&im);
    g_images.push_back(std::move(im));
  }
  // Mutate mode is half of the point: refuse to run without the real images.
  if (g_images.empty()) Die("no fixture images (VPP_FUZZ_IMAGES is empty)");
  for (const Image& im : g_images) g_cut.push_back(CutDirectory(im));
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

// Writes `count` copies of `item` from `off` on, as many as fit in the image.
NO_COVERAGE void Fill(uint8_t* buf, size_t size, uint64_t off, const uint8_t* item, size_t len,
                      uint32_t count, std::vector<Range>* dirty) {
  uint64_t to = off;
  for (uint32_t i = 0; i < count && to < size && size - to >= len; i++, to += len) {
    memcpy(buf + to, item, len);
  }
  if (to > off) dirty->push_back({off, to - off});
}

// Apply one patch to the image buffer, adding the bytes it wrote to `dirty`.
void ApplyPatch(const Image& im, uint8_t* buf, size_t size, const uint8_t* p,
                std::vector<Range>* dirty) {
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
    const uint32_t first = idx % (im.dir_len + 1);
    Fill(buf, size, im.dir_off + uint64_t(first) * statseg::kEntrySize, e, sizeof e,
         32u * (uint32_t(sub) + 1), dirty);
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
      uint8_t ptr[8];
      St64(ptr, base + im.vec_data[val % im.vec_data.size()]);
      Fill(buf, size, off, ptr, 8, 16u * (uint32_t(sub) + 1), dirty);
      return;
    }
    default:
      return;
  }
  if (off >= size) return;
  if (wlen > size - off) wlen = size - off;
  memcpy(buf + off, w, wlen);
  dirty->push_back({off, wlen});
}

// ---- The checks run on every image ---------------------------------------------------------

void Check(bool ok, const char* what) {
  if (!ok) Die(what);
}

// The reader's output must follow the contract in statseg.h, or the addon would index past it,
// and stay within the snapshot's copy budget (twice the mapping + 4 KiB per requested entry), or a
// corrupt segment could exhaust memory.
NO_COVERAGE void CheckSnapshot(const std::vector<uint32_t>& idx, const Snapshot& s, size_t size, bool per_thread) {
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

NO_COVERAGE void CheckDirectory(const Directory& d, bool include_empty) {
  int64_t prev = -1;
  for (const auto& e : d.entries) {
    Check(e.index < d.length, "directory entry index past the length");
    Check(int64_t(e.index) > prev, "directory entries out of order");
    prev = e.index;
    Check(e.name.size() < statseg::kEntryNameMax + 1, "name too long");
    if (!include_empty) Check(e.type != statseg::kEmpty, "empty entry returned");
  }
}

// What one run reads besides the header and the snapshot options.
constexpr int kAllDirectoryOptions = -1;
constexpr int kNoDirectory = 4;
struct Plan {
  int directory = kAllDirectoryOptions;  // ReadDirectory with all four DirOptions(), one, or none
  std::vector<uint32_t> idx;             // entries to snapshot, then four out-of-range indices
  size_t out_of_range = 0;               // where those start (the first is the directory length)
};

// Bit 0 set: symlinks are not skipped; bit 1 set: empty entries are included. Options 0 are the
// exporter's (it skips the per-interface, per-node and per-error symlinks).
const DirectoryOptions* DirOptions() {
  static const DirectoryOptions* opts = [] {
    auto* o = new DirectoryOptions[4];
    for (int i = 0; i < 4; i++) {
      if (!(i & 1)) {
        o[i].skip_symlink_prefixes = {"/interfaces/", "/nodes/", "/err/", "",
                                      std::string(200, '/')};
      }
      o[i].include_empty = (i & 2) != 0;
    }
    return o;
  }();
  return opts;
}

// The directory length a snapshot of `buf` sees, from the vec header (bounded by the image).
NO_COVERAGE uint32_t CurrentDirLength(const uint8_t* buf, size_t size) {
  if (size < statseg::kHeaderSize) return 0;
  const uint64_t base = Ld64(buf + 8);
  const uint64_t ptr = Ld64(buf + 32);
  if (ptr < base || ptr - base < 8 || ptr - base > size) return 0;
  const uint32_t n = Ld32(buf + (ptr - base) - 8);
  const uint64_t cap = size / statseg::kEntrySize;
  return n > cap ? uint32_t(cap) : n;
}

// Whether the directory vector lies inside the image, as TakeSnapshot requires before it reads
// any entry (statseg.cc Vec).
NO_COVERAGE bool DirectoryFits(const uint8_t* buf, size_t size) {
  if (size < statseg::kHeaderSize) return false;
  const uint64_t base = Ld64(buf + 8);
  const uint64_t ptr = Ld64(buf + 32);
  if (ptr < base || ptr - base < 8 || ptr - base > size) return false;
  const uint64_t n = Ld32(buf + (ptr - base) - 8);
  return n * statseg::kEntrySize <= size - (ptr - base);
}

void AddOutOfRange(uint32_t dir_len, Plan* plan) {
  plan->out_of_range = plan->idx.size();
  for (uint32_t x : {dir_len, dir_len + 1, 0x7fffffffu, 0xffffffffu}) plan->idx.push_back(x);
}

// The result vectors are lent from one run to the next, as the addon reuses its snapshot buffer:
// a fresh multi-megabyte vector per call page-faults on every word. They go back empty (their
// elements, strings included, are freed within the run, so libFuzzer's malloc/free balance, its
// leak heuristic, stays even), and std::vector is annotated for ASan (_GLIBCXX_SANITIZE_VECTOR in
// scripts/fuzz.sh), so the reader still cannot touch what lies past a vector's size.
template <typename T>
class Reuse {
 public:
  Reuse(std::vector<T>* v, std::vector<T>* spare) : v_(v), spare_(spare) { v_->swap(*spare_); }
  ~Reuse() {
    v_->clear();
    v_->swap(*spare_);
  }
  Reuse(const Reuse&) = delete;
  Reuse& operator=(const Reuse&) = delete;

 private:
  std::vector<T>* v_;
  std::vector<T>* spare_;
};

std::vector<DirEntry> g_dir_entries;
std::vector<uint64_t> g_values;
std::vector<statseg::EntryLayout> g_layout;
std::vector<std::vector<std::string>> g_names;
std::vector<std::vector<uint8_t>> g_name_present;

struct ReuseSnapshot {
  explicit ReuseSnapshot(Snapshot* s)
      : values(&s->values, &g_values),
        layout(&s->layout, &g_layout),
        names(&s->names, &g_names),
        present(&s->name_present, &g_name_present) {}
  Reuse<uint64_t> values;
  Reuse<statseg::EntryLayout> layout;
  Reuse<std::vector<std::string>> names;
  Reuse<std::vector<uint8_t>> present;
};

// `buf` is what the reader sees: exactly `size` addressable bytes on the heap (ASan reports any
// read past them).
void Exercise(const uint8_t* buf, size_t size, uint8_t flags, const Plan& plan) {
  Error err;
  std::unique_ptr<Segment> seg(Segment::OpenMemory(buf, size, &err));
  if (!seg) {
    Check(!err.ok(), "OpenMemory failed without an error");
    return;
  }
  statseg::Header h;
  Check(seg->ReadHeader(&h).ok(), "ReadHeader failed after OpenMemory succeeded");

  // ReadDirectory waits up to its own fixed 100 ms on in_progress and then reads nothing; skip it
  // then so a set in_progress costs the snapshots' short busy timeout, not 100 ms per call.
  if (h.in_progress == 0 && plan.directory != kNoDirectory) {
    for (int i = 0; i < 4; i++) {
      if (plan.directory != kAllDirectoryOptions && plan.directory != i) continue;
      Directory d;
      Reuse<DirEntry> keep(&d.entries, &g_dir_entries);
      Error e = seg->ReadDirectory(DirOptions()[i], &d);
      if (!e.ok()) {
        Check(e.code == Code::kBadPointer, "ReadDirectory: unexpected error code");
        continue;
      }
      CheckDirectory(d, DirOptions()[i].include_empty);
      if (!(i & 1)) {
        for (const auto& de : d.entries) Check(de.type != statseg::kSymlink, "symlink not skipped");
      }
    }
  }

  const std::vector<uint32_t>& idx = plan.idx;
  for (int per_thread = 0; per_thread < 2; per_thread++) {
    SnapshotOptions o;
    o.per_thread = per_thread != 0;
    // 200 us: long enough for the spin and a few of the sleeps of the busy wait (statseg.cc
    // Pause), so a set in_progress still takes the whole wait-then-BUSY path.
    o.busy_timeout_ns = 200'000;
    o.max_attempts = 2;
    if (flags & 1) {
      o.has_expected_epoch = true;
      o.expected_epoch = h.epoch;
    }
    Snapshot s;
    ReuseSnapshot keep(&s);
    Error e = seg->TakeSnapshot(idx, o, &s);
    if (e.ok()) {
      CheckSnapshot(idx, s, size, per_thread != 0);
      Check(s.layout[plan.out_of_range].status == uint32_t(Code::kInvalidArg),
            "out-of-range index accepted");
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
    o.busy_timeout_ns = 200'000;
    Snapshot s;
    ReuseSnapshot keep(&s);
    Check(seg->TakeSnapshot(idx, o, &s).code == Code::kStale, "stale epoch not reported");
  }
  seg->Close();
  Directory d;
  Check(seg->ReadDirectory(DirectoryOptions{}, &d).code == Code::kClosed, "closed not reported");
}

// What a mutate run must read so that every reader path its patches can reach is taken, given
// the bytes they wrote (`dirty`) and the truncated length `size` (see docs/fuzzing.md):
//  * the entries whose footprint (BuildFootprints) holds a written byte, or a byte past `size`:
//    the only ones that can read anything the pristine image did not hold;
//  * all of them when the header's base or directory pointer changed, since every pointer then
//    resolves elsewhere;
//  * when the directory's length changed: the entries between the old and the new length, and
//    the symlinks whose target crossed it;
//  * the targets of the symlinks taken, one entry named by each patch's value word (so that
//    untouched entries share the snapshot and its budget with the corrupt ones), and four
//    out-of-range indices;
//  * ReadDirectory, with the options bits 5-6 of byte 0 pick, when a written or truncated byte
//    lies in what it reads (header, directory length, entries).
// Entries outside the selection read the pristine bytes and return the pristine result
// (VPP_FUZZ_CHECK_UNTOUCHED=1 checks exactly that on every run).
// The entries a plan takes: each once, in index order.
class Selection {
 public:
  NO_COVERAGE explicit Selection(Image* im) : im_(im) {
    if (++im_->mark_gen == 0) {
      std::fill(im_->mark.begin(), im_->mark.end(), 0);
      im_->mark_gen = 1;
    }
  }
  NO_COVERAGE void Take(uint32_t e) {
    if (e >= im_->dir_len) {
      past_.push_back(e);  // past the pristine directory: only when the length grew
      return;
    }
    if (im_->mark[e] == im_->mark_gen) return;
    im_->mark[e] = im_->mark_gen;
    taken_.push_back(e);
  }
  // The symlinks that read entry t's type and value.
  NO_COVERAGE void TakeLinks(uint32_t t) {
    for (uint32_t k = im_->link_start[t]; k < im_->link_start[t + 1]; k++) {
      Take(im_->link_entries[k]);
    }
  }
  // The entries that read any of the (non-directory) bytes [from, to).
  NO_COVERAGE void TakeReaders(uint64_t from, uint64_t to) {
    if (from >= to) return;
    const auto& words = im_->foot_words;
    const uint64_t last = (to - 1) / 8;
    for (size_t j = std::lower_bound(words.begin(), words.end(), from / 8) - words.begin();
         j < words.size() && words[j] <= last; j++) {
      for (uint32_t k = im_->foot_start[j]; k < im_->foot_start[j + 1]; k++) {
        Take(im_->foot_entries[k]);
      }
    }
  }
  const std::vector<uint32_t>& taken() const { return taken_; }
  // The selection in index order into `out`.
  NO_COVERAGE void Emit(std::vector<uint32_t>* out) {
    if (taken_.size() > 256) {
      for (uint32_t e = 0; e < im_->dir_len; e++) {
        if (im_->mark[e] == im_->mark_gen) out->push_back(e);
      }
    } else {
      std::sort(taken_.begin(), taken_.end());
      out->insert(out->end(), taken_.begin(), taken_.end());
    }
    std::sort(past_.begin(), past_.end());
    past_.erase(std::unique(past_.begin(), past_.end()), past_.end());
    out->insert(out->end(), past_.begin(), past_.end());
  }

 private:
  Image* im_;
  std::vector<uint32_t> taken_;
  std::vector<uint32_t> past_;
};

NO_COVERAGE bool PlanMutate(Image* im, const uint8_t* buf, size_t size,
                            const std::vector<Range>& dirty, const uint8_t* patches,
                            size_t n_patches, int dir_option, Plan* plan) {
  const uint32_t cur_len = CurrentDirLength(buf, size);
  const uint64_t dir_end = im->dir_off + uint64_t(im->dir_len) * statseg::kEntrySize;
  std::vector<uint32_t>& idx = plan->idx;
  idx.clear();
  bool read_dir = false;
  bool every = false;
  const bool moved = size < statseg::kHeaderSize || Ld64(buf + 8) != im->base ||
                     Ld64(buf + 32) != im->base + im->dir_off;
  if (!DirectoryFits(buf, size)) {
    // A snapshot fails before it reads any entry: the entries requested make no difference.
    read_dir = true;
  } else if (moved) {
    for (uint32_t i = 0; i < cur_len; i++) idx.push_back(i);
    read_dir = true;
    every = true;
  } else {
    Selection sel(im);
    for (const Range& r : dirty) {
      const uint64_t end = r.off + r.len;
      if (r.off < statseg::kHeaderSize || (end > im->dir_off - 8 && r.off < dir_end)) {
        read_dir = true;
      }
      if (end <= im->dir_off || r.off >= dir_end) {
        sel.TakeReaders(r.off, end);
        continue;
      }
      sel.TakeReaders(r.off, im->dir_off);
      sel.TakeReaders(dir_end, end);
      // Entries whose type or value (the first 16 bytes) changed, and the symlinks to them.
      const uint64_t first = (std::max(r.off, im->dir_off) - im->dir_off) / statseg::kEntrySize;
      const uint64_t last = (std::min(end, dir_end) - 1 - im->dir_off) / statseg::kEntrySize;
      for (uint64_t e = first; e <= last; e++) {
        const uint64_t eo = im->dir_off + e * statseg::kEntrySize;
        if (r.off >= eo + 16 || end <= eo) continue;  // only its name changed
        sel.Take(uint32_t(e));
        sel.TakeLinks(uint32_t(e));
      }
    }
    if (size < im->bytes.size()) {
      if (size < dir_end) read_dir = true;
      for (uint32_t e : im->by_foot_end) {
        if (im->foot_end[e] <= size) break;
        sel.Take(e);
      }
    }
    if (cur_len != im->dir_len) {
      read_dir = true;
      for (uint32_t e = im->dir_len; e < cur_len; e++) sel.Take(e);
      // Symlinks to the entries between the two lengths: in range before, not now.
      for (uint32_t t = std::min(cur_len, im->dir_len); t < im->dir_len; t++) sel.TakeLinks(t);
      if (cur_len > im->dir_len) {
        for (uint32_t e : im->dangling) sel.Take(e);  // their target may now be in range
      }
    }
    // The current targets of the symlinks taken.
    const size_t n_taken = sel.taken().size();
    for (size_t k = 0; k < n_taken; k++) {
      const uint32_t e = sel.taken()[k];
      const uint64_t eo = im->dir_off + uint64_t(e) * statseg::kEntrySize;
      if (e < cur_len && eo + 16 <= size && Ld32(buf + eo) == statseg::kSymlink) {
        const uint32_t target = Ld32(buf + eo + 8);
        if (target < cur_len) sel.Take(target);
      }
    }
    if (cur_len > 0) {
      for (size_t k = 0; k < n_patches; k++) sel.Take(Ld32(patches + k * kPatchSize + 4) % cur_len);
    }
    sel.Emit(&idx);
  }
  AddOutOfRange(cur_len, plan);
  plan->directory = read_dir ? dir_option : kNoDirectory;
  return every;
}

bool g_check_untouched = false;

void CheckUntouched(Image* im, const uint8_t* buf, size_t size, const Plan& plan);

void RunMutate(const uint8_t* data, size_t size) {
  const uint8_t mode = data[0];
  std::vector<Image>& set = (mode & 0x80) ? g_images : g_cut;
  Image& im = set[(mode >> 1) % set.size()];
  (mode & 0x80 ? g_full_runs : g_cut_runs)++;
  size_t pos = 1;
  const size_t full = im.bytes.size();
  size_t img_size = full;
  if (mode & 4) {  // truncated image: bytes 1-3 give the length
    if (size < 4) return;
    const uint32_t t = uint32_t(data[1]) | uint32_t(data[2]) << 8 | uint32_t(data[3]) << 16;
    img_size = t % (full + 1);
    pos = 4;
  }
  uint8_t* buf = im.work.get();
  // The bytes past a truncated length are poisoned: to ASan the block then ends there.
  if (img_size < full) ASAN_POISON_MEMORY_REGION(buf + img_size, full - img_size);
  static std::vector<Range> dirty;
  dirty.clear();
  const uint8_t* patches = data + pos;
  const size_t n_patches = (size - pos) / kPatchSize;
  for (size_t k = 0; k < n_patches; k++) {
    ApplyPatch(im, buf, img_size, patches + k * kPatchSize, &dirty);
  }
  static Plan plan;
  if (PlanMutate(&im, buf, img_size, dirty, patches, n_patches, (mode >> 5) & 3, &plan)) {
    g_moved_runs++;
  }
  if (plan.directory != kNoDirectory) g_dir_reads++;
  g_entries_read += plan.out_of_range;
  Exercise(buf, img_size, uint8_t(mode >> 3), plan);
  if (g_check_untouched) CheckUntouched(&im, buf, img_size, plan);

  for (const Range& r : dirty) memcpy(buf + r.off, im.bytes.data() + r.off, r.len);
  if (img_size < full) ASAN_UNPOISON_MEMORY_REGION(buf + img_size, full - img_size);
  // The selection above relies on the buffer being pristine outside this run's patches.
  if ((++im.runs & 1023) == 0 && memcmp(buf, im.bytes.data(), full) != 0) {
    Die("the image buffer was not restored after a run");
  }
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
  // A raw image is at most 4 KiB: read all of it, every way.
  static Plan plan;
  plan.directory = kAllDirectoryOptions;
  plan.idx.clear();
  const uint32_t len = CurrentDirLength(img.get(), n);
  for (uint32_t i = 0; i < len; i++) plan.idx.push_back(i);
  AddOutOfRange(len, &plan);
  Exercise(img.get(), n, uint8_t(opt >> 3), plan);
}

// ---- VPP_FUZZ_CHECK_UNTOUCHED: the selection's premise, checked --------------------------

NO_COVERAGE bool SameEntry(const Snapshot& a, size_t ka, const Snapshot& b, size_t kb) {
  const auto& la = a.layout[ka];
  const auto& lb = b.layout[kb];
  if (la.status != lb.status || la.type != lb.type || la.rows != lb.rows || la.width != lb.width) {
    return false;
  }
  auto span = [](const Snapshot& s, size_t k) {
    const uint64_t end = k + 1 < s.layout.size() ? s.layout[k + 1].offset : s.values.size();
    return std::make_pair(s.layout[k].offset, end);
  };
  const auto sa = span(a, ka), sb = span(b, kb);
  if (sa.second - sa.first != sb.second - sb.first) return false;
  if (!std::equal(a.values.begin() + sa.first, a.values.begin() + sa.second,
                  b.values.begin() + sb.first)) {
    return false;
  }
  return a.names[ka] == b.names[kb] && a.name_present[ka] == b.name_present[kb];
}

NO_COVERAGE bool SameDirectory(const Directory& a, const Directory& b) {
  if (a.length != b.length || a.entries.size() != b.entries.size()) return false;
  for (size_t k = 0; k < a.entries.size(); k++) {
    const auto& x = a.entries[k];
    const auto& y = b.entries[k];
    if (x.index != y.index || x.type != y.type || x.value != y.value || x.name != y.name) {
      return false;
    }
  }
  return true;
}

// Every entry of a cut image must snapshot exactly like the whole image's entry it came from:
// the cut moved vectors and rebased pointers, and must not have changed what they hold.
void CheckCut(const Image& whole, const Image& cut) {
  Error err;
  std::unique_ptr<Segment> ws(Segment::OpenMemory(whole.bytes.data(), whole.bytes.size(), &err));
  std::unique_ptr<Segment> cs(Segment::OpenMemory(cut.bytes.data(), cut.bytes.size(), &err));
  if (!ws || !cs) Die("a fixture image does not open");
  std::vector<uint32_t> all(cut.dir_len);
  for (uint32_t i = 0; i < cut.dir_len; i++) all[i] = i;
  for (int pt = 0; pt < 2; pt++) {
    SnapshotOptions o;
    o.per_thread = pt != 0;
    Snapshot w, c;
    if (!ws->TakeSnapshot(cut.cut_from, o, &w).ok() || !cs->TakeSnapshot(all, o, &c).ok()) {
      Die("a fixture image does not snapshot");
    }
    for (uint32_t k = 0; k < cut.dir_len; k++) {
      if (w.layout[k].status != 0 || !SameEntry(w, k, c, k)) {
        Die("the cut image reads differently from the whole one");
      }
    }
  }
}

void ReadPristine(Image* im) {
  Error err;
  std::unique_ptr<Segment> seg(Segment::OpenMemory(im->bytes.data(), im->bytes.size(), &err));
  if (!seg) Die("pristine image does not open");
  im->pristine_dirs.resize(4);
  for (int i = 0; i < 4; i++) {
    if (!seg->ReadDirectory(DirOptions()[i], &im->pristine_dirs[i]).ok()) {
      Die("pristine directory unreadable");
    }
  }
  std::vector<uint32_t> all(im->dir_len);
  for (uint32_t i = 0; i < im->dir_len; i++) all[i] = i;
  for (int pt = 0; pt < 2; pt++) {
    SnapshotOptions o;
    o.per_thread = pt != 0;
    if (!seg->TakeSnapshot(all, o, &im->pristine_snap[pt]).ok()) Die("pristine snapshot failed");
  }
}

// Every entry the plan left out must read exactly as in the pristine image, and so must the
// directory when the plan skipped it; otherwise the selection missed a path and the run checked
// less than it should. Costs a full snapshot per run: for checking the target, not for campaigns.
NO_COVERAGE void CheckUntouched(Image* im, const uint8_t* buf, size_t size, const Plan& plan) {
  if (size < statseg::kHeaderSize || Ld64(buf) != statseg::kSupportedVersion ||
      Ld64(buf + 24) != 0 || Ld64(buf + 8) != im->base ||
      Ld64(buf + 32) != im->base + im->dir_off) {
    return;  // not opened, busy, or every entry selected
  }
  if (!DirectoryFits(buf, size)) return;  // no snapshot reads any entry
  Error err;
  std::unique_ptr<Segment> seg(Segment::OpenMemory(buf, size, &err));
  if (!seg) return;
  if (plan.directory == kNoDirectory) {
    for (int i = 0; i < 4; i++) {
      Directory d;
      Check(seg->ReadDirectory(DirOptions()[i], &d).ok() && SameDirectory(d, im->pristine_dirs[i]),
            "CHECK_UNTOUCHED: the directory changed but was not read");
    }
  }
  const uint32_t n = std::min(CurrentDirLength(buf, size), im->dir_len);
  std::vector<uint32_t> rest;
  for (uint32_t i = 0; i < n; i++) {
    if (!std::binary_search(plan.idx.begin(), plan.idx.begin() + plan.out_of_range, i)) {
      rest.push_back(i);
    }
  }
  for (int pt = 0; pt < 2; pt++) {
    SnapshotOptions o;
    o.per_thread = pt != 0;
    Snapshot s;
    Error e = seg->TakeSnapshot(rest, o, &s);
    if (!e.ok()) {
      fprintf(stderr, "fuzz_statseg: %s\n", e.message.c_str());
      Die("CHECK_UNTOUCHED: the entries left out do not read");
    }
    for (size_t k = 0; k < rest.size(); k++) {
      if (!SameEntry(s, k, im->pristine_snap[pt], rest[k])) {
        fprintf(stderr, "fuzz_statseg: entry %u (per_thread %d) differs\n", rest[k], pt);
        Die("CHECK_UNTOUCHED: an entry left out reads differently from the pristine image");
      }
    }
  }
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
    // Mutate image i, whole and with its directory cut; directory options 0 and 3.
    for (uint8_t whole : {0, 0x80}) {
      const uint8_t mode = uint8_t(i << 1 | whole);
      const std::string mtag = (whole ? "img" : "cut") + std::to_string(i);
      WriteSeed(dir, "mutate-" + mtag + "-plain", {mode});
      // One patch of each region, each with a different kind, to start the fuzzer off.
      for (uint8_t r = 0; r < kRegions; r++) {
        const uint8_t kind = uint8_t((r * 5 + 3) % 16);
        const uint8_t m = uint8_t(mode | (r & 1 ? 0x60 : 0));
        std::vector<uint8_t> s = {m, uint8_t(r + kRegions * kind), 7, 0, 8, 0x10, 0, 0, 0};
        WriteSeed(dir, "mutate-" + mtag + "-patch" + std::to_string(r), s);
      }
      WriteSeed(dir, "mutate-" + mtag + "-truncated",
                {uint8_t(mode | 4), uint8_t(im.dir_off + 4000), uint8_t((im.dir_off + 4000) >> 8),
                 uint8_t((im.dir_off + 4000) >> 16)});
    }
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
  for (size_t i = 0; i < g_cut.size(); i++) CheckCut(g_images[i], g_cut[i]);
  // Mutate runs read only what their patches can change; the pristine images are read whole
  // here, every way, with the same checks.
  for (const std::vector<Image>* set : {&g_images, &g_cut}) {
    for (const Image& im : *set) {
      Plan all;
      for (uint32_t i = 0; i < im.dir_len; i++) all.idx.push_back(i);
      AddOutOfRange(im.dir_len, &all);
      Exercise(im.work.get(), im.bytes.size(), 3, all);
    }
  }
  if (const char* c = getenv("VPP_FUZZ_CHECK_UNTOUCHED")) g_check_untouched = *c && *c != '0';
  if (g_check_untouched) {
    for (Image& im : g_images) ReadPristine(&im);
    for (Image& im : g_cut) ReadPristine(&im);
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
