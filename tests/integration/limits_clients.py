# limits_clients.py - hostile and slow clients for test_limits.sh.
#
#   python3 limits_clients.py VERB PORT [HTTPD_PID]
#
# Attacks come from 127.0.0.1; the client that must still be served (the
# "victim") connects from 127.0.0.2 (loopback accepts any 127/8 source). Each
# verb prints "key value..." lines that the suite checks; it never decides
# pass or fail itself. Every wait is bounded.
import json
import re
import socket
import sys
import threading
import time

VERB, PORT = sys.argv[1], int(sys.argv[2])
PID = sys.argv[3] if len(sys.argv) > 3 else None
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_MAX = 4 * 1024 * 1024


def conn(src="127.0.0.1"):
    """A connection to the registry from source address src."""
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", PORT))
    return s


def read_answer(s, limit):
    """(status, head, whole bytes) of the answer on s; status "none" if
    nothing came within limit seconds or the server closed first."""
    s.settimeout(limit)
    buf = b""
    end = time.monotonic() + limit
    try:
        while b"\r\n\r\n" not in buf and time.monotonic() < end:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", buf)
        want = buf.find(b"\r\n\r\n") + 4 + (int(m.group(1)) if m else 0)
        while m and len(buf) < want and time.monotonic() < end:
            d = s.recv(65536)
            if not d:
                break
            buf += d
    except OSError:
        pass
    head = buf.split(b"\r\n\r\n")[0].decode("latin-1")
    m = re.match(r"HTTP/1\.[01] (\d+)", head)
    return (m.group(1) if m else "none"), head, buf


def answered(s):
    """The status s was answered with so far, without waiting ("" if none)."""
    s.setblocking(False)
    try:
        d = s.recv(4096, socket.MSG_PEEK)
    except BlockingIOError:
        return ""
    except OSError:
        return "closed"
    finally:
        s.setblocking(True)
    if not d:
        return "closed"
    m = re.match(rb"HTTP/1\.[01] (\d+)", d)
    return m.group(1).decode() if m else "garbage"


def settled(socks):
    """The answers the sockets got, once no new one came for two seconds
    (at most 20 s): "" for a request still waiting."""
    got, same, end = None, 0, time.monotonic() + 20
    while time.monotonic() < end and same < 2:
        now = [answered(s) for s in socks]
        same = same + 1 if now == got else 0
        got = now
        time.sleep(1)
    return got


def put_head(tag, extra):
    return ("PUT /v2/limits/manifests/%s HTTP/1.1\r\nHost: x\r\n"
            "Content-Type: %s\r\n%s\r\n" % (tag, INDEX_TYPE, extra)).encode()


def victim_manifest(tag):
    """PUT a small valid image index from 127.0.0.2: (status, ms)."""
    body = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE,
                       "manifests": []}).encode()
    t0 = time.monotonic()
    s = conn("127.0.0.2")
    s.sendall(put_head(tag, "Content-Length: %d\r\n" % len(body)) + body)
    st = read_answer(s, 20)[0]
    s.close()
    return st, int((time.monotonic() - t0) * 1000)


def victim_v2():
    """GET /v2/ from 127.0.0.2: (status, ms)."""
    t0 = time.monotonic()
    s = conn("127.0.0.2")
    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n")
    st = read_answer(s, 20)[0]
    s.close()
    return st, int((time.monotonic() - t0) * 1000)


def rss_kib():
    """httpd's resident memory now, KiB (-1 without a pid)."""
    if PID is None:
        return -1
    with open("/proc/%s/status" % PID) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def session(ctl, repo):
    """A new upload session on the keep-alive connection ctl: its path."""
    ctl.sendall(("POST /v2/%s/blobs/uploads/ HTTP/1.1\r\nHost: x\r\n"
                 "Content-Length: 0\r\n\r\n" % repo).encode())
    st, head, _ = read_answer(ctl, 20)
    m = re.search(r"(?im)^location: *(\S+)", head)
    if st != "202" or not m:
        raise SystemExit("upload session refused: %s" % head[:200])
    return m.group(1)


def patch_head(loc, length, first=0):
    return ("PATCH %s HTTP/1.1\r\nHost: x\r\nContent-Type: "
            "application/octet-stream\r\nContent-Length: %d\r\n"
            "Content-Range: %d-%d\r\n\r\n" % (loc, length, first,
                                              first + length - 1)).encode()


def upload_range(loc):
    """The Range an upload's status reports ("0-9" for 10 bytes)."""
    s = conn("127.0.0.2")
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % loc).encode())
    head = read_answer(s, 20)[1]
    s.close()
    m = re.search(r"(?im)^range: *(\S+)", head)
    return m.group(1) if m else "none"


def cmd_head():
    """A head that trickles in a byte a second: when is it cut?"""
    s = conn()
    t0 = time.monotonic()
    s.sendall(b"G")
    rest = b"ET /v2/ HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 64
    status, i = "none", 0
    time.sleep(1)
    print("victim %s %d" % victim_v2())
    while time.monotonic() - t0 < 14 and i < len(rest):
        st = answered(s)
        if st:
            status = st
            break
        try:
            s.send(rest[i:i + 1])
        except OSError:
            status = "closed"
            break
        i += 1
        time.sleep(1)
    print("cut %s %d" % (status, (time.monotonic() - t0) * 1000))


def drip(socks, secs):
    """Send a byte on every socket once a second for secs seconds."""
    for _ in range(secs):
        for s in socks:
            try:
                s.send(b" ")
            except OSError:
                pass
        time.sleep(1)


def cmd_memdrip():
    """16 manifest PUTs promise 4 MiB (8 by Content-Length, 8 chunked) and
    drip: does another address still get its manifest stored?"""
    atk = []
    for i in range(16):
        s = conn()
        if i % 2:
            s.sendall(put_head("drip%d" % i, "Transfer-Encoding: chunked\r\n")
                      + b"%x\r\n{" % (MANIFEST_MAX - 16))
        else:
            s.sendall(put_head("drip%d" % i, "Content-Length: %d\r\n"
                               % MANIFEST_MAX) + b"{")
        atk.append(s)
    drip(atk, 1)
    print("victim %s %d" % victim_manifest("victim-drip"))
    print("rss %d" % rss_kib())
    print("attackers-answered %d" % sum(1 for s in atk if answered(s)))
    for s in atk:
        s.close()


def cmd_memshare():
    """17 manifest PUTs from one address each send 3.5 MiB of a promised
    4 MiB, then hold: how much does that address get, and the other?"""
    part = b"{" + b" " * (3584 * 1024)
    atk = []
    for i in range(17):
        s = conn()
        try:
            s.sendall(put_head("share%d" % i, "Content-Length: %d\r\n"
                               % MANIFEST_MAX) + part)
        except OSError:
            pass        # answered and closed while we still sent
        atk.append(s)
    got = settled(atk)
    print("held %d" % got.count(""))
    print("refused429 %d" % got.count("429"))
    print("refused503 %d" % got.count("503"))
    print("rss %d" % rss_kib())
    print("victim %s %d" % victim_manifest("victim-share"))
    for s in atk:
        s.close()


def cmd_slots():
    """256 PATCH bodies from one address start and stall: does another
    address still get an upload body in?"""
    locs, ctls = [], {}
    for i in range(257):
        # sessions from many addresses and repositories, so that a session
        # quota per address or per repository does not refuse the set-up
        src = "127.0.3.%d" % (i // 8 + 1)
        if src not in ctls:
            ctls[src] = conn(src)
        locs.append(session(ctls[src], "limits/s%d" % (i % 8)))
    atk = []
    for loc in locs[:256]:
        s = conn()
        s.sendall(patch_head(loc, 1000) + b"X")
        atk.append(s)
    got = settled(atk)
    print("held %d" % got.count(""))
    print("refused429 %d" % got.count("429"))
    s = conn("127.0.0.2")
    t0 = time.monotonic()
    s.sendall(patch_head(locs[256], 10) + b"0123456789")
    print("victim %s %d" % (read_answer(s, 20)[0],
                            (time.monotonic() - t0) * 1000))
    s.close()
    for s in atk + list(ctls.values()):
        s.close()


def timed_cut(s, t0, limit, out, key):
    """Wait for the answer on s (bounded): out[key] = (status, ms)."""
    st = read_answer(s, limit)[0]
    out[key] = (st, int((time.monotonic() - t0) * 1000))


def cmd_rate():
    """Under body_min_rate (set to 1024 B/s over 3 s by the suite): a
    manifest and an upload body dripping a byte a second are cut, and the
    upload keeps what it had; a body at 4 KiB/s is not."""
    ctl = conn("127.0.0.2")
    slow, fine = session(ctl, "limits/rate"), session(ctl, "limits/rate")
    ctl.sendall(patch_head(slow, 10) + b"0123456789")
    read_answer(ctl, 20)
    out, th = {}, []
    t0 = time.monotonic()
    m = conn()
    m.sendall(put_head("rate", "Content-Length: 1000\r\n") + b"{")
    u = conn()
    u.sendall(patch_head(slow, 1000, 10) + b"X")
    f = conn("127.0.0.3")
    f.sendall(patch_head(fine, 16384))
    for s, key in ((m, "manifest"), (u, "upload"), (f, "fine")):
        th.append(threading.Thread(target=timed_cut,
                                   args=(s, t0, 16, out, key)))
        th[-1].start()
    for i in range(16):     # 1 KiB every 0.25 s: 4 KiB/s for 4 s
        f.send(b"F" * 1024)
        if i % 4 == 0:      # and the drips a byte a second
            for s, b in ((m, b" "), (u, b"X")):
                try:
                    s.send(b)
                except OSError:
                    pass
        time.sleep(0.25)
    for t in th:
        t.join()
    for key in ("manifest", "upload", "fine"):
        print("%s %s %d" % ((key,) + out[key]))
    print("range %s" % upload_range(slow))
    for s in (m, u, f, ctl):
        s.close()


def cmd_http10():
    """An HTTP/1.0 request asking for keep-alive, then a second one on the
    same connection; and an Expect the server cannot meet."""
    s = conn()
    s.sendall(b"GET /v2/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    st, head, _ = read_answer(s, 10)
    ka = re.search(r"(?im)^connection: *keep-alive\s*$", head) is not None
    print("first %s keepalive=%d" % (st, ka))
    try:
        s.sendall(b"GET /v2/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        print("second %s" % read_answer(s, 10)[0])
    except OSError:
        print("second closed")
    s.close()
    s = conn()
    s.sendall(b"GET /v2/ HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n")
    print("expect %s" % read_answer(s, 10)[1].split("\r\n")[0])
    s.close()


{"head": cmd_head, "memdrip": cmd_memdrip, "memshare": cmd_memshare,
 "slots": cmd_slots, "rate": cmd_rate, "http10": cmd_http10}[VERB]()
