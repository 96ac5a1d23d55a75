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
	memset(s, 0, sizeof(*s));
	s->slots = calloc(cap, sizeof(*s->slots));
	if (!s->slots)
		return -ENOMEM;
	s->cap = cap;
	return 0;
}

void sr_set_free(struct sr_set *s)
{
	free(s->slots);
	free(s->keys);
	memset(s, 0, sizeof(*s));
}

static struct sr_set_entry *slot(const struct sr_set *s, uint64_t h, const void *key,
				 size_t len)
{
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		struct sr_set_entry *e = &s->slots[i];

		if (!e->hash || (e->hash == h && e->len == len &&
				 (!len || !memcmp(s->keys + e->key_off, key, len))))
			return e;
	}
}

static int grow(struct sr_set *s)
{
	struct sr_set_entry *bigger = calloc(s->cap * 2, sizeof(*bigger));
	size_t cap = s->cap * 2;

	if (!bigger)
		return -ENOMEM;
	/* Keys stay in the pool: only the slots move. */
	for (size_t i = 0; i < s->cap; i++) {
		size_t j = s->slots[i].hash & (cap - 1);

		if (!s->slots[i].hash)
			continue;
		while (bigger[j].hash)
			j = (j + 1) & (cap - 1);
		bigger[j] = s->slots[i];
	}
	free(s->slots);
	s->slots = bigger;
	s->cap = cap;
	return 0;
}

/* key appended to the pool; its offset in *off. */
static int keep_key(struct sr_set *s, const void *key, size_t len, uint32_t *off)
{
	*off = (uint32_t)s->keys_len;
	if (!len)
		return 0;
	if (s->keys_len + len > s->keys_cap) {
		size_t cap = s->keys_cap ? s->keys_cap * 2 : 1024;
		uint8_t *k;

		while (cap < s->keys_len + len)
			cap *= 2;
		if (cap > UINT32_MAX || !(k = realloc(s->keys, cap)))
			return -ENOMEM;
		s->keys = k;
		s->keys_cap = cap;
	}
	memcpy(s->keys + s->keys_len, key, len);
	s->keys_len += len;
	return 0;
}

int sr_set_add(struct sr_set *s, const void *key, size_t len, size_t value, size_t *old)
{
	uint64_t h = hash_key(key, len);
	struct sr_set_entry *e;
	uint32_t off;
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
	if ((r = keep_key(s, key, len, &off)))
		return r;
	e->hash = h;
	e->value = value;
	e->len = (uint8_t)len;
	e->key_off = off;
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
