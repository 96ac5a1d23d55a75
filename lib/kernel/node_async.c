/* SPDX-License-Identifier: MIT */
/*
 * Slow kernel writes on threads of their own (node_async.h). One job per
 * write, keyed by its PF; the lock guards the job list and each job's
 * state. A job's thread runs a sysfs write on the part's own copy of the
 * node's sysfs handle, whose writer is the caller's raw writer, counted
 * and logged through the node only while the part is enabled. Threads are
 * detached: nothing waits for a thread that may never come back.
 */
#include "node_async.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"
#include "sysfs_io.h"

struct job {
	struct job *next;
	struct sr_node_async *a;
	struct sr_busy b;
	char prev[SR_DRIVER_LEN];   /* BIND: the driver the VF had */
	bool reported;              /* the apply moved on: the end goes to reap */
	bool whole;                 /* BIND: bind_driver, not bind_start */
};

struct sr_node_async {
	struct sr_node_real *impl;  /* NULL once disabled */
	struct sr_sysfs sysfs;      /* impl's, writing through async_write */
	sr_sysfs_writer raw_write;  /* the caller's writer */
	void *raw_ctx;
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* a job ended (CLOCK_MONOTONIC waits) */
	struct job *jobs;
	unsigned inline_ms;
	unsigned bind_inline_ms;
	int notify_fd;
	size_t running;             /* freed by the last job's thread once disabled */
};

static size_t live_threads;        /* atomic */

size_t sr_node_async_live(void)
{
	return __atomic_load_n(&live_threads, __ATOMIC_SEQ_CST);
}

void sr_busy_what(const struct sr_busy *b, char *buf, size_t cap)
{
	switch (b->kind) {
	case SR_BUSY_BIND:
		snprintf(buf, cap, "binding VF %s to %s", b->vf, b->driver);
		break;
	case SR_BUSY_UNBIND:
		snprintf(buf, cap, "unbinding VF %s", b->vf);
		break;
	case SR_BUSY_WAIT_VFS:
		snprintf(buf, cap, "waiting for its %u VFs to appear", b->n);
		break;
	case SR_BUSY_NUMVFS:
	default:
		snprintf(buf, cap, "writing %u to sriov_numvfs", b->n);
		break;
	}
}

/* The writer of a's sysfs copy: the caller's, counted and logged by the
 * node while there is one. */
static int async_write(void *c, const char *path, const char *value)
{
	struct sr_node_async *a = c;
	int r = a->raw_write(a->raw_ctx, path, value);

	pthread_mutex_lock(&a->lock);
	if (a->impl)
		sr_node_real_wrote(a->impl, path, value, r);
	pthread_mutex_unlock(&a->lock);
	return r;
}

static struct job *find_running(struct sr_node_async *a, const char *pf)
{
	for (struct job *j = a->jobs; j; j = j->next)
		if (!j->b.done && !strcmp(j->b.pci, pf))
			return j;
	return NULL;
}

static void unlink_job(struct sr_node_async *a, struct job *job)
{
	for (struct job **p = &a->jobs; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			return;
		}
}

/* Ended writes of PF pf not reaped yet: the node is read afresh, their
 * results are history. */
static void forget_ended(struct sr_node_async *a, const char *pf)
{
	for (struct job **p = &a->jobs; *p;) {
		struct job *j = *p;

		if (j->b.done && !strcmp(j->b.pci, pf)) {
			*p = j->next;
			free(j);
		} else {
			p = &j->next;
		}
	}
}

static void async_free(struct sr_node_async *a)
{
	while (a->jobs) {
		struct job *j = a->jobs;

		a->jobs = j->next;
		free(j);
	}
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static int job_run(struct job *job, struct sr_err *err)
{
	const struct sr_sysfs *s = &job->a->sysfs;
	const struct sr_busy *b = &job->b;

	switch (b->kind) {
	case SR_BUSY_BIND:
		/* bind_start: the writes and one look; the wait for a VF not
		 * on the driver yet stays the caller's (one deadline for an
		 * apply's binds, sr_sysfs_bind_wait). */
		return job->whole ? sr_sysfs_bind_driver(s, b->vf, b->driver, job->prev, err)
				  : sr_sysfs_bind_start(s, b->vf, b->driver, job->prev, err);
	case SR_BUSY_UNBIND:
		return sr_sysfs_unbind_driver(s, b->vf, err);
	case SR_BUSY_WAIT_VFS:
		return sr_sysfs_wait_vfs(s, b->pci, b->n, err);
	case SR_BUSY_NUMVFS:
	default:
		return sr_sysfs_set_numvfs(s, b->pci, b->n, err);
	}
}

static void *job_main(void *arg)
{
	struct job *job = arg;
	struct sr_node_async *a = job->a;
	struct sr_err err = { "" };
	uint64_t one = 1;
	bool last;
	int rc;

	rc = job_run(job, &err);
	pthread_mutex_lock(&a->lock);
	job->b.done = true;
	job->b.rc = rc;
	snprintf(job->b.msg, sizeof(job->b.msg), "%s", rc ? err.msg : "");
	a->running--;
	pthread_cond_broadcast(&a->cond);
	if (job->reported && a->impl && a->notify_fd >= 0 &&
	    write(a->notify_fd, &one, sizeof(one)) < 0) {
		/* An eventfd at its maximum is already readable. */
	}
	last = !a->impl && !a->running;
	pthread_mutex_unlock(&a->lock);
	if (last)
		async_free(a);
	__atomic_sub_fetch(&live_threads, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* The busy code of kind: -EINPROGRESS for sriov_numvfs (run_set_numvfs
 * knows it), -EALREADY for a binding (bind_start's -EINPROGRESS is "not on
 * the driver yet"), with a message naming the PF's running write. */
static int busy_err(const struct job *job, enum sr_busy_kind kind, struct sr_err *err)
{
	char what[SR_PCI_LEN + SR_DRIVER_LEN + 64];

	sr_busy_what(&job->b, what, sizeof(what));
	return sr_err_set(err,
			  kind == SR_BUSY_NUMVFS || kind == SR_BUSY_WAIT_VFS ? -EINPROGRESS
									  : -EALREADY,
			  "PF %s busy: %s%s since %llu s ago", job->b.pci, what,
			  job->b.kind == SR_BUSY_WAIT_VFS ? "" : ", waiting for the driver",
			  (unsigned long long)((sr_sysfs_now_ms() - job->b.since_ms) / 1000));
}

static struct job *start(struct sr_node_async *a, const struct sr_busy *b, bool whole, int *rc)
{
	struct job *job = calloc(1, sizeof(*job));
	pthread_attr_t attr;
	pthread_t t;

	if (!job) {
		*rc = -ENOMEM;
		return NULL;
	}
	job->a = a;
	job->b = *b;
	job->whole = whole;
	job->b.since = time(NULL);
	job->b.since_ms = sr_sysfs_now_ms();
	__atomic_add_fetch(&live_threads, 1, __ATOMIC_SEQ_CST);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	*rc = -pthread_create(&t, &attr, job_main, job);
	pthread_attr_destroy(&attr);
	if (*rc) {
		__atomic_sub_fetch(&live_threads, 1, __ATOMIC_SEQ_CST);
		free(job);
		return NULL;
	}
	a->running++;
	job->next = a->jobs;
	a->jobs = job;
	return job;
}

/* Until job ends or ms have passed since it started; lock held. */
static void wait_inline(struct sr_node_async *a, struct job *job, unsigned ms)
{
	struct timespec until;
	uint64_t end_ns;

	if (ms == UINT32_MAX) {
		while (!job->b.done)
			pthread_cond_wait(&a->cond, &a->lock);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	end_ns = (uint64_t)until.tv_nsec + (uint64_t)ms * 1000000u;
	until.tv_sec += (time_t)(end_ns / 1000000000u);
	until.tv_nsec = (long)(end_ns % 1000000000u);
	while (!job->b.done)
		if (pthread_cond_timedwait(&a->cond, &a->lock, &until) == ETIMEDOUT)
			break;
}

/* Runs b (its PF in b->pci) on a thread, waits for it as its kind says:
 * its result, or the busy code when it goes on (or another write of the
 * PF runs). prev: BIND's previous driver, when it ended. */
static int run(struct sr_node_async *a, const struct sr_busy *b, bool whole,
	       char prev[SR_DRIVER_LEN], struct sr_err *err)
{
	struct job *job;
	int rc;

	pthread_mutex_lock(&a->lock);
	job = find_running(a, b->pci);
	if (job) {
		/* No second write while one is outstanding. */
		rc = busy_err(job, b->kind, err);
		goto out_unlock;
	}
	forget_ended(a, b->pci);
	job = start(a, b, whole, &rc);
	if (!job) {
		rc = sr_err_set(err, rc, "PF %s: cannot start a write: %s", b->pci, strerror(-rc));
		goto out_unlock;
	}
	wait_inline(a, job,
		    b->kind == SR_BUSY_BIND || b->kind == SR_BUSY_UNBIND ? a->bind_inline_ms
									  : a->inline_ms);
	if (!job->b.done) {
		job->reported = true;
		rc = busy_err(job, b->kind, err);
		goto out_unlock;
	}
	rc = job->b.rc;
	if (rc)
		sr_err_set(err, rc, "%s", job->b.msg);
	if (prev)
		memcpy(prev, job->prev, SR_DRIVER_LEN);
	unlink_job(a, job);
	free(job);
out_unlock:
	pthread_mutex_unlock(&a->lock);
	return rc;
}

static int pf_job(struct sr_node_real *impl, enum sr_busy_kind kind, const char *pf_pci,
		  uint32_t n, struct sr_err *err)
{
	struct sr_busy b = { .kind = kind, .n = n };

	snprintf(b.pci, sizeof(b.pci), "%s", pf_pci);
	return run(impl->async, &b, false, NULL, err);
}

int sr_node_async_set_numvfs(struct sr_node_real *impl, const char *pf_pci, uint32_t n,
			     struct sr_err *err)
{
	return pf_job(impl, SR_BUSY_NUMVFS, pf_pci, n, err);
}

int sr_node_async_wait_vfs(struct sr_node_real *impl, const char *pf_pci, uint32_t n,
			   struct sr_err *err)
{
	return pf_job(impl, SR_BUSY_WAIT_VFS, pf_pci, n, err);
}

/* A binding of VF vf_pci: its PF from the physfn link (the VF itself when
 * it has none), checked names only in a path. */
static int binding(struct sr_node_async *a, enum sr_busy_kind kind, const char *vf_pci,
		   const char *driver, bool whole, char prev[SR_DRIVER_LEN], struct sr_err *err)
{
	struct sr_busy b = { .kind = kind };
	char path[PATH_MAX];
	int rc;

	if ((rc = sysfs_check_pci("VF", vf_pci, err)))
		return rc;
	if (driver && (rc = sysfs_check_driver(driver, err)))
		return rc;
	snprintf(b.vf, sizeof(b.vf), "%s", vf_pci);
	snprintf(b.driver, sizeof(b.driver), "%s", driver ? driver : "");
	if (sysfs_path(&a->sysfs, path, "bus/pci/devices/%s/physfn", vf_pci) ||
	    sr_sysfs_link_base(path, b.pci, sizeof(b.pci)))
		snprintf(b.pci, sizeof(b.pci), "%s", vf_pci);
	return run(a, &b, whole, prev, err);
}

int sr_node_async_bind_start(struct sr_node_real *impl, const char *vf_pci, const char *driver,
			     char prev[SR_DRIVER_LEN], struct sr_err *err)
{
	return binding(impl->async, SR_BUSY_BIND, vf_pci, driver, false, prev, err);
}

int sr_node_async_bind_driver(struct sr_node_real *impl, const char *vf_pci, const char *driver,
			      char prev[SR_DRIVER_LEN], struct sr_err *err)
{
	return binding(impl->async, SR_BUSY_BIND, vf_pci, driver, true, prev, err);
}

int sr_node_async_unbind_driver(struct sr_node_real *impl, const char *vf_pci,
				struct sr_err *err)
{
	return binding(impl->async, SR_BUSY_UNBIND, vf_pci, NULL, false, NULL, err);
}

bool sr_node_async_pf_busy(struct sr_node_real *impl, const char *pf_pci, bool *vfs_change,
			   char *why, size_t cap)
{
	struct sr_node_async *a = impl->async;
	struct sr_err e = { "" };
	struct job *job;

	pthread_mutex_lock(&a->lock);
	job = find_running(a, pf_pci);
	if (job && why) {
		busy_err(job, job->b.kind, &e);
		snprintf(why, cap, "%s", e.msg);
	}
	if (job && vfs_change)
		*vfs_change = job->b.kind == SR_BUSY_NUMVFS || job->b.kind == SR_BUSY_WAIT_VFS;
	pthread_mutex_unlock(&a->lock);
	return job != NULL;
}

size_t sr_node_async_busy(struct sr_node_real *impl, struct sr_busy *out, size_t cap)
{
	struct sr_node_async *a = impl->async;
	size_t n = 0;

	if (!a)
		return 0;
	pthread_mutex_lock(&a->lock);
	for (struct job *j = a->jobs; j; j = j->next)
		if (!j->b.done) {
			if (out && n < cap)
				out[n] = j->b;
			n++;
		}
	pthread_mutex_unlock(&a->lock);
	return n;
}

size_t sr_node_async_reap(struct sr_node_real *impl, struct sr_busy *out, size_t cap)
{
	struct sr_node_async *a = impl->async;
	struct job **p;
	size_t n = 0;

	if (!a)
		return 0;
	pthread_mutex_lock(&a->lock);
	for (p = &a->jobs; *p && n < cap;) {
		struct job *j = *p;

		if (!j->b.done) {
			p = &j->next;
			continue;
		}
		out[n++] = j->b;
		*p = j->next;
		free(j);
	}
	pthread_mutex_unlock(&a->lock);
	return n;
}

int sr_node_async_enable(struct sr_node_real *impl, unsigned inline_ms, unsigned bind_inline_ms,
			 int notify_fd)
{
	struct sr_node_async *a = calloc(1, sizeof(*a));
	pthread_condattr_t attr;

	if (!a)
		return -ENOMEM;
	a->impl = impl;
	a->sysfs = impl->sysfs;
	a->raw_write = impl->write;
	a->raw_ctx = impl->write_ctx;
	a->sysfs.write = async_write;
	a->sysfs.write_ctx = a;
	a->inline_ms = inline_ms;
	a->bind_inline_ms = bind_inline_ms;
	a->notify_fd = notify_fd;
	pthread_mutex_init(&a->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cond, &attr);
	pthread_condattr_destroy(&attr);
	impl->async = a;
	return 0;
}

void sr_node_async_disable(struct sr_node_real *impl)
{
	struct sr_node_async *a = impl->async;
	bool running;

	if (!a)
		return;
	impl->async = NULL;
	pthread_mutex_lock(&a->lock);
	a->impl = NULL;
	running = a->running != 0;
	pthread_mutex_unlock(&a->lock);
	if (!running)
		async_free(a);
}
