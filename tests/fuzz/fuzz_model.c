/*
 * fuzz_model.c — the libFuzzer target (scripts/fuzz.sh builds and runs it): any bytes go
 * through load, show (text and JSON), shape inference and `show --values` (text and JSON),
 * check, serialize and reload, diff against itself and
 * against the reloaded copy, and freeze of the first input to zeros. Besides crashes, leaks
 * and sanitizer reports it stops on broken promises: a failed call without a one-line
 * message, a serialized model that does not load again or serializes differently, a model
 * that differs from itself, a frozen model that no longer loads.
 */
#include "config.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "od.h"
#if __has_include("diff.h")
#include "diff.h"
#define HAVE_DIFF 1
#endif
#if __has_include("freeze.h")
#include "freeze.h"
#define HAVE_FREEZE 1
#endif

#if __has_include("shape.h")
#include "shape.h"
#define HAVE_SHAPE 1
#endif

#define MAX_FREEZE_NUMEL 4096   /* a zero value bigger than this is not worth the time */

static int null_sink(void *priv, const char *buf, size_t len)
{
	(void)priv;
	(void)buf;
	(void)len;
	return 0;
}

static void broken(const char *what, const struct od_ctx *ctx)
{
	fprintf(stderr, "fuzz_model: %s: %s\n", what, ctx ? ctx->msg : "");
	abort();
}

/* A failed call leaves exactly one non-empty line. */
static void check_message(int rc, const struct od_ctx *ctx, const char *what)
{
	if (rc >= 0)
		return;
	if (!*ctx->msg || strchr(ctx->msg, '\n'))
		broken(what, ctx);
}

static void do_diff(struct od_model *a, struct od_model *b, const char *what)
{
#ifdef HAVE_DIFF
	struct od_ctx ctx = {0};
	struct od_diff *d = NULL;
	int rc = od_diff(a, b, NULL, &d, &ctx);
	check_message(rc, &ctx, what);
	if (rc == 0) {
		if (!od_diff_is_same(d))
			broken(what, &ctx);
		struct od_emit_opts o = {0};
		od_diff_emit_text(d, &o, null_sink, NULL);
		od_diff_emit_json(d, &o, null_sink, NULL);
		od_diff_emit_stat(d, &o, null_sink, NULL);
	}
	od_diff_free(d);
#else
	(void)a, (void)b, (void)what;
#endif
}

/* Freezes the first graph input that is a tensor of fully known, small shape to zeros. */
static void do_freeze(struct od_model *m)
{
#ifdef HAVE_FREEZE
	const struct od_graph *g = m->graph;
	for (size_t i = 0; i < g->n_inputs; i++) {
		const struct od_value *v = g->inputs[i];
		int64_t dims[64], numel = 1;
		if (v->kind != OD_TYPE_TENSOR || v->rank < 0 || v->rank > 64 || !od_dtype_size(v->dtype) ||
		    v->dtype == OD_STRING)
			continue;
		int known = 1;
		for (int k = 0; k < v->rank && known; k++) {
			dims[k] = v->dims[k].value;
			known = dims[k] >= 0 && (dims[k] == 0 || numel <= MAX_FREEZE_NUMEL / dims[k]);
			if (known)
				numel *= dims[k];
		}
		if (!known)
			continue;
		struct od_tensor *t = od_tensor_new(m->arena, v->name, v->dtype, v->rank, dims);
		if (!t)
			return;
		struct od_binding b = {v->name, t};
		struct od_freeze_report *r = NULL;
		struct od_ctx ctx = {0};
		int rc = od_freeze(m, &b, 1, NULL, &r, &ctx);
		check_message(rc, &ctx, "freeze");
		if (rc == 0) {
			void *buf = NULL;
			size_t len = 0;
			struct od_model *f = NULL;
			od_freeze_report_text(r, null_sink, NULL);
			if (od_model_serialize(m, &buf, &len, &ctx))
				broken("serialize a frozen model", &ctx);
			if (od_model_load_buffer(buf, len, "frozen", NULL, NULL, &f, &ctx))
				broken("reload a frozen model", &ctx);
			od_model_free(f);
			free(buf);
		}
		od_freeze_report_free(r);
		return;
	}
#else
	(void)m;
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct od_ctx ctx = {0};
	struct od_model *m = NULL, *r = NULL;
	int rc = od_model_load_buffer(data, size, "fuzz", NULL, NULL, &m, &ctx);
	check_message(rc, &ctx, "load");
	if (rc)
		return 0;
	od_show_text(m, null_sink, NULL);
	od_show_json(m, null_sink, NULL);
	static const char *const names[] = {"x", "mask", "y"};
	struct od_check_spec spec = {names, 3, true, names, 1, true, names + 1, 1, names, 1, names, 2};
	od_check(m, &spec, null_sink, NULL);
#ifdef HAVE_SHAPE
	struct od_shapes *s = NULL;
	rc = od_shapes_infer(m, &s, &ctx);
	check_message(rc, &ctx, "infer shapes");
	if (rc == 0) {
		od_show_values_text(m, s, null_sink, NULL);
		od_show_values_json(m, s, null_sink, NULL);
	}
	od_shapes_free(s);
#endif

	void *b1 = NULL, *b2 = NULL;
	size_t l1 = 0, l2 = 0;
	if (od_model_serialize(m, &b1, &l1, &ctx))
		broken("serialize", &ctx);
	if (od_model_load_buffer(b1, l1, "reload", NULL, NULL, &r, &ctx))
		broken("reload a serialized model", &ctx);
	if (od_model_serialize(r, &b2, &l2, &ctx))
		broken("serialize the reloaded model", &ctx);
	if (l1 != l2 || memcmp(b1, b2, l1))
		broken("a round trip changed the bytes", NULL);

	do_diff(m, m, "diff a model against itself");
	do_diff(m, r, "diff a model against its round trip");
	od_model_free(r);
	free(b2);
	do_freeze(m);        /* last: it changes m in place */
	od_model_free(m);
	free(b1);            /* after r, whose payloads were views into it */
	return 0;
}
