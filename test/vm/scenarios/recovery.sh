#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vm_recovery (issue 13): recovery after a crash in the release phase never
# waits on a VF the killed apply already gave back. Giving a VF back to the
# driver it had before the bind leaves driver_override naming that driver
# (igbvf); unbinding such a VF again cannot work (the override brings igbvf
# straight back) and used to wait the whole bind timeout (10 s) per VF,
# "still bound to igbvf after unbind".
#   1. Two apps' VFs on vfio-pci with igbvf as their original driver (the
#      second round of vm_passthrough: VFs that were on igbvf before).
#   2. The release config, the agent SIGKILLed (SR_FAULT, agent/daemon/fault.c)
#      after its 2nd release: both VFs on igbvf with driver_override igbvf,
#      the state still names them.
#   3. The release again: it says both were given back already, waits on
#      neither, and ends well under one timeout; VFs, override, state,
#      domain dir and sriovctl agree.
#   4. The same killed after the 1st release: recovery skips the given-back
#      VF and releases the other for real.
#   5. Step 2 again, then the PF's autoprobe turned on before recovery (the
#      state where an unbind of a given-back VF waited the timeout).
# Without the fix (lib/run/exec.c vf_left_driver) rounds 1 and 2 unbind the
# given-back VFs from igbvf again and round 3 waits 2 x 10 s.
# Configs: test/vm/configs/passthrough.txtpb and passthrough_release.txtpb.
# Run with: test/vm/run.sh test/vm/scenarios/recovery.sh
. "$SR_SOURCE_DIR/test/vm/lib.sh"
. "$SR_SOURCE_DIR/test/vm/scenarios/lib-agent.sh"

sr_passthrough_configs
# Both VFs given back would wait 2 x 10 s without the fix; a release of
# one VF for real takes well under a second here (TCG).
bound_ms=8000

# ms since $1 (date +%s%N)
since_ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
vf_override() { cat "/sys/bus/pci/devices/$1/driver_override"; }

# ---- 1. VFs on vfio-pci, igbvf before the bind ----
sr_apply "apply passthrough (VFs created unbound) exits 0" \
	--config "$cfg" --state-dir "$state" --hypervisor kvm
sr_apply "release (VFs to igbvf by reprobe) exits 0" \
	--config "$cfg_release" --state-dir "$state" --hypervisor kvm
a0=$(sr_virtfn 0) a1=$(sr_virtfn 1)
sr_check_eq "both VFs on igbvf" "igbvf igbvf" "$(sr_vf_driver "$a0") $(sr_vf_driver "$a1")"

# bind_both WHAT: apply passthrough; both VFs on vfio-pci, igbvf recorded.
bind_both() {
	local st
	sr_apply "$1: apply passthrough (VFs on igbvf) exits 0" \
		--config "$cfg" --state-dir "$state" --hypervisor kvm
	sr_check_eq "$1: both VFs on vfio-pci" "vfio-pci vfio-pci" \
		"$(sr_vf_driver "$a0") $(sr_vf_driver "$a1")"
	st=$(protoc --proto_path="$SR_SOURCE_DIR/proto" --decode=sriov_agent.state.State \
		state.proto <"$state/state.pb")
	sr_check_eq "$1: state.pb records igbvf as both VFs' driver before the bind" 2 \
		"$(printf '%s\n' "$st" | grep -c 'original_driver: "igbvf"')"
}

# crash_release WHAT N: the release apply, killed after its Nth release.
crash_release() {
	SR_FAULT=after-release:$2 sr_run_agent --config "$cfg_release" --state-dir "$state" \
		--hypervisor kvm
	sr_check_eq "$1: the agent killed itself after release $2 (SIGKILL, 137)" 137 "$sr_rc"
	sr_check_eq "$1: the state still names both apps' VFs" "$alpha $beta" \
		"$(sr_jq '[.[] | select(.app != null) | .app] | sort | join(" ")' \
			"$("$sr_ctl" --state-dir "$state" list --json)")"
}

# recover WHAT SKIPPED UNBINDS: the release again, timed; SKIPPED VFs given
# back before the crash; UNBINDS writes to igbvf's unbind expected (0: the
# VFs still on vfio-pci leave it through vfio-pci's unbind).
recover() {
	local t0 ms list skipped
	t0=$(date +%s%N)
	sr_run_agent --config "$cfg_release" --state-dir "$state" --hypervisor kvm
	ms=$(since_ms "$t0")
	sr_note "$1: recovery apply took $ms ms (bound $bound_ms ms; one bind timeout is 10000 ms)"
	sr_check_eq "$1: recovery apply exits 0" 0 "$sr_rc"
	sr_check "$1: recovery apply within $bound_ms ms ($ms ms)" test "$ms" -lt "$bound_ms"
	sr_check "$1: no 'still bound ... after unbind' wait" \
		sh -c "! printf '%s\n' \"\$1\" | grep -q 'still bound'" _ "$sr_log"
	skipped=$(printf '%s\n' "$sr_log" | grep -c 'already off vfio-pci (on igbvf): no unbind')
	sr_check_eq "$1: $2 VF(s) named as given back already" "$2" "$skipped"
	sr_check_eq "$1: igbvf unbound $(($3)) time(s): only VFs still on vfio-pci were unbound" \
		"$(($3))" "$(printf '%s\n' "$sr_log" | grep -c 'drivers/igbvf/unbind')"
	sr_check_eq "$1: both VFs on igbvf" "igbvf igbvf" "$(sr_vf_driver "$a0") $(sr_vf_driver "$a1")"
	sr_check_eq "$1: the domain configs are removed" "" "$(ls "$domains")"
	list=$("$sr_ctl" --state-dir "$state" --sysfs-root / list --json)
	sr_check_eq "$1: sriovctl list: no app, igbvf on both, no error" \
		"igbvf/null/null igbvf/null/null" \
		"$(sr_jq '[.[] | "\(.driver)/\(.app)/\(.error)"] | join(" ")' "$list")"
	sr_apply "$1: the release once more exits 0" \
		--config "$cfg_release" --state-dir "$state" --hypervisor kvm
	sr_check_eq "$1: ... with zero kernel writes (the state is consistent)" \
		"0 action(s), 0 sysfs and 0 netlink writes" "$(sr_applied)"
}

# ---- 2, 3. Killed after both releases ----
bind_both "round 1"
crash_release "round 1" 2
sr_check_eq "round 1: both VFs given back to igbvf before the kill" "igbvf igbvf" \
	"$(sr_vf_driver "$a0") $(sr_vf_driver "$a1")"
sr_check_eq "round 1: driver_override names igbvf on both (what made recovery wait)" \
	"igbvf igbvf" "$(vf_override "$a0") $(vf_override "$a1")"
recover "round 1" 2 0

# ---- 4. Killed after the first release ----
bind_both "round 2"
crash_release "round 2" 1
sr_check_eq "round 2: one VF on igbvf, the other still on vfio-pci" "igbvf vfio-pci" \
	"$(printf '%s\n' "$(sr_vf_driver "$a0")" "$(sr_vf_driver "$a1")" | sort | tr '\n' ' ' | sed 's/ $//')"
recover "round 2" 1 0

# ---- 5. The same, found with the PF's autoprobe on ----
# The agent turns autoprobe off for passthrough and back off after each
# reprobe, so rounds 1 and 2 meet it off: unbinding a given-back VF then
# leaves it driverless for a moment (nothing probes it) and costs no wait.
# With autoprobe on (a kill inside the release's reprobe window of a VF
# created unbound, which turns it on for that VF, or an admin) igbvf
# probes the VF again at once, and the unbind waited the whole timeout for
# it to leave igbvf: "still bound to igbvf after unbind", 10 s per VF.
bind_both "round 3"
crash_release "round 3" 2
sr_write "$dev/sriov_drivers_autoprobe" 1 >/dev/null
sr_check_eq "round 3: PF autoprobe on, driver_override igbvf on both" "1 igbvf igbvf" \
	"$(cat "$dev/sriov_drivers_autoprobe") $(vf_override "$a0") $(vf_override "$a1")"
recover "round 3" 2 0

sr_done
