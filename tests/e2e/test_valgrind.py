"""test_valgrind.py — the real binary under valgrind memcheck, a real publish through it.

A small output (360x640) keeps x264 affordable under valgrind. The H.264
decoder is openh264dec and the AAC decoder faad here: libavcodec pulls in
libhwy, whose constructor executes RDTSCP, which valgrind 3.19 cannot decode
(SIGILL). Everything else
is the production path: RTMP ingest, pipeline, overlay, playlist, HTTP.
Memcheck errors or definite leaks (beyond tests/valgrind.supp) fail the test
through valgrind's exit code.
"""
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

SUPP = os.path.join(h.SOURCE_DIR, "tests", "valgrind.supp")


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
            phone = h.fake_phone(server.rtmp_url, "-d", "3", "-s", "320x240", "-r", "15")
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
