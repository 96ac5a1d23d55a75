/* SPDX-License-Identifier: MIT */
#include "print.h"

/* The formats come from callers, paired with the value type by contract. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#define MAX_DEPTH 16

static FILE *out;
static bool json;
static int depth;
static bool first[MAX_DEPTH];

void pr_init(FILE *f, bool as_json)
{
	out = f;
	json = as_json;
	depth = 0;
	first[0] = true;
}

bool pr_is_json(void)
{
	return json;
}

static void json_string(const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

static void json_key(const char *key)
{
	if (!first[depth])
		fputc(',', out);
	first[depth] = false;
	if (key) {
		json_string(key);
		fputc(':', out);
	}
}

static void open_(const char *key, char c)
{
	if (!json)
		return;
	json_key(key);
	fputc(c, out);
	if (depth < MAX_DEPTH - 1)
		depth++;
	first[depth] = true;
}

static void close_(char c)
{
	if (!json)
		return;
	fputc(c, out);
	if (depth > 0)
		depth--;
}

void pr_obj_open(const char *key) { open_(key, '{'); }
void pr_obj_close(void) { close_('}'); }
void pr_arr_open(const char *key) { open_(key, '['); }
void pr_arr_close(void) { close_(']'); }

void pr_finish(void)
{
	if (json)
		fputc('\n', out);
	fflush(out);
}

static bool want(enum pr_mode m)
{
	return m == PR_ANY || (m == PR_JSON) == json;
}

void pr_str(enum pr_mode m, const char *key, const char *fmt, const char *val)
{
	if (!want(m))
		return;
	if (json) {
		json_key(key);
		if (val)
			json_string(val);
		else
			fputs("null", out);
	} else if (fmt) {
		fprintf(out, fmt, val ? val : "-");
	}
}

void pr_uint(enum pr_mode m, const char *key, const char *fmt, uint64_t val)
{
	if (!want(m))
		return;
	if (json) {
		json_key(key);
		fprintf(out, "%" PRIu64, val);
	} else if (fmt) {
		fprintf(out, fmt, val);
	}
}

void pr_int(enum pr_mode m, const char *key, const char *fmt, int64_t val)
{
	if (!want(m))
		return;
	if (json) {
		json_key(key);
		fprintf(out, "%" PRId64, val);
	} else if (fmt) {
		fprintf(out, fmt, val);
	}
}

void pr_bool(enum pr_mode m, const char *key, const char *fmt, bool val)
{
	if (!want(m))
		return;
	if (json) {
		json_key(key);
		fputs(val ? "true" : "false", out);
	} else if (fmt) {
		fprintf(out, fmt, val ? "on" : "off");
	}
}

void pr_null(enum pr_mode m, const char *key, const char *fmt)
{
	pr_str(m, key, fmt, NULL);
}

void pr_text(const char *fmt, ...)
{
	va_list ap;

	if (json)
		return;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}
