#!/usr/bin/env python3
"""visitor_limit.py: tunnel.relay.visitors_per_address, seen by visitors.

usage: visitor_limit.py PORT N [EXTRA]
On 127.0.0.1:PORT (a relay's public port in front of a registry), N visitors from
127.0.0.1 each send GET /v2/ and hold their connection once answered; then EXTRA
(default 1) more from 127.0.0.1, one from 127.0.0.2, and, after one of the N left, one
from 127.0.0.1 again (tried for up to 10 s: the relay sees the close a moment later).
A refused visitor is one closed without a byte. Prints:
  held H                     visitors of the first N answered
  extra answered A refused R
  other answered|refused
  again answered|refused
  refused_total T            every refusal this run saw (retries of "again" too)
"""

import socket
import sys
import time

refused = 0


def visit(src, port):
    """A connection from src that got an answer to GET /v2/ (kept open), or None."""
    global refused
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(20)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: relay\r\n\r\n")
        data = s.recv(64)
    except (ConnectionResetError, BrokenPipeError):
        data = b""
    if data.startswith(b"HTTP/1."):
        return s
    s.close()
    refused += 1
    return None


def again(port):
    """One of the held ones left: a visitor from 127.0.0.1 gets in again."""
    end = time.monotonic() + 10
    while True:
        s = visit("127.0.0.1", port)
        if s is not None or time.monotonic() > end:
            return s
        time.sleep(0.1)


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    extra = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    held = [s for s in (visit("127.0.0.1", port) for _ in range(n)) if s]
    print("held %d" % len(held), flush=True)
    more = [visit("127.0.0.1", port) for _ in range(extra)]
    answered = [s for s in more if s]
    print("extra answered %d refused %d" % (len(answered), extra - len(answered)))
    held += answered
    s = visit("127.0.0.2", port)
    print("other %s" % ("answered" if s else "refused"))
    held += [s] if s else []
    if held:
        held.pop(0).close()
    s = again(port)
    print("again %s" % ("answered" if s else "refused"))
    print("refused_total %d" % refused, flush=True)
    for s in held + ([s] if s else []):
        s.close()


if __name__ == "__main__":
    main()
