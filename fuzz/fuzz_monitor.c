/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the daemon's kernel event parsers (lib/kernel/monitor.c) on
 * arbitrary bytes, as an rtnetlink receive buffer (sr_mon_parse_link, with
 * a link-state table kept over the input's two passes) and as a uevent
 * datagram (sr_mon_parse_uevent), against a fixed watch set (one PF with
 * two VFs, netdev eth0). Besides "no crash, no leak, no UB" it checks:
 *  - link: every message is counted once (ours + others == seen), a first
 *    event is described exactly when one is ours;
 *  - uevent: a message that is ours has a NUL-terminated description
 *    naming a watched address.
 * A broken promise aborts, which the fuzzer reports as a crash.
 *
 * SR_FUZZ_ENTRY renames the entry point so fuzz_regress can link every
 * target into one program.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor.h"

#ifndef SR_FUZZ_ENTRY
#define SR_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int SR_FUZZ_ENTRY(const uint8_t *data, size_t size);

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_monitor: contract broken: %s\n", what);
	abort();
}

static void watch(struct sr_mon_watch *w)
{
	sr_mon_watch_init(w);
	if (sr_mon_watch_add_pci(w, "0000:01:00.0") || sr_mon_watch_add_pci(w, "0000:01:10.0") ||
	    sr_mon_watch_add_pci(w, "0000:01:10.2") || sr_mon_watch_add_ifname(w, "eth0"))
		broken("watch set");
	sr_mon_watch_seal(w);
}

int SR_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	struct sr_mon_links links = { NULL, 0, 0 };
	struct sr_mon_watch w;
	struct sr_mon_event ev;
	uint64_t *buf = malloc((size / 8 + 1) * 8); /* aligned, as the agent's buffer is */

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	watch(&w);
	for (int pass = 0; pass < 2; pass++) {
		size_t ours = 7, others = 7,
		       seen = sr_mon_parse_link(buf, size, &w, &links, &ours, &others, &ev);

		if (ours + others != seen)
			broken("link: ours + others != seen");
		if (ev.ours != (ours > 0) || (ev.ours && !memchr(ev.desc, '\0', sizeof(ev.desc))))
			broken("link: first event");
	}
	sr_mon_parse_uevent(buf, size, &w, &ev);
	if (ev.ours && (!memchr(ev.desc, '\0', sizeof(ev.desc)) || !strstr(ev.desc, "0000:01:")))
		broken("uevent: description");
	sr_mon_links_free(&links);
	sr_mon_watch_free(&w);
	free(buf);
	return 0;
}
