#!/usr/bin/env python3
"""tunnel_names.py - helpers of test_tunnel.sh.

  serve NAME PORT     a tiny TCP service on 127.0.0.1:PORT that answers every
                      connection with NAME and a newline, then closes it
  httpserve NAME PORT the same, but its answer is an HTTP status line
                      whose reason is NAME ("HTTP/1.1 200 NAME"), so it
                      passes an HTTP health check too
  count PORT N        N visitor connections to 127.0.0.1:PORT, one after the
                      other; prints "NAME COUNT" per name answered (the last
                      word of the line; "none COUNT" for connections closed
                      without a name)
  bulk PORT SIZE      a service that sends SIZE bytes to every connection
  stall PORT N SIZE   one visitor that connects and reads nothing, then N at
                      once that read everything; prints "complete C of N in
                      S s" (complete: SIZE bytes each) while the first is
                      still open
"""
import socket
import sys
import threading


def serve(name, port, http=False):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(512)
    reply = (("HTTP/1.1 200 %s\r\n\r\n" if http else "%s\n") % name).encode()

    def answer(c):
        try:
            c.sendall(reply)
            if http:
                # a request unread at close() would reset the connection
                # before the checker reads the answer: drain until it
                # closes its side
                c.shutdown(socket.SHUT_WR)
                c.settimeout(2)
                while c.recv(4096):
                    pass
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = s.accept()
        threading.Thread(target=answer, args=(c,), daemon=True).start()


def count(port, n):
    seen = {}
    for _ in range(n):
        got = b""
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
                while not got.endswith(b"\n"):
                    b = c.recv(64)
                    if not b:
                        break
                    got += b
        except OSError:
            got = b""
        words = got.decode(errors="replace").split()
        name = words[-1] if words else "none"
        seen[name] = seen.get(name, 0) + 1
    for name in sorted(seen):
        print(name, seen[name])


def bulk(port, size):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(512)
    chunk = bytes(range(256)) * 256

    def send(c):
        try:
            left = size
            while left > 0:
                n = c.send(chunk[:min(left, len(chunk))])
                left -= n
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = s.accept()
        threading.Thread(target=send, args=(c,), daemon=True).start()


def stall(port, n, size):
    import time
    idle = socket.create_connection(("127.0.0.1", port), timeout=60)
    time.sleep(0.5)
    got = [0] * n

    def fetch(i):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
                while True:
                    b = c.recv(1 << 16)
                    if not b:
                        break
                    got[i] += len(b)
        except OSError:
            pass

    t0 = time.time()
    ts = [threading.Thread(target=fetch, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    done = sum(1 for g in got if g == size)
    print("complete %d of %d in %.1f s" % (done, n, time.time() - t0))
    idle.close()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "serve":
        serve(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "httpserve":
        serve(sys.argv[2], int(sys.argv[3]), http=True)
    elif len(sys.argv) == 4 and sys.argv[1] == "count":
        count(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) == 4 and sys.argv[1] == "bulk":
        bulk(int(sys.argv[2]), int(sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "stall":
        stall(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
