/* SPDX-License-Identifier: MIT */
/*
 * state-reader DIR STOPFILE: load DIR/state.pb with sr_state_load (as
 * sriovctl does) in a tight loop while an agent rewrites it, until STOPFILE
 * exists (or 300 s, a safety net), so a slow machine only makes the run
 * longer, never shorter than the writer. Exit 1 on the
 * first load error (a torn or half-written file), else print how many
 * loads and how many distinct versions (applied_at, last reservation's app) it saw.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state.h"

int main(int argc, char **argv)
{
	struct timespec t0, t;
	unsigned long loads = 0, versions = 0;
	char last[SR_UUID_LEN + 24] = "", now[sizeof(last)];

	if (argc != 3) {
		fprintf(stderr, "usage: state-reader DIR STOPFILE\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		struct sr_state st = { 0 };
		struct sr_err err = { "" };

		if (sr_state_load(argv[1], &st, &err)) {
			fprintf(stderr, "state-reader: load %lu: %s\n", loads, err.msg);
			return 1;
		}
		loads++;
		/* A version: when it was applied and who holds the last VF. */
		snprintf(now, sizeof(now), "%lld %s", (long long)st.applied_at,
			 st.n_res ? st.res[st.n_res - 1].app_uuid : "");
		if (strcmp(now, last)) {
			versions++;
			strcpy(last, now);
		}
		sr_state_free(&st);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (access(argv[2], F_OK) && t.tv_sec - t0.tv_sec < 300);
	printf("loads=%lu versions=%lu\n", loads, versions);
	return 0;
}
