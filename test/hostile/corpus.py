#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bad-input corpus: every case is a config sriov-agent apply must refuse
with its own message, changing nothing: state.pb, the domain dir and the
whole (fake) sysfs tree stay byte-identical, the exit status is non-zero,
and what the agent prints is valid UTF-8 with the refusal on one line.

Usage: corpus.py BUILD_DIR PROTOC PROTO_DIR [CASE-NAME-SUBSTRING]
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import time

B, PROTOC, PROTO = sys.argv[1:4]
ONLY = sys.argv[4] if len(sys.argv) > 4 else ""
AGENT = f"{B}/agent/sriov-agent"
FAKE = f"{B}/test/fake-sysfs"
FIX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")


def encode(text):
    p = subprocess.run([PROTOC, f"--proto_path={PROTO}",
                        "--encode=org.lfedge.eve.config.EdgeDevConfig", "eveconfig.proto"],
                       input=text.encode(), capture_output=True)
    if p.returncode:
        raise SystemExit(f"protoc: {p.stderr.decode()}\n{text}")
    return p.stdout


def pf(label="uplink1", phy="eth1", ifname="eth1", pci="0000:03:00.0", count="vflist { vf_count: 4 }",
       extra=""):
    s = 'deviceIoList { ptype: PhyIoNetEthPF'
    if phy is not None:
        s += f' phylabel: "{phy}"'
    if label is not None:
        s += f' logicallabel: "{label}"'
    if ifname is not None:
        s += f' phyaddrs {{ key: "ifname" value: "{ifname}" }}'
    if pci is not None:
        s += f' phyaddrs {{ key: "pcilong" value: "{pci}" }}'
    return s + f" {count} {extra} }}\n"


PF1 = pf()
PF2 = pf("uplink2", "eth2", "eth2", "0000:04:00.0", "vflist { vf_count: 2 }")
U = [f"{str(i) * 8}-{str(i) * 4}-4{str(i) * 3}-8{str(i) * 3}-{str(i) * 12}" for i in range(10)]


def app(i, adapters=(), name=None, extra="", uuid=None):
    u = U[i] if uuid is None else uuid
    s = "apps {"
    if u != "":
        s += f' uuidandversion {{ uuid: "{u}" version: "1" }}'
    s += f' displayname: "{name if name is not None else "app%d" % i}" {extra}'
    for a in adapters:
        s += f" adapters {{ type: PhyIoNetEthVF {a} }}"
    return s + " }\n"


def ad(name="uplink1", ethvf=""):
    return f'name: "{name}"' + (f" eth_vf {{ {ethvf} }}" if ethvf else "")


def with_pfs(*apps, pfs=(PF1, PF2)):
    return "".join(pfs) + "".join(apps)


def opts(o, vlan=100):
    return (f"vlan_id: {vlan} " if vlan else "") + f"sriov_options {{ {o} }}"


CASES = []  # (name, text or bytes, expected message, placeholder patch)


def case(name, cfg, expect, patch=None):
    CASES.append((name, cfg, expect, patch))


# ---- PFs ----
case("pf_no_label", with_pfs(pfs=(pf(None, None),)), "PhyIoNetEthPF without logicallabel or phylabel")
case("pf_no_addr", with_pfs(pfs=(pf(ifname=None, pci=None),)), 'neither "ifname" nor "pcilong" given')
for n, v in [("slash", "eth/1"), ("long", "abcdefghijklmnop"), ("dot", "."), ("dotdot", ".."),
             ("colon", "eth:1"), ("space", "eth 1"), ("empty", "")]:
    case(f"pf_ifname_{n}", with_pfs(pfs=(pf(ifname=v),)),
         f'phyaddrs[ifname] "{v}": allowed 1..15 bytes')
for n, v in [("func", "0000:03:00.8"), ("dev", "0000:03:20.0"), ("short", "03:00.0"),
             ("garbage", "zzzz:03:00.0"), ("long", "0000:03:00.00"), ("trailing", "0000:03:00.0 ")]:
    case(f"pf_pci_{n}", with_pfs(pfs=(pf(pci=v),)), f'phyaddrs[pcilong] "{v}": allowed a PCI address')
case("pf_vf_count_zero", with_pfs(pfs=(pf(count="vflist { vf_count: 0 }"),)),
     "vflist.vf_count 0: allowed 1..sriov_totalvfs")
case("pf_no_count", with_pfs(pfs=(pf(count=""),)), "no VF count: set vflist.vf_count")
for n, v in [("pow2", "3"), ("zero", "0"), ("negative", "-4"), ("text", "four"),
             ("overflow", "4294967296"), ("empty", "")]:
    case(f"pf_cbattr_{n}", with_pfs(pfs=(pf(count=f'cbattr {{ key: "sriov-vf-count" value: "{v}" }}'),)),
         f'cbattr[sriov-vf-count] "{v}": allowed a power of two')
case("pf_count_mismatch",
     with_pfs(pfs=(pf(count='vflist { vf_count: 4 } cbattr { key: "sriov-vf-count" value: "2" }'),)),
     "vflist.vf_count 4 and cbattr[sriov-vf-count] 2 differ")
case("pf_cbattr_twice_case",
     with_pfs(pfs=(pf(count='cbattr { key: "sriov-vf-count" value: "2" } cbattr { key: "SRIOV-VF-COUNT" value: "4" }'),)),
     'cbattr["SRIOV-VF-COUNT"]: a second "sriov-vf-count" key')
case("pf_ifname_twice_case", with_pfs(pfs=(pf(extra='phyaddrs { key: "IFNAME" value: "eth2" }'),)),
     'phyaddrs["IFNAME"]: a second "ifname" key')
case("pf_pcilong_twice_case", with_pfs(pfs=(pf(extra='phyaddrs { key: "PciLong" value: "0000:04:00.0" }'),)),
     'phyaddrs["PciLong"]: a second "pcilong" key')
case("pf_dup_ifname", with_pfs(pfs=(PF1, pf("uplink2", "eth2", "eth1", "0000:04:00.0"))),
     'deviceIoList[1].phyaddrs[ifname] "eth1": already used by deviceIoList[0]')
case("pf_dup_pci", with_pfs(pfs=(PF1, pf("uplink2", "eth2", "eth2", "0000:03:00.0"))),
     'deviceIoList[1].phyaddrs[pcilong] "0000:03:00.0": already used by deviceIoList[0]')
case("pf_dup_pci_case", with_pfs(pfs=(pf(pci="0000:0a:00.0"), pf("uplink2", "eth2", "eth2", "0000:0A:00.0"))),
     'deviceIoList[1].phyaddrs[pcilong] "0000:0a:00.0": already used by deviceIoList[0]')
case("pf_dup_logicallabel", with_pfs(pfs=(PF1, pf("uplink1", "eth2", "eth2", "0000:04:00.0"))),
     'deviceIoList[1].logicallabel "uplink1": already used by deviceIoList[0].logicallabel')
case("pf_dup_phylabel", with_pfs(pfs=(PF1, pf("uplink2", "eth1", "eth2", "0000:04:00.0"))),
     'deviceIoList[1].phylabel "eth1": already used by deviceIoList[0].phylabel')
case("pf_logical_is_other_phylabel", with_pfs(pfs=(PF1, pf("eth1", "eth2", "eth2", "0000:04:00.0"))),
     'deviceIoList[1].logicallabel "eth1": already used by deviceIoList[0].phylabel')
case("pf_assigngrp_is_other_label",
     with_pfs(pfs=(PF1, pf("uplink2", "eth2", "eth2", "0000:04:00.0", extra='assigngrp: "uplink1"'))),
     'deviceIoList[1].assigngrp "uplink1": already used by deviceIoList[0].logicallabel')
case("pf_label_reads_as_vf", with_pfs(pfs=(pf("eth"), pf("ethvf0", "eth2", "eth2", "0000:04:00.0"))),
     'deviceIoList[1].logicallabel "ethvf0": reads as VF 0 of the PF labelled "eth" (deviceIoList[0].logicallabel)')
case("pf_label_reads_as_vf_reversed", with_pfs(pfs=(pf("ethvf0"), pf("eth", "eth2", "eth2", "0000:04:00.0"))),
     'deviceIoList[0].logicallabel "ethvf0": reads as VF 0 of the PF labelled "eth" (deviceIoList[1].logicallabel)')
case("pf_label_reads_as_own_vf", with_pfs(pfs=(pf("up", "upvf1"),)),
     'deviceIoList[0].phylabel "upvf1": reads as VF 1 of the PF labelled "up" (deviceIoList[0].logicallabel)')
case("pf_label_too_long", with_pfs(pfs=(pf("L" * 64),)), "deviceIoList[0].logicallabel \"" + "L" * 40 + "...\": 64 bytes, allowed at most 63")
case("pf_label_control", with_pfs(pfs=(pf("up\\nlink"),)),
     'deviceIoList[0].logicallabel "up\\x0alink": control characters are not allowed')
case("pf_label_not_utf8", with_pfs(pfs=(pf("upXXXX"),)),
     'deviceIoList[0].logicallabel "up\\xff\\xfe\\xc0\\xaf": not valid UTF-8', (b"upXXXX", b"up\xff\xfe\xc0\xaf"))
case("pf_over_totalvfs", with_pfs(pfs=(pf(count="vflist { vf_count: 8 }"),)),
     "deviceIoList[0] (uplink1) VF count 8: allowed 1..7 (sriov_totalvfs of 0000:03:00.0)")
case("pf_not_on_node", with_pfs(pfs=(pf(ifname=None, pci="0000:09:00.0"),)), "deviceIoList[0] (uplink1)")
case("pf_same_device_twice", with_pfs(pfs=(pf(pci=None), pf("uplink2", "eth2", None, "0000:03:00.0"))),
     "deviceIoList[0] (uplink1) and deviceIoList[1] (uplink2) are the same device 0000:03:00.0")

# ---- apps ----
case("app_no_uuid", with_pfs(app(1, uuid="")), "apps[0].uuidandversion.uuid missing")
case("app_bad_uuid", with_pfs(app(1, uuid="1111-zz")), 'apps[0].uuidandversion.uuid "1111-zz": allowed a UUID')
case("app_uuid_long", with_pfs(app(1, uuid="1" * 200)), 'apps[0].uuidandversion.uuid "' + "1" * 64 + '...": allowed a UUID')
case("app_dup_uuid", with_pfs(app(1), app(2, uuid=U[1])),
     f"apps[1].uuidandversion.uuid {U[1]}: already used by apps[0]")
case("app_dup_uuid_case", with_pfs(app(1, uuid="aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"),
                                   app(2, uuid="AAAAAAAA-AAAA-4AAA-8AAA-AAAAAAAAAAAA")),
     "apps[1].uuidandversion.uuid aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa: already used by apps[0]")
case("app_name_long", with_pfs(app(1, name="n" * 128)), "apps[0].displayname \"" + "n" * 40 + "...\": 128 bytes, allowed at most 127")
case("app_name_long_utf8_cut", with_pfs(app(1, name="é" * 70)),
     "apps[0].displayname \"" + "é" * 20 + "...\": 140 bytes, allowed at most 127")
case("app_name_bell", with_pfs(app(1, name="a\\007b")), 'apps[0].displayname "a\\x07b": control characters')
case("app_name_forged_line", with_pfs(app(1, name="x\\nreservations_in_error=42")),
     'apps[0].displayname "x\\x0areservations_in_error=42": control characters')
case("app_name_c1_control", with_pfs(app(1, name="aXXb")), 'apps[0].displayname "a\\xc2\\x85b": control characters',
     (b"aXXb", b"a\xc2\x85b"))
case("app_name_not_utf8", with_pfs(app(1, name="XXXX")), 'apps[0].displayname "\\xff\\xfe\\xfd\\xfc": not valid UTF-8',
     (b"XXXX", b"\xff\xfe\xfd\xfc"))
case("app_name_overlong", with_pfs(app(1, name="aXXb")), 'apps[0].displayname "a\\xc0\\xafb": not valid UTF-8',
     (b"aXXb", b"a\xc0\xafb"))
case("app_name_surrogate", with_pfs(app(1, name="XXX")), 'apps[0].displayname "\\xed\\xa0\\x80": not valid UTF-8',
     (b"XXX", b"\xed\xa0\x80"))
case("app_name_truncated_utf8", with_pfs(app(1, name="abX")), 'apps[0].displayname "ab\\xe2": not valid UTF-8',
     (b"abX", b"ab\xe2"))
case("app_uuid_not_utf8", with_pfs(app(1, uuid="XXXX")), 'apps[0].uuidandversion.uuid "\\xff\\xfe\\xfd\\xfc": not valid UTF-8',
     (b"XXXX", b"\xff\xfe\xfd\xfc"))
case("app_version_not_utf8", with_pfs(app(1)).replace('version: "1"', 'version: "XXXX"'),
     'apps[0].uuidandversion.version "\\xff\\xfe\\xfd\\xfc": not valid UTF-8', (b"XXXX", b"\xff\xfe\xfd\xfc"))

# Embedded NUL: protobuf-c would cut the string at it (issue 23, 8).
for n, cfg, field in [
        ("nul_uuid", with_pfs(app(1, uuid="11111111-1111-4111-8111-11111111XXXX")), "UUIDandVersion.uuid"),
        ("nul_ifname", with_pfs(pfs=(pf(ifname="ethXXXX"),)), "PhysicalIO.PhyaddrsEntry.value"),
        ("nul_label", with_pfs(pfs=(pf("upXXXX"),)), "PhysicalIO.logicallabel"),
        ("nul_adapter", with_pfs(app(1, [ad("uplink1XXXX")])), "Adapter.name"),
        ("nul_mac", with_pfs(app(1, [ad(ethvf='mac: "02:00:00:00:01:01XXXX"')])), "EthVF.mac"),
        ("nul_displayname", with_pfs(app(1, name="routerXXXX")), "AppInstanceConfig.displayname")]:
    case(n, cfg, f"config: {field}: a NUL byte inside the string", (b"XXXX", b"\x00bad"))

# ---- adapters ----
case("ad_no_name", with_pfs(app(1, ['name: ""'])), "apps[0] (%s).adapters[0].name empty" % U[1])
case("ad_unknown_pf", with_pfs(app(1, [ad("eth9")])), 'adapters[0].name "eth9": no PF with that label')
case("ad_unknown_vf_form", with_pfs(app(1, [ad("nosuchvf1")])), 'adapters[0].name "nosuchvf1": no PF with that label')
case("ad_vf_index_out", with_pfs(app(1, [ad("uplink1vf4")])), "VF 4 of PF uplink1: the PF has 4 VFs, allowed 0..3")
case("ad_vf_index_huge", with_pfs(app(1, [ad("uplink1vf99999999999")])),
     'adapters[0].name "uplink1vf99999999999": no PF with that label')
case("ad_vf_index_sign", with_pfs(app(1, [ad("uplink1vf-1")])), 'adapters[0].name "uplink1vf-1": no PF with that label')
case("ad_two_on_one_vf", with_pfs(app(1, [ad("uplink1vf2")]), app(2, [ad("uplink1vf2")])),
     "VF 2 of PF uplink1 is already taken by apps[0]")
case("ad_over_capacity", with_pfs(*[app(i, [ad()]) for i in range(1, 6)]),
     "PF uplink1 has 4 VFs, 5 asked by app adapters: over-assignment refused")
case("ad_over_capacity_one_app", with_pfs(app(1, [ad("uplink2")] * 3)), "PF uplink2 has 2 VFs, 3 asked")
case("ad_shared_assigngrp",
     with_pfs(app(1, [ad("grp")]), pfs=(pf(extra='assigngrp: "grp"'),
                                        pf("uplink2", "eth2", "eth2", "0000:04:00.0", extra='assigngrp: "grp"'))),
     'adapters[0].name "grp": the assigngrp of deviceIoList[0] and deviceIoList[1]: ambiguous')
case("ad_name_not_utf8", with_pfs(app(1, [ad("upXXXX")])), 'adapters[0].name "up\\xff\\xff\\xff\\xff": not valid UTF-8',
     (b"upXXXX", b"up\xff\xff\xff\xff"))
case("ad_name_forged", with_pfs(app(1, [ad("eth9\\nreservations=0")])),
     'adapters[0].name "eth9\\x0areservations=0": no PF with that label')

# ---- VF settings ----
for n, v, m in [("malformed", "02:00:00:00:01", "allowed six hex octets"),
                ("trailing", "02:00:00:00:01:01:", "allowed six hex octets"),
                ("multicast", "01:00:5e:00:00:01", "multicast"),
                ("broadcast", "ff:ff:ff:ff:ff:ff", "multicast"),
                ("zero", "00:00:00:00:00:00", "all-zero"),
                ("text", "router", "allowed six hex octets")]:
    case(f"mac_{n}", with_pfs(app(1, [ad(ethvf=f'mac: "{v}"')])), f'eth_vf.mac "{v}": {m}')
case("mac_dup", with_pfs(app(1, [ad(ethvf='mac: "02:00:00:00:01:01"')]), app(2, [ad(ethvf='mac: "02:00:00:00:01:01"')])),
     "apps[1] (%s).adapters[0].eth_vf.mac 02:00:00:00:01:01: already used by apps[0]" % U[2])
case("mac_dup_case", with_pfs(app(1, [ad(ethvf='mac: "02:aa:00:00:01:01"')]), app(2, [ad("uplink2", 'mac: "02:AA:00:00:01:01"')])),
     "eth_vf.mac 02:aa:00:00:01:01: already used by apps[0]")
case("mac_dup_same_app", with_pfs(app(1, [ad(ethvf='mac: "02:00:00:00:01:01"'), ad(ethvf='mac: "02-00-00-00-01-01"')])),
     "adapters[1].eth_vf.mac 02:00:00:00:01:01: already used by apps[0]")
for n, v in [("4095", 4095), ("huge", 70000)]:
    case(f"vlan_{n}", with_pfs(app(1, [ad(ethvf=f"vlan_id: {v}")])), f"eth_vf.vlan_id {v}: allowed 1..4094")
case("qos_8", with_pfs(app(1, [ad(ethvf=opts("qos: 8"))])), "sriov_options.qos 8: allowed 0..7")
case("qos_no_vlan", with_pfs(app(1, [ad(ethvf=opts("qos: 1", 0))])), "qos/vlan_proto given without vlan_id")
case("vlan_proto_bad", with_pfs(app(1, [ad(ethvf=opts('vlan_proto: "802.1X"'))])),
     'sriov_options.vlan_proto "802.1X": allowed "802.1Q" or "802.1ad"')
case("vlan_proto_no_vlan", with_pfs(app(1, [ad(ethvf=opts('vlan_proto: "802.1ad"', 0))])),
     "qos/vlan_proto given without vlan_id")
case("link_state_bad", with_pfs(app(1, [ad(ethvf=opts('link_state: "up"'))])), 'link_state "up": allowed "auto"')
case("link_state_empty", with_pfs(app(1, [ad(ethvf=opts('link_state: ""'))])), 'link_state "": allowed "auto"')
case("rate_min_over_max", with_pfs(app(1, [ad(ethvf=opts("min_tx_rate: 200 max_tx_rate: 100"))])),
     "sriov_options.min_tx_rate 200: allowed at most max_tx_rate 100")
case("link_state_forged", with_pfs(app(1, [ad(ethvf=opts('link_state: "a\\nb"'))])), 'link_state "a\\x0ab": allowed')

# ---- limits of later stages, checked before the first kernel write ----
for v in (256, 300, 4294967295):
    case(f"app_vcpus_{v}_kvm", with_pfs(app(1, [ad()], extra=f"fixedresources {{ vcpus: {v} }}")),
         f"apps[0] ({U[1]}): fixedresources.vcpus {v}: allowed 0..255 with kvm")

# ---- whole config, wire format, sizes ----
case("empty_file", b"", "config: 0 bytes (an empty file): refused")
case("no_pf_releases_all", with_pfs(app(1), pfs=()), "no PhyIoNetEthPF in deviceIoList and no device id (id.uuid): refused, it would release all 5 reserved VF(s)")
case("only_mgmt_nic", 'deviceIoList { ptype: PhyIoNetEth phylabel: "eth0" phyaddrs { key: "ifname" value: "eth0" } }',
     "no PhyIoNetEthPF in deviceIoList and no device id (id.uuid): refused")
case("truncated", "TRUNC", "not a valid EdgeDevConfig protobuf")
case("garbage", bytes(range(256)) * 4, "not a valid")
case("bad_wire_type", b"\x27\x00", "not a valid")
case("length_past_end", b"\x22\x7f\x00", "not a valid")
case("varint_too_long", b"\x08" + b"\xff" * 11, "not a valid")
case("too_many_apps", b"\x22\x00" * 200000, "config: more than 131072 apps: refused before decoding")
case("too_many_io", b"\x6a\x00" * 70000, "config: more than 65536 deviceIoList entries")
case("too_many_adapters", b"\x22" + b"\x80\xb2\x25" + b"\x3a\x00" * 300000, "config: more than 262144 app adapters")
case("too_many_fields", b"\x98\x06\x00" * 4200000, "config: more than 4194304 protobuf fields")
case("too_many_messages", b"\x6a\x00" * 60000 + (b"\x22" + b"\x80\x80\x08" + (b"\x1a\x02\x2a\x00") * 32768) * 33,
     "config: more than 1048576 nested messages")
case("too_big", b"\x98\x06\x00" * (6 << 20), "larger than 16777216 bytes")


def varint(n):
    out = b""
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def fix_lengths():
    """The hand-written wire cases above spell lengths for their payloads;
    recompute the ones built from repeated chunks."""
    for i, (n, cfg, e, p) in enumerate(CASES):
        if n == "too_many_adapters":
            body = b"\x3a\x00" * 300000
            CASES[i] = (n, b"\x22" + varint(len(body)) + body, e, p)
        if n == "too_many_messages":
            body = b"\x1a\x02\x2a\x00" * 32768
            app_ = b"\x22" + varint(len(body)) + body
            CASES[i] = (n, app_ * 33, e, p)


fix_lengths()


def snapshot(root):
    h = {}
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files + [x for x in dirs if os.path.islink(os.path.join(d, x))]):
            p = os.path.join(d, name)
            if os.path.islink(p):
                h[p] = "-> " + os.readlink(p)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    h[p] = hashlib.sha256(f.read()).hexdigest()
    return h


def main():
    t = tempfile.mkdtemp(prefix="sr-corpus-")
    sysroot, state = f"{t}/sys", f"{t}/state"
    subprocess.run([FAKE, "create", sysroot, "--iommu",
                    "--pf", "pci=0000:03:00.0,ifname=eth1,driver=igb,totalvfs=7,vfdriver=igbvf",
                    "--pf", "pci=0000:04:00.0,ifname=eth2,driver=igb,totalvfs=7,vfdriver=igbvf"], check=True)
    drv = subprocess.Popen([FAKE, "run", sysroot], stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            if os.path.exists(f"{sysroot}/.fake-driver.pid"):
                break
            time.sleep(0.02)
        base = f"{t}/base.pb"
        with open(base, "wb") as f, open(f"{FIX}/two_pfs.txtpb") as src:
            f.write(encode(src.read()))
        good = encode(open(f"{FIX}/two_pfs.txtpb").read())

        def apply(path):
            return subprocess.run([AGENT, "apply", "--config", path, "--sysfs-root", sysroot,
                                   "--state-dir", state, "--no-netlink"], capture_output=True)

        r = apply(base)
        if r.returncode:
            raise SystemExit(f"base config: {r.stderr.decode()}")
        before = {**snapshot(sysroot), **snapshot(state)}
        if not any(p.endswith(".kvm.cfg") for p in before):
            raise SystemExit("base config wrote no domain config")
        passed = failed = 0
        for name, cfg, expect, patch in CASES:
            if ONLY and ONLY not in name:
                continue
            if cfg == "TRUNC":
                data = good[:len(good) - 3]
            elif isinstance(cfg, bytes):
                data = cfg
            else:
                data = encode(cfg)
            if patch:
                assert data.count(patch[0]) == 1 and len(patch[0]) == len(patch[1]), name
                data = data.replace(*patch)
            path = f"{t}/{name}.pb"
            with open(path, "wb") as f:
                f.write(data)
            r = apply(path)
            problems = []
            try:
                err = r.stderr.decode("utf-8")
            except UnicodeDecodeError as e:
                err = r.stderr.decode("utf-8", "replace")
                problems.append(f"output is not UTF-8 ({e})")
            if r.returncode == 0:
                problems.append("exit status 0")
            lines = [ln for ln in err.splitlines() if expect in ln]
            if not lines:
                problems.append(f"no line with {expect!r}")
            if not any("rejected" in ln for ln in lines) and not any("larger than" in ln for ln in lines):
                problems.append("the message is not on the 'rejected' line")
            after = {**snapshot(sysroot), **snapshot(state)}
            if after != before:
                diff = sorted(set(k for k in set(before) | set(after) if before.get(k) != after.get(k)))
                problems.append("changed: " + ", ".join(os.path.relpath(d, t) for d in diff[:5]))
            os.unlink(path)
            if problems:
                failed += 1
                print(f"not ok - {name}: " + "; ".join(problems) + f"\n    stderr: {err.strip()[:400]}")
            else:
                passed += 1
                print(f"ok - {name}: {expect}")
        print(f"{passed} passed, {failed} failed ({len(CASES)} cases in the corpus)")
        sys.exit(1 if failed else 0)
    finally:
        drv.terminate()
        drv.wait()
        subprocess.run(["rm", "-rf", t])


main()
