# SPDX-License-Identifier: MIT
# What a text EdgeDevConfig (test/vm/configs/packets.txtpb) asks for each VF,
# one line per VF: "N app NAME: mac M vlan V qos Q [802.1ad]" for an adapter
# named "igbvf<N>", "N free, vflist.data: ..." for a vflist.data entry.
# Used by scripts/demo.sh to put the config next to the wire.
# usage: awk -f config-vfs.awk CONFIG.txtpb | sort -n
function field(line, re) { return match(line, re) ? substr(line, RSTART, RLENGTH) : "" }
function value(line, key, re,   v) { v = field(line, key re); sub(key, "", v); gsub(/"/, "", v); return v }
function asked(line,   out, v) {
	out = ""
	if ((v = value(line, "mac: ", "\"[0-9a-f:]+\"")) != "") out = out " mac " v
	if ((v = value(line, "vlan_id: ", "[0-9]+")) != "") out = out " vlan " v
	if ((v = value(line, "qos: ", "[0-9]+")) != "") out = out " qos " v
	if ((v = value(line, "vlan_proto: ", "\"[^\"]+\"")) != "") out = out " " v
	return out == "" ? " (nothing)" : out
}
/displayname:/ { name = value($0, "displayname: ", "\"[^\"]+\"") }
/name: "igbvf[0-9]+"/ { print value($0, "name: \"igbvf", "[0-9]+") " app " name ":" asked($0) }
/data \{ index: [0-9]+/ { print value($0, "index: ", "[0-9]+") " free, vflist.data:" asked($0) }
