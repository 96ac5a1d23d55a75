/* SPDX-License-Identifier: MIT */
/*
 * The daemon's model of STATE-DIR/state.pb: read once at start, replaced by
 * each apply's result, saved through it; never read back while it is valid.
 * An apply that fails may have saved its intent before it stopped: only
 * then is the file read again (model_invalidate, then the next get).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "state.h"

struct state_model {
	struct sr_state st;
	bool valid;              /* st is the file's content */
	unsigned long loads;     /* times the file was read */
};

/* The state in force; reads the file only when the model is not valid. */
int state_model_get(struct state_model *m, const char *state_dir, struct sr_err *err);
/* An apply's result becomes the model (st is taken): the apply saved it,
 * or it encodes as the state in force (sr_apply_ctx.state_saved). */
void state_model_set(struct state_model *m, struct sr_state *st);
/* Save the model's st (changed in place by the caller). */
int state_model_save(struct state_model *m, const char *state_dir, struct sr_err *err);
/* The file may differ from the model (a failed apply): read it next time. */
void state_model_invalidate(struct state_model *m);
void state_model_free(struct state_model *m);
