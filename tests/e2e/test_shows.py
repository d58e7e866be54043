"""test_shows.py — every show like the first: 20 shows in one process, and a show across a crash.

One phone stays connected while the leader ends and begins 20 shows in a
row (show.end then show.begin, the phone never hangs up). Each show must be
a clean unit: its own epoch (stream_ms 0 at its first frame, so every live
segment's program date-time minus the epoch is exactly its position in the
show's archive), its own pins (an order seen just before the show's first
pin sees nothing pinned), its own ticker, title carried over only when
asked, and an archive as long as the show. The product card's accent is
found in each archive's frames at the pin's stream_ms.

Then a crash: kill -9 mid-show, start again: the show resumes on the slate
(measured: process start to the first slate segment listed), the timeline
continues after the archive with one EXT-X-DISCONTINUITY, the phone comes
back live, and seen_ms from the new segments still names archive positions.
A show left open past --show-timeout-min is ended at start-up instead.
"""
import asyncio
import datetime
import json
import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
import test_overlay as tov  # noqa: E402
import test_room as tr  # noqa: E402

SHOWS = int(os.environ.get("TOURCAST_TEST_SHOWS", "20"))
FRAME_MS = 1000.0 / 30


def pdt_ms(text):
    return int(datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def archive_positions(server, show, from_disk=False):
    """{segment name: (start_ms, duration_ms)} of the show's archive, and its text."""
    if from_disk:  # the server is down
        with open(os.path.join(server.data, "shows", str(show), "index.m3u8")) as f:
            text = f.read()
    else:
        status, _, body = server.get(f"/shows/{show}/index.m3u8")
        assert status == 200, (show, status)
        text = body.decode()
    segs, _ = h.parse_playlist(text)
    out, at = {}, 0.0
    for name, dur, _, _ in segs:
        out[name] = (at, dur * 1000)
        at += dur * 1000
    return out, text


def live_segments(server):
    status, _, body = server.get("/live/index.m3u8")
    if status != 200:
        return []
    segs, _ = h.parse_playlist(body.decode())
    return [(n, d, pdt_ms(p)) for n, d, p, _ in segs if p]


def events(server, show):
    status, _, body = server.get(f"/api/shows/{show}/events")
    assert status == 200, status
    return json.loads(body)


async def show_update(ldr, pred, timeout=20):
    """The first `show` (the welcome's, then broadcasts) for which pred holds."""
    w = getattr(ldr, "welcome", None)
    if w is not None and w.get("show") and pred(w["show"]):
        ldr.welcome = None
        return w["show"]
    ldr.welcome = None
    return (await ldr.expect(lambda m: m.get("type") == "show" and m["show"] and pred(m["show"]),
                             timeout))["show"]


async def leader(server):
    c = await tr.Client.open(server)
    await c.send({"type": "hello", "role": "leader", "token": tr.TOKEN})
    c.welcome = await c.typed("welcome", role="leader")
    return c


class ShowsTest(unittest.TestCase):
    def setUp(self):
        self.server = h.Server("--segment-ms", "1000", token=tr.TOKEN)
        self.phone = None
        self.seen_segments = []  # (live segment, its PDT - epoch) the player used

    def tearDown(self):
        if self.phone and self.phone.poll() is None:
            self.phone.kill()
            self.phone.communicate()
        if self.server.proc.poll() is None:
            self.assertEqual(self.server.stop(), 0, self.server.log_text())

    def seen_at(self, epoch, stream_ms):
        """The seen_ms a player shows for the frame at stream_ms: from the live
        playlist's program date-times, as the viewer page computes it."""
        def find():
            for name, dur, pdt in live_segments(self.server):
                start = pdt - epoch
                if start <= stream_ms < start + dur * 1000:
                    return name, start
            return None
        name, start = h.wait_until(find, 15, f"a live segment holding stream_ms {stream_ms}")
        self.seen_segments.append((name, start))
        return name, start + (stream_ms - start)

    def test_twenty_shows_one_phone(self):
        # One phone for the whole run: a 10 s clip looped (a clip as long as
        # 20 shows would take longer to make than the shows take).
        clip = h.make_clip("-d", "10")
        self.phone = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i",
             clip, "-c", "copy", "-f", "flv", self.server.rtmp_url],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        lay = tov.layout()
        results = []

        async def go():
            ldr = await leader(self.server)
            buyer = await tr.viewer(self.server, 1)
            peach = await tr.put_product(ldr, name="水蜜桃", price_cents=1280, unit="斤",
                                         stock=10000, on_sale=True)
            first = await show_update(ldr, lambda s: s["state"] == "live", 40)
            self.assertEqual(first["id"], 1)
            await ldr.send({"type": "show.update", "promise": "坏果包赔"})
            show = first
            for i in range(SHOWS):
                if i > 0:
                    await ldr.send({"type": "show.begin", "carry_over": True})
                    t0 = time.monotonic()
                    show = await show_update(ldr, lambda s: s["id"] == i + 1 and
                                             s["state"] == "live")
                    started_s = time.monotonic() - t0
                else:
                    started_s = None
                sid, epoch = show["id"], show["epoch_unix_ms"]
                self.assertEqual(sid, i + 1)
                self.assertEqual(show["state"], "live", show)
                self.assertEqual(show["title"], first["title"])
                # Nothing pinned yet in this show, whatever the last one had.
                h.wait_until(lambda: self.server.health()["stream_ms"] > 1200, 20, "video")
                await ldr.send({"type": "pin", "product_id": peach["id"]})
                pinned = await ldr.expect(lambda m: m.get("type") == "pinned" and
                                          m["product_id"] == peach["id"])
                pin_ms = pinned["stream_ms"]
                seg, seen = self.seen_at(epoch, pin_ms + 5)
                _, seen_before = self.seen_at(epoch, max(pin_ms - 300, 0))
                for key, at in ((f"s{sid}-at", seen), (f"s{sid}-before", seen_before)):
                    await buyer.send({"type": "order", "key": key, "product_id": peach["id"],
                                      "qty": 1, "seen_ms": at})
                    ok = await buyer.expect(lambda m: m.get("key") == key)
                    self.assertEqual(ok["type"], "order.ok", ok)
                ticker = await buyer.expect(lambda m: m.get("type") == "ordered")
                self.assertEqual(ticker["product_id"], peach["id"])
                await ldr.send({"type": "pin", "product_id": None})
                await ldr.expect(lambda m: m.get("type") == "pinned" and m["product_id"] is None)
                await asyncio.sleep(0.3)
                await ldr.send({"type": "show.end"})
                ended = await show_update(ldr, lambda s: s["id"] == sid and
                                          s["ended_unix_ms"] is not None)
                self.assertEqual(ended["state"], "ended")
                # Still connected between shows, the phone is not on air.
                h.wait_until(lambda: self.server.health()["publisher_live"], 5, "phone connected")
                segs, self.seen_segments = self.seen_segments, []
                results.append(dict(id=sid, epoch=epoch, pin_ms=pin_ms, seen=seen, segs=segs,
                                    seen_before=seen_before, end_ms=ended["ended_stream_ms"],
                                    started_s=started_s, promise=ended["promise"]))
            await buyer.close()
            await ldr.close()

        asyncio.run(asyncio.wait_for(go(), 60 + 15 * SHOWS))
        self.check_shows(results, lay)

    def check_shows(self, results, lay):
        starts = [r["started_s"] for r in results if r["started_s"] is not None]
        print(f"\n{len(results)} shows; show.begin to the first frame out (phone connected): "
              f"median {sorted(starts)[len(starts) // 2]:.2f} s, max {max(starts):.2f} s")
        card_off, pdt_off = [], []
        epochs = [r["epoch"] for r in results]
        self.assertEqual(len(set(epochs)), len(epochs), "two shows share an epoch")
        for r in results:
            sid = r["id"]
            self.assertEqual(r["promise"], "坏果包赔", f"show {sid}: the promise was not carried")
            h.wait_until(lambda: b"#EXT-X-ENDLIST" in self.server.get(
                f"/shows/{sid}/index.m3u8")[2], 20, f"show {sid} archive closed")
            pos, text = archive_positions(self.server, sid)
            self.assertNotIn("#EXT-X-DISCONTINUITY", text, f"show {sid}")
            length = sum(d for _, d in pos.values())
            self.assertLess(abs(length - r["end_ms"]), 1000 + FRAME_MS,
                            f"show {sid}: archive {length:.0f} ms, show {r['end_ms']} ms")
            # The player's clock (PDT - this show's epoch) is the archive's,
            # to the millisecond: seen_ms names the frame the replay shows.
            for name, start in r["segs"]:
                self.assertLessEqual(abs(pos[name][0] - start), 1,
                                     f"show {sid} {name}: PDT says {start}, archive {pos[name][0]}")
                pdt_off.append(abs(pos[name][0] - start))
            # Orders: seen_ms names the frame; the store says what was on screen.
            evs = events(self.server, sid)
            by_seen = {e["data"].get("seen_ms"): e for e in evs if e["type"] == "order"}
            self.assertEqual(len(by_seen), 2, f"show {sid} orders: {by_seen}")
            self.assertIsNotNone(by_seen[r["seen"]]["data"].get("seen_product_id"),
                                 f"show {sid}: the order at the pin's frame saw no product")
            self.assertIsNone(by_seen[r["seen_before"]]["data"].get("seen_product_id"),
                              f"show {sid}: before its first pin, a product from another show")
            # The card is in the archive from the pin's frame: the video's
            # timeline and the events' are one.
            marks = tov.accent_frames(self.server.url(f"/shows/{sid}/index.m3u8"), lay)
            self.assertIn(True, marks, f"show {sid}: no card in the archive")
            first_on = marks.index(True)
            card_off.append(abs(first_on * FRAME_MS - r["pin_ms"]))
            self.assertLessEqual(abs(first_on * FRAME_MS - r["pin_ms"]), FRAME_MS + 1,
                                 f"show {sid}: card at frame {first_on}, pin at {r['pin_ms']}")
        print(f"{len(results)} shows: PDT - epoch vs archive position, worst {max(pdt_off):.1f} ms "
              f"over {len(pdt_off)} segments; first frame with the card vs the pin's stream_ms, "
              f"worst {max(card_off):.1f} ms (a frame is {FRAME_MS:.1f}); epochs distinct; "
              f"archives closed and as long as each show")

    def test_program_date_time_is_archive_position(self):
        """PDT - epoch of every live segment of a second show is its archive position."""
        self.phone = h.fake_phone(self.server.rtmp_url, "-d", "40")

        async def go():
            ldr = await leader(self.server)
            await show_update(ldr, lambda s: s.get("epoch_unix_ms") is not None, 40)
            await asyncio.sleep(2)
            await ldr.send({"type": "show.end"})
            await show_update(ldr, lambda s: s["ended_unix_ms"] is not None)
            await asyncio.sleep(3)  # a gap between the shows, as a leader has
            await ldr.send({"type": "show.begin"})
            show = await show_update(ldr, lambda s: s["id"] == 2 and
                                     s.get("epoch_unix_ms") is not None)
            await asyncio.sleep(4)
            await ldr.close()
            return show

        show = asyncio.run(asyncio.wait_for(go(), 90))
        pos, _ = archive_positions(self.server, 2)
        checked = 0
        for name, _, pdt in live_segments(self.server):
            if name in pos:
                self.assertEqual(pdt - show["epoch_unix_ms"], round(pos[name][0]),
                                 f"{name}: PDT off its archive position")
                checked += 1
        self.assertGreaterEqual(checked, 2)

    def test_crash_resume_and_timeout(self):
        self.phone = h.fake_phone(self.server.rtmp_url, "-d", "60")

        async def first_part():
            ldr = await leader(self.server)
            buyer = await tr.viewer(self.server, 2)
            peach = await tr.put_product(ldr, name="葡萄", price_cents=900, stock=50,
                                         on_sale=True)
            show = await show_update(ldr, lambda s: s.get("epoch_unix_ms") is not None, 40)
            # A few segments archived (a busy machine may encode late).
            h.wait_until(lambda: self.server.get(f"/shows/{show['id']}/index.m3u8")[2]
                         .count(b"#EXTINF") >= 3, 30, "three archived segments")
            await buyer.send({"type": "order", "key": "before-crash", "product_id": peach["id"],
                              "qty": 1})
            self.assertEqual((await buyer.expect(lambda m: m.get("key") == "before-crash"))
                             ["type"], "order.ok")
            await ldr.close()
            await buyer.close()
            return show, peach

        show, peach = asyncio.run(asyncio.wait_for(first_part(), 90))
        self.server.proc.send_signal(signal.SIGKILL)
        self.server.proc.wait()
        self.phone.kill()
        self.phone.communicate()
        before, _ = archive_positions(self.server, show["id"], from_disk=True)
        before_ms = sum(d for _, d in before.values())

        # Restart on the same data and ports: the slate within 2 s.
        t0 = time.monotonic()
        self.restart()
        first = h.wait_until(lambda: [s for s in live_segments(self.server)
                                      if s[0] not in before], 10, "a slate segment")
        slate_s = time.monotonic() - t0
        # A figure (target 2 s), not asserted: it depends on the machine.
        print(f"\nrestart (process start) to the first slate segment listed: {slate_s:.2f} s")

        async def second_part():
            ldr = await leader(self.server)
            w = await tr.viewer(self.server, 3)
            resumed = w.welcome["show"]
            self.assertEqual(resumed["id"], show["id"], "not the same show")
            self.assertIn(resumed["state"], ("slate", "waiting"))
            self.phone = h.fake_phone(self.server.rtmp_url, "-d", "10")
            live = await show_update(ldr, lambda s: s["state"] == "live", 30)
            await asyncio.sleep(3)
            # Buying what the (new) segments show: seen_ms from their PDT.
            name, seen = self.seen_at(live["epoch_unix_ms"], self.server.health()["stream_ms"]
                                      - 1500)
            await w.send({"type": "order", "key": "after", "product_id": peach["id"], "qty": 1,
                          "seen_ms": seen})
            self.assertEqual((await w.expect(lambda m: m.get("key") == "after"))["type"],
                             "order.ok")
            await ldr.send({"type": "show.end"})
            ended = await show_update(ldr, lambda s: s["ended_unix_ms"] is not None)
            await w.close()
            await ldr.close()
            return live, ended, name, seen

        live, ended, seg, seen = asyncio.run(asyncio.wait_for(second_part(), 90))
        self.phone.communicate(timeout=30)
        self.assertNotEqual(live["epoch_unix_ms"], show["epoch_unix_ms"],
                            "the resumed output keeps the dead one's epoch")
        h.wait_until(lambda: b"#EXT-X-ENDLIST" in self.server.get(
            f"/shows/{show['id']}/index.m3u8")[2], 20, "archive closed")
        pos, text = archive_positions(self.server, show["id"])
        self.assertEqual(text.count("#EXT-X-DISCONTINUITY"), 1, text)
        self.assertGreater(min(pos[n][0] for n in pos if n not in before), before_ms - 1)
        self.assertLessEqual(pos[seg][0], seen)
        self.assertLess(seen, pos[seg][0] + pos[seg][1])
        length = sum(d for _, d in pos.values())
        self.assertLess(abs(length - ended["ended_stream_ms"]), 1000 + FRAME_MS)
        evs = events(self.server, show["id"])
        ms = [e["stream_ms"] for e in evs]
        self.assertEqual(ms, sorted(ms), "the timeline went back")
        self.assertEqual(len([e for e in evs if e["type"] == "order"]), 2)
        # Everything decodes end to end across the restart.
        out = subprocess.run(["ffmpeg", "-v", "error", "-i",
                              self.server.url(f"/shows/{show['id']}/index.m3u8"), "-f", "null",
                              "-"], capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr[-2000:])

        # A show left open past --show-timeout-min ends at start-up.
        async def third_show():
            ldr = await leader(self.server)
            self.phone = h.fake_phone(self.server.rtmp_url, "-d", "4")
            s = await show_update(ldr, lambda s: s.get("epoch_unix_ms") is not None, 40)
            await asyncio.sleep(2.5)
            await ldr.close()
            return s

        stale = asyncio.run(asyncio.wait_for(third_show(), 60))
        self.server.proc.send_signal(signal.SIGKILL)
        self.server.proc.wait()
        self.phone.kill()
        self.phone.communicate()
        playlist = os.path.join(self.server.data, "shows", str(stale["id"]), "index.m3u8")
        old = time.time() - 120
        os.utime(playlist, (old, old))
        self.restart("--show-timeout-min", "1")
        shows = json.loads(self.server.get("/api/shows")[2])
        mine = [s for s in shows if s["id"] == stale["id"]][0]
        self.assertEqual(mine["state"], "ended", mine)
        self.assertGreater(mine["ended_stream_ms"], 1000)
        with open(playlist) as f:
            self.assertIn("#EXT-X-ENDLIST", f.read())

    def restart(self, *extra):
        s = self.server
        args = [h.BINARY, "--data", s.data, "--bind", "127.0.0.1", "--http-port",
                str(s.http_port), "--rtmp-port", str(s.rtmp_port), "--stream-key", s.key,
                "--leader-token", s.token, "--segment-ms", "1000", *extra]
        if not s.log.closed:
            s.log.close()
        s.log = open(s.log_path, "ab")
        s.proc = subprocess.Popen(args, stdout=s.log, stderr=subprocess.STDOUT)
        s.wait_ready()


if __name__ == "__main__":
    unittest.main(verbosity=2)
