#!/usr/bin/env python3
"""Serve a VPP stats segment image file the way VPP serves its stats memfd.

Usage: serve_image.py IMAGE SOCKETPATH

Listens on an AF_UNIX SOCK_SEQPACKET socket at SOCKETPATH. On every accept it sends one message
with a zero-length payload whose SCM_RIGHTS control message carries one descriptor of IMAGE
(as VPP's vlib/stats/init.c does with clib_socket_sendmsg(&client, 0, 0, &memfd, 1)), then closes
the connection. The client reads nothing else; it fstat()s the descriptor for the size and maps it.

Prints "ready" on stdout once listening and runs until killed (SIGTERM/SIGINT remove the socket).
Uses only the Python standard library, so that the peers' proof does not depend on this
project's native addon.
"""
import os
import signal
import socket
import sys


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: serve_image.py IMAGE SOCKETPATH\n")
        return 2
    image, sock_path = argv[1], argv[2]
    # Opened once; every client gets a duplicate of this descriptor (read-only, as clients map
    # the segment PROT_READ/MAP_SHARED).
    fd = os.open(image, os.O_RDONLY)
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(sock_path)
    srv.listen(16)

    def stop(_signum, _frame):
        try:
            os.unlink(sock_path)
        except OSError:
            pass
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        conn, _ = srv.accept()
        try:
            # No data buffers: a zero-length payload with one SCM_RIGHTS fd, like VPP.
            socket.send_fds(conn, [], [fd])
        except OSError as e:  # the client went away first; keep serving the others
            sys.stderr.write("serve_image: send_fds failed: %s\n" % e)
        finally:
            conn.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
