#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write an EdgeDevConfig in protobuf text format for benchmarks.

One PhyIoNetEthPF per PF with vflist.vf_count = VFS, and one app per VF
holding one PhyIoNetEthVF adapter on that PF. Encode the output with
  protoc --proto_path=proto --encode=org.lfedge.eve.config.EdgeDevConfig \
         eveconfig.proto < text > config.pb

  gen_config.py --pfs 8 --vfs 64                 fake PFs 0000:10:00.0, 0000:11:00.0, ...
                                                 (ifnames bench0, bench1, ...)
  gen_config.py --pf 0000:01:00.0,eth1 --vfs 7   a named PF (repeatable)
  --settings none|vlan|full                      per-VF settings: none; vlan_id
                                                 only (default); or explicit MAC,
                                                 VLAN, spoofchk on, trust on
"""
import argparse
import sys

PCI_BUS_BASE = 0x10


def app_uuid(pf, vf):
    # Version 4, variant 1, unique per (pf, vf).
    return "%08x-0000-4000-8000-%012x" % (0xbe000000 + pf, vf)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pfs", type=int, default=0, help="fake PFs 0000:BB:00.0 from bus 0x10")
    ap.add_argument("--pf", action="append", default=[], metavar="PCI,IFNAME",
                    help="a PF by PCI address and netdev (repeatable)")
    ap.add_argument("--vfs", type=int, required=True, help="VFs per PF (and apps per PF)")
    ap.add_argument("--apps", type=int, default=-1,
                    help="apps per PF, each with one VF (default: --vfs)")
    ap.add_argument("--settings", choices=("none", "vlan", "full"), default="vlan")
    ap.add_argument("--vlan-base", type=int, default=100)
    a = ap.parse_args()

    pfs = [tuple(s.split(",", 1)) for s in a.pf]
    pfs += [("0000:%02x:00.0" % (PCI_BUS_BASE + i), "bench%d" % i) for i in range(a.pfs)]
    if not pfs or a.vfs < 1:
        ap.error("at least one PF (--pfs or --pf) and --vfs >= 1")
    n_apps = a.vfs if a.apps < 0 else a.apps

    out = ['id { uuid: "6ba7b810-9dad-11d1-80b4-00c04fd4b0b0" version: "1" }']
    for i, (pci, ifname) in enumerate(pfs):
        out.append(
            'deviceIoList { ptype: PhyIoNetEthPF phylabel: "%s" logicallabel: "pf%d" '
            'assigngrp: "%s" phyaddrs { key: "ifname" value: "%s" } '
            'phyaddrs { key: "pcilong" value: "%s" } vflist { vf_count: %d } }'
            % (ifname, i, ifname, ifname, pci, a.vfs))
    for i in range(len(pfs)):
        for v in range(n_apps):
            vlan = 1 + (a.vlan_base - 1 + i * n_apps + v) % 4094
            if a.settings == "none":
                vf = ""
            elif a.settings == "vlan":
                vf = " eth_vf { vlan_id: %d }" % vlan
            else:
                vf = (' eth_vf { mac: "02:be:%02x:%02x:%02x:%02x" vlan_id: %d '
                      'sriov_options { spoofchk: true trust: true } }'
                      % (i >> 8, i & 0xff, v >> 8, v & 0xff, vlan))
            out.append(
                'apps { uuidandversion { uuid: "%s" version: "1" } displayname: "app-%d-%d" '
                'fixedresources { memory: 262144 vcpus: 1 virtualizationMode: HVM } '
                'activate: true adapters { type: PhyIoNetEthVF name: "pf%d"%s } }'
                % (app_uuid(i, v), i, v, i, vf))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
