/*
 * test_diff_match.c — the structural diff, pairing nodes without trusting names: renamed, reordered, inserted, removed, commutative, inside subgraphs and local functions.
 * Models are built in memory from the text spec of diff_spec.h.
 */
#include "diff_spec.h"

Test(diff, identical_models_are_the_same)
{
	struct od_model *a = model(MLP), *b = model(MLP);
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0);
	cr_expect(od_diff_is_same(d));
	cr_expect_eq(d->graphs[0].n_matched, 4);
	char *t = text(d);
	cr_expect_str_empty(t);
	free(t);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, renamed_and_reordered_copy_is_the_same)
{
	struct od_model *a = model(MLP), *b = model(MLP_RENAMED);
	struct od_diff *d = diff(a, b);
	cr_expect(od_diff_is_same(d), "changes:\n%s", text(d));
	cr_expect_eq(real_changes(d), 0);
	cr_expect_eq(d->graphs[0].n_matched, 4);
	/* every node pairs with its namesake */
	for (size_t k = 0; k < a->graph->n_nodes; k++) {
		const struct od_node *x = a->graph->nodes[k];
		const struct od_node *y = b->graph->nodes[d->graphs[0].a_match[k]];
		cr_expect(strstr(y->name, x->name), "%s matched %s", x->name, y->name);
	}
	/* weights renamed by content, not changed */
	const struct od_change *c = find(d, OD_CHANGE_RENAMED, OD_CHANGE_INITIALIZER);
	cr_assert(c);
	cr_expect_eq(d->stat.count[OD_CHANGE_RENAMED], 8);   /* 4 initializers, 4 nodes */
	od_diff_free(d);

	struct od_diff_opts strict = {.strict_names = true};
	d = diff_opts(a, b, &strict);
	cr_expect_not(od_diff_is_same(d));
	od_diff_free(d);

	struct od_diff_opts quiet = {.ignore = OD_DIFF_IGNORE(NAMES)};
	d = diff_opts(a, b, &quiet);
	cr_expect_eq(d->n_changes, 0);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, node_inserted)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(
		"in x float N,4; in mask float 1,4; out y float N,4;"
		"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;"
		"node Gemm fc1 x,W1,b1 h1 transB=1; node Relu act h1 a1; node Sigmoid gate a1 g1;"
		"node Gemm fc2 g1,W2,b2 h2 transB=1; node Mul masked h2,mask y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_ADDED, OD_CHANGE_NODE);
	cr_assert(c);
	cr_expect_str_eq(c->b_node->op_type, "Sigmoid");
	cr_expect_str_eq(c->context, "reads Relu 'act'; feeds Gemm 'fc2' input 0");
	cr_expect_eq(d->graphs[0].n_matched, 4);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, node_removed)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(
		"in x float N,4; in mask float 1,4; out y float N,4;"
		"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;"
		"node Gemm fc1 x,W1,b1 h1 transB=1;"
		"node Gemm fc2 h1,W2,b2 h2 transB=1; node Mul masked h2,mask y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_REMOVED, OD_CHANGE_NODE);
	cr_assert(c);
	cr_expect_str_eq(c->a_name, "act");
	cr_expect_eq(d->graphs[0].n_matched, 3);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, inputs_reordered)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(MLP);
	struct od_value *t = b->graph->inputs[0];
	b->graph->inputs[0] = b->graph->inputs[1];
	b->graph->inputs[1] = t;
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 2, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_INPUT);
	cr_assert(c);
	cr_expect_str_eq(c->key, "position");
	cr_expect_str_eq(c->a_name, "x");
	cr_expect_str_eq(c->old_text, "0");
	cr_expect_str_eq(c->new_text, "1");
	cr_expect_eq(d->graphs[0].n_matched, 4);
	char *out = text(d);
	cr_expect(strstr(out, "~ input x: position 0 -> 1\n"), "%s", out);
	free(out);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

static struct od_model *if_model(double then_const, const char *else_op)
{
	struct od_model *m = model("in x float 3; in flag bool -; out y float 3;"
	                           "node If if0 flag y");
	struct od_node *n = node_of(m->graph, "if0");
	char spec[256];
	snprintf(spec, sizeof spec, "out t float 3; const c float - %g; node Add add x,c t", then_const);
	subgraph(m, m->graph, n, "then_branch", spec);
	snprintf(spec, sizeof spec, "out e float 3; node %s neg x e", else_op);
	subgraph(m, m->graph, n, "else_branch", spec);
	return m;
}

Test(diff, change_inside_if_branch)
{
	struct od_model *a = if_model(1.0, "Neg"), *b = if_model(2.0, "Neg");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 2, "changes:\n%s", text(d));
	const struct od_change *n = find(d, OD_CHANGE_CHANGED, OD_CHANGE_NODE);
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_ATTRIBUTE);
	cr_assert(n && c);
	cr_expect_str_eq(n->path, "graph/if0:then_branch");
	cr_expect_eq(n->depth, 1);
	cr_expect_str_eq(n->a_node->op_type, "Constant");
	cr_expect_str_eq(c->key, "value");
	cr_expect_eq(c->delta.n_diff, 1);
	cr_expect_float_eq(c->delta.max_abs, 1.0, 1e-9);
	cr_expect_eq(d->n_graphs, 3);
	od_diff_free(d);
	model_free(a);
	model_free(b);

	a = if_model(1.0, "Neg");
	b = if_model(1.0, "Abs");
	d = diff(a, b);
	n = find(d, OD_CHANGE_CHANGED, OD_CHANGE_NODE);
	c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_OP);
	cr_assert(n && c, "changes:\n%s", text(d));
	cr_expect_str_eq(n->path, "graph/if0:else_branch");
	cr_expect_str_eq(c->old_text, "Neg");
	cr_expect_str_eq(c->new_text, "Abs");
	cr_expect_eq(real_changes(d), 2);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, commutative_inputs_and_attribute_order)
{
	struct od_model *a = model("in p float 2; in q float 2; out y float 2; out z float 2;"
	                           "node Add s p,q y; node Gemm g p,q z alpha=2.0 beta=3.0");
	struct od_model *b = model("in p float 2; in q float 2; out y float 2; out z float 2;"
	                           "node Gemm g p,q z beta=3.0 alpha=2.0; node Add s q,p y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0, "changes:\n%s", text(d));
	od_diff_free(d);
	/* but Sub is not commutative */
	model_free(a);
	model_free(b);
	a = model("in p float 2; in q float 2; out y float 2; node Sub s p,q y");
	b = model("in p float 2; in q float 2; out y float 2; node Sub s q,p y");
	d = diff(a, b);
	cr_expect_eq(real_changes(d), 3, "changes:\n%s", text(d));   /* node + two ports */
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, input_became_initializer)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(
		"in x float N,4; out y float N,4; init mask float 1,4 0.0;"
		"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;"
		"node Gemm fc1 x,W1,b1 h1 transB=1; node Relu act h1 a1;"
		"node Gemm fc2 a1,W2,b2 h2 transB=1; node Mul masked h2,mask y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 4, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_REMOVED, OD_CHANGE_INPUT);
	cr_assert(c);
	cr_expect_str_eq(c->a_name, "mask");
	cr_assert(find(d, OD_CHANGE_ADDED, OD_CHANGE_INITIALIZER));
	c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_PORT);
	cr_assert(c);
	cr_expect_eq(c->port, 1);
	cr_expect_str_eq(c->old_text, "graph input 'mask' float[1,4]");
	cr_expect_str_eq(c->new_text, "initializer 'mask' float[1,4]");
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, constant_and_initializer_of_equal_content_feed_alike)
{
	struct od_model *a = model("in x float 4; out y float 4; init c float 4 3.0; node Mul m x,c y");
	struct od_model *b = model("in x float 4; out y float 4; const c float 4 3.0; node Mul m x,c y");
	struct od_diff *d = diff(a, b);
	/* the initializer went, a Constant node came; the Mul reads the same value */
	cr_expect_eq(real_changes(d), 2, "changes:\n%s", text(d));
	cr_expect(find(d, OD_CHANGE_REMOVED, OD_CHANGE_INITIALIZER));
	cr_expect(find(d, OD_CHANGE_ADDED, OD_CHANGE_NODE));
	cr_expect_eq(d->graphs[0].n_matched, 1);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, textconv_ignores_node_order)
{
	const char *order1 = "in x float 2; out y float 2; init w float 2 1.0;"
	                     "node Relu r x a; node Neg n x b; node Add s a,b c; node Mul m c,w y";
	const char *order2 = "in x float 2; out y float 2; init w float 2 1.0;"
	                     "node Neg n x b; node Relu r x a; node Add s a,b c; node Mul m c,w y";
	struct od_model *a = model(order1), *b = model(order2);
	char *ta = NULL, *tb = NULL;
	struct od_ctx ctx = {0};
	cr_assert_eq(od_diff_textconv(a, buf_write, &ta, &ctx), 0);
	cr_assert_eq(od_diff_textconv(b, buf_write, &tb, &ctx), 0);
	cr_expect_str_eq(ta, tb);
	cr_expect(strstr(ta, "node m: y = Mul(c, w)\n"), "%s", ta);
	cr_expect(strstr(ta, "initializer w float[2] xxh3:"), "%s", ta);
	free(ta);
	free(tb);
	model_free(a);
	model_free(b);
}

/* A model calling the local function ns.Foo(x, y) -> z whose body applies op. */
static struct od_model *function_model(const char *op, const char *extra_fn)
{
	struct od_model *m = model("in a float 2; in b float 2; out c float 2; node Foo call a,b c");
	struct od_arena *ar = m->arena;
	node_of(m->graph, "call")->domain = "ns";
	m->n_functions = extra_fn ? 2 : 1;
	m->functions = od_arena_alloc(ar, 2 * sizeof *m->functions);
	for (size_t i = 0; i < m->n_functions; i++) {
		struct od_function *f = od_arena_alloc(ar, sizeof *f);
		f->name = i ? extra_fn : "Foo";
		f->domain = "ns";
		f->n_opsets = 1;
		f->opsets = od_arena_alloc(ar, sizeof *f->opsets);
		f->opsets[0] = (struct od_opset){.domain = "", .version = 14};
		f->body = od_arena_alloc(ar, sizeof *f->body);
		char spec[128];
		snprintf(spec, sizeof spec, "in x float -; in y float -; out z float -; node %s body x,y z", op);
		fill_graph(m, f->body, spec);
		m->functions[i] = f;
	}
	return m;
}

Test(diff, local_functions)
{
	struct od_model *a = function_model("Add", NULL), *b = function_model("Add", NULL);
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0, "changes:\n%s", text(d));
	cr_expect_eq(d->n_graphs, 2);
	cr_expect_str_eq(d->graphs[1].path, "function:ns.Foo");
	od_diff_free(d);
	model_free(b);

	b = function_model("Mul", "Bar");
	d = diff(a, b);
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_OP);
	cr_assert(c, "changes:\n%s", text(d));
	cr_expect_str_eq(c->path, "function:ns.Foo");
	cr_expect_str_eq(c->old_text, "Add");
	cr_expect_str_eq(c->new_text, "Mul");
	c = find(d, OD_CHANGE_ADDED, OD_CHANGE_FUNCTION);
	cr_assert(c);
	cr_expect_str_eq(c->b_name, "ns.Bar");
	cr_expect_eq(real_changes(d), 3);   /* Foo's node and its op; Bar added */
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

/* if0's then_branch holds if1, whose then_branch holds a constant. */
Test(diff, nested_subgraphs_and_max_depth)
{
	struct od_model *a = nested_if(1.0), *b = nested_if(2.0);
	struct od_diff *d = diff(a, b);
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_NODE);
	cr_assert(c, "changes:\n%s", text(d));
	cr_expect_str_eq(c->path, "graph/if0:then_branch/if1:then_branch");
	cr_expect_eq(c->depth, 2);
	cr_expect_eq(d->n_graphs, 5);
	cr_expect_eq(real_changes(d), 2);
	od_diff_free(d);

	struct od_diff_opts o = {.max_depth = 1};   /* one level of subgraphs */
	d = diff_opts(a, b, &o);
	cr_expect_eq(d->n_graphs, 3);
	cr_expect_eq(d->n_changes, 0, "changes:\n%s", text(d));
	od_diff_free(d);
	model_free(a);
	model_free(b);
}
