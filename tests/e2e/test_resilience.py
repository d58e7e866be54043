"""test_resilience.py — a phone on weak 4G: drops, stalls and comes back.

Through the real binary with real publishers (ffmpeg over RTMP):
- publish ~5 s, kill the publisher, wait 4 s, publish ~5 s at another size
  and rate, end the show over the WebSocket as the leader does. The archive
  (/shows/ID/index.m3u8) decodes end to end with ffprobe/ffmpeg, lasts
  14 s +- 1.5 s, its video timestamps never go back, the standby slate is in
  its pixels between the two publishes, and publisher.drop/publisher.resume
  sit at the right stream_ms (within a segment). The live playlist, followed
  like a player, has no gap and no discontinuity across the drop, and its
  segments keep coming at the segment cadence.
- a publisher that stalls (connection open, no media) gives way to the slate
  within 2 s, and a phone reconnecting with the same key replaces it.
- --restream to a local receiver (a second tourcast; ffmpeg -listen trips a
  GStreamer critical in rtmp2sink's AMF parser) that is killed and restarted
  mid-show: the live HLS never misses a segment, the target shows
  as retrying, and the restream resumes to the new receiver.
"""
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402
import websockets  # noqa: E402  (Debian: python3-websockets)

OUT_W, OUT_H = 720, 1280
TOKEN = "leadertoken123"
SEGMENT_S = 1.0


class LiveFollower(threading.Thread):
    """Polls /live/index.m3u8 like a player: every segment name and when it
    first appeared, with its duration, program date-time and discontinuity."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.seen = {}  # name -> (first seen, duration, pdt, discontinuity)
        self.sequences = []  # (media sequence, names) of each fetch
        self.stop_flag = threading.Event()

    def run(self):
        while not self.stop_flag.is_set():
            try:
                status, _, body = self.server.get("/live/index.m3u8")
            except OSError:
                status = 0
            if status == 200:
                segs, tags = h.parse_playlist(body.decode())
                self.sequences.append((int(tags.get("EXT-X-MEDIA-SEQUENCE", "0")),
                                       [s[0] for s in segs]))
                for name, dur, pdt, disc in segs:
                    if name not in self.seen:
                        self.seen[name] = (time.time(), dur, pdt, disc)
            time.sleep(0.1)


def publisher(server, clip):
    """ffmpeg publishing clip in real time, in its own process group."""
    return subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", clip,
                             "-c", "copy", "-f", "flv", server.rtmp_url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def kill(proc):
    """SIGKILL, as when a phone loses its network: no FCUnpublish, just gone."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def stream_ms(server):
    return server.health()["stream_ms"]


def events(server, show_id, kind):
    status, _, body = server.get(f"/api/shows/{show_id}/events")
    if status != 200:
        return []
    return [e for e in json.loads(body) if e["type"] == kind]


def end_show(server):
    async def go():
        ws = await websockets.connect(server.url("/ws").replace("http", "ws"),
                                      subprotocols=["tourcast.v1"], open_timeout=30)
        await ws.send(json.dumps({"type": "hello", "role": "leader", "token": TOKEN}))
        await ws.send(json.dumps({"type": "show.end"}))
        deadline = time.time() + 10
        while time.time() < deadline:
            m = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if m.get("type") == "show" and m["show"] and m["show"].get("ended_unix_ms"):
                break
        await ws.close()
    asyncio.run(go())


def leader_restream(server, bogus):
    """As the leader: the welcome's stream status lists the --restream target;
    restream.add of a target that refuses is taken, shows as retrying in the
    once-a-second "stream" update, and restream.remove takes it away."""
    async def go():
        ws = await websockets.connect(server.url("/ws").replace("http", "ws"),
                                      subprotocols=["tourcast.v1"], open_timeout=30)

        async def expect(pred, timeout=15):
            deadline = time.time() + timeout
            while time.time() < deadline:
                m = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                if pred(m):
                    return m
            raise AssertionError("no matching message")
        await ws.send(json.dumps({"type": "hello", "role": "leader", "token": TOKEN}))
        w = await expect(lambda m: m.get("type") == "welcome")
        assert len(w["stream"]["restream"]) == 1, w["stream"]
        await ws.send(json.dumps({"type": "restream.add", "url": bogus, "ref": "a1"}))
        ok = await expect(lambda m: m.get("ref") == "a1")
        assert ok["type"] == "restream.added", ok
        await ws.send(json.dumps({"type": "restream.add", "url": bogus, "ref": "a2"}))
        dup = await expect(lambda m: m.get("ref") == "a2")
        assert dup["type"] == "error", dup
        st = await expect(lambda m: m.get("type") == "stream" and any(
            t["url"] == bogus and t["state"] == "retrying" for t in m["restream"]))
        assert "input_kbps" in st["publisher"], st
        await ws.send(json.dumps({"type": "restream.remove", "url": bogus, "ref": "r1"}))
        gone = await expect(lambda m: m.get("ref") == "r1")
        assert gone["type"] == "restream.removed", gone
        await ws.close()
    asyncio.run(go())


def slate_like(rgb):
    """The slate's band is a flat dark blue-grey (0.2, 0.22, 0.26)."""
    r, g, b = rgb
    return 35 < r < 70 and 40 < g < 75 and 50 < b < 85 and b > r


class ResilienceTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tourcast-res-")
        self.server = h.Server("--segment-ms", "1000", token=TOKEN)

    def tearDown(self):
        rc = self.server.stop()
        self.assertEqual(rc, 0, "tourcast exit code\n" + self.server.log_text())

    def wait_stream_ms(self, at_least, timeout=20):
        return h.wait_until(lambda: stream_ms(self.server) >= at_least and stream_ms(self.server),
                            timeout, f"stream_ms >= {at_least}")

    def test_drop_wait_resume_archive(self):
        portrait = h.make_clip("-d", "30", "-s", "720x1280", "-r", "30")
        landscape = h.make_clip("-d", "30", "-s", "640x360", "-r", "25", "-g", "100")
        follower = LiveFollower(self.server)
        follower.start()

        phone = publisher(self.server, portrait)
        h.wait_until(lambda: events(self.server, 1, "publisher.resume"), 20, "first live frame")
        kill_ms = self.wait_stream_ms(5000)
        kill(phone)
        killed_at = time.time()
        drop = h.wait_until(lambda: events(self.server, 1, "publisher.drop"), 5, "drop event")
        time.sleep(max(0, killed_at + 4 - time.time()))
        back_ms = stream_ms(self.server)
        phone = publisher(self.server, landscape)
        resumes = h.wait_until(
            lambda: len(events(self.server, 1, "publisher.resume")) >= 2 and
            events(self.server, 1, "publisher.resume"), 10, "resume event")
        resume_ms = resumes[1]["stream_ms"]
        self.wait_stream_ms(back_ms + 5000)  # the phone published for 5 s
        kill(phone)
        end_show(self.server)
        status, _, body = h.wait_until(
            lambda: (lambda r: r if b"#EXT-X-ENDLIST" in r[2] else None)(
                self.server.get("/shows/1/index.m3u8")), 10, "archive ENDLIST")
        follower.stop_flag.set()
        follower.join()
        self.assertEqual(status, 200)

        # Events on the replay's timeline, within one segment of the moment.
        drop_ms = drop[0]["stream_ms"]
        self.assertLessEqual(abs(drop_ms - kill_ms), 1000 + 1000 * SEGMENT_S,
                             f"drop at {drop_ms}, killed at {kill_ms}")
        self.assertGreater(resume_ms, drop_ms + 3000)
        self.assertLessEqual(resume_ms - back_ms, 2000 + 1000 * SEGMENT_S,
                             f"resume at {resume_ms}, reconnect at {back_ms}")
        print(f"\nkill at {kill_ms} ms, drop at {drop_ms} ms; reconnect at {back_ms} ms, "
              f"resume at {resume_ms} ms ({resume_ms - back_ms} ms later)", file=sys.stderr)

        # The archive: one encoder, no discontinuity, decodes end to end.
        text = body.decode()
        segs, tags = h.parse_playlist(text)
        self.assertEqual(tags.get("EXT-X-PLAYLIST-TYPE"), "VOD")
        self.assertNotIn("#EXT-X-DISCONTINUITY", text)
        listed = sum(s[1] for s in segs)
        url = self.server.url("/shows/1/index.m3u8")
        dur = float(h.ffprobe_json(url, "-show_entries", "format=duration")["format"]["duration"])
        print(f"archive: {len(segs)} segments, {listed:.3f} s listed, ffprobe {dur:.3f} s",
              file=sys.stderr)
        self.assertAlmostEqual(dur, 14.0, delta=1.5)
        self.assertAlmostEqual(listed, dur, delta=0.5)
        dec = subprocess.run(["ffmpeg", "-v", "error", "-i", url, "-f", "null", "-"],
                             capture_output=True, text=True)
        self.assertEqual(dec.returncode, 0, dec.stderr)
        self.assertEqual(dec.stderr.strip(), "", "the archive decodes with errors")
        frames = h.ffprobe_json(url, "-select_streams", "v", "-show_entries",
                                "frame=pts_time")["frames"]
        pts = [float(f["pts_time"]) for f in frames if "pts_time" in f]
        self.assertGreater(len(pts), 13 * 30)
        self.assertTrue(all(b > a for a, b in zip(pts, pts[1:])), "video timestamps go back")
        apts = [float(f["pts_time"]) for f in h.ffprobe_json(
            url, "-select_streams", "a", "-show_entries", "frame=pts_time")["frames"]]
        self.assertTrue(all(b > a for a, b in zip(apts, apts[1:])), "audio timestamps go back")
        self.assertAlmostEqual(apts[-1] - apts[0], pts[-1] - pts[0], delta=0.3)

        # scripts/export-show.sh: one MP4, starting at 0, as long as the show.
        mp4 = os.path.join(self.tmp, "show.mp4")
        subprocess.run([os.path.join(h.SOURCE_DIR, "scripts", "export-show.sh"), "-d",
                        self.server.data, "1", mp4], check=True, capture_output=True)
        fmt = h.ffprobe_json(mp4, "-show_entries", "format=duration,start_time")["format"]
        self.assertAlmostEqual(float(fmt["duration"]), dur, delta=0.2)
        self.assertLess(abs(float(fmt["start_time"])), 0.05)
        mp4_pts = [float(f["pts_time"]) for f in h.ffprobe_json(
            mp4, "-select_streams", "v", "-show_entries", "frame=pts_time")["frames"]]
        self.assertEqual(len(mp4_pts), len(pts))
        self.assertTrue(all(b > a for a, b in zip(mp4_pts, mp4_pts[1:])))

        # Pixels: the slate in the gap, the phone before and after it. The
        # band's left edge is away from the text and the overlay card.
        band = (8, OUT_H // 2 - 20, 64, 40)
        gap_s = (drop_ms + resume_ms) / 2000
        self.assertTrue(slate_like(h.mean_rgb(h.frame_rgb(url, *band, at=gap_s))),
                        f"no slate at {gap_s} s")
        for at in (2.0, resume_ms / 1000 + 2.5):
            rgb = h.mean_rgb(h.frame_rgb(url, *band, at=at))
            self.assertFalse(slate_like(rgb), f"the slate at {at} s, where the phone was")

        # The live playlist, as a player saw it: every segment, in order,
        # no discontinuity, contiguous program date-times, steady cadence.
        names = sorted(follower.seen)
        self.assertEqual(names, [s[0] for s in segs][:len(names)],
                         "the live playlist skipped a segment the archive has")
        self.assertFalse(any(v[3] for v in follower.seen.values()), "a live discontinuity")
        for seq, listed_names in follower.sequences:
            self.assertEqual([int(n.rsplit("-", 1)[1][:5]) for n in listed_names],
                             list(range(seq, seq + len(listed_names))))
        times = [follower.seen[n][0] for n in names]
        gaps = [b - a for a, b in zip(times, times[1:])]
        print(f"live: {len(names)} segments, longest wait for the next {max(gaps):.2f} s",
              file=sys.stderr)
        self.assertLess(max(gaps), 2.5 * SEGMENT_S, "live segments stopped coming")

    def test_stalled_publisher(self):
        clip = h.make_clip("-d", "20", "-s", "720x1280", "-r", "30")
        with open(clip, "rb") as f:
            data = f.read()
        # ffmpeg reads the clip from a pipe we stop writing to: its RTMP
        # connection stays open and silent, as a phone's does on a dead cell.
        stalled = subprocess.Popen(["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
                                    "-i", "pipe:0", "-c", "copy", "-f", "flv",
                                    self.server.rtmp_url],
                                   stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            stalled.stdin.write(data[:len(data) * 3 // 20])  # about 3 s of media
            stalled.stdin.flush()
            h.wait_until(lambda: events(self.server, 1, "publisher.resume"), 20, "live")
            drop = h.wait_until(lambda: events(self.server, 1, "publisher.drop"), 15,
                                "the stall detected")
            frames = self.server.metrics()
            self.assertEqual(frames.get("tourcast_output_live"), 0.0)
            self.wait_stream_ms(drop[0]["stream_ms"] + 1000)  # the clock runs on
            self.assertIsNone(stalled.poll(), "the stalled publisher must still be connected")
            # ~3 s of media, then the slate within 2 s of the last frame.
            self.assertGreater(drop[0]["stream_ms"], 2000)
            self.assertLess(drop[0]["stream_ms"], 3000 + 2000 + 1000 * SEGMENT_S)
            # The phone comes back on a new connection: it replaces the silent one.
            time.sleep(2.2)
            back_ms = stream_ms(self.server)
            phone = publisher(self.server, clip)
            resumes = h.wait_until(
                lambda: len(events(self.server, 1, "publisher.resume")) >= 2 and
                events(self.server, 1, "publisher.resume"), 10, "resume after the stall")
            self.assertLessEqual(resumes[1]["stream_ms"] - back_ms, 2000 + 1000 * SEGMENT_S)
            kill(phone)
        finally:
            os.killpg(stalled.pid, signal.SIGKILL)
            stalled.wait()
            stalled.stdin.close()


    def test_restream_receiver_restarts(self):
        clip = h.make_clip("-d", "40", "-s", "720x1280", "-r", "30")
        rx_port = h.free_port()
        self.server.stop()
        url = f"rtmp://127.0.0.1:{rx_port}/live/restreamkey"
        self.server = h.Server("--segment-ms", "1000", "--restream", url, token=TOKEN)

        def receiver():
            """Another tourcast, always on rx_port, so it comes back where the
            target points (Server takes the HTTP port, then the RTMP port)."""
            ports = iter([h.free_port(), rx_port])
            orig = h.free_port
            h.free_port = lambda: next(ports)
            try:
                return h.Server(key="restreamkey")
            finally:
                h.free_port = orig

        def rx_segments(rx):
            return rx.metrics().get("tourcast_hls_segments_total", 0)

        def target_state():
            m = self.server.metrics()
            return {k: v for k, v in m.items() if k.startswith("tourcast_restream_live")}

        first = receiver()
        follower = LiveFollower(self.server)
        follower.start()
        phone = publisher(self.server, clip)
        try:
            # A second target that refuses: added and removed by the leader.
            leader_restream(self.server, f"rtmp://127.0.0.1:{h.free_port()}/live/nobody")
            h.wait_until(lambda: rx_segments(first) >= 3, 30, "the first receiver gets media")
            first.proc.kill()
            first.proc.wait()
            first.log.close()
            h.wait_until(lambda: any("retrying" in k for k in target_state()), 10,
                         "the target shows as retrying")
            time.sleep(3)
            second = receiver()
            h.wait_until(lambda: rx_segments(second) >= 3, 40, "the restream resumes")
            h.wait_until(lambda: any('state="live"' in k and v == 1.0
                                     for k, v in target_state().items()), 10, "live again")
            failures = self.server.metrics()['tourcast_restream_failures_total{target="0"}']
            self.assertGreaterEqual(failures, 1)
            self.assertTrue(second.health()["publisher_live"])
            self.assertEqual(second.stop(), 0)
        finally:
            kill(phone)
        follower.stop_flag.set()
        follower.join()
        # The live HLS went on regardless: every segment, steady cadence.
        names = sorted(follower.seen)
        for seq, listed_names in follower.sequences:
            self.assertEqual([int(n.rsplit("-", 1)[1][:5]) for n in listed_names],
                             list(range(seq, seq + len(listed_names))))
        nums = [int(n.rsplit("-", 1)[1][:5]) for n in names]
        self.assertEqual(nums, list(range(nums[0], nums[0] + len(nums))), "a live segment missed")
        times = [follower.seen[n][0] for n in names]
        self.assertLess(max(b - a for a, b in zip(times, times[1:])), 2.5 * SEGMENT_S)


if __name__ == "__main__":
    unittest.main(verbosity=2)
