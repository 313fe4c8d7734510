// Prometheus text / OpenMetrics exposition written from a snapshot's values, in plain C++ (no
// Node), byte for byte what src/exporters/exposition.ts renderPlan writes.
//
// Two halves, like the reader's directory and snapshot:
//   - RenderPlan: built once per directory epoch from arrays JavaScript prepares (every label
//     text as UTF-8 in one arena, deduplicated; family names and both header variants; per
//     series the label slice, snapshot entry k, column and word). Validated once, immutable.
//   - Renderer: one per scrape. Begin() checks the snapshot's layout against the plan and builds
//     the row table (every offset and length bounds-checked, so a plan from another epoch gets an
//     error, never a read out of bounds); Fill() then writes whole lines into the caller's
//     buffer, as many as fit, and keeps a cursor for the next call.
//
// Line shapes (name, labels and the label name of col -1 series come from the plan):
//   col >= 0, no labels:  name[{thread="t"}] value
//   col >= 0, labels:     name{labels[,thread="t"]} value
//   col -1 (per column):  name{label="c"[,thread="t"]} value      for every column c of the row
//   histogram family (one series per entry; a row is VPP's [min_exp, bin 0, bin 1, ...]):
//     name_bucket{[labels,][thread="t",]le="<bound>"} cumulative  for each finite bin
//     name_bucket{[labels,][thread="t",]le="+Inf"} total
//     name_count[{labels[,thread="t"]}] total                       text format only
//   Bin j is finite when it is not the row's last bin and min_exp + j + 1 <= kHistogramMaxExp;
//   its bound is the plan's le text for exponent min_exp + j + 1. The rest count only in +Inf.
//   OpenMetrics 1.0 allows _count only together with _sum, which log2 bins do not give.
// Values are u64 in decimal; above 2^53 they print as JavaScript prints the nearest double
// (String(hi * 2 ** 32 + lo)): its shortest round-trip digits, padded with zeros.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace expo {

// Words per family in the families array JavaScript hands over.
constexpr size_t kFamilyWords = 9;
// Words per series in the series array.
constexpr size_t kSeriesWords = 5;
// Words per entry in a snapshot layout (status, type, offset, rows, width).
constexpr size_t kLayoutWords = 5;

enum FamilyFlags : uint32_t {
  kNoThreadLabel = 1,  // process-wide values: never a thread label
  kExtraRow = 2,       // node vectors: only the first `threads` rows are real
  kHistogram = 4,      // VPP log2 histograms: bucket lines per row (see above)
};

// Largest exponent of a finite histogram bound (statseg.h kHistogramMaxExp, the reader's copy).
constexpr uint64_t kHistogramMaxExp = 64;

struct Family {
  uint32_t series_begin;
  uint32_t series_end;
  uint32_t name_off;
  uint32_t name_len;
  uint32_t head_off[2];  // [0] text 0.0.4, [1] OpenMetrics
  uint32_t head_len[2];
  uint32_t flags;
};

struct Series {
  uint32_t label_off;  // col >= 0: the label pairs; col -1: the name of the column label
  uint32_t label_len;
  uint32_t k;          // snapshot entry
  int32_t col;         // column, or -1 for one series per column
  uint32_t word;       // word within the element (0, or 1 for the bytes of combined counters)
};

class RenderPlan {
 public:
  // families: kFamilyWords per family (series_begin, series_end, name_off, name_len,
  // text_head_off, text_head_len, om_head_off, om_head_len, flags); series: kSeriesWords per
  // series (label_off, label_len, k, col as two's complement, word). Families must cover the
  // series in order. le: 2 words (offset, length in the arena) per exponent 1..kHistogramMaxExp,
  // the text of the bound 2^e - 1; needed only when a family has kHistogram (may be null
  // otherwise). Returns nullptr with a message when anything is out of range.
  static std::shared_ptr<const RenderPlan> Build(const uint8_t* arena, size_t arena_len,
                                                 const uint32_t* families, size_t families_len,
                                                 const uint32_t* series, size_t series_len,
                                                 uint32_t slots, const uint32_t* le, size_t le_len,
                                                 std::string* err);

  uint32_t slots() const { return slots_; }
  size_t series_count() const { return series_.size(); }
  size_t family_count() const { return families_.size(); }
  size_t arena_bytes() const { return arena_.size(); }

 private:
  friend class Renderer;
  RenderPlan() = default;

  std::vector<uint8_t> arena_;
  std::vector<Family> families_;
  std::vector<Series> series_;
  uint32_t slots_ = 0;
  // Per entry k: the largest word any series reads (to check against the snapshot's width), or
  // -1 when no series reads k.
  std::vector<int32_t> max_word_;
  // Histogram bound texts by exponent (index 0 unused), and the longest.
  uint32_t le_off_[kHistogramMaxExp + 1] = {};
  uint32_t le_len_[kHistogramMaxExp + 1] = {};
  size_t le_max_ = 0;
};

struct RenderOptions {
  bool per_thread = false;
  bool open_metrics = false;
  uint32_t threads = 1;  // real threads; rows past it in node vectors are VPP's padding
};

class Renderer {
 public:
  explicit Renderer(std::shared_ptr<const RenderPlan> plan) : plan_(std::move(plan)) {}

  // Checks the snapshot against the plan and builds the row table. False (with a message) when
  // the layout does not describe the plan's entries or points outside the values.
  bool Begin(const uint64_t* values, size_t nvalues, const uint32_t* layout, size_t layout_len,
             const RenderOptions& opts, std::string* err);

  // Writes whole lines into out[0, cap) (a line longer than cap is split across calls) and
  // returns the bytes written; 0 means the exposition is complete. `values` is passed again on
  // every call because its buffer may have moved; it must still hold the values Begin checked.
  bool Fill(const uint64_t* values, size_t nvalues, uint8_t* out, size_t cap, size_t* written,
            std::string* err);

  bool done() const { return fam_ >= plan_->families_.size() && pend_pos_ >= pending_.size(); }
  // Bytes handed out so far.
  uint64_t bytes() const { return bytes_; }

 private:
  struct Row {
    uint64_t start;  // index in values of the row's first word
    uint64_t len;    // elements
  };

  // Upper bound of one line's length for series s (the label text plus numbers and punctuation).
  size_t LineBound(const Family& f, const Series& s) const;
  // Writes one line; `p` has at least LineBound bytes. Returns the end.
  uint8_t* WriteLine(uint8_t* p, const uint64_t* values, const Family& f, const Series& s,
                     const Row& row, uint64_t column, bool thread_label, uint32_t thread) const;
  // Histogram rows: the bucket state of a row, its number of lines, and line `line` of it (lines
  // must be written in order: the cumulative count moves on with each finite bucket).
  void BeginHistogramRow(const uint64_t* values, const Row& row);
  uint64_t HistogramLines() const { return hist_finite_ + (opts_.open_metrics ? 1 : 2); }
  uint8_t* WriteHistogramLine(uint8_t* p, const uint64_t* values, const Family& f, const Series& s,
                              const Row& row, uint64_t line, bool thread_label, uint32_t thread);

  std::shared_ptr<const RenderPlan> plan_;
  RenderOptions opts_;
  bool begun_ = false;
  size_t need_values_ = 0;  // values Begin checked against; Fill refuses fewer
  std::vector<uint32_t> first_;  // rows of entry k: rows_[first_[k], first_[k + 1])
  std::vector<Row> rows_;
  std::vector<uint32_t> width_;

  // Cursor.
  size_t fam_ = 0;
  size_t ser_ = 0;
  uint32_t row_ = 0;
  uint64_t col_ = 0;
  bool header_done_ = false;
  // The histogram row being written (set when its first line is due).
  uint64_t hist_min_exp_ = 0;
  uint64_t hist_finite_ = 0;
  uint64_t hist_total_ = 0;
  uint64_t hist_cum_ = 0;
  std::string pending_;  // the tail of a line that did not fit
  size_t pend_pos_ = 0;
  uint64_t bytes_ = 0;
};

// Writes v in decimal as JavaScript's String(hi * 2 ** 32 + lo) does; returns the end. `p` must
// have room for 20 bytes.
uint8_t* FormatU64AsJs(uint8_t* p, uint64_t v);

}  // namespace expo
