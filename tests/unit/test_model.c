/*
 * test_model.c — loading, validating, saving and round-tripping models; truncation at
 * every byte; allocation and write failures.
 */
#include "config.h"
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "od.h"
#include "internal.h"
#include "helpers.h"

#define FIX OD_SRCDIR "/fixtures/"

static int count_files(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;
	cr_assert(fscanf(p, "%d", &n) == 1);
	pclose(p);
	return n;
}

Test(model, seed_interface)
{
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	const struct od_graph *g = m->graph;
	cr_assert_eq(g->n_inputs, 2);
	cr_assert_str_eq(g->inputs[0]->name, "x");
	cr_assert_str_eq(g->inputs[1]->name, "mask");
	cr_assert_eq(g->inputs[0]->dtype, OD_FLOAT);
	cr_assert_eq(g->inputs[0]->rank, 2);
	cr_assert_str_eq(g->inputs[0]->dims[0].param, "batch");
	cr_assert_eq(g->inputs[0]->dims[1].value, 4);
	cr_assert_eq(g->n_nodes, 2);
	cr_assert_str_eq(g->nodes[0]->op_type, "Gemm");
	cr_assert_eq(od_model_opset(m, ""), 14);
	cr_assert_eq(od_model_opset(m, "ai.onnx"), 14);
	od_model_free(m);
}

/* A domain imported twice runs at its last import (onnx.checker rejects HardSwish under
 * "ai.onnx 14, then 11" and accepts it under "11, then 14"); "" and "ai.onnx" are one. */
Test(model, opset_last_import_counts)
{
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	struct od_opset o[] = {{"", 11, NULL}, {"com.x", 2, NULL}, {"ai.onnx", 13, NULL},
	                       {"com.x", 1, NULL}};
	m->opsets = o;
	m->n_opsets = 4;
	cr_expect_eq(od_model_opset(m, ""), 13);
	cr_expect_eq(od_model_opset(m, "ai.onnx"), 13);
	cr_expect_eq(od_model_opset(m, "com.x"), 1);
	cr_expect_eq(od_model_opset(m, "com.y"), 0);
	o[2] = (struct od_opset){"", 9, NULL};
	cr_expect_eq(od_model_opset(m, "ai.onnx"), 9);
	od_model_free(m);
}

Test(model, same_weights_hash_alike_across_exports)
{
	struct od_model *a = load(FIX "seed/with_mask.onnx"), *b = load(FIX "seed/wrapper.onnx");
	struct od_tensor *wa = od_graph_find_init(a->graph, "linear.weight");
	struct od_tensor *wb = od_graph_find_init(b->graph, "m.linear.weight");
	cr_assert(wa && wb);
	cr_assert_eq(wa->numel, 16);
	cr_assert(od_tensor_equal(wa, wb));
	cr_assert_eq(od_tensor_hash(wa), od_tensor_hash(wb));
	struct od_tensor *mask = od_graph_find_init(b->graph, "mask");
	cr_assert(mask);
	cr_assert_neq(od_tensor_hash(mask), od_tensor_hash(wa));
	/* the mask the wrapper holds is the one in mask.npy: [[1,0,1,1]] */
	cr_assert_float_eq(od_tensor_get_f64(mask, 0), 1.0, 0);
	cr_assert_float_eq(od_tensor_get_f64(mask, 1), 0.0, 0);
	od_model_free(a);
	od_model_free(b);
}

Test(model, large_payloads_are_views_into_the_file)
{
	size_t len;
	void *buf = slurp(FIX "transformer/with_mask.onnx", &len);
	struct od_ctx ctx = {0};
	struct od_model *m;
	cr_assert_eq(od_model_load_buffer(buf, len, "t", NULL, NULL, &m, &ctx), 0, "%s", ctx.msg);
	struct od_tensor *t = od_graph_find_init(m->graph, "onnx::MatMul_218");
	cr_assert(t && t->nbytes == 16 * 48 * 4);
	cr_assert((const char *)t->data >= (const char *)buf && (const char *)t->data + t->nbytes <= (const char *)buf + len,
	          "a 3 KiB payload should be a view into the caller's buffer, not a copy");
	od_model_free(m);
	free(buf);
}

/* Every cut of a model, in process (tests/cli/bad.sh runs a sample of cuts through the
 * command line): an error naming the file in one line, never a crash or a leak. A cut at
 * a field boundary may leave a valid model (with a field missing) only where must_fail
 * is false. */
struct cut_case {           /* arrays, not pointers: Criterion copies parameters */
	char path[200];
	char dir[200];          /* its folder for external data, "" for none */
	bool must_fail;
};

static void every_cut(const struct cut_case *cc)
{
	size_t len;
	unsigned char *buf = slurp(cc->path, &len);
	for (size_t cut = 0; cut < len; cut++) {
		struct od_ctx ctx = {0};
		struct od_model *m = NULL;
		int rc = od_model_load_buffer(buf, cut, "cut", *cc->dir ? cc->dir : NULL, NULL, &m, &ctx);
		if (rc == 0 && !cc->must_fail) {
			cr_assert_not_null(m);
			od_model_free(m);
			continue;
		}
		cr_assert_lt(rc, 0, "%s cut at byte %zu loaded", cc->path, cut);
		cr_assert_null(m);
		cr_assert(strchr(ctx.msg, '\n') == NULL && *ctx.msg, "one-line message at %zu", cut);
		cr_assert(!strncmp(ctx.msg, "cannot load 'cut': ", 19), "%s cut at byte %zu: '%s'",
		          cc->path, cut, ctx.msg);
	}
	free(buf);
}

ParameterizedTestParameters(model, truncation_at_every_byte)
{
	static struct cut_case cases[] = {
		{FIX "seed/with_mask.onnx", "", true},
		{FIX "if/model.onnx", "", false},
		{FIX "hidden/with_hidden.onnx", "", false},
		{OD_SRCDIR "/tests/bad/ok-ext.onnx", OD_SRCDIR "/tests/bad", false},
		{OD_SRCDIR "/tests/bad/ok-subgraphs-at-limit.onnx", "", false},
	};
	return cr_make_param_array(struct cut_case, cases, sizeof cases / sizeof cases[0]);
}

ParameterizedTest(struct cut_case *cc, model, truncation_at_every_byte)
{
	every_cut(cc);
}

Test(model, serialize_round_trip_is_stable)
{
	struct od_model *m = load(FIX "if/model.onnx"), *r;
	void *b1, *b2;
	size_t l1, l2;
	struct od_ctx ctx = {0};
	cr_assert_eq(od_model_serialize(m, &b1, &l1, &ctx), 0);
	cr_assert_eq(od_model_load_buffer(b1, l1, "mem", NULL, NULL, &r, &ctx), 0, "%s", ctx.msg);
	cr_assert_eq(od_model_serialize(r, &b2, &l2, &ctx), 0);
	cr_assert_eq(l1, l2);
	cr_assert(!memcmp(b1, b2, l1));
	cr_assert_eq(od_graph_count_subgraphs(r->graph), 2);
	od_model_free(r);
	od_model_free(m);
	free(b1);
	free(b2);
}

Test(model, save_is_atomic_and_leaves_nothing_on_failure)
{
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	struct od_ctx ctx = {0};
	char *d = tmpdir(), path[512];
	snprintf(path, sizeof path, "%s/sub/out.onnx", d);
	cr_assert_lt(od_model_save(m, path, NULL, &ctx), 0, "saving into a missing folder must fail");
	cr_assert(strstr(ctx.msg, "cannot write"), "%s", ctx.msg);
	snprintf(path, sizeof path, "%s/out.onnx", d);
#ifdef OD_FAULT_INJECTION
	for (long k = 1; k <= 3; k++) {
		od_fault_write_after(k);
		int rc = od_model_save(m, path, NULL, &ctx);
		od_fault_write_after(0);
		if (rc == 0)
			break;
		cr_assert_eq(rc, OD_EIO);
		cr_assert(strstr(ctx.msg, "No space left"), "%s", ctx.msg);
		cr_assert_eq(count_files(d), 0, "a failed write left a file behind");
	}
#endif
	cr_assert_eq(od_model_save(m, path, NULL, &ctx), 0, "%s", ctx.msg);
	cr_assert_eq(count_files(d), 1);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert(st.st_mode & S_IRUSR);
	od_model_free(m);
	m = load(path);
	cr_assert_eq(m->graph->n_nodes, 2);
	od_model_free(m);
	unlink(path);
	rmdir(d);
	free(d);
}

Test(model, external_data_round_trip)
{
	struct od_model *m = load(FIX "transformer/with_mask.onnx"), *r;
	struct od_ctx ctx = {0};
	char *d = tmpdir(), path[512];
	snprintf(path, sizeof path, "%s/ext.onnx", d);
	struct od_save_opts opts = {.external_data = true, .external_min = 1024};
	cr_assert_eq(od_model_save(m, path, &opts, &ctx), 0, "%s", ctx.msg);
	r = load(path);
	size_t ext = 0;
	for (size_t i = 0; i < r->graph->n_inits; i++) {
		struct od_tensor *t = r->graph->inits[i], *o = od_graph_find_init(m->graph, t->name);
		ext += t->ext != NULL;
		cr_assert(o && od_tensor_equal(o, t), "initializer %s changed", t->name);
		cr_assert_eq(t->ext != NULL, t->nbytes >= 1024);
	}
	cr_assert_geq(ext, 3);
	/* a model with external data saved again keeps it external */
	snprintf(path, sizeof path, "%s/again.onnx", d);
	cr_assert_eq(od_model_save(r, path, NULL, &ctx), 0, "%s", ctx.msg);
	od_model_free(r);
	r = load(path);
	ext = 0;
	for (size_t i = 0; i < r->graph->n_inits; i++)
		ext += r->graph->inits[i]->ext != NULL;
	cr_assert_geq(ext, 3);
	cr_assert_eq(count_files(d), 4);
	od_model_free(r);
	od_model_free(m);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
	cr_assert_eq(system(cmd), 0);
	free(d);
}

#ifdef OD_FAULT_INJECTION
Test(model, every_allocation_failure_is_a_clean_error)
{
	size_t len;
	void *buf = slurp(FIX "if/model.onnx", &len);
	long k;
	for (k = 1; k < 100000; k++) {
		struct od_ctx ctx = {0};
		struct od_model *m = NULL;
		od_fault_alloc_after(k);
		int rc = od_model_load_buffer(buf, len, "if", NULL, NULL, &m, &ctx);
		long used = od_fault_alloc_count();
		od_fault_alloc_after(0);
		if (rc == 0) {
			cr_assert_lt(used, k, "allocation %ld failed but the load succeeded", k);
			od_model_free(m);
			break;
		}
		cr_assert_eq(rc, OD_ENOMEM, "allocation %ld: %s", k, ctx.msg);
		cr_assert_null(m);
	}
	cr_assert_gt(k, 3, "the load should allocate several times");
	free(buf);
}
#endif

/* ---- protobuf's rules and ONNX's conversions (tests/cli/proto, written by make-proto.py) ---- */

#define PROTO OD_SRCDIR "/tests/cli/proto/"

Test(model, raw_data_given_twice_reads_the_last)
{
	struct od_model *m = load(PROTO "raw-twice.onnx");
	struct od_tensor *t = od_graph_find_init(m->graph, "w");
	cr_assert(t && t->nbytes == 4);
	cr_assert_float_eq(od_tensor_get_f64(t, 0), 1000.0, 0, "protobuf keeps the last raw_data");
	od_model_free(m);
}

Test(model, a_tensor_given_twice_merges)
{
	static const char *const files[] = {"const-twice.onnx", "const-split.onnx"};
	static const double want[2][2] = {{1000, 1000}, {1, 2}};
	for (int f = 0; f < 2; f++) {
		char path[512];
		snprintf(path, sizeof path, PROTO "%s", files[f]);
		struct od_model *m = load(path);
		const struct od_tensor *t = m->graph->nodes[0]->attrs[0].t;
		cr_assert(t && t->numel == 2, "%s", files[f]);
		for (int i = 0; i < 2; i++)
			cr_assert_float_eq(od_tensor_get_f64(t, i), want[f][i], 0, "%s[%d]", files[f], i);
		od_model_free(m);
	}
}

Test(model, bool_from_int32_data_is_nonzero)
{
	struct od_model *m = load(PROTO "bool-256.onnx");
	const struct od_tensor *t = od_graph_find_init(m->graph, "w");
	cr_assert(t && t->nbytes == 3);
	cr_assert(!memcmp(t->data, "\1\0\1", 3), "256 and -1 are true, as in onnxruntime");
	od_model_free(m);
}

Test(model, sparse_initializers_are_tensors_by_content)
{
	struct od_model *a = load(PROTO "sparse-1.onnx"), *b = load(PROTO "sparse-1000.onnx");
	struct od_model *z = load(PROTO "sparse-1-zero.onnx"), *r;
	struct od_tensor *t = od_graph_find_init(a->graph, "w");
	cr_assert(t && t->sparse && t->sparse->nnz == 2 && t->numel == 4);
	double want[4] = {1, 0, 0, 1};
	for (int i = 0; i < 4; i++)
		cr_assert_float_eq(od_tensor_get_f64(t, i), want[i], 0, "dense element %d", i);
	struct od_tensor *u = od_graph_find_init(b->graph, "w"), *v = od_graph_find_init(z->graph, "w");
	cr_assert_neq(od_tensor_hash(t), od_tensor_hash(u), "other values, other hash");
	cr_assert(!od_tensor_equal(t, u));
	cr_assert_eq(od_tensor_hash(t), od_tensor_hash(v), "an explicit zero is the same content");
	cr_assert(od_tensor_equal(t, v));
	void *buf;
	size_t len;
	struct od_ctx ctx = {0};
	cr_assert_eq(od_model_serialize(a, &buf, &len, &ctx), 0, "%s", ctx.msg);
	cr_assert_eq(od_model_load_buffer(buf, len, "mem", NULL, NULL, &r, &ctx), 0, "%s", ctx.msg);
	struct od_tensor *w = od_graph_find_init(r->graph, "w");
	cr_assert(w && w->sparse && od_tensor_equal(t, w), "written back as the same sparse tensor");
	od_model_free(r);
	free(buf);
	od_model_free(z);
	od_model_free(b);
	od_model_free(a);
}
