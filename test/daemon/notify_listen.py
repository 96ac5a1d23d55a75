#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# notify_listen.py SOCKET OUT: stand in for systemd's $NOTIFY_SOCKET. Binds
# an AF_UNIX datagram socket at SOCKET and appends each message to OUT as one
# line, its assignments joined with '|' ("READY=1|STATUS=applied: ...").
# Runs until killed.
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(out, "w").close()
while True:
    msg = s.recv(65536).decode("utf-8", "replace")
    with open(out, "a") as f:
        f.write("|".join(msg.rstrip("\n").split("\n")) + "\n")
