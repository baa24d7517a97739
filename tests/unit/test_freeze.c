/*
 * test_freeze.c — od_freeze and od_fold_model on the fixtures: what remains of the
 * interface, what folded, If inlining both ways, dims re-bound, the growth limit, strict
 * mode, values refused with the input named, constant graph outputs, folding inside
 * subgraphs, and that every result survives a save/load round trip and validates.
 */
#include "config.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "od.h"
#include "freeze.h"
#include "eval.h"
#include "helpers.h"

#define FIX OD_SRCDIR "/fixtures/"

static struct od_tensor *value(struct od_model *m, const char *spec, int dtype)
{
	struct od_ctx ctx = {0};
	struct od_tensor *t = NULL;
	cr_assert_eq(od_tensor_parse(m->arena, spec, dtype, &t, &ctx), 0, "%s: %s", spec, ctx.msg);
	return t;
}

/* Freezes one input; returns the report (asserting success). */
static struct od_freeze_report *freeze1(struct od_model *m, const char *name, const char *spec,
                                        const struct od_freeze_opts *opts)
{
	struct od_value *in = od_graph_find_input(m->graph, name);
	cr_assert(in, "no input %s", name);
	struct od_binding b = {name, value(m, spec, spec[0] == '@' ? OD_UNDEFINED : in->dtype)};
	struct od_freeze_report *r = NULL;
	struct od_ctx ctx = {0};
	int rc = od_freeze(m, &b, 1, opts, &r, &ctx);
	cr_assert_eq(rc, 0, "freeze %s=%s: %s", name, spec, ctx.msg);
	cr_assert(r);
	return r;
}

/* Freezing that must fail with code and a message containing msg. */
static void freeze_fails(const char *model, const char *name, const char *spec, int dtype,
                         int code, const char *msg)
{
	struct od_model *m = load(model);
	struct od_binding b = {name, value(m, spec, dtype)};
	struct od_freeze_report *r = (void *)1;
	struct od_ctx ctx = {0};
	cr_assert_eq(od_freeze(m, &b, 1, NULL, &r, &ctx), code, "rc for %s=%s (%s)", name, spec, ctx.msg);
	cr_assert_null(r);
	cr_assert(strstr(ctx.msg, msg), "message '%s' lacks '%s'", ctx.msg, msg);
	od_model_free(m);
}

/* Serialised models the reloaded ones view; freed after each test. */
static void *bufs[8];
static size_t n_bufs;

static void free_bufs(void)
{
	while (n_bufs)
		free(bufs[--n_bufs]);
}

TestSuite(freeze, .fini = free_bufs);
TestSuite(fold, .fini = free_bufs);

/* Serialises, reloads and validates m; returns the reloaded model (free it before the
 * test ends: it views a buffer freed then). */
static struct od_model *roundtrip(struct od_model *m)
{
	struct od_ctx ctx = {0};
	void *buf;
	size_t len;
	struct od_model *r = NULL;
	cr_assert_eq(od_model_validate(m, &ctx), 0, "%s", ctx.msg);
	cr_assert_eq(od_model_serialize(m, &buf, &len, &ctx), 0, "%s", ctx.msg);
	cr_assert_lt(n_bufs, sizeof bufs / sizeof *bufs);
	bufs[n_bufs++] = buf;
	cr_assert_eq(od_model_load_buffer(buf, len, "frozen", NULL, NULL, &r, &ctx), 0, "%s", ctx.msg);
	return r;
}

static size_t count_op(const struct od_graph *g, const char *op)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n_nodes; i++) {
		n += !strcmp(g->nodes[i]->op_type, op);
		for (size_t k = 0; k < g->nodes[i]->n_attrs; k++)
			if (g->nodes[i]->attrs[k].type == OD_ATTR_GRAPH && g->nodes[i]->attrs[k].g)
				n += count_op(g->nodes[i]->attrs[k].g, op);
	}
	return n;
}

static const struct od_node *producer(const struct od_graph *g, const char *name)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t o = 0; o < g->nodes[i]->n_outputs; o++)
			if (!strcmp(g->nodes[i]->outputs[o], name))
				return g->nodes[i];
	return NULL;
}

static void assert_dims(const struct od_value *v, int rank, const int64_t *dims)
{
	cr_assert_eq(v->rank, rank, "%s: rank %d", v->name, v->rank);
	for (int i = 0; i < rank; i++) {
		cr_assert_eq(v->dims[i].value, dims[i], "%s dim %d: %lld", v->name, i, (long long)v->dims[i].value);
		cr_assert_null(v->dims[i].param);
	}
}

static int text_out(void *priv, const char *buf, size_t len)
{
	strncat(priv, buf, len);
	return 0;
}

/* Adds a value_info entry named name, typed like graph input like but with dims. */
static void add_value_info(struct od_model *m, const char *name, const char *like, int rank,
                           const struct od_dim *dims)
{
	struct od_graph *g = m->graph;
	struct od_value *v = od_arena_alloc(m->arena, sizeof *v);
	*v = *od_graph_find_input(g, like);
	v->name = name;
	v->rank = rank;
	v->dims = od_arena_memdup(m->arena, dims, (size_t)rank * sizeof *dims);
	v->src = NULL;
	v->dirty = true;
	g->value_info = od_arena_grow(m->arena, g->value_info, g->n_value_info, sizeof *g->value_info,
	                              &g->cap_value_info, g->n_value_info + 1);
	g->value_info[g->n_value_info++] = v;
}

static const struct od_value *find_value_info(const struct od_graph *g, const char *name)
{
	for (size_t i = 0; i < g->n_value_info; i++)
		if (!strcmp(g->value_info[i]->name, name))
			return g->value_info[i];
	return NULL;
}

/* ---- the fixtures ---------------------------------------------------------------------------- */

Test(freeze, seed_mask_leaves_x)
{
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	struct od_freeze_report *r = freeze1(m, "mask", "@" FIX "seed/mask.npy", NULL);
	cr_assert_eq(m->graph->n_inputs, 1);
	cr_assert_str_eq(m->graph->inputs[0]->name, "x");
	cr_assert_eq(r->n_remaining_inputs, 1);
	cr_assert_str_eq(r->remaining_inputs[0], "x");
	struct od_tensor *t = od_graph_find_init(m->graph, "mask");
	cr_assert(t, "mask is an initializer");
	cr_assert_eq(t->numel, 4);
	cr_assert_eq(od_tensor_get_f64(t, 1), 0);
	cr_assert_eq(od_tensor_get_f64(t, 2), 1);
	cr_assert_eq(r->n_frozen, 1);
	cr_assert_str_eq(r->frozen[0].type, "float[1,4]");
	cr_assert_eq(r->n_notes, 0);
	struct od_model *back = roundtrip(m);
	cr_assert_eq(back->graph->n_inputs, 1);
	cr_assert(od_graph_find_init(back->graph, "mask"));
	char text[1024] = "";
	od_freeze_report_text(r, text_out, text);
	cr_assert_str_eq(text, "frozen: mask float[1,4]\n"
	                       "folded: 0 nodes, 0 If inlined, +0 B of constants\n"
	                       "nodes: 2 -> 2 with subgraphs, initializers: 2 -> 3 in the main graph\n"
	                       "inputs: x\n");
	od_freeze_report_free(r);
	od_model_free(back);
	od_model_free(m);
}

Test(freeze, scalar_literal_broadcasts)
{
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	struct od_freeze_report *r = freeze1(m, "mask", "0.5", NULL);
	struct od_tensor *t = od_graph_find_init(m->graph, "mask");
	cr_assert_eq(t->ndims, 2);
	cr_assert_eq(t->dims[1], 4);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(od_tensor_get_f64(t, i), 0.5);
	od_freeze_report_free(r);
	od_model_free(m);
}

static void check_if(const char *flag, const char *kept_op, const char *gone_op)
{
	struct od_model *m = load(FIX "if/model.onnx");
	struct od_freeze_report *r = freeze1(m, "flag", flag, NULL);
	const struct od_graph *g = m->graph;
	cr_assert_eq(count_op(g, "If"), 0, "the If is gone");
	cr_assert_eq(r->n_if_inlined, 1);
	cr_assert_eq(count_op(g, kept_op), 1, "the chosen branch's %s is kept", kept_op);
	cr_assert_eq(count_op(g, gone_op), 0, "the other branch's %s is gone", gone_op);
	cr_assert_eq(count_op(g, "Greater"), 0, "the condition folded");
	cr_assert(producer(g, "y"), "y keeps a producer");
	cr_assert_eq(g->n_inputs, 1);
	cr_assert_eq(g->n_inits, 0, "flag is no longer needed");
	struct od_model *back = roundtrip(m);
	cr_assert_eq(count_op(back->graph, "If"), 0);
	od_freeze_report_free(r);
	od_model_free(back);
	od_model_free(m);
}

Test(freeze, if_then_branch)
{
	check_if("@" FIX "if/flag.npy", "Mul", "Relu");
}

Test(freeze, if_else_branch)
{
	check_if("@" FIX "if/flag0.npy", "Relu", "Mul");
}

Test(freeze, dims_rebound)
{
	struct od_model *m = load(FIX "hidden/with_hidden.onnx");
	add_value_info(m, "/gru/Transpose_output_0", "x", 3,
	               (struct od_dim[]){{3, NULL}, {-1, "batch"}, {4, NULL}});
	struct od_freeze_report *r = freeze1(m, "hidden_state", "@" FIX "hidden/hidden_state.npy", NULL);
	const struct od_graph *g = m->graph;
	assert_dims(find_value_info(g, "/gru/Transpose_output_0"), 3, (int64_t[]){3, 2, 4});
	assert_dims(od_graph_find_input(g, "x"), 3, (int64_t[]){2, 3, 4});
	assert_dims(od_graph_find_output(g, "y"), 3, (int64_t[]){2, 3, 2});
	assert_dims(od_graph_find_output(g, "h_n"), 3, (int64_t[]){1, 2, 5});
	cr_assert_str_eq(od_graph_find_input(g, "x")->type_str, "tensor(float)[2,3,4]");
	cr_assert_eq(r->n_dims_fixed, 1);
	cr_assert_str_eq(r->dims[0].param, "batch");
	cr_assert_eq(r->dims[0].value, 2);
	struct od_model *back = roundtrip(m);
	assert_dims(od_graph_find_input(back->graph, "x"), 3, (int64_t[]){2, 3, 4});
	assert_dims(od_graph_find_output(back->graph, "h_n"), 3, (int64_t[]){1, 2, 5});
	od_freeze_report_free(r);
	od_model_free(back);
	od_model_free(m);
}

Test(freeze, transformer_mask_chain_folds)
{
	struct od_model *m = load(FIX "transformer/with_mask.onnx");
	size_t before = od_graph_count_nodes(m->graph);
	struct od_freeze_report *r = freeze1(m, "attention_mask", "1", NULL);
	const struct od_graph *g = m->graph;
	cr_assert_eq(g->n_inputs, 1);
	cr_assert_eq(r->n_notes, 0);
	cr_assert_eq(r->n_folded, 21, "the mask chain and the head split's Shape arithmetic fold");
	cr_assert_eq(r->n_shape_folded, 1);
	cr_assert_eq(count_op(g, "Shape"), 0, "no Shape of a static tensor is left");
	cr_assert_eq(count_op(g, "Expand"), 0, "the mask chain's Expand folded");
	cr_assert_eq(count_op(g, "Equal"), 0);
	cr_assert_eq(count_op(g, "Identity"), 3, "torch's deduplicating Identity nodes stay");
	cr_assert_lt(od_graph_count_nodes(g), before);
	cr_assert_eq(r->n_nodes_after, od_graph_count_nodes(g));
	struct od_tensor *t = od_graph_find_init(g, "/enc/layers.0/self_attn/Mul_5_output_0");
	cr_assert(t, "the folded additive mask is an initializer");
	cr_assert_eq(t->numel, 128);
	cr_assert_eq(r->bytes_added, 536, "and the Shape arithmetic's constants");
	od_model_free(roundtrip(m));
	od_freeze_report_free(r);
	od_model_free(m);
}

/* ---- limits and strictness ------------------------------------------------------------------- */

Test(freeze, growth_limit_keeps_nodes)
{
	struct od_model *m = load(FIX "transformer/with_mask.onnx");
	struct od_freeze_opts o = {.max_growth_bytes = 100};
	struct od_freeze_report *r = freeze1(m, "attention_mask", "1", &o);
	cr_assert_gt(r->n_notes, 0);
	cr_assert_leq(r->bytes_added, 100);
	cr_assert_eq(r->growth_limit, 100);
	bool expand = false;
	for (size_t i = 0; i < r->n_notes; i++) {
		cr_assert(!strncmp(r->notes[i].reason, "size limit: ", 12), "%s", r->notes[i].reason);
		expand |= !strcmp(r->notes[i].op_type, "Expand");
	}
	cr_assert(expand, "the broadcasting Expand is what stays");
	cr_assert_eq(count_op(m->graph, "Expand"), 1);
	od_model_free(roundtrip(m));
	od_freeze_report_free(r);
	od_model_free(m);
}

/* Bytes of constants in g (no subgraphs here): initializers and Constant tensors. */
static uint64_t constant_bytes(const struct od_graph *g)
{
	uint64_t n = 0;
	for (size_t i = 0; i < g->n_inits; i++)
		n += g->inits[i]->nbytes;
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct od_attr *v = od_node_attr(g->nodes[i], "value");
		if (!strcmp(g->nodes[i]->op_type, "Constant") && v && v->t)
			n += v->t->nbytes;
	}
	return n;
}

static uint64_t growth_limit(const struct od_freeze_opts *o)
{
	struct od_model *m = load(FIX "transformer/with_mask.onnx");
	struct od_freeze_report *r = freeze1(m, "attention_mask", "1", o);
	uint64_t limit = r->growth_limit;
	od_freeze_report_free(r);
	od_model_free(m);
	return limit;
}

/* As README says: folding may add the constant bytes again plus 1 MiB (the bound value is a
 * constant by then), --max-growth times them plus 1 MiB, or a set number of bytes. */
Test(freeze, growth_limit_follows_the_options)
{
	struct od_model *m = load(FIX "transformer/with_mask.onnx");
	uint64_t before = constant_bytes(m->graph), mib = 1u << 20;
	od_model_free(m);
	uint64_t dflt = growth_limit(NULL);
	cr_assert_geq(dflt, before + mib, "%llu", (unsigned long long)dflt);
	cr_assert_lt(dflt, before + mib + 4096, "%llu", (unsigned long long)dflt);
	cr_expect_eq(growth_limit(&(struct od_freeze_opts){.max_growth = 2}), 2 * (dflt - mib) + mib);
	cr_expect_eq(growth_limit(&(struct od_freeze_opts){.max_growth_bytes = 12345}), 12345);
	cr_expect_eq(growth_limit(&(struct od_freeze_opts){.max_growth_bytes = -1}), UINT64_MAX);
}

Test(freeze, strict_growth_limit_is_an_error)
{
	struct od_model *m = load(FIX "transformer/with_mask.onnx");
	struct od_freeze_opts o = {.max_growth_bytes = 100, .strict = true};
	struct od_binding b = {"attention_mask", value(m, "1", OD_INT64)};
	struct od_freeze_report *r = NULL;
	struct od_ctx ctx = {0};
	cr_assert_eq(od_freeze(m, &b, 1, &o, &r, &ctx), OD_EUNSUPPORTED);
	cr_assert(strstr(ctx.msg, "still depends on a frozen value: size limit"), "%s", ctx.msg);
	cr_assert_null(r);
	od_model_free(m);
}

/* The seed with mask -> Frob (no kernel) -> Mul. */
static struct od_model *seed_with_unknown_op(void)
{
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	struct od_node *n = od_node_new(m->arena, "Frob", "com.example", "frob");
	const char **io = od_arena_alloc(m->arena, 2 * sizeof *io);
	io[0] = "mask";
	io[1] = "frobbed";
	n->inputs = io;
	n->n_inputs = 1;
	n->outputs = io + 1;
	n->n_outputs = 1;
	struct od_graph *g = m->graph;
	struct od_node *mul = (struct od_node *)producer(g, "y");
	const char **ins = od_arena_alloc(m->arena, 2 * sizeof *ins);
	ins[0] = mul->inputs[0];
	ins[1] = "frobbed";
	mul->inputs = ins;
	cr_assert_eq(od_graph_add_node(m->arena, g, n), 0);
	return m;
}

Test(freeze, unsupported_op_is_a_note)
{
	struct od_model *m = seed_with_unknown_op();
	struct od_freeze_report *r = freeze1(m, "mask", "1", NULL);
	cr_assert_eq(r->n_notes, 1);
	cr_assert_str_eq(r->notes[0].node, "frob");
	cr_assert_str_eq(r->notes[0].op_type, "Frob");
	cr_assert_str_eq(r->notes[0].path, "graph");
	cr_assert(strstr(r->notes[0].reason, "no kernel"), "%s", r->notes[0].reason);
	cr_assert(producer(m->graph, "frobbed"), "the node stays");
	char text[2048] = "";
	od_freeze_report_text(r, text_out, text);
	cr_assert(strstr(text, "\nnot folded: frob (Frob): com.example.Frob: no kernel\n"), "%s", text);
	od_freeze_report_free(r);
	od_model_free(m);
}

Test(freeze, strict_unsupported_op)
{
	struct od_model *m = seed_with_unknown_op();
	struct od_freeze_opts o = {.strict = true};
	struct od_binding b = {"mask", value(m, "1", OD_FLOAT)};
	struct od_ctx ctx = {0};
	cr_assert_eq(od_freeze(m, &b, 1, &o, NULL, &ctx), OD_EUNSUPPORTED);
	cr_assert_str_eq(ctx.msg, "node 'frob' (Frob) still depends on a frozen value: com.example.Frob: no kernel");
	od_model_free(m);
}

Test(freeze, no_fold_only_binds)
{
	struct od_model *m = load(FIX "transformer/with_mask.onnx");
	struct od_freeze_opts o = {.no_fold = true};
	struct od_freeze_report *r = freeze1(m, "attention_mask", "1", &o);
	cr_assert_eq(r->n_folded, 0);
	cr_assert_eq(count_op(m->graph, "Expand"), 2);
	cr_assert(od_graph_find_init(m->graph, "attention_mask"));
	od_freeze_report_free(r);
	od_model_free(m);
}

Test(freeze, overridable_default_is_replaced)
{
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	struct od_tensor *d = od_tensor_new(m->arena, "mask", OD_FLOAT, 2, (int64_t[]){1, 4});
	cr_assert_eq(od_graph_add_init(m->arena, m->graph, d), 0);
	size_t inits = m->graph->n_inits;
	struct od_freeze_report *r = freeze1(m, "mask", "0.5", NULL);
	cr_assert_eq(m->graph->n_inits, inits, "the default is replaced, not doubled");
	cr_assert_eq(od_tensor_get_f64(od_graph_find_init(m->graph, "mask"), 3), 0.5);
	cr_assert_null(od_graph_find_input(m->graph, "mask"));
	od_model_free(roundtrip(m));
	od_freeze_report_free(r);
	od_model_free(m);
}

Test(freeze, empty_optional_input_is_not_dynamic)
{
	/* mask -> Clip(mask, "", hi) -> Mul: the omitted min does not stop the fold */
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	struct od_graph *g = m->graph;
	struct od_tensor *hi = od_tensor_new(m->arena, "hi", OD_FLOAT, 0, NULL);
	od_tensor_set_f64(hi, 0, 0.5);
	cr_assert_eq(od_graph_add_init(m->arena, g, hi), 0);
	struct od_node *n = od_node_new(m->arena, "Clip", "", "clip");
	const char **io = od_arena_alloc(m->arena, 4 * sizeof *io);
	io[0] = "mask";
	io[1] = "";
	io[2] = "hi";
	io[3] = "clipped";
	n->inputs = io;
	n->n_inputs = 3;
	n->outputs = io + 3;
	n->n_outputs = 1;
	cr_assert_eq(od_graph_add_node(m->arena, g, n), 0);
	struct od_node *mul = (struct od_node *)producer(g, "y");
	const char **ins = od_arena_alloc(m->arena, 2 * sizeof *ins);
	ins[0] = mul->inputs[0];
	ins[1] = "clipped";
	mul->inputs = ins;
	add_value_info(m, "clipped", "mask", 2, (struct od_dim[]){{1, NULL}, {4, NULL}});
	struct od_freeze_report *r = freeze1(m, "mask", "@" FIX "seed/mask.npy", NULL);
	cr_assert_eq(r->n_folded, 1, "%zu notes: %s", r->n_notes, r->n_notes ? r->notes[0].reason : "");
	cr_assert_null(find_value_info(g, "clipped"), "the value_info of a folded value is dropped");
	struct od_tensor *t = od_graph_find_init(g, "clipped");
	cr_assert(t, "Clip folded into an initializer");
	cr_assert_eq(od_tensor_get_f64(t, 0), 0.5);
	cr_assert_eq(od_tensor_get_f64(t, 1), 0);
	cr_assert_null(od_graph_find_init(g, "mask"), "the frozen value itself is no longer read");
	cr_assert_null(od_graph_find_init(g, "hi"));
	od_model_free(roundtrip(m));
	od_freeze_report_free(r);
	od_model_free(m);
}

/* ---- values refused ---------------------------------------------------------------------------- */

Test(freeze, bad_values)
{
	freeze_fails(FIX "seed/with_mask.onnx", "nope", "1", OD_FLOAT, OD_ENOTFOUND,
	             "input 'nope' not found in graph");
	freeze_fails(FIX "seed/with_mask.onnx", "mask", "@" FIX "bad/mask-int.npy", OD_UNDEFINED,
	             OD_EVALUE, "value for 'mask' has dtype int32, input is float[1,4]");
	freeze_fails(FIX "seed/with_mask.onnx", "mask", "[[1,0,1,1],[1,1,1,1]]", OD_FLOAT, OD_EVALUE,
	             "value for 'mask' has shape [2,4], input is float[1,4]");
	freeze_fails(FIX "seed/with_mask.onnx", "mask", "[1,0,1,1]", OD_FLOAT, OD_EVALUE,
	             "value for 'mask' has shape [4], input is float[1,4]");
	freeze_fails(FIX "seed/with_mask.onnx", "x", "1", OD_FLOAT, OD_EVALUE,
	             "value for 'x' has shape [], input is float[batch,4]");
	freeze_fails(FIX "transformer/with_mask.onnx", "attention_mask", "[[1,1]]", OD_INT64,
	             OD_EVALUE, "value for 'attention_mask' has shape [1,2], input is int64[1,8]");
}

Test(freeze, given_twice)
{
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	struct od_binding b[2] = {{"mask", value(m, "1", OD_FLOAT)}, {"mask", value(m, "0", OD_FLOAT)}};
	struct od_ctx ctx = {0};
	cr_assert_eq(od_freeze(m, b, 2, NULL, NULL, &ctx), OD_EARG);
	cr_assert_str_eq(ctx.msg, "input 'mask' is given twice");
	od_model_free(m);
}

Test(freeze, conflicting_dims)
{
	struct od_model *m = load(FIX "hidden/with_hidden.onnx");
	struct od_binding b[2] = {
		{"hidden_state", value(m, "@" FIX "hidden/hidden_state.npy", OD_UNDEFINED)},
		{"x", value(m, "[[[1,2,3,4],[1,2,3,4],[1,2,3,4]]]", OD_FLOAT)},
	};
	struct od_ctx ctx = {0};
	cr_assert_eq(od_freeze(m, b, 2, NULL, NULL, &ctx), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "value for 'x' makes dim 'batch' 1, but the value for 'hidden_state' made it 2");
	od_model_free(m);
}

Test(freeze, both_inputs_frozen)
{
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	struct od_binding b[2] = {
		{"mask", value(m, "@" FIX "seed/mask.npy", OD_UNDEFINED)},
		{"x", value(m, "@" FIX "seed/x.npy", OD_UNDEFINED)},
	};
	struct od_freeze_report *r = NULL;
	struct od_ctx ctx = {0};
	cr_assert_eq(od_freeze(m, b, 2, NULL, &r, &ctx), 0, "%s", ctx.msg);
	cr_assert_eq(m->graph->n_inputs, 0);
	if (od_eval_has_kernel("", "Gemm", od_model_opset(m, ""))) {
		cr_assert_eq(r->n_notes, 0);
		cr_assert_str_eq(producer(m->graph, "y")->op_type, "Constant");
	} else {        /* Gemm stays, reported */
		cr_assert_eq(r->n_notes, 1);
		cr_assert_str_eq(r->notes[0].op_type, "Gemm");
		cr_assert_str_eq(producer(m->graph, "y")->op_type, "Mul");
	}
	od_model_free(roundtrip(m));
	od_freeze_report_free(r);
	od_model_free(m);
}

/* ---- constant outputs and subgraphs ------------------------------------------------------------- */

Test(freeze, constant_graph_output_keeps_its_name)
{
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	struct od_graph *g = m->graph;
	struct od_node *n = od_node_new(m->arena, "Neg", "", "neg");
	const char **io = od_arena_alloc(m->arena, 2 * sizeof *io);
	io[0] = "mask";
	io[1] = "negmask";
	n->inputs = io;
	n->n_inputs = 1;
	n->outputs = io + 1;
	n->n_outputs = 1;
	cr_assert_eq(od_graph_add_node(m->arena, g, n), 0);
	struct od_value *v = od_arena_alloc(m->arena, sizeof *v);
	*v = *od_graph_find_input(g, "mask");
	v->name = "negmask";
	v->src = NULL;
	v->dirty = true;
	g->outputs = od_arena_grow(m->arena, g->outputs, g->n_outputs, sizeof *g->outputs,
	                           &g->cap_outputs, g->n_outputs + 1);
	g->outputs[g->n_outputs++] = v;
	struct od_freeze_report *r = freeze1(m, "mask", "@" FIX "seed/mask.npy", NULL);
	const struct od_node *p = producer(g, "negmask");
	cr_assert(p, "the output keeps a producer");
	cr_assert_str_eq(p->op_type, "Constant");
	cr_assert_eq(od_tensor_get_f64(od_node_attr(p, "value")->t, 0), -1);
	cr_assert_eq(r->n_folded, 1);
	struct od_model *back = roundtrip(m);
	cr_assert_str_eq(producer(back->graph, "negmask")->op_type, "Constant");
	od_freeze_report_free(r);
	od_model_free(back);
	od_model_free(m);
}

Test(freeze, folds_inside_branches)
{
	/* freezing x of the If model: the condition stays dynamic, both branches fold */
	struct od_model *m = load(FIX "if/model.onnx");
	struct od_freeze_report *r = freeze1(m, "x", "[[1,-2,3]]", NULL);
	const struct od_graph *g = m->graph;
	cr_assert_eq(count_op(g, "If"), 1);
	cr_assert_eq(count_op(g, "Mul"), 0, "then_branch folded");
	cr_assert_eq(count_op(g, "Relu"), 0, "else_branch folded");
	cr_assert_eq(r->n_folded, 4);
	assert_dims(od_graph_find_output(g, "y"), 2, (int64_t[]){1, 3});
	const struct od_node *iff = producer(g, "y");
	const struct od_graph *then = od_node_attr(iff, "then_branch")->g;
	const struct od_node *out = producer(then, then->outputs[0]->name);
	cr_assert_str_eq(out->op_type, "Constant");
	const struct od_tensor *t = od_node_attr(out, "value")->t;
	cr_assert_eq(od_tensor_get_f64(t, 0), 3);
	cr_assert_eq(od_tensor_get_f64(t, 1), -3);
	cr_assert_eq(od_tensor_get_f64(t, 2), 7);
	od_model_free(roundtrip(m));
	od_freeze_report_free(r);
	od_model_free(m);
}

/* Adds op(in) -> out to g and out as a graph output of type like's dtype, rank 1. */
static void add_output_node(struct od_model *m, const char *op, const char *in, const char *out)
{
	struct od_graph *g = m->graph;
	struct od_node *n = od_node_new(m->arena, op, "", op);
	const char **io = od_arena_alloc(m->arena, 2 * sizeof *io);
	io[0] = in;
	io[1] = out;
	n->inputs = io;
	n->n_inputs = 1;
	n->outputs = io + 1;
	n->n_outputs = 1;
	cr_assert_eq(od_graph_add_node(m->arena, g, n), 0);
	struct od_value *v = od_arena_alloc(m->arena, sizeof *v);
	v->name = out;
	v->kind = OD_TYPE_TENSOR;
	v->dtype = OD_INT64;
	v->rank = -1;
	v->type_str = "tensor(int64)";
	v->dirty = true;
	g->outputs = od_arena_grow(m->arena, g->outputs, g->n_outputs, sizeof *g->outputs,
	                           &g->cap_outputs, g->n_outputs + 1);
	g->outputs[g->n_outputs++] = v;
}

Test(freeze, shape_of_a_rebound_input_folds)
{
	/* freezing hidden_state fixes batch = 2 on x: Shape(x) and Size(x) become constants */
	struct od_model *m = load(FIX "hidden/with_hidden.onnx");
	add_output_node(m, "Shape", "x", "x_shape");
	add_output_node(m, "Size", "x", "x_size");
	struct od_freeze_report *r = freeze1(m, "hidden_state", "@" FIX "hidden/hidden_state.npy", NULL);
	cr_assert_eq(r->n_folded, 2);
	const struct od_node *p = producer(m->graph, "x_shape");
	cr_assert_str_eq(p->op_type, "Constant");
	const struct od_tensor *t = od_node_attr(p, "value")->t;
	cr_assert_eq(t->numel, 3);
	cr_assert_eq(od_tensor_get_f64(t, 0), 2);
	cr_assert_eq(od_tensor_get_f64(t, 1), 3);
	cr_assert_eq(od_tensor_get_f64(t, 2), 4);
	p = producer(m->graph, "x_size");
	cr_assert_str_eq(p->op_type, "Constant");
	cr_assert_eq(od_tensor_get_f64(od_node_attr(p, "value")->t, 0), 24);
	od_model_free(roundtrip(m));
	od_freeze_report_free(r);
	od_model_free(m);
}

Test(freeze, shape_of_a_symbolic_input_stays)
{
	struct od_model *m = load(FIX "seed/with_mask.onnx");
	add_output_node(m, "Shape", "x", "x_shape");
	struct od_freeze_report *r = freeze1(m, "mask", "1", NULL);
	cr_assert_str_eq(producer(m->graph, "x_shape")->op_type, "Shape");
	cr_assert_eq(r->n_folded, 0);
	cr_assert_eq(r->n_notes, 0);
	od_freeze_report_free(r);
	od_model_free(m);
}

/* ---- od_fold_model ----------------------------------------------------------------------------- */

Test(fold, wrapper_folds_like_the_frozen_model)
{
	struct od_model *w = load(FIX "transformer/wrapper.onnx");
	struct od_model *f = load(FIX "transformer/with_mask.onnx");
	struct od_freeze_report *r = NULL, *rf;
	struct od_ctx ctx = {0};
	cr_assert_eq(od_fold_model(w, NULL, &r, &ctx), 0, "%s", ctx.msg);
	rf = freeze1(f, "attention_mask", "1", NULL);
	cr_assert_eq(count_op(w->graph, "Expand"), 0);
	cr_assert_eq(count_op(w->graph, "Identity"), 0, "fold also replaces Identity of initializers");
	cr_assert_eq(r->n_frozen, 0);
	cr_assert_eq(count_op(w->graph, "Where"), count_op(f->graph, "Where"));
	const struct od_tensor *a = od_graph_find_init(w->graph, "/m/enc/layers.0/self_attn/Mul_5_output_0");
	const struct od_tensor *b = od_graph_find_init(f->graph, "/enc/layers.0/self_attn/Mul_5_output_0");
	cr_assert(a && b);
	cr_assert(od_tensor_equal(a, b), "the wrapper's folded mask equals the frozen one");
	od_model_free(roundtrip(w));
	od_freeze_report_free(r);
	od_freeze_report_free(rf);
	od_model_free(w);
	od_model_free(f);
}

Test(fold, constant_if_is_inlined)
{
	struct od_model *m = load(FIX "if/model.onnx");
	struct od_ctx ctx = {0};
	cr_assert_eq(od_fold_model(m, NULL, NULL, &ctx), 0, "%s", ctx.msg);
	cr_assert_eq(count_op(m->graph, "If"), 1, "a dynamic condition keeps the If");
	od_model_free(m);
}
