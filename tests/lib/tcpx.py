#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Test peer for the netns tests: TCP/UDP echo servers and clients with deadlines.
#
#   tcpx.py serve-tcp PORT          echo server (threads), until killed
#   tcpx.py serve-udp PORT          echo server, until killed (UDP_LOG=FILE: a
#                                   line per datagram received)
#   tcpx.py tcp HOST PORT [SECS]    connect, echo one line; exit 0 if echoed
#   tcpx.py udp HOST PORT [SECS]    one datagram, exit 0 if echoed
#   tcpx.py probe HOST PORT [SECS]  connect, echo one line; print what came of it:
#                                   "open" (echoed), "timeout" (no answer to the
#                                   SYN: dropped), "refused" (a RST), or "error ..."
#                                   (an ICMP error, an echo that failed); exit 0
#   tcpx.py resend PCAP HOST PORT M send the UDP payload of the first packet of a
#                                   pcap again; M: none, or flip-counter (a fresh
#                                   capgate counter, so only the tag is wrong)
#                                   (BIND=ADDR: from that address, a new port)
#   tcpx.py stream HOST PORT N RATE send N bytes (seeded random) to an echo server at
#                                   RATE bytes/s while reading the echo; exit 0 if
#                                   all N came back intact within 120 s
#                                   (PROGRESS=FILE: bytes echoed so far, rewritten)
#   tcpx.py hold HOST PORT DIR      connect, echo; then for each file DIR/go.N
#                                   that appears, echo again and write DIR/ok.N
#                                   or DIR/fail.N; ends when DIR/stop appears
import errno
import os
import socket
import struct
import sys
import threading
import time


def serve_tcp(port):
    s = socket.socket(socket.AF_INET6 if ":" in os.environ.get("BIND", "") else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((os.environ.get("BIND", "0.0.0.0"), port))
    s.listen(64)

    def echo(c):
        with c:
            while True:
                d = c.recv(4096)
                if not d:
                    return
                c.sendall(d)

    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def serve_udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    log = os.environ.get("UDP_LOG")
    if log:
        open(log, "w").close()
    while True:
        d, a = s.recvfrom(65535)
        if log:
            with open(log, "a") as f:
                f.write("%s:%d %d\n" % (a[0], a[1], len(d)))
        s.sendto(d, a)


def echo_once(c, secs):
    c.settimeout(secs)
    msg = b"capgate %f\n" % time.time()
    c.sendall(msg)
    got = b""
    while len(got) < len(msg):
        d = c.recv(4096)
        if not d:
            break
        got += d
    return got == msg


def tcp(host, port, secs):
    try:
        with socket.create_connection((host, port), timeout=secs) as c:
            return echo_once(c, secs)
    except OSError:
        return False


def probe(host, port, secs):
    """What a connection attempt meets: a drop and a refusal are not the same."""
    try:
        c = socket.create_connection((host, port), timeout=secs)
    except socket.timeout:
        return "timeout"
    except ConnectionRefusedError:
        return "refused"
    except OSError as e:
        return "error %s" % errno.errorcode.get(e.errno, e)
    # Connected: whatever the echo meets, nothing dropped the handshake.
    with c:
        try:
            return "open" if echo_once(c, secs) else "error short echo"
        except OSError as e:
            return "error after connect: %s" % e


def udp(host, port, secs):
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.settimeout(secs)
            c.sendto(b"capgate", (host, port))
            d, _ = c.recvfrom(4096)
            return d == b"capgate"
    except OSError:
        return False


def udp_payload(path):
    """The UDP payload of the first packet of a pcap (Ethernet, IPv4)."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    incl = struct.unpack(order + "I", data[24 + 8:24 + 12])[0]
    frame = data[24 + 16:24 + 16 + incl]
    ihl = (frame[14] & 0x0F) * 4
    return frame[14 + ihl + 8:]


def resend(path, host, port, mutate):
    p = bytearray(udp_payload(path))
    if mutate == "flip-counter":
        # capgate header: counter is bytes 8..16; a far-future value passes the
        # replay window, so the only thing wrong is the tag.
        c = struct.unpack(">Q", p[8:16])[0] + 1000000
        p[8:16] = struct.pack(">Q", c)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        if os.environ.get("BIND"):
            s.bind((os.environ["BIND"], 0))
        s.sendto(bytes(p), (host, port))
    return True


def stream(host, port, n, rate):
    import hashlib
    import random

    data = random.Random(n).randbytes(n)
    progress = os.environ.get("PROGRESS")
    deadline = time.monotonic() + 120
    got = hashlib.sha256()
    echoed = [0]

    def report():
        if progress:
            with open(progress + ".tmp", "w") as f:
                f.write("%d\n" % echoed[0])
            os.replace(progress + ".tmp", progress)

    def reader(c):
        while echoed[0] < n:
            d = c.recv(65536)
            if not d:
                return
            got.update(d)
            echoed[0] += len(d)
            report()

    try:
        with socket.create_connection((host, port), timeout=10) as c:
            c.settimeout(max(1.0, deadline - time.monotonic()))
            t = threading.Thread(target=reader, args=(c,), daemon=True)
            t.start()
            chunk, start = 16384, time.monotonic()
            for off in range(0, n, chunk):
                # Pacing: the transfer lasts n / rate seconds.
                ahead = start + off / rate - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)
                c.sendall(data[off:off + chunk])
            t.join(max(0.0, deadline - time.monotonic()))
    except OSError:
        return False
    return echoed[0] == n and got.digest() == hashlib.sha256(data).digest()


def hold(host, port, d):
    c = socket.create_connection((host, port), timeout=3)
    if not echo_once(c, 3):
        return False
    open(os.path.join(d, "ready"), "w").close()
    n = 0
    while not os.path.exists(os.path.join(d, "stop")):
        go = os.path.join(d, "go.%d" % n)
        if os.path.exists(go):
            ok = False
            try:
                ok = echo_once(c, 3)
            except OSError:
                pass
            open(os.path.join(d, ("ok.%d" if ok else "fail.%d") % n), "w").close()
            n += 1
        time.sleep(0.05)
    return True


def main():
    cmd = sys.argv[1]
    if cmd == "serve-tcp":
        serve_tcp(int(sys.argv[2]))
    elif cmd == "serve-udp":
        serve_udp(int(sys.argv[2]))
    elif cmd in ("tcp", "udp"):
        secs = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
        f = tcp if cmd == "tcp" else udp
        sys.exit(0 if f(sys.argv[2], int(sys.argv[3]), secs) else 1)
    elif cmd == "probe":
        secs = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
        print(probe(sys.argv[2], int(sys.argv[3]), secs))
    elif cmd == "resend":
        sys.exit(0 if resend(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]) else 1)
    elif cmd == "stream":
        sys.exit(0 if stream(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]),
                             float(sys.argv[5])) else 1)
    elif cmd == "hold":
        sys.exit(0 if hold(sys.argv[2], int(sys.argv[3]), sys.argv[4]) else 1)
    else:
        sys.exit(2)


if __name__ == "__main__":
    main()
