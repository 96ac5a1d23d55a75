/* SPDX-License-Identifier: MIT */
/*
 * The protobuf JSON mapping of any protobuf-c message (pbjson.h).
 */
#include "pbjson.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define TIMESTAMP_NAME "google.protobuf.Timestamp"

/* protoc's json_name: drop each '_' and upper-case the letter after it. */
static void json_name(const char *name, FILE *out)
{
	bool up = false;

	fputc('"', out);
	for (const char *p = name; *p; p++) {
		if (*p == '_') {
			up = true;
			continue;
		}
		fputc(up && *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, out);
		up = false;
	}
	fputs("\":", out);
}

static void json_string(const char *s, FILE *out)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

static void json_base64(const ProtobufCBinaryData *b, FILE *out)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	fputc('"', out);
	for (size_t i = 0; i < b->len; i += 3) {
		uint32_t v = (uint32_t)b->data[i] << 16;
		size_t left = b->len - i;

		if (left > 1)
			v |= (uint32_t)b->data[i + 1] << 8;
		if (left > 2)
			v |= b->data[i + 2];
		fputc(tbl[(v >> 18) & 63], out);
		fputc(tbl[(v >> 12) & 63], out);
		fputc(left > 1 ? tbl[(v >> 6) & 63] : '=', out);
		fputc(left > 2 ? tbl[v & 63] : '=', out);
	}
	fputc('"', out);
}

/* RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits, as protobuf prints. */
static void json_timestamp(const ProtobufCMessage *m, FILE *out)
{
	const ProtobufCFieldDescriptor *fs =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "seconds");
	const ProtobufCFieldDescriptor *fn =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "nanos");
	int64_t s = fs ? *(const int64_t *)((const char *)m + fs->offset) : 0;
	int32_t ns = fn ? *(const int32_t *)((const char *)m + fn->offset) : 0;
	time_t t = (time_t)s;
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "\"%s", buf);
	if (ns % 1000000 == 0 && ns)
		fprintf(out, ".%03d", ns / 1000000);
	else if (ns % 1000 == 0 && ns)
		fprintf(out, ".%06d", ns / 1000);
	else if (ns)
		fprintf(out, ".%09d", ns);
	fputs("Z\"", out);
}

static void json_value(const ProtobufCFieldDescriptor *f, const void *v, FILE *out)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(out, "%" PRId32, *(const int32_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		fprintf(out, "%" PRIu32, *(const uint32_t *)v);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(out, "\"%" PRId64 "\"", *(const int64_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		fprintf(out, "\"%" PRIu64 "\"", *(const uint64_t *)v);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		fprintf(out, "%.9g", (double)*(const float *)v);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		fprintf(out, "%.17g", *(const double *)v);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)v ? "true" : "false", out);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *ev =
			protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)v);

		if (ev)
			json_string(ev->name, out);
		else
			fprintf(out, "%d", *(const int *)v);
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		json_string(*(char *const *)v ? *(char *const *)v : "", out);
		break;
	case PROTOBUF_C_TYPE_BYTES:
		json_base64(v, out);
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		sr_pb_json(*(ProtobufCMessage *const *)v, out);
		break;
	}
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return 4;
	}
}

/* A proto3 singular field is present when it differs from its default. */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *v)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return !*(char *const *)v || !**(char *const *)v;
	case PROTOBUF_C_TYPE_BYTES:
		return ((const ProtobufCBinaryData *)v)->len == 0;
	case PROTOBUF_C_TYPE_MESSAGE:
		return !*(ProtobufCMessage *const *)v;
	default: {
		static const uint8_t zero[8];

		return !memcmp(v, zero, value_size(f));
	}
	}
}

static bool is_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	const void *v = base + f->offset;

	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
	    f->type != PROTOBUF_C_TYPE_STRING && f->type != PROTOBUF_C_TYPE_MESSAGE)
		return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return true;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
		return f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE ?
			       *(void *const *)v != NULL :
			       true;
	return !is_default(f, v);
}

void sr_pb_json(const ProtobufCMessage *m, FILE *out)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	bool first = true;

	if (!strcmp(d->name, TIMESTAMP_NAME)) {
		json_timestamp(m, out);
		return;
	}
	fputc('{', out);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *base = (const char *)m;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *arr = *(char *const *)(base + f->offset);

			if (!n)
				continue;
			if (!first)
				fputc(',', out);
			first = false;
			json_name(f->name, out);
			fputc('[', out);
			for (size_t k = 0; k < n; k++) {
				if (k)
					fputc(',', out);
				json_value(f, arr + k * value_size(f), out);
			}
			fputc(']', out);
			continue;
		}
		if (!is_present(m, f))
			continue;
		if (!first)
			fputc(',', out);
		first = false;
		json_name(f->name, out);
		json_value(f, base + f->offset, out);
	}
	fputc('}', out);
}
