// See exposition.h. The reference for every byte is renderPlan in src/exporters/exposition.ts;
// test/exporters/native-exposition.test.ts compares the two.
#include "exposition.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace expo {

namespace {

constexpr char kDigits2[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// Largest u64 a double holds exactly with all smaller integers: below it the JavaScript path
// prints the integer itself.
constexpr uint64_t kExactDouble = uint64_t(1) << 53;

// Punctuation and numbers around the name and label text of one line, at most:
// {label="<20 digits>",thread="<10 digits>"} <20 digits>\n
constexpr size_t kLineSlack = 96;

inline uint8_t* Put(uint8_t* p, const void* s, size_t n) {
  memcpy(p, s, n);
  return p + n;
}

template <size_t N>
inline uint8_t* Lit(uint8_t* p, const char (&s)[N]) {
  memcpy(p, s, N - 1);
  return p + N - 1;
}

// Decimal, two digits per division.
inline uint8_t* U64(uint8_t* p, uint64_t v) {
  uint8_t tmp[20];
  uint8_t* t = tmp + sizeof tmp;
  while (v >= 100) {
    const uint64_t q = v / 100;
    const unsigned r = unsigned(v - q * 100);
    t -= 2;
    memcpy(t, kDigits2 + 2 * r, 2);
    v = q;
  }
  if (v >= 10) {
    t -= 2;
    memcpy(t, kDigits2 + 2 * v, 2);
  } else {
    *--t = uint8_t('0' + v);
  }
  return Put(p, t, size_t(tmp + sizeof tmp - t));
}

bool InArena(uint64_t off, uint64_t len, size_t arena_len) { return off <= arena_len && len <= arena_len - off; }

// "_bucket" or "_count", the separators and ,le="" around the bound, on top of kLineSlack.
constexpr size_t kHistogramSlack = 24;

// Finite bins of a histogram row (see exposition.h): not the last, bound at most 2^kHistogramMaxExp.
uint64_t FiniteBins(uint64_t min_exp, uint64_t bins) {
  if (bins < 2 || min_exp >= kHistogramMaxExp) return 0;
  return std::min(bins - 1, kHistogramMaxExp - min_exp);
}

}  // namespace

uint8_t* FormatU64AsJs(uint8_t* p, uint64_t v) {
  if (v < kExactDouble) return U64(p, v);
  // JavaScript adds hi * 2^32 (exact) and lo in doubles: one rounding to nearest, ties to even,
  // which is what the conversion does. Number.prototype.toString then prints the shortest digits
  // that round-trip (the closest such, ties to even) and, as the value is an integer below 1e21,
  // pads them with zeros. to_chars' shortest form is specified the same way.
  const double d = double(v);
  char buf[40];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  // d.ddddde+XX
  const char* e = std::find(buf, r.ptr, 'e');
  int exp10 = 0;
  for (const char* q = e + 2; q < r.ptr; q++) exp10 = exp10 * 10 + (*q - '0');
  int digits = 0;
  for (const char* q = buf; q < e; q++) {
    if (*q == '.') continue;
    *p++ = uint8_t(*q);
    digits++;
  }
  // 2^53 <= d <= 2^64 has 16 to 20 integer digits and its shortest form at most 17: pad.
  for (int i = digits; i < exp10 + 1; i++) *p++ = '0';
  return p;
}

std::shared_ptr<const RenderPlan> RenderPlan::Build(const uint8_t* arena, size_t arena_len,
                                                    const uint32_t* families, size_t families_len,
                                                    const uint32_t* series, size_t series_len,
                                                    uint32_t slots, const uint32_t* le, size_t le_len,
                                                    std::string* err) {
  if (families_len % kFamilyWords != 0 || series_len % kSeriesWords != 0) {
    *err = "render plan: families or series array has a partial record";
    return nullptr;
  }
  std::shared_ptr<RenderPlan> plan(new RenderPlan());
  const size_t nfam = families_len / kFamilyWords;
  const size_t nser = series_len / kSeriesWords;
  if (nser > UINT32_MAX) {
    *err = "render plan: too many series";
    return nullptr;
  }
  plan->slots_ = slots;
  plan->arena_.assign(arena, arena + arena_len);
  plan->families_.resize(nfam);
  plan->series_.resize(nser);
  plan->max_word_.assign(slots, -1);
  if (le != nullptr && le_len > 0) {
    if (le_len != 2 * kHistogramMaxExp) {
      *err = "render plan: the le table needs " + std::to_string(2 * kHistogramMaxExp) + " words";
      return nullptr;
    }
    for (uint64_t e = 1; e <= kHistogramMaxExp; e++) {
      const uint32_t off = le[2 * (e - 1)];
      const uint32_t len = le[2 * (e - 1) + 1];
      if (!InArena(off, len, arena_len) || len == 0) {
        *err = "render plan: le text for exponent " + std::to_string(e) + " lies outside the arena";
        return nullptr;
      }
      plan->le_off_[e] = off;
      plan->le_len_[e] = len;
      plan->le_max_ = std::max(plan->le_max_, size_t(len));
    }
  }
  uint32_t next = 0;
  for (size_t i = 0; i < nfam; i++) {
    const uint32_t* w = families + i * kFamilyWords;
    Family& f = plan->families_[i];
    f = Family{w[0], w[1], w[2], w[3], {w[4], w[6]}, {w[5], w[7]}, w[8]};
    if (f.series_begin != next || f.series_end < f.series_begin || f.series_end > nser) {
      *err = "render plan: family " + std::to_string(i) + " does not continue the series in order";
      return nullptr;
    }
    next = f.series_end;
    if (!InArena(f.name_off, f.name_len, arena_len) || !InArena(f.head_off[0], f.head_len[0], arena_len) ||
        !InArena(f.head_off[1], f.head_len[1], arena_len)) {
      *err = "render plan: family " + std::to_string(i) + " text lies outside the arena";
      return nullptr;
    }
    if (f.head_len[0] == 0 || f.head_len[1] == 0 || (f.flags & ~uint32_t(kNoThreadLabel | kExtraRow | kHistogram)) != 0) {
      *err = "render plan: family " + std::to_string(i) + " has no header or unknown flags";
      return nullptr;
    }
    if ((f.flags & kHistogram) != 0 && plan->le_max_ == 0) {
      *err = "render plan: histogram family " + std::to_string(i) + " without an le table";
      return nullptr;
    }
  }
  if (next != nser) {
    *err = "render plan: families do not cover every series";
    return nullptr;
  }
  for (size_t i = 0; i < nser; i++) {
    const uint32_t* w = series + i * kSeriesWords;
    Series& s = plan->series_[i];
    s = Series{w[0], w[1], w[2], int32_t(w[3]), w[4]};
    if (!InArena(s.label_off, s.label_len, arena_len) || s.k >= slots || s.word > 0xffff) {
      *err = "render plan: series " + std::to_string(i) + " has its labels outside the arena, k past the entries or a bad word";
      return nullptr;
    }
    plan->max_word_[s.k] = std::max(plan->max_word_[s.k], int32_t(s.word));
  }
  for (const Family& f : plan->families_) {
    if ((f.flags & kHistogram) == 0) continue;
    for (uint32_t i = f.series_begin; i < f.series_end; i++) {
      if (plan->series_[i].col != 0 || plan->series_[i].word != 0) {
        *err = "render plan: histogram series " + std::to_string(i) + " must read column 0, word 0";
        return nullptr;
      }
    }
  }
  return plan;
}

bool Renderer::Begin(const uint64_t* values, size_t nvalues, const uint32_t* layout, size_t layout_len,
                     const RenderOptions& opts, std::string* err) {
  if (begun_) {
    *err = "renderer already begun";
    return false;
  }
  const RenderPlan& plan = *plan_;
  const size_t slots = plan.slots_;
  if (layout_len != slots * kLayoutWords) {
    *err = "the snapshot has " + std::to_string(layout_len / kLayoutWords) + " entries where the render plan has " +
           std::to_string(slots) + " (a plan from another directory epoch?)";
    return false;
  }
  opts_ = opts;
  first_.assign(slots + 1, 0);
  width_.assign(slots, 0);
  rows_.clear();
  uint64_t need = 0;
  for (size_t k = 0; k < slots; k++) {
    first_[k] = uint32_t(rows_.size());
    const uint32_t* l = layout + k * kLayoutWords;
    // A failed entry renders no series; an entry no series reads needs no rows.
    if (l[0] != 0 || plan.max_word_[k] < 0) continue;
    const uint64_t offset = l[2];
    const uint64_t rows = l[3];
    const uint64_t width = l[4];
    if (rows == 0) continue;
    if (offset > nvalues || rows > nvalues - offset || rows_.size() + rows > nvalues ||
        rows_.size() + rows > UINT32_MAX) {
      *err = "snapshot entry " + std::to_string(k) + " has rows outside the values";
      return false;
    }
    if (uint64_t(plan.max_word_[k]) >= width) {
      *err = "the render plan reads word " + std::to_string(plan.max_word_[k]) + " of snapshot entry " +
             std::to_string(k) + ", which has " + std::to_string(width) + " per element (a plan from another epoch?)";
      return false;
    }
    width_[k] = uint32_t(width);
    uint64_t at = offset + rows;
    for (uint64_t r = 0; r < rows; r++) {
      const uint64_t len = values[offset + r];
      if (len > (nvalues - at) / width) {
        *err = "snapshot entry " + std::to_string(k) + " row " + std::to_string(r) + " runs past the values";
        return false;
      }
      rows_.push_back(Row{at, len});
      at += len * width;
    }
    need = std::max(need, at);
  }
  first_[slots] = uint32_t(rows_.size());
  need_values_ = size_t(need);
  fam_ = 0;
  ser_ = 0;
  row_ = 0;
  col_ = 0;
  header_done_ = false;
  pending_.clear();
  pend_pos_ = 0;
  bytes_ = 0;
  begun_ = true;
  return true;
}

size_t Renderer::LineBound(const Family& f, const Series& s) const {
  const size_t hist = (f.flags & kHistogram) != 0 ? kHistogramSlack + plan_->le_max_ : 0;
  return size_t(f.name_len) + size_t(s.label_len) + kLineSlack + hist;
}

void Renderer::BeginHistogramRow(const uint64_t* values, const Row& row) {
  hist_min_exp_ = 0;
  hist_finite_ = 0;
  hist_total_ = 0;
  hist_cum_ = 0;
  if (row.len == 0) return;
  hist_min_exp_ = values[row.start];
  const uint64_t bins = row.len - 1;
  for (uint64_t j = 0; j < bins; j++) hist_total_ += values[row.start + 1 + j];
  hist_finite_ = FiniteBins(hist_min_exp_, bins);
}

uint8_t* Renderer::WriteHistogramLine(uint8_t* p, const uint64_t* values, const Family& f, const Series& s,
                                      const Row& row, uint64_t line, bool thread_label, uint32_t thread) {
  const uint8_t* arena = plan_->arena_.data();
  const bool count = line > hist_finite_;
  p = Put(p, arena + f.name_off, f.name_len);
  p = count ? Lit(p, "_count") : Lit(p, "_bucket");
  bool open = false;
  auto next = [&] {
    *p++ = open ? ',' : '{';
    open = true;
  };
  if (s.label_len > 0) {
    next();
    p = Put(p, arena + s.label_off, s.label_len);
  }
  if (thread_label) {
    next();
    p = Lit(p, "thread=\"");
    p = U64(p, thread);
    *p++ = '"';
  }
  uint64_t v = hist_total_;
  if (!count) {
    next();
    p = Lit(p, "le=\"");
    if (line < hist_finite_) {
      const uint64_t e = hist_min_exp_ + line + 1;
      p = Put(p, arena + plan_->le_off_[e], plan_->le_len_[e]);
      hist_cum_ += values[row.start + 1 + line];
      v = hist_cum_;
    } else {
      p = Lit(p, "+Inf");
    }
    *p++ = '"';
  }
  if (open) *p++ = '}';
  *p++ = ' ';
  p = FormatU64AsJs(p, v);
  *p++ = '\n';
  return p;
}

uint8_t* Renderer::WriteLine(uint8_t* p, const uint64_t* values, const Family& f, const Series& s, const Row& row,
                             uint64_t column, bool thread_label, uint32_t thread) const {
  const uint8_t* arena = plan_->arena_.data();
  p = Put(p, arena + f.name_off, f.name_len);
  uint64_t v = 0;
  if (s.col >= 0) {
    if (s.label_len == 0) {
      if (thread_label) {
        p = Lit(p, "{thread=\"");
        p = U64(p, thread);
        p = Lit(p, "\"}");
      }
    } else {
      *p++ = '{';
      p = Put(p, arena + s.label_off, s.label_len);
      if (thread_label) {
        p = Lit(p, ",thread=\"");
        p = U64(p, thread);
        *p++ = '"';
      }
      *p++ = '}';
    }
    if (uint64_t(s.col) < row.len) v = values[row.start + uint64_t(s.col) * width_[s.k] + s.word];
  } else {
    *p++ = '{';
    p = Put(p, arena + s.label_off, s.label_len);
    p = Lit(p, "=\"");
    p = U64(p, column);
    *p++ = '"';
    if (thread_label) {
      p = Lit(p, ",thread=\"");
      p = U64(p, thread);
      *p++ = '"';
    }
    *p++ = '}';
    v = values[row.start + column * width_[s.k] + s.word];
  }
  *p++ = ' ';
  p = FormatU64AsJs(p, v);
  *p++ = '\n';
  return p;
}

bool Renderer::Fill(const uint64_t* values, size_t nvalues, uint8_t* out, size_t cap, size_t* written,
                    std::string* err) {
  *written = 0;
  if (!begun_) {
    *err = "render: begin first";
    return false;
  }
  if (cap == 0) {
    *err = "render: the output buffer is empty";
    return false;
  }
  if (nvalues < need_values_ || (need_values_ > 0 && values == nullptr)) {
    *err = "render: the snapshot's values shrank or were detached while rendering";
    return false;
  }
  uint8_t* p = out;
  uint8_t* const end = out + cap;
  // Spills a piece that does not fit an empty buffer: keep it aside, hand out what fits.
  auto spill = [&](const uint8_t* s, size_t n) {
    pending_.assign(s, s + n);
    const size_t m = std::min(n, size_t(end - p));
    p = Put(p, pending_.data(), m);
    pend_pos_ = m;
  };
  if (pend_pos_ < pending_.size()) {
    const size_t m = std::min(pending_.size() - pend_pos_, cap);
    p = Put(p, pending_.data() + pend_pos_, m);
    pend_pos_ += m;
    if (pend_pos_ < pending_.size()) goto full;
    pending_.clear();
    pend_pos_ = 0;
  }
  {
    const std::vector<Family>& fams = plan_->families_;
    const std::vector<Series>& series = plan_->series_;
    const uint8_t* arena = plan_->arena_.data();
    const int fmt = opts_.open_metrics ? 1 : 0;
    for (; fam_ < fams.size(); fam_++, header_done_ = false) {
      const Family& f = fams[fam_];
      if (ser_ < f.series_begin) ser_ = f.series_begin;
      const bool thread_label = opts_.per_thread && (f.flags & kNoThreadLabel) == 0;
      for (; ser_ < f.series_end; ser_++, row_ = 0, col_ = 0) {
        const Series& s = series[ser_];
        const uint32_t r0 = first_[s.k];
        const uint32_t r1 = first_[s.k + 1];
        if (r0 == r1) continue;
        if (!header_done_) {
          const size_t hl = f.head_len[fmt];
          if (size_t(end - p) < hl) {
            if (p != out) goto full;
            header_done_ = true;
            spill(arena + f.head_off[fmt], hl);
            goto full;
          }
          p = Put(p, arena + f.head_off[fmt], hl);
          header_done_ = true;
        }
        uint32_t nrows = r1 - r0;
        if (thread_label && (f.flags & kExtraRow) != 0 && nrows > opts_.threads) nrows = opts_.threads;
        const size_t bound = LineBound(f, s);
        if ((f.flags & kHistogram) != 0) {
          for (; row_ < nrows; row_++, col_ = 0) {
            const Row& row = rows_[r0 + row_];
            // A row's state is set before its first line, also when Fill starts again there.
            if (col_ == 0) BeginHistogramRow(values, row);
            for (const uint64_t nlines = HistogramLines(); col_ < nlines; col_++) {
              if (size_t(end - p) < bound) {
                if (p != out) goto full;
                std::vector<uint8_t> line(bound);
                const size_t n = size_t(WriteHistogramLine(line.data(), values, f, s, row, col_, thread_label, row_) - line.data());
                spill(line.data(), n);
                col_++;
                goto full;
              }
              p = WriteHistogramLine(p, values, f, s, row, col_, thread_label, row_);
            }
          }
          continue;
        }
        for (; row_ < nrows; row_++, col_ = 0) {
          const Row& row = rows_[r0 + row_];
          const uint64_t ncols = s.col >= 0 ? 1 : row.len;
          for (; col_ < ncols; col_++) {
            if (size_t(end - p) < bound) {
              if (p != out) goto full;
              // One line longer than the whole buffer: format it aside and hand it out in pieces.
              std::vector<uint8_t> line(bound);
              const size_t n = size_t(WriteLine(line.data(), values, f, s, row, col_, thread_label, row_) - line.data());
              spill(line.data(), n);
              col_++;
              goto full;
            }
            p = WriteLine(p, values, f, s, row, col_, thread_label, row_);
          }
        }
      }
    }
  }
full:
  *written = size_t(p - out);
  bytes_ += *written;
  return true;
}

}  // namespace expo
