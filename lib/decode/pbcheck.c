/* SPDX-License-Identifier: MIT */
/*
 * Protobuf input checks protobuf-c does not make (pbcheck.h): the wire
 * pre-scan and the UTF-8 walk; the arena allocator.
 */
#include "pbcheck.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

struct scan {
	const struct sr_pb_limits *lim;
	size_t *counts;                /* parallel to lim->fields */
	size_t messages, fields;
	struct sr_err *err;
};

static int varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return -EINVAL;
		x |= (uint64_t)(**p & 0x7f) << shift;
		if (!(*(*p)++ & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EINVAL;
}

static int bad_wire(struct scan *s, size_t off)
{
	return sr_err_set(s->err, -EINVAL,
			  "config: not a valid protobuf at byte %zu (truncated or corrupt)", off);
}

static int count_field(struct scan *s, const ProtobufCMessageDescriptor *d, uint32_t id)
{
	const struct sr_pb_limits *lim = s->lim;

	if (++s->fields > lim->max_fields)
		return sr_err_set(s->err, -E2BIG,
				  "config: more than %zu protobuf fields: refused before decoding (limit of the agent)",
				  lim->max_fields);
	for (size_t i = 0; i < lim->n_fields; i++)
		if (lim->fields[i].msg == d && lim->fields[i].field == id &&
		    ++s->counts[i] > lim->fields[i].max)
			return sr_err_set(s->err, -E2BIG,
					  "config: more than %zu %s: refused before decoding (limit of the agent)",
					  lim->fields[i].max, lim->fields[i].name);
	return 0;
}

/* "PhysicalIO.PhyaddrsEntry": the name within its package. */
static const char *msg_name(const ProtobufCMessageDescriptor *d)
{
	size_t n = d->package_name ? strlen(d->package_name) : 0;

	return n && !strncmp(d->name, d->package_name, n) && d->name[n] == '.' ? d->name + n + 1
									      : d->name;
}

static int scan_msg(struct scan *s, const ProtobufCMessageDescriptor *d, const uint8_t *base,
		    const uint8_t *p, const uint8_t *end, unsigned depth)
{
	int r;

	if (depth > s->lim->max_depth)
		return sr_err_set(s->err, -E2BIG, "config: messages nested deeper than %u",
				  s->lim->max_depth);
	while (p < end) {
		const uint8_t *at = p;
		uint64_t tag, v;
		uint32_t id;
		const ProtobufCFieldDescriptor *f;

		if (varint(&p, end, &tag) || (tag >> 3) == 0 || (tag >> 3) > 0x1fffffff)
			return bad_wire(s, (size_t)(at - base));
		id = (uint32_t)(tag >> 3);
		if ((r = count_field(s, d, id)))
			return r;
		switch (tag & 7) {
		case 0:
			if (varint(&p, end, &v))
				return bad_wire(s, (size_t)(at - base));
			break;
		case 1:
			if (end - p < 8)
				return bad_wire(s, (size_t)(at - base));
			p += 8;
			break;
		case 5:
			if (end - p < 4)
				return bad_wire(s, (size_t)(at - base));
			p += 4;
			break;
		case 2:
			if (varint(&p, end, &v) || v > (uint64_t)(end - p))
				return bad_wire(s, (size_t)(at - base));
			f = d ? protobuf_c_message_descriptor_get_field(d, id) : NULL;
			/* protobuf-c hands a string back NUL-terminated: a NUL
			 * inside one would silently cut it (EVE, reading the
			 * whole string, would see another name). */
			if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, (size_t)v))
				return sr_err_set(s->err, -EILSEQ,
						  "config: %s.%s: a NUL byte inside the string (field at byte %zu): not allowed in any string",
						  msg_name(d), f->name, (size_t)(at - base));
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
				if (++s->messages > s->lim->max_messages)
					return sr_err_set(s->err, -E2BIG,
							  "config: more than %zu nested messages: refused before decoding (limit of the agent)",
							  s->lim->max_messages);
				if ((r = scan_msg(s, f->descriptor, base, p, p + v, depth + 1)))
					return r;
			}
			p += v;
			break;
		default:
			/* Groups (3, 4) are not used by any of these messages:
			 * protobuf-c skips them; count them as fields only. */
			if ((tag & 7) > 5)
				return bad_wire(s, (size_t)(at - base));
			break;
		}
	}
	return 0;
}

int sr_pb_prescan(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
		  const struct sr_pb_limits *lim, struct sr_err *err)
{
	size_t counts[16] = { 0 };
	struct scan s = { .lim = lim, .counts = counts, .err = err };

	if (lim->n_fields > sizeof(counts) / sizeof(counts[0]))
		return sr_err_set(err, -EINVAL, "config: too many limits");
	return scan_msg(&s, d, buf, buf, buf + len, 0);
}

/* ---- UTF-8 walk over a decoded message ----
 *
 * path == NULL: the fast walk, no field names built (valid input, the
 * common case). Only when it finds a bad string is the walk made again with
 * the path, for the message. */

static int check_msg(const ProtobufCMessage *m, char *path, size_t off, size_t cap,
		     struct sr_err *err);

static int check_string(const char *s, const char *path, struct sr_err *err)
{
	char q[SR_QUOTE_CAP(48)];

	if (!s || sr_utf8_valid(s, strlen(s)))
		return 0;
	if (!path)
		return -EINVAL;
	return sr_err_set(err, -EINVAL, "%s \"%s\": not valid UTF-8: strings must be UTF-8 text",
			  path, sr_quote(q, sizeof(q), s, 48));
}

static int check_value(const ProtobufCFieldDescriptor *f, const void *v, char *path,
		       size_t off, size_t cap, struct sr_err *err)
{
	if (f->type == PROTOBUF_C_TYPE_STRING)
		return check_string(*(char *const *)v, path, err);
	if (f->type == PROTOBUF_C_TYPE_MESSAGE && *(void *const *)v)
		return check_msg(*(ProtobufCMessage *const *)v, path, off, cap, err);
	return 0;
}

/* path + off: the field's name (and [k]) appended; off when path is NULL. */
static size_t name_field(char *path, size_t off, size_t cap, const char *name, const size_t *k)
{
	size_t o;

	if (!path)
		return off;
	o = off + (size_t)(k ? snprintf(path + off, cap - off, "%s%s[%zu]", off ? "." : "", name, *k)
			     : snprintf(path + off, cap - off, "%s%s", off ? "." : "", name));
	return o >= cap ? cap - 1 : o;
}

static int check_msg(const ProtobufCMessage *m, char *path, size_t off, size_t cap,
		     struct sr_err *err)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	const char *base = (const char *)m;
	int r;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t n;

		if (f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			const char *const *arr = *(const char *const *const *)(base + f->offset);

			n = *(const size_t *)(base + f->quantifier_offset);
			for (size_t k = 0; k < n; k++)
				if ((r = check_value(f, &arr[k], path,
						     name_field(path, off, cap, f->name, &k), cap, err)))
					return r;
		} else if ((r = check_value(f, base + f->offset, path,
					    name_field(path, off, cap, f->name, NULL), cap, err))) {
			return r;
		}
		if (path)
			path[off] = '\0';
	}
	return 0;
}

int sr_pb_check_utf8(const ProtobufCMessage *m, struct sr_err *err)
{
	char path[256] = "";

	if (!check_msg(m, NULL, 0, sizeof(path), err))
		return 0;
	return check_msg(m, path, 0, sizeof(path), err);
}

/* ---- arena ---- */

#define ARENA_BLOCK (256u << 10)   /* above malloc's mmap threshold */

struct sr_pb_block {
	struct sr_pb_block *next;
	size_t used, cap;
	max_align_t data[];
};

static void *arena_alloc(void *data, size_t size)
{
	struct sr_pb_arena *a = data;
	struct sr_pb_block *b = a->blocks;
	size_t need = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);

	if (need < size)
		return NULL;
	if (!b || b->cap - b->used < need) {
		/* A large object gets a block of its own, behind the current one. */
		size_t cap = need > ARENA_BLOCK / 4 ? need : ARENA_BLOCK - sizeof(*b);

		if (cap > SIZE_MAX - sizeof(*b) || !(b = malloc(sizeof(*b) + cap)))
			return NULL;
		b->used = 0;
		b->cap = cap;
		if (cap == need && a->blocks) {
			b->next = a->blocks->next;
			a->blocks->next = b;
		} else {
			b->next = a->blocks;
			a->blocks = b;
		}
	}
	b->used += need;
	return (uint8_t *)b->data + b->used - need;
}

static void arena_free_one(void *data, void *p)
{
	(void)data;
	(void)p;
}

void sr_pb_arena_init(struct sr_pb_arena *a)
{
	a->base = (ProtobufCAllocator){ .alloc = arena_alloc, .free = arena_free_one,
					.allocator_data = a };
	a->blocks = NULL;
}

void sr_pb_arena_free(struct sr_pb_arena *a)
{
	while (a->blocks) {
		struct sr_pb_block *b = a->blocks;

		a->blocks = b->next;
		free(b);
	}
}
