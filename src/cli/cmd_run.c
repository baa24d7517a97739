/*
 * cmd_run.c — `onnxdiff run MODEL [--feed NAME=VALUE]... -o DIR`: evaluates a model with
 * onnxdiff's own kernels, writes each output as DIR/NAME.npy and prints a line per output
 * (dtype, shape, min, max, mean) and the evaluation time.
 *
 * Exit 0 done; 2 trouble (one line on stderr; no output file is written when the model
 * cannot be run).
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "cli.h"
#include "cli_feed.h"

static const char usage[] = "run MODEL -o DIR [--feed NAME=VALUE]... [options] (see --help)";

static const char help[] =
	"usage: onnxdiff run MODEL -o DIR [--feed NAME=VALUE]... [options]\n"
	"\n"
	"  --feed NAME=VALUE    the value of input NAME: a literal (0.5, [[1,0]]), @file.npy or\n"
	"                       @file.pb; inputs not given get seeded random values (floats in\n"
	"                       [-1,1), integers in [0,4))\n"
	"  --dim NAME=SIZE      the size of symbolic dim NAME for random inputs (default 1)\n"
	"  --seed N             seed of the random inputs (default 0)\n"
	"  -o, --output DIR     where to write NAME.npy per output (created if missing)\n"
	"  --repeat N           evaluate N times, print the median time (loading excluded)\n"
	"  --threads N          threads to evaluate with (default: every CPU this process may use)\n"
	"  -q, --quiet          no summary\n"
	"\n"
	"exit status: 0 done, 2 trouble\n";

struct run_args {
	const char *model, *dir;
	struct cli_feeds feeds;
	long repeat;
	int threads;
	bool quiet;
};

static int parse_args(int argc, char **argv, struct run_args *ra)
{
	static const struct option opts[] = {
		{"feed", required_argument, NULL, 'F'}, {"dim", required_argument, NULL, 'D'},
		{"seed", required_argument, NULL, 'S'}, {"output", required_argument, NULL, 'o'},
		{"repeat", required_argument, NULL, 'r'}, {"threads", required_argument, NULL, 't'},
		{"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'}, {0}};
	int c, rc = 0;
	long v;
	while (!rc && (c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'F': rc = cli_feed_opt(&ra->feeds, "feed", optarg); break;
		case 'D': rc = cli_feed_opt(&ra->feeds, "dim", optarg); break;
		case 'S': rc = cli_feed_opt(&ra->feeds, "seed", optarg); break;
		case 'o': ra->dir = optarg; break;
		case 'q': ra->quiet = true; break;
		case 'r': rc = cli_parse_count("--repeat", optarg, 1, 1000000, &ra->repeat); break;
		case 't':
			if (!(rc = cli_parse_count("--threads", optarg, 1, 1024, &v)))
				ra->threads = (int)v;
			break;
		case 'h': fputs(help, stdout); return -1;
		default: return cli_usage(usage);
		}
	}
	if (rc)
		return rc;
	if (optind + 1 != argc || !ra->dir)
		return cli_usage(usage);
	ra->model = argv[optind];
	return 0;
}

/* "/model/out:0" -> "_model_out_0": letters, digits, '.', '-' and '_' stay. */
static char *file_name(const char *dir, const char *name, size_t k)
{
	size_t n = strlen(name);
	char *p = malloc(strlen(dir) + n + 32);
	if (!p)
		return NULL;
	char *q = p + sprintf(p, "%s/", dir);
	if (!n || name[0] == '.')
		*q++ = '_';
	for (size_t i = 0; i < n; i++)
		*q++ = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		       (name[i] >= '0' && name[i] <= '9') || strchr(".-_", name[i]) ? name[i] : '_';
	sprintf(q, !n ? "output%zu.npy" : ".npy", k);
	return p;
}

static void stats(const struct od_tensor *t, double *mn, double *mx, double *mean)
{
	double s = 0;
	*mn = INFINITY, *mx = -INFINITY;
	for (int64_t i = 0; i < t->numel; i++) {
		double v = od_tensor_get_f64(t, i);
		*mn = v < *mn ? v : *mn;
		*mx = v > *mx ? v : *mx;
		s += v;
	}
	*mean = t->numel ? s / (double)t->numel : NAN;
	if (!t->numel)
		*mn = *mx = NAN;
}

static int write_outputs(const struct run_args *ra, const struct od_model *m,
                         struct od_tensor **outs)
{
	if (mkdir(ra->dir, 0777) && errno != EEXIST)
		return cli_error("cannot create '%s': %s", ra->dir, strerror(errno));
	for (size_t k = 0; k < m->graph->n_outputs; k++) {
		struct od_ctx ctx = { 0 };
		char *path = file_name(ra->dir, m->graph->outputs[k]->name, k), shape[256];
		if (!path)
			return cli_error("out of memory");
		/* Two outputs whose names clean to the same file: the later one is numbered. */
		for (size_t j = 0; j < k; j++) {
			char *other = file_name(ra->dir, m->graph->outputs[j]->name, j);
			if (other && !strcmp(other, path))
				sprintf(path + strlen(path) - 4, ".%zu.npy", k);
			free(other);
		}
		int rc = od_tensor_save_npy(outs[k], path, &ctx);
		if (!rc && !ra->quiet) {
			double mn, mx, mean;
			stats(outs[k], &mn, &mx, &mean);
			printf("%s  %s%s  min %.6g  max %.6g  mean %.6g  -> %s\n",
			       m->graph->outputs[k]->name, od_dtype_name(outs[k]->dtype),
			       od_shape_str(outs[k], shape, sizeof shape), mn, mx, mean, path);
		}
		free(path);
		if (rc)
			return cli_error("%s", ctx.msg);
	}
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Evaluates ra->repeat times; the outputs of the last run stay in *a. Repeated runs keep
 * what the first prepares (od_run_cache), as an onnxruntime session does. */
static int evaluate(const struct run_args *ra, const struct od_model *m, const struct od_feed *f,
                    size_t nf, struct od_arena **a, struct od_tensor **outs, double *ms,
                    struct od_run_stats *st)
{
	struct od_run_opts o = { .threads = ra->threads, .stats = st };
	double *times = calloc((size_t)ra->repeat, sizeof *times);
	int rc = 0;
	if (!times || (ra->repeat > 1 && !(o.cache = od_run_cache_new())))
		rc = cli_error("out of memory");
	for (long i = 0; !rc && i < ra->repeat; i++) {
		struct od_ctx ctx = { 0 };
		od_arena_free(*a);
		if (!(*a = od_arena_new())) {
			rc = cli_error("out of memory");
			break;
		}
		double t0 = now_ms();
		if (od_run(m, f, nf, &o, *a, outs, &ctx))
			rc = cli_error("%s", ctx.msg);
		times[i] = now_ms() - t0;
	}
	if (!rc) {
		qsort(times, (size_t)ra->repeat, sizeof *times, cmp_double);
		*ms = ra->repeat % 2 ? times[ra->repeat / 2] :
		      (times[ra->repeat / 2 - 1] + times[ra->repeat / 2]) / 2;
	}
	od_run_cache_free(o.cache);
	free(times);
	return rc;
}

static int run(struct run_args *ra)
{
	struct od_model *m = NULL;
	struct od_arena *fa = od_arena_new(), *oa = NULL;
	struct od_feed *feeds;
	struct od_tensor **outs = NULL;
	size_t nf;
	double ms = 0;
	struct od_run_stats st = { 0 };
	int rc = CLI_TROUBLE;
	cli_keep_freed_memory();
	if (!fa || cli_load(ra->model, &m) || cli_feeds_make(m, &ra->feeds, fa, &feeds, &nf))
		goto out;
	if (!(outs = calloc(m->graph->n_outputs + 1, sizeof *outs))) {
		cli_error("out of memory");
		goto out;
	}
	if (evaluate(ra, m, feeds, nf, &oa, outs, &ms, &st) || write_outputs(ra, m, outs))
		goto out;
	if (!ra->quiet && ra->repeat > 1)
		printf("eval: median %.3f ms over %ld runs\n", ms, ra->repeat);
	else if (!ra->quiet)
		printf("eval: %.3f ms\n", ms);
	if (!ra->quiet && st.peak_bytes < 1024)
		printf("activations: %zu B alive at most\n", st.peak_bytes);
	else if (!ra->quiet)
		printf("activations: %.1f %s alive at most\n", (double)st.peak_bytes /
		       (st.peak_bytes < (1 << 20) ? 1024 : 1 << 20), st.peak_bytes < (1 << 20) ? "KiB" : "MiB");
	rc = fflush(stdout) ? cli_error("cannot write the summary: %s", strerror(errno)) : CLI_SAME;
out:
	free(outs);
	od_arena_free(oa);
	od_arena_free(fa);
	od_model_free(m);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_args ra = { .repeat = 1 };
	int rc = parse_args(argc, argv, &ra);
	if (rc < 0)
		rc = CLI_SAME;                  /* --help */
	else if (!rc)
		rc = run(&ra);
	cli_feeds_free(&ra.feeds);
	return rc;
}
