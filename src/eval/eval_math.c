/*
 * eval_math.c — element-wise kernels of two or more inputs with numpy broadcasting:
 * arithmetic (Add, Sub, Mul, Div, Mod, Pow), variadic Min/Max/Sum/Mean, comparisons,
 * logical And/Or/Xor, bitwise And/Or/Xor, BitShift, Where and Clip. Floats compute in double and round once to their
 * dtype; integers compute in 64 bits and wrap to theirs, dividing toward zero as C does.
 */
#include "config.h"
#include <float.h>
#include <math.h>
#include "eval_internal.h"

/* One operator in the three classes it computes in (NULL: not defined there). */
enum { F32_NONE, F32_ADD, F32_SUB, F32_MUL, F32_DIV };

struct binop {
	int f32;                /* F32_*: a float32 loop that gives what f gives */
	double (*f)(double, double);
	int64_t (*s)(int64_t, int64_t);
	uint64_t (*u)(uint64_t, uint64_t);
	bool cmp;               /* produces bool */
	bool nozero;            /* an integer zero divisor is an error */
};

#define WRAP(op) (int64_t)((uint64_t)a op (uint64_t)b)
static double f_add(double a, double b) { return a + b; }
static int64_t s_add(int64_t a, int64_t b) { return WRAP(+); }
static uint64_t u_add(uint64_t a, uint64_t b) { return a + b; }
static double f_sub(double a, double b) { return a - b; }
static int64_t s_sub(int64_t a, int64_t b) { return WRAP(-); }
static uint64_t u_sub(uint64_t a, uint64_t b) { return a - b; }
static double f_mul(double a, double b) { return a * b; }
static int64_t s_mul(int64_t a, int64_t b) { return WRAP(*); }
static uint64_t u_mul(uint64_t a, uint64_t b) { return a * b; }
static double f_div(double a, double b) { return a / b; }
static int64_t s_div(int64_t a, int64_t b) { return b == -1 ? WRAP(*) : a / b; }
static uint64_t u_div(uint64_t a, uint64_t b) { return a / b; }
/* Mod with fmod=0 takes the divisor's sign (Python's %); fmod=1 the dividend's (C's). */
static int64_t s_modf(int64_t a, int64_t b)
{
	int64_t r = b == -1 ? 0 : a % b;
	return r && (r < 0) != (b < 0) ? r + b : r;
}
static int64_t s_rem(int64_t a, int64_t b) { return b == -1 ? 0 : a % b; }
static uint64_t u_rem(uint64_t a, uint64_t b) { return a % b; }
/* numpy's minimum/maximum: a NaN on either side wins. */
static double f_min(double a, double b) { return isnan(a) || isnan(b) ? NAN : a < b ? a : b; }
static int64_t s_min(int64_t a, int64_t b) { return a < b ? a : b; }
static uint64_t u_min(uint64_t a, uint64_t b) { return a < b ? a : b; }
static double f_max(double a, double b) { return isnan(a) || isnan(b) ? NAN : a > b ? a : b; }
static int64_t s_max(int64_t a, int64_t b) { return a > b ? a : b; }
static uint64_t u_max(uint64_t a, uint64_t b) { return a > b ? a : b; }
#define CMP(name, op) \
	static double f_##name(double a, double b) { return a op b; } \
	static int64_t s_##name(int64_t a, int64_t b) { return a op b; } \
	static uint64_t u_##name(uint64_t a, uint64_t b) { return a op b; }
CMP(eq, ==)
CMP(lt, <)
CMP(gt, >)
CMP(le, <=)
CMP(ge, >=)
static uint64_t u_and(uint64_t a, uint64_t b) { return a && b; }
static int64_t s_band(int64_t a, int64_t b) { return a & b; }
static uint64_t u_band(uint64_t a, uint64_t b) { return a & b; }
static int64_t s_bor(int64_t a, int64_t b) { return a | b; }
static uint64_t u_bor(uint64_t a, uint64_t b) { return a | b; }
static int64_t s_bxor(int64_t a, int64_t b) { return a ^ b; }
static uint64_t u_bxor(uint64_t a, uint64_t b) { return a ^ b; }
static uint64_t u_or(uint64_t a, uint64_t b) { return a || b; }
static uint64_t u_shl(uint64_t a, uint64_t b) { return b >= 64 ? 0 : a << b; }
static uint64_t u_shr(uint64_t a, uint64_t b) { return b >= 64 ? 0 : a >> b; }
static uint64_t u_xor(uint64_t a, uint64_t b) { return !a != !b; }

static const struct binop
	op_add = { F32_ADD, f_add, s_add, u_add, false, false },
	op_sub = { F32_SUB, f_sub, s_sub, u_sub, false, false },
	op_mul = { F32_MUL, f_mul, s_mul, u_mul, false, false },
	op_div = { F32_DIV, f_div, s_div, u_div, false, true },
	op_modf = { F32_NONE, NULL, s_modf, u_rem, false, true },
	op_rem = { F32_NONE, fmod, s_rem, u_rem, false, true },
	op_min = { F32_NONE, f_min, s_min, u_min, false, false },
	op_max = { F32_NONE, f_max, s_max, u_max, false, false },
	op_eq = { F32_NONE, f_eq, s_eq, u_eq, true, false },
	op_lt = { F32_NONE, f_lt, s_lt, u_lt, true, false },
	op_gt = { F32_NONE, f_gt, s_gt, u_gt, true, false },
	op_le = { F32_NONE, f_le, s_le, u_le, true, false },
	op_ge = { F32_NONE, f_ge, s_ge, u_ge, true, false },
	op_and = { F32_NONE, NULL, NULL, u_and, true, false },
	op_or = { F32_NONE, NULL, NULL, u_or, true, false },
	op_xor = { F32_NONE, NULL, NULL, u_xor, true, false },
	op_band = { F32_NONE, NULL, s_band, u_band, false, false },
	op_bor = { F32_NONE, NULL, s_bor, u_bor, false, false },
	op_bxor = { F32_NONE, NULL, s_bxor, u_bxor, false, false },
	op_shl = { F32_NONE, NULL, NULL, u_shl, false, false },
	op_shr = { F32_NONE, NULL, NULL, u_shr, false, false };

/* One row of a float32 op: x and y advance by sx and sy (0 or 1) per element. In float,
 * +, -, * and / round exactly as the double result rounded to float would (double has more
 * than twice float's precision), so this is what the double path computes, only faster. */
#define F32_ROW(EXPR) \
	do { \
		if (sx && sy) \
			for (int64_t i = 0; i < n; i++) { float a = x[i], b = y[i]; o[i] = EXPR; } \
		else if (sx) \
			for (int64_t i = 0; i < n; i++) { float a = x[i], b = y[0]; o[i] = EXPR; } \
		else if (sy) \
			for (int64_t i = 0; i < n; i++) { float a = x[0], b = y[i]; o[i] = EXPR; } \
		else \
			for (int64_t i = 0; i < n; i++) { float a = x[0], b = y[0]; o[i] = EXPR; } \
	} while (0)

static EV_CLONES void f32_row(int op, float *o, const float *x, int64_t sx, const float *y, int64_t sy,
                    int64_t n)
{
	switch (op) {
	case F32_ADD: F32_ROW(a + b); break;
	case F32_SUB: F32_ROW(a - b); break;
	case F32_MUL: F32_ROW(a * b); break;
	case F32_DIV: F32_ROW(a / b); break;
	}
}

struct apply_job {
	int op, from;
	float *o;
	const float *x, *y;
	const struct ev_bcast *b;
	int64_t len, st[2];
};

/* Rows lo..hi of the output (rows of len elements over the dims before from). */
static int apply_rows(void *ctx, int64_t lo, int64_t hi)
{
	const struct apply_job *j = ctx;
	struct ev_bcast b = *j->b;
	int64_t r = lo;
	b.off[0] = b.off[1] = 0;
	for (int d = j->from - 1; d >= 0; d--) {
		b.idx[d] = r % b.dims[d];
		r /= b.dims[d];
		b.off[0] += b.idx[d] * b.st[0][d];
		b.off[1] += b.idx[d] * b.st[1][d];
	}
	for (int64_t i = lo; i < hi; i++, ev_bcast_step(&b, j->from - 1))
		f32_row(j->op, j->o + i * j->len, j->x + b.off[0], j->st[0], j->y + b.off[1],
		        j->st[1], j->len);
	return 0;
}

/* Elements lo..hi of the one row. */
static int apply_span(void *ctx, int64_t lo, int64_t hi)
{
	const struct apply_job *j = ctx;
	f32_row(j->op, j->o + lo, j->x + lo * j->st[0], j->st[0], j->y + lo * j->st[1], j->st[1],
	        hi - lo);
	return 0;
}

static void apply_f32(int op, float *o, const float *x, const float *y, struct ev_bcast *b)
{
	struct apply_job j = { .op = op, .o = o, .x = x, .y = y, .b = b };
	j.len = ev_bcast_rows(b, &j.from, j.st);
	int64_t rows = j.len ? b->numel / j.len : 0;
	if (rows > 1)
		ev_par_range(rows, EV_PAR_GRAIN / j.len + 1, apply_rows, &j);
	else if (rows == 1)
		ev_par_range(j.len, EV_PAR_GRAIN, apply_span, &j);
}

/* out = op(x, y), where out already has the broadcast shape (and may be x itself). */
static int apply(struct ev *e, const struct binop *op, struct od_tensor *out,
                 const struct od_tensor *x, const struct od_tensor *y)
{
	const struct od_tensor *ts[2] = { x, y };
	struct ev_bcast b;
	int rc = ev_bcast_init(e, &b, 2, ts), cls = ev_class(x->dtype);
	if (rc)
		return rc;
	if (op->f32 && x->dtype == OD_FLOAT && y->dtype == OD_FLOAT && ev_is_f32(out)) {
		bool ox, oy;            /* a payload at an odd offset of the file is copied */
		float *fx = ev_f32_in(x, &ox), *fy = ev_f32_in(y, &oy);
		if (fx && fy)
			apply_f32(op->f32, (float *)out->data, fx, fy, &b);
		ev_f32_free(fx, ox);
		ev_f32_free(fy, oy);
		return fx && fy ? 0 : ev_err(e, OD_ENOMEM, "out of memory");
	}
	for (int64_t i = 0; i < b.numel; i++, ev_bcast_next(&b)) {
		if (cls == EV_CF)
			ev_setf(out, i, op->f(ev_getf(x, b.off[0]), ev_getf(y, b.off[1])));
		else if (cls == EV_CS)
			ev_seti(out, i, op->s(ev_geti(x, b.off[0]), ev_geti(y, b.off[1])));
		else
			ev_setu(out, i, op->u(ev_getu(x, b.off[0]), ev_getu(y, b.off[1])));
	}
	return 0;
}

/* The checks shared by binary and variadic forms: one dtype, defined op, no zero divisor. */
static int check_operand(struct ev *e, const struct binop *op, size_t i)
{
	const struct od_tensor *x = e->in[0], *y = e->in[i];
	int cls = ev_class(x->dtype);
	if (!y)
		return ev_bad(e, "input %zu is missing", i);
	if (y->dtype != x->dtype)
		return ev_bad(e, "input %zu is %s, input 0 is %s", i, od_dtype_name(y->dtype),
		              od_dtype_name(x->dtype));
	if ((cls == EV_CF && !op->f) || (cls == EV_CS && !op->s) || (cls == EV_CU && !op->u))
		return ev_unsup(e, "dtype %s not supported", od_dtype_name(x->dtype));
	for (int64_t j = 0; i && op->nozero && cls != EV_CF && j < y->numel; j++)
		if (!ev_getu(y, j))
			return ev_bad(e, "integer division by zero");
	return 0;
}

static int binary(struct ev *e, const struct binop *op)
{
	struct ev_bcast b;
	struct od_tensor *t;
	int rc;
	if ((rc = check_operand(e, op, 0)) || (rc = check_operand(e, op, 1)))
		return rc;
	if ((rc = ev_bcast_init(e, &b, 2, (const struct od_tensor *const *)e->in)) ||
	    (rc = ev_new_whole(e, 0, op->cmp ? OD_BOOL : e->in[0]->dtype, b.nd, b.dims, &t)))
		return rc;
	return apply(e, op, t, e->in[0], e->in[1]);
}

#define BINARY(name, op) int ev_k_##name(struct ev *e) { return binary(e, &op); }
BINARY(add, op_add)
BINARY(sub, op_sub)
BINARY(mul, op_mul)
BINARY(div, op_div)
BINARY(bitwise_and, op_band)
BINARY(bitwise_or, op_bor)
BINARY(bitwise_xor, op_bxor)

static int equal_strings(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *y = e->in[1];
	struct ev_bcast b;
	struct od_tensor *t;
	int rc;
	if (y->dtype != OD_STRING)
		return ev_bad(e, "input 1 is %s, input 0 is string", od_dtype_name(y->dtype));
	if ((rc = ev_bcast_init(e, &b, 2, (const struct od_tensor *const *)e->in)) ||
	    (rc = ev_new(e, 0, OD_BOOL, b.nd, b.dims, &t)))
		return rc;
	for (int64_t i = 0; i < b.numel; i++, ev_bcast_next(&b)) {
		const struct od_bytes *p = &x->strings[b.off[0]], *q = &y->strings[b.off[1]];
		ev_setu(t, i, p->len == q->len && (!p->len || !memcmp(p->data, q->data, p->len)));
	}
	return 0;
}

int ev_k_equal(struct ev *e)
{
	return e->in[0]->dtype == OD_STRING ? equal_strings(e) : binary(e, &op_eq);
}
BINARY(less, op_lt)
BINARY(greater, op_gt)
BINARY(less_equal, op_le)
BINARY(greater_equal, op_ge)
BINARY(and, op_and)
BINARY(or, op_or)
BINARY(xor, op_xor)

int ev_k_mod(struct ev *e)
{
	bool fmod_ = ev_attr_i(e, "fmod", 0) != 0;
	if (!fmod_ && ev_class(e->in[0]->dtype) == EV_CF)
		return ev_bad(e, "fmod must be 1 for %s", od_dtype_name(e->in[0]->dtype));
	return binary(e, fmod_ ? &op_rem : &op_modf);
}

/* Unsigned only; a shift past the width gives 0 (C leaves it undefined). */
int ev_k_bitshift(struct ev *e)
{
	char buf[8];
	const char *d = ev_attr_s(e, "direction", "", buf, sizeof buf);
	if (!strcmp(d, "LEFT"))
		return binary(e, &op_shl);
	if (!strcmp(d, "RIGHT"))
		return binary(e, &op_shr);
	return ev_bad(e, "direction must be LEFT or RIGHT");
}

/* ---- variadic Min, Max, Sum, Mean ------------------------------------------------------ */

static int variadic(struct ev *e, const struct binop *op, struct od_tensor **res)
{
	struct ev_bcast b;
	struct od_tensor *t;
	int rc, nd = e->in[0]->ndims;
	int64_t dims[OD_MAX_RANK];
	memcpy(dims, e->in[0]->dims, (size_t)nd * sizeof *dims);
	for (size_t i = 0; i < e->nin; i++) {
		if ((rc = check_operand(e, op, i)))
			return rc;
		int ndims[2] = { nd, e->in[i]->ndims };
		const int64_t *d[2] = { dims, e->in[i]->dims };
		if ((rc = ev_bcast_shapes(e, &b, 2, ndims, d)))
			return rc;
		nd = b.nd;
		memcpy(dims, b.dims, (size_t)nd * sizeof *dims);
	}
	if ((rc = ev_new(e, 0, e->in[0]->dtype, nd, dims, &t)))
		return rc;
	const struct od_tensor *first[2] = { t, e->in[0] };
	ev_bcast_init(e, &b, 2, first);
	for (int64_t i = 0; i < b.numel; i++, ev_bcast_next(&b))
		ev_copy(t, i, e->in[0], b.off[1], 1);
	for (size_t i = 1; i < e->nin && !rc; i++)
		rc = apply(e, op, t, t, e->in[i]);
	*res = t;
	return rc;
}

int ev_k_min(struct ev *e) { struct od_tensor *t; return variadic(e, &op_min, &t); }
int ev_k_max(struct ev *e) { struct od_tensor *t; return variadic(e, &op_max, &t); }
int ev_k_sum(struct ev *e) { struct od_tensor *t; return variadic(e, &op_add, &t); }

int ev_k_mean(struct ev *e)
{
	struct od_tensor *t;
	int rc = variadic(e, &op_add, &t);
	for (int64_t i = 0; !rc && i < t->numel; i++)
		ev_setf(t, i, ev_getf(t, i) / (double)e->nin);
	return rc;
}

/* ---- Pow ------------------------------------------------------------------------------- */

/* Integer power by squaring, wrapping like repeated C multiplication. */
static int64_t ipow(int64_t base, int64_t ex)
{
	uint64_t r = 1, b = (uint64_t)base;
	for (; ex > 0; ex >>= 1) {
		if (ex & 1)
			r *= b;
		b *= b;
	}
	return (int64_t)r;
}

/* The exponent may be of another numeric type; the result has the base's. */
int ev_k_pow(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *y = e->in[1];
	struct ev_bcast b;
	struct od_tensor *t;
	int rc;
	if (!(OD_DT(y->dtype) & EV_NUM))
		return ev_unsup(e, "exponent dtype %s not supported", od_dtype_name(y->dtype));
	if ((rc = ev_bcast_init(e, &b, 2, (const struct od_tensor *const *)e->in)) ||
	    (rc = ev_new(e, 0, x->dtype, b.nd, b.dims, &t)))
		return rc;
	bool fx = ev_class(x->dtype) == EV_CF, fy = ev_class(y->dtype) == EV_CF;
	if (x->dtype == OD_FLOAT && y->numel == 1 && fy && ev_is_f32(t)) {
		/* float32 to a constant power (LayerNorm's variance as torch exports it): x * x
		 * for 2 is what pow() in double rounds to, as the general path computes */
		double ex = ev_getf(y, 0);
		bool owned;
		float *v = ev_f32_in(x, &owned), *o = (float *)t->data;
		if (!v)
			return ev_err(e, OD_ENOMEM, "out of memory");
		for (int64_t i = 0; i < t->numel; i++)
			o[i] = ex == 2 ? v[i] * v[i] : (float)pow(v[i], ex);
		ev_f32_free(v, owned);
		return 0;
	}
	for (int64_t i = 0; i < b.numel; i++, ev_bcast_next(&b)) {
		if (fx || fy || ev_geti(y, b.off[1]) < 0)
			ev_setf(t, i, pow(ev_getf(x, b.off[0]), ev_getf(y, b.off[1])));
		else
			ev_seti(t, i, ipow(ev_geti(x, b.off[0]), ev_geti(y, b.off[1])));
	}
	return 0;
}

/* ---- Where ----------------------------------------------------------------------------- */

int ev_k_where(struct ev *e)
{
	const struct od_tensor *c = e->in[0], *x = e->in[1], *y = e->in[2];
	struct ev_bcast b;
	struct od_tensor *t;
	int rc;
	if (c->dtype != OD_BOOL)
		return ev_bad(e, "condition must be bool, not %s", od_dtype_name(c->dtype));
	if (x->dtype != y->dtype)
		return ev_bad(e, "inputs 1 and 2 differ: %s and %s", od_dtype_name(x->dtype),
		              od_dtype_name(y->dtype));
	if ((rc = ev_bcast_init(e, &b, 3, (const struct od_tensor *const *)e->in)) ||
	    (rc = ev_new(e, 0, x->dtype, b.nd, b.dims, &t)))
		return rc;
	for (int64_t i = 0; i < b.numel; i++, ev_bcast_next(&b)) {
		if (ev_getu(c, b.off[0]))
			ev_copy(t, i, x, b.off[1], 1);
		else
			ev_copy(t, i, y, b.off[2], 1);
	}
	return 0;
}

/* ---- Clip ------------------------------------------------------------------------------ */

struct clip_job {
	float *o;
	const float *x;
	float lo, hi;
};

/* float32 (ReLU6 in every MobileNet): the double path's comparisons, in float, exactly */
static EV_CLONES int clip_f32(void *ctx, int64_t from, int64_t to)
{
	const struct clip_job *j = ctx;
	for (int64_t i = from; i < to; i++) {
		float v = j->x[i];
		v = v < j->lo ? j->lo : v;
		j->o[i] = v > j->hi ? j->hi : v;
	}
	return 0;
}

/* numpy.clip: max(x, lo) then min(.., hi), so hi wins when lo > hi; NaN stays NaN. */
static void clip_into(struct od_tensor *t, const struct od_tensor *x, const struct od_tensor *lo,
                      const struct od_tensor *hi)
{
	int cls = ev_class(x->dtype);
	if (ev_is_f32(x) && ev_is_f32(t)) {
		struct clip_job j = { (float *)t->data, x->data, lo ? (float)ev_getf(lo, 0) : -INFINITY,
		                      hi ? (float)ev_getf(hi, 0) : INFINITY };
		ev_par_range(x->numel, EV_PAR_GRAIN, clip_f32, &j);
		return;
	}
	for (int64_t i = 0; i < x->numel; i++) {
		if (cls == EV_CF) {
			double v = ev_getf(x, i);
			if (lo && v < ev_getf(lo, 0))
				v = ev_getf(lo, 0);
			if (hi && v > ev_getf(hi, 0))
				v = ev_getf(hi, 0);
			ev_setf(t, i, v);
		} else if (cls == EV_CS) {
			int64_t v = ev_geti(x, i);
			v = lo && v < ev_geti(lo, 0) ? ev_geti(lo, 0) : v;
			ev_seti(t, i, hi && v > ev_geti(hi, 0) ? ev_geti(hi, 0) : v);
		} else {
			uint64_t v = ev_getu(x, i);
			v = lo && v < ev_getu(lo, 0) ? ev_getu(lo, 0) : v;
			ev_setu(t, i, hi && v > ev_getu(hi, 0) ? ev_getu(hi, 0) : v);
		}
	}
}

int ev_k_clip(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *lim[2] = { NULL, NULL };
	struct od_tensor *t;
	int rc;
	for (size_t i = 1; i < e->nin; i++) {
		lim[i - 1] = e->in[i];
		if (lim[i - 1] && (lim[i - 1]->numel != 1 || lim[i - 1]->dtype != x->dtype))
			return ev_bad(e, "input %zu must be one %s", i, od_dtype_name(x->dtype));
	}
	if ((rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t)))
		return rc;
	clip_into(t, x, lim[0], lim[1]);
	return 0;
}

int ev_k_clip6(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	int64_t none = 0;
	struct od_tensor *t, lim[2];
	float bound[2] = { ev_attr_f(e, "min", -FLT_MAX), ev_attr_f(e, "max", FLT_MAX) };
	for (int i = 0; i < 2; i++)
		lim[i] = (struct od_tensor){ .dtype = OD_FLOAT, .numel = 1, .data = &bound[i],
		                             .nbytes = sizeof bound[i], .dims = &none };
	int rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t);
	if (!rc)
		clip_into(t, x, &lim[0], &lim[1]);
	return rc;
}
