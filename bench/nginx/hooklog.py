#!/usr/bin/env python3
"""Check the nginx logs of one bench/deliver round.

    hooklog.py wrk   HOOK_LOG BODY_BYTES
    hooklog.py ferry HOOK_LOG BODY_BYTES N SECRET SAMPLE_LOG

Every line of HOOK_LOG (log_format "hook" of nginx.conf.in) must be a
POST /hook answered 204 whose body of BODY_BYTES was read (the request
length counts it). For ferry, in addition: N lines, all with a
User-Agent of ferry/..., N distinct ferry-event-ids, signature headers of
the form t=<unix>,v1=<64 hex>, and on the sampled lines of SAMPLE_LOG
(log_format "sample") the HMAC-SHA256 of "t.body" under SECRET matches a
v1. Prints key=value lines; exits 1 with the reason on the first failure.
"""

import hashlib
import hmac
import re
import sys

LINE = re.compile(
    r'^(?P<msec>\d+\.\d+) (?P<method>\S+) (?P<uri>\S+) (?P<status>\d+) '
    r'(?P<reqlen>\d+) (?P<clen>\S+) (?P<conn>\d+) "(?P<ua>[^"]*)" '
    r'"(?P<sig>[^"]*)" "(?P<id>[^"]*)"$')
SIG = re.compile(r'^t=(\d+)((?:,v1=[0-9a-f]{64})+)$')
REQUEST_LINE = len("POST /hook HTTP/1.1\r\n")


def fail(msg):
    print(msg)
    sys.exit(1)


def main(argv):
    if len(argv) not in (4, 7) or argv[1] not in ("wrk", "ferry"):
        fail("usage: hooklog.py wrk|ferry HOOK_LOG BODY_BYTES "
             "[N SECRET SAMPLE_LOG]")
    mode, path, body_bytes = argv[1], argv[2], int(argv[3])
    ferry = mode == "ferry"
    lines = 0
    ids = set()
    conns = set()
    first = last = None
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\n"))
            if m is None:
                fail("unparsed line: %r" % raw[:200])
            lines += 1
            if (m["method"], m["uri"], m["status"]) != ("POST", "/hook",
                                                         "204"):
                fail("not a POST /hook answered 204: %r" % raw[:200])
            if m["clen"] != str(body_bytes):
                fail("content length %s, not %d" % (m["clen"], body_bytes))
            if int(m["reqlen"]) < REQUEST_LINE + body_bytes:
                fail("request length %s: the body was not read"
                     % m["reqlen"])
            t = float(m["msec"])
            first = t if first is None else min(first, t)
            last = t if last is None else max(last, t)
            conns.add(m["conn"])
            if not ferry:
                continue
            if not m["ua"].startswith("ferry/"):
                fail("User-Agent %r" % m["ua"])
            s = SIG.match(m["sig"])
            if s is None:
                fail("terra-signature %r" % m["sig"])
            if abs(int(s.group(1)) - t) > 120:
                fail("signature time %s far from %.0f" % (s.group(1), t))
            ids.add(m["id"])
    print("lines=%d" % lines)
    print("connections=%d" % len(conns))
    if lines == 0:
        fail("no request logged")
    span = last - first
    print("span_s=%.3f" % span)
    print("span_rate=%.0f" % ((lines - 1) / span if span > 0 else 0))
    if not ferry:
        return
    n, secret, sample = int(argv[4]), argv[5].encode(), argv[6]
    if lines != n:
        fail("nginx logged %d POSTs, not %d" % (lines, n))
    if len(ids) != n:
        fail("%d distinct ferry-event-ids, not %d" % (len(ids), n))
    checked = 0
    with open(sample, encoding="utf-8", errors="replace") as f:
        for raw in f:
            parts = raw.rstrip("\n").split("|", 3)
            if len(parts) != 4 or not parts[0].startswith("ferry/"):
                continue
            s = SIG.match(parts[1])
            if s is None:
                fail("sampled terra-signature %r" % parts[1])
            body = parts[3].encode()
            if len(body) != body_bytes:
                fail("sampled body of %d bytes" % len(body))
            want = hmac.new(secret, s.group(1).encode() + b"." + body,
                            hashlib.sha256).hexdigest()
            if want not in s.group(2).split(",v1=")[1:]:
                fail("signature does not verify for %s" % parts[2])
            if parts[2] not in ids:
                fail("sampled event %s not in the log" % parts[2])
            checked += 1
    if checked == 0:
        fail("no sampled request to verify")
    print("verified=%d" % checked)


if __name__ == "__main__":
    main(sys.argv)
