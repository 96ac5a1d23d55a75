/* SPDX-License-Identifier: MIT */
/*
 * Managed PFs that are down (pfdown.h): one warning when a PF goes down,
 * one line when it is up again, the set for status.
 */
#include "pfdown.h"

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const struct pf_down *find(const struct pf_down_set *s, const char *pci)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].pci, pci))
			return &s->e[i];
	return NULL;
}

/* 1 down, 0 up, -1 not known (no netdev, an unreadable flags file). */
static int is_down(const struct sr_sysfs *sys, const struct sr_pf *pf)
{
	uint32_t flags;

	if (!pf->ifname[0] || sr_sysfs_read_netdev_flags(sys, pf->ifname, &flags))
		return -1;
	return !(flags & IFF_UP);
}

void pf_down_update(struct pf_down_set *s, const struct sr_sysfs *sys, const struct sr_state *st,
		    unsigned long interval_s)
{
	struct pf_down *next = st->n_pfs ? calloc(st->n_pfs, sizeof(*next)) : NULL;
	size_t n = 0;

	if (st->n_pfs && !next) {
		log_warn("PF link states: %s", strerror(ENOMEM));
		return;
	}
	for (size_t i = 0; i < st->n_pfs; i++) {
		const struct sr_pf *pf = &st->pfs[i];
		bool was = find(s, pf->pci) != NULL;
		int down = is_down(sys, pf);

		if (down < 0)
			down = was;
		if (down && !was)
			log_warn("PF %s (%s) is down: the kernel notifies no VF setting change made through it while it is down; such a change is found by the reconcile every %lus",
				 pf->ifname, pf->pci, interval_s);
		else if (!down && was)
			log_info("PF %s (%s) is up again: VF setting changes on it are notified again",
				 pf->ifname, pf->pci);
		if (!down)
			continue;
		snprintf(next[n].pci, sizeof(next[n].pci), "%s", pf->pci);
		snprintf(next[n].ifname, sizeof(next[n].ifname), "%s", pf->ifname);
		n++;
	}
	free(s->e);
	s->e = next;
	s->n = n;
}

size_t pf_down_describe(const struct pf_down_set *s, char *buf, size_t cap)
{
	size_t o = 0;

	if (cap)
		buf[0] = '\0';
	for (size_t i = 0; i < s->n && o < cap; i++) {
		int w = snprintf(buf + o, cap - o, "%s%s (%s)", i ? ", " : "", s->e[i].ifname,
				 s->e[i].pci);

		if (w < 0)
			break;
		o += (size_t)w;
	}
	return s->n;
}

void pf_down_free(struct pf_down_set *s)
{
	free(s->e);
	s->e = NULL;
	s->n = 0;
}
