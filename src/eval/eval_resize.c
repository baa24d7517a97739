/*
 * eval_resize.c — Resize (opsets 10 to 19+: nearest with its rounding modes, linear, cubic,
 * antialias, every coordinate_transformation_mode, scales or sizes, axes and
 * keep_aspect_ratio_policy, tf_crop_and_resize with roi and extrapolation_value) and
 * Upsample (7 to 9). Interpolation is separable: each axis gets a table of (source index,
 * weight) taps per output coordinate, and the axes are resampled one after another in double.
 * Nearest copies elements, so it serves every dtype.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

enum { M_NEAREST, M_LINEAR, M_CUBIC };
enum { N_PREFER_FLOOR, N_PREFER_CEIL, N_FLOOR, N_CEIL, N_SIMPLE };
enum { C_HALF_PIXEL, C_HALF_PIXEL_SYM, C_PYTORCH, C_ALIGN, C_ASYM, C_TF_HALF, C_TF_CROP };

struct resize {
	int mode, nearest, coord;
	bool antialias, exclude;
	double cubic_a, extrap;
	int nd;
	int64_t in[OD_MAX_RANK], out[OD_MAX_RANK];
	double scale[OD_MAX_RANK], roi0[OD_MAX_RANK], roi1[OD_MAX_RANK];
};

/* One axis: taps per output coordinate (nw of them), and whether it lies outside the
 * input (tf_crop_and_resize gives extrapolation_value there). */
struct taps {
	int nw;
	int64_t *idx;               /* [out][nw], clamped to the input; arena */
	double *w;                  /* [out][nw]; arena */
	bool *outside;              /* [out]; arena */
};

/* ---- reading the call ---------------------------------------------------------------- */

static int pick(struct ev *e, const char *name, const char *dflt, const char *const *names,
                int n, int *v)
{
	char buf[64];
	const char *s = ev_attr_s(e, name, dflt, buf, sizeof buf);
	for (int k = 0; k < n; k++)
		if (!strcmp(s, names[k])) {
			*v = k;
			return 0;
		}
	return ev_unsup(e, "%s '%s' not supported", name, s);
}

static int read_modes(struct ev *e, struct resize *r)
{
	static const char *const modes[] = { "nearest", "linear", "cubic" };
	static const char *const nearest[] = { "round_prefer_floor", "round_prefer_ceil", "floor",
	                                       "ceil" };
	static const char *const coords[] = { "half_pixel", "half_pixel_symmetric",
	                                      "pytorch_half_pixel", "align_corners", "asymmetric",
	                                      "tf_half_pixel_for_centers", "tf_crop_and_resize" };
	int rc = pick(e, "mode", "nearest", modes, 3, &r->mode);
	if (rc)
		return rc;
	if (r->mode == M_CUBIC && e->opset < 11)
		return ev_bad(e, "mode cubic needs opset 11");
	if (e->opset < 11) {            /* Upsample and Resize-10: asymmetric, ORT's "simple" */
		r->coord = C_ASYM;
		r->nearest = N_SIMPLE;
		return 0;
	}
	r->cubic_a = ev_attr_f(e, "cubic_coeff_a", -0.75f);
	r->exclude = ev_attr_i(e, "exclude_outside", 0);
	r->extrap = ev_attr_f(e, "extrapolation_value", 0);
	r->antialias = ev_attr_i(e, "antialias", 0) && r->mode != M_NEAREST;
	if ((rc = pick(e, "nearest_mode", "round_prefer_floor", nearest, 4, &r->nearest)))
		return rc;
	return pick(e, "coordinate_transformation_mode", "half_pixel", coords, 7, &r->coord);
}

/* The float list of input i (scales or roi) into v; *n = -1 when omitted or empty. */
static int read_floats(struct ev *e, size_t i, double *v, int max, int *n)
{
	const struct od_tensor *t = i < e->nin ? e->in[i] : NULL;
	*n = -1;
	if (!t || !t->numel)
		return 0;
	if (t->ndims != 1 || t->numel > max || ev_class(t->dtype) != EV_CF)
		return ev_bad(e, "input %zu must be a list of at most %d floats", i, max);
	for (int64_t k = 0; k < t->numel; k++)
		v[k] = ev_getf(t, k);
	*n = (int)t->numel;
	return 0;
}

/* Axes the lists name (opset 18's axes attribute, else all of them in order). */
static int read_axes(struct ev *e, int rank, int64_t *axes, int *n)
{
	bool mask[OD_MAX_RANK];
	int rc = e->opset >= 18 ? ev_attr_ints(e, "axes", axes, OD_MAX_RANK, n) : 0;
	if (rc)
		return rc;
	if (e->opset < 18 || *n < 0) {
		*n = rank;
		for (int d = 0; d < rank; d++)
			axes[d] = d;
		return 0;
	}
	return ev_axes(e, axes, *n, rank, mask);
}

/* keep_aspect_ratio_policy: one scale for all the axes, sizes rounded half up from it. */
static int keep_aspect(struct ev *e, struct resize *r, const int64_t *axes, int na)
{
	char buf[32];
	const char *pol = ev_attr_s(e, "keep_aspect_ratio_policy", "stretch", buf, sizeof buf);
	if (!strcmp(pol, "stretch") || e->opset < 18)
		return 0;
	bool larger = !strcmp(pol, "not_smaller");
	if (!larger && strcmp(pol, "not_larger"))
		return ev_unsup(e, "keep_aspect_ratio_policy '%s' not supported", pol);
	double s = r->scale[axes[0]];
	for (int j = 1; j < na; j++)
		s = larger ? fmax(s, r->scale[axes[j]]) : fmin(s, r->scale[axes[j]]);
	for (int j = 0; j < na; j++) {
		double o = s * (double)r->in[axes[j]] + 0.5;
		if (!(o >= 0 && o <= (double)OD_MAX_NUMEL))
			return ev_err(e, OD_ELIMIT, "sizes give an output too large");
		r->scale[axes[j]] = s;
		r->out[axes[j]] = (int64_t)o;
	}
	return 0;
}

/* Output sizes and scales from scales (input is) or sizes (input iz); roi from input ir. */
static int read_shape(struct ev *e, struct resize *r, size_t ir, size_t is, size_t iz)
{
	const struct od_tensor *x = e->in[0];
	int64_t axes[OD_MAX_RANK], sizes[OD_MAX_RANK];
	double sc[OD_MAX_RANK], roi[2 * OD_MAX_RANK];
	int na, ns, nz = -1, nr, rc = read_axes(e, x->ndims, axes, &na);
	r->nd = x->ndims;
	for (int d = 0; d < r->nd; d++) {
		r->in[d] = r->out[d] = x->dims[d];
		r->scale[d] = 1;
		r->roi0[d] = 0;
		r->roi1[d] = 1;
	}
	if (rc || (rc = read_floats(e, is, sc, OD_MAX_RANK, &ns)) ||
	    (rc = read_floats(e, ir, roi, 2 * OD_MAX_RANK, &nr)))
		return rc;
	if (iz < e->nin && e->in[iz] && e->in[iz]->numel &&
	    (rc = ev_read_ints(e, (int)iz, sizes, OD_MAX_RANK, &nz)))
		return rc;
	const struct od_attr *sa = e->opset < 9 ? ev_attr(e, "scales", OD_ATTR_FLOATS) : NULL;
	if (sa && sa->n <= OD_MAX_RANK && (sa->floats || !sa->n)) {  /* Upsample 7 */
		for (size_t j = 0; j < sa->n; j++)
			sc[j] = sa->floats[j];
		ns = (int)sa->n;
	}
	if ((ns < 0) == (nz < 0))
		return ev_bad(e, "exactly one of scales and sizes must be given");
	if ((ns >= 0 && ns != na) || (nz >= 0 && nz != na) || (nr >= 0 && nr != 2 * na))
		return ev_bad(e, "scales, sizes and roi must have one entry per axis");
	for (int j = 0; j < na; j++) {
		int d = (int)axes[j];
		if (nr >= 0) {
			r->roi0[d] = roi[j];
			r->roi1[d] = roi[na + j];
		}
		if (ns >= 0) {
			if (!(sc[j] > 0))
				return ev_bad(e, "scales must be positive");
			r->scale[d] = sc[j];
			double len = r->coord == C_TF_CROP ? (r->roi1[d] - r->roi0[d]) : 1;
			double o = floor((double)r->in[d] * len * sc[j]);
			if (!(o >= 0 && o <= (double)OD_MAX_NUMEL))
				return ev_err(e, OD_ELIMIT, "scales give an output too large");
			r->out[d] = (int64_t)o;
		} else {
			if (sizes[j] < 0)
				return ev_bad(e, "sizes must not be negative");
			r->out[d] = sizes[j];
			r->scale[d] = r->in[d] ? (double)sizes[j] / (double)r->in[d] : 1;
		}
	}
	return nz >= 0 ? keep_aspect(e, r, axes, na) : 0;
}

/* ---- one axis --------------------------------------------------------------------------- */

/* Where output coordinate o of axis d falls in the input. As the reference does, "len" is
 * the unrounded output length scale * in (sizes/in * in when sizes were given). */
static double source(const struct resize *r, int d, int64_t o)
{
	double x = (double)o, s = r->scale[d], in = (double)r->in[d], len = s * in;
	double r0 = r->roi0[d], r1 = r->roi1[d];
	switch (r->coord) {
	case C_HALF_PIXEL_SYM: {
		double adj = (double)r->out[d] / len, center = in / 2;
		return center * (1 - adj) + (x + 0.5) / s - 0.5;
	}
	case C_PYTORCH: return len > 1 ? (x + 0.5) / s - 0.5 : -0.5;
	case C_ALIGN: return len == 1 ? 0 : x * (in - 1) / (len - 1);
	case C_ASYM: return x / s;
	case C_TF_HALF: return (x + 0.5) / s;
	case C_TF_CROP:
		return len > 1 ? r0 * (in - 1) + x * (r1 - r0) * (in - 1) / (len - 1)
		               : 0.5 * (r0 + r1) * (in - 1);
	default: return (x + 0.5) / s - 0.5;
	}
}

static int64_t nearest_index(const struct resize *r, int d, double x)
{
	double f = floor(x);
	switch (r->nearest) {
	case N_PREFER_CEIL: return (int64_t)(x - f == 0.5 ? f + 1 : nearbyint(x));
	case N_FLOOR: return (int64_t)f;
	case N_CEIL: return (int64_t)ceil(x);
	case N_SIMPLE: return (int64_t)(r->scale[d] < 1 ? ceil(x) : f);
	default: return (int64_t)(x - f == 0.5 ? f : nearbyint(x));
	}
}

static double cubic(double a, double x)
{
	x = fabs(x);
	if (x <= 1)
		return ((a + 2) * x - (a + 3)) * x * x + 1;
	return x < 2 ? ((a * x - 5 * a) * x + 8 * a) * x - 4 * a : 0;
}

/* The taps of one output coordinate at source x: nw weights for floor(x) + first + k. */
static void weights(const struct resize *r, int d, double x, int first, int nw, double *w,
                    int64_t *idx)
{
	double f = floor(x), ratio = x - f, s = r->antialias ? fmin(r->scale[d], 1) : 1, sum = 0;
	int64_t last = r->in[d] - 1;
	for (int k = 0; k < nw; k++) {
		double dist = s * ((double)(first + k) - ratio);
		int64_t i = (int64_t)f + first + k;
		w[k] = r->mode == M_LINEAR ? fmax(0, 1 - fabs(dist)) : cubic(r->cubic_a, dist);
		if (r->exclude && (i < 0 || i > last))
			w[k] = 0;
		idx[k] = i < 0 ? 0 : i > last ? last : i;
		sum += w[k];
	}
	if (r->antialias || r->exclude)
		for (int k = 0; k < nw && sum != 0; k++)
			w[k] /= sum;
}

static int axis_taps(struct ev *e, const struct resize *r, int d, struct taps *t)
{
	int first = 0;
	t->nw = 1;
	if (r->mode != M_NEAREST) {
		double s = r->antialias ? fmin(r->scale[d], 1) : 1;
		first = (int)floor((r->mode == M_LINEAR ? -1 : -2) / s) + 1;
		t->nw = 2 - 2 * first;
	}
	size_t n = (size_t)(r->out[d] ? r->out[d] : 1);
	t->idx = od_arena_alloc(e->a, n * (size_t)t->nw * sizeof *t->idx);
	t->w = od_arena_alloc(e->a, n * (size_t)t->nw * sizeof *t->w);
	t->outside = od_arena_alloc(e->a, n * sizeof *t->outside);
	if (!t->idx || !t->w || !t->outside)
		return ev_err(e, OD_ENOMEM, "out of memory");
	for (int64_t o = 0; o < r->out[d]; o++) {
		double x = source(r, d, o), far = (double)t->nw + 2;
		t->outside[o] = r->coord == C_TF_CROP && (x < 0 || x > (double)(r->in[d] - 1));
		x = fmin(fmax(x, -far), (double)r->in[d] + far);  /* beyond, every tap is an edge */
		if (r->mode != M_NEAREST) {
			weights(r, d, x, first, t->nw, t->w + o * t->nw, t->idx + o * t->nw);
			continue;
		}
		int64_t i = nearest_index(r, d, x);
		t->idx[o] = i < 0 ? 0 : i >= r->in[d] ? r->in[d] - 1 : i;
		t->w[o] = 1;
	}
	return 0;
}

/* ---- the kernels ----------------------------------------------------------------------- */

/* Whether output element i has a coordinate outside the input on some axis. */
static bool outside(const struct resize *r, const struct taps *t, int64_t i)
{
	for (int d = r->nd - 1; d >= 0; d--) {
		if (t[d].outside[i % r->out[d]])
			return true;
		i /= r->out[d];
	}
	return false;
}

/* Nearest: each output element copies the element its per-axis indices name. */
static void run_nearest(const struct resize *r, const struct taps *t, const struct od_tensor *x,
                        struct od_tensor *y)
{
	int64_t st[OD_MAX_RANK];
	ev_strides(r->nd, r->in, st);
	for (int64_t i = 0; i < y->numel; i++) {
		int64_t rest = i, off = 0;
		for (int d = r->nd - 1; d >= 0; d--) {
			off += t[d].idx[rest % r->out[d]] * st[d];
			rest /= r->out[d];
		}
		if (outside(r, t, i))
			ev_setf(y, i, r->extrap);
		else
			ev_copy(y, i, x, off, 1);
	}
}

/* Linear and cubic: resample the axes in turn, in double. */
static int run_filter(struct ev *e, const struct resize *r, const struct taps *t,
                      const struct od_tensor *x, struct od_tensor *y)
{
	int64_t dims[OD_MAX_RANK], cap = x->numel;
	memcpy(dims, r->in, (size_t)r->nd * sizeof *dims);
	for (int d = 0; d < r->nd; d++) {
		dims[d] = r->out[d];
		int64_t n = ev_numel(r->nd, dims);     /* the tensor after resampling axis d */
		if (n < 0 || (e->max_numel > 0 && n > e->max_numel))
			return ev_err(e, OD_ELIMIT, "an intermediate of the resize is too large");
		cap = n > cap ? n : cap;
	}
	double *a = od_arena_alloc(e->a, (size_t)(cap ? cap : 1) * sizeof *a);
	double *b = od_arena_alloc(e->a, (size_t)(cap ? cap : 1) * sizeof *b);
	if (!a || !b)
		return ev_err(e, OD_ENOMEM, "out of memory");
	for (int64_t i = 0; i < x->numel; i++)
		a[i] = ev_getf(x, i);
	memcpy(dims, r->in, (size_t)r->nd * sizeof *dims);
	for (int d = 0; d < r->nd; d++) {
		int64_t outer = ev_numel(d, dims), inner = ev_numel(r->nd - d - 1, dims + d + 1);
		int nw = t[d].nw;
		for (int64_t o = 0; o < outer; o++)
			for (int64_t j = 0; j < r->out[d]; j++)
				for (int64_t k = 0; k < inner; k++) {
					double v = 0;
					for (int q = 0; q < nw; q++)
						v += t[d].w[j * nw + q] * a[(o * r->in[d] + t[d].idx[j * nw + q]) * inner + k];
					b[(o * r->out[d] + j) * inner + k] = v;
				}
		dims[d] = r->out[d];
		double *tmp = a;
		a = b;
		b = tmp;
	}
	for (int64_t i = 0; i < y->numel; i++)
		ev_setf(y, i, outside(r, t, i) ? r->extrap : a[i]);
	return 0;
}

static int resize(struct ev *e, size_t ir, size_t is, size_t iz)
{
	const struct od_tensor *x = e->in[0];
	struct resize r = { 0 };
	struct taps t[OD_MAX_RANK];
	struct od_tensor *y;
	int rc = read_modes(e, &r);
	if (rc || (rc = read_shape(e, &r, ir, is, iz)) ||
	    (rc = ev_new(e, 0, x->dtype, r.nd, r.out, &y)))
		return rc;
	if (!y->numel)
		return 0;
	for (int d = 0; d < r.nd; d++) {
		if (!r.in[d])
			return ev_bad(e, "cannot resize an empty axis");
		if ((rc = axis_taps(e, &r, d, &t[d])))
			return rc;
	}
	if (r.mode == M_NEAREST) {
		run_nearest(&r, t, x, y);
		return 0;
	}
	if (ev_class(x->dtype) != EV_CF && ev_class(x->dtype) != EV_CS && ev_class(x->dtype) != EV_CU)
		return ev_unsup(e, "dtype %s not supported", od_dtype_name(x->dtype));
	return run_filter(e, &r, t, x, y);
}

/* Opset 10: X, scales. 11 on: X, roi, scales, sizes. */
int ev_k_resize10(struct ev *e) { return resize(e, SIZE_MAX, 1, SIZE_MAX); }
int ev_k_resize(struct ev *e) { return resize(e, 1, 2, 3); }

/* Upsample 9: X, scales; Upsample 7: the scales attribute (read_shape). */
int ev_k_upsample(struct ev *e) { return resize(e, SIZE_MAX, 1, SIZE_MAX); }
