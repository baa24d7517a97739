/*
 * test_diff_model.c — the structural diff, what is around the nodes: attributes and their defaults, dtypes and dims of the interface, opset imports, metadata, --ignore.
 * Models are built in memory from the text spec of diff_spec.h.
 */
#include "diff_spec.h"

Test(diff, one_attribute_changed_defaults_explicit)
{
	struct od_model *a = model(MLP), *b = model(MLP_RENAMED);
	add_attr(b->arena, node_of(b->graph, "m/fc2"), "alpha=0.5");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 2, "changes:\n%s", text(d));   /* the node and its detail */
	const struct od_change *n = find(d, OD_CHANGE_CHANGED, OD_CHANGE_NODE);
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_ATTRIBUTE);
	cr_assert(n && c);
	cr_expect_str_eq(n->a_name, "fc2");
	cr_expect_str_eq(c->key, "alpha");
	cr_expect_str_eq(c->old_text, "1.0 (default)");
	cr_expect_str_eq(c->new_text, "0.5");
	cr_expect_eq(c->parent, n - d->changes);
	cr_expect_null(c->a_attr);
	cr_expect_not_null(c->b_attr);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, input_dtype_changed)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(
		"in x double N,4; in mask float 1,4; out y float N,4;"
		"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;"
		"node Gemm fc1 x,W1,b1 h1 transB=1; node Relu act h1 a1;"
		"node Gemm fc2 a1,W2,b2 h2 transB=1; node Mul masked h2,mask y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_INPUT);
	cr_assert(c);
	cr_expect_str_eq(c->a_name, "x");
	cr_expect_str_eq(c->old_text, "float[N,4]");
	cr_expect_str_eq(c->new_text, "double[N,4]");
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, symbolic_dim_renamed)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(MLP_RENAMED);
	b->graph->outputs[0]->dims[0].param = "batch";
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_OUTPUT);
	cr_assert(c);
	cr_expect_str_eq(c->new_text, "float[batch,4]");
	od_diff_free(d);
	struct od_diff_opts o = {.ignore = OD_DIFF_IGNORE(SHAPES)};
	d = diff_opts(a, b, &o);
	cr_expect(od_diff_is_same(d));
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, opset_bump)
{
	struct od_model *a = model(MLP), *b = model("opset 15;" MLP);
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_OPSET);
	cr_assert(c);
	cr_expect_str_eq(c->key, "");
	cr_expect_str_eq(c->old_text, "14");
	cr_expect_str_eq(c->new_text, "15");
	cr_expect_str_eq(c->path, "model");
	od_diff_free(d);
	struct od_diff_opts o = {.ignore = OD_DIFF_IGNORE(OPSETS)};
	d = diff_opts(a, b, &o);
	cr_expect_eq(d->n_changes, 0);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, opset_changes_a_default)
{
	/* Softmax's default axis is 1 before opset 13 and -1 from 13 on. */
	struct od_model *a = model("opset 12; in x float 2,3; out y float 2,3; node Softmax s x y");
	struct od_model *b = model("opset 13; in x float 2,3; out y float 2,3; node Softmax s x y");
	struct od_diff *d = diff(a, b);
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_ATTRIBUTE);
	cr_assert(c, "changes:\n%s", text(d));
	cr_expect_str_eq(c->key, "axis");
	cr_expect_str_eq(c->old_text, "1 (default)");
	cr_expect_str_eq(c->new_text, "-1 (default)");
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, metadata_producer_ir_version)
{
	struct od_model *a = model(MLP), *b = model(MLP);
	b->ir_version = 9;
	b->producer_version = "2";
	b->n_props = 1;
	b->props = od_arena_alloc(b->arena, sizeof *b->props);
	b->props[0] = (struct od_prop){.key = "author", .value = "me"};
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 3, "changes:\n%s", text(d));
	cr_expect(find(d, OD_CHANGE_CHANGED, OD_CHANGE_IR_VERSION));
	cr_expect(find(d, OD_CHANGE_CHANGED, OD_CHANGE_PRODUCER));
	cr_expect(find(d, OD_CHANGE_ADDED, OD_CHANGE_METADATA));
	od_diff_free(d);
	struct od_diff_opts o = {0};
	struct od_ctx ctx = {0};
	cr_assert_eq(od_diff_ignore_parse("metadata,producer,ir_version", &o.ignore, &ctx), 0);
	d = diff_opts(a, b, &o);
	cr_expect_eq(d->n_changes, 0);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

/* A file may import a domain twice or repeat a metadata key: against itself, no change. */
static struct od_model *duplicated_entries(void)
{
	struct od_model *m = model(MLP);
	m->n_opsets = 2;
	m->opsets = od_arena_alloc(m->arena, 2 * sizeof *m->opsets);
	m->opsets[0] = (struct od_opset){.domain = "", .version = 11};
	m->opsets[1] = (struct od_opset){.domain = "ai.onnx", .version = 16};
	m->n_props = 2;
	m->props = od_arena_alloc(m->arena, 2 * sizeof *m->props);
	m->props[0] = (struct od_prop){.key = "k", .value = "1"};
	m->props[1] = (struct od_prop){.key = "k", .value = "2"};
	return m;
}

Test(diff, duplicated_opsets_and_metadata)
{
	struct od_model *a = duplicated_entries(), *b = duplicated_entries();
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0, "changes:\n%s", text(d));
	od_diff_free(d);
	b->props[1].value = "3";
	d = diff(a, b);
	cr_expect_eq(d->n_changes, 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_METADATA);
	cr_assert(c);
	cr_expect_str_eq(c->old_text, "2");
	cr_expect_str_eq(c->new_text, "3");
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

/* LogSoftmax's default axis is 1 before opset 13 and -1 from 13 on; a file importing
 * ai.onnx twice runs at its last import, as the folder and onnx.checker take it. */
static struct od_model *log_softmax(int64_t first, int64_t last)
{
	struct od_model *m = model("in x float 2,3; out y float 2,3; node LogSoftmax ls x y");
	m->n_opsets = 2;
	m->opsets = od_arena_alloc(m->arena, 2 * sizeof *m->opsets);
	m->opsets[0] = (struct od_opset){.domain = "", .version = first};
	m->opsets[1] = (struct od_opset){.domain = "ai.onnx", .version = last};
	return m;
}

Test(diff, opset_imported_twice_last_counts)
{
	struct od_model *a = log_softmax(11, 13), *b = log_softmax(12, 13), *c = log_softmax(13, 11);
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0, "11,13 vs 12,13 run at 13 both:\n%s", text(d));
	od_diff_free(d);
	d = diff(a, c);
	char *t = text(d);
	cr_expect(strstr(t, "axis: -1 (default) -> 1 (default)"), "%s", t);
	free(t);
	const struct od_change *o = find(d, OD_CHANGE_CHANGED, OD_CHANGE_OPSET);
	cr_assert(o);
	cr_expect_str_eq(o->old_text, "13");
	cr_expect_str_eq(o->new_text, "11");
	od_diff_free(d);
	model_free(a);
	model_free(b);
	model_free(c);
}

Test(diff, ignore_parse_rejects_unknown)
{
	unsigned mask = 0;
	struct od_ctx ctx = {0};
	cr_expect_eq(od_diff_ignore_parse("doc,nope", &mask, &ctx), OD_EARG);
	cr_expect_str_eq(ctx.msg, "unknown --ignore category 'nope'");
	cr_expect_eq(od_diff_ignore_parse("doc,weights", &mask, &ctx), 0);
	cr_expect_eq(mask, OD_DIFF_IGNORE(DOC) | OD_DIFF_IGNORE(WEIGHTS));
}
