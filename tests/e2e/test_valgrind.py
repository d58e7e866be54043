"""test_valgrind.py — the real binary under valgrind memcheck, a real publish through it.

A small output (360x640) keeps x264 affordable under valgrind. The H.264
decoder is openh264dec and the AAC decoder faad here: libavcodec pulls in
libhwy, whose constructor executes RDTSCP, which valgrind 3.19 cannot decode
(SIGILL). Everything else is the production path: RTMP ingest, pipeline,
overlay, playlist, HTTP, and the room over WebSocket (orders committed, a
picture uploaded, a pin).
Memcheck errors or definite leaks (beyond tests/valgrind.supp) fail the test
through valgrind's exit code.
"""
import asyncio
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
import test_room as tr  # noqa: E402

SUPP = os.path.join(h.SOURCE_DIR, "tests", "valgrind.supp")


async def room_session(server):
    ldr = await tr.leader(server)
    await ldr.send({"type": "show.begin", "title": "valgrind", "promise": "坏果包赔"})
    prod = await tr.put_product(ldr, name="水蜜桃", price_cents=1280, unit="斤", stock=5,
                                limit_per_buyer=2, on_sale=True)
    png = subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=s=64x48",
                          "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"],
                         check=True, capture_output=True).stdout
    status, _, body = server.post(f"/api/products/{prod['id']}/image?token={tr.TOKEN}", png)
    assert status == 200, (status, body)
    v = await tr.viewer(server, 1)
    await v.send({"type": "order", "product_id": prod["id"], "qty": 1, "key": "a"})
    await v.typed("order.ok")
    await v.send({"type": "order", "product_id": prod["id"], "qty": 9, "key": "b"})
    await v.typed("order.rejected")
    await v.send({"type": "ask", "text": "<b>甜吗</b>"})
    q = await ldr.typed("question")
    await ldr.send({"type": "answer", "question_id": q["id"], "text": "很甜"})
    await ldr.send({"type": "highlight", "question_id": q["id"]})
    await ldr.send({"type": "pin", "product_id": prod["id"]})
    await v.typed("pinned")
    await v.send("{not json")
    await v.typed("error")
    # The life cycle with the phone still connected: the show ends (its
    # output too, the phone's input detached), the next one begins on it.
    await ldr.send({"type": "show.end"})
    await ldr.expect(lambda m: m.get("type") == "show" and m["show"]["state"] == "ended", 120)
    await ldr.send({"type": "show.schedule", "title": "明天", "at_unix_ms": 1800000000000})
    await ldr.send({"type": "show.begin", "carry_over": True})
    await ldr.expect(lambda m: m.get("type") == "show" and m["show"]["id"] == 2, 120)
    g = await tr.Client.open(server)
    await g.send({"type": "hello", "guest": True})
    await g.typed("welcome")
    await g.send({"type": "order", "product_id": prod["id"], "qty": 1, "key": "g"})
    await g.typed("error")
    await g.send({"type": "join", "name": "赵", "pickup": "2号楼", "phone": "13700000000"})
    await g.typed("welcome")
    await g.send({"type": "order", "product_id": prod["id"], "qty": 1, "key": "r", "show_id": 1})
    await g.typed("order.ok")
    await g.send({"type": "my_orders", "show_id": 1})
    await g.typed("my_orders")
    await g.close()
    for path in ("/api/qr.svg", f"/api/shows/1/orders?token={tr.TOKEN}",
                 f"/api/shows?token={tr.TOKEN}"):
        assert server.get(path, timeout=60)[0] == 200, path
    await v.close()
    await ldr.close()


@unittest.skipUnless(shutil.which("valgrind"), "valgrind is not installed")
class ValgrindTest(unittest.TestCase):
    def test_publish_under_memcheck(self):
        wrapper = ["valgrind", "--error-exitcode=99", "--leak-check=full",
                   "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite",
                   f"--suppressions={SUPP}", "--num-callers=30"]
        server = h.Server("--width", "360", "--height", "640", "--fps", "15",
                          "--h264-decoder", "openh264dec", "--aac-decoder", "faad",
                          wrapper=wrapper)
        try:
            phone = h.fake_phone(server.rtmp_url, "-d", "8", "-s", "320x240", "-r", "15")
            # The room while the video runs: every kind of message, an
            # order committed, a picture uploaded, a pin put on screen.
            asyncio.run(asyncio.wait_for(room_session(server), 300))
            _, err = phone.communicate(timeout=120)
            self.assertEqual(phone.returncode, 0, err)
            h.wait_until(lambda: server.metrics().get("tourcast_hls_segments_total", 0) >= 2,
                         60, "segments under valgrind")
            status, _, _ = server.get("/live/index.m3u8")
            self.assertEqual(status, 200)
            self.assertEqual(server.get("/live/../stream_key")[0], 404)
        finally:
            rc = server.stop(timeout=120)
        log = server.log_text()
        self.assertIn("ERROR SUMMARY: 0 errors", log, log)
        self.assertEqual(rc, 0, log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
