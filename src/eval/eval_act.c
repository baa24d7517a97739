/*
 * eval_act.c — the activations that take attributes or a second input: LeakyRelu, Elu, Selu,
 * Celu, HardSigmoid, HardSwish, Softplus, Softsign, Mish, Swish, ThresholdedRelu, Shrink, Gelu,
 * PRelu (slope broadcast to the input) and Hardmax. The plain one-input functions (Relu,
 * Sigmoid, Tanh, Erf) are in eval_unary.c. Floats compute in double and round once.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

/* An activation of x with up to two float attributes (p[0], p[1]). */
struct act {
	const char *name[2];    /* attribute names, NULL when unused */
	float dflt[2];          /* their defaults */
	double (*f)(double x, const double *p);
};

static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static double f_leaky(double x, const double *p) { return x < 0 ? p[0] * x : x; }
static double f_elu(double x, const double *p) { return x < 0 ? p[0] * expm1(x) : x; }
static double f_selu(double x, const double *p)
{
	return x <= 0 ? p[1] * (p[0] * exp(x) - p[0]) : p[1] * x;
}
static double f_celu(double x, const double *p)
{
	return fmax(0, x) + fmin(0, p[0] * expm1(x / p[0]));
}
/* fmax(0, fmin(1, v)) without the library calls (NaN goes to 1 through fmin, as there) */
static double unit_clamp(double v)
{
	v = v < 1 ? v : 1;
	return v > 0 ? v : 0;
}
static double f_hardsigmoid(double x, const double *p) { return unit_clamp(p[0] * x + p[1]); }
static double f_hardswish(double x, const double *p)
{
	(void)p;
	return x * unit_clamp(x / 6 + 0.5);
}
static double f_softplus(double x, const double *p) { (void)p; return softplus(x); }
static double f_softsign(double x, const double *p) { (void)p; return x / (1 + fabs(x)); }
static double f_mish(double x, const double *p) { (void)p; return x * tanh(softplus(x)); }
static double f_swish(double x, const double *p)
{
	double a = p[0] * x;
	return x * (a >= 0 ? 1 / (1 + exp(-a)) : exp(a) / (1 + exp(a)));
}
static double f_thresholded(double x, const double *p) { return x > p[0] ? x : 0; }
static double f_shrink(double x, const double *p)
{
	return x < -p[0] ? x + p[1] : x > p[0] ? x - p[1] : 0;
}
static double f_gelu(double x, const double *p)
{
	(void)p;
	return 0.5 * x * (1 + erf(x / sqrt(2.0)));
}
static double f_gelu_tanh(double x, const double *p)
{
	(void)p;
	return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

struct act_job {
	const struct act *a;
	const double *p;
	const float *x;
	float *o;
};

static EV_CLONES int act_f32(void *ctx, int64_t lo, int64_t hi)
{
	const struct act_job *j = ctx;
	/* MobileNet's two by name: inlined, they vectorize (the same doubles, rounded once) */
	if (j->a->f == f_hardswish)
		for (int64_t i = lo; i < hi; i++)
			j->o[i] = (float)f_hardswish(j->x[i], j->p);
	else if (j->a->f == f_hardsigmoid)
		for (int64_t i = lo; i < hi; i++)
			j->o[i] = (float)f_hardsigmoid(j->x[i], j->p);
	else
		for (int64_t i = lo; i < hi; i++)
			j->o[i] = (float)j->a->f(j->x[i], j->p);
	return 0;
}

static int activate(struct ev *e, const struct act *a)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor *t;
	double p[2] = { 0, 0 };
	for (int k = 0; k < 2; k++)
		if (a->name[k])
			p[k] = ev_attr_f(e, a->name[k], a->dflt[k]);
	int rc = ev_new_whole(e, 0, x->dtype, x->ndims, x->dims, &t);
	if (!rc && ev_is_f32(x)) {              /* the same values, no per-element dispatch */
		struct act_job j = { a, p, x->data, (float *)t->data };
		ev_par_range(x->numel, EV_PAR_GRAIN / 8, act_f32, &j);
		return 0;
	}
	for (int64_t i = 0; !rc && i < x->numel; i++)
		ev_setf(t, i, a->f(ev_getf(x, i), p));
	return rc;
}

#define ACT(kname, fn, a0, d0, a1, d1) \
	int ev_k_##kname(struct ev *e) { static const struct act a = { { a0, a1 }, { d0, d1 }, fn }; \
	                                 return activate(e, &a); }
ACT(leakyrelu, f_leaky, "alpha", 0.01f, NULL, 0)
ACT(elu, f_elu, "alpha", 1.0f, NULL, 0)
ACT(selu, f_selu, "alpha", 1.67326319217681884765625f, "gamma", 1.05070102214813232421875f)
ACT(celu, f_celu, "alpha", 1.0f, NULL, 0)
ACT(hardsigmoid, f_hardsigmoid, "alpha", 0.2f, "beta", 0.5f)
ACT(hardswish, f_hardswish, NULL, 0, NULL, 0)
ACT(softplus, f_softplus, NULL, 0, NULL, 0)
ACT(softsign, f_softsign, NULL, 0, NULL, 0)
ACT(mish, f_mish, NULL, 0, NULL, 0)
ACT(swish, f_swish, "alpha", 1.0f, NULL, 0)
ACT(thresholdedrelu, f_thresholded, "alpha", 1.0f, NULL, 0)

/* Shrink is defined on every numeric type: integers go through double, which holds the
 * 32-bit types exactly. */
int ev_k_shrink(struct ev *e)
{
	static const struct act a = { { "lambd", "bias" }, { 0.5f, 0.0f }, f_shrink };
	return activate(e, &a);
}

int ev_k_gelu(struct ev *e)
{
	static const struct act none = { { NULL, NULL }, { 0, 0 }, f_gelu };
	static const struct act approx = { { NULL, NULL }, { 0, 0 }, f_gelu_tanh };
	char buf[16];
	const char *ap = ev_attr_s(e, "approximate", "none", buf, sizeof buf);
	if (!strcmp(ap, "none"))
		return activate(e, &none);
	if (!strcmp(ap, "tanh"))
		return activate(e, &approx);
	return ev_unsup(e, "approximate '%s' not supported", ap);
}

/* PRelu: the slope broadcasts to the input's shape (unidirectionally). */
int ev_k_prelu(struct ev *e)
{
	const struct od_tensor *ts[2] = { e->in[0], e->in[1] }, *x = ts[0], *s = ts[1];
	struct od_tensor *t;
	struct ev_bcast b;
	if (s->dtype != x->dtype)
		return ev_bad(e, "slope is %s, input is %s", od_dtype_name(s->dtype),
		              od_dtype_name(x->dtype));
	int rc = ev_bcast_init(e, &b, 2, ts), cls = ev_class(x->dtype);
	if (rc)
		return rc;
	if (b.numel != x->numel || b.nd != x->ndims)
		return ev_bad(e, "slope does not broadcast to the input's shape");
	if ((rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t)))
		return rc;
	for (int64_t i = 0; i < b.numel; i++, ev_bcast_next(&b)) {
		if (cls == EV_CF) {
			double v = ev_getf(x, b.off[0]);
			ev_setf(t, i, v < 0 ? v * ev_getf(s, b.off[1]) : v);
		} else if (cls == EV_CS) {
			int64_t v = ev_geti(x, b.off[0]);
			ev_seti(t, i, v < 0 ? (int64_t)((uint64_t)v * (uint64_t)ev_geti(s, b.off[1])) : v);
		} else {
			ev_setu(t, i, ev_getu(x, b.off[0]));
		}
	}
	return 0;
}

/* Hardmax over x viewed as [outer, n, inner]: 1 at the first maximum along the middle. */
static int hardmax_run(struct ev *e, int64_t outer, int64_t n, int64_t inner)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor *t;
	int rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t);
	for (int64_t o = 0; !rc && o < outer; o++)
		for (int64_t in = 0; in < inner; in++) {
			int64_t base = o * n * inner + in, best = 0;
			for (int64_t k = 0; k < n; k++) {
				if (ev_getf(x, base + k * inner) > ev_getf(x, base + best * inner))
					best = k;
				ev_setf(t, base + k * inner, 0);
			}
			if (n)
				ev_setf(t, base + best * inner, 1);
		}
	return rc;
}

/* From opset 13 along the axis alone; before, over the 2-D view. */
static int hardmax(struct ev *e, bool coerce_2d)
{
	int64_t outer, n, inner;
	int rc = ev_axis_view(e, coerce_2d ? 1 : -1, coerce_2d, &outer, &n, &inner);
	return rc ? rc : hardmax_run(e, outer, n, inner);
}

int ev_k_hardmax(struct ev *e) { return hardmax(e, false); }
int ev_k_hardmax1(struct ev *e) { return hardmax(e, true); }
