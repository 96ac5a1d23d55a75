/* SPDX-License-Identifier: MIT */
/*
 * The hash set of short byte keys the validators use (set.h).
 */
#include "set.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_key(const void *key, size_t len)
{
	/* FNV-1a, then a finalizer so the low bits mix. Never 0 (empty). */
	const uint8_t *p = key;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1;
}

int sr_set_init(struct sr_set *s, size_t expect)
{
	size_t cap = 16;

	while (cap < expect * 2 && cap < ((size_t)1 << 40))
		cap <<= 1;
	s->slots = calloc(cap, sizeof(*s->slots));
	if (!s->slots)
		return -ENOMEM;
	s->cap = cap;
	s->n = 0;
	return 0;
}

void sr_set_free(struct sr_set *s)
{
	free(s->slots);
	memset(s, 0, sizeof(*s));
}

static struct sr_set_entry *slot(const struct sr_set *s, uint64_t h, const void *key,
				 size_t len)
{
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		struct sr_set_entry *e = &s->slots[i];

		if (!e->hash || (e->hash == h && e->len == len && !memcmp(e->key, key, len)))
			return e;
	}
}

static int grow(struct sr_set *s)
{
	struct sr_set bigger = { .cap = s->cap * 2, .n = s->n };

	bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].hash)
			*slot(&bigger, s->slots[i].hash, s->slots[i].key, s->slots[i].len) =
				s->slots[i];
	free(s->slots);
	*s = bigger;
	return 0;
}

int sr_set_add(struct sr_set *s, const void *key, size_t len, size_t value, size_t *old)
{
	uint64_t h = hash_key(key, len);
	struct sr_set_entry *e;
	int r;

	if (len > SR_SET_KEY_MAX)
		return -E2BIG;
	e = slot(s, h, key, len);
	if (e->hash) {
		if (old)
			*old = e->value;
		return 1;
	}
	if ((s->n + 1) * 2 > s->cap) {
		if ((r = grow(s)))
			return r;
		e = slot(s, h, key, len);
	}
	e->hash = h;
	e->value = value;
	e->len = (uint8_t)len;
	memcpy(e->key, key, len);
	s->n++;
	return 0;
}

int sr_set_find(const struct sr_set *s, const void *key, size_t len, size_t *value)
{
	const struct sr_set_entry *e;

	if (len > SR_SET_KEY_MAX || !s->cap)
		return 0;
	e = slot(s, hash_key(key, len), key, len);
	if (!e->hash)
		return 0;
	if (value)
		*value = e->value;
	return 1;
}
