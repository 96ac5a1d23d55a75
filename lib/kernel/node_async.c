/* SPDX-License-Identifier: MIT */
/*
 * sriov_numvfs writes on threads of their own (node_async.h). One job per
 * PF; the lock guards the job list and each job's state. A job's thread
 * runs sr_sysfs_set_numvfs on the node's sysfs (its counting writer), and
 * is detached: nothing waits for a thread that may never come back.
 */
#include "node_async.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node.h"

struct job {
	struct job *next;
	struct sr_node_async *a;
	struct sr_busy b;
	bool reported;              /* the apply moved on: the end goes to reap */
};

struct sr_node_async {
	struct sr_node_real *impl;
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* a job ended (CLOCK_MONOTONIC waits) */
	struct job *jobs;
	unsigned inline_ms;
	int notify_fd;
	bool disabled;              /* freed by the last job's thread */
	size_t running;
};

static struct job *find(struct sr_node_async *a, const char *pci)
{
	for (struct job *j = a->jobs; j; j = j->next)
		if (!strcmp(j->b.pci, pci))
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

static void *job_main(void *arg)
{
	struct job *job = arg;
	struct sr_node_async *a = job->a;
	struct sr_err err = { "" };
	uint64_t one = 1;
	bool last;
	int rc;

	if (job->b.wait_only)
		rc = sr_sysfs_wait_vfs(&a->impl->sysfs, job->b.pci, job->b.n, &err);
	else
		rc = sr_sysfs_set_numvfs(&a->impl->sysfs, job->b.pci, job->b.n, &err);
	pthread_mutex_lock(&a->lock);
	job->b.done = true;
	job->b.rc = rc;
	snprintf(job->b.msg, sizeof(job->b.msg), "%s", rc ? err.msg : "");
	a->running--;
	pthread_cond_broadcast(&a->cond);
	if (job->reported && !a->disabled && a->notify_fd >= 0 &&
	    write(a->notify_fd, &one, sizeof(one)) < 0) {
		/* An eventfd at its maximum is already readable. */
	}
	last = a->disabled && !a->running;
	pthread_mutex_unlock(&a->lock);
	if (last)
		async_free(a);
	return NULL;
}

/* -EINPROGRESS naming the PF's running write. */
static int busy_err(const struct job *job, struct sr_err *err)
{
	if (job->b.wait_only)
		return sr_err_set(err, -EINPROGRESS,
				  "PF %s busy: waiting for its %u VFs to appear since %llu s ago",
				  job->b.pci, job->b.n,
				  (unsigned long long)((sr_sysfs_now_ms() - job->b.since_ms) / 1000));
	return sr_err_set(err, -EINPROGRESS,
			  "PF %s busy: writing %u to sriov_numvfs, waiting for the driver since %llu s ago",
			  job->b.pci, job->b.n,
			  (unsigned long long)((sr_sysfs_now_ms() - job->b.since_ms) / 1000));
}

static struct job *start(struct sr_node_async *a, const char *pci, uint32_t n, bool wait_only,
			 int *rc)
{
	struct job *job = calloc(1, sizeof(*job));
	pthread_attr_t attr;
	pthread_t t;

	if (!job) {
		*rc = -ENOMEM;
		return NULL;
	}
	job->a = a;
	snprintf(job->b.pci, sizeof(job->b.pci), "%s", pci);
	job->b.n = n;
	job->b.wait_only = wait_only;
	job->b.since = time(NULL);
	job->b.since_ms = sr_sysfs_now_ms();
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	*rc = -pthread_create(&t, &attr, job_main, job);
	pthread_attr_destroy(&attr);
	if (*rc) {
		free(job);
		return NULL;
	}
	a->running++;
	job->next = a->jobs;
	a->jobs = job;
	return job;
}

/* Until job ends or inline_ms have passed since it started; lock held. */
static void wait_inline(struct sr_node_async *a, struct job *job)
{
	struct timespec until;
	uint64_t end_ns;

	if (a->inline_ms == UINT32_MAX) {
		while (!job->b.done)
			pthread_cond_wait(&a->cond, &a->lock);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &until);
	end_ns = (uint64_t)until.tv_nsec + (uint64_t)a->inline_ms * 1000000u;
	until.tv_sec += (time_t)(end_ns / 1000000000u);
	until.tv_nsec = (long)(end_ns % 1000000000u);
	while (!job->b.done)
		if (pthread_cond_timedwait(&a->cond, &a->lock, &until) == ETIMEDOUT)
			break;
}

static int run_job(struct sr_node_real *impl, const char *pf_pci, uint32_t n, bool wait_only,
		   struct sr_err *err)
{
	struct sr_node_async *a = impl->async;
	struct job *job;
	int rc;

	pthread_mutex_lock(&a->lock);
	job = find(a, pf_pci);
	if (job && !job->b.done) {
		/* No second write while one is outstanding. */
		rc = busy_err(job, err);
		goto out_unlock;
	}
	if (job) {
		/* An earlier write that ended after its apply moved on, not
		 * reaped yet: the node is read afresh, its result is history. */
		unlink_job(a, job);
		free(job);
	}
	job = start(a, pf_pci, n, wait_only, &rc);
	if (!job) {
		rc = sr_err_set(err, rc, "PF %s: cannot start the sriov_numvfs write: %s", pf_pci,
				strerror(-rc));
		goto out_unlock;
	}
	wait_inline(a, job);
	if (!job->b.done) {
		job->reported = true;
		rc = busy_err(job, err);
		goto out_unlock;
	}
	rc = job->b.rc;
	if (rc)
		sr_err_set(err, rc, "%s", job->b.msg);
	unlink_job(a, job);
	free(job);
out_unlock:
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int sr_node_async_set_numvfs(struct sr_node_real *impl, const char *pf_pci, uint32_t n,
			     struct sr_err *err)
{
	return run_job(impl, pf_pci, n, false, err);
}

int sr_node_async_wait_vfs(struct sr_node_real *impl, const char *pf_pci, uint32_t n,
			   struct sr_err *err)
{
	return run_job(impl, pf_pci, n, true, err);
}

bool sr_node_async_pf_busy(struct sr_node_real *impl, const char *pf_pci, char *why, size_t cap)
{
	struct sr_node_async *a = impl->async;
	struct sr_err e = { "" };
	struct job *job;
	bool busy;

	pthread_mutex_lock(&a->lock);
	job = find(a, pf_pci);
	busy = job && !job->b.done;
	if (busy && why) {
		busy_err(job, &e);
		snprintf(why, cap, "%s", e.msg);
	}
	pthread_mutex_unlock(&a->lock);
	return busy;
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

int sr_node_async_enable(struct sr_node_real *impl, unsigned inline_ms, int notify_fd)
{
	struct sr_node_async *a = calloc(1, sizeof(*a));
	pthread_condattr_t attr;

	if (!a)
		return -ENOMEM;
	a->impl = impl;
	a->inline_ms = inline_ms;
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
	a->disabled = true;
	running = a->running != 0;
	pthread_mutex_unlock(&a->lock);
	if (!running)
		async_free(a);
}
