#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The netdevsim scenario's config and what the kernel must then show.

  nsim_config.py config N [--bare] [--data mac-vlan]  EdgeDevConfig text
  nsim_config.py expect N [--data mac-vlan]           nl-vfdump's lines
  nsim_config.py ipbatch N PF                         `ip -batch` lines

The PF "nsim" (ifname nsim0, pcilong 0000:05:00.0, the fake PCI tree's
twin of the netdevsim netdev) gets N VFs and one vflist.data entry per VF
with every setting netdevsim takes (drivers/net/netdevsim/netdev.c
nsim_set_vf_*: any VLAN/QoS/protocol, spoofchk, trust, link state and
rates), varied per VF; one app holds VF 0 by name. --bare: the PF and its
VF count only (the release). --data mac-vlan: MAC and VLAN only (bench).
"""
import sys

LINK_STATES = ["auto", "enable", "disable"]


def vf(i, full):
    s = {"mac": "02:5e:00:%02x:%02x:%02x" % (i >> 16 & 255, i >> 8 & 255, i & 255),
         "vlan": 1 + i % 4094}
    if full:
        s.update(qos=i % 8, proto="802.1ad" if i % 3 == 0 else "802.1Q",
                 spoofchk=i % 2 == 0, trust=i % 4 == 1,
                 link_state=LINK_STATES[i % 3], min_tx=(i % 5) * 10, max_tx=1000 + i)
    return s


def config(n, bare, full):
    out = ['id { uuid: "0e6c2d3a-5f41-4b7e-9c1d-2a3b4c5d6e20" version: "1" }',
           "deviceIoList {", "  ptype: PhyIoNetEthPF", '  phylabel: "nsim"',
           '  logicallabel: "nsim"', '  phyaddrs { key: "ifname" value: "nsim0" }',
           '  phyaddrs { key: "pcilong" value: "0000:05:00.0" }',
           "  vflist {", "    vf_count: %d" % n]
    for i in range(0 if bare else n):
        s = vf(i, full)
        line = '    data { index: %d mac: "%s" vlan_id: %d' % (i, s["mac"], s["vlan"])
        if full:
            line += (' sriov_options { qos: %d vlan_proto: "%s" spoofchk: %s trust: %s'
                     ' link_state: "%s" min_tx_rate: %d max_tx_rate: %d }' %
                     (s["qos"], s["proto"], str(s["spoofchk"]).lower(),
                      str(s["trust"]).lower(), s["link_state"], s["min_tx"], s["max_tx"]))
        out.append(line + " }")
    out += ["  }", "}"]
    if not bare:
        out += ["apps {",
                '  uuidandversion { uuid: "5e000001-0000-4000-8000-000000000001" version: "1" }',
                '  displayname: "nsim-app"',
                '  adapters { type: PhyIoNetEthVF name: "nsimvf0" }', "}"]
    return "\n".join(out)


def expect(n, full):
    for i in range(n):
        s = vf(i, full)
        if full:
            print("vf %d mac %s vlan %d qos %d proto %s spoofchk %s trust %s link_state %s"
                  " min_tx %d max_tx %d" %
                  (i, s["mac"], s["vlan"], s["qos"], s["proto"],
                   "on" if s["spoofchk"] else "off", "on" if s["trust"] else "off",
                   s["link_state"], s["min_tx"], s["max_tx"]))
        else:
            print("vf %d mac %s vlan %d" % (i, s["mac"], s["vlan"]))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    n = int(argv[2])
    full = "mac-vlan" not in argv
    if argv[1] == "config":
        print(config(n, "--bare" in argv, full))
    elif argv[1] == "expect":
        expect(n, full)
    elif argv[1] == "ipbatch":
        for i in range(n):
            s = vf(i, False)
            print("link set %s vf %d mac %s vlan %d" % (argv[3], i, s["mac"], s["vlan"]))
    else:
        sys.exit(__doc__)


main(sys.argv)
