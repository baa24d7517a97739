/*
 * eval_unary.c — element-wise kernels of one input: Not, BitwiseNot, Neg, Abs, Sign, Relu,
 * and the float-only Sqrt, Reciprocal, Floor, Ceil, Round, Exp, Log, Erf, Sigmoid, the
 * trigonometric and hyperbolic functions, IsNaN and IsInf. Floats compute in double and
 * round once to their dtype; float32 skips the per-element dtype dispatch.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

enum { F32_CALL, F32_ABS, F32_NEG, F32_RELU, F32_ERF, F32_EXP, F32_TANH, F32_SIGMOID };

struct unop {
	double (*f)(double);
	int64_t (*s)(int64_t);
	uint64_t (*u)(uint64_t);
	int f32;                /* F32_CALL: float32 through f, else a loop exact in float */
};

static double f_sigmoid(double a)
{
	double e = exp(-fabs(a));       /* never overflows; NaN stays NaN */
	return a >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/* The loops that call libm, vectorized through its vector variants where there are
 * (EV_CLONES): the same function in double as the general path, rounded once. */
static EV_CLONES void unary_f32_math(int kind, float *o, const float *x, int64_t n)
{
	switch (kind) {
	case F32_ERF:
		for (int64_t i = 0; i < n; i++)
			o[i] = (float)erf(x[i]);
		break;
	case F32_EXP:
		for (int64_t i = 0; i < n; i++)
			o[i] = (float)exp(x[i]);
		break;
	case F32_TANH:
		for (int64_t i = 0; i < n; i++)
			o[i] = (float)tanh(x[i]);
		break;
	default:
		for (int64_t i = 0; i < n; i++)
			o[i] = (float)f_sigmoid(x[i]);
	}
}

/* float32 to float32 without the per-element dtype dispatch: Relu, Neg and Abs are exact
 * in float; the others call f in double and round once, as the general path does. */
static EV_CLONES void unary_f32(const struct unop *op, float *o, const float *x, int64_t n)
{
	switch (op->f32) {
	case F32_ERF: case F32_EXP: case F32_TANH: case F32_SIGMOID:
		unary_f32_math(op->f32, o, x, n);
		break;
	case F32_ABS:
		for (int64_t i = 0; i < n; i++)
			o[i] = fabsf(x[i]);
		break;
	case F32_NEG:
		for (int64_t i = 0; i < n; i++)
			o[i] = -x[i];
		break;
	case F32_RELU:          /* !(v <= 0): positive or NaN; one compare, no branch */
		for (int64_t i = 0; i < n; i++)
			o[i] = !(x[i] <= 0) ? x[i] : 0;
		break;
	default:
		for (int64_t i = 0; i < n; i++)
			o[i] = (float)op->f(x[i]);
	}
}

struct unary_job {
	const struct unop *op;
	float *o;
	const float *x;
};

static int unary_part(void *ctx, int64_t lo, int64_t hi)
{
	const struct unary_job *j = ctx;
	unary_f32(j->op, j->o + lo, j->x + lo, hi - lo);
	return 0;
}

static int unary(struct ev *e, const struct unop *op, int out_dtype)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor *t;
	int cls = ev_class(x->dtype);
	if ((cls == EV_CF && !op->f) || (cls == EV_CS && !op->s) || (cls == EV_CU && !op->u))
		return ev_unsup(e, "dtype %s not supported", od_dtype_name(x->dtype));
	int rc = ev_new_whole(e, 0, out_dtype ? out_dtype : x->dtype, x->ndims, x->dims, &t);
	if (!rc && ev_is_f32(x) && ev_is_f32(t)) {
		struct unary_job j = { op, (float *)t->data, x->data };
		ev_par_range(x->numel, op->f32 == F32_CALL ? EV_PAR_GRAIN / 8 :
		             op->f32 >= F32_ERF ? EV_PAR_GRAIN / 4 : EV_PAR_GRAIN,
		             unary_part, &j);
		return 0;
	}
	for (int64_t i = 0; !rc && i < x->numel; i++) {
		if (cls == EV_CF)
			ev_setf(t, i, op->f(ev_getf(x, i)));
		else if (cls == EV_CS)
			ev_seti(t, i, op->s(ev_geti(x, i)));
		else
			ev_setu(t, i, op->u(ev_getu(x, i)));
	}
	return rc;
}

static uint64_t u_not(uint64_t a) { return !a; }
static double f_neg(double a) { return -a; }
static int64_t s_neg(int64_t a) { return (int64_t)(0 - (uint64_t)a); }
static int64_t s_abs(int64_t a) { return a < 0 ? s_neg(a) : a; }
static uint64_t u_same(uint64_t a) { return a; }
static double f_sign(double a) { return a > 0 ? 1 : a < 0 ? -1 : a; } /* NaN and ±0 stay */
static int64_t s_sign(int64_t a) { return (a > 0) - (a < 0); }
static uint64_t u_sign(uint64_t a) { return a > 0; }
static double f_relu(double a) { return a > 0 || isnan(a) ? a : 0; }
static int64_t s_relu(int64_t a) { return a > 0 ? a : 0; }
static double f_recip(double a) { return 1 / a; }
static double f_isnan(double a) { return isnan(a); }
static int64_t s_bnot(int64_t a) { return ~a; }
static uint64_t u_bnot(uint64_t a) { return ~a; }

#define UNARY_AS(name, f32, ...) \
	int ev_k_##name(struct ev *e) { static const struct unop op = { __VA_ARGS__, f32 }; \
	                                 return unary(e, &op, 0); }
#define UNARY(name, ...) UNARY_AS(name, F32_CALL, __VA_ARGS__)
UNARY(not, NULL, NULL, u_not)
UNARY_AS(neg, F32_NEG, f_neg, s_neg, NULL)
UNARY_AS(abs, F32_ABS, fabs, s_abs, u_same)
UNARY(sign, f_sign, s_sign, u_sign)
UNARY_AS(relu, F32_RELU, f_relu, s_relu, NULL)
UNARY(sqrt, sqrt, NULL, NULL)
UNARY(reciprocal, f_recip, NULL, NULL)
UNARY(floor, floor, NULL, NULL)
UNARY(ceil, ceil, NULL, NULL)
UNARY(round, nearbyint, NULL, NULL)      /* halves to even, as the default rounding mode */
UNARY_AS(exp, F32_EXP, exp, NULL, NULL)
UNARY(log, log, NULL, NULL)
UNARY_AS(erf, F32_ERF, erf, NULL, NULL)
UNARY_AS(sigmoid, F32_SIGMOID, f_sigmoid, NULL, NULL)
UNARY_AS(tanh, F32_TANH, tanh, NULL, NULL)
UNARY(sin, sin, NULL, NULL)
UNARY(cos, cos, NULL, NULL)
UNARY(tan, tan, NULL, NULL)
UNARY(asin, asin, NULL, NULL)
UNARY(acos, acos, NULL, NULL)
UNARY(atan, atan, NULL, NULL)
UNARY(sinh, sinh, NULL, NULL)
UNARY(cosh, cosh, NULL, NULL)
UNARY(asinh, asinh, NULL, NULL)
UNARY(acosh, acosh, NULL, NULL)
UNARY(atanh, atanh, NULL, NULL)
UNARY(bitwise_not, NULL, s_bnot, u_bnot)

int ev_k_isnan(struct ev *e)
{
	static const struct unop op = { f_isnan, NULL, NULL, F32_CALL };
	return unary(e, &op, OD_BOOL);
}

int ev_k_isinf(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	bool neg = ev_attr_i(e, "detect_negative", 1), pos = ev_attr_i(e, "detect_positive", 1);
	struct od_tensor *t;
	int rc = ev_new(e, 0, OD_BOOL, x->ndims, x->dims, &t);
	for (int64_t i = 0; !rc && i < x->numel; i++) {
		double v = ev_getf(x, i);
		ev_setu(t, i, isinf(v) && (v > 0 ? pos : neg));
	}
	return rc;
}
