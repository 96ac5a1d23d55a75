/* SPDX-License-Identifier: MIT */
/*
 * validate-bench: how long config decoding + validation (sr_config_decode)
 * takes on one config file, no kernel involved.
 *
 *   validate-bench FILE [REPS]
 *   -> "bytes=4800000 apps=100000 adapters=100000 min_ms=... median_ms=... result=ok"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "files.h"
#include "state.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct sr_err err = { "" };
	struct sr_config c = { 0 };
	uint8_t *buf;
	size_t len, apps = 0, adapters = 0;
	int reps = argc > 2 ? atoi(argv[2]) : 5, r = 0;
	double *t;

	if (argc < 2 || reps < 1) {
		fprintf(stderr, "usage: validate-bench FILE [REPS]\n");
		return 2;
	}
	if (sr_read_file(argv[1], SR_CONFIG_MAX_BYTES + 1, &buf, &len, &err)) {
		fprintf(stderr, "validate-bench: %s\n", err.msg);
		return 1;
	}
	t = calloc((size_t)reps, sizeof(*t));
	for (int i = 0; i < reps; i++) {
		double t0 = now_ms();

		r = sr_config_decode(buf, len, &c, &err);
		t[i] = now_ms() - t0;
		if (!r) {
			apps = c.n_apps;
			adapters = c.n_adapters;
			sr_config_free(&c);
		}
	}
	qsort(t, (size_t)reps, sizeof(*t), cmp);
	printf("bytes=%zu apps=%zu adapters=%zu min_ms=%.1f median_ms=%.1f result=%s\n", len, apps,
	       adapters, t[0], t[reps / 2], r ? err.msg : "ok");
	free(t);
	free(buf);
	return 0;
}
