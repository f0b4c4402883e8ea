#!/usr/bin/env python3
"""cdp_dump.py: print the DOM of a page as headless Chromium renders it, with Basic auth.

`chromium --dump-dom http://user:pass@host/` loads the top page, but the document then
keeps the credentials in its URL and Chromium blocks every subresource whose URL carries
them, a relative fetch('/status.json') included. So this drives Chromium over the
DevTools protocol (--remote-debugging-pipe: NUL-terminated JSON on fds 3 and 4) and sets
an Authorization header on every request instead.

usage: cdp_dump.py [--chromium PATH] [--auth USER:PASSWORD] [--wait-for TEXT]
                   [--timeout SECONDS] PROFILE_DIR URL
Exit 0 with the DOM on stdout; 1 when Chromium fails, the page answers an HTTP error,
TEXT never appears or time runs out (why on stderr).
"""

import argparse
import base64
import fcntl
import json
import os
import select
import signal
import subprocess
import sys
import time

MAX_MESSAGE = 64 << 20  # a DOM bigger than this is not a status page


class Failure(Exception):
    pass


class Browser:
    """One Chromium in its own process group, spoken to over the DevTools pipe."""

    def __init__(self, chromium, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def onto_3_and_4():
            # Chromium reads fd 3 and writes fd 4; move both above 4 first, in case
            # one of the pipe ends is 3 or 4 already.
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--no-first-run",
             "--user-data-dir=" + profile, "--remote-debugging-pipe", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            preexec_fn=onto_3_and_4, close_fds=False, start_new_session=True)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("timed out waiting for Chromium")
            ready, _, _ = select.select([self.from_chrome], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise Failure("Chromium closed its DevTools pipe (exited?)")
            self.buf += chunk
            if len(self.buf) > MAX_MESSAGE:
                raise Failure("a DevTools message over %d bytes" % MAX_MESSAGE)
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, deadline, method, params=None, session=None):
        want = self.send(method, params, session)
        while True:
            msg = self.read_message(deadline)
            if msg.get("id") == want:
                if "error" in msg:
                    raise Failure("%s: %s" % (method, msg["error"].get("message")))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_event(self, deadline, method):
        while True:
            for i, ev in enumerate(self.events):
                if ev["method"] == method:
                    return self.events.pop(i)
            self.events.append(self.read_message(deadline))

    def stop(self):
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=3)
        except (OSError, subprocess.TimeoutExpired):
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()


def document_status(events):
    """The HTTP status of the main document among the events seen so far (0: none)."""
    for ev in events:
        p = ev.get("params", {})
        if ev["method"] == "Network.responseReceived" and p.get("type") == "Document":
            return p["response"].get("status", 0)
    return 0


def render(b, args, deadline):
    target = b.call(deadline, "Target.createTarget", {"url": "about:blank"})["targetId"]
    s = b.call(deadline, "Target.attachToTarget",
               {"targetId": target, "flatten": True})["sessionId"]
    b.call(deadline, "Network.enable", session=s)
    if args.auth:
        token = base64.b64encode(args.auth.encode()).decode()
        b.call(deadline, "Network.setExtraHTTPHeaders",
               {"headers": {"Authorization": "Basic " + token}}, session=s)
    b.call(deadline, "Page.enable", session=s)
    nav = b.call(deadline, "Page.navigate", {"url": args.url}, session=s)
    if nav.get("errorText"):
        raise Failure("navigation failed: " + nav["errorText"])
    b.wait_event(deadline, "Page.loadEventFired")
    status = document_status(b.events)
    if status >= 400:
        raise Failure("the page answered HTTP %d" % status)
    expr = "document.documentElement.outerHTML"
    while True:
        dom = b.call(deadline, "Runtime.evaluate",
                     {"expression": expr, "returnByValue": True},
                     session=s)["result"].get("value", "")
        if not args.wait_for or args.wait_for in dom:
            return dom
        if time.monotonic() + 0.1 >= deadline:
            raise Failure("%r never appeared in the page" % args.wait_for)
        time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chromium", default="chromium")
    ap.add_argument("--auth", help="USER:PASSWORD for Basic auth")
    ap.add_argument("--wait-for", help="text the DOM must contain")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("profile")
    ap.add_argument("url")
    args = ap.parse_args()
    if args.auth is not None and ":" not in args.auth:
        ap.error("--auth wants USER:PASSWORD")
    # A TERM (from timeout(1)) must still stop Chromium: leave through finally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    deadline = time.monotonic() + args.timeout
    b = Browser(args.chromium, args.profile)
    try:
        sys.stdout.write(render(b, args, deadline) + "\n")
        return 0
    except Failure as e:
        print("cdp_dump: %s" % e, file=sys.stderr)
        return 1
    finally:
        b.stop()


if __name__ == "__main__":
    sys.exit(main())
