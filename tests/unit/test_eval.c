/*
 * test_eval.c — the kernel table and a handful of cases per kernel family: broadcasting,
 * negative axes, Slice with negative steps and clamping, Reshape 0/-1, Cast rounding,
 * integer division, reductions, the size limit and the messages of refused inputs; the
 * quantized products' zero points and scales per row, column and channel, their rounding
 * and int32 wrap-around, which ONNX's node tests leave out.
 */
#include "config.h"
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "od.h"
#include "eval.h"

static struct od_arena *A;
static struct od_ctx ctx;

static void setup(void)
{
	A = od_arena_new();
	memset(&ctx, 0, sizeof ctx);
}

static void teardown(void)
{
	od_arena_free(A);
}

TestSuite(eval, .init = setup, .fini = teardown);

/* ---- building nodes and tensors ------------------------------------------------------- */

static struct od_tensor *ten(int dtype, int nd, const int64_t *dims, int64_t n,
                             const double *v)
{
	struct od_tensor *t = od_tensor_new(A, "", dtype, nd, dims);
	cr_assert(t);
	cr_assert_eq(t->numel, n);
	for (int64_t i = 0; i < n; i++)
		od_tensor_set_f64(t, i, v[i]);
	return t;
}

#define DIMS(...) (const int64_t[]){ __VA_ARGS__ }
#define VALS(...) (const double[]){ __VA_ARGS__ }
#define NV(...) (int64_t)(sizeof (const double[]){ __VA_ARGS__ } / sizeof(double)), VALS(__VA_ARGS__)
/* A 1-D tensor of the given values. */
#define VEC(dtype, ...) ten(dtype, 1, DIMS((int64_t)(sizeof VALS(__VA_ARGS__) / sizeof(double))), NV(__VA_ARGS__))
#define SCALAR(dtype, v) ten(dtype, 0, NULL, 1, VALS(v))

static struct od_node *node(const char *op, size_t nin)
{
	static const char *names[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i" };
	struct od_node *n = od_node_new(A, op, "", "n");
	cr_assert(n);
	n->n_inputs = nin;
	n->inputs = names;
	n->n_outputs = 1;
	n->outputs = od_arena_alloc(A, sizeof *n->outputs);
	n->outputs[0] = "y";
	n->attrs = od_arena_alloc(A, 8 * sizeof *n->attrs);
	return n;
}

static void attr_i(struct od_node *n, const char *name, int64_t v)
{
	struct od_attr *at = &n->attrs[n->n_attrs++];
	at->name = name;
	at->type = OD_ATTR_INT;
	at->i = v;
}

static void attr_ints(struct od_node *n, const char *name, size_t k, const int64_t *v)
{
	struct od_attr *at = &n->attrs[n->n_attrs++];
	at->name = name;
	at->type = OD_ATTR_INTS;
	at->n = k;
	at->ints = (int64_t *)v;
}

static int eval(const struct od_node *n, int64_t opset, struct od_tensor **out, ...)
{
	struct od_tensor *ins[9] = { 0 };
	va_list ap;
	va_start(ap, out);
	for (size_t i = 0; i < n->n_inputs; i++)
		ins[i] = va_arg(ap, struct od_tensor *);
	va_end(ap);
	return od_eval_node(n, opset, ins, out, 0, A, &ctx);
}

static void expect(const struct od_tensor *t, int dtype, int nd, const int64_t *dims,
                   int64_t n, const double *v)
{
	cr_assert(t);
	cr_assert_eq(t->dtype, dtype, "dtype %s", od_dtype_name(t->dtype));
	cr_assert_eq(t->ndims, nd, "rank %d, expected %d", t->ndims, nd);
	for (int d = 0; d < nd; d++)
		cr_assert_eq(t->dims[d], dims[d], "dim %d is %lld", d, (long long)t->dims[d]);
	cr_assert_eq(t->numel, n);
	for (int64_t i = 0; i < n; i++)
		cr_assert(od_tensor_get_f64(t, i) == v[i] ||
		          (isnan(v[i]) && isnan(od_tensor_get_f64(t, i))),
		          "element %lld is %g, expected %g", (long long)i,
		          od_tensor_get_f64(t, i), v[i]);
	cr_assert_str_eq(t->name, "y");
}

/* ---- the table -------------------------------------------------------------------------- */

struct walk {
	char last[128];
	int64_t last_until;
	int rows;
};

static void check_row(const char *domain, const char *op, int64_t since, int64_t until,
                      uint32_t dtypes, void *priv)
{
	struct walk *w = priv;
	char key[128];
	snprintf(key, sizeof key, "%s\x01%s", domain, op);
	int c = strcmp(w->last, key);
	cr_assert(c < 0 || (c == 0 && since > w->last_until), "table out of order at %s %lld",
	          op, (long long)since);
	cr_assert(since <= until && dtypes, "bad row %s", op);
	snprintf(w->last, sizeof w->last, "%s", key);
	w->last_until = until;
	w->rows++;
}

Test(eval, table_sorted_and_ranges_disjoint)
{
	struct walk w = { "", 0, 0 };
	od_eval_each(check_row, &w);
	cr_assert_gt(w.rows, 50);
}

Test(eval, has_kernel_follows_opset_ranges)
{
	cr_assert(od_eval_has_kernel("", "Slice", 9));
	cr_assert(od_eval_has_kernel("ai.onnx", "Slice", 13));
	cr_assert(!od_eval_has_kernel("", "Where", 8));
	cr_assert(!od_eval_has_kernel("", "NoSuchOp", 13));
	cr_assert(!od_eval_has_kernel("com.microsoft", "Add", 13));
	cr_assert(!od_eval_has_kernel("", "Add", 1000), "a future opset may change any op");
}

/* ---- element-wise --------------------------------------------------------------------------- */

Test(eval, add_broadcasts_both_ways)
{
	struct od_tensor *y;
	struct od_node *n = node("Add", 2);
	struct od_tensor *a = ten(OD_FLOAT, 2, DIMS(2, 1), NV(1, 2));
	struct od_tensor *b = ten(OD_FLOAT, 2, DIMS(1, 3), NV(10, 20, 30));
	cr_assert_eq(eval(n, 17, &y, a, b), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 2, DIMS(2, 3), NV(11, 21, 31, 12, 22, 32));
	cr_assert_eq(eval(n, 17, &y, ten(OD_FLOAT, 2, DIMS(2, 3), NV(1, 2, 3, 4, 5, 6)),
	                  SCALAR(OD_FLOAT, 1)), 0);
	expect(y, OD_FLOAT, 2, DIMS(2, 3), NV(2, 3, 4, 5, 6, 7));
}

Test(eval, shapes_that_do_not_broadcast_are_refused)
{
	struct od_tensor *y;
	struct od_node *n = node("Mul", 2);
	int rc = eval(n, 14, &y, ten(OD_FLOAT, 2, DIMS(2, 3), NV(1, 2, 3, 4, 5, 6)),
	              VEC(OD_FLOAT, 1, 2));
	cr_assert_eq(rc, OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Mul: shapes [2,3], [2] do not broadcast");
}

Test(eval, integer_division_truncates_and_refuses_zero)
{
	struct od_tensor *y;
	struct od_node *n = node("Div", 2);
	cr_assert_eq(eval(n, 14, &y, VEC(OD_INT32, -7, 7, -8), VEC(OD_INT32, 2, -2, 4)), 0);
	expect(y, OD_INT32, 1, DIMS(3), NV(-3, -3, -2));
	cr_assert_eq(eval(n, 14, &y, VEC(OD_INT64, 1, 2), VEC(OD_INT64, 1, 0)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Div: integer division by zero");
}

Test(eval, int_pow_and_mod_follow_the_spec)
{
	struct od_tensor *y;
	cr_assert_eq(eval(node("Pow", 2), 15, &y, VEC(OD_INT64, 3, -2, 2), VEC(OD_INT64, 3, 3, 0)), 0);
	expect(y, OD_INT64, 1, DIMS(3), NV(27, -8, 1));
	struct od_node *n = node("Mod", 2);
	cr_assert_eq(eval(n, 13, &y, VEC(OD_INT32, -7, 7), VEC(OD_INT32, 3, -3)), 0);
	expect(y, OD_INT32, 1, DIMS(2), NV(2, -2));
	attr_i(n, "fmod", 1);
	cr_assert_eq(eval(n, 13, &y, VEC(OD_INT32, -7, 7), VEC(OD_INT32, 3, -3)), 0);
	expect(y, OD_INT32, 1, DIMS(2), NV(-1, 1));
}

Test(eval, comparisons_give_bool_and_where_selects)
{
	struct od_tensor *c, *y;
	cr_assert_eq(eval(node("Less", 2), 13, &c, VEC(OD_INT64, 1, 5, 3), SCALAR(OD_INT64, 3)), 0);
	expect(c, OD_BOOL, 1, DIMS(3), NV(1, 0, 0));
	cr_assert_eq(eval(node("Where", 3), 16, &y, c, VEC(OD_FLOAT, 1, 2, 3),
	                  SCALAR(OD_FLOAT, -INFINITY)), 0);
	expect(y, OD_FLOAT, 1, DIMS(3), NV(1, -INFINITY, -INFINITY));
}

Test(eval, variadic_max_broadcasts_every_input)
{
	struct od_tensor *y;
	cr_assert_eq(eval(node("Max", 3), 13, &y, VEC(OD_FLOAT, 1, 5), SCALAR(OD_FLOAT, 3),
	                  ten(OD_FLOAT, 2, DIMS(2, 1), NV(0, 4))), 0);
	expect(y, OD_FLOAT, 2, DIMS(2, 2), NV(3, 5, 4, 5));
}

/* ---- Cast ------------------------------------------------------------------------------ */

Test(eval, cast_float_to_int64_rounds_toward_zero)
{
	struct od_tensor *y;
	struct od_node *n = node("Cast", 1);
	attr_i(n, "to", OD_INT64);
	cr_assert_eq(eval(n, 19, &y, VEC(OD_FLOAT, -1.7, 1.7, 2.5, -0.5)), 0);
	expect(y, OD_INT64, 1, DIMS(4), NV(-1, 1, 2, 0));
}

Test(eval, cast_to_float16_rounds_to_nearest_even)
{
	struct od_tensor *y;
	struct od_node *n = node("Cast", 1);
	attr_i(n, "to", OD_FLOAT16);
	/* 2049 lies halfway between float16's 2048 and 2050: ties go to the even 2048. */
	cr_assert_eq(eval(n, 13, &y, VEC(OD_FLOAT, 2049, 2051, 1e6, 1e-8)), 0);
	expect(y, OD_FLOAT16, 1, DIMS(4), NV(2048, 2052, INFINITY, 0));
}

Test(eval, cast_to_an_unclaimed_dtype_is_unsupported)
{
	struct od_tensor *y;
	struct od_node *n = node("Cast", 1);
	attr_i(n, "to", OD_FLOAT8E4M3FN);
	cr_assert_eq(eval(n, 19, &y, VEC(OD_FLOAT, 1)), OD_EUNSUPPORTED);
	cr_assert(strstr(ctx.msg, "dtype"), "%s", ctx.msg);
}

/* ---- shapes and indexing ---------------------------------------------------------------- */

Test(eval, reshape_zero_copies_and_minus_one_infers)
{
	struct od_tensor *y, *x = ten(OD_INT32, 3, DIMS(2, 3, 4), 24, (double[24]){ 0 });
	struct od_node *n = node("Reshape", 2);
	cr_assert_eq(eval(n, 14, &y, x, VEC(OD_INT64, 0, -1)), 0, "%s", ctx.msg);
	cr_assert_eq(y->ndims, 2);
	cr_assert(y->dims[0] == 2 && y->dims[1] == 12);
	cr_assert_eq(eval(n, 14, &y, x, VEC(OD_INT64, -1, -1)), OD_EVALUE);
	cr_assert_eq(eval(n, 14, &y, x, VEC(OD_INT64, 5, -1)), OD_EVALUE);
	attr_i(n, "allowzero", 1);
	cr_assert_eq(eval(n, 14, &y, x, VEC(OD_INT64, 0, 24)), OD_EVALUE,
	             "allowzero keeps 0 as a size");
}

Test(eval, slice_negative_steps_and_clamping)
{
	struct od_tensor *y, *x = VEC(OD_INT64, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
	struct od_node *n = node("Slice", 5);
	cr_assert_eq(eval(n, 13, &y, x, VEC(OD_INT64, -1), VEC(OD_INT64, (double)INT64_MIN),
	                  VEC(OD_INT64, 0), VEC(OD_INT64, -3)), 0, "%s", ctx.msg);
	expect(y, OD_INT64, 1, DIMS(4), NV(9, 6, 3, 0));
	cr_assert_eq(eval(n, 13, &y, x, VEC(OD_INT64, 7), VEC(OD_INT64, 1000),
	                  VEC(OD_INT64, -1), VEC(OD_INT64, 1)), 0);
	expect(y, OD_INT64, 1, DIMS(3), NV(7, 8, 9));
	cr_assert_eq(eval(n, 13, &y, x, VEC(OD_INT64, 1), VEC(OD_INT64, 5),
	                  VEC(OD_INT64, 0), VEC(OD_INT64, 0)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Slice: step 0 is zero");
}

Test(eval, slice_attribute_form_before_opset_10)
{
	struct od_tensor *y;
	struct od_node *n = node("Slice", 1);
	attr_ints(n, "starts", 1, DIMS(1));
	attr_ints(n, "ends", 1, DIMS(-1));
	attr_ints(n, "axes", 1, DIMS(-1));
	cr_assert_eq(eval(n, 9, &y, ten(OD_FLOAT, 2, DIMS(2, 3), NV(1, 2, 3, 4, 5, 6))), 0,
	             "%s", ctx.msg);
	expect(y, OD_FLOAT, 2, DIMS(2, 1), NV(2, 5));
}

Test(eval, gather_negative_and_out_of_range_indices)
{
	struct od_tensor *y, *x = ten(OD_FLOAT, 2, DIMS(4, 2), NV(0, 1, 2, 3, 4, 5, 6, 7));
	struct od_node *n = node("Gather", 2);
	cr_assert_eq(eval(n, 13, &y, x, VEC(OD_INT64, -1, 0)), 0);
	expect(y, OD_FLOAT, 2, DIMS(2, 2), NV(6, 7, 0, 1));
	cr_assert_eq(eval(n, 13, &y, x, VEC(OD_INT32, 1, 7)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Gather: index 7 out of range for axis 0 of size 4");
	attr_i(n, "axis", -1);
	cr_assert_eq(eval(n, 13, &y, x, SCALAR(OD_INT64, 1)), 0);
	expect(y, OD_FLOAT, 1, DIMS(4), NV(1, 3, 5, 7));
}

Test(eval, unsqueeze_and_squeeze_with_negative_axes)
{
	struct od_tensor *y, *z;
	cr_assert_eq(eval(node("Unsqueeze", 2), 13, &y, VEC(OD_FLOAT, 1, 2, 3),
	                  VEC(OD_INT64, -1, 0)), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 3, DIMS(1, 3, 1), NV(1, 2, 3));
	cr_assert_eq(eval(node("Squeeze", 2), 13, &z, y, VEC(OD_INT64, -3)), 0);
	expect(z, OD_FLOAT, 2, DIMS(3, 1), NV(1, 2, 3));
	cr_assert_eq(eval(node("Squeeze", 2), 13, &z, y, VEC(OD_INT64, 1)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Squeeze: cannot squeeze axis 1 of size 3");
	struct od_node *old = node("Unsqueeze", 1);
	attr_ints(old, "axes", 1, DIMS(0));
	cr_assert_eq(eval(old, 11, &y, SCALAR(OD_INT64, 5)), 0);
	expect(y, OD_INT64, 1, DIMS(1), NV(5));
}

Test(eval, concat_transpose_tile_expand)
{
	struct od_tensor *y, *m = ten(OD_INT64, 2, DIMS(2, 2), NV(1, 2, 3, 4));
	struct od_node *n = node("Concat", 2);
	attr_i(n, "axis", -1);
	cr_assert_eq(eval(n, 13, &y, m, m), 0);
	expect(y, OD_INT64, 2, DIMS(2, 4), NV(1, 2, 1, 2, 3, 4, 3, 4));
	cr_assert_eq(eval(node("Transpose", 1), 13, &y, m), 0);
	expect(y, OD_INT64, 2, DIMS(2, 2), NV(1, 3, 2, 4));
	cr_assert_eq(eval(node("Tile", 2), 13, &y, m, VEC(OD_INT64, 1, 2)), 0);
	expect(y, OD_INT64, 2, DIMS(2, 4), NV(1, 2, 1, 2, 3, 4, 3, 4));
	cr_assert_eq(eval(node("Expand", 2), 13, &y, VEC(OD_BOOL, 1, 0), VEC(OD_INT64, 2, 1)), 0);
	expect(y, OD_BOOL, 2, DIMS(2, 2), NV(1, 0, 1, 0));
}

Test(eval, shape_start_end_and_constant_of_shape)
{
	struct od_tensor *y, *z, *x = ten(OD_FLOAT, 3, DIMS(2, 3, 4), 24, (double[24]){ 0 });
	struct od_node *n = node("Shape", 1);
	attr_i(n, "start", -2);
	cr_assert_eq(eval(n, 15, &y, x), 0);
	expect(y, OD_INT64, 1, DIMS(2), NV(3, 4));
	cr_assert_eq(eval(n, 13, &y, x), 0, "start/end only exist from opset 15");
	expect(y, OD_INT64, 1, DIMS(3), NV(2, 3, 4));
	cr_assert_eq(eval(node("ConstantOfShape", 1), 13, &z, y), 0);
	expect(z, OD_FLOAT, 3, DIMS(2, 3, 4), 24, (double[24]){ 0 });
}

Test(eval, range_counts_like_arange)
{
	struct od_tensor *y;
	struct od_node *n = node("Range", 3);
	cr_assert_eq(eval(n, 11, &y, SCALAR(OD_INT32, 10), SCALAR(OD_INT32, 1),
	                  SCALAR(OD_INT32, -3)), 0);
	expect(y, OD_INT32, 1, DIMS(3), NV(10, 7, 4));
	cr_assert_eq(eval(n, 11, &y, SCALAR(OD_FLOAT, 0), SCALAR(OD_FLOAT, 1),
	                  SCALAR(OD_FLOAT, 0.25)), 0);
	expect(y, OD_FLOAT, 1, DIMS(4), NV(0, 0.25, 0.5, 0.75));
}

/* ---- reductions ---------------------------------------------------------------------------- */

Test(eval, reduce_sum_axes_input_keepdims_and_noop)
{
	struct od_tensor *y, *x = ten(OD_FLOAT, 2, DIMS(2, 3), NV(1, 2, 3, 4, 5, 6));
	struct od_node *n = node("ReduceSum", 2);
	cr_assert_eq(eval(n, 13, &y, x, VEC(OD_INT64, -1)), 0);
	expect(y, OD_FLOAT, 2, DIMS(2, 1), NV(6, 15));
	attr_i(n, "keepdims", 0);
	cr_assert_eq(eval(n, 13, &y, x, ten(OD_INT64, 1, DIMS(0), 0, NULL)), 0);
	expect(y, OD_FLOAT, 0, NULL, NV(21));
	attr_i(n, "noop_with_empty_axes", 1);
	cr_assert_eq(eval(n, 13, &y, x, ten(OD_INT64, 1, DIMS(0), 0, NULL)), 0);
	expect(y, OD_FLOAT, 2, DIMS(2, 3), NV(1, 2, 3, 4, 5, 6));
}

Test(eval, reduce_max_attribute_form_and_empty_set)
{
	struct od_tensor *y;
	struct od_node *n = node("ReduceMax", 1);
	attr_ints(n, "axes", 1, DIMS(0));
	cr_assert_eq(eval(n, 13, &y, ten(OD_INT32, 2, DIMS(2, 2), NV(1, 7, 3, 4))), 0);
	expect(y, OD_INT32, 2, DIMS(1, 2), NV(3, 7));
	cr_assert_eq(eval(n, 13, &y, ten(OD_FLOAT, 2, DIMS(0, 2), 0, NULL)), 0);
	expect(y, OD_FLOAT, 2, DIMS(1, 2), NV(-INFINITY, -INFINITY));
	cr_assert_eq(eval(node("ReduceMax", 1), 18, &y, ten(OD_INT32, 1, DIMS(0), 0, NULL)), 0);
	expect(y, OD_INT32, 1, DIMS(1), NV(INT32_MIN));
}

/* ---- refusals ---------------------------------------------------------------------------- */

Test(eval, refuses_wrong_input_counts_and_unknown_ops)
{
	struct od_tensor *y;
	cr_assert_eq(eval(node("Add", 1), 13, &y, SCALAR(OD_FLOAT, 1)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Add: 1 inputs given, 2 expected");
	cr_assert_eq(eval(node("NoSuchOp", 2), 13, &y, SCALAR(OD_FLOAT, 1), SCALAR(OD_FLOAT, 1)),
	             OD_EUNSUPPORTED);
	cr_assert_str_eq(ctx.msg, "NoSuchOp: no kernel");
	cr_assert_eq(eval(node("MatMul", 2), 13, &y, SCALAR(OD_FLOAT, 1), SCALAR(OD_FLOAT, 1)),
	             OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "MatMul: operands must not be scalars");
	cr_assert_eq(eval(node("Where", 3), 8, &y, NULL, NULL, NULL), OD_EUNSUPPORTED);
	cr_assert_str_eq(ctx.msg, "Where: opset 8 not supported");
}

Test(eval, refuses_truncated_payloads_and_bad_axes)
{
	struct od_tensor *y, *x = VEC(OD_FLOAT, 1, 2, 3);
	x->nbytes = 8;
	cr_assert_eq(eval(node("Neg", 1), 13, &y, x), OD_EVALUE);
	x->nbytes = 12;
	struct od_node *n = node("Softmax", 1);
	attr_i(n, "axis", 3);
	cr_assert_eq(eval(n, 13, &y, x), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Softmax: axis 3 out of range for rank 1");
	cr_assert_eq(eval(node("Abs", 1), 13, &y, VEC(OD_BOOL, 1)), OD_EUNSUPPORTED);
	cr_assert_str_eq(ctx.msg, "Abs: dtype bool not supported");
}

Test(eval, output_size_limit)
{
	struct od_tensor *ins[1] = { VEC(OD_INT64, 1000, 1000) }, *y;
	struct od_node *n = node("ConstantOfShape", 1);
	cr_assert_eq(od_eval_node(n, 13, ins, &y, 1000, A, &ctx), OD_ELIMIT);
	cr_assert_str_eq(ctx.msg,
	                 "ConstantOfShape: output of 1000000 elements exceeds the limit of 1000");
	cr_assert_null(y);
}

/* ---- pieces, borders, scatter, strings -------------------------------------------------- */

Test(eval, split_num_outputs_makes_the_last_part_smaller)
{
	struct od_tensor *outs[3];
	static const char *names[] = { "y", "y", "y" };
	struct od_node *n = node("Split", 1);
	struct od_tensor *ins[1] = { VEC(OD_INT64, 1, 2, 3, 4, 5) };
	n->n_outputs = 3;
	n->outputs = names;
	attr_i(n, "num_outputs", 3);
	cr_assert_eq(od_eval_node(n, 18, ins, outs, 0, A, &ctx), 0, "%s", ctx.msg);
	expect(outs[0], OD_INT64, 1, DIMS(2), NV(1, 2));
	expect(outs[2], OD_INT64, 1, DIMS(1), NV(5));
	n->n_attrs = 0;
	cr_assert_eq(od_eval_node(n, 18, ins, outs, 0, A, &ctx), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Split: axis of size 5 does not split into 3 equal parts");
}

Test(eval, pad_reflect_and_negative_pads)
{
	struct od_tensor *y;
	struct od_node *n = node("Pad", 2);
	n->attrs[n->n_attrs++] = (struct od_attr){ .name = "mode", .type = OD_ATTR_STRING,
	                                           .s = { 7, (const uint8_t *)"reflect" } };
	cr_assert_eq(eval(n, 18, &y, VEC(OD_FLOAT, 1, 2, 3), VEC(OD_INT64, 2, -1)), 0, "%s",
	             ctx.msg);
	expect(y, OD_FLOAT, 1, DIMS(4), NV(3, 2, 1, 2));
}

Test(eval, scatternd_writes_slices_and_checks_indices)
{
	struct od_tensor *y, *x = ten(OD_FLOAT, 2, DIMS(2, 2), NV(1, 2, 3, 4));
	struct od_node *n = node("ScatterND", 3);
	cr_assert_eq(eval(n, 16, &y, x, ten(OD_INT64, 2, DIMS(1, 1), NV(-1)),
	                  ten(OD_FLOAT, 2, DIMS(1, 2), NV(7, 8))), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 2, DIMS(2, 2), NV(1, 2, 7, 8));
	cr_assert_eq(eval(n, 16, &y, x, ten(OD_INT64, 2, DIMS(1, 1), NV(2)),
	                  ten(OD_FLOAT, 2, DIMS(1, 2), NV(7, 8))), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "ScatterND: index 2 out of range for axis 0 of size 2");
}

Test(eval, nonzero_lists_coordinates)
{
	struct od_tensor *y;
	cr_assert_eq(eval(node("NonZero", 1), 13, &y, ten(OD_BOOL, 2, DIMS(2, 2), NV(1, 0, 0, 1))),
	             0);
	expect(y, OD_INT64, 2, DIMS(2, 2), NV(0, 1, 0, 1));
}

Test(eval, string_outputs_own_their_bytes)
{
	struct od_tensor *y, *x = od_tensor_new(A, "", OD_STRING, 1, DIMS(2));
	char buf[] = "ab";
	x->strings[0] = (struct od_bytes){ 2, (const uint8_t *)buf };
	x->strings[1] = (struct od_bytes){ 0, NULL };
	struct od_node *n = node("Concat", 2);
	attr_i(n, "axis", 0);
	cr_assert_eq(eval(n, 13, &y, x, x), 0, "%s", ctx.msg);
	cr_assert_eq(y->numel, 4);
	buf[0] = 'z';
	cr_assert(y->strings[2].len == 2 && !memcmp(y->strings[2].data, "ab", 2),
	          "the output must not point into its input");
}

/* ---- the model-level kernels: what the node tests do not reach ------------------------------ */

static void attr_s(struct od_node *n, const char *name, const char *v)
{
	n->attrs[n->n_attrs++] = (struct od_attr){ .name = name, .type = OD_ATTR_STRING,
	                                           .s = { strlen(v), (const uint8_t *)v } };
}

Test(eval, topk_ties_go_to_the_lower_index_and_k_is_checked)
{
	struct od_tensor *outs[2];
	static const char *names[] = { "y", "i" };
	struct od_node *n = node("TopK", 2);
	n->n_outputs = 2;
	n->outputs = names;
	cr_assert_eq(eval(n, 11, outs, VEC(OD_FLOAT, 3, 5, 5, 1), VEC(OD_INT64, 2)), 0, "%s",
	             ctx.msg);
	expect(outs[0], OD_FLOAT, 1, DIMS(2), NV(5, 5));
	cr_assert(od_tensor_get_f64(outs[1], 0) == 1 && od_tensor_get_f64(outs[1], 1) == 2);
	cr_assert_eq(eval(n, 11, outs, VEC(OD_FLOAT, 3, 5), VEC(OD_INT64, 3)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "TopK: k 3 out of range for an axis of 2");
}

Test(eval, einsum_takes_diagonals_and_refuses_bad_equations)
{
	struct od_tensor *y, *m = ten(OD_FLOAT, 2, DIMS(2, 2), NV(1, 2, 3, 4));
	struct od_node *n = node("Einsum", 1);
	attr_s(n, "equation", "ii->i");
	cr_assert_eq(eval(n, 12, &y, m), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 1, DIMS(2), NV(1, 4));
	n = node("Einsum", 1);
	attr_s(n, "equation", "ii");                /* implicit: a repeated label is summed */
	cr_assert_eq(eval(n, 12, &y, m), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 0, NULL, NV(5));
	n = node("Einsum", 1);
	attr_s(n, "equation", "ijk->i");
	cr_assert_eq(eval(n, 12, &y, m), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Einsum: equation term does not match an input of rank 2");
}

Test(eval, recurrent_layers_check_direction_and_lengths)
{
	struct od_tensor *y, *x = ten(OD_FLOAT, 3, DIMS(1, 1, 1), NV(1));
	struct od_tensor *w = ten(OD_FLOAT, 3, DIMS(1, 1, 1), NV(1));
	struct od_node *n = node("RNN", 3);
	attr_s(n, "direction", "sideways");
	cr_assert_eq(eval(n, 14, &y, x, w, w), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "RNN: direction must be forward, reverse or bidirectional");
	n = node("RNN", 5);
	cr_assert_eq(eval(n, 14, &y, x, w, w, NULL, VEC(OD_INT32, 2)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "RNN: sequence length 2 out of range");
	n = node("RNN", 3);                         /* y = tanh(1 * 1 + 1 * 0) */
	cr_assert_eq(eval(n, 14, &y, x, w, w), 0, "%s", ctx.msg);
	cr_assert_float_eq(od_tensor_get_f64(y, 0), tanh(1.0), 1e-7);
}

Test(eval, resize_needs_exactly_one_of_scales_and_sizes)
{
	struct od_tensor *y, *x = ten(OD_FLOAT, 1, DIMS(2), NV(1, 3));
	struct od_node *n = node("Resize", 4);
	cr_assert_eq(eval(n, 13, &y, x, NULL, VEC(OD_FLOAT, 2), VEC(OD_INT64, 4)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Resize: exactly one of scales and sizes must be given");
	attr_s(n, "mode", "linear");
	attr_s(n, "coordinate_transformation_mode", "align_corners");
	cr_assert_eq(eval(n, 13, &y, x, NULL, NULL, VEC(OD_INT64, 3)), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 1, DIMS(3), NV(1, 2, 3));
	n = node("Resize", 3);
	attr_s(n, "mode", "bilinear");
	cr_assert_eq(eval(n, 13, &y, x, NULL, VEC(OD_FLOAT, 2)), OD_EUNSUPPORTED);
	cr_assert_str_eq(ctx.msg, "Resize: mode 'bilinear' not supported");
}

Test(eval, batchnorm_is_inference_only)
{
	struct od_tensor *y, *x = ten(OD_FLOAT, 2, DIMS(1, 2), NV(1, 2)), *v = VEC(OD_FLOAT, 1, 1);
	struct od_node *n = node("BatchNormalization", 5);
	attr_i(n, "training_mode", 1);
	cr_assert_eq(eval(n, 15, &y, x, v, v, v, v), OD_EUNSUPPORTED);
	cr_assert_str_eq(ctx.msg, "BatchNormalization: training_mode 1 not supported");
	cr_assert_eq(eval(node("BatchNormalization", 5), 15, &y, x, v, v, v, VEC(OD_FLOAT, 1)),
	             OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "BatchNormalization: input 4 must hold 2 values, one per channel");
}

Test(eval, resize_refuses_an_intermediate_past_the_limit)
{
	/* [1, 1000] -> [1000, 1] has 1000 elements, but one axis at a time passes through
	 * [1000, 1000] on the way */
	struct od_tensor *x = od_tensor_new(A, "", OD_FLOAT, 2, DIMS(1, 1000)), *y;
	struct od_node *n = node("Resize", 4);
	attr_s(n, "mode", "linear");
	struct od_tensor *ins[4] = { x, NULL, NULL, VEC(OD_INT64, 1000, 1) };
	cr_assert_eq(od_eval_node(n, 13, ins, &y, 10000, A, &ctx), OD_ELIMIT);
	cr_assert_str_eq(ctx.msg, "Resize: an intermediate of the resize is too large");
	cr_assert_eq(od_eval_node(n, 13, ins, &y, 0, A, &ctx), 0, "%s", ctx.msg);
	cr_assert_eq(y->numel, 1000);
}

/* ---- the float32 fast paths -------------------------------------------------------------- */

/* A tensor of dtype and shape dims filled with values from a small generator (NaN, -0 and
 * infinities among them). */
static struct od_tensor *sample(int dtype, int nd, const int64_t *dims, unsigned seed)
{
	static const double special[] = { NAN, -0.0, INFINITY, -INFINITY, 0.0 };
	struct od_tensor *t = od_tensor_new(A, "", dtype, nd, nd ? dims : DIMS(1));
	cr_assert(t);
	for (int64_t i = 0; i < t->numel; i++) {
		seed = seed * 1103515245u + 12345u;
		double v = ((seed >> 8) % 20001) / 1000.0 - 10.0;
		od_tensor_set_f64(t, i, (seed >> 4) % 37 == 0 ? special[(seed >> 9) % 5] : v);
	}
	return t;
}

static bool same_float(double a, double b)
{
	return (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b));
}

/* float32 computes op as double does, rounded once: every element, bit for bit. */
static void f32_matches_f64(const char *op, size_t nin, int nd0, const int64_t *d0, int nd1,
                            const int64_t *d1)
{
	struct od_tensor *f[2], *g[2], *yf, *yg;
	const int nds[2] = { nd0, nd1 };
	const int64_t *ds[2] = { d0, d1 };
	for (size_t k = 0; k < nin; k++) {     /* the same values, as float and as double */
		f[k] = sample(OD_FLOAT, nds[k], ds[k], 7u + (unsigned)k);
		g[k] = od_tensor_new(A, "", OD_DOUBLE, f[k]->ndims, f[k]->dims);
		cr_assert(g[k]);
		for (int64_t i = 0; i < f[k]->numel; i++)
			od_tensor_set_f64(g[k], i, od_tensor_get_f64(f[k], i));
	}
	cr_assert_eq(eval(node(op, nin), 14, &yf, f[0], f[1]), 0, "%s: %s", op, ctx.msg);
	cr_assert_eq(eval(node(op, nin), 14, &yg, g[0], g[1]), 0, "%s: %s", op, ctx.msg);
	cr_assert_eq(yf->numel, yg->numel);
	for (int64_t i = 0; i < yf->numel; i++) {
		double a = od_tensor_get_f64(yf, i), b = (float)od_tensor_get_f64(yg, i);
		cr_assert(same_float(a, b), "%s: element %lld is %.9g, through double %.9g", op,
		          (long long)i, a, b);
	}
}

Test(eval, float32_elementwise_is_the_double_path_rounded)
{
	static const char *const bin[] = { "Add", "Sub", "Mul", "Div" };
	static const char *const un[] = { "Relu", "Neg", "Abs", "Sigmoid", "Tanh", "Erf", "Exp" };
	for (size_t k = 0; k < sizeof bin / sizeof *bin; k++) {
		f32_matches_f64(bin[k], 2, 4, DIMS(2, 3, 4, 5), 4, DIMS(2, 3, 4, 5));  /* one row */
		f32_matches_f64(bin[k], 2, 4, DIMS(2, 3, 4, 5), 4, DIMS(1, 3, 1, 1));  /* a bias */
		f32_matches_f64(bin[k], 2, 2, DIMS(3, 1), 3, DIMS(2, 1, 4));           /* both */
		f32_matches_f64(bin[k], 2, 0, NULL, 3, DIMS(2, 3, 4));                 /* scalar */
		f32_matches_f64(bin[k], 2, 3, DIMS(2, 3, 4), 1, DIMS(4));             /* a row */
		f32_matches_f64(bin[k], 2, 3, DIMS(2, 1, 4), 3, DIMS(1, 3, 1));
		f32_matches_f64(bin[k], 2, 2, DIMS(0, 3), 1, DIMS(3));                /* empty */
	}
	for (size_t k = 0; k < sizeof un / sizeof *un; k++)
		f32_matches_f64(un[k], 1, 3, DIMS(2, 3, 5), 0, NULL);
	f32_matches_f64("Sum", 2, 2, DIMS(3, 4), 3, DIMS(2, 1, 4));
}

/* Erf, Exp, Tanh, Sigmoid and Softmax on float32 go through libm's vector variants where
 * configure found them (libmvec), the double path through the scalar calls: every value
 * must round to the same float. 2^16 values: arbitrary bit patterns (NaN payloads,
 * infinities, subnormals, huge) and the range activations live in. */
Test(eval, float32_math_rounds_as_the_scalar_calls)
{
	static const char *const ops[] = { "Erf", "Exp", "Tanh", "Sigmoid", "Softmax" };
	const int64_t n = 1 << 16;
	struct od_tensor *f = od_tensor_new(A, "", OD_FLOAT, 2, DIMS(n / 256, 256));
	struct od_tensor *g = od_tensor_new(A, "", OD_DOUBLE, 2, DIMS(n / 256, 256));
	cr_assert(f && g);
	uint32_t seed = 1;
	for (int64_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		float v = (float)((seed >> 8) % 2000001) / 1e5f - 10.0f;
		if (i % 2 && (i / 256) % 2)    /* rows of arbitrary bits in half the rows */
			memcpy(&v, &seed, sizeof v);
		((float *)f->data)[i] = v;
		od_tensor_set_f64(g, i, v);
	}
	for (size_t k = 0; k < sizeof ops / sizeof *ops; k++) {
		struct od_tensor *yf, *yg;
		cr_assert_eq(eval(node(ops[k], 1), 14, &yf, f), 0, "%s: %s", ops[k], ctx.msg);
		cr_assert_eq(eval(node(ops[k], 1), 14, &yg, g), 0, "%s: %s", ops[k], ctx.msg);
		int64_t differ = 0, first = -1;
		for (int64_t i = 0; i < n; i++)
			if (!same_float(od_tensor_get_f64(yf, i), (float)od_tensor_get_f64(yg, i)) && !differ++)
				first = i;
		cr_assert_eq(differ, 0, "%s: %lld of %lld values differ, the first at %lld (%.9g: %.9g, "
		             "scalar %.9g)", ops[k], (long long)differ, (long long)n, (long long)first,
		             first < 0 ? 0 : od_tensor_get_f64(f, first), first < 0 ? 0 : od_tensor_get_f64(yf, first),
		             first < 0 ? 0 : (float)od_tensor_get_f64(yg, first));
	}
}

/* A copy of t whose payload starts one byte off alignment, as raw_data in a mapped model
 * file may: the float32 paths must not read it through a float pointer (UBSan says so). */
static struct od_tensor *misaligned(const struct od_tensor *t)
{
	struct od_tensor *m = od_tensor_new(A, "", t->dtype, t->ndims, t->dims);
	unsigned char *buf = od_arena_alloc(A, t->nbytes + 1);
	cr_assert(m && buf);
	memcpy(buf + 1, t->data, t->nbytes);
	m->data = buf + 1;
	return m;
}

Test(eval, float32_payloads_need_not_be_aligned)
{
	static const char *const ops[] = { "Add", "Mul", "MatMul", "Relu", "Sigmoid" };
	for (size_t k = 0; k < sizeof ops / sizeof *ops; k++) {
		size_t nin = k < 3 ? 2 : 1;
		struct od_tensor *x = sample(OD_FLOAT, 2, DIMS(4, 4), 3), *w = sample(OD_FLOAT, 2, DIMS(4, 4), 5);
		struct od_tensor *y, *ym;
		cr_assert_eq(eval(node(ops[k], nin), 14, &y, x, w), 0, "%s: %s", ops[k], ctx.msg);
		cr_assert_eq(eval(node(ops[k], nin), 14, &ym, misaligned(x), misaligned(w)), 0, "%s", ctx.msg);
		for (int64_t i = 0; i < y->numel; i++)
			cr_assert(same_float(od_tensor_get_f64(y, i), od_tensor_get_f64(ym, i)), "%s", ops[k]);
	}
}

/* C channels, mult output channels each (mult 1: the channels-last kernel; more: the row
 * kernel), against the sum. */
static void depthwise_case(int64_t C, int64_t mult)
{
	const int64_t N = 2, H = 7, W = 9, M = C * mult, KH = 3, KW = 2;
	const int64_t dil[2] = { 2, 1 }, pads[4] = { 1, 0, 2, 1 };
	double xv[2 * 19 * 7 * 9], wv[38 * 2 * 3], bv[38];
	cr_assert(N * C * H * W <= (int64_t)(sizeof xv / sizeof *xv) && M <= 38);
	for (int i = 0; i < N * C * H * W; i++)
		xv[i] = (i * 7) % 5 - 2;
	for (int i = 0; i < M * KH * KW; i++)
		wv[i] = (i * 3) % 4 - 1;
	for (int i = 0; i < M; i++)
		bv[i] = i + 1;
	struct od_tensor *x = ten(OD_FLOAT, 4, DIMS(N, C, H, W), N * C * H * W, xv);
	struct od_tensor *w = ten(OD_FLOAT, 4, DIMS(M, 1, KH, KW), M * KH * KW, wv);
	struct od_tensor *b = ten(OD_FLOAT, 1, DIMS(M), M, bv);
	const int64_t strides[2][2] = { { 2, 1 }, { 1, 2 } };
	for (int sc = 0; sc < 2; sc++) {
		const int64_t *s = strides[sc];
		struct od_node *n = node("Conv", 3);
		attr_i(n, "group", C);
		attr_ints(n, "kernel_shape", 2, DIMS(KH, KW));
		attr_ints(n, "strides", 2, s);
		attr_ints(n, "dilations", 2, dil);
		attr_ints(n, "pads", 4, pads);
		struct od_tensor *y[1];
		cr_assert_eq(eval(n, 13, y, x, w, b), 0, "%s", ctx.msg);
		int64_t OH = (H + pads[0] + pads[2] - ((KH - 1) * dil[0] + 1)) / s[0] + 1;
		int64_t OW = (W + pads[1] + pads[3] - ((KW - 1) * dil[1] + 1)) / s[1] + 1;
		cr_assert_eq(y[0]->numel, N * M * OH * OW);
		for (int64_t i = 0, at = 0; i < N; i++)
			for (int64_t o = 0; o < M; o++)
				for (int64_t oh = 0; oh < OH; oh++)
					for (int64_t ow = 0; ow < OW; ow++, at++) {
						double want = bv[o];
						for (int64_t kh = 0; kh < KH; kh++)
							for (int64_t kw = 0; kw < KW; kw++) {
								int64_t ih = oh * s[0] - pads[0] + kh * dil[0];
								int64_t iw = ow * s[1] - pads[1] + kw * dil[1];
								if (ih >= 0 && ih < H && iw >= 0 && iw < W)
									want += xv[((i * C + o / mult) * H + ih) * W + iw] *
									        wv[(o * KH + kh) * KW + kw];
							}
						cr_assert_eq(od_tensor_get_f64(y[0], at), want,
						             "%lld channels x %lld, strides %lld,%lld: y[%lld,%lld,%lld,%lld] = %g, want %g",
						             (long long)C, (long long)mult, (long long)s[0], (long long)s[1],
						             (long long)i, (long long)o, (long long)oh, (long long)ow,
						             od_tensor_get_f64(y[0], at), want);
					}
	}
}

/* Depthwise convs (one input channel per group, as MobileNets) take their own paths: with
 * dilations, asymmetric pads and a stride on each axis in turn; one output channel per
 * group for 3 and for 19 channels (vectors of 16 and what is left), and two per group.
 * Small integers: exact. */
Test(eval, depthwise_conv_is_the_convolution)
{
	depthwise_case(3, 2);
	depthwise_case(3, 1);
	depthwise_case(19, 1);
}

/* Attention as ONNX's reference and node tests compute it where onnxruntime 1.24 does not:
 * softcap before the mask (c * tanh(x / c) of the logits; a masked key stays at -inf and
 * gets nothing: onnxruntime caps after the mask, and a masked key gets some weight), and
 * a query that the mask leaves no key gets zeros, not NaN. One head, head size 1, scale 1:
 * the logits are Q * K. */
Test(eval, attention_caps_before_the_mask)
{
	struct od_tensor *q = ten(OD_FLOAT, 4, DIMS(1, 1, 2, 1), 2, VALS(1, 1));
	struct od_tensor *k = ten(OD_FLOAT, 4, DIMS(1, 1, 2, 1), 2, VALS(2, 3));
	struct od_tensor *v = ten(OD_FLOAT, 4, DIMS(1, 1, 2, 1), 2, VALS(10, 20));
	/* query 0 may see key 0 only; query 1 no key at all */
	struct od_tensor *mask = ten(OD_BOOL, 2, DIMS(2, 2), 4, VALS(1, 0, 0, 0));
	struct od_node *n = node("Attention", 4);
	struct od_attr *at = &n->attrs[n->n_attrs++];
	at->name = "softcap";
	at->type = OD_ATTR_FLOAT;
	at->f = 1;
	struct od_tensor *y[1];
	cr_assert_eq(eval(n, 23, y, q, k, v, mask), 0, "%s", ctx.msg);
	expect(y[0], OD_FLOAT, 4, DIMS(1, 1, 2, 1), 2, VALS(10, 0));
}

/* ---- integer products ---------------------------------------------------------------------- */

/* Zero points per row of A (the spec's 1-D one of M entries, which numpy would broadcast
 * along K) and per column of B. */
Test(eval, matmulinteger_zero_points_per_row_and_column)
{
	struct od_tensor *a = ten(OD_UINT8, 2, DIMS(2, 3), NV(1, 2, 3, 4, 5, 6));
	struct od_tensor *b = ten(OD_INT8, 2, DIMS(3, 2), NV(1, 2, 3, 4, 5, 6));
	struct od_tensor *y;
	cr_assert_eq(eval(node("MatMulInteger", 4), 10, &y, a, b, VEC(OD_UINT8, 1, 3),
	                  VEC(OD_INT8, 1, 0)), 0, "%s", ctx.msg);
	expect(y, OD_INT32, 2, DIMS(2, 2), NV(10, 16, 16, 28));
}

/* The int32 accumulation may overflow, and then wraps: 40000 * 255 * 255 is 2601000000. */
Test(eval, matmulinteger_sums_wrap_as_int32)
{
	enum { K = 40000 };
	struct od_tensor *a = od_tensor_new(A, "", OD_UINT8, 2, DIMS(1, K));
	struct od_tensor *b = od_tensor_new(A, "", OD_UINT8, 2, DIMS(K, 1));
	struct od_tensor *y;
	memset((void *)a->data, 255, K);
	memset((void *)b->data, 255, K);
	cr_assert_eq(eval(node("MatMulInteger", 2), 10, &y, a, b), 0, "%s", ctx.msg);
	expect(y, OD_INT32, 2, DIMS(1, 1), NV(2601000000.0 - 4294967296.0));
}

/* a's scale and zero point per row (1-D), b's scale per column: 0.5, 2, 6, 3, 9 and 30 are
 * rounded (0.5 to even) before the zero point 101 is added, and 131 saturates to int8. */
Test(eval, qlinearmatmul_scales_per_row_and_column)
{
	struct od_tensor *a = ten(OD_INT8, 2, DIMS(2, 2), NV(1, 2, 3, 4));
	struct od_tensor *b = ten(OD_INT8, 2, DIMS(2, 3), NV(1, 0, 1, 0, 1, 1));
	struct od_tensor *y;
	cr_assert_eq(eval(node("QLinearMatMul", 8), 10, &y, a, VEC(OD_FLOAT, 1, 3),
	                  VEC(OD_INT8, 0, 1), b, VEC(OD_FLOAT, 0.5, 1, 2), SCALAR(OD_INT8, 0),
	                  SCALAR(OD_FLOAT, 1), SCALAR(OD_INT8, 101)), 0, "%s", ctx.msg);
	expect(y, OD_INT8, 2, DIMS(2, 3), NV(101, 103, 107, 104, 110, 127));
}

/* float16 scales came with opset 21; float8 operands are not computed. */
Test(eval, qlinearmatmul_refuses_early_float16_scales_and_float8)
{
	struct od_tensor *a = ten(OD_UINT8, 2, DIMS(1, 1), NV(3)), *y;
	struct od_tensor *h = SCALAR(OD_FLOAT16, 0.5), *z = SCALAR(OD_UINT8, 0);
	cr_assert_eq(eval(node("QLinearMatMul", 8), 20, &y, a, h, z, a, h, z, h, z), OD_EVALUE);
	cr_assert_eq(eval(node("QLinearMatMul", 8), 21, &y, a, h, z, a, h, z, h, z), 0, "%s",
	             ctx.msg);
	expect(y, OD_UINT8, 2, DIMS(1, 1), NV(4));        /* 9 * 0.5 * 0.5 / 0.5 */
	struct od_tensor *f8 = od_tensor_new(A, "", OD_FLOAT8E4M3FN, 2, DIMS(1, 1));
	cr_assert_eq(eval(node("QLinearMatMul", 8), 21, &y, a, h, z, f8, h, f8, h, z),
	             OD_EUNSUPPORTED);
	cr_assert(strstr(ctx.msg, "b of dtype"), "%s", ctx.msg);
}

/* w's scale and zero point per output channel and the int32 bias: channel 0 sums 2, 5, 8
 * (+1, times 0.5: 1.5, 3, 4.5 round to 2, 3, 4), channel 1 sums 1, 3, 5 (-1, times 1.5:
 * 0, 3, 6). Rounding comes before the zero point 251 is added (the reference's 252.5 would
 * give 252), and 251 + 6 saturates. */
Test(eval, qlinearconv_per_channel_scales_and_bias)
{
	struct od_tensor *x = ten(OD_UINT8, 4, DIMS(1, 1, 1, 4), NV(10, 11, 12, 13));
	struct od_tensor *w = ten(OD_UINT8, 4, DIMS(2, 1, 1, 2), NV(3, 4, 5, 5));
	struct od_tensor *b = ten(OD_INT32, 1, DIMS(2), NV(1, -1));
	struct od_tensor *y, *one = SCALAR(OD_FLOAT, 1);
	struct od_tensor *ws = VEC(OD_FLOAT, 0.5, 1.5), *wz = VEC(OD_UINT8, 2, 4);
	cr_assert_eq(eval(node("QLinearConv", 9), 10, &y, x, one, SCALAR(OD_UINT8, 10), w, ws, wz,
	                  one, SCALAR(OD_UINT8, 251), b), 0, "%s", ctx.msg);
	expect(y, OD_UINT8, 4, DIMS(1, 2, 1, 3), NV(253, 254, 255, 251, 254, 255));
}

/* convinteger_is_the_convolution: x [2, 4, 6, 7] (zero point -3) in two groups, w [6, 2, 3, 2]
 * (zero point per output channel), strides, dilations and asymmetric pads. */
enum { CI_N = 2, CI_C = 4, CI_H = 6, CI_W = 7, CI_M = 6, CI_G = 2, CI_KH = 3, CI_KW = 2,
       CI_CG = CI_C / CI_G, CI_X = CI_N * CI_C * CI_H * CI_W, CI_K = CI_M * CI_CG * CI_KH * CI_KW };
static const int64_t ci_s[2] = { 2, 1 }, ci_dil[2] = { 1, 2 }, ci_pads[4] = { 1, 0, 2, 1 };

/* y[i, o, oh, ow] by the definition: the taps inside the image (the pads hold x's zero
 * point, so add nothing). */
static double ci_at(const double *xv, const double *wv, const double *zv, int64_t i, int64_t o,
                    int64_t oh, int64_t ow)
{
	double want = 0;
	for (int64_t c = 0; c < CI_CG; c++)
		for (int64_t kh = 0; kh < CI_KH; kh++)
			for (int64_t kw = 0; kw < CI_KW; kw++) {
				int64_t ih = oh * ci_s[0] - ci_pads[0] + kh * ci_dil[0];
				int64_t iw = ow * ci_s[1] - ci_pads[1] + kw * ci_dil[1];
				if (ih < 0 || ih >= CI_H || iw < 0 || iw >= CI_W)
					continue;
				int64_t ic = o / (CI_M / CI_G) * CI_CG + c;
				double xq = xv[((i * CI_C + ic) * CI_H + ih) * CI_W + iw];
				double wq = wv[((o * CI_CG + c) * CI_KH + kh) * CI_KW + kw];
				want += (xq + 3) * (wq - zv[o]);
			}
	return want;
}

Test(eval, convinteger_is_the_convolution)
{
	double xv[CI_X], wv[CI_K], zv[CI_M];
	for (int i = 0; i < CI_X; i++)
		xv[i] = (i * 37) % 256 - 128;
	for (int i = 0; i < CI_K; i++)
		wv[i] = (i * 53) % 256;
	for (int i = 0; i < CI_M; i++)
		zv[i] = i * 40;
	struct od_node *n = node("ConvInteger", 4);
	attr_i(n, "group", CI_G);
	attr_ints(n, "strides", 2, ci_s);
	attr_ints(n, "dilations", 2, ci_dil);
	attr_ints(n, "pads", 4, ci_pads);
	struct od_tensor *y;
	cr_assert_eq(eval(n, 10, &y, ten(OD_INT8, 4, DIMS(CI_N, CI_C, CI_H, CI_W), CI_X, xv),
	                  ten(OD_UINT8, 4, DIMS(CI_M, CI_CG, CI_KH, CI_KW), CI_K, wv),
	                  SCALAR(OD_INT8, -3), ten(OD_UINT8, 1, DIMS(CI_M), CI_M, zv)), 0, "%s",
	             ctx.msg);
	/* (6 + 1 + 2 - 3) / 2 + 1 rows, (7 + 0 + 1 - 3) / 1 + 1 columns */
	enum { OH = 4, OW = 6 };
	cr_assert_eq(y->dtype, OD_INT32);
	cr_assert_eq(y->numel, CI_N * CI_M * OH * OW);
	for (int64_t at = 0; at < y->numel; at++) {
		int64_t ow = at % OW, oh = at / OW % OH, o = at / (OW * OH) % CI_M;
		int64_t i = at / (OW * OH * CI_M);
		double want = ci_at(xv, wv, zv, i, o, oh, ow);
		cr_assert_eq(od_tensor_get_f64(y, at), want, "y[%lld,%lld,%lld,%lld] = %g, want %g",
		             (long long)i, (long long)o, (long long)oh, (long long)ow,
		             od_tensor_get_f64(y, at), want);
	}
}

/* ---- what the node tests leave out: other opsets and dtypes, malformed inputs ----------- */

static void attr_f(struct od_node *n, const char *name, float v)
{
	n->attrs[n->n_attrs++] = (struct od_attr){ .name = name, .type = OD_ATTR_FLOAT, .f = v };
}

/* LpPool over a kernel of 2 with stride 2. */
static struct od_node *lppool_node(void)
{
	static const int64_t two[1] = { 2 };      /* the node keeps the pointer */
	struct od_node *n = node("LpPool", 1);
	attr_ints(n, "kernel_shape", 1, two);
	attr_ints(n, "strides", 1, two);
	return n;
}

Test(eval, lppool_reads_its_attributes_by_opset)
{
	struct od_tensor *y, *x = ten(OD_FLOAT, 3, DIMS(1, 1, 3), NV(3, -4, 5));
	struct od_node *n = lppool_node();
	attr_f(n, "p", 1);                          /* a float at opset 1 */
	cr_assert_eq(eval(n, 1, &y, x), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 3, DIMS(1, 1, 1), NV(7));
	n = lppool_node();
	attr_i(n, "p", 1);
	attr_i(n, "ceil_mode", 1);
	cr_assert_eq(eval(n, 11, &y, x), OD_EVALUE);
	cr_assert_str_eq(ctx.msg,
	                 "LpPool: dilations and ceil_mode are not attributes before opset 18");
	/* the last window runs past the end, half of it missing: 5 counts twice, as the
	 * reference (and torch) scale the mean of what is there by the kernel's size */
	cr_assert_eq(eval(n, 18, &y, x), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 3, DIMS(1, 1, 2), NV(7, 10));
	n = lppool_node();
	attr_i(n, "p", 0);
	cr_assert_eq(eval(n, 18, &y, x), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "LpPool: p must be positive, not 0");
}

Test(eval, lp_pools_compute_double_in_double)
{
	struct od_tensor *y, *x = ten(OD_DOUBLE, 3, DIMS(1, 1, 2), NV(1, 0x1p-30));
	struct od_node *n = lppool_node();
	attr_i(n, "p", 1);
	cr_assert_eq(eval(n, 18, &y, x), 0, "%s", ctx.msg);
	expect(y, OD_DOUBLE, 3, DIMS(1, 1, 1), NV(1 + 0x1p-30));
	n = node("GlobalLpPool", 1);
	attr_i(n, "p", 1);
	cr_assert_eq(eval(n, 2, &y, x), 0, "%s", ctx.msg);
	expect(y, OD_DOUBLE, 3, DIMS(1, 1, 1), NV(1 + 0x1p-30));
}

Test(eval, globallppool_takes_the_norm_of_each_plane)
{
	struct od_tensor *y, *x = ten(OD_FLOAT, 4, DIMS(1, 2, 1, 2), NV(3, -4, 6, 8));
	cr_assert_eq(eval(node("GlobalLpPool", 1), 2, &y, x), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 4, DIMS(1, 2, 1, 1), NV(5, 10));
	struct od_node *n = node("GlobalLpPool", 1);
	attr_f(n, "p", 1);                          /* a float at opset 1 */
	cr_assert_eq(eval(n, 1, &y, x), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 4, DIMS(1, 2, 1, 1), NV(7, 14));
	n = node("GlobalLpPool", 1);
	attr_i(n, "p", -1);
	cr_assert_eq(eval(n, 22, &y, x), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "GlobalLpPool: p must be positive, not -1");
}

Test(eval, maxunpool_refuses_indices_and_shapes_out_of_range)
{
	struct od_tensor *y, *x = ten(OD_FLOAT, 3, DIMS(1, 1, 2), NV(7, 8));
	struct od_node *n = node("MaxUnpool", 2);
	attr_ints(n, "kernel_shape", 1, DIMS(2));
	attr_ints(n, "strides", 1, DIMS(2));
	attr_ints(n, "pads", 2, DIMS(1, 1));        /* (2 - 1) * 2 + 2 - 1 - 1: 2 wide */
	cr_assert_eq(eval(n, 11, &y, x, ten(OD_INT64, 3, DIMS(1, 1, 2), NV(1, 0))), 0, "%s",
	             ctx.msg);
	expect(y, OD_FLOAT, 3, DIMS(1, 1, 2), NV(8, 7));
	cr_assert_eq(eval(n, 11, &y, x, ten(OD_INT64, 3, DIMS(1, 1, 2), NV(1, 2))), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "MaxUnpool: index 2 out of range [0, 2)");
	cr_assert_eq(eval(n, 11, &y, x, ten(OD_INT64, 3, DIMS(1, 1, 2), NV(-1, 0))), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "MaxUnpool: index -1 out of range [0, 2)");
	cr_assert_eq(eval(n, 11, &y, x, ten(OD_INT32, 3, DIMS(1, 1, 2), NV(1, 0))), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "MaxUnpool: I must be int64 and of X's shape");
	n->n_inputs = 3;
	cr_assert_eq(eval(n, 11, &y, x, ten(OD_INT64, 3, DIMS(1, 1, 2), NV(1, 0)),
	                  VEC(OD_INT64, 1, 1, 1)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg,
	                 "MaxUnpool: output_shape dim 2 of 1 is below the 2 the attributes give");
}

Test(eval, det_pivots_and_takes_empty_and_singular_matrices)
{
	struct od_tensor *y;
	/* a zero first pivot: without row exchanges this divides by zero */
	cr_assert_eq(eval(node("Det", 1), 11, &y,
	                  ten(OD_DOUBLE, 2, DIMS(3, 3), NV(0, 2, 1, 1, 1, 1, 2, 0, 3))), 0, "%s",
	             ctx.msg);
	expect(y, OD_DOUBLE, 0, NULL, NV(-4));
	cr_assert_eq(eval(node("Det", 1), 11, &y, ten(OD_FLOAT, 3, DIMS(2, 0, 0), 0, NULL)), 0,
	             "%s", ctx.msg);
	expect(y, OD_FLOAT, 1, DIMS(2), NV(1, 1));
	cr_assert_eq(eval(node("Det", 1), 11, &y, ten(OD_FLOAT, 3, DIMS(0, 1 << 20, 1 << 20), 0,
	                                              NULL)), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 1, DIMS(0), 0, NULL);   /* no room for a matrix needed */
	/* a column of zeros: 0, where eliminating with a zero pivot would give 0 / 0 */
	cr_assert_eq(eval(node("Det", 1), 11, &y,
	                  ten(OD_FLOAT, 2, DIMS(3, 3), NV(0, 1, 2, 0, 3, 4, 0, 5, 7))), 0, "%s",
	             ctx.msg);
	expect(y, OD_FLOAT, 0, NULL, NV(0));
	cr_assert_eq(eval(node("Det", 1), 11, &y, ten(OD_FLOAT, 2, DIMS(1, 2), NV(1, 2))),
	             OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Det: X must be [*, M, M]");
}

Test(eval, col2im_wraps_integers_and_checks_the_blocks)
{
	/* an image of 3, blocks of 2 at positions 0 and 1: the middle pixel takes 100 twice */
	struct od_tensor *y, *x = ten(OD_INT8, 3, DIMS(1, 2, 2), NV(1, 100, 100, 2));
	struct od_node *n = node("Col2Im", 3);
	cr_assert_eq(eval(n, 18, &y, x, VEC(OD_INT64, 3), VEC(OD_INT64, 2)), 0, "%s", ctx.msg);
	expect(y, OD_INT8, 3, DIMS(1, 1, 3), NV(1, -56, 2));
	cr_assert_eq(eval(n, 18, &y, x, VEC(OD_INT64, 3), VEC(OD_INT64, 4)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Col2Im: a block of 4 does not fit the padded image of 3");
	cr_assert_eq(eval(n, 18, &y, x, VEC(OD_INT64, 4), VEC(OD_INT64, 2)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Col2Im: input must be [N, C * 2, 3] for these blocks");
}

Test(eval, affine_grid_places_a_single_point_as_the_reference)
{
	struct od_tensor *y, *id = ten(OD_DOUBLE, 3, DIMS(1, 2, 3), NV(1, 0, 0, 0, 1, 0));
	struct od_node *n = node("AffineGrid", 2);
	attr_i(n, "align_corners", 1);              /* W of 1: x is -1; H of 2: y is -1, 1 */
	cr_assert_eq(eval(n, 20, &y, id, VEC(OD_INT64, 1, 1, 2, 1)), 0, "%s", ctx.msg);
	expect(y, OD_DOUBLE, 4, DIMS(1, 2, 1, 2), NV(-1, -1, -1, 1));
	n = node("AffineGrid", 2);                  /* edges: x is 0; y is -0.5, 0.5 */
	cr_assert_eq(eval(n, 20, &y, id, VEC(OD_INT64, 1, 1, 2, 1)), 0, "%s", ctx.msg);
	expect(y, OD_DOUBLE, 4, DIMS(1, 2, 1, 2), NV(0, -0.5, 0, 0.5));
	cr_assert_eq(eval(n, 20, &y, id, VEC(OD_INT64, 1, 1, 2, 2, 2)), OD_EVALUE);
	cr_assert_str_eq(ctx.msg,
	                 "AffineGrid: theta must be [N, 2, 3] for 4 sizes, [N, 3, 4] for 5");
}

/* Attributes come from the model: pads or dilations near INT64_MAX must be refused before
 * any size computed from them overflows. */
Test(eval, window_attributes_beyond_any_tensor_are_refused)
{
	struct od_tensor *y, *x = ten(OD_FLOAT, 3, DIMS(1, 1, 2), NV(1, 2));
	struct od_node *n = node("MaxPool", 1);
	attr_ints(n, "kernel_shape", 1, DIMS(1));
	attr_ints(n, "pads", 2, DIMS(INT64_MAX / 2, INT64_MAX / 2));
	cr_assert_eq(eval(n, 12, &y, x), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "MaxPool: kernel, strides, dilations or pads too large");
	n = node("Conv", 2);
	attr_ints(n, "dilations", 1, DIMS(INT64_MAX / 2));
	cr_assert_eq(eval(n, 13, &y, x, ten(OD_FLOAT, 3, DIMS(1, 1, 3), NV(1, 1, 1))), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "Conv: kernel, strides, dilations or pads too large");
	n = lppool_node();
	attr_ints(n, "dilations", 1, DIMS(INT64_MAX / 2));
	cr_assert_eq(eval(n, 18, &y, x), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "LpPool: kernel, strides, dilations or pads too large");
}

/* A kernel of 10^11 taps balanced by pads of 5 * 10^10 (one output per dim) is legal: the
 * pools visit only the taps inside the input, where they used to step through all of them
 * for minutes (the timeout catches that). AveragePool divides by the taps inside the input,
 * or with count_include_pad by those inside the padded extent; MaxPool takes the largest. */
Test(eval, pools_visit_only_the_taps_inside, .timeout = 30)
{
	const int64_t k = 100000000000, pad = 50000000000;
	struct od_tensor *x2 = ten(OD_FLOAT, 4, DIMS(1, 1, 2, 1), 2, VALS(1, 3));
	struct od_tensor *x1 = ten(OD_FLOAT, 3, DIMS(1, 1, 2), 2, VALS(1, 3));
	for (int include = 0; include < 2; include++) {
		struct od_tensor *y;
		struct od_node *n = node("AveragePool", 1);
		attr_ints(n, "kernel_shape", 2, DIMS(k, 1));
		attr_ints(n, "pads", 4, DIMS(pad, 0, pad - 2, 0));
		attr_i(n, "count_include_pad", include);
		cr_assert_eq(eval(n, 19, &y, x2), 0, "%s", ctx.msg);
		cr_assert_eq(y->numel, 1);
		cr_assert_float_eq(od_tensor_get_f64(y, 0), include ? 4.0 / (double)k : 2.0, 1e-12);
		n = node("AveragePool", 1);                     /* rank 1: the general window */
		attr_ints(n, "kernel_shape", 1, DIMS(k));
		attr_ints(n, "pads", 2, DIMS(pad, pad - 2));
		attr_i(n, "count_include_pad", include);
		cr_assert_eq(eval(n, 19, &y, x1), 0, "%s", ctx.msg);
		cr_assert_float_eq(od_tensor_get_f64(y, 0), include ? 4.0 / (double)k : 2.0, 1e-12);
	}
	struct od_tensor *y;
	struct od_node *n = node("MaxPool", 1);
	attr_ints(n, "kernel_shape", 1, DIMS(k));
	attr_ints(n, "pads", 2, DIMS(pad, pad - 2));
	cr_assert_eq(eval(n, 12, &y, x1), 0, "%s", ctx.msg);
	expect(y, OD_FLOAT, 3, DIMS(1, 1, 1), 1, VALS(3));
}

/* ConvTranspose's output size comes from the file (output_padding, output_shape, strides
 * times the input): one past int64 is refused, not wrapped (UBSan stopped the old code). */
Test(eval, convtranspose_output_size_is_checked)
{
	struct od_tensor *x = ten(OD_FLOAT, 4, DIMS(1, 1, 2, 2), 4, VALS(1, 2, 3, 4));
	struct od_tensor *w = ten(OD_FLOAT, 4, DIMS(1, 1, 1, 1), 1, VALS(1));
	struct od_tensor *y;
	struct od_node *n = node("ConvTranspose", 2);
	attr_ints(n, "output_padding", 2, DIMS(INT64_MAX, 0));
	cr_assert_eq(eval(n, 11, &y, x, w), OD_EVALUE);
	cr_assert_str_eq(ctx.msg, "ConvTranspose: output_padding, output_shape or the output too large");
	n = node("ConvTranspose", 2);
	attr_ints(n, "output_shape", 2, DIMS(INT64_MAX, 2));
	cr_assert_eq(eval(n, 11, &y, x, w), OD_EVALUE);
}
