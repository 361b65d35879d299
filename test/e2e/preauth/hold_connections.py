#!/usr/bin/env python3
"""Opens many loopback connections that each send a prefix of a message and then hold the
socket open (an attacker before authentication), for test/e2e/preauth_limits_test.sh.

  hold_connections.py READY_FILE KIND:PORT:COUNT [KIND:PORT:COUNT ...]

KIND is one of
  kafka_big      4-byte frame length of 100 MiB, then 64 KiB of it
  kafka_half     a 64-byte frame announced, 10 bytes of it sent
  kafka_mid      a 500 KiB frame announced (under the pre-auth cap), 8 KiB of it sent
  pg_startup     a maximal startup packet (10 KiB announced) minus its last byte
  pg_sasl        a whole StartupMessage, then a SASLInitialResponse announcing 60 MiB and
                 64 KiB of it (the server asks for SASL first)
  pg_half        4 bytes of a startup packet
  http_half      a request line and one header, never the blank line
Writes "<opened> <closed_by_server>" to READY_FILE once every connection was opened and its
bytes sent, then holds them until killed (120 s at most). Bounded: COUNT <= 5000.
"""
import select
import socket
import struct
import sys
import time


def payload(kind):
    if kind == "kafka_big":
        return struct.pack(">i", 100 << 20) + b"\0" * (64 << 10)
    if kind == "kafka_mid":
        return struct.pack(">i", 500 << 10) + b"\0" * (8 << 10)
    if kind == "kafka_half":
        return struct.pack(">i", 64) + b"\0" * 10
    if kind == "pg_startup":
        n = 10 << 10
        body = struct.pack(">i", 196608) + b"user\0freshet\0database\0freshet\0application_name\0"
        body += b"x" * (n - 4 - len(body))
        return (struct.pack(">i", n) + body)[:-1]
    if kind == "pg_half":
        return struct.pack(">i", 200)
    if kind == "http_half":
        return b"GET /subjects HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    raise SystemExit("unknown kind " + kind)


def pg_sasl(sock):
    body = struct.pack(">i", 196608) + b"user\0freshet\0database\0freshet\0\0"
    sock.sendall(struct.pack(">i", 4 + len(body)) + body)
    sock.settimeout(5)
    try:
        sock.recv(4096)  # AuthenticationSASL
    except OSError:
        pass
    sock.settimeout(None)
    msg = b"p" + struct.pack(">i", 60 << 20) + b"SCRAM-SHA-256\0" + b"\0" * (64 << 10)
    try:
        sock.sendall(msg)
    except OSError:
        pass


def main():
    ready_file = sys.argv[1]
    socks = []
    for spec in sys.argv[2:]:
        kind, port, count = spec.split(":")
        count = min(int(count), 5000)
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", int(port)))
            try:
                if kind == "pg_sasl":
                    pg_sasl(s)
                else:
                    s.sendall(payload(kind))
            except OSError:
                pass  # the server may already have closed it: that is allowed
            socks.append(s)
    time.sleep(0.5)
    # Closed by the server (after an error message or not) by now?
    closed = 0
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    readable = {fd for fd, _ in poller.poll(0)}
    for s in socks:
        if s.fileno() not in readable:
            continue
        s.setblocking(False)
        try:
            while True:
                data = s.recv(65536)
                if data == b"":
                    closed += 1
                    break
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    with open(ready_file + ".tmp", "w") as f:
        f.write(f"{len(socks)} {closed}\n")
    import os
    os.rename(ready_file + ".tmp", ready_file)
    time.sleep(120)  # the test kills us sooner
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
