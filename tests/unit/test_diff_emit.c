/*
 * test_diff_emit.c — the structural diff, the emitters: --stat counts, the JSON schema, write errors, textconv under allocation failures.
 * Models are built in memory from the text spec of diff_spec.h.
 */
#include "diff_spec.h"

Test(diff, stat_counts)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(
		"in x float N,4; in mask float 1,4; out y float N,4;"
		"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;"
		"node Gemm fc1 x,W1,b1 h1 transB=1; node Relu act h1 a1; node Relu act2 a1 a2;"
		"node Gemm fc2 a2,W2,b2 h2 transB=1; node Mul masked h2,mask y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->stat.nodes_a, 4);
	cr_expect_eq(d->stat.nodes_b, 5);
	cr_expect_eq(d->stat.params_a, 40);
	cr_expect_eq(d->stat.bytes_b, 160);
	for (size_t i = 0; i < d->stat.n_ops; i++)
		if (!strcmp(d->stat.ops[i].op_type, "Relu")) {
			cr_expect_eq(d->stat.ops[i].a, 1);
			cr_expect_eq(d->stat.ops[i].b, 2);
		}
	char *out = NULL;
	cr_assert_eq(od_diff_emit_stat(d, NULL, buf_write, &out), 0);
	cr_expect(strstr(out, " nodes         4 ->   5 (+1)\n"), "%s", out);
	cr_expect(strstr(out, "   Relu        1 ->   2 (+1)\n"), "%s", out);
	cr_expect(strstr(out, " 1 added, 0 removed, 0 changed, 0 renamed\n"), "%s", out);
	free(out);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

/* An op name longer than the others' column widens it: every " -> " stands in one column. */
Test(diff, stat_columns_hold_long_op_names)
{
	struct od_model *a = model(MLP), *b = model(MLP);
	struct od_node *n = node_of(b->graph, "act");
	n->domain = "com.example.contrib";
	n->op_type = "FusedRectifiedLinearUnit";
	struct od_diff *d = diff(a, b);
	char *out = NULL;
	cr_assert_eq(od_diff_emit_stat(d, NULL, buf_write, &out), 0);
	cr_expect(strstr(out, "   com.example.contrib.FusedRectifiedLinearUnit    0 ->   1 (+1)\n"), "%s", out);
	long col = -1;
	for (char *line = out, *arrow; (arrow = strstr(line, " -> ")); line = strchr(arrow, '\n') + 1) {
		char *bol = arrow;
		while (bol > out && bol[-1] != '\n')
			bol--;
		cr_expect(col < 0 || arrow - bol == col, "columns differ:\n%s", out);
		col = arrow - bol;
	}
	free(out);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, json_schema)
{
	struct od_model *a = model(MLP), *b = model(MLP_RENAMED);
	add_attr(b->arena, node_of(b->graph, "m/act"), "alpha=0.5");
	struct od_diff *d = diff(a, b);
	char *out = NULL;
	cr_assert_eq(od_diff_emit_json(d, NULL, buf_write, &out), 0);
	json_error_t err;
	json_t *j = json_loads(out, 0, &err);
	cr_assert(j, "bad JSON: %s\n%s", err.text, out);
	cr_expect_str_eq(json_string_value(json_object_get(j, "schema")), "onnxdiff-diff/1");
	cr_expect(json_is_false(json_object_get(j, "same")));
	json_t *changes = json_object_get(j, "changes");
	int found = 0;
	for (size_t i = 0; i < json_array_size(changes); i++) {
		json_t *c = json_array_get(changes, i);
		if (!strcmp(json_string_value(json_object_get(c, "kind")), "changed")) {
			json_t *det = json_array_get(json_object_get(c, "details"), 0);
			cr_expect_str_eq(json_string_value(json_object_get(det, "what")), "attribute");
			cr_expect_str_eq(json_string_value(json_object_get(det, "key")), "alpha");
			found++;
		}
	}
	cr_expect_eq(found, 1, "%s", out);
	json_decref(j);
	free(out);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

static int fail(void *priv, const char *s, size_t n)
{
	(void)priv, (void)s, (void)n;
	return OD_EIO;
}

Test(diff, callback_error_stops_the_emitter)
{
	struct od_model *a = model(MLP), *b = model(MLP_RENAMED);
	struct od_diff *d = diff(a, b);
	cr_expect_eq(od_diff_emit_text(d, NULL, fail, NULL), OD_EIO);
	cr_expect_eq(od_diff_emit_json(d, NULL, fail, NULL), OD_EIO);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

#ifdef OD_FAULT_INJECTION
Test(diff, textconv_allocation_failures)
{
	struct od_model *m = nested_if(1.0);
	char *whole = NULL;
	struct od_ctx ctx = {0};
	cr_assert_eq(od_diff_textconv(m, buf_write, &whole, &ctx), 0);
	long k;
	for (k = 1; k < 100000; k++) {
		char *out = NULL;
		od_fault_alloc_after(k);
		int rc = od_diff_textconv(m, buf_write, &out, &ctx);
		long used = od_fault_alloc_count();
		od_fault_alloc_after(0);
		cr_assert(rc == 0 || rc == OD_ENOMEM, "allocation %ld: rc %d", k, rc);
		if (rc == 0)
			cr_assert_str_eq(out, whole, "allocation %ld failed but the dump went on", k);
		else
			cr_assert_str_eq(ctx.msg, "cannot dump: out of memory");
		free(out);
		if (rc == 0 && used < k)
			break;
	}
	cr_expect_gt(k, 3);
	free(whole);
	model_free(m);
}
#endif
