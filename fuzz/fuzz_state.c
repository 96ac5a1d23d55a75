/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: sr_state_decode, the reader of <state-dir>/state.pb, on
 * arbitrary bytes. Besides "no crash, no leak, no UB" it checks:
 *  - on error: a negative errno, a non-empty message, *out untouched;
 *  - every input is tried as given and sealed with its checksum trailer;
 *  - on success: what was read encodes again, that encoding decodes, and
 *    decoding is stable (decode(encode(x)) encodes to the same bytes), so
 *    a state the agent accepted once it also accepts after saving it.
 * A broken promise aborts, which the fuzzer reports as a crash.
 *
 * SR_FUZZ_ENTRY renames the entry point so fuzz_regress can link both
 * targets into one program.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

#ifndef SR_FUZZ_ENTRY
#define SR_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int SR_FUZZ_ENTRY(const uint8_t *data, size_t size);

static void broken(const char *what, const struct sr_err *err)
{
	fprintf(stderr, "fuzz_state: contract broken: %s%s%s\n", what, err ? ": " : "",
		err ? err->msg : "");
	abort();
}

static void check_state(const struct sr_state *st)
{
	for (size_t i = 0; i < st->n_pfs; i++) {
		const struct sr_pf *pf = &st->pfs[i];

		if (!sr_valid_pci(pf->pci))
			broken("PF with an invalid PCI address accepted", NULL);
		if (pf->n_vfs && !pf->vfs)
			broken("PF with VFs but no array", NULL);
	}
	for (size_t i = 0; i < st->n_res; i++) {
		const struct sr_reservation *r = &st->res[i];

		if (!sr_valid_pci(r->pf_pci) || (r->vf_pci[0] && !sr_valid_pci(r->vf_pci)))
			broken("reservation with an invalid PCI address accepted", NULL);
		for (int a = 0; a < SR_ATTR__COUNT; a++)
			if (r->attr_result[a] > 0 && r->attr_result[a] != SR_ATTR_NOT_TRIED)
				broken("attribute result neither not-tried, 0 nor -errno", NULL);
	}
}

static void check_one(const uint8_t *data, size_t size)
{
	struct sr_state st, again, pristine;
	struct sr_err err = { "" };
	uint8_t *enc1 = NULL, *enc2 = NULL;
	size_t len1 = 0, len2 = 0;
	int r;

	memset(&st, 0xa5, sizeof(st));
	memcpy(&pristine, &st, sizeof(st));
	r = sr_state_decode(data, size, &st, &err);
	if (r) {
		if (r >= 0)
			broken("error code not a negative errno", &err);
		if (!err.msg[0] || !memchr(err.msg, '\0', sizeof(err.msg)))
			broken("error without a message", NULL);
		if (memcmp(&st, &pristine, sizeof(st)))
			broken("*out written on error", &err);
		return;
	}
	check_state(&st);

	if (sr_state_encode(&st, &enc1, &len1, &err))
		broken("a decoded state does not encode", &err);
	if (sr_state_decode(enc1, len1, &again, &err))
		broken("an encoded state does not decode", &err);
	if (sr_state_encode(&again, &enc2, &len2, &err))
		broken("a re-decoded state does not encode", &err);
	if (len1 != len2 || memcmp(enc1, enc2, len1))
		broken("decode(encode(state)) is not state", NULL);

	free(enc1);
	free(enc2);
	sr_state_free(&again);
	sr_state_free(&st);
}

/* The input as it is (refused unless it ends in a right checksum), then
 * sealed with its checksum so the protobuf reader behind it is fuzzed too. */
int SR_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	uint8_t *sealed = malloc(size + 5);
	uint32_t crc = sr_crc32(data, size);

	check_one(data, size);
	if (!sealed)
		return 0;
	memcpy(sealed, data, size);
	sealed[size] = (15u << 3) | 5u;
	for (int k = 0; k < 4; k++)
		sealed[size + 1 + k] = (uint8_t)(crc >> (8 * k));
	check_one(sealed, size + 5);
	free(sealed);
	return 0;
}
