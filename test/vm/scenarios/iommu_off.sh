#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_iommu_off: booted with intel_iommu=off (sr_vm_test(... intel_iommu=off)).
#   1. `sriov-agent apply --hypervisor kvm` fails with the IOMMU-off error,
#      exits non-zero and changes nothing: sriov_numvfs, autoprobe, no state.
#      `sriovctl pfs` says the IOMMU is off.
#      `--hypervisor xen` is refused too: this node is not a Xen dom0.
#   2. Without passthrough (--hypervisor none) the VFs are made, but they
#      have no IOMMU group, and `sriovctl domain-config` refuses a KVM config
#      for them.
#   3. The same refusal one level down, on a fake sysfs (test/fake-sysfs)
#      where one VF of an IOMMU-enabled node has no iommu_group link: the
#      agent does not bind it to vfio-pci, writes no domain config for its
#      app, and sriovctl refuses it; the other app is passed through.
# Run with: test/vm/run.sh test/vm/scenarios/iommu_off.sh intel_iommu=off
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"

alpha=a1fa0001-3c4d-4e5f-8a6b-7c8d9e0f1a01
beta=be7a0002-3c4d-4e5f-8a6b-7c8d9e0f1a02
state=$SR_VM_WORKDIR/state
cfg=$(sr_encode passthrough)
sr_check "config encodes with protoc" test -s "$cfg"
sr_note "cmdline: $(cat /proc/cmdline)"
sr_check_match "booted with intel_iommu=off" '(^| )intel_iommu=off( |$)' "$(cat /proc/cmdline)"
sr_check_eq "no IOMMU groups" 0 "$(find /sys/kernel/iommu_groups -mindepth 1 -maxdepth 1 | wc -l)"

# ---- 1. Passthrough refused, nothing changed ----
pfs=$("$sr_ctl" pfs --json)
sr_note "sriovctl pfs:"
"$sr_ctl" pfs | sed 's/^/#   /'
sr_check_eq "sriovctl pfs --json: \"iommu\": false" false "$(sr_jq '.iommu' "$pfs")"
sr_check_eq "sriovctl pfs --json: the igb PF, 0 of 7 VFs" "$pfaddr 7 0" \
	"$(sr_jq '.pfs[] | "\(.pci) \(.totalvfs) \(.numvfs)"' "$pfs")"
sr_check_match "sriovctl pfs (text) says passthrough is refused" \
	'no IOMMU groups: VF passthrough is refused' "$("$sr_ctl" pfs)"
numvfs_before=$(cat "$dev/sriov_numvfs")
autoprobe_before=$(cat "$dev/sriov_drivers_autoprobe")
sr_apply_fails "apply --hypervisor kvm fails" --config "$cfg" --state-dir "$state" --hypervisor kvm
sr_check_eq "exit status 1" 1 "$sr_rc"
sr_check_match "the error says the IOMMU is off and what to do" \
	'passthrough to vfio-pci asked but the IOMMU is off .*boot with intel_iommu=on' "$sr_log"
sr_check_eq "sriov_numvfs unchanged ($numvfs_before)" "$numvfs_before" "$(cat "$dev/sriov_numvfs")"
sr_check_eq "sriov_drivers_autoprobe unchanged ($autoprobe_before)" "$autoprobe_before" \
	"$(cat "$dev/sriov_drivers_autoprobe")"
sr_check_eq "no state file" absent "$([ -e "$state/state.pb" ] && echo present || echo absent)"
sr_check_eq "no domain config" "" "$(ls "$state/domains" 2>/dev/null)"
sr_check_fails "sriovctl domain-config alpha: not in any applied config" \
	"$sr_ctl" --state-dir "$state" domain-config "$alpha"
# Not a Xen dom0 at all: --hypervisor xen is refused the same way.
sr_check_eq "sriovctl pfs --json: \"xen\": null (not on Xen)" null "$(sr_jq '.xen' "$pfs")"
sr_apply_fails "apply --hypervisor xen fails on a node that is not a Xen dom0" \
	--config "$cfg" --state-dir "$state" --hypervisor xen
sr_check_eq "exit status 1 (xen)" 1 "$sr_rc"
sr_check_match "the error says this is not a Xen dom0" \
	'passthrough to Xen asked but this node is not a Xen dom0' "$sr_log"
sr_check_eq "xen: sriov_numvfs, autoprobe unchanged, no state file" \
	"$numvfs_before $autoprobe_before absent" \
	"$(cat "$dev/sriov_numvfs") $(cat "$dev/sriov_drivers_autoprobe") $([ -e "$state/state.pb" ] && echo present || echo absent)"

# ---- 2. VFs without IOMMU groups: no KVM config ----
sr_apply "apply --hypervisor none (no passthrough) exits 0" \
	--config "$cfg" --state-dir "$state" --hypervisor none
sr_check_eq "sriov_numvfs reads 2" 2 "$(cat "$dev/sriov_numvfs")"
sr_check_eq "the VFs have no iommu_group link" "no no" \
	"$([ -e "$dev/virtfn0/iommu_group" ] && echo yes || echo no) $([ -e "$dev/virtfn1/iommu_group" ] && echo yes || echo no)"
list=$("$sr_ctl" --state-dir "$state" list --json)
sr_check_eq "sriovctl list --json: iommu_group null for both" "null null" \
	"$(sr_jq '[.[] | "\(.iommu_group)"] | join(" ")' "$list")"
for app in "$alpha" "$beta"; do
	out=$("$sr_ctl" --state-dir "$state" domain-config "$app" 2>"$SR_VM_WORKDIR/err")
	rc=$?
	sr_note "sriovctl domain-config $app: exit $rc: $(cat "$SR_VM_WORKDIR/err")"
	sr_check_eq "KVM config for $app refused: exit 1, nothing on stdout" "1|" "$rc|$out"
	sr_check_match "the refusal names the VF and the missing IOMMU group" \
		"VF [01] of PF $pfaddr \(0000:01:10\.[02]\) has no IOMMU group" "$(cat "$SR_VM_WORKDIR/err")"
done

# ---- 3. Fake sysfs: one VF without an IOMMU group ----
fake=$SR_BUILD_DIR/test/fake-sysfs
root=$SR_VM_WORKDIR/fake
fstate=$SR_VM_WORKDIR/fake-state
if [ ! -x "$fake" ]; then
	sr_not_ok "$fake is built"
	sr_done
fi
sr_check "fake sysfs: igb PF at $pfaddr with IOMMU groups" "$fake" create "$root" \
	--pf "pci=$pfaddr,ifname=eth0,driver=igb,totalvfs=7,offset=128,stride=2,vfdriver=igbvf" --iommu
"$fake" run "$root" &
fake_pid=$!
for _ in $(seq 100); do
	[ -e "$root/.fake-driver.pid" ] && break
	sleep 0.05
done
sr_check "fake PF driver running" test -e "$root/.fake-driver.pid"
sr_apply "fake: apply --hypervisor none (makes the VFs) exits 0" \
	--config "$cfg" --sysfs-root "$root" --state-dir "$fstate" --no-netlink --hypervisor none
vf1=$root/sys/bus/pci/devices/0000:01:10.2
sr_check "fake: VF 1 (alpha's) is in an IOMMU group" test -L "$vf1/iommu_group"
rm -f "$vf1/iommu_group"
sr_run_agent --config "$cfg" --sysfs-root "$root" --state-dir "$fstate" --no-netlink --hypervisor kvm
sr_check_eq "fake: apply --hypervisor kvm, VF 1 without iommu_group, exits 3 (applied, one app without its VF)" \
	3 "$sr_rc"
sr_check_match "fake: the agent says 1 app could not be given its VF" \
	"applied, but 1 app\\(s\\) could not be given their VF" "$sr_log"
sr_check_match "fake: the agent warns that VF 1 has no IOMMU group" \
	"warning: PF $pfaddr VF 1 app $alpha: VF 0000:01:10.2 has no IOMMU group" "$sr_log"
sr_check_eq "fake: VF 1 left on igbvf, no driver_override write" "igbvf|0" \
	"$(basename "$(readlink "$vf1/driver")")|$(printf '%s\n' "$sr_log" | grep -c '0000:01:10.2/driver_override')"
sr_check_eq "fake: VF 0 (beta's) bound to vfio-pci" vfio-pci \
	"$(basename "$(readlink "$root/sys/bus/pci/devices/0000:01:10.0/driver")")"
sr_check_eq "fake: a domain config for beta only" "$beta.kvm.cfg" "$(ls "$fstate/domains")"
list=$("$sr_ctl" --sysfs-root "$root" --state-dir "$fstate" list --json)
sr_check_match "fake: sriovctl list --json reports the error on alpha's VF" "no IOMMU group" \
	"$(sr_jq ".[] | select(.app == \"$alpha\") | .error" "$list")"
for hv in kvm xen; do
	out=$("$sr_ctl" --sysfs-root "$root" --state-dir "$fstate" --hypervisor $hv domain-config "$alpha" \
		2>"$SR_VM_WORKDIR/err")
	rc=$?
	sr_note "fake: sriovctl --hypervisor $hv domain-config alpha: exit $rc: $(cat "$SR_VM_WORKDIR/err")"
	sr_check_eq "fake: $hv config for alpha refused: exit 1, nothing on stdout" "1|" "$rc|$out"
done
sr_check_match "fake: sriovctl domain-config beta emits its VF" 'host = "0000:01:10\.0"' \
	"$("$sr_ctl" --sysfs-root "$root" --state-dir "$fstate" domain-config "$beta")"
kill "$fake_pid" 2>/dev/null
wait "$fake_pid" 2>/dev/null

sr_done
