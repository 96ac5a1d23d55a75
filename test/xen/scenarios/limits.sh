#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_xen_limits (issue 13): the Xen limits the apply checks before its first
# kernel write, on a real Xen 4.17 dom0. From the state vm_xen starts with
# (two PV apps, their VFs on pciback), a config that gives pvmac's VF to an
# app "big" asking what the xl.cfg emitter refuses exits 1 with the named
# message and changes nothing: sriov_numvfs, autoprobe, each VF's driver,
# driver_override and settings (ip link), xl pci-assignable-list, the state
# dir and the domain dir are byte for byte as before.
#   - fixedresources.vcpus 129 (allowed 0..128 with xen)
#   - fixedresources.virtualizationMode Filler (allowed PV, HVM or FML)
# Then xl itself, the consumer of the xl.cfg, with paused test guests: PV
# takes 129 vCPUs (the limit is stricter than Xen for PV), HVM is made with
# 1 and 128 and refused with 129 (Xen's HVM_MAX_VCPUS), and guest type
# "filler" is refused.
# Run with: test/xen/run.sh test/xen/scenarios/limits.sh
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/xen/lib-xen.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"
sr_configs=$SR_SOURCE_DIR/test/xen/configs

state=$SR_VM_WORKDIR/state
domains=$state/domains

sr_check "toolstack starts (xenstored, xenconsoled, xen-init-dom0)" sr_xen_start
cfg=$(sr_encode xen) && bad_vcpus=$(sr_encode xen_bad_vcpus) && bad_mode=$(sr_encode xen_bad_mode)
sr_check "configs encode with protoc" test -s "$cfg" -a -s "$bad_vcpus" -a -s "$bad_mode"

# Everything of the node and the agent a refused apply must leave alone.
snapshot() {
	local v
	echo "numvfs $(cat "$dev/sriov_numvfs") autoprobe $(cat "$dev/sriov_drivers_autoprobe")"
	for v in "$dev"/virtfn*; do
		v=$(basename "$(readlink "$v")")
		echo "$v driver=$(sr_vf_driver "$v") override=$(cat "/sys/bus/pci/devices/$v/driver_override")"
	done
	ip link show "$pf" | grep ' vf '
	echo "assignable: $(xl pci-assignable-list 2>&1 | tr -s ' \t\n' ' ')"
	(cd "$state" && find . -type f | sort | xargs sha256sum)
	ls -la --time-style=+%s.%N "$state" "$domains" | grep -v ' \.\.$'
}

sr_apply "apply xen.txtpb --hypervisor xen exits 0 (two PV apps on pciback)" \
	--config "$cfg" --state-dir "$state" --hypervisor xen
before=$(snapshot)
sr_note "before:"
printf '%s\n' "$before" | sed 's/^/#   /'
sr_check_eq "both VFs on pciback before" 2 "$(printf '%s\n' "$before" | grep -c 'driver=pciback')"

# refused WHAT CONFIG MESSAGE
refused() {
	local after
	sr_apply_fails "$1: apply exits non-zero" --config "$2" --state-dir "$state" --hypervisor xen
	sr_check_eq "$1: exit status 1 (rejected)" 1 "$sr_rc"
	sr_check_match "$1: the message names app, field, value and the allowed range" "$3" "$sr_log"
	sr_check "$1: no kernel write logged" sh -c "! printf '%s\n' \"\$1\" | grep -q 'exec:'" _ "$sr_log"
	after=$(snapshot)
	sr_check_eq "$1: numvfs, drivers, overrides, VF settings, pciback list, state and domain dir unchanged" \
		"$before" "$after"
	[ "$before" = "$after" ] || diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed 's/^/#   /'
}
refused "vcpus 129" "$bad_vcpus" \
	'apps\[0\] \(e1e10003-3c4d-4e5f-8a6b-7c8d9e0f1a14\): fixedresources\.vcpus 129: allowed 0\.\.128 with xen'
refused "virtualizationMode Filler" "$bad_mode" \
	'apps\[0\] \(e1e10003-3c4d-4e5f-8a6b-7c8d9e0f1a14\): fixedresources\.virtualizationMode 2: allowed 0 \(PV\), 1 \(HVM\) or 3 \(FML\) with xen'
sr_apply "the good config again exits 0" --config "$cfg" --state-dir "$state" --hypervisor xen
sr_check_eq "... with zero kernel writes (nothing to repair)" \
	"0 action(s), 0 sysfs and 0 netlink writes" "$(sr_applied)"

# ---- What xl does with the same asks ----
# xl_try NAME LINES WHAT: xl create -p (paused: nothing boots) of the test
# guest (128 MiB, as vm_xen's) with LINES; the domain, if one was made, is
# destroyed. xl's exit status and output go to xl_out ("rc=N ...") and
# into a note.
xl_out=
xl_try() {
	local f=$SR_VM_WORKDIR/$1.cfg out rc
	{ printf 'name = "%s"\nmemory = 128\n%b\n' "$1" "$2"; sr_xen_guest_cfg; } >"$f"
	out=$(timeout 120 xl create -p "$f" 2>&1)
	rc=$?
	xl destroy "$1" >/dev/null 2>&1
	xl_out="rc=$rc $(printf '%s' "$out" | tr '\n' ' ')"
	sr_note "xl create -p, $3: $xl_out"
}
sr_xen_at "xl"
sr_note "xl info virt_caps: $(xl info | sed -n 's/^virt_caps *: //p')"
xl_try limok 'type = "pv"\nvcpus = 1' "PV, vcpus 1"
sr_check_match "xl creates the PV test guest with 1 vCPU (the control)" '^rc=0 ' "$xl_out"
xl_try limpv 'type = "pv"\nvcpus = 129\nmaxvcpus = 129' "PV, vcpus 129"
sr_check_match "xl creates a PV guest with 129 vCPUs too: 128 is Xen's HVM limit (HVM_MAX_VCPUS), stricter than needed for PV" \
	'^rc=0 ' "$xl_out"
# HVM: Xen makes the domain with 1 or 128 vCPUs (xl then stops at the
# device model, qemu-system-xen, which the test bed does not install) and
# refuses 129 when asked to make it: HVM_MAX_VCPUS, the agent's limit.
made() { ! printf '%s\n' "$1" | grep -q 'domain creation fail'; }
xl_try limhvm1 'type = "hvm"\nvcpus = 1' "HVM, vcpus 1"
sr_check "Xen makes an HVM domain with 1 vCPU (xl gets past libxl__domain_make)" made "$xl_out"
xl_try limhvm128 'type = "hvm"\nvcpus = 128\nmaxvcpus = 128' "HVM, vcpus 128"
sr_check "Xen makes an HVM domain with 128 vCPUs" made "$xl_out"
xl_try limhvm 'type = "hvm"\nvcpus = 129\nmaxvcpus = 129' "HVM, vcpus 129"
sr_check_match "Xen refuses an HVM domain with 129 vCPUs (domain creation: Invalid argument)" \
	'^rc=[1-9] .*libxl__domain_make: domain creation fail: Invalid argument' "$xl_out"
xl_try limfill 'type = "filler"' "type filler"
sr_check_match "xl refuses guest type \"filler\": no xl.cfg type for Filler" \
	'^rc=[1-9] .*Invalid domain type filler' "$xl_out"
sr_check_eq "no test domain left" "" "$(xl list | awk 'NR > 2 { print $1 }')"
sr_done
