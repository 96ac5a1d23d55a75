#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build sriov-agent_<version>_amd64.deb: a Release tree with prefix /usr and
# Debian's build flags (dpkg-buildflags: hardening), the libraries linked
# shared (Debian policy 4.13: no static copies), `cpack -G DEB` (CPack:
# the package holds what `cmake --install` lays out; Depends from
# dpkg-shlibdeps), then lintian, which must report no error.
#   scripts/package.sh [OUTDIR]     default build/package; prints the .deb's path last
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/build/package}" && cd "${1:-$src/build/package}" && pwd)
tree=$out/tree
jobs=$(($(nproc) < 2 ? $(nproc) : 2))

log() { printf 'package: %s\n' "$*" >&2; }

CFLAGS=$(dpkg-buildflags --get CFLAGS) CPPFLAGS=$(dpkg-buildflags --get CPPFLAGS) \
	LDFLAGS=$(dpkg-buildflags --get LDFLAGS) \
	cmake -S "$src" -B "$tree" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
	-DBUILD_TESTING=OFF -DSR_SYSTEMD=ON -DSR_STATIC_DEPS=OFF \
	-DCMAKE_C_FLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
	-DCMAKE_EXE_LINKER_FLAGS="$(dpkg-buildflags --get LDFLAGS)" >"$out/cmake.log"
cmake --build "$tree" -j"$jobs" >"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; exit 1; }
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:[A-Z]*=//p' "$tree/CMakeCache.txt")
clver=$(sed -n '1s/^sriov-agent (\([^)]*\)).*/\1/p' "$src/dist/changelog")
[ "$clver" = "$version" ] || { log "dist/changelog is at $clver, the project at $version"; exit 1; }
rm -f "$out"/sriov-agent_*.deb
(cd "$tree" && cpack -G DEB -B "$out" >"$out/cpack.log" 2>&1) || { cat "$out/cpack.log"; exit 1; }
deb=$out/sriov-agent_${version}_$(dpkg --print-architecture).deb
[ -f "$deb" ] || { log "cpack made no $deb"; ls "$out" >&2; exit 1; }
log "$(dpkg-deb -f "$deb" Package Version Depends | tr '\n' ' ')"
# lintian: errors fail the build; warnings are printed.
lintian --fail-on error --tag-display-limit 0 "$deb" | tee "$out/lintian.log" >&2
log "lintian: $(grep -c '^E:' "$out/lintian.log" || true) error(s), $(grep -c '^W:' "$out/lintian.log" || true) warning(s)"
echo "$deb"
