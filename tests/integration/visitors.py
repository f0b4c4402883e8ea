#!/usr/bin/env python3
"""visitors.py: N visitors GET one blob at once, optionally beside a silent one.

usage: visitors.py HOST PORT PATH N [--silent PATH] [--timeout S]
Each visitor opens its own connection, sends one GET of PATH and reads the whole body
(Content-Length), hashing it; a body is right when its sha256 is the digest PATH ends
with (/v2/.../blobs/sha256:HEX). With --silent, one more visitor first asks for the
silent PATH with a tiny receive buffer and never reads a byte: its stream stays stalled
for the whole run. Prints one JSON object:
  {"n", "ok": bodies right, "wall": seconds for all N, "times": [per visitor],
   "errors": [first few], "silent_open": the silent connection is still open at the end}
"""

import argparse
import hashlib
import json
import socket
import threading
import time

MAX_HEADER = 16384


def get(host, port, path, timeout):
    """One GET; returns (seconds, sha256 hex of the body) or raises."""
    t0 = time.monotonic()
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n"
                   % (path, host, port)).encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk or len(buf) > MAX_HEADER:
                raise OSError("no complete header")
            buf += chunk
        head, body = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        if lines[0].split()[1] != "200":
            raise OSError(lines[0])
        length = None
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length is None:
            raise OSError("no Content-Length")
        h = hashlib.sha256(body)
        got = len(body)
        while got < length:
            chunk = s.recv(min(1 << 20, length - got))
            if not chunk:
                raise OSError("closed after %d of %d bytes" % (got, length))
            h.update(chunk)
            got += len(chunk)
    return time.monotonic() - t0, h.hexdigest()


def silent(host, port, path, timeout):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(timeout)
    s.connect((host, port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s:%d\r\n\r\n" % (path, host, port)).encode())
    return s


def still_open(s):
    """The peer has not closed: peeking finds data or nothing yet, never EOF."""
    s.setblocking(False)
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("path")
    ap.add_argument("n", type=int)
    ap.add_argument("--silent")
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    want = a.path.rsplit("sha256:", 1)[-1]
    quiet = silent(a.host, a.port, a.silent, a.timeout) if a.silent else None
    if quiet:
        time.sleep(0.5)  # let its stream open and its window fill first
    times, errors, ok = [None] * a.n, [], [0]
    lock = threading.Lock()

    def visitor(i):
        try:
            t, digest = get(a.host, a.port, a.path, a.timeout)
            with lock:
                times[i] = round(t, 4)
                ok[0] += digest == want
        except (OSError, ValueError, IndexError) as e:
            with lock:
                errors.append("visitor %d: %s" % (i, e))

    t0 = time.monotonic()
    threads = [threading.Thread(target=visitor, args=(i,)) for i in range(a.n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    out = {"n": a.n, "ok": ok[0], "wall": round(wall, 4), "times": times,
           "errors": errors[:5]}
    if quiet:
        out["silent_open"] = still_open(quiet)
        quiet.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
