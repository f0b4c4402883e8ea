#!/usr/bin/env python3
"""page_server.py: serve a directory over HTTP on loopback, optionally behind Basic auth.

usage: page_server.py DIR PORT [USER:PASSWORD]
Logs one line per request to stderr: `PATH auth=yes|no|bad STATUS`, so a suite can tell
which requests carried the credentials.
"""

import base64
import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    credentials = None

    def auth_state(self):
        got = self.headers.get("Authorization")
        if got is None:
            return "no"
        want = "Basic " + base64.b64encode(self.credentials.encode()).decode()
        return "yes" if got == want else "bad"

    def do_GET(self):
        state = self.auth_state() if self.credentials else "no"
        if self.credentials and state != "yes":
            body = b"<html><body>denied</body></html>"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="test"')
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            sys.stderr.write("%s auth=%s 401\n" % (self.path, state))
            return
        sys.stderr.write("%s auth=%s 200\n" % (self.path, state))
        super().do_GET()

    def log_message(self, *args):
        pass


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    Handler.credentials = sys.argv[3] if len(sys.argv) == 4 else None
    handler = functools.partial(Handler, directory=sys.argv[1])
    server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[2])), handler)
    sys.stderr.reconfigure(line_buffering=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
