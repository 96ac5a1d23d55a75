#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Read the wire QEMU captured (-object filter-dump: classic pcap, Ethernet)
and check it against an expectation file. No third-party modules.

usage: wire.py show PCAP [PHASE...]    one line per frame, grouped by phase
       wire.py vfs PCAP PHASE          per VF, its first echo request in PHASE:
                                       "N SRC TAGS" (TAGS in words)
       wire.py check PCAP EXPECT       exit 0 when every rule holds

Phases: the guest sends a marker frame from the PF (EtherType 0x88b5,
payload "SR-WIRE <phase>") when a phase starts; every later frame belongs
to that phase until the next marker ("boot" before the first).

Echo requests: ICMPv6 echo requests whose data carries the 4-byte pattern
5e ea 00 VV (ping -p 5eea00VV) are VF VV's.

Tags are written outer first, comma separated, TPID/VID/PCP in hex/decimal/
decimal ("8100/100/3", "8100/100/3,8100/200/0"); "-" is untagged.

EXPECT: one rule a line, "#" starts a comment; PHASE may be a comma
separated list of phases, each of which must have its marker on the wire:
  echo   PHASE VF SRC TAGS   VF's echo requests are on the wire in PHASE,
                             at least one, each with source MAC SRC ("*":
                             any) and tags TAGS
  noecho PHASE VF            none of VF's echo requests is on the wire
  frames PHASE SRC TAGS      at least one frame with source MAC SRC, and
                             every one of them has tags TAGS
Each rule prints "ok - ..." or "not ok - ..." with what was seen.
"""
import struct
import sys

MARK_TYPE = 0x88B5
MARK_PREFIX = b"SR-WIRE "
TPIDS = (0x8100, 0x88A8, 0x9100)
MAGIC = b"\x5e\xea\x00"


def mac(b):
    return ":".join("%02x" % x for x in b)


def frames(path):
    """Yields (index, bytes) per captured frame."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: %d bytes, no pcap header" % (path, len(data)))
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        end = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        end = ">"
    else:
        raise ValueError("%s: not a pcap file (magic %08x)" % (path, magic))
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        raise ValueError("%s: link type %d, not Ethernet (1)" % (path, linktype))
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack(end + "IIII", data[off:off + 16])[2]
        off += 16
        if off + incl > len(data):
            break  # QEMU killed mid-write: a torn last record
        yield n, data[off:off + incl]
        off += incl
        n += 1


def parse(frame):
    """dst, src, tags (list of (tpid, vid, pcp)), ethertype, payload."""
    if len(frame) < 14:
        return None
    dst, src = mac(frame[0:6]), mac(frame[6:12])
    tags, off = [], 12
    etype = struct.unpack(">H", frame[off:off + 2])[0]
    while etype in TPIDS and off + 6 <= len(frame):
        tci = struct.unpack(">H", frame[off + 2:off + 4])[0]
        tags.append((etype, tci & 0xFFF, tci >> 13))
        off += 4
        etype = struct.unpack(">H", frame[off:off + 2])[0]
    return dst, src, tags, etype, frame[off + 2:]


def tag_text(tags):
    return ",".join("%x/%d/%d" % t for t in tags) if tags else "-"


def echo_vf(etype, payload):
    """VF number of a patterned ICMPv6 echo request, else None."""
    if etype != 0x86DD or len(payload) < 48 or payload[6] != 58:
        return None
    icmp = payload[40:]
    if icmp[0] != 128:
        return None
    data = icmp[8:]
    i = data.find(MAGIC, 16)
    if i < 0 or i + 4 > len(data):
        return None
    return data[i + 3]


def what(etype, payload):
    vf = echo_vf(etype, payload)
    if vf is not None:
        return "echo request vf%d" % vf
    if etype == MARK_TYPE:
        text = payload[:40].rstrip(b"\0").decode("ascii", "replace")
        return ("marker %r" if text.startswith("SR-WIRE ") else "88b5 %r") % text
    if etype == 0x86DD and len(payload) >= 41:
        nh = payload[6]
        if nh == 58:
            return "ICMPv6 type %d" % payload[40]
        if nh == 0:
            return "IPv6 hop-by-hop (MLD)"
        return "IPv6 next header %d" % nh
    return "EtherType %04x" % etype


def load(path):
    """List of dicts, one per frame, with its phase."""
    out, phase = [], "boot"
    for n, raw in frames(path):
        p = parse(raw)
        if p is None:
            continue
        dst, src, tags, etype, payload = p
        if etype == MARK_TYPE and payload.startswith(MARK_PREFIX):
            phase = payload[len(MARK_PREFIX):].split(b"\0")[0].decode("ascii", "replace").strip()
        out.append({"n": n, "phase": phase, "dst": dst, "src": src, "tags": tags,
                    "etype": etype, "vf": echo_vf(etype, payload),
                    "what": what(etype, payload)})
    return out


def show(path, phases):
    for f in load(path):
        if phases and f["phase"] not in phases:
            continue
        print("%-10s %s > %s  %-22s %s" % (f["phase"], f["src"], f["dst"],
                                           tag_text(f["tags"]), f["what"]))


def tag_words(tags):
    names = {0x8100: "802.1Q", 0x88A8: "802.1ad", 0x9100: "QinQ 0x9100"}
    return " + ".join("%s VLAN %d PCP %d" % (names[t[0]], t[1], t[2])
                      for t in tags) if tags else "untagged"


def vfs(path, phase):
    first = {}
    for f in load(path):
        if f["phase"] == phase and f["vf"] is not None and f["vf"] not in first:
            first[f["vf"]] = f
    for vf in sorted(first):
        print("%d %s %s" % (vf, first[vf]["src"], tag_words(first[vf]["tags"])))


def seen(fs):
    """Distinct "src tags" pairs with counts, for messages."""
    c = {}
    for f in fs:
        k = "%s %s" % (f["src"], tag_text(f["tags"]))
        c[k] = c.get(k, 0) + 1
    return "; ".join("%s x%d" % kv for kv in sorted(c.items())) or "nothing"


def check(path, expect):
    fl = load(path)
    phases = []
    for f in fl:
        if f["phase"] not in phases:
            phases.append(f["phase"])
    print("# %s: %d frames, phases: %s" % (path, len(fl), " ".join(phases)))
    failed = total = 0
    with open(expect) as e:
        rules = [l.split("#")[0].split() for l in e]
    for r in [r for r in rules if r]:
        total += 1
        ok, got = False, ""
        form = {"echo": 5, "noecho": 3, "frames": 4}.get(r[0])
        if form != len(r):
            ok, got = False, "unknown or malformed rule"
        elif any(p not in phases for p in r[1].split(",")):
            got = "no marker on the wire for phase(s) %s" % ", ".join(
                p for p in r[1].split(",") if p not in phases)
        else:
            ph = r[1].split(",")
            if r[0] == "frames":
                fs = [f for f in fl if f["phase"] in ph and f["src"] == r[2].lower()]
                tags = r[3]
            else:
                fs = [f for f in fl if f["phase"] in ph and f["vf"] == int(r[2])]
            if r[0] == "echo":
                src, tags = r[3].lower(), r[4]
                ok = bool(fs) and all(src in ("*", f["src"]) for f in fs)
            elif r[0] == "frames":
                ok = bool(fs)
            else:
                ok = not fs
            if r[0] != "noecho":
                ok = ok and all(tag_text(f["tags"]) == tags for f in fs)
            got = seen(fs)
        print("%s %d - wire: %s" % ("ok" if ok else "not ok", total, " ".join(r)))
        print("#   seen: %s" % got)
        failed += 0 if ok else 1
    print("# wire: %d of %d rules failed" % (failed, total) if failed
          else "# wire: all %d rules hold" % total)
    return 1 if failed or total == 0 else 0


def main(argv):
    if len(argv) >= 3 and argv[1] == "show":
        show(argv[2], argv[3:])
        return 0
    if len(argv) == 4 and argv[1] == "vfs":
        vfs(argv[2], argv[3])
        return 0
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, ValueError) as ex:
        print("wire.py: %s" % ex)
        sys.exit(1)
