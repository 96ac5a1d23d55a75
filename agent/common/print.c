/* SPDX-License-Identifier: MIT */
/*
 * sriovctl's one print helper (print.h): the same call prints text or JSON.
 */
#include "print.h"

/* The formats come from callers, paired with the value type by contract. */
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "text.h"

#define MAX_DEPTH 16

static FILE *out;
static bool json;
static int depth;
static bool first[MAX_DEPTH];
static bool started;            /* something was written */

void pr_init(FILE *f, bool as_json)
{
	out = f;
	json = as_json;
	depth = 0;
	first[0] = true;
	started = false;
}

bool pr_started(void)
{
	return started;
}

bool pr_is_json(void)
{
	return json;
}

/* A JSON string; bytes that are not UTF-8 become U+FFFD, so the document
 * stays valid JSON whatever a state file holds. */
static void json_string(const char *s)
{
	size_t n = strlen(s);

	fputc('"', out);
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t l = sr_utf8_char_len(s + i, n - i);

		if (!l) {
			fputs("\\ufffd", out);
			i++;
			continue;
		}
		if (c == '"')
			fputs("\\\"", out);
		else if (c == '\\')
			fputs("\\\\", out);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fwrite(s + i, 1, l, out);
		i += l;
	}
	fputc('"', out);
}

static void json_key(const char *key)
{
	started = true;
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

	started = true;
	if (json)
		return;
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
}
