/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 checks and message quoting for config text (text.h).
 */
#include "text.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (at most n bytes there),
 * 0 when it is not one; *cp gets the code point. */
static size_t seq_len(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c, min;
	size_t len;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, c = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, c = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, c = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

size_t sr_utf8_char_len(const char *s, size_t n)
{
	uint32_t cp;

	return n ? seq_len((const unsigned char *)s, n, &cp) : 0;
}

bool sr_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		size_t l = seq_len(p + i, len - i, &cp);

		if (!l)
			return false;
		i += l;
	}
	return true;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool sr_text_printable(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		size_t l = seq_len(p + i, n - i, &cp);

		if (!l || is_control(cp))
			return false;
		i += l;
	}
	return true;
}

size_t sr_utf8_cut(const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	uint32_t cp;

	while (i < n) {
		size_t l = seq_len(p + i, n - i, &cp);

		if (!l)
			l = 1;
		if (i + l > max)
			break;
		i += l;
	}
	return i;
}

const char *sr_quote(char *buf, size_t cap, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p), out = 0, i = 0;
	uint32_t cp;

	if (!cap)
		return buf;
	while (i < n && i < max) {
		size_t l = seq_len(p + i, n - i, &cp);
		char tmp[12];
		size_t tl;

		if (l && i + l > max)
			break;
		if (!l) {
			/* Not UTF-8: the byte alone, escaped. */
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
			l = 1;
		} else if (cp == '"' || cp == '\\') {
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\%c", (char)cp);
		} else if (is_control(cp)) {
			/* C0 is one byte, C1 two: every byte escaped. */
			tl = 0;
			for (size_t k = 0; k < l; k++)
				tl += (size_t)snprintf(tmp + tl, sizeof(tmp) - tl, "\\x%02x", p[i + k]);
		} else {
			memcpy(tmp, p + i, l);
			tl = l;
		}
		if (out + tl + 4 > cap)
			break;
		memcpy(buf + out, tmp, tl);
		out += tl;
		i += l;
	}
	if (i < n && out + 4 <= cap) {
		memcpy(buf + out, "...", 3);
		out += 3;
	}
	buf[out] = '\0';
	return buf;
}
