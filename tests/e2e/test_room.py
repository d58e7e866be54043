"""test_room.py — the live room over real WebSockets against the real binary.

Debian's python3-websockets is the client (a real RFC 6455 client over a
socket). Covers every message of ws/PROTOCOL.md, the flash sale (500 buyers,
100 units: exactly 100 acknowledged), idempotent retries, the leader-only
rules, phone privacy, a table of malformed input that must change nothing,
rate limiting, oversized and binary frames, and kill -9 in the middle of an
order storm: every acknowledged order survives the restart.
"""
import asyncio
import csv
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

import websockets  # noqa: E402  (Debian: python3-websockets)

TOKEN = "leadertoken123"


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


class Client:
    """One tourcast.v1 connection that keeps broadcasts apart from replies."""

    def __init__(self, ws):
        self.ws = ws
        self.inbox = []

    @classmethod
    async def open(cls, server, **kw):
        ws = await websockets.connect(server.url("/ws").replace("http", "ws"),
                                      subprotocols=["tourcast.v1"], max_size=2 ** 22,
                                      open_timeout=30, **kw)
        return cls(ws)

    async def send(self, msg):
        await self.ws.send(msg if isinstance(msg, (str, bytes)) else json.dumps(msg))

    async def expect(self, pred, timeout=10):
        """The first message (queued or new) for which pred(msg) is true."""
        for i, m in enumerate(self.inbox):
            if pred(m):
                return self.inbox.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no matching message; got {self.inbox[-5:]}")
            m = json.loads(await asyncio.wait_for(self.ws.recv(), left))
            if pred(m):
                return m
            self.inbox.append(m)

    async def typed(self, type_, **match):
        return await self.expect(lambda m: m.get("type") == type_ and
                                 all(m.get(k) == v for k, v in match.items()))

    async def close(self):
        await self.ws.close()


async def leader(server):
    c = await Client.open(server)
    await c.send({"type": "hello", "role": "leader", "token": TOKEN})
    await c.typed("welcome", role="leader")
    return c


async def viewer(server, i=0, **extra):
    c = await Client.open(server)
    hello = {"type": "hello", "role": "viewer", "name": f"王买家{i}", "pickup": f"{i % 7}号楼",
             "phone": f"1380000{i:04d}"}
    hello.update(extra)
    await c.send(hello)
    c.welcome = await c.typed("welcome", role="viewer")
    return c


async def put_product(ldr, **fields):
    await ldr.send({"type": "product.put", **fields})
    return (await ldr.typed("product"))["product"]


async def product_state(server, product_id):
    """The product as a newly greeted viewer sees it."""
    v = await viewer(server, 9999)
    prod = [x for x in v.welcome["products"] if x["id"] == product_id][0]
    await v.close()
    return prod


def orders_csv(server, show_id):
    status, _, body = server.get(f"/api/shows/{show_id}/orders.csv?token={TOKEN}")
    assert status == 200, status
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    return rows[0], rows[1:]


class RoomTest(unittest.TestCase):
    def setUp(self):
        self.server = h.Server(token=TOKEN)

    def tearDown(self):
        if self.server.proc.poll() is None:
            self.assertEqual(self.server.stop(), 0, self.server.log_text())

    def test_every_message(self):
        async def go():
            ldr = await leader(self.server)
            await ldr.send({"type": "show.begin", "title": "阳山桃园"})
            show = (await ldr.typed("show"))["show"]
            peach = await put_product(ldr, name="水蜜桃", price_cents=1280, unit="斤", stock=10,
                                      limit_per_buyer=3, on_sale=True)
            v = await viewer(self.server, 1)
            self.assertEqual(v.welcome["show"]["id"], show["id"])
            self.assertEqual([p["id"] for p in v.welcome["products"]], [peach["id"]])
            self.assertEqual(v.welcome["phone"], "13800000001")  # to the viewer itself
            await ldr.send({"type": "pin", "product_id": peach["id"]})
            pinned = await v.typed("pinned", product_id=peach["id"])
            self.assertIn("stream_ms", pinned)
            await v.send({"type": "order", "product_id": peach["id"], "qty": 2, "key": "k1",
                          "seen_ms": pinned["stream_ms"]})
            ok = await v.typed("order.ok", key="k1")
            self.assertEqual((ok["product_id"], ok["qty"]), (peach["id"], 2))
            stock = await v.typed("stock", product_id=peach["id"])
            self.assertEqual((stock["stock"], stock["sold"]), (8, 2))
            ordered = await v.typed("ordered", product_id=peach["id"])
            self.assertEqual(ordered["name"], "王**")
            new = await ldr.typed("order.new")
            self.assertEqual(new["orders"][0]["phone"], "13800000001")  # the leader sees it
            # Retried key: the same order, not a second one.
            await v.send({"type": "order", "product_id": peach["id"], "qty": 2, "key": "k1"})
            again = await v.typed("order.ok", key="k1")
            self.assertEqual(again["order_id"], ok["order_id"])
            # Rejections.
            for qty, key, reason in ((2, "k2", "over_limit"), (0, "k3", "invalid")):
                await v.send({"type": "order", "product_id": peach["id"], "qty": qty, "key": key})
                self.assertEqual((await v.typed("order.rejected", key=key))["reason"], reason)
            await v.send({"type": "order", "product_id": 999, "qty": 1, "key": "k4"})
            self.assertEqual((await v.typed("order.rejected", key="k4"))["reason"], "not_on_sale")
            # Questions, answers, highlight.
            await v.send({"type": "ask", "text": "包邮吗？<b>", "seen_ms": 0})
            q = await ldr.typed("question")
            self.assertEqual((q["name"], q["text"]), ("王**", "包邮吗？<b>"))
            await ldr.send({"type": "answer", "question_id": q["id"], "text": "包邮"})
            self.assertEqual((await v.typed("answer"))["text"], "包邮")
            await ldr.send({"type": "highlight", "question_id": q["id"]})
            self.assertEqual((await v.typed("highlight"))["question_id"], q["id"])
            await ldr.send({"type": "ping", "ref": "p"})
            await ldr.typed("pong")
            # Viewers never get phone numbers of others: nothing v saw has one.
            self.assertNotIn("13800000001", json.dumps(v.inbox))
            # A returning viewer is the same viewer.
            token = v.welcome["viewer_token"]
            await v.close()
            back = await Client.open(self.server)
            await back.send({"type": "hello", "role": "viewer", "viewer_token": token})
            w = await back.typed("welcome")
            self.assertEqual(w["viewer_id"], v.welcome["viewer_id"])
            self.assertEqual([o["order_id"] for o in w["my_orders"]], [ok["order_id"]])
            ldr2 = await leader(self.server)  # the leader's console after a reload
            await ldr2.close()
            # Returning with the token and new details: same viewer, new pickup.
            moved = await Client.open(self.server)
            await moved.send({"type": "hello", "role": "viewer", "viewer_token": token,
                              "name": "王小明", "pickup": "5号楼", "phone": "13800000001"})
            w2 = await moved.typed("welcome")
            self.assertEqual((w2["viewer_id"], w2["pickup"]), (w["viewer_id"], "5号楼"))
            await moved.close()
            await back.send({"type": "order", "product_id": peach["id"], "qty": 1, "key": "k1"})
            self.assertEqual((await back.typed("order.ok", key="k1"))["order_id"], ok["order_id"])
            await ldr.send({"type": "show.end"})
            ended = await back.typed("show")
            self.assertIsNotNone(ended["show"]["ended_unix_ms"])
            await back.close()
            await ldr.close()
            return show["id"]

        show_id = run(go())
        status, _, body = self.server.get("/api/shows")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)[0]["id"], show_id)
        status, _, body = self.server.get(f"/api/shows/{show_id}/events")
        events = json.loads(body)
        types = [e["type"] for e in events]
        for t in ("show.begin", "pin", "order", "question", "answer", "highlight", "join",
                  "leave", "show.end"):
            self.assertIn(t, types)
        self.assertNotIn("13800000001", body.decode())  # public: no phone numbers
        self.assertEqual(self.server.get(f"/api/shows/{show_id}/orders.csv")[0], 403)
        header, rows = orders_csv(self.server, show_id)
        self.assertEqual(len(rows), 1)
        self.assertIn("13800000001", rows[0])

    def test_flash_sale_500_buyers_100_units(self):
        async def go():
            ldr = await leader(self.server)
            await ldr.send({"type": "show.begin"})
            await ldr.typed("show")
            p = await put_product(ldr, name="限量礼盒", price_cents=9900, unit="盒", stock=100,
                                  limit_per_buyer=5, on_sale=True)
            buyers = await asyncio.gather(*(viewer(self.server, i) for i in range(500)))

            async def buy(c):
                await c.send({"type": "order", "product_id": p["id"], "qty": 1, "key": "flash"})
                return await c.expect(lambda m: m.get("key") == "flash", timeout=60)

            answers = await asyncio.gather(*(buy(c) for c in buyers))
            await asyncio.gather(*(c.close() for c in buyers))
            await ldr.close()
            return p, answers

        p, answers = run(go())
        oks = [a for a in answers if a["type"] == "order.ok"]
        self.assertEqual(len(oks), 100)
        self.assertEqual(len({a["order_id"] for a in oks}), 100)
        self.assertTrue(all(a["reason"] == "sold_out" for a in answers
                            if a["type"] == "order.rejected"))
        _, rows = orders_csv(self.server, 1)
        self.assertEqual(len(rows), 100)

        prod = run(product_state(self.server, p["id"]))
        self.assertEqual((prod["stock"], prod["sold"]), (0, 100))

    def test_malformed_changes_nothing(self):
        async def go():
            ldr = await leader(self.server)
            await ldr.send({"type": "show.begin"})
            await ldr.typed("show")
            p = await put_product(ldr, name="梨", price_cents=500, unit="斤", stock=50,
                                  limit_per_buyer=99, on_sale=True)
            v = await viewer(self.server, 3)
            table = [
                ("{not json", "bad_json"),
                ("[1,2,3]", "bad_json"),
                (json.dumps({"type": "order", "product_id": "1", "qty": 1, "key": "x"}),
                 "invalid"),
                (json.dumps({"type": "order", "product_id": p["id"], "qty": 1}), "invalid"),
                (json.dumps({"type": "order", "product_id": 10 ** 30, "qty": 1, "key": "x"}),
                 "bad_json"),
                (json.dumps({"type": "ask", "text": "x" * 281}), "invalid"),
                (json.dumps({"type": "nope"}), "unknown_type"),
                (json.dumps({"type": "product.put", "id": p["id"], "stock": 0}), "forbidden"),
                (json.dumps({"type": "pin", "product_id": p["id"]}), "forbidden"),
                (json.dumps({"type": "show.end"}), "forbidden"),
                (json.dumps({"type": "ask", "text": "y" * 5000}), "too_large"),
                (b"\x00\x01binary", "bad_json"),
            ]
            for i, (frame, code) in enumerate(table):
                await v.send(frame)
                err = await v.typed("error")
                self.assertEqual(err["code"], code, (i, frame))
                await asyncio.sleep(0.06)  # stay under the rate limit
            # Still usable, and nothing changed.
            await v.send({"type": "ping"})
            await v.typed("pong")
            again = await viewer(self.server, 4)
            prod = [x for x in again.welcome["products"] if x["id"] == p["id"]][0]
            self.assertEqual((prod["stock"], prod["sold"], prod["on_sale"]), (50, 0, True))
            # A flood is rate limited.
            for i in range(60):
                await v.send({"type": "ping"})
            err = await v.expect(lambda m: m.get("code") == "rate_limited")
            self.assertEqual(err["type"], "error")
            # A 1 MB frame is abusive: the connection is closed, nobody else notices.
            try:
                await v.send("z" * (1 << 20))
                await asyncio.wait_for(v.ws.wait_closed(), 10)
            except websockets.ConnectionClosed:
                pass
            self.assertIsNotNone(v.ws.close_code)
            await again.send({"type": "ping"})
            await again.typed("pong")
            await again.close()
            await ldr.close()

        run(go())

    def test_kill_9_during_order_storm(self):
        async def storm():
            ldr = await leader(self.server)
            await ldr.send({"type": "show.begin"})
            await ldr.typed("show")
            p = await put_product(ldr, name="苹果", price_cents=300, unit="斤", stock=100000,
                                  limit_per_buyer=99, on_sale=True)
            buyers = await asyncio.gather(*(viewer(self.server, i) for i in range(50)))
            acked = []

            async def buy(c, n):
                for k in range(10 ** 6):
                    try:
                        await c.send({"type": "order", "product_id": p["id"], "qty": 1,
                                      "key": f"{n}-{k}"})
                        m = await c.expect(lambda m: m.get("key") == f"{n}-{k}", timeout=10)
                    except (websockets.ConnectionClosed, asyncio.TimeoutError, OSError):
                        return
                    if m["type"] == "order.ok":
                        acked.append(m["order_id"])
                    await asyncio.sleep(0.05)  # 20/s: the rate limit

            tasks = [asyncio.create_task(buy(c, n)) for n, c in enumerate(buyers)]
            await asyncio.sleep(1.5)
            os.kill(self.server.proc.pid, signal.SIGKILL)
            await asyncio.gather(*tasks)
            return p, acked

        p, acked = run(storm())
        self.server.proc.wait()
        self.assertGreater(len(acked), 100)
        data = self.server.data
        self.server.log.close()
        # Restart on the same data dir and ports.
        self.server = h.Server("--data", data, token=TOKEN)
        _, rows = orders_csv(self.server, 1)
        stored = {int(r[7]) for r in rows}
        missing = set(acked) - stored
        self.assertEqual(missing, set(), f"{len(missing)} acknowledged orders lost")

        prod = run(product_state(self.server, p["id"]))
        self.assertEqual(prod["stock"] + prod["sold"], 100000)
        self.assertEqual(prod["sold"], len(rows))


def picture(fmt, size, tmpdir):
    """A real picture encoded by ffmpeg: a test pattern of `size` (WxH)."""
    path = os.path.join(tmpdir, "pic." + fmt)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=s={size}",
                    "-frames:v", "1", path], check=True)
    with open(path, "rb") as f:
        return f.read()


def png_size(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    return struct.unpack(">II", data[16:24])


class ImageTest(unittest.TestCase):
    """POST /api/products/ID/image: leader only, checked, scaled once, announced."""

    def setUp(self):
        self.server = h.Server(token=TOKEN)
        self.tmp = tempfile.mkdtemp(prefix="tourcast-img-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.server.proc.poll() is None:
            self.assertEqual(self.server.stop(), 0, self.server.log_text())

    def test_upload(self):
        jpeg = picture("jpg", "1600x1200", self.tmp)
        png = picture("png", "200x100", self.tmp)

        async def go():
            ldr = await leader(self.server)
            await ldr.send({"type": "show.begin"})
            prod = await put_product(ldr, name="水蜜桃", price_cents=1280, unit="斤", stock=10,
                                     on_sale=True)
            v = await viewer(self.server, 1)
            path = f"/api/products/{prod['id']}/image"
            auth = {"Authorization": f"Bearer {TOKEN}"}
            # Refused before the body is looked at, and nothing changes.
            for headers, want in (({}, 403), ({"Authorization": "Bearer nope"}, 403)):
                status, _, body = self.server.post(path, jpeg, headers)
                self.assertEqual(status, want, body)
            self.assertEqual(self.server.get(path)[0], 404)
            # Bad pictures: each gets its code, and the product keeps no picture.
            for body, want in ((b"GIF89a" + b"x" * 100, 415), (jpeg[: len(jpeg) // 2], 400),
                               (b"<svg/>", 415)):
                status, _, answer = self.server.post(path, body, auth)
                self.assertEqual(status, want, answer)
                self.assertIn("message", json.loads(answer))
            status, _, _ = self.server.post(path, b"\xff\xd8\xff" + b"\0" * (3 * 1024 * 1024),
                                            auth)
            self.assertIn(status, (413, None))
            self.assertEqual(self.server.post("/api/products/999/image", png, auth)[0], 404)
            self.assertIsNone((await product_state(self.server, prod["id"]))["image"])

            # A real JPEG: stored scaled to fit 512, announced to everyone.
            status, _, answer = self.server.post(f"{path}?token={TOKEN}", jpeg)
            self.assertEqual(status, 200, answer)
            answer = json.loads(answer)
            self.assertEqual((answer["width"], answer["height"]), (512, 384))
            url = answer["product"]["image"]
            self.assertTrue(url.startswith(path + "?v="), url)
            seen = await v.typed("product")
            self.assertEqual(seen["product"]["image"], url)
            self.assertNotIn("phone", json.dumps(seen))
            status, headers, data = self.server.get(url)
            self.assertEqual(status, 200)
            self.assertEqual({k.lower(): v for k, v in headers.items()}["content-type"],
                             "image/png")
            self.assertEqual(png_size(data), (512, 384))
            # A later upload replaces it under a new URL; a product edit keeps it.
            await asyncio.sleep(0.01)
            status, _, answer = self.server.post(path, png, auth)
            self.assertEqual(status, 200, answer)
            url2 = json.loads(answer)["product"]["image"]
            self.assertNotEqual(url2, url)
            self.assertEqual(png_size(self.server.get(url2)[2]), (200, 100))
            await ldr.send({"type": "product.put", "id": prod["id"], "stock": 5})
            edited = await ldr.expect(lambda m: m.get("type") == "product" and
                                      m["product"]["stock"] == 5)
            self.assertEqual(edited["product"]["image"], url2)
            await v.close()
            await ldr.close()

        run(go())


if __name__ == "__main__":
    unittest.main(verbosity=2)
