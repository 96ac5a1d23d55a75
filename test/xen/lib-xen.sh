# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Helpers for scenarios that run in dom0 (test/xen/run.sh). Source after
# test/vm/lib.sh.
#
# sr_xen_start: load the dom0 drivers, mount xenfs, start xenstored and
#   xenconsoled (guest consoles logged to /var/log/xen/console/guest-NAME.log),
#   and register dom0 (xen-init-dom0). Returns non-zero with a message if
#   any step fails.
# sr_xen_guest_cfg: print the kernel/ramdisk/extra lines of the PV test
#   guest (test/xen/guest-init) for an xl.cfg.
# sr_xen_guest_log NAME: the guest's console log path.
# sr_xen_wait_gone NAME SECONDS: wait until domain NAME no longer exists.
# sr_xen_at WHAT: a "# at Ns (dom0 uptime): WHAT" note, for the timings.

sr_xen_bin=/usr/lib/xen-4.17/bin

sr_xen_start() {
	local m t0
	t0=$(cut -d' ' -f1 /proc/uptime)
	for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs xen-pciback; do
		modprobe "$m" || { echo "modprobe $m failed"; return 1; }
	done
	mountpoint -q /proc/xen || mount -t xenfs xenfs /proc/xen || { echo "mount xenfs failed"; return 1; }
	mkdir -p /var/lib/xen /var/log/xen/console /var/run/xen /var/run/xenstored
	"$sr_xen_bin/xenstored" --pid-file /var/run/xenstored.pid || { echo "xenstored failed"; return 1; }
	"$sr_xen_bin/xenconsoled" --pid-file=/var/run/xenconsoled.pid --log=guest \
		--log-dir=/var/log/xen/console || { echo "xenconsoled failed"; return 1; }
	"$sr_xen_bin/xen-init-dom0" >/dev/null || { echo "xen-init-dom0 failed"; return 1; }
	sr_note "toolstack up in $(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { print b - a }')s"
}

sr_xen_guest_cfg() {
	printf 'kernel = "%s"\nramdisk = "%s"\nextra = "console=hvc0 quiet"\n' \
		"$SR_XEN_CACHE/xen-guest.vmlinux" "$SR_XEN_CACHE/xen-guest.gz"
}

sr_xen_guest_log() {
	echo "/var/log/xen/console/guest-$1.log"
}

sr_xen_wait_gone() {
	local i=0
	while xl domid "$1" >/dev/null 2>&1; do
		[ $i -lt $(($2 * 2)) ] || return 1
		sleep 0.5
		i=$((i + 1))
	done
}

sr_xen_at() {
	sr_note "at $(cut -d' ' -f1 /proc/uptime)s: $*"
}
