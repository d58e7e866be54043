"""test_abuse_http.py — strangers with raw sockets against the HTTP side.

Abuse rows (harness.AbuseTable) against the real binary, each sent as raw
bytes over a socket, each checking afterwards that the honest users still
get through: the viewer page and /healthz answer, the leader's /metrics
answers with the token, and a new viewer gets `welcome` within 1 s.
- http_cl_te_smuggling: a POST with Content-Length and Transfer-Encoding
  and a second request hidden after it: one 400, the connection closed,
  the hidden request never answered;
- http_duplicate_content_length: two Content-Length lines, a list, a sign;
- http_obs_fold: a Transfer-Encoding or Content-Length folded onto the line
  before (a leading space or tab), and one with a space before the colon;
- http_bad_header_line: no Host, two Host, a bad version, an h2c upgrade;
- ws_foreign_origin: a /ws upgrade from a page of another origin gets 403;
  the server's own origin, --public-url's, --allowed-origin's and no
  Origin at all (scripts) get in;
- metrics_needs_token: /metrics answers 401 without a token or with a wrong
  one, 200 with the leader token or --metrics-token;
- healthz_no_business_figures: /healthz and the public /api/shows carry no
  order count, GMV or restream URL; the leader's /api/shows does;
- security_headers: every kind of answer (pages, scripts, playlists, JSON,
  SVG, errors, refusals) carries nosniff, Referrer-Policy, X-Frame-Options
  and a Content-Security-Policy with frame-ancestors 'none';
- secrets_not_logged: with every tourcast log category at LOG level, the
  leader token sent in a query string and the other platform's stream key
  in a --restream URL never appear in the server's log.
"""
import asyncio
import json
import os
import re
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
from test_room import TOKEN, Client, viewer  # noqa: E402

METRICS_TOKEN = "scrape-token-abc"
PUBLIC_URL = "https://tour.example.org/watch"
ALLOWED = "https://shop.example.com"
RESTREAM_KEY = "live_999_othersecretkey"


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def conversation(server, raw, wait=3.0):
    """Sends raw bytes at once and reads until the server closes or `wait`
    seconds pass without a byte: (status codes of every response, closed)."""
    s = socket.create_connection(("127.0.0.1", server.http_port), timeout=wait)
    s.sendall(raw)
    data = b""
    closed = False
    try:
        while True:
            b = s.recv(65536)
            if not b:
                closed = True
                break
            data += b
    except socket.timeout:
        pass
    finally:
        s.close()
    # A status line anywhere: an answer to a hidden request may follow a body
    # that does not end in CRLF.
    codes = [int(c) for c in re.findall(rb"HTTP/1\.[01] (\d{3}) ", data)]
    return codes, closed, data


def head_of(server, method, path, extra=b""):
    """(status, lower-case header dict) of one request on its own connection."""
    raw = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.http_port}\r\n".encode()
           + extra + b"Connection: close\r\n\r\n")
    _, _, data = conversation(server, raw)
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(head[0].split(" ")[1]), headers


def refused_once(server, raw, what):
    codes, closed, _ = conversation(server, raw)
    assert codes == [400] and closed, f"{what}: answers {codes}, closed {closed}"


HIDDEN = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


def refused_each(server, head, cases):
    """Each case (the rest of a head, a blank line, a body) after `head`,
    with a hidden request after it: one 400, closed, never the hidden one."""
    for what, rest in cases.items():
        refused_once(server, head + rest + HIDDEN, what)
    return len(cases)


class AbuseHttpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dead_port = h.free_port()  # nothing listens: the restream target keeps failing
        cls.restream = f"rtmp://127.0.0.1:{cls.dead_port}/live/{RESTREAM_KEY}"
        cls.server = h.Server("--public-url", PUBLIC_URL, "--allowed-origin", ALLOWED,
                              "--metrics-token", METRICS_TOKEN, "--restream", cls.restream,
                              "--segment-ms", "1000", token=TOKEN,
                              env={"GST_DEBUG": "tourcast*:6"})
        # The phone publishes a few seconds, so that the restream target is
        # tried (and fails: nobody listens) and the media pipeline has run
        # before the RSS baseline is taken.
        phone = h.fake_phone(cls.server.rtmp_url, "-d", "8", "-s", "480x854", "-r", "15")
        try:
            h.wait_until(lambda: cls.server.metrics().get(
                'tourcast_restream_failures_total{target="0"}', 0) >= 1, 30,
                "the restream target to fail")
        finally:
            phone.kill()
            phone.communicate()
        cls.table = h.AbuseTable(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def honest(self):
        """The honest users after an attack: pages, health, the leader's
        metrics, a neighbour joining."""
        s = self.server
        assert s.get("/")[0] == 200
        assert s.get("/healthz")[0] == 200
        assert s.get_auth("/metrics")[0] == 200

        async def join():
            t0 = time.monotonic()
            v = await viewer(s, 1)
            took = time.monotonic() - t0
            await v.close()
            return took
        took = run(join())
        assert took < h.target_s(1.0), f"welcome took {took:.2f} s"
        return took

    def test_rows(self):
        t = self.table
        row = t.row
        t.row = lambda name, fn: row(name, lambda: f"{fn()}; honest welcome "
                                                   f"{self.honest() * 1000:.0f} ms")
        t.row("http_cl_te_smuggling", self.cl_te_smuggling)
        t.row("http_duplicate_content_length", self.duplicate_content_length)
        t.row("http_obs_fold", self.obs_fold)
        t.row("http_bad_header_line", self.bad_header_line)
        t.row("http_glued_header_behind_proxy", self.glued_header_behind_proxy)
        t.row("ws_foreign_origin", self.ws_foreign_origin)
        t.row("metrics_needs_token", self.metrics_needs_token)
        t.row("healthz_no_business_figures", self.healthz_no_business_figures)
        t.row("security_headers", self.security_headers)
        t.row("secrets_not_logged", self.secrets_not_logged)
        t.finish()

    # ---- rows ----

    def cl_te_smuggling(self):
        hidden = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        body = b"0\r\n\r\n" + hidden
        raw = (b"POST /api/products/1/image HTTP/1.1\r\nHost: x\r\n"
               b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n" % 5) + body
        refused_once(self.server, raw, "CL and TE")
        # TE alone, on a GET: lws would ignore it and answer the chunk as a request.
        refused_once(self.server, b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                     b"\r\n" + body, "TE on GET")
        refused_once(self.server, b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n"
                     b"\r\n", "TE identity")
        refused = self.server.metrics()['tourcast_http_refused_total{why="head"}']
        assert refused >= 3, refused
        return f"3 smuggling heads: one 400 each, closed; refused_total{{head}} {refused:.0f}"

    def duplicate_content_length(self):
        cases = {
            "two": b"Content-Length: 5\r\nContent-Length: 7\r\n\r\nabcde12",
            "list": b"Content-Length: 5, 5\r\n\r\nabcde",
            "sign": b"Content-Length: +5\r\n\r\nabcde",
            "hex": b"Content-Length: 0x5\r\n\r\nabcde",
            "huge": b"Content-Length: 99999999999999999999\r\n\r\n",
        }
        refused_each(self.server, b"POST /api/products/1/image HTTP/1.1\r\nHost: x\r\n", cases)
        # One plain Content-Length with OWS is still a request.
        codes, _, _ = conversation(self.server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                   b"Content-Length:  0 \r\nConnection: close\r\n\r\n")
        assert codes == [200], codes
        return f"{len(cases)} conflicting or malformed lengths refused"

    def obs_fold(self):
        cases = {
            "folded TE": b"Accept: */*\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "tab-folded CL": b"X-Zz: 1\r\n\tContent-Length: 5\r\n\r\nabcde",
            "space before colon": b"Content-Length : 5\r\n\r\nabcde",
            "TE space colon": b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        }
        refused_each(self.server, b"GET / HTTP/1.1\r\nHost: x\r\n", cases)
        return f"{len(cases)} hidden spellings of the framing headers refused"

    def bad_header_line(self):
        cases = {
            "no Host": b"GET / HTTP/1.1\r\n\r\n",
            "two Host": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "bad version": b"GET / HTTP/1.1 x\r\nHost: x\r\n\r\n",
            "HTTP/2.0": b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
            "h2c": b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                   b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n",
            "header before request line": b" Host: x\r\nGET / HTTP/1.1\r\n\r\n",
        }
        for what, raw in cases.items():
            codes, closed, _ = conversation(self.server, raw)
            assert codes in ([400], [403]) and closed, f"{what}: {codes}, closed {closed}"
        # CONNECT: lws would keep a raw socket with no timeout; closed at once.
        t0 = time.monotonic()
        codes, closed, _ = conversation(self.server, b"CONNECT 10.0.0.1:22 HTTP/1.1\r\n"
                                        b"Host: 10.0.0.1:22\r\n\r\n")
        took = time.monotonic() - t0
        assert closed and 200 not in codes and took < 2.5, (codes, closed, took)
        return f"{len(cases)} malformed heads refused, CONNECT closed in {took * 1000:.0f} ms"

    def glued_header_behind_proxy(self):
        """libwebsockets 4.1 reads an unknown header whose name is the start
        of a known one ("X-A" of "X-Auth-Token") up to the next colon, so the
        line after it is lost: a Content-Length there is not seen and the
        body is read as the next request. tourcast cannot see that line;
        what keeps it harmless is an edge that does not reuse connections
        to the origin: nginx's default (HTTP/1.0, Connection: close first).
        Such a request is answered once and the connection closed."""
        hidden = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        codes, closed, data = conversation(
            self.server, b"GET / HTTP/1.0\r\nHost: x\r\nConnection: close\r\nX-A: 1\r\n"
            b"Content-Length: %d\r\n\r\n" % len(hidden) + hidden)
        assert closed and b'"publisher_live"' not in data, (codes, data[-200:])
        codes, closed, data = conversation(
            self.server, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-A: 1\r\n"
            b"Content-Length: %d\r\n\r\n" % len(hidden) + hidden)
        assert closed and b'"publisher_live"' not in data, (codes, data[-200:])
        return "answered once and closed, the hidden request never answered"

    def ws_foreign_origin(self):
        port = self.server.http_port

        async def upgrade(origin):
            kw = {"origin": origin} if origin else {}
            try:
                c = await Client.open(self.server, **kw)
            except Exception as e:  # websockets' InvalidStatus(Code)
                code = getattr(getattr(e, "response", None), "status_code", None) or \
                    getattr(e, "status_code", None)
                return code or repr(e)
            await c.send({"type": "hello", "role": "leader", "token": TOKEN})
            w = await c.typed("welcome")
            await c.close()
            return w["role"]

        async def go():
            out = {}
            for origin in ("http://evil.example", "https://tour.example.org.evil.example",
                           "null", f"http://127.0.0.1:{port + 1}", f"http://127.0.0.1:{port}",
                           "https://tour.example.org", ALLOWED, "HTTPS://SHOP.EXAMPLE.COM",
                           None):
                out[origin] = await upgrade(origin)
            return out
        out = run(go())
        for bad in ("http://evil.example", "https://tour.example.org.evil.example", "null",
                    f"http://127.0.0.1:{port + 1}"):
            assert out[bad] == 403, (bad, out[bad])
        for good in (f"http://127.0.0.1:{port}", "https://tour.example.org", ALLOWED,
                     "HTTPS://SHOP.EXAMPLE.COM", None):
            assert out[good] == "leader", (good, out[good])
        refused = self.server.metrics()['tourcast_http_refused_total{why="origin"}']
        assert refused >= 4, refused
        return "4 foreign origins refused with 403; own, public, allowed and no Origin admitted"

    def metrics_needs_token(self):
        s = self.server
        status, headers, body = s.get("/metrics")
        assert status == 401 and b"tourcast_" not in body, (status, body[:100])
        auth = {k.lower(): v for k, v in headers.items()}.get("www-authenticate", "")
        assert auth.startswith("Bearer"), headers
        status, _, body = s.get(f"/metrics?token={TOKEN}x")
        assert status == 401, status
        for token in (TOKEN, METRICS_TOKEN):
            status, _, body = s.get(f"/metrics?token={token}")
            assert status == 200 and b"tourcast_ws_connections" in body, status
        # Prometheus sends the bearer token in the header.
        status, _, _ = conversation_status(s, "/metrics", f"Authorization: Bearer {METRICS_TOKEN}")
        assert status == 200, status
        status, _, _ = conversation_status(s, "/metrics", "Authorization: Bearer nope")
        assert status == 401, status
        return "401 without or with a wrong token; 200 with the leader or metrics token"

    def healthz_no_business_figures(self):
        s = self.server

        async def sell():
            ldr = await Client.open(s)
            await ldr.send({"type": "hello", "role": "leader", "token": TOKEN})
            w = await ldr.typed("welcome")
            if w["show"] is None or w["show"]["state"] == "ended":  # the phone may have begun one
                await ldr.send({"type": "show.begin", "title": "开放日"})
                await ldr.typed("show")
            await ldr.send({"type": "product.put", "name": "桃", "price_cents": 1990,
                            "stock": 50, "on_sale": True})
            prod = (await ldr.typed("product"))["product"]
            v = await viewer(s, 2)
            await v.send({"type": "order", "product_id": prod["id"], "qty": 2, "key": "o"})
            ack = await v.expect(lambda m: m.get("key") == "o")
            assert ack["type"] == "order.ok", ack
            await v.close()
            await ldr.close()
        run(sell())
        health = s.get("/healthz")[2].decode()
        for word in ("order", "gmv", "buyer", "rtmp://", RESTREAM_KEY, "restream"):
            assert word not in health, (word, health)
        public = json.loads(s.get("/api/shows")[2])
        assert public and all(not ({"orders", "gmv_cents", "buyers", "replay_orders"} & set(x))
                              for x in public), public[0]
        private = json.loads(s.get_auth("/api/shows")[2])
        assert private[0]["gmv_cents"] == 3980 and private[0]["orders"] == 1, private[0]
        assert s.get(f"/api/shows/{public[0]['id']}/orders")[0] == 403
        assert s.get(f"/api/shows/{public[0]['id']}/orders.csv")[0] == 403
        return f"/healthz {len(health)} bytes: {sorted(json.loads(health))}"

    def security_headers(self):
        s = self.server
        show = json.loads(s.get("/api/shows")[2])[0]["id"]
        targets = [("GET", "/", True), ("GET", "/leader", True), ("GET", f"/replay/{show}", True),
                   ("GET", "/web/common.js", False), ("GET", "/web/tc.css", False),
                   ("GET", "/live/index.m3u8", False), ("HEAD", "/", True),
                   ("GET", "/healthz", False), ("GET", "/api/shows", False),
                   ("GET", "/api/qr.svg", False), ("GET", f"/api/shows/{show}/events", False),
                   ("GET", f"/api/shows/{show}/orders.csv", False), ("GET", "/metrics", False),
                   ("GET", "/nope", False), ("DELETE", "/", False), ("GET", "/ws", False)]
        seen = {}
        for method, path, page in targets:
            status, hd = head_of(s, method, path)
            seen[f"{method} {path}"] = status
            assert hd.get("x-content-type-options") == "nosniff", (path, hd)
            assert hd.get("referrer-policy") == "no-referrer", (path, hd)
            assert hd.get("x-frame-options") == "DENY", (path, hd)
            csp = hd.get("content-security-policy", "")
            assert "frame-ancestors 'none'" in csp, (path, hd)
            if page:
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp, (path, csp)
            else:
                assert csp.startswith("default-src 'none'"), (path, csp)
        # And a refusal written before routing.
        _, _, data = conversation(s, b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: x\r\n\r\n")
        assert b"\r\ncontent-security-policy: default-src 'none'" in data.lower(), data[:300]
        return f"{len(targets) + 1} answers checked: {seen}"

    def secrets_not_logged(self):
        s = self.server
        s.get(f"/api/shows/1/orders.csv?token={TOKEN}")
        s.get(f"/leader?token={TOKEN}")
        s.get(f"/metrics?token={TOKEN}")
        with open(s.log_path, "rb") as f:
            log = f.read().decode(errors="replace")
        lines = log.count("\n")
        assert lines > 50, f"only {lines} log lines: is GST_DEBUG applied?"
        assert "restream rtmp://127.0.0.1" in log and "/live/***" in log, "no restream log line"
        assert RESTREAM_KEY not in log, [x for x in log.splitlines() if RESTREAM_KEY in x][:3]
        # The leader token is printed once, in the start banner (the leader's
        # way in); never in a line about a request.
        leaks = [x for x in log.splitlines() if TOKEN in x and "leader console:" not in x]
        assert not leaks, leaks[:3]
        return f"{lines} log lines at LOG level: no stream key, no token outside the banner"


def conversation_status(server, path, header):
    raw = (f"GET {path} HTTP/1.1\r\nHost: x\r\n{header}\r\nConnection: close\r\n\r\n").encode()
    codes, closed, data = conversation(server, raw)
    return (codes[0] if codes else None), closed, data


if __name__ == "__main__":
    unittest.main(verbosity=2)
