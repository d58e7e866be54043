"""test_overlay.py — the room drives the picture: a pin shows on the frame its stream_ms names.

The fake phone publishes; the leader pins a product over WebSocket and later
unpins it. The archived show is decoded frame by frame (the output is paced
at a constant 30 fps from stream_ms 0, so frame i is at i * 1000 / 30 ms),
and the product card's accent bar (an opaque orange strip, see
--print-layout) must appear at the frame whose time is the `pinned` event's
stream_ms, and disappear at the unpin's, each within one frame. It also prints how
soon after the message the change went out (the server's frame report
against the stream clock read just before sending); the card carries a
picture and the sold-out state.
"""
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
import test_room as tr  # noqa: E402

FPS = 30
FRAME_MS = 1000.0 / FPS


def layout():
    out = subprocess.run([h.BINARY, "--print-layout", "--width", "720", "--height", "1280"],
                         check=True, capture_output=True, text=True).stdout
    return {k: int(v) for k, v in (kv.split("=") for kv in out.split())}


def accent_frames(playlist_url, lay):
    """For every decoded frame of the playlist: is the card's accent orange?"""
    x, y = lay["accent_x"] + 4, lay["accent_y"] + 8
    w, hgt = lay["accent_width"] - 8, lay["accent_height"] - 16
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", playlist_url, "-an",
                          "-vf", f"crop={w}:{hgt}:{x}:{y}", "-f", "rawvideo", "-pix_fmt", "rgb24",
                          "-"], check=True, capture_output=True, timeout=300).stdout
    size = w * hgt * 3
    marks = []
    for i in range(len(raw) // size):
        r, g, b = h.mean_rgb(raw[i * size:(i + 1) * size])
        # OVERLAY_ACCENT_RGB 0xFF5000 through x264 and 4:2:0: red high, some
        # green, little blue. The clip under it is a red bar (no green).
        marks.append(r > 200 and 50 < g < 120 and b < 70)
    return marks


class OverlayTest(unittest.TestCase):
    def setUp(self):
        self.server = h.Server(token=tr.TOKEN)

    def tearDown(self):
        if self.server.proc.poll() is None:
            self.assertEqual(self.server.stop(), 0, self.server.log_text())

    def test_pin_shows_at_its_frame(self):
        phone = h.fake_phone(self.server.rtmp_url, "-d", "14")
        tmp = tempfile.mkdtemp(prefix="tourcast-ov-")
        picture = os.path.join(tmp, "p.png")
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=s=300x300",
                        "-frames:v", "1", picture], check=True)
        with open(picture, "rb") as f:
            png = f.read()

        async def go():
            ldr = await tr.leader(self.server)
            h.wait_until(lambda: self.server.health()["stream_ms"] > 2000, 30, "video going out")
            prod = await tr.put_product(ldr, name="阳山水蜜桃", price_cents=1280, unit="斤",
                                        stock=0, on_sale=True)
            status, _, _ = self.server.post(
                f"/api/products/{prod['id']}/image?token={tr.TOKEN}", png)
            self.assertEqual(status, 200)
            results = []
            for product in (prod["id"], None):
                before = self.server.health()["stream_ms"]
                await ldr.send({"type": "pin", "product_id": product})
                m = await ldr.expect(lambda m: m.get("type") == "pinned" and
                                     m["product_id"] == product)
                results.append((m["stream_ms"], before))
                await asyncio.sleep(3)
            await ldr.close()
            return results

        (pin_ms, pin_before), (unpin_ms, unpin_before) = asyncio.run(asyncio.wait_for(go(), 120))
        phone.communicate(timeout=60)
        show = 1
        asyncio.run(asyncio.wait_for(self.end_show(), 30))
        h.wait_until(lambda: b"#EXT-X-ENDLIST" in self.server.get(f"/shows/{show}/index.m3u8")[2],
                     20, "archive ENDLIST")

        # How soon after the message the change went out: printed as a
        # figure (the "within two frames" target), never asserted, since it
        # depends on how busy the machine is.
        for shown, before in ((pin_ms, pin_before), (unpin_ms, unpin_before)):
            print(f"\nmessage sent at stream_ms ~{before}, first frame showing it {shown} "
                  f"(+{shown - before} ms)")
            self.assertGreaterEqual(shown, before, "stamped before the message was sent")

        marks = accent_frames(self.server.url(f"/shows/{show}/index.m3u8"), layout())
        self.assertGreater(len(marks), int(unpin_ms / FRAME_MS) + FPS, "archive too short")
        first_on = marks.index(True)
        first_off = marks.index(False, first_on)
        print(f"\npin at {pin_ms} ms: card from frame {first_on} ({first_on * FRAME_MS:.0f} ms); "
              f"unpin at {unpin_ms} ms: gone from frame {first_off} "
              f"({first_off * FRAME_MS:.0f} ms)")
        self.assertLessEqual(abs(first_on * FRAME_MS - pin_ms), FRAME_MS + 1)
        self.assertLessEqual(abs(first_off * FRAME_MS - unpin_ms), FRAME_MS + 1)
        self.assertNotIn(True, marks[first_off:], "the card came back after the unpin")

        # The stored pins are the replay's: the same stream_ms as announced.
        pins = [e for e in tr_events(self.server, show) if e["type"] == "pin"]
        self.assertEqual([p["stream_ms"] for p in pins], [pin_ms, unpin_ms])

    async def end_show(self):
        ldr = await tr.leader(self.server)
        await ldr.send({"type": "show.end"})
        await ldr.expect(lambda m: m.get("type") == "show" and m["show"] and
                         m["show"].get("ended_unix_ms"))
        await ldr.close()


def tr_events(server, show):
    status, _, body = server.get(f"/api/shows/{show}/events")
    assert status == 200, status
    return json.loads(body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
