/* SPDX-License-Identifier: MIT */
/*
 * A hash set of short byte keys (copied in), each with a value: what the
 * validators use to find duplicates in linear time. Open addressing,
 * grown at half full. No I/O.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SR_SET_KEY_MAX 80

/* A slot: the key's bytes live in the set's key pool (a 104-byte slot
 * with the key inline made the validators' and the reserver's sets 0.8 MiB
 * each at 4096 entries). */
struct sr_set_entry {
	uint64_t hash;                 /* 0 = empty slot */
	size_t value;
	uint32_t key_off;              /* in keys */
	uint8_t len;
};

struct sr_set {
	struct sr_set_entry *slots;
	size_t cap;                    /* power of two */
	size_t n;
	uint8_t *keys;                 /* the keys, one after the other */
	size_t keys_len, keys_cap;
};

/* Room for about expect keys without growing. 0 or -ENOMEM. */
int sr_set_init(struct sr_set *s, size_t expect);
void sr_set_free(struct sr_set *s);

/* Add key (len <= SR_SET_KEY_MAX) with value. Returns 0 when added, 1 when
 * the key was there already (*old = its value, nothing changed), -ENOMEM
 * or -E2BIG (key too long). */
int sr_set_add(struct sr_set *s, const void *key, size_t len, size_t value, size_t *old);

/* 1 and *value when key is in the set, else 0. */
int sr_set_find(const struct sr_set *s, const void *key, size_t len, size_t *value);
