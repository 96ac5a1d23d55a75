/* SPDX-License-Identifier: MIT */
/*
 * Checks on protobuf input that protobuf-c does not make, generic over
 * message descriptors:
 *  - a wire pre-scan that counts fields and nested messages before
 *    protobuf-c allocates anything, so an absurd count (16 MiB of empty
 *    "apps {}") is refused in one cheap pass instead of costing a gigabyte;
 *  - a walk over a decoded message that checks every string is UTF-8
 *    (proto3 requires it; protobuf-c does not check);
 *  - an arena allocator for a message decoded, read and freed at once.
 * No I/O.
 */
#pragma once

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* At most max occurrences of field `field` of message `msg`, counted over
 * the whole input; name is how messages call it ("apps"). */
struct sr_pb_limit {
	const ProtobufCMessageDescriptor *msg;
	uint32_t field;
	size_t max;
	const char *name;
};

struct sr_pb_limits {
	const struct sr_pb_limit *fields;
	size_t n_fields;
	size_t max_messages;           /* nested messages (map entries too) */
	size_t max_fields;             /* every field, unknown ones included */
	unsigned max_depth;
};

/* 0, or -E2BIG naming the limit, or -EINVAL for bytes that are not
 * protobuf wire format (what protobuf-c would refuse as well), or -EILSEQ
 * naming the field for a string with a NUL byte inside (protobuf-c would
 * cut it there). */
int sr_pb_prescan(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
		  const struct sr_pb_limits *lim, struct sr_err *err);

/* 0, or -EINVAL naming the first string field (a path such as
 * "apps[2].displayname") that is not well-formed UTF-8. */
int sr_pb_check_utf8(const ProtobufCMessage *m, struct sr_err *err);

/* An allocator for protobuf-c that carves allocations out of large
 * blocks and frees them all at once (sr_pb_arena_free): a decoded config
 * is thousands of small objects, freed together once the model is built;
 * from malloc one by one they left the heap fragmented (megabytes of RSS
 * at 4096 apps). Use base as the unpack and free_unpacked allocator. */
struct sr_pb_arena {
	ProtobufCAllocator base;
	struct sr_pb_block *blocks;
};

void sr_pb_arena_init(struct sr_pb_arena *a);
void sr_pb_arena_free(struct sr_pb_arena *a);
