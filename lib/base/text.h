/* SPDX-License-Identifier: MIT */
/*
 * Text from configs: UTF-8 checks and a quoting helper for messages, so a
 * message never carries a control character, an invalid byte or half a
 * character, whatever the config held. No I/O.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Well-formed UTF-8 (no overlongs, surrogates or code points above
 * U+10FFFF) in s[0..len). */
bool sr_utf8_valid(const char *s, size_t len);

/* Length of the well-formed UTF-8 character at s (at most n bytes), 0
 * when the bytes there are not one. */
size_t sr_utf8_char_len(const char *s, size_t n);

/* Text fit for a name: well-formed UTF-8 without control characters
 * (U+0000..U+001F, U+007F..U+009F). */
bool sr_text_printable(const char *s);

/* The longest prefix of s of at most max bytes that ends on a character
 * boundary (s is taken as UTF-8; an invalid byte counts as one). */
size_t sr_utf8_cut(const char *s, size_t max);

/* s for a message: control characters, '"', '\\' and bytes that are not
 * UTF-8 are written as \xNN / \" / \\; at most max bytes of s are shown,
 * cut at a character boundary, with "..." when cut. Always NUL-terminates
 * buf (cap >= 1) and returns it. NULL shows as "". */
const char *sr_quote(char *buf, size_t cap, const char *s, size_t max);

/* Room sr_quote needs for max bytes of input, NUL and "..." included. */
#define SR_QUOTE_CAP(max) ((max) * 4 + 4)
