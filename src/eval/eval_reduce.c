/*
 * eval_reduce.c — kernels that combine elements along axes: ReduceSum/Max/Min/Mean/Prod
 * and the float-only ReduceL1/L2/SumSquare/LogSum/LogSumExp (axes as an attribute in old
 * opsets, as an input in new ones), Softmax, LogSoftmax, CumSum, CumProd, ArgMax and
 * ArgMin. Floats accumulate in double, integers in 64 bits.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

enum red { R_SUM, R_MAX, R_MIN, R_MEAN, R_PROD, R_L1, R_L2, R_SSQ, R_LOGSUM, R_LSE };

/* The float-only kinds: a sum of transformed elements, transformed again at the end. */
static bool float_sum(int kind)
{
	return kind >= R_L1;
}

union acc {
	double f;
	int64_t s;
	uint64_t u;
};

static void acc_init(union acc *a, int kind, int cls)
{
	bool one = kind == R_PROD;
	if (cls == EV_CF)
		a->f = kind == R_MAX ? -INFINITY : kind == R_MIN ? INFINITY : one;
	else if (cls == EV_CS)
		a->s = kind == R_MAX ? INT64_MIN : kind == R_MIN ? INT64_MAX : one;
	else
		a->u = kind == R_MAX ? 0 : kind == R_MIN ? UINT64_MAX : one;
}

static void acc_add(union acc *a, int kind, int cls, const struct od_tensor *x, int64_t i)
{
	if (cls == EV_CF) {
		double v = ev_getf(x, i);
		if (float_sum(kind))
			a->f += kind == R_L1 ? fabs(v) : kind == R_LOGSUM ? v : kind == R_LSE ? exp(v) : v * v;
		else if (kind == R_SUM || kind == R_MEAN)
			a->f += v;
		else if (kind == R_PROD)
			a->f *= v;
		else if (isnan(v) || (kind == R_MAX ? v > a->f : v < a->f))
			a->f = isnan(a->f) ? a->f : v;
	} else if (cls == EV_CS) {
		int64_t v = ev_geti(x, i);
		if (kind == R_SUM || kind == R_MEAN)
			a->s = (int64_t)((uint64_t)a->s + (uint64_t)v);
		else if (kind == R_PROD)
			a->s = (int64_t)((uint64_t)a->s * (uint64_t)v);
		else if (kind == R_MAX ? v > a->s : v < a->s)
			a->s = v;
	} else {
		uint64_t v = ev_getu(x, i);
		if (kind == R_SUM || kind == R_MEAN)
			a->u += v;
		else if (kind == R_PROD)
			a->u *= v;
		else if (kind == R_MAX ? v > a->u : v < a->u)
			a->u = v;
	}
}

/* Stores one result; an empty reduction gives the identity of the operation, with -inf/inf
 * saturating to the dtype's bounds for integers (and false/true for bool). */
static void acc_store(struct od_tensor *t, int64_t i, union acc *a, int kind, int cls,
                      int64_t cnt)
{
	if (!cnt && (kind == R_MAX || kind == R_MIN)) {
		if (t->dtype == OD_BOOL)
			ev_setu(t, i, kind == R_MIN);
		else
			ev_setf(t, i, kind == R_MAX ? -INFINITY : INFINITY);
	} else if (cls == EV_CF) {
		double v = a->f;
		if (kind == R_MEAN)
			v /= (double)cnt;
		else if (kind == R_L2)
			v = sqrt(v);
		else if (kind == R_LOGSUM || kind == R_LSE)
			v = log(v);
		ev_setf(t, i, v);
	} else if (cls == EV_CS) {
		ev_seti(t, i, kind == R_MEAN ? (cnt ? a->s / cnt : 0) : a->s);
	} else {
		ev_setu(t, i, kind == R_MEAN ? (cnt ? a->u / (uint64_t)cnt : 0) : a->u);
	}
}

/* Reduces x over the axes in mask into a new output. */
static int reduce_mask(struct ev *e, int kind, const bool *mask, bool keepdims)
{
	const struct od_tensor *x = e->in[0];
	int64_t dims[OD_MAX_RANK], kdims[OD_MAX_RANK], cnt = 1;
	int nd = 0, cls = ev_class(x->dtype), rc;
	struct od_tensor *t;
	struct ev_bcast it = { .nd = x->ndims, .nt = 1 };
	for (int d = 0; d < x->ndims; d++) {
		kdims[d] = mask[d] ? 1 : x->dims[d];
		cnt *= mask[d] ? x->dims[d] : 1;
		if (!mask[d] || keepdims)
			dims[nd++] = kdims[d];
		it.dims[d] = x->dims[d];
	}
	if ((rc = ev_new(e, 0, x->dtype, nd, dims, &t)))
		return rc;
	/* float32 summed over trailing axes (LayerNorm's mean as torch exports it): the rows
	 * are contiguous, added in the general path's order */
	int last = x->ndims;
	while (last > 0 && mask[last - 1])
		last--;
	bool suffix = true;
	for (int d = 0; d < last; d++)
		suffix = suffix && !mask[d];
	if (suffix && (kind == R_SUM || kind == R_MEAN) && x->dtype == OD_FLOAT && ev_is_f32(t) && cnt) {
		bool owned;
		float *v = ev_f32_in(x, &owned), *o = (float *)t->data;
		for (int64_t i = 0; v && i < t->numel; i++) {
			double a = 0;
			for (int64_t k = 0; k < cnt; k++)
				a += v[i * cnt + k];
			o[i] = (float)(kind == R_MEAN ? a / (double)cnt : a);
		}
		ev_f32_free(v, owned);
		return v ? 0 : ev_err(e, OD_ENOMEM, "out of memory");
	}
	union acc *acc = od_calloc((size_t)t->numel, sizeof *acc);
	if (!acc)
		return ev_err(e, OD_ENOMEM, "out of memory");
	for (int64_t i = 0; i < t->numel; i++)
		acc_init(&acc[i], kind, cls);
	ev_strides(x->ndims, kdims, it.st[0]);
	for (int d = 0; d < x->ndims; d++)
		it.st[0][d] = mask[d] ? 0 : it.st[0][d];
	for (int64_t i = 0; i < x->numel; i++, ev_bcast_next(&it))
		acc_add(&acc[it.off[0]], kind, cls, x, i);
	for (int64_t i = 0; i < t->numel; i++)
		acc_store(t, i, &acc[i], kind, cls, cnt);
	od_free(acc);
	return 0;
}

/* axes NULL: none given. An empty list reduces everything unless noop is set. */
static int reduce(struct ev *e, int kind, int64_t *axes, int n, bool noop)
{
	const struct od_tensor *x = e->in[0];
	bool mask[OD_MAX_RANK], keepdims = ev_attr_i(e, "keepdims", 1) != 0;
	int rc;
	if (n <= 0 && noop)
		return ev_copy_as(e, x, x->ndims, x->dims);
	if (n <= 0)
		for (int d = 0; d < x->ndims; d++)
			mask[d] = true;
	else if ((rc = ev_axes(e, axes, n, x->ndims, mask)))
		return rc;
	return reduce_mask(e, kind, mask, keepdims);
}

static int reduce_input(struct ev *e, int kind)
{
	int64_t axes[OD_MAX_RANK];
	int n = -1, rc;
	if (e->nin > 1 && e->in[1] && (rc = ev_read_ints(e, 1, axes, OD_MAX_RANK, &n)))
		return rc;
	return reduce(e, kind, axes, n, ev_attr_i(e, "noop_with_empty_axes", 0) != 0);
}

static int reduce_attr(struct ev *e, int kind)
{
	int64_t axes[OD_MAX_RANK];
	int n, rc = ev_attr_ints(e, "axes", axes, OD_MAX_RANK, &n);
	return rc ? rc : reduce(e, kind, axes, n, false);
}

#define REDUCE(name, kind) \
	int ev_k_reduce_##name(struct ev *e) { return reduce_input(e, kind); } \
	int ev_k_reduce_##name##1(struct ev *e) { return reduce_attr(e, kind); }
REDUCE(sum, R_SUM)
REDUCE(max, R_MAX)
REDUCE(min, R_MIN)
REDUCE(mean, R_MEAN)
REDUCE(prod, R_PROD)
REDUCE(l1, R_L1)
REDUCE(l2, R_L2)
REDUCE(sum_square, R_SSQ)
REDUCE(log_sum, R_LOGSUM)
REDUCE(log_sum_exp, R_LSE)

/* ---- Softmax --------------------------------------------------------------------------- */

/* Softmax (or its log) of one row of n doubles, in place; ex holds n. Both paths call it,
 * so both give the same bits: the maximum (NaNs passed over, as fmax does) and the sum in 8
 * lanes combined in a fixed order, the exponentials through libm's vector variants where
 * there are (EV_CLONES). */
static EV_CLONES void softmax_row(double *v, double *ex, int64_t n, bool lg)
{
	enum { L = 8 };
	double m[L], s[L], max, sum;
	int64_t k = 0;
	for (int i = 0; i < L; i++)
		m[i] = -INFINITY, s[i] = 0;
	for (; k + L <= n; k += L)
		for (int i = 0; i < L; i++)
			m[i] = v[k + i] > m[i] ? v[k + i] : m[i];
	for (; k < n; k++)
		m[0] = v[k] > m[0] ? v[k] : m[0];
	max = m[0];
	for (int i = 1; i < L; i++)
		max = m[i] > max ? m[i] : max;
	for (k = 0; k < n; k++)
		ex[k] = exp(v[k] - max);
	for (k = 0; k + L <= n; k += L)
		for (int i = 0; i < L; i++)
			s[i] += ex[k + i];
	for (; k < n; k++)
		s[0] += ex[k];
	sum = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
	if (lg) {
		double lsum = log(sum);
		for (k = 0; k < n; k++)
			v[k] = v[k] - max - lsum;
	} else
		for (k = 0; k < n; k++)
			v[k] = ex[k] / sum;
}

struct softmax_job {
	const float *x;
	float *y;
	int64_t n;
	bool lg;
};

static int softmax_rows(void *ctx, int64_t lo, int64_t hi)
{
	const struct softmax_job *j = ctx;
	const int64_t n = j->n;
	double *v = od_malloc((size_t)(n ? 2 * n : 1) * sizeof *v);
	if (!v)
		return OD_ENOMEM;
	for (int64_t o = lo; o < hi; o++) {
		const float *r = j->x + o * n;
		float *y = j->y + o * n;
		for (int64_t k = 0; k < n; k++)
			v[k] = r[k];
		softmax_row(v, v + n, n, j->lg);
		for (int64_t k = 0; k < n; k++)
			y[k] = (float)v[k];
	}
	od_free(v);
	return 0;
}

/* The float32 rows of softmax_run (inner 1), in parallel. */
static int softmax_f32(struct ev *e, struct od_tensor *t, int64_t outer, int64_t n, bool lg)
{
	bool owned;
	float *x = ev_f32_in(e->in[0], &owned);
	struct softmax_job j = { x, (float *)t->data, n, lg };
	int rc = x ? ev_par_range(outer, n ? EV_PAR_GRAIN / 8 / n + 1 : outer, softmax_rows, &j)
	           : OD_ENOMEM;
	rc = rc ? ev_err(e, rc, "out of memory") : 0;
	ev_f32_free(x, owned);
	return rc;
}

/* x viewed as [outer, n, inner]: softmax (or its log) along the middle, max subtracted
 * first; a row at a time through softmax_row. */
static int softmax_run(struct ev *e, int64_t outer, int64_t n, int64_t inner, bool lg)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor *t;
	int rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t);
	if (rc)
		return rc;
	if (inner == 1 && ev_is_f32(t) && x->dtype == OD_FLOAT)
		return softmax_f32(e, t, outer, n, lg);
	double *v = od_malloc((size_t)(n ? 2 * n : 1) * sizeof *v);
	if (!v)
		return ev_err(e, OD_ENOMEM, "out of memory");
	for (int64_t o = 0; o < outer; o++)
		for (int64_t in = 0; in < inner; in++) {
			int64_t base = o * n * inner + in;
			for (int64_t k = 0; k < n; k++)
				v[k] = ev_getf(x, base + k * inner);
			softmax_row(v, v + n, n, lg);
			for (int64_t k = 0; k < n; k++)
				ev_setf(t, base + k * inner, v[k]);
		}
	od_free(v);
	return 0;
}

/* From opset 13 along the axis alone; before, over the 2-D view. */
static int softmax(struct ev *e, bool coerce_2d, bool lg)
{
	int64_t outer, n, inner;
	int rc = ev_axis_view(e, coerce_2d ? 1 : -1, coerce_2d, &outer, &n, &inner);
	return rc ? rc : softmax_run(e, outer, n, inner, lg);
}

int ev_k_softmax(struct ev *e) { return softmax(e, false, false); }
int ev_k_softmax1(struct ev *e) { return softmax(e, true, false); }
int ev_k_logsoftmax(struct ev *e) { return softmax(e, false, true); }
int ev_k_logsoftmax1(struct ev *e) { return softmax(e, true, true); }

/* ---- CumSum ---------------------------------------------------------------------------- */

static int cumulate(struct ev *e, int kind)
{
	const struct od_tensor *x = e->in[0];
	bool excl = ev_attr_i(e, "exclusive", 0), rev = ev_attr_i(e, "reverse", 0);
	struct od_tensor *t;
	int cls = ev_class(x->dtype), rc;
	if (e->in[1]->numel != 1 || ev_class(e->in[1]->dtype) != EV_CS)
		return ev_bad(e, "axis must be one integer");
	int64_t axis = ev_geti(e->in[1], 0);
	if ((rc = ev_axis(e, &axis, x->ndims)) || (rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t)))
		return rc;
	int64_t n = x->dims[axis], inner = ev_numel(x->ndims - (int)axis - 1, x->dims + axis + 1);
	int64_t outer = ev_numel((int)axis, x->dims);
	for (int64_t o = 0; o < outer; o++)
		for (int64_t in = 0; in < inner; in++) {
			union acc a;
			acc_init(&a, kind, cls);
			for (int64_t k = 0; k < n; k++) {
				int64_t i = o * n * inner + (rev ? n - 1 - k : k) * inner + in;
				if (!excl)
					acc_add(&a, kind, cls, x, i);
				acc_store(t, i, &a, kind, cls, 1);
				if (excl)
					acc_add(&a, kind, cls, x, i);
			}
		}
	return 0;
}

int ev_k_cumsum(struct ev *e) { return cumulate(e, R_SUM); }
int ev_k_cumprod(struct ev *e) { return cumulate(e, R_PROD); }

/* ---- ArgMax, ArgMin -------------------------------------------------------------------- */

/* Whether element i beats the best so far (numpy: the first NaN wins and stays). */
static bool beats(const struct od_tensor *x, int64_t i, int64_t best, bool max, bool last)
{
	int cls = ev_class(x->dtype);
	if (cls == EV_CF) {
		double v = ev_getf(x, i), b = ev_getf(x, best);
		if (isnan(b))
			return false;
		return isnan(v) || (max ? v > b : v < b) || (last && v == b);
	}
	if (cls == EV_CS) {
		int64_t v = ev_geti(x, i), b = ev_geti(x, best);
		return (max ? v > b : v < b) || (last && v == b);
	}
	uint64_t v = ev_getu(x, i), b = ev_getu(x, best);
	return (max ? v > b : v < b) || (last && v == b);
}

static int arg(struct ev *e, bool max)
{
	const struct od_tensor *x = e->in[0];
	int64_t axis = ev_attr_i(e, "axis", 0), dims[OD_MAX_RANK];
	bool keep = ev_attr_i(e, "keepdims", 1), last = ev_attr_i(e, "select_last_index", 0);
	struct od_tensor *t;
	int nd = 0, rc = ev_axis(e, &axis, x->ndims);
	if (rc)
		return rc;
	if (!x->dims[axis])
		return ev_bad(e, "axis %lld is empty", (long long)axis);
	for (int d = 0; d < x->ndims; d++)
		if (d != axis || keep)
			dims[nd++] = d == axis ? 1 : x->dims[d];
	if ((rc = ev_new(e, 0, OD_INT64, nd, dims, &t)))
		return rc;
	int64_t n = x->dims[axis], inner = ev_numel(x->ndims - (int)axis - 1, x->dims + axis + 1);
	int64_t outer = ev_numel((int)axis, x->dims);
	for (int64_t o = 0; o < outer; o++)
		for (int64_t in = 0; in < inner; in++) {
			int64_t base = o * n * inner + in, best = 0;
			for (int64_t k = 1; k < n; k++)
				if (beats(x, base + k * inner, base + best * inner, max, last))
					best = k;
			ev_seti(t, o * inner + in, best);
		}
	return 0;
}

int ev_k_argmax(struct ev *e) { return arg(e, true); }
int ev_k_argmin(struct ev *e) { return arg(e, false); }
