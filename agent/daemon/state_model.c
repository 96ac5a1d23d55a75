/* SPDX-License-Identifier: MIT */
/* The daemon's in-memory state: state_model.h. */
#include "state_model.h"

#include <stdlib.h>

void state_model_invalidate(struct state_model *m)
{
	sr_state_free(&m->st);
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
	if ((r = sr_state_load(state_dir, &m->st, err)))
		return r;
	m->valid = true;
	return 0;
}

void state_model_set(struct state_model *m, struct sr_state *st)
{
	sr_state_free(&m->st);
	m->st = *st;
	*st = (struct sr_state){ 0 };
	m->valid = true;
}

int state_model_save(struct state_model *m, const char *state_dir, struct sr_err *err)
{
	int r = sr_state_save(state_dir, &m->st, err);

	if (r)
		state_model_invalidate(m);
	return r;
}
