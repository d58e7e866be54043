"""test_abuse_room.py — strangers with a script against the live room.

One row per attack on what the room builds from user data and on its
slots, each run against the real binary over real sockets, each checking
that the honest users still get through: a new viewer gets `welcome`
within 1 s, the leader stays connected and hears every order (or an
`order.gap` telling it to reload, never a drop), the per-person limit holds.
Prints the server's RSS growth per row and over the suite.
"""
import asyncio
import json
import os
import socket
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
from test_room import TOKEN, Client, leader, put_product, viewer  # noqa: E402

MAX_CONNECTIONS = 1500  # small, so that filling the server is cheap; a quarter above a crowd of 300
PEACH = "\U0001F351"   # four bytes of UTF-8: the most a character costs once escaped


def run(coro, timeout=120):
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def honest_viewer(server, i):
    """A neighbour joining now: (client, seconds to welcome)."""
    t0 = time.monotonic()
    v = await viewer(server, i)
    took = time.monotonic() - t0
    assert took < h.target_s(1.0), f"welcome took {took:.2f} s"
    return v, took


async def open_leader(server):
    ldr = await leader(server)
    ldr.server = server
    return ldr


async def leader_alive(ldr):
    await ldr.send({"type": "ping"})
    await ldr.expect(lambda m: m.get("type") == "pong", timeout=5)


async def close_all(clients):
    """Closes them together; one whose reader is far behind is cut off
    rather than waited for."""
    async def one(c):
        c.ws.close_timeout = 0.5  # a reader far behind never answers the close
        try:
            await c.close()
        except OSError:
            c.ws.transport.abort()
    await asyncio.gather(*(one(c) for c in clients))


async def ensure_show(ldr):
    """A show open, whichever rows ran before (show.begin with a show open
    changes nothing and answers nothing)."""
    c = await Client.open(ldr.server)
    await c.send({"type": "hello", "role": "leader", "token": TOKEN})
    w = await c.typed("welcome")
    await c.close()
    if w["show"] is None or w["show"]["state"] == "ended":
        await ldr.send({"type": "show.begin", "title": "压测"})
        await ldr.typed("show")


def settle(server):
    """Waits until the connections of the rows before are gone (the server
    holds MAX_CONNECTIONS: a row's crowd must not meet the last one's)."""
    h.wait_until(lambda: server.metrics().get("tourcast_ws_connections", 0) <= 20, 30,
                 "the previous row's connections to close")


def dropped_slow(server):
    return server.metrics().get("tourcast_ws_dropped_slow_total", 0)


class AbuseRoomTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = h.Server("--max-connections", str(MAX_CONNECTIONS))
        cls.table = h.AbuseTable(cls.server)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_rows(self):
        t = self.table
        row = t.row
        t.row = lambda name, fn: row(name, lambda: (settle(self.server), fn())[1])
        only = os.environ.get("ABUSE_ROWS")  # a comma-separated subset, for debugging
        if only:
            t.row = (lambda row, keep: lambda name, fn: row(name, fn) if name in keep else None)(
                t.row, only.split(","))
        t.row("welcome_question_flood", self.welcome_question_flood)
        t.row("questions_more_pages", self.questions_more_pages)
        t.row("leader_feed_burst", self.leader_feed_burst)
        t.row("leader_not_reading", self.leader_not_reading)
        t.row("same_phone_two_tokens", self.same_phone_two_tokens)
        t.row("replay_allowance", self.replay_allowance)
        t.row("ungreeted_fill", self.ungreeted_fill)
        t.row("sqlite_locked", self.sqlite_locked)
        t.row("api_lists_paged", self.api_lists_paged)
        t.finish()

    # ---- rows ----

    def welcome_question_flood(self):
        """Ten viewers ask 280-character questions at the rate limit for 3 s:
        the welcome stays bounded, new viewers and the leader get in."""
        async def go():
            ldr = await open_leader(self.server)
            await ldr.send({"type": "show.begin", "title": "压测"})
            await ldr.typed("show")
            askers = [await viewer(self.server, 100 + i) for i in range(10)]
            text = PEACH * 280
            # Control characters (6 bytes escaped) are refused outright.
            await askers[0].send({"type": "ask", "text": "\u0001" * 280, "ref": "ctl"})
            err = await askers[0].expect(lambda m: m.get("ref") == "ctl")
            assert err["code"] == "invalid", err
            sent = 0
            end = time.monotonic() + 3
            while time.monotonic() < end:
                for a in askers:
                    await a.send({"type": "ask", "text": text})
                    sent += 1
                await asyncio.sleep(1 / 18)  # just under 20 a second each
            await asyncio.sleep(0.5)
            v, took = await honest_viewer(self.server, 200)
            size = len(json.dumps(v.welcome, ensure_ascii=False).encode())
            assert len(v.welcome["questions"]) == 50, len(v.welcome["questions"])
            assert v.welcome["questions_total"] >= sent * 0.9, (v.welcome["questions_total"], sent)
            l2 = await Client.open(self.server)
            t0 = time.monotonic()
            await l2.send({"type": "hello", "role": "leader", "token": TOKEN})
            lw = await l2.typed("welcome", role="leader")
            ltook = time.monotonic() - t0
            assert ltook < h.target_s(1.0), ltook
            await leader_alive(ldr)
            await close_all(askers + [v, l2, ldr])
            return (f"{sent} questions; viewer welcome {size // 1024} KB in {took * 1000:.0f} ms, "
                    f"leader welcome in {ltook * 1000:.0f} ms ({len(lw['questions'])} questions)")
        return run(go())

    def questions_more_pages(self):
        """Paging through every question: each page at most 50, in order."""
        async def go():
            v, _ = await honest_viewer(self.server, 201)
            total = v.welcome["questions_total"]
            have = v.welcome["questions"]
            pages, biggest = 0, 0
            while len(have) < total:
                await v.send({"type": "questions.more", "before_id": have[0]["id"], "ref": "m"})
                p = await v.typed("questions.page")
                biggest = max(biggest, len(json.dumps(p, ensure_ascii=False).encode()))
                assert 0 < len(p["questions"]) <= 50
                assert p["questions"][-1]["id"] < have[0]["id"]
                have = p["questions"] + have
                pages += 1
            ids = [q["id"] for q in have]
            assert ids == sorted(ids) and len(set(ids)) == total
            await v.close()
            return f"{total} questions in {pages} pages, largest page {biggest // 1024} KB"
        return run(go())

    def leader_feed_burst(self):
        """300 viewers buy a cheap product 3 times each at once: the leader
        hears every order in frames of at most 100, and is not dropped."""
        async def go():
            ldr = await open_leader(self.server)
            await ensure_show(ldr)
            p = await put_product(ldr, name="一分钱鸡蛋", price_cents=1, unit="个",
                                  stock=1000000, limit_per_buyer=0, on_sale=True)
            buyers = await asyncio.gather(*(viewer(self.server, 1000 + i) for i in range(300)))
            before = dropped_slow(self.server)

            async def buy(c, i):
                for k in range(3):
                    await c.send({"type": "order", "product_id": p["id"], "qty": 1,
                                  "key": f"b{i}-{k}"})
                for k in range(3):
                    await c.expect(lambda m: m.get("key") == f"b{i}-{k}", timeout=60)

            await asyncio.gather(*(buy(c, i) for i, c in enumerate(buyers)))
            heard, frames, biggest = 0, 0, 0
            while heard < 900:
                m = await ldr.expect(lambda m: m.get("type") == "order.new", timeout=10)
                frames += 1
                biggest = max(biggest, len(m["orders"]))
                heard += len(m["orders"])
            assert biggest <= 100, biggest
            await leader_alive(ldr)
            v, took = await honest_viewer(self.server, 2000)
            assert dropped_slow(self.server) == before
            await close_all(buyers + [v, ldr])
            return f"900 orders reached the leader in {frames} frames (largest {biggest} orders)"
        return run(go())

    def leader_not_reading(self):
        """A leader console that stops reading during a flash sale (a phone
        in a lift) is never dropped: the feed pauses, then order.gap."""
        async def go():
            ldr = await open_leader(self.server)
            await ensure_show(ldr)
            p = await put_product(ldr, name="秒杀苹果", price_cents=1, unit="个",
                                  stock=1000000, limit_per_buyer=0, on_sale=True)
            # A second leader connection that reads nothing: a receive
            # buffer fixed small before connecting (else the kernel grows it
            # to tens of MB), and its reader paused below.
            raw = socket.socket()
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
            raw.connect(("127.0.0.1", self.server.http_port))
            sleepy = await Client.open(self.server, sock=raw, max_queue=1)
            await sleepy.send({"type": "hello", "role": "leader", "token": TOKEN})
            await sleepy.typed("welcome")
            sleepy.ws.transport.pause_reading()
            # Names and pickups at their limit: about 700 bytes an order to
            # the leader, 10 MB in all, past what the kernel's buffers hold.
            buyers = await asyncio.gather(*(viewer(self.server, 3000 + i, name=PEACH * 32,
                                                   pickup=PEACH * 32) for i in range(300)))
            before = dropped_slow(self.server)
            long_key = "k" * 54  # keys are at most 64 characters

            async def buy(c, i):
                for k in range(50):
                    await c.send({"type": "order", "product_id": p["id"], "qty": 1,
                                  "key": f"{long_key}{i}-{k}"})
                    if k % 15 == 14:
                        await asyncio.sleep(1.0)  # within the rate limit
                try:
                    await c.expect(lambda m: m.get("key") == f"{long_key}{i}-49", timeout=60)
                except Exception:
                    raise AssertionError(f"buyer {i}: {c.inbox[-3:]}, open {c.ws.open}, "
                                         f"{self.server.metrics()}")

            await asyncio.gather(*(buy(c, i) for i, c in enumerate(buyers)))
            held = self.server.metrics().get("tourcast_leader_feed_held_total", 0)
            sleepy.ws.transport.resume_reading()
            gap = await sleepy.expect(lambda m: m.get("type") == "order.gap", timeout=30)
            assert gap["missed"] > 0 and gap["orders_total"] >= gap["missed"], gap
            await leader_alive(sleepy)
            await leader_alive(ldr)
            assert dropped_slow(self.server) == before, "a leader was dropped"
            await close_all(buyers + [sleepy, ldr])
            return (f"15000 orders; the sleeping console missed {gap['missed']} "
                    f"(held {held:.0f}), got order.gap, stayed connected")
        return run(go(), timeout=240)

    def same_phone_two_tokens(self):
        """The same person with a fresh token (the phone written another way)
        gets no fresh allowance."""
        async def go():
            ldr = await open_leader(self.server)
            await ensure_show(ldr)
            p = await put_product(ldr, name="限购车厘子", price_cents=9900, unit="盒",
                                  stock=100, limit_per_buyer=2, on_sale=True)
            a = await viewer(self.server, 4000, phone="13912345678")
            b = await viewer(self.server, 4001, phone="+86 139-1234-5678")
            c = await viewer(self.server, 4002, phone="008613912345678")
            answers = []
            for who, key in ((a, "a"), (b, "b"), (c, "c")):
                await who.send({"type": "order", "product_id": p["id"], "qty": 1, "key": key})
                answers.append(await who.expect(lambda m: m.get("key") == key))
            kinds = [m["type"] for m in answers]
            assert kinds == ["order.ok", "order.ok", "order.rejected"], answers
            assert answers[2]["reason"] == "over_limit"
            await honest_viewer(self.server, 4003)
            await close_all(list((a, b, c, ldr)))
            return "3 tokens, 1 phone: 2 accepted, the 3rd over_limit"
        return run(go())

    def replay_allowance(self):
        """An order naming an ended show: only for a product on sale in it,
        and under the same per-person limit."""
        async def go():
            ldr = await open_leader(self.server)
            await ensure_show(ldr)
            show = (await self._current_show(ldr))
            p = await put_product(ldr, name="桃", price_cents=100, unit="斤",
                                  stock=100, limit_per_buyer=2, on_sale=True)
            a = await viewer(self.server, 5000, phone="13700000001")
            await a.send({"type": "order", "product_id": p["id"], "qty": 2, "key": "live"})
            assert (await a.expect(lambda m: m.get("key") == "live"))["type"] == "order.ok"
            await ldr.send({"type": "show.end"})
            await ldr.typed("show")
            never = await put_product(ldr, name="新品荔枝", price_cents=100, unit="斤",
                                      stock=100, limit_per_buyer=0, on_sale=True)
            a2 = await viewer(self.server, 5001, phone="137 0000 0001")  # the same person
            rows = [(a2, p["id"], "r1", "over_limit"), (a, never["id"], "r2", "not_on_sale")]
            for who, pid, key, reason in rows:
                await who.send({"type": "order", "product_id": pid, "qty": 1, "key": key,
                                "show_id": show, "seen_ms": 1000})
                m = await who.expect(lambda m: m.get("key") == key)
                assert m["type"] == "order.rejected" and m["reason"] == reason, m
            other = await viewer(self.server, 5002, phone="13700000002")
            await other.send({"type": "order", "product_id": p["id"], "qty": 2, "key": "ok",
                              "show_id": show, "seen_ms": 1000})
            assert (await other.expect(lambda m: m.get("key") == "ok"))["type"] == "order.ok"
            await ldr.send({"type": "show.begin", "title": "第二场"})
            await ldr.typed("show")
            await close_all(list((a, a2, other, ldr)))
            return "replay: over_limit for the same person, not_on_sale for a new product"
        return run(go())

    async def _current_show(self, ldr):
        c = await Client.open(self.server)
        await c.send({"type": "hello", "role": "leader", "token": TOKEN})
        w = await c.typed("welcome")
        await c.close()
        return w["show"]["id"]

    def ungreeted_fill(self):
        """Sockets that upgrade and never say hello fill the server: a real
        viewer still gets in at once, and they are closed at the deadline."""
        host, port = "127.0.0.1", self.server.http_port
        req = ("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               "Sec-WebSocket-Protocol: tourcast.v1\r\n\r\n").encode()
        socks = []
        for _ in range(MAX_CONNECTIONS + 100):
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(req)
            socks.append(s)
        upgraded = 0
        for s in socks:
            try:
                if s.recv(4096).startswith(b"HTTP/1.1 101"):
                    upgraded += 1
            except OSError:
                pass
        opened = time.monotonic()

        async def go():
            v, took = await honest_viewer(self.server, 6000)
            v2, took2 = await honest_viewer(self.server, 6001)
            ldr = await open_leader(self.server)
            await v.close()
            await v2.close()
            await ldr.close()
            return took, took2
        took, took2 = run(go())
        # The hello deadline (10 s) closes every one of them.
        closed = 0
        for s in socks:
            s.settimeout(max(0.1, opened + 12 - time.monotonic()))
            try:
                while s.recv(4096):
                    pass
                closed += 1
            except OSError:
                closed += 1 if s.fileno() < 0 else 0
            s.close()
        m = self.server.metrics()
        assert closed == len(socks), f"{len(socks) - closed} un-greeted sockets still open"
        return (f"{len(socks)} upgrades ({upgraded} got 101) never said hello: viewers got "
                f"welcome in {took * 1000:.0f}/{took2 * 1000:.0f} ms; evicted "
                f"{m.get('tourcast_ws_evicted_total', 0):.0f}, timed out "
                f"{m.get('tourcast_ws_hello_timeouts_total', 0):.0f}")

    def sqlite_locked(self):
        """Another process holds the database's write lock for 1.5 s: the
        loop keeps answering (pings, /healthz), and the order commits after."""
        db = sqlite3.connect(os.path.join(self.server.data, "tourcast.db"), timeout=5,
                             isolation_level=None)

        async def go():
            ldr = await open_leader(self.server)
            await ensure_show(ldr)
            p = await put_product(ldr, name="锁表测试", price_cents=1, unit="个",
                                  stock=100, limit_per_buyer=0, on_sale=True)
            v = await viewer(self.server, 7000)
            db.execute("BEGIN IMMEDIATE")
            locked_at = time.monotonic()
            await v.send({"type": "order", "product_id": p["id"], "qty": 1, "key": "locked"})
            worst = 0.0
            while time.monotonic() - locked_at < 1.5:
                t0 = time.monotonic()
                await v.send({"type": "ping"})
                await v.expect(lambda m: m.get("type") == "pong", timeout=5)
                worst = max(worst, time.monotonic() - t0)
                await asyncio.sleep(0.05)
            hz = []
            th = threading.Thread(target=lambda: hz.append(self._timed_healthz()))
            th.start()
            th.join()
            assert not any(m.get("key") == "locked" for m in v.inbox), "acknowledged while locked"
            db.execute("COMMIT")
            ok = await v.expect(lambda m: m.get("key") == "locked", timeout=5)
            assert ok["type"] == "order.ok", ok
            assert worst < 0.25, f"a ping took {worst * 1000:.0f} ms while locked"
            await leader_alive(ldr)
            await v.close()
            await ldr.close()
            return (f"lock held 1.5 s: worst ping {worst * 1000:.1f} ms, /healthz "
                    f"{hz[0] * 1000:.1f} ms, the order committed after")
        try:
            return run(go())
        finally:
            db.close()

    def _timed_healthz(self):
        t0 = time.monotonic()
        status, _, _ = self.server.get("/healthz")
        assert status == 200
        return time.monotonic() - t0

    def api_lists_paged(self):
        """Every list the HTTP API returns has a bounded page."""
        shows = json.loads(self.server.get("/api/shows")[2])
        show = shows[-1]["id"]  # the first show: all the orders above
        status, _, body = self.server.get(f"/api/shows/{show}/events?limit=100000")
        events = json.loads(body)
        assert status == 200 and len(events) <= 1000, len(events)
        seen = len(events)
        last = events[-1]
        status, _, body = self.server.get(
            f"/api/shows/{show}/events?after_ms={last['stream_ms']}&after_id={last['id']}")
        nxt = json.loads(body)
        assert all((e["stream_ms"], e["id"]) > (last["stream_ms"], last["id"]) for e in nxt)
        status, _, body = self.server.get_auth(f"/api/shows/{show}/orders")
        orders = json.loads(body)
        assert status == 200 and len(orders) == 1000, len(orders)
        status, _, body = self.server.get_auth(
            f"/api/shows/{show}/orders?before_id={orders[0]['order_id']}&limit=10")
        older = json.loads(body)
        assert len(older) == 10 and older[-1]["order_id"] < orders[0]["order_id"]
        assert self.server.get("/api/shows/1/events?limit=x")[0] == 400
        return f"events page {seen}, next page {len(nxt)}, orders page {len(orders)}"


if __name__ == "__main__":
    unittest.main(verbosity=2)
