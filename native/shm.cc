#include "shm.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shm {

bool Create(const std::string& name, size_t size, Region* out, std::string* err) {
  int fd = memfd_create(name.c_str(), MFD_CLOEXEC);
  if (fd < 0) {
    *err = std::string("memfd_create: ") + strerror(errno);
    return false;
  }
  if (ftruncate(fd, off_t(size)) != 0) {
    *err = std::string("ftruncate: ") + strerror(errno);
    close(fd);
    return false;
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    *err = std::string("mmap: ") + strerror(errno);
    close(fd);
    return false;
  }
  out->fd = fd;
  out->addr = p;
  out->size = size;
  return true;
}

void Destroy(Region* r) {
  if (r->addr != nullptr) munmap(r->addr, r->size);
  if (r->fd >= 0) close(r->fd);
  r->addr = nullptr;
  r->fd = -1;
}

}  // namespace shm
