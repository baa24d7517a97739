/*
 * eval_norm.c — the normalisations: BatchNormalization (inference), LayerNormalization,
 * InstanceNormalization, GroupNormalization, RMSNormalization, LpNormalization,
 * MeanVarianceNormalization and LRN. Statistics accumulate in double; each output rounds once to its dtype.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

/* Mean and (biased) variance of n elements of x from base on, step apart. */
static void moments(const struct od_tensor *x, int64_t base, int64_t n, int64_t step,
                    double *mean, double *var)
{
	double s = 0, ss = 0;
	for (int64_t k = 0; k < n; k++)
		s += ev_getf(x, base + k * step);
	*mean = n ? s / (double)n : 0;
	for (int64_t k = 0; k < n; k++) {
		double d = ev_getf(x, base + k * step) - *mean;
		ss += d * d;
	}
	*var = n ? ss / (double)n : 0;
}

/* Every input a per-channel vector of C entries (BatchNormalization, InstanceNormalization). */
static int check_vectors(struct ev *e, size_t from, int64_t c)
{
	for (size_t i = from; i < e->nin; i++)
		if (!e->in[i] || e->in[i]->numel != c)
			return ev_bad(e, "input %zu must hold %lld values, one per channel", i,
			              (long long)c);
	return 0;
}

/* ---- BatchNormalization ------------------------------------------------------------- */

/* o = x * mul + add in double, rounded once to float. */
static void scale_f32(float *o, const float *x, int64_t n, double mul, double add)
{
	for (int64_t i = 0; i < n; i++)
		o[i] = (float)(x[i] * mul + add);
}

int ev_k_batchnorm(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *sc = e->in[1], *b = e->in[2], *mu = e->in[3],
	                       *var = e->in[4];
	double eps = ev_attr_f(e, "epsilon", 1e-5f);
	struct od_tensor *t;
	if (ev_attr_i(e, "training_mode", 0))
		return ev_unsup(e, "training_mode 1 not supported");
	if (!ev_attr_i(e, "spatial", 1))
		return ev_unsup(e, "spatial 0 not supported");
	if (x->ndims < 2)
		return ev_bad(e, "input must have a channel dimension");
	int64_t c = x->dims[1], inner = ev_numel(x->ndims - 2, x->dims + 2);
	int rc = check_vectors(e, 1, c);
	if (rc || (rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t)))
		return rc;
	for (int64_t ch = 0; ch < c; ch++) {
		double mul = ev_getf(sc, ch) / sqrt(ev_getf(var, ch) + eps);
		double add = ev_getf(b, ch) - ev_getf(mu, ch) * mul;
		for (int64_t o = 0; o < x->dims[0]; o++) {
			int64_t at = (o * c + ch) * inner;
			if (ev_is_f32(x))               /* the same values, no per-element dispatch */
				scale_f32((float *)t->data + at, (const float *)x->data + at, inner, mul,
				          add);
			else
				for (int64_t i = at, k = 0; k < inner; k++, i++)
					ev_setf(t, i, ev_getf(x, i) * mul + add);
		}
	}
	return 0;
}

/* ---- InstanceNormalization, GroupNormalization ---------------------------------------- */

/* x as [N, G, C/G * inner]: each group normalised, then scale[ch] and bias[ch] applied per
 * channel, or per group when per_group. */
static int group_norm(struct ev *e, int64_t groups, bool per_group)
{
	const struct od_tensor *x = e->in[0], *sc = e->in[1], *b = e->in[2];
	double eps = ev_attr_f(e, "epsilon", 1e-5f);
	struct od_tensor *t;
	if (x->ndims < 2)
		return ev_bad(e, "input must have a channel dimension");
	int64_t c = x->dims[1], inner = ev_numel(x->ndims - 2, x->dims + 2);
	if (groups <= 0 || c % groups)
		return ev_bad(e, "%lld channels do not split into %lld groups", (long long)c,
		              (long long)groups);
	int64_t per = c / groups;
	int rc = check_vectors(e, 1, per_group ? groups : c);
	if (rc || (rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t)))
		return rc;
	for (int64_t o = 0; o < x->dims[0]; o++)
		for (int64_t g = 0; g < groups; g++) {
			int64_t base = (o * c + g * per) * inner;
			double mean, var;
			moments(x, base, per * inner, 1, &mean, &var);
			double inv = 1 / sqrt(var + eps);
			for (int64_t ch = 0; ch < per; ch++) {
				int64_t p = per_group ? g : g * per + ch;
				double s = ev_getf(sc, p), a = ev_getf(b, p);
				for (int64_t i = base + ch * inner, k = 0; k < inner; k++, i++)
					ev_setf(t, i, (ev_getf(x, i) - mean) * inv * s + a);
			}
		}
	return 0;
}

int ev_k_instancenorm(struct ev *e)
{
	if (e->in[0]->ndims < 2)
		return ev_bad(e, "input must have a channel dimension");
	return group_norm(e, e->in[0]->dims[1], false);
}

/* Opsets 18 to 20 take one scale and bias per group, 21 one per channel. */
int ev_k_groupnorm(struct ev *e)
{
	return group_norm(e, ev_attr_i(e, "num_groups", 0), e->opset < 21);
}

/* ---- LayerNormalization ------------------------------------------------------------- */

/* Offsets into t for each element of the shape (nd, dims) that t broadcasts to. */
static int bcast_offsets(struct ev *e, const struct od_tensor *t, int nd, const int64_t *dims,
                         int64_t **offs)
{
	struct ev_bcast b;
	int ndims[2] = { nd, t->ndims };
	const int64_t *ds[2] = { dims, t->dims };
	int rc = ev_bcast_shapes(e, &b, 2, ndims, ds);
	if (rc)
		return rc;
	if (b.nd != nd || b.numel != ev_numel(nd, dims))
		return ev_bad(e, "input '%s' does not broadcast to the normalised shape", t->name);
	*offs = od_arena_alloc(e->a, (size_t)(b.numel ? b.numel : 1) * sizeof **offs);
	if (!*offs)
		return ev_err(e, OD_ENOMEM, "out of memory");
	for (int64_t i = 0; i < b.numel; i++, ev_bcast_next(&b))
		(*offs)[i] = b.off[1];
	return 0;
}

/* Outputs: Y, then Mean and InvStdDev of shape dims[:axis] + ones, in the stash type. */
int ev_k_layernorm(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *sc = e->in[1], *b = e->nin > 2 ? e->in[2] : NULL;
	double eps = ev_attr_f(e, "epsilon", 1e-5f);
	int64_t axis = ev_attr_i(e, "axis", -1), stash = ev_attr_i(e, "stash_type", OD_FLOAT);
	int64_t *so, *bo = NULL, sdims[OD_MAX_RANK];
	struct od_tensor *t, *st[2] = { NULL, NULL };
	int rc = ev_axis(e, &axis, x->ndims);
	if (rc)
		return rc;
	if (stash != OD_FLOAT && stash != OD_DOUBLE && stash != OD_FLOAT16 &&
	    stash != OD_BFLOAT16)
		return ev_unsup(e, "stash_type %lld not supported", (long long)stash);
	int nd = x->ndims - (int)axis;
	int64_t outer = ev_numel((int)axis, x->dims), inner = ev_numel(nd, x->dims + axis);
	if ((rc = bcast_offsets(e, sc, nd, x->dims + axis, &so)) ||
	    (b && (rc = bcast_offsets(e, b, nd, x->dims + axis, &bo))) ||
	    (rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t)))
		return rc;
	for (int d = 0; d < x->ndims; d++)
		sdims[d] = d < axis ? x->dims[d] : 1;
	for (int k = 1; k < 3 && !rc; k++)
		if ((size_t)k < e->n->n_outputs && *e->n->outputs[k])
			rc = ev_new(e, k, (int)stash, x->ndims, sdims, &st[k - 1]);
	for (int64_t o = 0; !rc && o < outer; o++) {
		double mean, var;
		moments(x, o * inner, inner, 1, &mean, &var);
		double inv = 1 / sqrt(var + eps);
		for (int64_t k = 0; k < inner; k++) {
			double y = (ev_getf(x, o * inner + k) - mean) * inv * ev_getf(sc, so[k]);
			ev_setf(t, o * inner + k, bo ? y + ev_getf(b, bo[k]) : y);
		}
		if (st[0])
			ev_setf(st[0], o, mean);
		if (st[1])
			ev_setf(st[1], o, inv);
	}
	return rc;
}

/* x / sqrt(mean(x^2) + epsilon) * scale over the axes from axis on. */
int ev_k_rmsnorm(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *sc = e->in[1];
	double eps = ev_attr_f(e, "epsilon", 1e-5f);
	int64_t axis = ev_attr_i(e, "axis", -1), *so;
	struct od_tensor *t;
	int rc = ev_axis(e, &axis, x->ndims);
	if (rc)
		return rc;
	int nd = x->ndims - (int)axis;
	int64_t outer = ev_numel((int)axis, x->dims), inner = ev_numel(nd, x->dims + axis);
	if ((rc = bcast_offsets(e, sc, nd, x->dims + axis, &so)) ||
	    (rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t)))
		return rc;
	for (int64_t o = 0; o < outer; o++) {
		double ss = 0;
		for (int64_t k = 0; k < inner; k++) {
			double v = ev_getf(x, o * inner + k);
			ss += v * v;
		}
		double inv = 1 / sqrt(ss / (double)(inner ? inner : 1) + eps);
		for (int64_t k = 0; k < inner; k++)
			ev_setf(t, o * inner + k, ev_getf(x, o * inner + k) * inv * ev_getf(sc, so[k]));
	}
	return 0;
}

/* ---- LpNormalization, MeanVarianceNormalization --------------------------------------- */

int ev_k_lpnorm(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	int64_t axis = ev_attr_i(e, "axis", -1), p = ev_attr_i(e, "p", 2);
	struct od_tensor *t;
	int rc = ev_axis(e, &axis, x->ndims);
	if (rc)
		return rc;
	if (p != 1 && p != 2)
		return ev_bad(e, "p must be 1 or 2, not %lld", (long long)p);
	int64_t n = x->dims[axis], inner = ev_numel(x->ndims - (int)axis - 1, x->dims + axis + 1);
	int64_t outer = ev_numel((int)axis, x->dims);
	if ((rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t)))
		return rc;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t in = 0; in < inner; in++) {
			int64_t base = o * n * inner + in;
			double norm = 0;
			for (int64_t k = 0; k < n; k++) {
				double v = ev_getf(x, base + k * inner);
				norm += p == 1 ? fabs(v) : v * v;
			}
			norm = p == 1 ? norm : sqrt(norm);
			for (int64_t k = 0; k < n; k++)
				ev_setf(t, base + k * inner, norm ? ev_getf(x, base + k * inner) / norm : 0);
		}
	return 0;
}

/* Index of element i's group: its coordinates with the reduced axes dropped. */
static int64_t group_of(int64_t i, int nd, const int64_t *dims, const bool *reduced)
{
	int64_t g = 0, mul = 1;
	for (int d = nd - 1; d >= 0; d--) {
		int64_t c = i % dims[d];
		i /= dims[d];
		if (!reduced[d]) {
			g += c * mul;
			mul *= dims[d];
		}
	}
	return g;
}

/* (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9) over the axes, as the spec's function body. */
int ev_k_mvn(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	int64_t axes[OD_MAX_RANK] = { 0, 2, 3 }, ng = 1, cnt = 1;
	bool mask[OD_MAX_RANK];
	struct od_tensor *t;
	int n, rc = ev_attr_ints(e, "axes", axes, OD_MAX_RANK, &n);
	if (!rc && n < 0)
		n = 3;
	if (rc || (rc = ev_axes(e, axes, n, x->ndims, mask)) ||
	    (rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t)))
		return rc;
	for (int d = 0; d < x->ndims; d++)
		*(mask[d] ? &cnt : &ng) *= x->dims[d];
	double *s = od_arena_alloc(e->a, (size_t)(2 * ng + 1) * sizeof *s), *ss = s + ng;
	if (!s)
		return ev_err(e, OD_ENOMEM, "out of memory");
	for (int64_t g = 0; g < 2 * ng; g++)
		s[g] = 0;
	for (int64_t i = 0; i < x->numel; i++) {
		int64_t g = group_of(i, x->ndims, x->dims, mask);
		double v = ev_getf(x, i);
		s[g] += v;
		ss[g] += v * v;
	}
	for (int64_t i = 0; i < x->numel; i++) {
		int64_t g = group_of(i, x->ndims, x->dims, mask);
		double mean = s[g] / (double)cnt, var = ss[g] / (double)cnt - mean * mean;
		ev_setf(t, i, (ev_getf(x, i) - mean) / (sqrt(var) + 1e-9));
	}
	return 0;
}

/* ---- LRN ---------------------------------------------------------------------------------- */

/* Across channels: x / (bias + alpha / size * sum of squares over the window)^beta. */
int ev_k_lrn(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	double alpha = ev_attr_f(e, "alpha", 1e-4f), beta = ev_attr_f(e, "beta", 0.75f);
	double bias = ev_attr_f(e, "bias", 1.0f);
	int64_t size = ev_attr_i(e, "size", 0);
	struct od_tensor *t;
	if (size <= 0)
		return ev_bad(e, "attribute 'size' must be positive");
	if (x->ndims < 2)
		return ev_bad(e, "input must have a channel dimension");
	int64_t c = x->dims[1], inner = ev_numel(x->ndims - 2, x->dims + 2);
	int64_t lo = (size - 1) / 2, hi = (size - 1) - lo;
	int rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t);
	for (int64_t o = 0; !rc && o < x->dims[0]; o++)
		for (int64_t ch = 0; ch < c; ch++)
			for (int64_t k = 0; k < inner; k++) {
				double sq = 0;
				for (int64_t j = ch - lo; j <= ch + hi; j++)
					if (j >= 0 && j < c) {
						double v = ev_getf(x, (o * c + j) * inner + k);
						sq += v * v;
					}
				int64_t i = (o * c + ch) * inner + k;
				ev_setf(t, i, ev_getf(x, i) / pow(bias + alpha / (double)size * sq, beta));
			}
	return rc;
}
