/*
 * test_run.c — what od_run promises beyond a CLI test's reach: the evaluator's thread count
 * follows opts->threads (`--threads N`), 0 meaning every CPU the process may use, while
 * OpenBLAS computes each block on the thread that asks; and a product split over threads
 * (by rows or by columns, either operand transposed) is the product; and a cache kept
 * between runs (`run --repeat`) changes no output and serves one model.
 */
#include "config.h"
#include <criterion/criterion.h>
#include <sched.h>
#include "od.h"
#include "run.h"
#include "eval_internal.h"

int openblas_get_num_threads(void);     /* OpenBLAS's, beside cblas.h */

static int usable_cpus(void)
{
	cpu_set_t set;
	cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
	return CPU_COUNT(&set);
}

/* Runs the cnn fixture (Conv and Gemm through OpenBLAS) with opts.threads = threads. */
static void run_cnn(int threads)
{
	struct od_ctx ctx = { 0 };
	struct od_model *m = NULL;
	cr_assert_eq(od_model_load(OD_SRCDIR "/fixtures/cnn/model.onnx", NULL, &m, &ctx), 0,
	             "%s", ctx.msg);
	struct od_arena *a = od_arena_new();
	struct od_feed *feeds;
	size_t n_feeds;
	cr_assert_eq(od_feeds_complete(m, NULL, 0, NULL, 0, 1, a, &feeds, &n_feeds, &ctx), 0,
	             "%s", ctx.msg);
	struct od_tensor *out[1];
	struct od_run_opts opts = { .threads = threads };
	cr_assert_eq(od_run(m, feeds, n_feeds, &opts, a, out, &ctx), 0, "%s", ctx.msg);
	od_arena_free(a);
	od_model_free(m);
}

Test(run, threads_follow_the_option)
{
	run_cnn(1);
	cr_assert_eq(od_eval_threads(), 1);
	run_cnn(2);
	cr_assert_eq(od_eval_threads(), 2);
	cr_assert_eq(openblas_get_num_threads(), 1, "OpenBLAS works on the asking thread");
	run_cnn(0);
	cr_assert_eq(od_eval_threads(), usable_cpus(), "0: every usable CPU");
}

/* Runs model path once on seeded feeds into a (opts may be NULL); returns output 0. */
static struct od_tensor *run_once(struct od_model *m, const struct od_run_opts *opts,
                                  struct od_arena *a, int expect_rc)
{
	struct od_ctx ctx = { 0 };
	struct od_feed *feeds;
	size_t n_feeds;
	cr_assert_eq(od_feeds_complete(m, NULL, 0, NULL, 0, 7, a, &feeds, &n_feeds, &ctx), 0,
	             "%s", ctx.msg);
	struct od_tensor *out[1] = { NULL };
	cr_assert_eq(od_run(m, feeds, n_feeds, opts, a, out, &ctx), expect_rc, "%s", ctx.msg);
	return out[0];
}

Test(run, cache_keeps_weights_and_changes_nothing)
{
	struct od_ctx ctx = { 0 };
	struct od_model *m = NULL, *other = NULL;
	cr_assert_eq(od_model_load(OD_SRCDIR "/fixtures/cnn/model.onnx", NULL, &m, &ctx), 0, "%s", ctx.msg);
	cr_assert_eq(od_model_load(OD_SRCDIR "/fixtures/mobilenet/model.onnx", NULL, &other, &ctx), 0,
	             "%s", ctx.msg);
	struct od_arena *a = od_arena_new();
	struct od_run_cache *c = od_run_cache_new();
	struct od_run_opts opts = { .threads = 1, .cache = c };
	struct od_tensor *plain = run_once(m, NULL, a, 0);
	for (int i = 0; i < 3; i++) {
		struct od_tensor *y = run_once(m, &opts, a, 0);
		cr_assert_eq(y->nbytes, plain->nbytes);
		cr_assert_eq(memcmp(y->data, plain->data, plain->nbytes), 0, "run %d with the cache", i);
	}
	/* the fixture's weights sit at odd offsets of its file: they are what is kept */
	size_t kept = od_eval_cache_count(c);
	cr_assert_gt(kept, 0, "no weight kept");
	run_once(m, &opts, a, 0);
	cr_assert_eq(od_eval_cache_count(c), kept, "a later run reads nothing new");
	run_once(other, &opts, a, OD_EARG);
	od_run_cache_free(c);
	od_arena_free(a);
	od_model_free(other);
	od_model_free(m);
}

Test(run, set_threads_alone)
{
	od_run_set_threads(3);
	cr_assert_eq(od_eval_threads(), 3);
	od_run_set_threads(-1);
	cr_assert_eq(od_eval_threads(), usable_cpus());
}

/* op(A) op(B) in double, element by element. */
static double ref_at(bool ta, bool tb, int k, const float *a, int lda, const float *b, int ldb,
                     int i, int j)
{
	double s = 0;
	for (int p = 0; p < k; p++)
		s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
	return s;
}

/* Wide C (split by columns) and tall C (split by rows), each with both operands plain and
 * transposed, on 1 and 3 threads; C is a block of a wider matrix whose other columns must
 * stay as they were. */
Test(run, split_products_are_the_product)
{
	const int shapes[2][3] = { { 40, 900, 70 }, { 900, 40, 70 } };   /* m, n, k */
	for (int sh = 0; sh < 2; sh++)
		for (int t = 0; t < 4; t++)
			for (int threads = 1; threads <= 3; threads += 2) {
				bool ta = t & 1, tb = t & 2;
				int m = shapes[sh][0], n = shapes[sh][1], k = shapes[sh][2];
				int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 7;
				float *a = malloc(sizeof *a * (size_t)lda * (size_t)(ta ? k : m));
				float *b = malloc(sizeof *b * (size_t)ldb * (size_t)(tb ? n : k));
				float *c = malloc(sizeof *c * (size_t)ldc * (size_t)m);
				cr_assert(a && b && c);
				for (int i = 0; i < lda * (ta ? k : m); i++)
					a[i] = (float)((i * 7919LL) % 13) - 6.0f;
				for (int i = 0; i < ldb * (tb ? n : k); i++)
					b[i] = (float)((i * 104729LL) % 11) - 5.0f;
				for (int i = 0; i < ldc * m; i++)
					c[i] = 1.0f;
				od_eval_set_threads(threads);
				ev_sgemm(ta, tb, m, n, k, 2.0f, a, lda, b, ldb, 0.5f, c, ldc);
				for (int i = 0; i < m; i++)
					for (int j = 0; j < ldc; j++) {
						double want = j < n ? 2 * ref_at(ta, tb, k, a, lda, b, ldb, i, j) + 0.5 : 1;
						cr_assert_eq(c[i * ldc + j], (float)want,
						             "%s, ta %d tb %d, %d threads: C[%d,%d] = %g, want %g",
						             sh ? "tall" : "wide", ta, tb, threads, i, j,
						             c[i * ldc + j], want);
					}
				free(a);
				free(b);
				free(c);
			}
	od_eval_set_threads(1);
}
