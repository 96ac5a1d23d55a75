#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `cmake --install` of a prefix-/usr tree into a DESTDIR yields exactly the
# file list in docs/install.md ("Files (prefix /usr)"); a trailing / is an
# empty directory.
# Usage: install_layout.sh TREE SOURCE_DIR   (TREE: scripts/package.sh's tree)
set -uo pipefail
tree=${1:?tree} src=${2:?source dir}
T=$(mktemp -d /tmp/sr-layout-XXXXXX)
trap 'rm -rf "$T"' EXIT

prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:[A-Z]*=//p' "$tree/CMakeCache.txt")
[ "$prefix" = /usr ] || { echo "not ok - $tree has prefix '$prefix', not /usr"; exit 1; }
DESTDIR=$T/root cmake --install "$tree" >"$T/install.log" || { cat "$T/install.log"; exit 1; }
(cd "$T/root" && find . \( ! -type d -o -type d -empty \) -printf '%y %p\n' | sort -k2) |
	awk '{ p = substr($2, 2); if ($1 == "d") p = p "/"; print p }' >"$T/installed"
awk '/^## Files \(prefix \/usr\)/ { sec = 1 } sec && /^```text/ { on = 1; next } on && /^```/ { exit } on' \
	"$src/docs/install.md" | sort >"$T/documented"
[ -s "$T/documented" ] || { echo "not ok - no file list in docs/install.md"; exit 1; }
if diff -u "$T/documented" "$T/installed"; then
	echo "ok - cmake --install (prefix /usr) = docs/install.md: $(wc -l <"$T/installed") entries"
else
	echo "not ok - installed files differ from docs/install.md (- documented, + installed)"
	exit 1
fi
# The .deb holds the same list (CPack installs the same way).
deb=$(ls "$tree"/../sriov-agent_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "not ok - no sriov-agent_*.deb next to $tree (scripts/package.sh makes it)"; exit 1; }
if [ -n "$deb" ]; then
	dpkg-deb -c "$deb" | awk '{ print $1, $6 }' | while read -r mode p; do
		p=${p#.}
		case $mode in d*) ;; *) echo "$p" ;; esac
	done | sort >"$T/deb"
	grep -v '/$' "$T/documented" >"$T/documented.files"
	if diff -u "$T/documented.files" "$T/deb"; then
		echo "ok - $(basename "$deb") holds the same files"
	else
		echo "not ok - $(basename "$deb") differs from docs/install.md"
		exit 1
	fi
	# Debian policy 4.13: no static copies of shared libraries. The
	# binaries link the libraries shared and Depends names their packages
	# (dpkg-shlibdeps).
	dpkg-deb -x "$deb" "$T/deb-root"
	depends=$(dpkg-deb -f "$deb" Depends)
	for pair in libnl-3.so.200:libnl-3-200 libnl-route-3.so.200:libnl-route-3-200 \
		libprotobuf-c.so.1:libprotobuf-c1 libuuid.so.1:libuuid1; do
		lib=${pair%%:*} pkg=${pair#*:}
		if ! readelf -d "$T/deb-root/usr/sbin/sriov-agent" | grep -q "NEEDED.*\[$lib\]"; then
			echo "not ok - /usr/sbin/sriov-agent in the .deb does not link $lib shared"
			exit 1
		fi
		case ", $depends," in
		*", $pkg "* | *", $pkg,"*) ;;
		*) echo "not ok - Depends ($depends) does not name $pkg"; exit 1 ;;
		esac
	done
	echo "ok - the .deb's sriov-agent links libnl-3, libnl-route-3, protobuf-c, libuuid shared; Depends: $depends"
fi
