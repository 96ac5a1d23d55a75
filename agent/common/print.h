/* SPDX-License-Identifier: MIT */
/*
 * One print helper for text and JSON output, so every field a command
 * shows has a JSON key (after iproute2's print_*(PRINT_ANY, key, fmt, v)).
 * PR_ANY prints in both modes, PR_TEXT only as text, PR_JSON only as JSON.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum pr_mode { PR_ANY, PR_TEXT, PR_JSON };

void pr_init(FILE *out, bool json);
bool pr_is_json(void);
bool pr_started(void);                /* anything printed since pr_init */
void pr_finish(void);                 /* ends the document with a newline */

void pr_obj_open(const char *key);    /* key NULL inside arrays / at top */
void pr_obj_close(void);
void pr_arr_open(const char *key);
void pr_arr_close(void);

/* val NULL -> JSON null, text "-" (through fmt). */
void pr_str(enum pr_mode m, const char *key, const char *fmt, const char *val);
void pr_uint(enum pr_mode m, const char *key, const char *fmt, uint64_t val);
void pr_int(enum pr_mode m, const char *key, const char *fmt, int64_t val);
void pr_bool(enum pr_mode m, const char *key, const char *fmt, bool val);
void pr_null(enum pr_mode m, const char *key, const char *fmt);
void pr_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
