// Passing a descriptor over an AF_UNIX SOCK_SEQPACKET socket, the way VPP hands out its stats
// segment: on accept the server sends one zero-length message carrying the fd (SCM_RIGHTS) and
// closes the connection. Node's net module can do neither SEQPACKET nor fd passing.
#pragma once

#include <atomic>
#include <string>
#include <thread>

namespace fdpass {

enum class Result { kOk, kConnectFailed, kNoFd };

// Connect to `path`, receive one descriptor (waiting at most timeout_ms), close the connection.
Result ReceiveFd(const std::string& path, int timeout_ms, int* fd, std::string* err);

// A listener that hands `fd` (duplicated at start) to every client that connects, on its own
// thread. Stop() closes the listener, unlinks the socket path and joins the thread.
class FdServer {
 public:
  FdServer() = default;
  ~FdServer() { Stop(); }
  FdServer(const FdServer&) = delete;
  FdServer& operator=(const FdServer&) = delete;

  bool Start(const std::string& path, int fd, std::string* err);
  void Stop();
  uint64_t served() const { return served_.load(); }

 private:
  void Loop();

  std::string path_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int fd_ = -1;
  std::thread thread_;
  std::atomic<uint64_t> served_{0};
};

}  // namespace fdpass
