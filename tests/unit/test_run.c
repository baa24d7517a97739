/*
 * test_run.c — what od_run promises beyond a CLI test's reach: the BLAS thread count
 * follows opts->threads (`--threads N`), and 0 means every CPU the process may use.
 */
#include "config.h"
#include <criterion/criterion.h>
#include <sched.h>
#include "od.h"
#include "run.h"

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

Test(run, blas_threads_follow_the_option)
{
	run_cnn(1);
	cr_assert_eq(openblas_get_num_threads(), 1);
	run_cnn(2);
	cr_assert_eq(openblas_get_num_threads(), 2);
	run_cnn(0);
	cr_assert_eq(openblas_get_num_threads(), usable_cpus(), "0: every usable CPU");
}

Test(run, set_threads_alone)
{
	od_run_set_threads(3);
	cr_assert_eq(openblas_get_num_threads(), 3);
	od_run_set_threads(-1);
	cr_assert_eq(openblas_get_num_threads(), usable_cpus());
}
