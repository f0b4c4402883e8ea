# proxy_client.py - a client of http.proxy_listen for test_proxy_protocol.sh:
# what a tunnel client sends, a PROXY v2 header, then (optionally) a request.
#
#   python3 proxy_client.py PORT HEADER [REQUEST] [OPTIONS]
#     HEADER   an IPv4 or IPv6 source address ("203.0.113.7"), "local" (a
#              LOCAL header), "none" (no header), "badversion" (a header of
#              version 1 in the binary form), "partial" (the signature's
#              first 6 bytes only)
#     REQUEST  an HTTP path to GET (default /v2/); "-" sends no request
#     --user U:P   Basic credentials       --hold N   keep N connections open
#     --wait S     seconds to wait for an answer (default 5)
#
# Prints "status CODE" (the answer's status, "closed" when the server closed
# without a byte, "none" when nothing came in time) and, with --hold, one
# such line per connection.  It never decides pass or fail itself.
import base64
import ipaddress
import socket
import struct
import sys
import time

SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def header(kind):
    if kind == "none":
        return b""
    if kind == "local":
        return SIG + b"\x20\x00\x00\x00"
    if kind == "badversion":
        return SIG + b"\x11\x11\x00\x0c" + bytes(12)
    if kind == "partial":
        return SIG[:6]
    src = ipaddress.ip_address(kind)
    if src.version == 4:
        addrs = src.packed + ipaddress.ip_address("127.0.0.1").packed
        return SIG + b"\x21\x11" + struct.pack(">H", 12) + addrs + \
            struct.pack(">HH", 40000, 5000)
    addrs = src.packed + ipaddress.ip_address("::1").packed
    return SIG + b"\x21\x21" + struct.pack(">H", 36) + addrs + \
        struct.pack(">HH", 40000, 5000)


def answer(s, limit):
    s.settimeout(limit)
    buf = b""
    end = time.monotonic() + limit
    try:
        while b"\r\n" not in buf and time.monotonic() < end:
            d = s.recv(4096)
            if not d:
                return "closed" if not buf else buf.split()[1].decode()
            buf += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        return "closed"
    if b"\r\n" not in buf:
        return "none"
    return buf.split()[1].decode()


def one(port, kind, path, user, wait):
    s = socket.create_connection(("127.0.0.1", port))
    req = b""
    if path != "-":
        auth = ""
        if user:
            auth = "Authorization: Basic %s\r\n" % \
                base64.b64encode(user.encode()).decode()
        req = ("GET %s HTTP/1.1\r\nHost: registry\r\n%s\r\n" %
               (path, auth)).encode()
    s.sendall(header(kind) + req)
    return s, answer(s, wait)


def main():
    port, kind = int(sys.argv[1]), sys.argv[2]
    args = sys.argv[3:]
    path = "/v2/"
    if args and not args[0].startswith("--"):
        path = args.pop(0)
    opts = dict(zip(args[::2], args[1::2]))
    hold, wait = int(opts.get("--hold", 0)), float(opts.get("--wait", 5))
    held = []
    for _ in range(max(hold, 1)):
        s, st = one(port, kind, path, opts.get("--user"), wait)
        print("status", st, flush=True)
        held.append(s)
    if hold:
        time.sleep(float(opts.get("--linger", 3)))


main()
