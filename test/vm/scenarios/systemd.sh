#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# sriov-agent.service under a real systemd (252) as PID 1, installed from the
# .deb (scripts/package.sh; ctest fixture sr_deb). Run with sr.init=systemd:
#
# setup (in /init's chroot, before systemd): dpkg -i the package (its
#   postinst enables the unit through deb-systemd-helper; no systemd runs
#   yet, so nothing is started), write /etc/sriov-agent/config.pb (3 VFs on
#   the igb PF, two apps with MAC/VLAN, KVM passthrough), order the check
#   stage after sriov-agent.service.
# check (sr-vm-scenario.service, after multi-user.target): the agent is
#   active, applied the config before this unit started (journal), VFs,
#   MAC/VLAN and vfio-pci are what the kernel reports; sriovctl works with
#   its default paths (StateDirectory, RuntimeDirectory); kill -9 -> systemd
#   restarts it and the reservations are the same; systemctl reload re-reads
#   the config (RELOADING/READY); the hardening holds (capabilities) and each
#   relaxed setting is needed (without CAP_NET_ADMIN netlink is refused,
#   with ProtectKernelTunables= sysfs is read-only); dpkg --purge stops the
#   unit and leaves nothing but the state directory. Prints the boot time.
. "$SR_SOURCE_DIR/test/vm/lib.sh"

unit=sriov-agent.service
cfgdir=/etc/sriov-agent
debdir=$SR_BUILD_DIR/package

if ! read -r pf pfaddr < <(sr_find_netdev igb); then
	sr_not_ok "igb PF found" "no interface with driver igb: $(ls /sys/class/net)"
	sr_done
fi

# write_config COUNT OUT [VLAN2]: the PF by PCI address only (under systemd,
# udev renames eth0 to enp1s0 after this setup stage); COUNT VFs; app a1 on
# VF 0 (MAC, VLAN 101), a2 on VF 2 (MAC, VLAN VLAN2, default 102).
write_config() {
	local count=$1 out=$2 vlan2=${3:-102}
	mkdir -p "$(dirname "$out")"
	cat >"$SR_VM_WORKDIR/config.txtpb" <<CFG
deviceIoList { ptype: PhyIoNetEthPF phylabel: "igb" logicallabel: "igb"
  phyaddrs { key: "pcilong" value: "$pfaddr" }
  vflist { vf_count: $count } }
apps { uuidandversion { uuid: "5d000000-0000-4000-8000-0000000000a1" version: "1" }
  displayname: "a1" fixedresources { memory: 131072 vcpus: 1 virtualizationMode: HVM }
  adapters { type: PhyIoNetEthVF name: "igb" eth_vf { mac: "02:5d:00:00:00:a1" vlan_id: 101 } } }
apps { uuidandversion { uuid: "5d000000-0000-4000-8000-0000000000a2" version: "1" }
  displayname: "a2" fixedresources { memory: 131072 vcpus: 1 virtualizationMode: HVM }
  adapters { type: PhyIoNetEthVF name: "igbvf2" eth_vf { mac: "02:5d:00:00:00:a2" vlan_id: $vlan2 } } }
CFG
	protoc --proto_path="$SR_SOURCE_DIR/proto" --encode=org.lfedge.eve.config.EdgeDevConfig \
		eveconfig.proto <"$SR_VM_WORKDIR/config.txtpb" >"$SR_VM_WORKDIR/config.pb" &&
		mv "$SR_VM_WORKDIR/config.pb" "$out"
}

setup() {
	local deb
	deb=$(ls "$debdir"/sriov-agent_*_amd64.deb 2>/dev/null | head -1)
	if [ -z "$deb" ]; then
		sr_not_ok "the .deb is built" "no $debdir/sriov-agent_*_amd64.deb (ctest package / scripts/package.sh)"
		sr_done
	fi
	# man-db's trigger (re-indexing every man page) takes half a minute under
	# TCG; it is not what is tested here.
	rm -f /var/lib/man-db/auto-update
	# The build machine's Docker-style policy-rc.d (exit 101) denies every
	# service action to deb-systemd-invoke; a node has none.
	rm -f /usr/sbin/policy-rc.d
	sr_check "dpkg -i $(basename "$deb")" dpkg -i "$deb"
	sr_note "dpkg -i done at $(cut -d' ' -f1 /proc/uptime)s"
	sr_check "postinst enabled the unit (deb-systemd-helper)" \
		test -L /etc/systemd/system/multi-user.target.wants/$unit
	sr_check_match "sriovctl --version (installed)" '^sriovctl [0-9]+\.[0-9]+\.[0-9]+$' "$(/usr/sbin/sriovctl --version)"
	sr_check_match "sriov-agent --version: built with libsystemd" 'sd_notify: libsystemd' "$(/usr/sbin/sriov-agent --version)"
	sr_check "the maintainer scripts never run update-grub" \
		sh -c '! grep -E "^[^#]*update-grub" /var/lib/dpkg/info/sriov-agent.*'
	sr_check "config written to $cfgdir/config.pb" write_config 3 "$cfgdir/config.pb"
	mkdir -p /etc/systemd/system/sr-vm-scenario.service.d
	printf '[Unit]\nAfter=%s\n' "$unit" >/etc/systemd/system/sr-vm-scenario.service.d/after-agent.conf
	sr_check "systemd-analyze verify $unit (installed)" systemd-analyze verify /lib/systemd/system/$unit
	sr_note "verify done at $(cut -d' ' -f1 /proc/uptime)s"
	sr_check "the PF has no VFs before boot" test "$(cat "/sys/bus/pci/devices/$pfaddr/sriov_numvfs")" = 0
	sr_done
}

prop() { systemctl show -p "$2" --value "$1"; }
mono_now() { awk '{ printf "%d\n", $1 * 1000000 }' /proc/uptime; }
# The reservations as "app=pci" words, sorted.
mapping() {
	sriovctl --json list | jq -r '[.[] | select(.app != null) | "\(.app)=\(.pci)"] | sort | join(" ")'
}
vf() { ip -d link show "$pf" | grep -E "^ +vf $1 "; }

check_boot() {
	local me agent_ready t_mu
	me=$(prop sr-vm-scenario.service ExecMainStartTimestampMonotonic)
	t_mu=$(prop multi-user.target ActiveEnterTimestampMonotonic)
	sr_note "boot: multi-user.target reached $((t_mu / 1000)) ms after the kernel started (TCG)"
	sr_check_eq "$unit is active" active "$(systemctl is-active $unit)"
	sr_check_eq "0 failed units" 0 "$(systemctl list-units --state=failed --no-legend | wc -l)"
	systemctl list-units --state=failed --no-legend | sed 's/^/# failed: /'
	agent_ready=$(prop $unit ActiveEnterTimestampMonotonic)
	sr_check "the agent was ready ($agent_ready us) before this unit started ($me us)" \
		test "$agent_ready" -gt 0 -a "$agent_ready" -le "$me"
	# (journald stamps a syslog line when it reads it, which under load can
	# be after systemd took the later READY=1: the order is proven by the
	# kernel's state when this unit starts, checked below.)
	sr_check "journal: the agent applied $cfgdir/config.pb at startup" \
		sh -c "journalctl -u $unit -o cat --no-pager | grep -q '^config from file applied: 2 reservation'"
	journalctl -u $unit -o cat --no-pager | head -8 | sed 's/^/# journal: /'
	sr_check_match "STATUS= is the startup result" '^applied: 2 reservation\(s\), 0 in error' "$(prop $unit StatusText)"
	sr_check_eq "at this unit's start: 3 VFs on $pf" 3 "$(cat "/sys/bus/pci/devices/$pfaddr/sriov_numvfs")"
	sr_check_match "VF 0: MAC and VLAN 101 (ip -d link)" 'link/ether 02:5d:00:00:00:a1.*vlan 101' "$(vf 0)"
	sr_check_match "VF 2: MAC and VLAN 102 (ip -d link)" 'link/ether 02:5d:00:00:00:a2.*vlan 102' "$(vf 2)"
	sr_check_eq "VF 0 bound to vfio-pci" vfio-pci "$(basename "$(readlink "/sys/bus/pci/devices/$pfaddr/virtfn0/driver")")"
	sr_check "StateDirectory: state and domain configs in /var/lib/sriov-agent" \
		test -s /var/lib/sriov-agent/state.pb -a -s /var/lib/sriov-agent/domains/5d000000-0000-4000-8000-0000000000a1.kvm.cfg
	sr_check "RuntimeDirectory: socket /run/sriov-agent/sriov-agent.sock" test -S /run/sriov-agent/sriov-agent.sock
	sr_check_eq "sriovctl status with its default paths: config in force" yes \
		"$(sriovctl --json status | jq -r .config_in_force)"
}

check_hardening() {
	local pid
	pid=$(prop $unit MainPID)
	sr_check_eq "capability bounding set: CAP_NET_ADMIN only" 0000000000001000 \
		"$(sed -n 's/^CapBnd:\t//p' "/proc/$pid/status")"
	sr_check_eq "NoNewPrivileges" 1 "$(sed -n 's/^NoNewPrivs:\t//p' "/proc/$pid/status")"
	sr_check_eq "seccomp filter on" 2 "$(sed -n 's/^Seccomp:\t//p' "/proc/$pid/status")"
	sr_note "systemd-analyze security: $(systemd-analyze security $unit --no-pager 2>/dev/null | tail -1)"
	# The kernel event monitor under RestrictAddressFamilies= and the
	# seccomp filter: a VF MAC changed behind the agent's back comes back.
	sr_check_eq "event monitor on under the unit's hardening" rtnetlink+uevent \
		"$(sriovctl --json status | jq -r .events_monitor)"
	sr_check "drift: ip link set $pf vf 0 mac 02:5d:00:00:00:99" ip link set "$pf" vf 0 mac 02:5d:00:00:00:99
	for _ in $(seq 50); do vf 0 | grep -q 'link/ether 02:5d:00:00:00:a1' && break; sleep 0.1; done
	sr_check_match "drift repaired on the event (interval 300 s)" 'link/ether 02:5d:00:00:00:a1' "$(vf 0)"
	sr_check "status: one repair or more" test "$(sriovctl --json status | jq -r .repairs)" -ge 1
}

check_restart() {
	local pid1 pid2 before after
	before=$(mapping)
	pid1=$(prop $unit MainPID)
	kill -9 "$pid1"
	for _ in $(seq 100); do
		pid2=$(prop $unit MainPID)
		[ "$pid2" != 0 ] && [ "$pid2" != "$pid1" ] && [ "$(systemctl is-active $unit)" = active ] && break
		sleep 0.2
	done
	sr_check "kill -9 $pid1: systemd restarted the agent (pid $pid2)" test "$pid2" != 0 -a "$pid2" != "$pid1"
	sr_check_eq "NRestarts=1" 1 "$(prop $unit NRestarts)"
	sr_check_eq "active again" active "$(systemctl is-active $unit)"
	after=$(mapping)
	sr_check_eq "reservations unchanged across the restart" "$before" "$after"
	sr_note "reservations: $after"
}

# The agent watches /etc/sriov-agent with inotify, so a config written there
# is applied without a reload. To see that the reload itself re-reads it,
# the new content goes in through a hard link in another directory (the
# watch does not see that) and must not be in force before the reload.
check_reload() {
	local cursor applies0 applies1 link=/var/tmp/sr-config-link.pb
	ln -f "$cfgdir/config.pb" "$link"
	write_config 3 "$SR_VM_WORKDIR/new/config.pb" 202
	cat "$SR_VM_WORKDIR/new/config.pb" >"$link"
	sleep 2
	sr_check_match "a config changed behind the watch is not applied yet (VF 2 on VLAN 102)" 'vlan 102' "$(vf 2)"
	applies0=$(sriovctl --json status | jq -r .applies)
	cursor=$(journalctl -n 0 --show-cursor --no-pager | sed -n 's/^-- cursor: //p')
	sr_check "systemctl reload $unit" systemctl reload $unit
	for _ in $(seq 50); do vf 2 | grep -q 'vlan 202' && break; sleep 0.2; done
	sr_check_match "reload: the re-read config is in the kernel (VF 2 on VLAN 202)" 'vlan 202' "$(vf 2)"
	applies1=$(sriovctl --json status | jq -r .applies)
	sr_check "reload: one more apply (applies $applies0 -> $applies1)" test "$applies1" -gt "$applies0"
	sr_check "journal: SIGHUP: applying $cfgdir/config.pb" \
		sh -c "journalctl -u $unit --after-cursor '$cursor' -o cat --no-pager | grep -q 'SIGHUP: applying $cfgdir/config.pb'"
	sr_check "journal: systemd saw the reload (Reloading/Reloaded)" \
		sh -c "journalctl -u $unit --after-cursor '$cursor' -o cat --no-pager | grep -q 'Reloaded'"
	sr_check_eq "active after the reload" active "$(systemctl is-active $unit)"
	sr_check_match "STATUS= after the reload" '^applied: 2 reservation' "$(prop $unit StatusText)"
	rm -f "$link"
}

# Each relaxed setting is needed: the agent under the unit's hardening but
# with one setting changed, on a scratch state (a config needing 4 VFs).
# (After the purge: the build tree's agent.)
check_minimum() {
	local agent=$SR_BUILD_DIR/agent/sriov-agent c4=$SR_VM_WORKDIR/c4/config.pb out
	write_config 4 "$c4"
	out=$(systemd-run --wait --pipe --quiet -p CapabilityBoundingSet=CAP_NET_ADMIN \
		-p ProtectSystem=strict -p ReadWritePaths=/run -p ProtectKernelTunables=yes \
		"$agent" apply --config "$c4" --state-dir /run/sr-min1 --hypervisor none 2>&1)
	sr_check_match "with ProtectKernelTunables=yes the sysfs writes fail (read-only /sys)" \
		'Read-only file system' "$out"
	sr_check_eq "... and the PF keeps its 3 VFs" 3 "$(cat "/sys/bus/pci/devices/$pfaddr/sriov_numvfs")"
	out=$(systemd-run --wait --pipe --quiet -p CapabilityBoundingSet= \
		-p ProtectSystem=strict -p ReadWritePaths=/run \
		"$agent" apply --config "$c4" --state-dir /run/sr-min2 --hypervisor none 2>&1)
	sr_check_match "with no capability at all the VF netlink writes are refused" \
		'Operation not permitted' "$out"
	sr_check_eq "... while the sysfs writes need none: 4 VFs now" 4 \
		"$(cat "/sys/bus/pci/devices/$pfaddr/sriov_numvfs")"
}

check_purge() {
	local files left
	files=$(dpkg -L sriov-agent | while read -r f; do [ -f "$f" ] && echo "$f"; done)
	rm -f "$cfgdir/config.pb" # the admin's file, not the package's
	sr_check "dpkg --purge sriov-agent" dpkg --purge sriov-agent
	sr_check_eq "prerm stopped the unit" inactive "$(systemctl is-active $unit)"
	sr_check "no sriov-agent process left" sh -c '! pgrep -x sriov-agent'
	left=$(for f in $files /etc/default/sriov-agent /etc/grub.d/05_sriov-agent $cfgdir /run/sriov-agent \
		/etc/systemd/system/multi-user.target.wants/$unit; do [ -e "$f" ] && echo "$f"; done)
	sr_check_eq "no package file, conffile, unit link or runtime dir left" "" "$left"
	left=$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
		-name '*sriov-agent*' 2>/dev/null)
	sr_check_eq "no deb-systemd-helper state left" "" "$left"
	sr_check "the state directory stays: /var/lib/sriov-agent/state.pb" test -s /var/lib/sriov-agent/state.pb
	sr_check_eq "dpkg knows no sriov-agent" "" "$(dpkg-query -W -f='${Status}' sriov-agent 2>/dev/null)"
}

case ${SR_VM_STAGE:-} in
setup) setup ;;
check)
	check_boot
	check_hardening
	check_restart
	check_reload
	check_purge
	check_minimum
	sr_done
	;;
*)
	sr_not_ok "SR_VM_STAGE is setup or check" "run with sr.init=systemd (got '${SR_VM_STAGE:-}')"
	sr_done
	;;
esac
