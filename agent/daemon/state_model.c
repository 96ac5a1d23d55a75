/* SPDX-License-Identifier: MIT */
/* The daemon's in-memory state: state_model.h. */
#include "state_model.h"

#include <stdlib.h>

void state_model_invalidate(struct state_model *m)
{
	sr_state_free(&m->st);
	free(m->bytes);
	m->bytes = NULL;
	m->len = 0;
	m->valid = false;
}

void state_model_free(struct state_model *m)
{
	state_model_invalidate(m);
}

int state_model_get(struct state_model *m, const char *state_dir, struct sr_err *err)
{
	int r;

	if (m->valid)
		return 0;
	state_model_invalidate(m);
	m->loads++;
	if ((r = sr_state_load_bytes(state_dir, &m->st, &m->bytes, &m->len, err)))
		return r;
	m->valid = true;
	return 0;
}

/* bytes := the encoding of st, as sr_state_save wrote it. */
static int encode_bytes(struct state_model *m, struct sr_err *err)
{
	uint8_t *buf;
	size_t len;
	int r;

	if ((r = sr_state_encode(&m->st, &buf, &len, err)))
		return r;
	free(m->bytes);
	m->bytes = buf;
	m->len = len;
	return 0;
}

int state_model_set(struct state_model *m, struct sr_state *st, bool saved, struct sr_err *err)
{
	int r;

	sr_state_free(&m->st);
	m->st = *st;
	*st = (struct sr_state){ 0 };
	if (!saved && m->valid)
		return 0;
	if ((r = encode_bytes(m, err))) {
		state_model_invalidate(m);
		return r;
	}
	m->valid = true;
	return 0;
}

int state_model_save(struct state_model *m, const char *state_dir, struct sr_err *err)
{
	int r = sr_state_save(state_dir, &m->st, err);

	if (!r)
		r = encode_bytes(m, err);
	if (r)
		state_model_invalidate(m);
	return r;
}
