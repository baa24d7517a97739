/*
 * eval_data.c — kernels that make or convert values rather than compute with them:
 * Constant, Identity, Cast, CastLike, Shape, Size, ConstantOfShape, Range and the window
 * functions HannWindow, HammingWindow, BlackmanWindow.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

/* ---- Constant ------------------------------------------------------------------------ */

static int constant_tensor(struct ev *e, const struct od_tensor *v)
{
	struct od_tensor *t;
	int rc = ev_check_tensor(e, v, "attribute 'value'");
	if (!rc)
		rc = ev_check_dtype(e, v->dtype);
	if (!rc)
		rc = ev_new(e, 0, v->dtype, v->ndims, v->dims, &t);
	if (!rc)
		ev_copy(t, 0, v, 0, v->numel);
	return rc;
}

/* value_float(s), value_int(s), value_string(s): a scalar or a list. */
static int constant_list(struct ev *e, const struct od_attr *at)
{
	struct od_tensor *t;
	bool list = at->type == OD_ATTR_FLOATS || at->type == OD_ATTR_INTS ||
	            at->type == OD_ATTR_STRINGS;
	int64_t n = list ? (int64_t)at->n : 1;
	int dtype = at->type == OD_ATTR_FLOAT || at->type == OD_ATTR_FLOATS ? OD_FLOAT :
	            at->type == OD_ATTR_INT || at->type == OD_ATTR_INTS ? OD_INT64 : OD_STRING;
	if (list && n && !at->floats && !at->ints && !at->strings)
		return ev_bad(e, "attribute '%s' has no values", at->name);
	int rc = ev_new(e, 0, dtype, list, &n, &t);
	for (int64_t i = 0; !rc && i < n; i++) {
		switch (at->type) {
		case OD_ATTR_FLOAT: ev_setf(t, i, at->f); break;
		case OD_ATTR_FLOATS: ev_setf(t, i, at->floats[i]); break;
		case OD_ATTR_INT: ev_seti(t, i, at->i); break;
		case OD_ATTR_INTS: ev_seti(t, i, at->ints[i]); break;
		case OD_ATTR_STRING: t->strings[i] = at->s; break;
		default: t->strings[i] = at->strings[i]; break;
		}
	}
	return rc;
}

int ev_k_constant(struct ev *e)
{
	static const struct { const char *name; int type; } forms[] = {
		{ "value_float", OD_ATTR_FLOAT }, { "value_floats", OD_ATTR_FLOATS },
		{ "value_int", OD_ATTR_INT }, { "value_ints", OD_ATTR_INTS },
		{ "value_string", OD_ATTR_STRING }, { "value_strings", OD_ATTR_STRINGS },
	};
	const struct od_attr *v = ev_attr(e, "value", OD_ATTR_TENSOR), *at = NULL;
	int found = v != NULL;
	for (size_t i = 0; i < sizeof forms / sizeof *forms; i++) {
		const struct od_attr *f = ev_attr(e, forms[i].name, forms[i].type);
		if (f) {
			at = f;
			found++;
		}
	}
	if (found != 1) {
		if (!found && ev_attr(e, "sparse_value", OD_ATTR_SPARSE_TENSOR))
			return ev_unsup(e, "attribute 'sparse_value' not supported");
		return ev_bad(e, "%s value attribute", found ? "more than one" : "no");
	}
	if (v)
		return v->t ? constant_tensor(e, v->t) : ev_bad(e, "attribute 'value' is empty");
	return constant_list(e, at);
}

/* ---- Identity, Cast ---------------------------------------------------------------- */

int ev_k_identity(struct ev *e)
{
	return ev_copy_as(e, e->in[0], e->in[0]->ndims, e->in[0]->dims);
}

/* Inference: the data passes, the optional mask is all true. So does training mode with a
 * ratio of 0, which drops nothing (torchvision's Swin calls F.dropout without training=,
 * so its exports hold training_mode true and ratio 0); another ratio draws random numbers,
 * which no evaluation here can repeat. */
int ev_k_dropout(struct ev *e)
{
	struct od_tensor *m;
	const struct od_tensor *x = e->in[0], *train = e->nin > 2 ? e->in[2] : NULL;
	const struct od_tensor *ratio = e->nin > 1 ? e->in[1] : NULL;
	if (train && train->numel != 1)
		return ev_bad(e, "training_mode must be a scalar");
	if (ratio && ratio->numel != 1)
		return ev_bad(e, "ratio must be a scalar");
	if (train && ev_getu(train, 0) && (!ratio || ev_getf(ratio, 0) != 0))
		return ev_unsup(e, "training mode with a ratio of %g not supported (it drops at random)",
		                ratio ? ev_getf(ratio, 0) : 0.5);
	int rc = ev_copy_as(e, x, x->ndims, x->dims);
	if (!rc && e->n->n_outputs > 1 && *e->n->outputs[1] &&
	    !(rc = ev_new(e, 1, OD_BOOL, x->ndims, x->dims, &m)))
		memset(ev_mut(m), 1, (size_t)m->numel);
	return rc;
}

/* Converts element by element through the class of the source: floats through double,
 * integers exactly, so int64 -> int32 wraps and float -> int truncates toward zero. */
static int cast_to(struct ev *e, int to)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor *t;
	int rc = ev_check_dtype(e, to);
	if (!rc)
		rc = ev_new(e, 0, to, x->ndims, x->dims, &t);
	if (rc)
		return rc;
	if (to == x->dtype) {
		ev_copy(t, 0, x, 0, x->numel);
		return 0;
	}
	int cls = ev_class(x->dtype);
	for (int64_t i = 0; i < x->numel; i++) {
		if (cls == EV_CF)
			ev_setf(t, i, ev_getf(x, i));
		else if (cls == EV_CS)
			ev_seti(t, i, ev_geti(x, i));
		else
			ev_setu(t, i, ev_getu(x, i));
	}
	return 0;
}

int ev_k_cast(struct ev *e)
{
	const struct od_attr *to = ev_attr(e, "to", OD_ATTR_INT);
	if (!to)
		return ev_bad(e, "attribute 'to' missing");
	if (to->i <= 0 || to->i > INT32_MAX)
		return ev_bad(e, "attribute 'to' names no dtype (%lld)", (long long)to->i);
	return cast_to(e, (int)to->i);
}

int ev_k_castlike(struct ev *e)
{
	return cast_to(e, e->in[1]->dtype);
}

/* ---- Shape, Size ----------------------------------------------------------------------- */

/* Opset 15's start/end: negative counts from the back, then both clamp to [0, rank]. */
static int64_t clamp_dim_index(int64_t v, int rank)
{
	if (v < 0)
		v += rank;
	return v < 0 ? 0 : v > rank ? rank : v;
}

int ev_k_shape(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor *t;
	int64_t start = 0, end = x->ndims;
	if (e->opset >= 15) {
		start = clamp_dim_index(ev_attr_i(e, "start", 0), x->ndims);
		end = clamp_dim_index(ev_attr_i(e, "end", x->ndims), x->ndims);
	}
	int64_t n = end > start ? end - start : 0;
	int rc = ev_new(e, 0, OD_INT64, 1, &n, &t);
	for (int64_t i = 0; !rc && i < n; i++)
		ev_seti(t, i, x->dims[start + i]);
	return rc;
}

int ev_k_size(struct ev *e)
{
	struct od_tensor *t;
	int rc = ev_new(e, 0, OD_INT64, 0, NULL, &t);
	if (!rc)
		ev_seti(t, 0, e->in[0]->numel);
	return rc;
}

/* ---- ConstantOfShape ------------------------------------------------------------------- */

int ev_k_constantofshape(struct ev *e)
{
	int64_t dims[OD_MAX_RANK];
	int nd;
	struct od_tensor *t;
	const struct od_attr *v = ev_attr(e, "value", OD_ATTR_TENSOR);
	int rc = ev_read_ints(e, 0, dims, OD_MAX_RANK, &nd);
	if (rc)
		return rc;
	for (int d = 0; d < nd; d++)
		if (dims[d] < 0)
			return ev_bad(e, "dimension %d is negative (%lld)", d, (long long)dims[d]);
	if (v && !v->t)
		return ev_bad(e, "attribute 'value' is empty");
	if (v && (rc = ev_check_tensor(e, v->t, "attribute 'value'")))
		return rc;
	if (v && v->t->numel != 1)
		return ev_bad(e, "attribute 'value' must hold one element, not %lld",
		              (long long)v->t->numel);
	int dtype = v ? v->t->dtype : OD_FLOAT;
	if ((rc = ev_check_dtype(e, dtype)) || (rc = ev_new(e, 0, dtype, nd, dims, &t)))
		return rc;
	for (int64_t i = 0; v && i < t->numel; i++)
		ev_copy(t, i, v->t, 0, 1);
	return 0;
}

/* ---- Range ------------------------------------------------------------------------------ */

static int range_scalar(struct ev *e, int i)
{
	const struct od_tensor *t = e->in[i];
	if (t->numel != 1 || t->ndims > 1)
		return ev_bad(e, "input %d must be a scalar", i);
	if (t->dtype != e->in[0]->dtype)
		return ev_bad(e, "input %d is %s, input 0 is %s", i, od_dtype_name(t->dtype),
		              od_dtype_name(e->in[0]->dtype));
	return 0;
}

/* numpy.arange's count: ceil((limit - start) / delta), never negative. */
static int range_count(struct ev *e, int64_t *n)
{
	const struct od_tensor *s = e->in[0], *l = e->in[1], *d = e->in[2];
	if (ev_class(s->dtype) == EV_CF) {
		double c = ceil((ev_getf(l, 0) - ev_getf(s, 0)) / ev_getf(d, 0));
		if (isnan(c) || isinf(c) || c > (double)OD_MAX_NUMEL)
			return ev_err(e, OD_ELIMIT, "range of %g elements", c);
		*n = c > 0 ? (int64_t)c : 0;
		return 0;
	}
	int64_t a = ev_geti(s, 0), b = ev_geti(l, 0), st = ev_geti(d, 0), diff;
	if (st == 0)
		return ev_bad(e, "delta is zero");
	if (__builtin_sub_overflow(b, a, &diff))
		return ev_err(e, OD_ELIMIT, "range too large");
	if ((diff > 0) != (st > 0) || diff == 0) {
		*n = 0;
		return 0;
	}
	*n = diff / st + (diff % st != 0);
	return 0;
}

int ev_k_range(struct ev *e)
{
	struct od_tensor *t;
	int64_t n;
	int rc;
	for (int i = 0; i < 3; i++)
		if ((rc = range_scalar(e, i)))
			return rc;
	if ((rc = range_count(e, &n)) || (rc = ev_new(e, 0, e->in[0]->dtype, 1, &n, &t)))
		return rc;
	if (ev_class(t->dtype) == EV_CF) {
		double start = ev_getf(e->in[0], 0), delta = ev_getf(e->in[2], 0);
		for (int64_t i = 0; i < n; i++)
			ev_setf(t, i, start + (double)i * delta);
	} else {
		int64_t start = ev_geti(e->in[0], 0), delta = ev_geti(e->in[2], 0);
		for (int64_t i = 0; i < n; i++)
			ev_seti(t, i, start + i * delta);
	}
	return 0;
}

/* ---- HannWindow, HammingWindow, BlackmanWindow ----------------------------------------- */

/* a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N), N = size (periodic) or size - 1. */
static int window(struct ev *e, double a0, double a1, double a2)
{
	const struct od_tensor *sz = e->in[0];
	int64_t dt = ev_attr_i(e, "output_datatype", OD_FLOAT), n;
	struct od_tensor *t;
	if (sz->numel != 1 || ev_class(sz->dtype) != EV_CS)
		return ev_bad(e, "size must be one integer");
	if (dt < 0 || dt >= 32 || !(OD_DT(dt) & (EV_NUM | OD_DT(OD_BFLOAT16))))
		return ev_unsup(e, "output_datatype %lld not supported", (long long)dt);
	n = ev_geti(sz, 0);
	if (n < 0)
		return ev_bad(e, "size must not be negative");
	double len = (double)(ev_attr_i(e, "periodic", 1) ? n : n - 1);
	int rc = ev_new(e, 0, (int)dt, 1, &n, &t);
	for (int64_t i = 0; !rc && i < n; i++) {
		double x = 2 * M_PI * (double)i / len;
		ev_setf(t, i, a0 - a1 * cos(x) + a2 * cos(2 * x));
	}
	return rc;
}

int ev_k_hannwindow(struct ev *e) { return window(e, 0.5, 0.5, 0); }
int ev_k_hammingwindow(struct ev *e) { return window(e, 25.0 / 46, 1 - 25.0 / 46, 0); }
int ev_k_blackmanwindow(struct ev *e) { return window(e, 0.42, 0.5, 0.08); }
