/*
 * backend.c — what tests/cli/conformance.sh asks of every model of ONNX's backend tests,
 * in one process: thousands of models through the command line cost a process start
 * each (most of the suite's time on 2 CPUs), so the command line takes a sample and this
 * takes them all, through the same library calls the commands make:
 *
 *   show        shapes inferred, then listed as text and as JSON with --values (cmd_show)
 *   round trip  load -> save -> load serialises the same bytes, nothing left beside OUT
 *   diff        the file against a second load of itself: same, no text, "same": true
 *   textconv    the canonical dump is written
 *
 * usage: backend TMPDIR MODEL...
 * Prints "not ok MODEL: what" per failure and a summary line per check; exit 1 when any
 * model fails one.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diff.h"
#include "od.h"
#include "shape.h"

/* What an emitter wrote: its length, and the first bytes (a JSON verdict is near the top). */
struct sink {
	size_t len;
	char head[4096];
};

static int to_sink(void *priv, const char *buf, size_t len)
{
	struct sink *s = priv;
	if (s->len < sizeof s->head - 1) {
		size_t n = sizeof s->head - 1 - s->len < len ? sizeof s->head - 1 - s->len : len;
		memcpy(s->head + s->len, buf, n);
		s->head[s->len + n] = 0;
	}
	s->len += len;
	return 0;
}

enum { SHOW, ROUND_TRIP, DIFF, TEXTCONV, N_CHECKS };
static const char *const check_names[N_CHECKS] = {"show", "round trip", "diff", "textconv"};

static int fail(const char *path, int check, const char *what)
{
	printf("not ok %s: %s: %s\n", path, check_names[check], what);
	return 1;
}

static int show(const char *path, struct od_model *m)
{
	struct od_ctx ctx = {0};
	struct od_shapes *s = NULL;
	struct sink text = {0}, json = {0};
	if (od_shapes_infer(m, &s, &ctx))
		return fail(path, SHOW, ctx.msg);
	int rc = od_show_values_text(m, s, to_sink, &text) || od_show_values_json(m, s, to_sink, &json) ||
	         !text.len || json.head[0] != '{';
	od_shapes_free(s);
	return rc ? fail(path, SHOW, "the listing failed or is empty") : 0;
}

static int round_trip(const char *tmpdir, const char *path, struct od_model *a, size_t *identical)
{
	struct od_ctx ctx = {0};
	struct od_model *b = NULL;
	void *ba = NULL, *bb = NULL;
	size_t la = 0, lb = 0;
	char out[4096];
	int rc = 0;
	snprintf(out, sizeof out, "%s/roundtrip.onnx", tmpdir);
	if (od_model_save(a, out, NULL, &ctx) || od_model_load(out, NULL, &b, &ctx) ||
	    od_model_serialize(a, &ba, &la, &ctx) || od_model_serialize(b, &bb, &lb, &ctx))
		rc = fail(path, ROUND_TRIP, ctx.msg);
	else if (la != lb || memcmp(ba, bb, la))
		rc = fail(path, ROUND_TRIP, "the reloaded model serialises differently");
	if (!rc) {
		FILE *f = fopen(path, "rb");
		char *orig = f ? malloc(la + 1) : NULL;
		*identical += orig && fread(orig, 1, la + 1, f) == la && !memcmp(orig, ba, la);
		free(orig);
		if (f)
			fclose(f);
	}
	free(ba);
	free(bb);
	od_model_free(b);
	remove(out);
	return rc;
}

static int diff_self(const char *path, struct od_model *a)
{
	struct od_ctx ctx = {0};
	struct od_model *b = NULL;
	struct od_diff *d = NULL;
	struct sink text = {0}, json = {0};
	struct od_emit_opts o = {0};
	int rc = 0;
	if (od_model_load(path, NULL, &b, &ctx) || od_diff(a, b, NULL, &d, &ctx))
		rc = fail(path, DIFF, ctx.msg);
	else if (!od_diff_is_same(d))
		rc = fail(path, DIFF, "differs from itself");
	else if (od_diff_emit_text(d, &o, to_sink, &text) || text.len)
		rc = fail(path, DIFF, "the text diff of a model against itself is not empty");
	else if (od_diff_emit_json(d, &o, to_sink, &json) || !strstr(json.head, "\"same\": true"))
		rc = fail(path, DIFF, "the JSON diff does not say \"same\": true");
	od_diff_free(d);
	od_model_free(b);
	return rc;
}

static int textconv(const char *path, struct od_model *m)
{
	struct od_ctx ctx = {0};
	struct sink dump = {0};
	if (od_diff_textconv(m, to_sink, &dump, &ctx))
		return fail(path, TEXTCONV, ctx.msg);
	return dump.len ? 0 : fail(path, TEXTCONV, "empty dump");
}

int main(int argc, char **argv)
{
	size_t failed[N_CHECKS] = {0}, identical = 0, unloadable = 0;
	if (argc < 3) {
		fprintf(stderr, "usage: backend TMPDIR MODEL...\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		struct od_ctx ctx = {0};
		struct od_model *m = NULL;
		if (od_model_load(argv[i], NULL, &m, &ctx)) {
			printf("not ok %s: load: %s\n", argv[i], ctx.msg);
			unloadable++;
			continue;
		}
		failed[SHOW] += show(argv[i], m);
		failed[ROUND_TRIP] += round_trip(argv[1], argv[i], m, &identical);
		failed[DIFF] += diff_self(argv[i], m);
		failed[TEXTCONV] += textconv(argv[i], m);
		od_model_free(m);
	}
	int models = argc - 2, bad = unloadable != 0;
	printf("load: %d models, %zu failed\n", models, unloadable);
	for (int c = 0; c < N_CHECKS; c++) {
		printf("%s: %d models, %zu failed", check_names[c], models, failed[c] + unloadable);
		if (c == ROUND_TRIP)
			printf(", %zu byte-identical to the input", identical);
		printf("\n");
		bad |= failed[c] != 0;
	}
	return bad;
}
