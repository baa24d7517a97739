/*
 * test_diff_fixtures.c — the structural diff, the committed fixtures and ONNX backend models: real exports diff as a user expects.
 * Models are built in memory from the text spec of diff_spec.h.
 */
#include "diff_spec.h"

Test(diff, seed_mask_input_became_a_constant)
{
	struct od_model *a = load(FIX "seed/with_mask.onnx"), *b = load(FIX "seed/wrapper.onnx");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 4, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_REMOVED, OD_CHANGE_INPUT);
	cr_assert(c);
	cr_expect_str_eq(c->a_name, "mask");
	c = find(d, OD_CHANGE_ADDED, OD_CHANGE_INITIALIZER);
	cr_assert(c);
	cr_expect_str_eq(c->b_name, "mask");
	c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_NODE);
	cr_assert(c);
	cr_expect_str_eq(c->a_node->op_type, "Mul");
	c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_PORT);
	cr_assert(c);
	cr_expect_eq(c->port, 1);
	cr_expect_eq(d->graphs[0].n_matched, 2);
	/* the weights are renamed, not changed */
	size_t renamed_inits = 0;
	for (size_t i = 0; i < d->n_changes; i++)
		renamed_inits += d->changes[i].kind == OD_CHANGE_RENAMED &&
		                 d->changes[i].what == OD_CHANGE_INITIALIZER;
	cr_expect_eq(renamed_inits, 2);
	od_diff_free(d);
	model_free(NULL);
	od_model_free(a);
	od_model_free(b);
}

Test(diff, seed_renamed_copies_are_the_same)
{
	static const char *const copies[] = {"seed/renamed.onnx", "seed/renamed-io.onnx"};
	struct od_model *a = load(FIX "seed/with_mask.onnx");
	for (size_t i = 0; i < 2; i++) {
		char path[512];
		snprintf(path, sizeof path, FIX "%s", copies[i]);
		struct od_model *b = load(path);
		struct od_diff *d = diff(a, b);
		cr_expect(od_diff_is_same(d), "%s:\n%s", copies[i], text(d));
		od_diff_free(d);
		od_model_free(b);
	}
	od_model_free(a);
}

Test(diff, if_fixture_against_itself)
{
	struct od_model *a = load(FIX "if/model.onnx"), *b = load(FIX "if/model.onnx");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0, "%s", text(d));
	cr_expect_eq(d->n_graphs, 3);
	od_diff_free(d);
	od_model_free(a);
	od_model_free(b);
}

/* Every backend model against its own round trip through the writer: nothing differs. */
Test(diff, backend_round_trip, .timeout = 600)
{
	static const char *const patterns[] = {
		"node/*/model.onnx", "light/*.onnx", "pytorch-*/*/model.onnx", "simple/*/model.onnx",
	};
	const char *root = OD_SRCDIR "/../shared/onnx-backend-tests/";
	size_t covered = 0, failed = 0;
	glob_t gl = {0};
	for (size_t p = 0; p < sizeof patterns / sizeof *patterns; p++) {
		char pat[1024];
		snprintf(pat, sizeof pat, "%s%s", root, patterns[p]);
		glob(pat, p ? GLOB_APPEND : 0, NULL, &gl);
	}
	if (!gl.gl_pathc)
		cr_skip_test("../shared/onnx-backend-tests not found");
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		struct od_ctx ctx = {0};
		struct od_model *a = NULL, *b = NULL;
		struct od_diff *d = NULL;
		void *buf = NULL;
		size_t len = 0;
		char dir[1024];
		snprintf(dir, sizeof dir, "%s", gl.gl_pathv[i]);
		*strrchr(dir, '/') = 0;
		if (od_model_load(gl.gl_pathv[i], NULL, &a, &ctx) ||
		    od_model_serialize(a, &buf, &len, &ctx) ||
		    od_model_load_buffer(buf, len, gl.gl_pathv[i], dir, NULL, &b, &ctx) ||
		    od_diff(a, b, NULL, &d, &ctx)) {
			cr_log_warn("%s: %s", gl.gl_pathv[i], ctx.msg);
			failed++;
		} else if (d->n_changes) {
			char *t = text(d);
			cr_log_warn("%s differs from its round trip:\n%s", gl.gl_pathv[i], t);
			free(t);
			failed++;
		}
		covered++;
		od_diff_free(d);
		od_model_free(b);
		od_model_free(a);
		free(buf);
	}
	globfree(&gl);
	cr_log_info("round trip: %zu backend models, %zu failed", covered, failed);
	cr_expect_eq(failed, 0, "%zu of %zu backend models differ from their round trip", failed, covered);
}
