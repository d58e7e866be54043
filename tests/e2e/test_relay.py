"""test_relay.py — a real publisher in, live HLS out, through the real binary.

The fake phone (ffmpeg) publishes a landscape clip over RTMP; a follower
fetches the live playlist over HTTP as a player would and downloads every
segment it lists. The segments must decode as H.264 at the output size and
rate with AAC audio, add up to what was sent, carry program date-times, and
show the overlay and the letterbox in their pixels. (Since the output outlives
the publisher, segments after the phone leaves are the standby slate; the
phone's part ends at its publisher.drop event.) Wrong keys and a second
publisher are refused while the first one keeps going. GStreamer's rtmp2sink,
a different RTMP client, must be able to publish too.
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

OUT_W, OUT_H, FPS = 720, 1280, 30
# overlay_layout_for(720, 1280): the title box's accent bar is opaque 0xFF5000
# (overlay.h); it shows whenever the show has a title, with no product pinned.
ACCENT = None  # filled from the layout in setUpModule


def setUpModule():
    global ACCENT
    out = subprocess.run([h.BINARY, "--print-layout", "--width", str(OUT_W), "--height",
                          str(OUT_H)], check=True, capture_output=True, text=True)
    fields = dict(kv.split("=") for kv in out.stdout.split())
    ACCENT = tuple(int(fields[k]) for k in ("title_accent_x", "title_accent_y",
                                             "title_accent_width", "title_accent_height"))


class Follower(threading.Thread):
    """Polls the live playlist like a player and downloads each new segment."""

    def __init__(self, server, outdir):
        super().__init__(daemon=True)
        self.server, self.outdir = server, outdir
        self.segments = {}  # name -> (duration, pdt, discontinuity)
        self.order = []
        self.stop_flag = threading.Event()
        self.errors = []

    def run(self):
        while not self.stop_flag.is_set():
            status, headers, body = self.server.get("/live/index.m3u8")
            if status == 200:
                segs, _ = h.parse_playlist(body.decode())
                for name, dur, pdt, disc in segs:
                    if name in self.segments:
                        continue
                    st, _, data = self.server.get("/live/" + name)
                    if st != 200:
                        self.errors.append(f"{name}: HTTP {st}")
                        continue
                    with open(os.path.join(self.outdir, name), "wb") as f:
                        f.write(data)
                    self.segments[name] = (dur, pdt, disc)
                    self.order.append(name)
            time.sleep(0.2)


def publish_refused(url, clip):
    """Publishes clip to url with plain ffmpeg; returns (exit code, stderr)."""
    p = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", clip,
                        "-t", "3", "-c", "copy", "-f", "flv", url],
                       capture_output=True, text=True, timeout=30)
    return p.returncode, p.stderr


class RelayTest(unittest.TestCase):
    def setUp(self):
        self.server = h.Server()
        self.tmp = tempfile.mkdtemp(prefix="tourcast-relay-")

    def tearDown(self):
        rc = self.server.stop()
        self.assertEqual(rc, 0, "tourcast exit code\n" + self.server.log_text())

    def test_phone_to_live_hls(self):
        sent_s = 8.0
        clip = h.make_clip("-d", str(int(sent_s)), "-s", "640x360")
        follower = Follower(self.server, self.tmp)
        follower.start()
        phone = h.fake_phone(self.server.rtmp_url, "-c", clip)
        h.wait_until(lambda: self.server.health()["publisher_live"], 15, "publisher live")
        # A real HLS player (ffmpeg's) plays the live playlist meanwhile.
        h.wait_until(lambda: self.server.metrics().get("tourcast_hls_segments_total", 0) >= 2,
                     15, "first segments")
        player = subprocess.Popen(
            ["ffmpeg", "-v", "error", "-i", self.server.url("/live/index.m3u8"), "-t", "2",
             "-map", "0:v", "-map", "0:a", "-f", "null", "-"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

        # While the phone is live: a wrong key and a second publisher are refused.
        wrong = self.server.rtmp_url.replace(self.server.key, "not-the-key")
        rc, err = publish_refused(wrong, clip)
        self.assertNotEqual(rc, 0, "a wrong stream key must be refused")
        rc, err = publish_refused(self.server.rtmp_url, clip)
        self.assertNotEqual(rc, 0, "a second publisher must be refused while one is live")
        self.assertTrue(self.server.health()["publisher_live"], "the first publisher keeps going")

        _, perr = player.communicate(timeout=60)
        self.assertEqual(player.returncode, 0, perr)
        self.assertEqual(perr.strip(), "", "the HLS player reported errors")
        out, err = phone.communicate(timeout=60)
        self.assertEqual(phone.returncode, 0, err)
        h.wait_until(lambda: not self.server.health()["publisher_live"], 15, "publisher gone")
        # The output goes on with the standby slate after the phone leaves
        # (issue 5); the show's timeline says where the phone's part ended.
        drop = h.wait_until(lambda: [e for e in json.loads(self.server.get(
            "/api/shows/1/events")[2]) if e["type"] == "publisher.drop"], 10, "publisher.drop")
        drop_s = drop[0]["stream_ms"] / 1000.0
        time.sleep(1.5)  # the segment holding the drop is listed
        follower.stop_flag.set()
        follower.join()
        self.assertEqual(follower.errors, [])
        self.check_segments(follower, sent_s, drop_s)
        self.check_pixels(follower)
        self.assertAlmostEqual(drop_s, sent_s, delta=sent_s * 0.1)
        self.assertGreater(self.server.health()["stream_ms"] / 1000.0, drop_s,
                           "the stream clock runs on under the slate")

    def check_segments(self, follower, sent_s, drop_s):
        names = follower.order
        self.assertGreaterEqual(len(names), int(sent_s) - 1, names)
        total = 0.0
        prev_end = None
        first_start = None
        for name in names:
            dur, pdt, disc = follower.segments[name]
            self.assertIsNotNone(pdt, f"{name} has no EXT-X-PROGRAM-DATE-TIME")
            start = datetime.datetime.fromisoformat(pdt.replace("Z", "+00:00")).timestamp()
            if prev_end is not None:
                self.assertAlmostEqual(start, prev_end, delta=0.05,
                                       msg=f"{name}: program date-time does not follow on")
            prev_end = start + dur
            first_start = first_start if names.index(name) else start
            # The phone's part only, not the slate after it.
            total += max(0.0, min(dur, drop_s - (start - first_start)))
            path = os.path.join(self.tmp, name)
            info = h.ffprobe_json(path, "-show_streams")
            kinds = {s["codec_type"]: s for s in info["streams"]}
            v = kinds.get("video")
            self.assertIsNotNone(v, name)
            self.assertEqual(v["codec_name"], "h264", name)
            self.assertEqual((v["width"], v["height"]), (OUT_W, OUT_H), name)
            self.assertEqual(v["r_frame_rate"], f"{FPS}/1", name)
            self.assertIn("audio", kinds, f"{name} has no audio")
            self.assertEqual(kinds["audio"]["codec_name"], "aac", name)
            first = h.ffprobe_json(path, "-select_streams", "v", "-read_intervals", "%+#1",
                                   "-show_frames", "-show_entries", "frame=key_frame")
            self.assertEqual(first["frames"][0]["key_frame"], 1,
                             f"{name} does not start with a keyframe")
            dec = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "null", "-"],
                                 capture_output=True, text=True)
            self.assertEqual(dec.returncode, 0, dec.stderr)
            self.assertEqual(dec.stderr.strip(), "", f"{name} decodes with errors")
        self.assertAlmostEqual(total, sent_s, delta=sent_s * 0.1,
                               msg=f"playlist holds {total:.3f} s of {sent_s} s sent")

    def check_pixels(self, follower):
        seg = os.path.join(self.tmp, follower.order[len(follower.order) // 2])
        ax, ay, aw, ah = ACCENT
        # Inset from the bar's edges: chroma is subsampled and x264 smears edges.
        r, g, b = h.mean_rgb(h.frame_rgb(seg, ax + 4, ay + 8, aw - 8, ah - 16))
        self.assertTrue(r > 200 and 40 < g < 130 and b < 60,
                        f"overlay accent not found: mean rgb {r:.0f},{g:.0f},{b:.0f}")
        # 640x360 letterboxed into 720x1280: black above and below the picture.
        r, g, b = h.mean_rgb(h.frame_rgb(seg, 300, 100, 40, 40))
        self.assertTrue(max(r, g, b) < 24, f"letterbox band not black: {r:.0f},{g:.0f},{b:.0f}")
        r, g, b = h.mean_rgb(h.frame_rgb(seg, 100, 560, 520, 160))
        self.assertGreater(max(r, g, b), 40, "the picture itself is missing")
        # The bar sits in a letterbox band (the picture spans 437..842), which
        # is black without the overlay: the orange can only be ours.
        self.assertTrue(ay + ah <= 437 or ay >= 842, f"accent at y {ay}..{ay + ah}")

    def test_rtmp2sink_publisher(self):
        """GStreamer's RTMP client is not ffmpeg: it must be able to publish too."""
        cmd = ["gst-launch-1.0", "-q",
               "videotestsrc", "is-live=true", "num-buffers=120", "!",
               "video/x-raw,width=480,height=854,framerate=30/1", "!",
               "x264enc", "tune=zerolatency", "key-int-max=60", "!", "h264parse", "!",
               "flvmux", "name=m", "streamable=true", "!",
               "rtmp2sink", f"location={self.server.rtmp_url}",
               "audiotestsrc", "is-live=true", "num-buffers=180", "!", "audioconvert", "!",
               "avenc_aac", "!", "aacparse", "!", "m."]
        pub = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        self.assertEqual(pub.returncode, 0, pub.stderr)
        h.wait_until(lambda: self.server.metrics().get("tourcast_hls_segments_total", 0) >= 3,
                     15, "segments from the rtmp2sink publish")
        status, _, body = self.server.get("/live/index.m3u8")
        self.assertEqual(status, 200)
        segs, _ = h.parse_playlist(body.decode())
        st, _, data = self.server.get("/live/" + segs[0][0])
        self.assertEqual(st, 200)
        path = os.path.join(self.tmp, "rtmp2sink.ts")
        with open(path, "wb") as f:
            f.write(data)
        v = h.ffprobe_json(path, "-show_streams", "-select_streams", "v")["streams"][0]
        self.assertEqual((v["width"], v["height"]), (OUT_W, OUT_H))


if __name__ == "__main__":
    unittest.main(verbosity=2)
