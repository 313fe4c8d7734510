// The formatting floor for a scrape: plain C++ writing N exposition lines (prepared label text +
// a u64 in decimal) into a reused 64 KiB buffer, as fast as a hand-written loop can. It is what
// `npm run bench` prints our exposition time against.
//
//   statseg_format_floor SERIES ITERATIONS   -> prints "format_ns_per_series <x>"
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static char* U64(char* p, uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = char('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *p++ = tmp[--n];
  return p;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s SERIES ITERATIONS\n", argv[0]);
    return 2;
  }
  const size_t series = strtoull(argv[1], nullptr, 10);
  const int iters = atoi(argv[2]);
  std::vector<std::string> prefix(series);
  std::vector<uint64_t> values(series);
  for (size_t i = 0; i < series; i++) {
    prefix[i] = "vpp_interface_rx_packets_total{interface=\"GigabitEthernet0/8/0." + std::to_string(i) +
                "\",sw_if_index=\"" + std::to_string(i) + "\"} ";
    values[i] = (i * 2654435761u) % 100000000u;
  }
  std::vector<char> buf(64 * 1024 + 512);
  std::vector<double> times;
  uint64_t sink = 0;
  for (int it = 0; it < iters; it++) {
    auto t0 = std::chrono::steady_clock::now();
    char* p = buf.data();
    char* end = buf.data() + 64 * 1024;
    for (size_t i = 0; i < series; i++) {
      const std::string& s = prefix[i];
      memcpy(p, s.data(), s.size());
      p = U64(p + s.size(), values[i]);
      *p++ = '\n';
      if (p >= end) {  // a chunk is full: hand it on (here: count it) and reuse the buffer
        sink += size_t(p - buf.data());
        p = buf.data();
      }
    }
    sink += size_t(p - buf.data());
    times.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(times.begin(), times.end());
  printf("format_ns_per_series %.2f bytes %llu\n", times[times.size() / 2] / double(series),
         (unsigned long long)(sink / iters));
  return 0;
}
