#!/usr/bin/env python3
"""conn_relay.py LISTEN_PORT TARGET_PORT LOG: a TCP relay on 127.0.0.1 that
writes one line to LOG for every connection it accepts, so a suite can count
the connections a client opens to the server behind it (test_cache.sh: the
cache's upstream connections).  Bytes pass unchanged both ways; when either
side closes, both are closed."""
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    lport, tport, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('127.0.0.1', lport))
    ls.listen(64)
    while True:
        c, _ = ls.accept()
        with open(log, 'a') as f:
            f.write('connection\n')
        try:
            u = socket.create_connection(('127.0.0.1', tport), timeout=10)
            u.settimeout(None)
        except OSError:
            c.close()
            continue
        threading.Thread(target=pump, args=(c, u), daemon=True).start()
        threading.Thread(target=pump, args=(u, c), daemon=True).start()


main()
