// The memory-bandwidth floor for a stats snapshot: a plain C++ loop that sums the same counter
// vectors over threads, with no bounds checks, no epoch protocol and no copy-out. It is what
// `npm run bench` prints our snapshot time against.
//
//   statseg_floor SOCKET ITERATIONS NAME...   -> prints "floor_ns_per_pass <n> words <w>"
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../fdpass.h"

namespace {

struct Vec {
  const uint8_t* data;
  uint32_t len;
};

const uint8_t* g_map;
uint64_t g_base;

const uint8_t* At(uint64_t ptr) { return g_map + (ptr - g_base); }
uint32_t Len(uint64_t ptr) {
  uint32_t n;
  memcpy(&n, At(ptr) - 8, 4);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s SOCKET ITERATIONS NAME...\n", argv[0]);
    return 2;
  }
  int fd;
  std::string err;
  if (fdpass::ReceiveFd(argv[1], 2000, &fd, &err) != fdpass::Result::kOk) {
    fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  struct stat st;
  fstat(fd, &st);
  g_map = static_cast<const uint8_t*>(mmap(nullptr, st.st_size, PROT_READ, MAP_SHARED, fd, 0));
  close(fd);
  memcpy(&g_base, g_map + 8, 8);
  uint64_t dir;
  memcpy(&dir, g_map + 32, 8);
  const uint32_t n = Len(dir);
  // Resolve the wanted vectors once (the exporter does this once per epoch too).
  std::vector<std::pair<uint64_t, uint32_t>> wanted;  // data pointer, u64 words per element
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t* e = At(dir) + uint64_t(i) * 144;
    uint32_t type;
    memcpy(&type, e, 4);
    const char* name = reinterpret_cast<const char*>(e + 16);
    for (int a = 3; a < argc; a++) {
      if (strcmp(name, argv[a]) == 0 && (type == 2 || type == 3)) {
        uint64_t data;
        memcpy(&data, e + 8, 8);
        wanted.push_back({data, type == 3 ? 2u : 1u});
      }
    }
  }
  const int iters = atoi(argv[2]);
  std::vector<uint64_t> out;
  uint64_t words = 0, sink = 0;
  std::vector<double> times;
  for (int it = 0; it < iters; it++) {
    auto t0 = std::chrono::steady_clock::now();
    words = 0;
    for (auto [data, width] : wanted) {
      const uint32_t rows = Len(data);
      uint32_t cols = 0;
      for (uint32_t r = 0; r < rows; r++) {
        uint64_t row;
        memcpy(&row, At(data) + r * 8, 8);
        cols = std::max(cols, Len(row));
      }
      out.assign(uint64_t(cols) * width, 0);
      for (uint32_t r = 0; r < rows; r++) {
        uint64_t row;
        memcpy(&row, At(data) + r * 8, 8);
        const uint64_t* src = reinterpret_cast<const uint64_t*>(At(row));
        const uint64_t w = uint64_t(Len(row)) * width;
        for (uint64_t i = 0; i < w; i++) out[i] += src[i];
        words += w;
      }
      sink += out.empty() ? 0 : out[0];
    }
    times.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  printf("floor_ns_per_pass %.0f words %llu vectors %zu sink %llu\n", times[times.size() / 2],
         (unsigned long long)words, wanted.size(), (unsigned long long)sink);
  return 0;
}
