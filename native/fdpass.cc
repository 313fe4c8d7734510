#include "fdpass.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace fdpass {

namespace {

bool MakeAddr(const std::string& path, sockaddr_un* addr, std::string* err) {
  memset(addr, 0, sizeof *addr);
  addr->sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr->sun_path) {
    *err = "socket path '" + path + "' is empty or longer than " +
           std::to_string(sizeof addr->sun_path - 1) + " bytes";
    return false;
  }
  memcpy(addr->sun_path, path.data(), path.size());
  return true;
}

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

}  // namespace

Result ReceiveFd(const std::string& path, int timeout_ms, int* fd, std::string* err) {
  sockaddr_un addr;
  if (!MakeAddr(path, &addr, err)) return Result::kConnectFailed;
  int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (s < 0) {
    *err = Errno("socket");
    return Result::kConnectFailed;
  }
  if (connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    *err = Errno("connect " + path);
    close(s);
    return Result::kConnectFailed;
  }
  pollfd p{s, POLLIN, 0};
  int r;
  do r = poll(&p, 1, timeout_ms); while (r < 0 && errno == EINTR);
  if (r <= 0) {
    *err = r == 0 ? "no descriptor from " + path + " within " + std::to_string(timeout_ms) + " ms"
                  : Errno("poll " + path);
    close(s);
    return Result::kNoFd;
  }
  char byte;
  iovec iov{&byte, 1};
  // Room for a few descriptors so that a misbehaving peer cannot make us leak the extras.
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
  int saved = errno;
  close(s);
  if (n < 0) {
    errno = saved;
    *err = Errno("recvmsg " + path);
    return Result::kNoFd;
  }
  int got = -1;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int f;
      memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
      if (got < 0) got = f; else close(f);
    }
  }
  if (got < 0) {
    *err = path + " sent a message without a descriptor (is it VPP's stats socket?)";
    return Result::kNoFd;
  }
  *fd = got;
  return Result::kOk;
}

bool FdServer::Start(const std::string& path, int fd, std::string* err) {
  sockaddr_un addr;
  if (!MakeAddr(path, &addr, err)) return false;
  fd_ = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (fd_ < 0) {
    *err = Errno("dup");
    return false;
  }
  listen_fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    *err = Errno("socket");
    Stop();
    return false;
  }
  unlink(path.c_str());  // a stale socket from a previous run, as VPP does
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 64) != 0) {
    *err = Errno("bind/listen " + path);
    Stop();
    return false;
  }
  path_ = path;
  if (pipe2(wake_, O_CLOEXEC) != 0) {
    *err = Errno("pipe");
    Stop();
    return false;
  }
  thread_ = std::thread([this] { Loop(); });
  return true;
}

void FdServer::Loop() {
  for (;;) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    int r = poll(p, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (p[1].revents) return;
    if (!(p[0].revents & POLLIN)) continue;
    int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    // One zero-length message with the descriptor, then close: what VPP's stats socket does.
    iovec iov{nullptr, 0};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd_, sizeof(int));
    if (sendmsg(c, &msg, MSG_NOSIGNAL) >= 0) served_++;
    close(c);
  }
}

void FdServer::Stop() {
  if (thread_.joinable()) {
    char b = 1;
    ssize_t ignored = write(wake_[1], &b, 1);
    (void)ignored;
    thread_.join();
  }
  for (int* f : {&listen_fd_, &wake_[0], &wake_[1], &fd_}) {
    if (*f >= 0) close(*f);
    *f = -1;
  }
  if (!path_.empty()) unlink(path_.c_str());
  path_.clear();
}

}  // namespace fdpass
