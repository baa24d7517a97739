/*
 * infer_elem.c — element-wise operators: the same shape in and out, numpy broadcasting,
 * comparisons, Where, Cast; and the arithmetic on small known values that shape
 * computations do (Gather(Shape(x), 0) * 8, Equal(dim, 1)).
 */
#include "config.h"
#include <string.h>
#include "infer.h"

int sh_op_same(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int rc = sh_same(c, 0, x, x ? x->dtype : OD_UNDEFINED);
	if (!rc && x && x->n_value >= 0 && !strcmp(c->n->op_type, "Neg")) {
		struct od_dim v[64];
		for (int i = 0; i < x->n_value && i < 64; i++)
			v[i] = sh_vknown(x->value[i]) && x->value[i].value != INT64_MIN ? sh_v(-x->value[i].value) : SH_VUNK;
		rc = sh_value(c, 0, (size_t)x->n_value, v);
	}
	if (!rc && x && x->n_value >= 0 && (!strcmp(c->n->op_type, "Abs") || !strcmp(c->n->op_type, "Relu"))) {
		struct od_dim v[64];
		bool abs = c->n->op_type[0] == 'A';
		for (int i = 0; i < x->n_value && i < 64; i++)
			v[i] = !sh_vknown(x->value[i]) ? (x->value[i].param[0] ? x->value[i] : SH_VUNK) :
			       x->value[i].value >= 0 ? x->value[i] : !abs ? sh_v(0) :
			       x->value[i].value == INT64_MIN ? SH_VUNK : sh_v(-x->value[i].value);
		rc = sh_value(c, 0, (size_t)x->n_value, v);
	}
	return rc;
}

int sh_op_identity(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	if (!x)
		return 0;
	int rc = sh_same(c, 0, x, x->dtype);
	if (!rc && x->n_value >= 0)
		rc = sh_value(c, 0, (size_t)x->n_value, x->value);
	if (!rc && c->nout)
		c->out[0].kind = x->kind ? x->kind : OD_TYPE_NONE;
	return rc;
}

int sh_op_bool_same(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int rc = sh_same(c, 0, x, OD_BOOL);
	if (!rc && x && x->n_value >= 0 && !strcmp(c->n->op_type, "Not")) {
		struct od_dim v[64];
		for (int i = 0; i < x->n_value && i < 64; i++)
			v[i] = sh_vknown(x->value[i]) ? sh_v(!x->value[i].value) : SH_VUNK;
		rc = sh_value(c, 0, (size_t)x->n_value, v);
	}
	return rc;
}

static int cast_to(struct sh_call *c, int to)
{
	const struct od_shape *x = sh_in(c, 0);
	int rc = sh_same(c, 0, x, to);
	if (rc || !x || x->n_value < 0 || !(sh_is_int(to) || od_dtype_is_float(to)))
		return rc;
	if (to != OD_BOOL)
		return sh_value(c, 0, (size_t)x->n_value, x->value);
	struct od_dim v[64];
	for (int i = 0; i < x->n_value && i < 64; i++)
		v[i] = sh_vknown(x->value[i]) ? sh_v(x->value[i].value != 0) : SH_VUNK;
	return sh_value(c, 0, (size_t)x->n_value, v);
}

int sh_op_cast(struct sh_call *c)
{
	return cast_to(c, (int)sh_attr_i(c, "to", 0));
}

int sh_op_castlike(struct sh_call *c)
{
	return cast_to(c, sh_in_dtype(c, 1));
}

/* ---- arithmetic on values ------------------------------------------------------------------- */

enum { A_ADD, A_SUB, A_MUL, A_DIV, A_MOD, A_MAX, A_MIN, A_EQ, A_LT, A_GT, A_LE, A_GE, A_AND, A_OR, A_NONE };

static int arith_of(const char *op)
{
	static const char *const names[] = {"Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Equal",
	                                    "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or"};
	for (int i = 0; i < A_NONE; i++)
		if (!strcmp(op, names[i]))
			return i;
	return A_NONE;
}

static struct od_dim arith(int op, struct od_dim a, struct od_dim b)
{
	int64_t r;
	if (sh_vknown(a) && sh_vknown(b)) {
		int64_t x = a.value, y = b.value;
		switch (op) {
		case A_ADD: return __builtin_add_overflow(x, y, &r) ? SH_VUNK : sh_v(r);
		case A_SUB: return __builtin_sub_overflow(x, y, &r) ? SH_VUNK : sh_v(r);
		case A_MUL: return sh_mul(x, y, &r) ? SH_VUNK : sh_v(r);
		case A_DIV: return y > 0 && x >= 0 ? sh_v(x / y) : SH_VUNK;
		case A_MOD: return y > 0 && x >= 0 ? sh_v(x % y) : SH_VUNK;
		case A_MAX: return sh_v(x > y ? x : y);
		case A_MIN: return sh_v(x < y ? x : y);
		case A_EQ: return sh_v(x == y);
		case A_LT: return sh_v(x < y);
		case A_GT: return sh_v(x > y);
		case A_LE: return sh_v(x <= y);
		case A_GE: return sh_v(x >= y);
		case A_AND: return sh_v(x && y);
		case A_OR: return sh_v(x || y);
		default: return SH_VUNK;
		}
	}
	bool sa = !sh_vknown(a) && *a.param, sb = !sh_vknown(b) && *b.param;
	if (op == A_EQ && sa && sb && !strcmp(a.param, b.param))
		return sh_v(1);
	if (sa && sh_vknown(b) && ((op == A_MUL || op == A_DIV) && b.value == 1))
		return a;
	if (sa && sh_vknown(b) && ((op == A_ADD || op == A_SUB) && b.value == 0))
		return a;
	if (sb && sh_vknown(a) && ((op == A_MUL && a.value == 1) || (op == A_ADD && a.value == 0)))
		return b;
	if ((op == A_MUL) && ((sh_vknown(a) && a.value == 0) || (sh_vknown(b) && b.value == 0)))
		return sh_v(0);
	return SH_VUNK;
}

/* Values of a binary op on 0-D / 1-D inputs with known elements or symbols. */
static int arith_values(struct sh_call *c, int op)
{
	const struct od_shape *a = sh_in(c, 0), *b = sh_in(c, 1);
	if (op == A_NONE || !a || !b || a->n_value < 0 || b->n_value < 0 || c->nin != 2)
		return 0;
	int n = a->n_value > b->n_value ? a->n_value : b->n_value;
	if ((a->n_value != n && a->n_value != 1) || (b->n_value != n && b->n_value != 1) || n > 64)
		return 0;
	struct od_dim v[64];
	for (int i = 0; i < n; i++)
		v[i] = arith(op, a->value[a->n_value == 1 ? 0 : i], b->value[b->n_value == 1 ? 0 : i]);
	return sh_value(c, 0, (size_t)n, v);
}

int sh_op_bcast(struct sh_call *c)
{
	int rc = sh_broadcast(c, 0, 0, c->nin, sh_in_dtype(c, 0));
	return rc ? rc : arith_values(c, arith_of(c->n->op_type));
}

int sh_op_bcast_bool(struct sh_call *c)
{
	int rc = sh_broadcast(c, 0, 0, c->nin, OD_BOOL);
	return rc ? rc : arith_values(c, arith_of(c->n->op_type));
}

int sh_op_mod(struct sh_call *c)
{
	int rc = sh_broadcast(c, 0, 0, 2, sh_in_dtype(c, 0));
	return rc ? rc : arith_values(c, A_MOD);
}

int sh_op_bitshift(struct sh_call *c)
{
	return sh_broadcast(c, 0, 0, 2, sh_in_dtype(c, 0));
}

int sh_op_where(struct sh_call *c)
{
	int rc = sh_broadcast(c, 0, 0, 3, sh_in_dtype(c, 1));
	const struct od_shape *k = sh_in(c, 0), *x = sh_in(c, 1), *y = sh_in(c, 2);
	if (rc || !k || !x || !y || k->n_value < 0 || x->n_value < 0 || y->n_value < 0)
		return rc;
	int n = k->n_value > x->n_value ? k->n_value : x->n_value;
	n = y->n_value > n ? y->n_value : n;
	if ((k->n_value != n && k->n_value != 1) || (x->n_value != n && x->n_value != 1) ||
	    (y->n_value != n && y->n_value != 1) || n > 64)
		return 0;
	struct od_dim v[64];
	for (int i = 0; i < n; i++) {
		struct od_dim kc = k->value[k->n_value == 1 ? 0 : i];
		v[i] = !sh_vknown(kc) ? SH_VUNK : kc.value ? x->value[x->n_value == 1 ? 0 : i] :
		       y->value[y->n_value == 1 ? 0 : i];
	}
	return sh_value(c, 0, (size_t)n, v);
}

int sh_op_dropout(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int rc = sh_same(c, 0, x, x ? x->dtype : 0);
	return rc ? rc : sh_same(c, 1, x, OD_BOOL);
}

int sh_op_bernoulli(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	return sh_same(c, 0, x, (int)sh_attr_i(c, "dtype", x ? x->dtype : 0));
}

int sh_op_random_like(struct sh_call *c)
{
	return sh_op_bernoulli(c);
}

int sh_op_random(struct sh_call *c)
{
	size_t n;
	const int64_t *shape = sh_attr_ints(c, "shape", &n);
	struct od_dim dims[OD_MAX_RANK];
	for (size_t i = 0; shape && i < n && i < OD_MAX_RANK; i++)
		dims[i] = shape[i] >= 0 ? sh_d(shape[i]) : SH_UNK;
	return sh_set(c, 0, (int)sh_attr_i(c, "dtype", OD_FLOAT), shape ? (int)n : -1, dims);
}

int sh_op_quantize(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int dt = sh_in(c, 2) ? sh_in_dtype(c, 2) : (int)sh_attr_i(c, "output_dtype", 0);
	return sh_same(c, 0, x, dt ? dt : OD_UINT8);
}

int sh_op_dequantize(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int dt = (int)sh_attr_i(c, "output_dtype", 0);
	return sh_same(c, 0, x, dt ? dt : sh_in(c, 1) ? sh_in_dtype(c, 1) : OD_FLOAT);
}

int sh_op_dyn_quantize(struct sh_call *c)
{
	int rc = sh_same(c, 0, sh_in(c, 0), OD_UINT8);
	if (!rc)
		rc = sh_set(c, 1, OD_FLOAT, 0, NULL);
	return rc ? rc : sh_set(c, 2, OD_UINT8, 0, NULL);
}
