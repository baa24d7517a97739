/*
 * kernels.c — checks every eval kernel against ONNX's own backend node tests.
 *
 * For each node/test_<name>/ folder whose graph uses only ops the kernel table claims at the
 * model's opset (expanded tests with several nodes included), every test_data_set_* is
 * run: input_K.pb bound to the K-th graph input, the nodes evaluated in file order, and
 * each graph output compared with output_K.pb (dtype and shape exactly; floats within a
 * relative tolerance, ints, bools and strings exactly). A graph with If, Loop or Scan (whose
 * bodies use only claimed ops) runs through the graph executor, od_run(), instead. A
 * kernel that refuses a dtype or
 * attribute it does not claim makes the test "skipped"; anything else that differs fails.
 *
 *   kernels [-v] [-k SUBSTRING] [NODE_DIR]
 *
 * NODE_DIR defaults to $top_srcdir/../shared/onnx-backend-tests/node. Exit status: 0 when
 * every claimed test passed, 1 when one failed, 77 when NODE_DIR is missing, 2 on trouble.
 */
#include "config.h"
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "od.h"
#include "eval.h"
#include "run.h"

enum outcome { PASSED, FAILED, SKIPPED, UNCLAIMED };

struct row {
	char op[64];
	int tests, passed, skipped;
};

static struct row rows[512];
static int n_rows;
static bool verbose;

static struct row *row_for(const char *op)
{
	for (int i = 0; i < n_rows; i++)
		if (!strcmp(rows[i].op, op))
			return &rows[i];
	if (n_rows == (int)(sizeof rows / sizeof *rows))
		return NULL;
	snprintf(rows[n_rows].op, sizeof rows[n_rows].op, "%s", op);
	return &rows[n_rows++];
}

/* ---- values by name ------------------------------------------------------------------- */

struct env {
	size_t n, cap;
	const char **names;
	struct od_tensor **vals;
};

static int env_set(struct env *v, const char *name, struct od_tensor *t)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 16;
		v->names = realloc(v->names, v->cap * sizeof *v->names);
		v->vals = realloc(v->vals, v->cap * sizeof *v->vals);
		if (!v->names || !v->vals)
			return -1;
	}
	v->names[v->n] = name;
	v->vals[v->n++] = t;
	return 0;
}

static struct od_tensor *env_get(const struct env *v, const char *name)
{
	for (size_t i = v->n; i-- > 0;)
		if (!strcmp(v->names[i], name))
			return v->vals[i];
	return NULL;
}

/* ---- comparing ------------------------------------------------------------------------- */

/* Tests whose expected outputs ONNX typed in by hand to four decimals (not computed by the
 * reference, and rounded from a float32 computation, as "0.1511" for 1.3595 / 9), and one
 * whose reference transformed in float32 (numpy 2's fft keeps float32; FFTW here computes
 * in double, as numpy 1 did: 1.62407732 where numpy 1 gives 1.6240773 and the file
 * 1.62408185, beside values of 952): compared within 1e-4. */
static const char *const rounded[] = { "test_averagepool_2d_ceil_last_window_starts_on_pad",
                                       "test_gridsample_bicubic", "test_roialign_aligned_false",
                                       "test_roialign_aligned_true", "test_stft_with_window" };
static double rounded_atol;             /* 0, or 1e-4 while such a test runs */

static bool close_enough(double got, double want, int dtype)
{
	/* Relative 1e-6, plus an absolute 1e-6 for results near zero: the reference computes
	 * float chains (expanded tests) in float32, and a float32 cancellation such as
	 * exp(x) - 1 leaves errors of a few float32 ulps of the operands, not of the result. */
	double rtol = 1e-6, atol = dtype == OD_DOUBLE ? 1e-12 : 1e-6;
	if (dtype == OD_FLOAT16)
		rtol = atol = 1e-3;
	else if (dtype == OD_BFLOAT16)
		rtol = atol = 1e-2;
	if (isnan(got) || isnan(want))
		return isnan(got) && isnan(want);
	if (got == want)
		return true;
	return fabs(got - want) <= rtol * fabs(want) + atol + rounded_atol;
}

static bool is_float(int dtype)
{
	return dtype == OD_FLOAT || dtype == OD_DOUBLE || dtype == OD_FLOAT16 ||
	       dtype == OD_BFLOAT16;
}

/* Empty string when equal, else what differs. */
static void compare(const struct od_tensor *got, const struct od_tensor *want, char *why,
                    size_t n)
{
	char a[128], b[128];
	*why = 0;
	if (got->dtype != want->dtype) {
		snprintf(why, n, "dtype %s, expected %s", od_dtype_name(got->dtype),
		         od_dtype_name(want->dtype));
		return;
	}
	if (got->ndims != want->ndims || (got->ndims && memcmp(got->dims, want->dims,
	                                  (size_t)got->ndims * sizeof *got->dims))) {
		snprintf(why, n, "shape %s, expected %s", od_shape_str(got, a, sizeof a),
		         od_shape_str(want, b, sizeof b));
		return;
	}
	for (int64_t i = 0; i < got->numel; i++) {
		bool same;
		if (got->dtype == OD_STRING)
			same = got->strings[i].len == want->strings[i].len &&
			       !memcmp(got->strings[i].data, want->strings[i].data, got->strings[i].len);
		else if (is_float(got->dtype))
			same = close_enough(od_tensor_get_f64(got, i), od_tensor_get_f64(want, i),
			                    got->dtype);
		else {
			size_t es = od_dtype_size(got->dtype);
			same = !memcmp((const char *)got->data + i * es, (const char *)want->data + i * es,
			               es);
		}
		if (!same) {
			snprintf(why, n, "element %lld is %.9g, expected %.9g", (long long)i,
			         od_tensor_get_f64(got, i), od_tensor_get_f64(want, i));
			return;
		}
	}
}

/* ---- one test ------------------------------------------------------------------------------ */

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Runs the whole graph with od_run() (for If, Loop and Scan) into v. */
static enum outcome run_graph(const struct od_model *m, struct env *v, size_t loaded, struct od_arena *a,
                              char *why, size_t n)
{
	const struct od_graph *g = m->graph;
	struct od_feed feeds[64];
	struct od_tensor *outs[64] = { 0 };
	struct od_ctx ctx = { 0 };
	size_t nf = 0;
	if (g->n_inputs > 64 || g->n_outputs > 64) {
		snprintf(why, n, "too many inputs or outputs");
		return SKIPPED;
	}
	for (size_t k = 0; k < loaded; k++)          /* the inputs a data set gives */
		feeds[nf++] = (struct od_feed){ g->inputs[k]->name, env_get(v, g->inputs[k]->name) };
	int rc = od_run(m, feeds, nf, NULL, a, outs, &ctx);
	if (rc) {
		snprintf(why, n, "%s", ctx.msg);
		return rc == OD_EUNSUPPORTED ? SKIPPED : FAILED;
	}
	for (size_t k = 0; k < g->n_outputs; k++)
		env_set(v, g->outputs[k]->name, outs[k]);
	return PASSED;
}

/* Runs data set dir on model m (through the executor when flow); fills why (empty on success). */
static enum outcome run_set(const struct od_model *m, bool flow, const char *dir, char *why, size_t n)
{
	struct od_arena *a = od_arena_new();
	struct od_ctx ctx = { 0 };
	struct env v = { 0 };
	char path[8400];
	enum outcome res = PASSED;
	const struct od_graph *g = m->graph;
	for (size_t k = 0; k < g->n_inits; k++)
		env_set(&v, g->inits[k]->name, g->inits[k]);
	size_t given = 0;
	for (; given < g->n_inputs; given++) {
		struct od_tensor *t;
		snprintf(path, sizeof path, "%s/input_%zu.pb", dir, given);
		if (!exists(path))
			break;
		if (od_tensor_load_pb(a, path, &t, &ctx)) {
			snprintf(why, n, "input %zu: %s", given, ctx.msg);
			res = SKIPPED;
			goto out;
		}
		env_set(&v, g->inputs[given]->name, t);
	}
	if (flow && (res = run_graph(m, &v, given, a, why, n)) != PASSED)
		goto out;
	for (size_t i = 0; !flow && i < g->n_nodes; i++) {
		const struct od_node *nd = g->nodes[i];
		struct od_tensor *ins[64] = { 0 }, *outs[16] = { 0 };
		if (nd->n_inputs > 64 || nd->n_outputs > 16) {
			snprintf(why, n, "node %zu has too many inputs or outputs", i);
			res = SKIPPED;
			goto out;
		}
		for (size_t j = 0; j < nd->n_inputs; j++) {
			if (!*nd->inputs[j])
				continue;
			ins[j] = env_get(&v, nd->inputs[j]);
			if (!ins[j]) {
				snprintf(why, n, "no value for '%s'", nd->inputs[j]);
				res = SKIPPED;
				goto out;
			}
		}
		int rc = od_eval_node(nd, od_model_opset(m, nd->domain), ins, outs, 0, a, &ctx);
		if (rc) {
			snprintf(why, n, "%s", ctx.msg);
			res = rc == OD_EUNSUPPORTED ? SKIPPED : FAILED;
			goto out;
		}
		for (size_t j = 0; j < nd->n_outputs; j++)
			if (*nd->outputs[j])
				env_set(&v, nd->outputs[j], outs[j]);
	}
	for (size_t k = 0; k < g->n_outputs; k++) {
		struct od_tensor *want, *got = env_get(&v, g->outputs[k]->name);
		snprintf(path, sizeof path, "%s/output_%zu.pb", dir, k);
		if (od_tensor_load_pb(a, path, &want, &ctx)) {
			snprintf(why, n, "output %zu: %s", k, ctx.msg);
			res = SKIPPED;
			goto out;
		}
		if (!got) {
			snprintf(why, n, "output '%s' not computed", g->outputs[k]->name);
			res = FAILED;
			goto out;
		}
		char diff[512];
		compare(got, want, diff, sizeof diff);
		if (*diff) {
			snprintf(why, n, "output '%.100s': %s", g->outputs[k]->name, diff);
			res = FAILED;
			goto out;
		}
	}
	*why = 0;
out:
	free(v.names);
	free(v.vals);
	od_arena_free(a);
	return res;
}

static bool control_flow(const struct od_node *nd)
{
	return (!*nd->domain || !strcmp(nd->domain, "ai.onnx")) &&
	       (!strcmp(nd->op_type, "If") || !strcmp(nd->op_type, "Loop") || !strcmp(nd->op_type, "Scan"));
}

/* Whether every node of g and of its subgraphs is claimed by the table or is If, Loop or
 * Scan; *flow tells whether one was. */
static bool graph_claimed(const struct od_model *m, const struct od_graph *g, bool *flow)
{
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct od_node *nd = g->nodes[i];
		if (control_flow(nd)) {
			*flow = true;
			for (size_t a = 0; a < nd->n_attrs; a++)
				if (nd->attrs[a].type == OD_ATTR_GRAPH && !graph_claimed(m, nd->attrs[a].g, flow))
					return false;
		} else if (!od_eval_has_kernel(nd->domain, nd->op_type, od_model_opset(m, nd->domain))) {
			return false;
		}
	}
	return true;
}

/* Whether the table claims every node of m's graph (*flow: through the executor, for the
 * If/Loop/Scan nodes it never claims). */
static bool claimed(const struct od_model *m, bool *flow)
{
	*flow = false;
	return m->graph->n_nodes && graph_claimed(m, m->graph, flow);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of dir's entries starting with prefix; caller frees each and the array. */
static size_t list_dir(const char *dir, const char *prefix, char ***out)
{
	DIR *d = opendir(dir);
	size_t n = 0, cap = 0;
	char **names = NULL;
	for (struct dirent *de; d && (de = readdir(d));) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (n == cap && !(names = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof *names)))
			abort();
		names[n++] = strdup(de->d_name);
	}
	if (d)
		closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	*out = names;
	return n;
}

static enum outcome run_test(const char *root, const char *name, const struct od_model **mp,
                             char *why, size_t n)
{
	char dir[8192], path[8300];
	struct od_model *m;
	struct od_ctx ctx = { 0 };
	char **sets;
	snprintf(dir, sizeof dir, "%s/%s", root, name);
	rounded_atol = 0;
	for (size_t i = 0; i < sizeof rounded / sizeof *rounded; i++)
		if (!strcmp(name, rounded[i]))
			rounded_atol = 1e-4;
	snprintf(path, sizeof path, "%s/model.onnx", dir);
	*mp = NULL;
	if (od_model_load(path, NULL, &m, &ctx)) {
		snprintf(why, n, "cannot load: %s", ctx.msg);
		return UNCLAIMED;
	}
	*mp = m;
	bool flow;
	if (!claimed(m, &flow))
		return UNCLAIMED;
	size_t ns = list_dir(dir, "test_data_set_", &sets);
	enum outcome res = ns ? PASSED : SKIPPED;
	snprintf(why, n, "no data sets");
	for (size_t i = 0; i < ns; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, sets[i]);
		if (res == PASSED)
			res = run_set(m, flow, path, why, n);
		free(sets[i]);
	}
	free(sets);
	return res;
}

static void count(const struct od_model *m, enum outcome res)
{
	const struct od_graph *g = m->graph;
	for (size_t i = 0; i < g->n_nodes; i++) {
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(g->nodes[j]->op_type, g->nodes[i]->op_type);
		struct row *r = seen ? NULL : row_for(g->nodes[i]->op_type);
		if (!r)
			continue;
		r->tests++;
		r->passed += res == PASSED;
		r->skipped += res == SKIPPED;
	}
}

static int cmp_row(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->op, ((const struct row *)b)->op);
}

int main(int argc, char **argv)
{
	const char *filter = NULL, *root = NULL;
	char buf[4096], why[1024];
	int opt, n_pass = 0, n_fail = 0, n_skip = 0, n_unclaimed = 0;
	while ((opt = getopt(argc, argv, "vk:")) != -1) {
		if (opt == 'v')
			verbose = true;
		else if (opt == 'k')
			filter = optarg;
		else {
			fprintf(stderr, "usage: kernels [-v] [-k SUBSTRING] [NODE_DIR]\n");
			return 2;
		}
	}
	if (optind < argc) {
		root = argv[optind];
	} else {
		const char *top = getenv("top_srcdir");
		snprintf(buf, sizeof buf, "%s/../shared/onnx-backend-tests/node", top ? top : ".");
		root = buf;
	}
	char **tests;
	size_t nt = list_dir(root, "test_", &tests);
	if (!nt) {
		fprintf(stderr, "kernels: no tests in '%s'\n", root);
		return 77;
	}
	for (size_t i = 0; i < nt; i++) {
		const struct od_model *m;
		if (filter && !strstr(tests[i], filter)) {
			free(tests[i]);
			continue;
		}
		enum outcome res = run_test(root, tests[i], &m, why, sizeof why);
		if (res == UNCLAIMED) {
			n_unclaimed++;
			if (!m)
				printf("skip %s: %s\n", tests[i], why);
		} else {
			count(m, res);
			n_pass += res == PASSED;
			n_fail += res == FAILED;
			n_skip += res == SKIPPED;
			if (res == FAILED)
				printf("FAIL %s: %s\n", tests[i], why);
			else if (res == SKIPPED && (verbose || !strstr(why, "data type")) &&
			         (verbose || !strstr(why, "dtype")))
				printf("skip %s: %s\n", tests[i], why);
			else if (verbose)
				printf("pass %s\n", tests[i]);
		}
		od_model_free((struct od_model *)m);
		free(tests[i]);
	}
	free(tests);
	qsort(rows, (size_t)n_rows, sizeof *rows, cmp_row);
	printf("%-20s %6s %7s %8s\n", "op", "tests", "passed", "skipped");
	for (int i = 0; i < n_rows; i++)
		printf("%-20s %6d %7d %8d\n", rows[i].op, rows[i].tests, rows[i].passed,
		       rows[i].skipped);
	printf("(a test counts once for each op its graph uses; %d tests use ops the table "
	       "does not claim; %d skipped)\n", n_unclaimed, n_skip);
	printf("kernels: %d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
