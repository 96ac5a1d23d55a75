/* SPDX-License-Identifier: MIT */
/*
 * fuzz_regress: the fuzz targets' harnesses without libFuzzer. Feeds every
 * regular file in the given directories (or the given files) to every
 * harness: the config decoder's, the state reader's and the kernel event
 * parsers'. An input that once
 * crashed one of them goes into fuzz/regress/; ctest runs this over that
 * directory and the encoded test fixtures (label unit, so also under
 * ASan+UBSan and valgrind in scripts/test.sh).
 *
 *   fuzz_regress DIR|FILE...
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "files.h"
#include "state.h"

#define INPUT_MAX (16u << 20)

int sr_fuzz_config(const uint8_t *data, size_t size);
int sr_fuzz_state(const uint8_t *data, size_t size);
int sr_fuzz_monitor(const uint8_t *data, size_t size);

static int run_file(const char *path, size_t *n)
{
	struct sr_err err = { "" };
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = sr_read_file(path, INPUT_MAX, &buf, &len, &err);
	if (r) {
		fprintf(stderr, "fuzz_regress: %s\n", err.msg);
		return r;
	}
	/* The harnesses abort on a broken contract; the sanitizers on the rest. */
	sr_fuzz_config(buf, len);
	sr_fuzz_state(buf, len);
	sr_fuzz_monitor(buf, len);
	free(buf);
	(*n)++;
	return 0;
}

static int run_dir(const char *dir, size_t *n)
{
	char path[PATH_MAX];
	struct dirent **ents;
	struct stat st;
	int count, r = 0;

	/* Sorted, so a failure names the same input every time. */
	count = scandir(dir, &ents, NULL, alphasort);
	if (count < 0) {
		fprintf(stderr, "fuzz_regress: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < count; i++) {
		const char *name = ents[i]->d_name;

		if (r == 0 && name[0] != '.' && strcmp(name, "README.md") != 0 &&
		    snprintf(path, sizeof(path), "%s/%s", dir, name) < (int)sizeof(path) &&
		    stat(path, &st) == 0 && S_ISREG(st.st_mode))
			r = run_file(path, n);
		free(ents[i]);
	}
	free(ents);
	return r;
}

int main(int argc, char **argv)
{
	struct stat st;
	size_t n = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: fuzz_regress DIR|FILE...\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "fuzz_regress: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		if ((S_ISDIR(st.st_mode) ? run_dir(argv[i], &n) : run_file(argv[i], &n)) != 0)
			return 1;
	}
	printf("fuzz_regress: %zu input(s) through the config and state decoders, no crash\n", n);
	return 0;
}
