/*
 * eval_par.c — the evaluator's threads: a fixed pool that splits one matrix product into
 * blocks of rows or columns, each a single-threaded cblas_sgemm, and the float32 loops of
 * element-wise kernels and Softmax into ranges. OpenBLAS's own threading
 * scaled resnet50 from 58 to 54 ms on two CPUs (its workers spin between the products and
 * pack the whole of one operand in each); blocks of our own, one per CPU, give each thread
 * an independent product. Between jobs workers spin for a while (SPIN_NS) watching for the
 * next one, then sleep on a condition variable; the caller spins the same way for the
 * last part of its job: a node's jobs follow each other within microseconds, and waking a
 * sleeping thread costs tens of them (mobilenet_v3_small ran no faster on two threads).
 */
#include "config.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <cblas.h>
#include "eval_internal.h"

#define PAR_MAX 64
#define PAR_MIN_FLOPS (1 << 21)         /* smaller products: one thread, no hand-over */
#define SPIN_NS 200000                  /* how long a thread watches before it sleeps */

struct par_job {
	void (*fn)(void *ctx, int part, int parts);
	void *ctx;
	int parts;
	atomic_int next;                /* the next part to take */
	int done, active;               /* under mu: parts done, workers holding the job */
	atomic_bool complete;           /* done == parts and active == 0, set under mu */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;   /* one job at a time */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, finished = PTHREAD_COND_INITIALIZER;
static struct par_job *job;             /* under mu */
static unsigned long generation;        /* under mu */
static atomic_ulong posted;             /* generation, readable without mu */
static atomic_int threads = 1;
static int started;                     /* under busy */

static int take_parts(struct par_job *j)
{
	int k, n = 0;
	while ((k = atomic_fetch_add(&j->next, 1)) < j->parts) {
		j->fn(j->ctx, k, j->parts);
		n++;
	}
	return n;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Spins until ready(arg) or SPIN_NS have passed; true when ready. After the first turns
 * it yields the CPU at every turn: with more threads than free CPUs (--threads above the
 * CPU count, or a busy machine), a watching thread must not keep a working one waiting. */
static bool spin_until(bool (*ready)(const void *), const void *arg)
{
	int64_t end = 0;
	for (unsigned i = 0;; i++) {
		if (ready(arg))
			return true;
		if (i % 64 == 0) {      /* the clock is a vDSO call: not every turn */
			int64_t t = now_ns();
			if (!end)
				end = t + SPIN_NS;
			else if (t > end)
				return false;
		}
		if (i < 64) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		} else
			sched_yield();
	}
}

static bool posted_after(const void *seen)
{
	return atomic_load_explicit(&posted, memory_order_acquire) != *(const unsigned long *)seen;
}

static bool job_complete(const void *j)
{
	return atomic_load_explicit(&((const struct par_job *)j)->complete, memory_order_acquire);
}

/* A worker holds the job (active) from taking it until it has counted its parts: the
 * caller, whose stack the job lives on, returns only when none does. */
static void *worker(void *arg)
{
	unsigned long seen = 0;
	(void)arg;
	pthread_mutex_lock(&mu);
	for (;;) {
		if (generation == seen || !job) {       /* watch for the next job, then sleep */
			unsigned long now = generation;
			pthread_mutex_unlock(&mu);
			spin_until(posted_after, &now);
			pthread_mutex_lock(&mu);
		}
		while (generation == seen || !job)
			pthread_cond_wait(&wake, &mu);
		seen = generation;
		struct par_job *j = job;
		j->active++;
		pthread_mutex_unlock(&mu);
		int n = take_parts(j);
		pthread_mutex_lock(&mu);
		j->done += n;
		if (!--j->active && j->done == j->parts) {
			atomic_store_explicit(&j->complete, true, memory_order_release);
			pthread_cond_broadcast(&finished);
		}
	}
	return NULL;
}

void od_eval_set_threads(int n)
{
	atomic_store(&threads, n < 1 ? 1 : n > PAR_MAX ? PAR_MAX : n);
}

int od_eval_threads(void)
{
	return atomic_load(&threads);
}

/* Runs fn(ctx, k, parts) for k in [0, parts) on the pool and the calling thread; inline
 * when another caller's job holds the pool. */
static void par_run(void (*fn)(void *, int, int), void *ctx, int parts)
{
	if (parts <= 1 || pthread_mutex_trylock(&busy)) {
		for (int k = 0; k < parts; k++)
			fn(ctx, k, parts);
		return;
	}
	while (started < atomic_load(&threads) - 1) {
		pthread_t t;
		pthread_attr_t at;
		if (pthread_attr_init(&at))
			break;
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		int rc = pthread_create(&t, &at, worker, NULL);
		pthread_attr_destroy(&at);
		if (rc)
			break;
		started++;
	}
	struct par_job j = { .fn = fn, .ctx = ctx, .parts = parts };
	pthread_mutex_lock(&mu);
	job = &j;
	generation++;
	atomic_store_explicit(&posted, generation, memory_order_release);
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&mu);
	int n = take_parts(&j);
	pthread_mutex_lock(&mu);
	j.done += n;
	if (j.done < j.parts || j.active) {     /* the workers' last parts: watch, then sleep */
		pthread_mutex_unlock(&mu);
		spin_until(job_complete, &j);
		pthread_mutex_lock(&mu);
	}
	while (j.done < j.parts || j.active)
		pthread_cond_wait(&finished, &mu);
	job = NULL;
	pthread_mutex_unlock(&mu);
	pthread_mutex_unlock(&busy);
}

/* ---- ranges ----------------------------------------------------------------------------- */

struct range {
	int64_t n;
	int (*fn)(void *ctx, int64_t lo, int64_t hi);
	void *ctx;
	atomic_int rc;                  /* the first failure of any range */
};

static void range_part(void *ctx, int part, int parts)
{
	struct range *r = ctx;
	int64_t lo = r->n * part / parts, hi = r->n * (part + 1) / parts;
	int rc = hi > lo ? r->fn(r->ctx, lo, hi) : 0, none = 0;
	if (rc)
		atomic_compare_exchange_strong(&r->rc, &none, rc);
}

int ev_par_range(int64_t n, int64_t grain, int (*fn)(void *ctx, int64_t lo, int64_t hi),
                 void *ctx)
{
	int64_t parts = atomic_load(&threads), most = grain > 0 ? n / grain : n;
	if (parts > most)
		parts = most > 1 ? most : 1;
	if (parts <= 1)
		return n > 0 ? fn(ctx, 0, n) : 0;
	struct range r = { .n = n, .fn = fn, .ctx = ctx };
	par_run(range_part, &r, (int)parts);
	return atomic_load(&r.rc);
}

/* ---- matrix products ------------------------------------------------------------------ */

struct gemm {
	bool ta, tb, by_rows;
	int m, n, k, lda, ldb, ldc;
	float alpha, beta;
	const float *a, *b;
	float *c;
};

/* Rows lo..hi of op(A) and of C, or columns lo..hi of op(B) and of C. */
static int gemm_block(void *ctx, int64_t lo, int64_t hi)
{
	const struct gemm *g = ctx;
	const float *a = g->a, *b = g->b;
	float *c = g->c;
	int m = g->m, n = g->n;
	if (g->by_rows) {
		a += g->ta ? (size_t)lo : (size_t)lo * (size_t)g->lda;
		c += (size_t)lo * (size_t)g->ldc;
		m = (int)(hi - lo);
	} else {
		b += g->tb ? (size_t)lo * (size_t)g->ldb : (size_t)lo;
		c += lo;
		n = (int)(hi - lo);
	}
	cblas_sgemm(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans,
	            m, n, g->k, g->alpha, a, g->lda, b, g->ldb, g->beta, c, g->ldc);
	return 0;
}

void ev_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc)
{
	/* Each block packs all of the operand it does not split (A is m x k, B k x n): split
	 * the larger one, in blocks of 16 rows or columns at least; small products stay whole. */
	struct gemm g = { ta, tb, m >= n, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c };
	int along = g.by_rows ? m : n;
	ev_par_range(along, (double)m * n * k < PAR_MIN_FLOPS ? along : 16, gemm_block, &g);
}
