"""test_abuse_rtmp.py — strangers on the RTMP port never keep the phone out.

Abuse rows (harness.AbuseTable) against the real binary. Each row holds its
attack sockets open, then the fake phone (ffmpeg) publishes with the right
key from the same address (127.0.0.1) and must go live within 2 s, with
segments of its own in the live playlist, and every attack socket must be
closed by the server within the publish deadline (5 s from its accept, plus
slack), whatever it sends, while the phone stays live:
- rtmp_silent_sockets: 64 TCP connections that never send a byte;
- rtmp_handshaken_pingers: 16 connections that finish the handshake and then
  send a ping, a Set Chunk Size, a Window Ack Size or an Acknowledgement
  every 500 ms;
- rtmp_both: both of the above at once;
- rtmp_wrong_key_flood: connections publishing with a wrong key, over and
  over, while the phone publishes;
- rtmp_full_many_ips: 160 silent connections from 20 loopback addresses
  (8 each, within the per-address cap) fill the server: the phone makes
  room by evicting the oldest.
Each row prints the publish latency and how many attack sockets the server
closed, and when.
"""
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness as h  # noqa: E402

PUBLISH_TARGET_S = h.target_s(2.0)  # the target: the real publisher is live within 2 s
AUTH_DEADLINE_S = 5.0   # RTMP_AUTH_DEADLINE_MS in stream/rtmp_server.h
DEADLINE_SLACK_S = 3.0  # the server's sweep and a loaded machine


# ---- RTMP bytes, just enough to be a client ----

def amf_string(s):
    b = s.encode()
    return b"\x02" + struct.pack(">H", len(b)) + b


def amf_number(v):
    return b"\x00" + struct.pack(">d", v)


def amf_object(props):
    out = b"\x03"
    for k, v in props.items():
        out += struct.pack(">H", len(k)) + k.encode() + v
    return out + b"\x00\x00\x09"


def chunk(csid, msg_type, msid, payload, chunk_size=128):
    """One message as a type 0 chunk followed by type 3 continuations."""
    out = bytes([csid]) + b"\x00\x00\x00" + struct.pack(">I", len(payload))[1:]
    out += bytes([msg_type]) + struct.pack("<I", msid)
    for i in range(0, len(payload), chunk_size):
        if i > 0:
            out += bytes([0xC0 | csid])
        out += payload[i:i + chunk_size]
    return out


def command(name, txn, *args, msid=0):
    return chunk(3, 20, msid, amf_string(name) + amf_number(txn) + b"".join(args))


# Small valid messages a squatter sends to look alive: Set Chunk Size, User
# Control ping request, Window Ack Size, Acknowledgement.
KEEPALIVES = [
    chunk(2, 1, 0, struct.pack(">I", 4096)),
    chunk(2, 4, 0, struct.pack(">HI", 6, 1234)),
    chunk(2, 5, 0, struct.pack(">I", 2500000)),
    chunk(2, 3, 0, struct.pack(">I", 3073)),
]


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        b = s.recv(n - len(buf))
        if not b:
            raise ConnectionError("closed by the server")
        buf += b
    return buf


def handshake(s):
    """Plain handshake: C0 + C1 (time, zero, 1528 random), S0+S1+S2, C2 = S1."""
    c1 = struct.pack(">II", int(time.time()) & 0xFFFFFFFF, 0) + os.urandom(1528)
    s.sendall(b"\x03" + c1)
    s0s1s2 = recv_exact(s, 1 + 2 * 1536)
    assert s0s1s2[0] == 3, s0s1s2[0]
    s.sendall(s0s1s2[1:1537])


# ---- attack sockets ----

class Attack:
    """Attack sockets, each with when it was opened and when the server closed
    it (None while open). Silent sockets are watched by one selector thread;
    pingers run a thread each."""

    def __init__(self, server):
        self.server = server
        self.lock = threading.Lock()
        self.rows = []  # [opened, closed or None, socket]
        self.sel = selectors.DefaultSelector()
        self.stop_flag = threading.Event()
        self.threads = []
        self.watcher = threading.Thread(target=self.watch, daemon=True)
        self.watcher.start()

    def connect(self, src="127.0.0.1"):
        s = socket.create_connection(("127.0.0.1", self.server.rtmp_port), timeout=5,
                                     source_address=(src, 0))
        row = [time.time(), None, s]
        with self.lock:
            self.rows.append(row)
        return row

    def closed(self, row):
        with self.lock:
            if row[1] is None:
                row[1] = time.time()

    def silent(self, n, src="127.0.0.1"):
        for _ in range(n):
            row = self.connect(src)
            row[2].setblocking(False)
            self.sel.register(row[2], selectors.EVENT_READ, row)

    def watch(self):
        while not self.stop_flag.is_set():
            if not self.sel.get_map():
                time.sleep(0.02)
                continue
            for key, _ in self.sel.select(0.05):
                try:
                    data = key.fileobj.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.closed(key.data)
                    self.sel.unregister(key.fileobj)

    def pingers(self, n, every_s=0.5):
        ready = threading.Barrier(n + 1)
        for _ in range(n):
            t = threading.Thread(target=self.pinger, args=(ready, every_s), daemon=True)
            t.start()
            self.threads.append(t)
        ready.wait(10)  # every pinger has finished its handshake (or was closed)

    def pinger(self, ready, every_s):
        try:
            row = self.connect()
        except OSError:
            ready.wait(10)
            return
        s = row[2]
        try:
            handshake(s)
        except OSError:
            self.closed(row)
            ready.wait(10)
            return
        ready.wait(10)
        i, next_send = 0, time.time()
        s.settimeout(0.05)
        while not self.stop_flag.is_set():
            try:
                if time.time() >= next_send:
                    s.sendall(KEEPALIVES[i % len(KEEPALIVES)])
                    i += 1
                    next_send += every_s
                if s.recv(65536) == b"":  # a ping response, or the close
                    break
            except socket.timeout:
                continue
            except OSError:
                break
        if not self.stop_flag.is_set():
            self.closed(row)

    def wait_all_closed(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if all(r[1] is not None for r in self.rows):
                    return True
            time.sleep(0.05)
        return False

    def summary(self):
        """'64/64 closed by the server: 57 within 1 s of their open, the last at 5.4 s'"""
        with self.lock:
            ages = sorted(r[1] - r[0] for r in self.rows if r[1] is not None)
            n = len(self.rows)
        if not ages:
            return f"0/{n} closed by the server"
        quick = sum(1 for a in ages if a < 1.0)
        return (f"{len(ages)}/{n} closed by the server: {quick} within 1 s of their open, "
                f"the last at {ages[-1]:.1f} s after its open")

    def close(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(5)
        self.watcher.join(5)
        with self.lock:
            for r in self.rows:
                r[2].close()
        self.sel.close()


class WrongKeyFlood:
    """Threads that connect, handshake, connect to "live", createStream and
    publish with a wrong key, read until the server closes, and start over."""

    def __init__(self, server, threads=4):
        self.server = server
        self.stop_flag = threading.Event()
        self.attempts = 0
        self.refused = 0
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def once(self):
        with socket.create_connection(("127.0.0.1", self.server.rtmp_port), timeout=5) as s:
            handshake(s)
            s.sendall(command("connect", 1, amf_object({"app": amf_string("live")})) +
                      command("createStream", 2, b"\x05") +
                      command("publish", 3, b"\x05", amf_string("not-the-key"), amf_string("live"),
                              msid=1))
            got = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += b
            return b"NetStream.Publish.BadName" in got

    def run(self):
        while not self.stop_flag.is_set():
            try:
                refused = self.once()
            except OSError:
                refused = False
            with self.lock:
                self.attempts += 1
                self.refused += refused

    def stop(self):
        self.stop_flag.set()
        for t in self.threads:
            t.join(10)


# ---- the honest publisher ----

def publish_and_check(server, clip):
    """The fake phone publishes clip; returns (latency s, phone Popen) once it
    is live and a segment made while it is on air is in the live playlist."""
    t0 = time.time()
    phone = h.fake_phone(server.rtmp_url, "-c", clip, start_new_session=True)
    latency = None
    while time.time() - t0 < PUBLISH_TARGET_S + 3:
        if server.health()["publisher_live"]:
            latency = time.time() - t0
            break
        if phone.poll() is not None:
            break
        time.sleep(0.02)
    if latency is None:
        err = phone.stderr.read().decode(errors="replace") if phone.poll() is not None else ""
        stop_phone(phone)
        raise AssertionError(f"the publisher never went live (ffmpeg: {err.strip()[-200:]})")
    if latency > PUBLISH_TARGET_S:
        stop_phone(phone)
        raise AssertionError(f"publish took {latency:.2f} s, over {PUBLISH_TARGET_S} s")
    try:
        h.wait_until(lambda: server.metrics().get("tourcast_output_live") == 1, 10,
                     "the output showing the publisher")
        _, _, body = server.get("/live/index.m3u8")
        before = {s[0] for s in h.parse_playlist(body.decode())[0]}

        def new_segment():
            status, _, b = server.get("/live/index.m3u8")
            return status == 200 and any(s[0] not in before
                                         for s in h.parse_playlist(b.decode())[0])
        h.wait_until(new_segment, 10, "a new segment in the live playlist")
        assert server.health()["publisher_live"], "the publisher was dropped"
    except BaseException:
        stop_phone(phone)
        raise
    return latency, phone


def stop_phone(phone):
    if phone.poll() is None:
        os.killpg(phone.pid, signal.SIGKILL)
    phone.wait()
    phone.stdout.close()
    phone.stderr.close()


def counters(server):
    m = server.metrics()
    return (m.get("tourcast_rtmp_connections_evicted_total", 0),
            m.get("tourcast_rtmp_auth_timeouts_total", 0))


def settle(server):
    """Between rows: the phone gone and no RTMP connection left open."""
    h.wait_until(lambda: not server.health()["publisher_live"], 10, "the publisher gone")
    h.wait_until(lambda: server.metrics().get("tourcast_rtmp_connections_open", 1) == 0, 10,
                 "RTMP connections closed")


def attack_row(server, clip, silent=0, pingers=0, ips=None):
    """Opens the attack, publishes, checks that every attack socket is closed
    by the deadline while the phone stays live; returns the row's figures."""
    ev0, to0 = counters(server)
    attack = Attack(server)
    phone = None
    try:
        for src in ips or ["127.0.0.1"]:
            attack.silent(silent, src)
        if pingers:
            attack.pingers(pingers)
        latency, phone = publish_and_check(server, clip)
        # Nothing an attack socket sends keeps it past the deadline.
        newest = max(r[0] for r in attack.rows)
        left = newest + AUTH_DEADLINE_S + DEADLINE_SLACK_S - time.time()
        assert attack.wait_all_closed(max(left, 0.1)), \
            "attack sockets outlived the deadline: " + attack.summary()
        assert server.health()["publisher_live"], "the publisher was dropped"
        ev1, to1 = counters(server)
        return (f"publish {latency:.2f} s; {attack.summary()}; "
                f"server: {ev1 - ev0:.0f} evicted, {to1 - to0:.0f} auth timeouts")
    finally:
        attack.close()
        if phone is not None:
            stop_phone(phone)
        settle(server)


def wrong_key_row(server, clip):
    flood = WrongKeyFlood(server)
    phone = None
    try:
        time.sleep(0.3)  # the flood is running before the phone starts
        latency, phone = publish_and_check(server, clip)
        flood.stop()
        assert flood.refused > 10, f"the flood did not run ({flood.attempts} attempts)"
        return f"publish {latency:.2f} s; {flood.refused}/{flood.attempts} wrong-key publishes refused"
    finally:
        flood.stop()
        if phone is not None:
            stop_phone(phone)
        settle(server)


def main():
    clip = h.make_clip("-s", "360x640", "-r", "15", "-b", "400", "-d", "20")
    server = h.Server("--width", "360", "--height", "640", "--fps", "15", "--bitrate", "400")
    try:
        # One honest publish first: the output pipeline starts with it, and
        # its memory is not any row's growth.
        latency, phone = publish_and_check(server, clip)
        stop_phone(phone)
        settle(server)
        print(f"baseline: publish {latency:.2f} s with no attack", flush=True)
        table = h.AbuseTable(server)
        table.row("rtmp_silent_sockets", lambda: attack_row(server, clip, silent=64))
        table.row("rtmp_handshaken_pingers", lambda: attack_row(server, clip, pingers=16))
        table.row("rtmp_both", lambda: attack_row(server, clip, silent=64, pingers=16))
        table.row("rtmp_wrong_key_flood", lambda: wrong_key_row(server, clip))
        table.row("rtmp_full_many_ips",
                  lambda: attack_row(server, clip, silent=8,
                                     ips=[f"127.0.1.{i}" for i in range(1, 21)]))
        table.finish()
    except BaseException:
        print(server.log_text()[-4000:], file=sys.stderr)
        raise
    finally:
        server.stop()


if __name__ == "__main__":
    main()
