// Shared memory for the simulator: a memfd mapped read-write, like VPP's "stat segment" memfd.
#pragma once

#include <cstddef>
#include <string>

namespace shm {

struct Region {
  int fd = -1;
  void* addr = nullptr;
  size_t size = 0;
};

// memfd_create + ftruncate + mmap(MAP_SHARED, RW). On failure returns false with a message.
bool Create(const std::string& name, size_t size, Region* out, std::string* err);
void Destroy(Region* r);

}  // namespace shm
