/*
 * eval_pool.c — MaxPool (with its optional Indices output), AveragePool, GlobalAveragePool
 * and GlobalMaxPool over any number of spatial dims, computed in float32 (float16,
 * bfloat16 and the 8-bit integers MaxPool takes are exact or rounded once); LpPool and
 * GlobalLpPool, computed in double and rounded once; MaxUnpool, which puts MaxPool's
 * values back where its Indices say. The window geometry (pads, auto_pad, strides,
 * dilations, ceil_mode) comes from ev_win_init.
 */
#include "config.h"
#include <float.h>
#include <math.h>
#include "eval_internal.h"

static int64_t prod(int n, const int64_t *v)
{
	int64_t p = 1;
	for (int i = 0; i < n; i++)
		p *= v[i];
	return p;
}


enum pool_kind { P_MAX, P_AVG };

struct pool {
	struct ev_win w;
	enum pool_kind kind;
	bool include_pad;       /* AveragePool: divide by the window inside the padded input */
	bool col_major;         /* MaxPool Indices with storage_order 1 */
	double p;               /* LpPool's norm */
	int64_t IN, P, K;       /* elements of an input plane, of an output plane, of the kernel */
};

/* Window dim i at output position o: the taps [*lo, *hi) that fall inside the input, and
 * how many fall below its end pad (what count_include_pad divides by). Only those taps are
 * visited: a kernel of 10^9 taps balanced by pads of 10^9 made a window loop for minutes. */
static int64_t win_dim(const struct ev_win *w, int i, int64_t o, int64_t *lo, int64_t *hi)
{
	int64_t base = o * w->s[i] - w->pb[i], lim = w->in[i] + w->pe[i] - base;
	ev_win_taps(base, w->d[i], w->in[i], w->k[i], lo, hi);
	int64_t n = lim <= 0 ? 0 : (lim + w->d[i] - 1) / w->d[i];
	return n < w->k[i] ? n : w->k[i];
}


/* One output position of one channel plane x; *arg receives the argmax's spatial index. */
static float window(const struct pool *p, const float *x, const int64_t *oidx, int64_t *arg)
{
	const struct ev_win *w = &p->w;
	int64_t lo[EV_WIN_MAX], hi[EV_WIN_MAX], kidx[EV_WIN_MAX];
	double sum = 0, padded = 1;
	float best = -INFINITY;
	int64_t count = 0;
	bool empty = false;
	*arg = -1;
	for (int i = 0; i < w->nd; i++) {
		padded *= (double)win_dim(w, i, oidx[i], &lo[i], &hi[i]);
		empty = empty || lo[i] == hi[i];
		kidx[i] = lo[i];
	}
	if (!empty)
		do {
			int64_t off = 0, stride = 1, coff = 0;
			for (int i = 0; i < w->nd; i++) {
				int64_t ix = oidx[i] * w->s[i] - w->pb[i] + kidx[i] * w->d[i];
				off = off * w->in[i] + ix;
				coff += ix * stride;
				stride *= w->in[i];
			}
			float v = x[off];
			count++;
			sum += v;
			if (v > best || *arg < 0) {
				best = v;
				*arg = p->col_major ? coff : off;
			}
		} while (ev_step_box(w->nd, lo, hi, kidx));
	if (p->kind == P_MAX)
		return count ? best : -INFINITY;
	double div = p->include_pad ? padded : (double)count;
	return div ? (float)(sum / div) : NAN;
}

/* MaxPool: the window's first element, then `v > best ? v : best` (one maxss, no branch to
 * mispredict): a NaN first stays, a NaN later is passed over, as in window(). */
static EV_CLONES void maxpool_2d(const struct pool *p, int64_t planes, const float *x, float *y)
{
	const struct ev_win *w = &p->w;
	const int64_t H = w->in[0], W = w->in[1];
	for (int64_t c = 0; c < planes; c++, x += p->IN)
		for (int64_t oh = 0; oh < w->out[0]; oh++) {
			int64_t ih = oh * w->s[0] - w->pb[0], h0, h1;
			ev_win_taps(ih, w->d[0], H, w->k[0], &h0, &h1);
			for (int64_t ow = 0; ow < w->out[1]; ow++) {
				int64_t iw = ow * w->s[1] - w->pb[1], w0, w1;
				ev_win_taps(iw, w->d[1], W, w->k[1], &w0, &w1);
				if (h0 == h1 || w0 == w1) {
					*y++ = -INFINITY;
					continue;
				}
				int64_t at = ih * W + iw;       /* may be negative: a tap offset fixes it */
				float best = x[at + h0 * w->d[0] * W + w0 * w->d[1]];
				for (int64_t kh = h0; kh < h1; kh++) {
					const int64_t r = at + kh * w->d[0] * W;
					for (int64_t kw = w0; kw < w1; kw++) {
						float v = x[r + kw * w->d[1]];
						best = v > best ? v : best;
					}
				}
				*y++ = best;
			}
		}
}

struct maxpool_job {
	const struct pool *p;
	const float *x;
	float *y;
};

static int maxpool_planes(void *ctx, int64_t lo, int64_t hi)
{
	const struct maxpool_job *j = ctx;
	maxpool_2d(j->p, hi - lo, j->x + lo * j->p->IN, j->y + lo * j->p->P);
	return 0;
}

/* window() for 2-D pools without Indices (every pool of a torchvision net), with the
 * window's rows and columns as loops: the same elements in the same order. */
static void pool_2d(const struct pool *p, int64_t planes, const float *x, float *y)
{
	const struct ev_win *w = &p->w;
	const int64_t W = w->in[1];
	if (p->kind == P_MAX) {         /* no sums, no pad counts, no branches; planes in parallel */
		struct maxpool_job j = { p, x, y };
		/* taps visited per output: at most the input's extent (a kernel may be larger) */
		double work = (double)p->P * (double)(w->k[0] < w->in[0] ? w->k[0] : w->in[0]) *
		              (double)(w->k[1] < w->in[1] ? w->k[1] : w->in[1]);
		ev_par_range(planes, work >= EV_PAR_GRAIN ? 1 : (int64_t)(EV_PAR_GRAIN / (work ? work : 1)) + 1,
		             maxpool_planes, &j);
		return;
	}
	for (int64_t c = 0; c < planes; c++, x += p->IN)
		for (int64_t oh = 0; oh < w->out[0]; oh++) {
			int64_t h0, h1, rows = win_dim(w, 0, oh, &h0, &h1);
			for (int64_t ow = 0; ow < w->out[1]; ow++) {
				int64_t w0, w1, cols = win_dim(w, 1, ow, &w0, &w1);
				double sum = 0;
				for (int64_t kh = h0; kh < h1; kh++) {
					const float *r = x + (oh * w->s[0] - w->pb[0] + kh * w->d[0]) * W;
					for (int64_t kw = w0; kw < w1; kw++)
						sum += r[ow * w->s[1] - w->pb[1] + kw * w->d[1]];
				}
				double div = p->include_pad ? (double)rows * (double)cols :
				             (double)(h1 - h0) * (double)(w1 - w0);
				*y++ = div ? (float)(sum / div) : NAN;
			}
		}
}

static void pool_run(const struct pool *p, int64_t planes, const float *x, float *y,
                     struct od_tensor *ind)
{
	if (p->w.nd == 2 && !ind) {
		pool_2d(p, planes, x, y);
		return;
	}
	int64_t oidx[EV_WIN_MAX];
	for (int64_t c = 0; c < planes; c++) {
		memset(oidx, 0, sizeof oidx);
		int64_t j = 0;
		do {
			int64_t arg;
			y[c * p->P + j] = window(p, x + c * p->IN, oidx, &arg);
			if (ind)
				ev_seti(ind, c * p->P + j, c * p->IN + (arg < 0 ? 0 : arg));
			j++;
		} while (ev_step(p->w.nd, p->w.out, oidx));
	}
}

/* The kernel_shape and the window of a pool over X; Y's shape in dims. */
static int pool_geometry(struct ev *e, struct pool *p, const struct od_tensor *x,
                         bool ceil_mode, int64_t *dims)
{
	int nk, rc;
	if (x->ndims < 3 || x->ndims - 2 > EV_WIN_MAX)
		return ev_bad(e, "X must have rank 3 to %d", EV_WIN_MAX + 2);
	p->w.nd = x->ndims - 2;
	if ((rc = ev_attr_ints(e, "kernel_shape", p->w.k, EV_WIN_MAX, &nk)))
		return rc;
	if (nk != p->w.nd)
		return ev_bad(e, "kernel_shape must have %d entries", p->w.nd);
	if ((rc = ev_win_init(e, &p->w, x, ceil_mode)))
		return rc;
	dims[0] = x->dims[0], dims[1] = x->dims[1];
	memcpy(dims + 2, p->w.out, (size_t)p->w.nd * sizeof *dims);
	p->IN = prod(p->w.nd, p->w.in);
	return 0;
}

static int pool(struct ev *e, enum pool_kind kind)
{
	const struct od_tensor *x = e->in[0];
	struct pool p = { .kind = kind };
	struct od_tensor *y, *ind = NULL;
	int64_t dims[2 + EV_WIN_MAX];
	int rc;
	p.include_pad = ev_attr_i(e, "count_include_pad", 0);
	p.col_major = ev_attr_i(e, "storage_order", 0);
	if ((rc = pool_geometry(e, &p, x, ev_attr_i(e, "ceil_mode", 0), dims)) ||
	    (rc = ev_new(e, 0, x->dtype, x->ndims, dims, &y)))
		return rc;
	if (e->n->n_outputs > 1 && *e->n->outputs[1] &&
	    (rc = ev_new(e, 1, OD_INT64, x->ndims, dims, &ind)))
		return rc;
	p.P = prod(p.w.nd, p.w.out);    /* Y's size, so within the limit */
	bool owned;
	float *fx = ev_f32_in(x, &owned), *fy = ev_f32_out(y);
	if (fx && fy && y->numel)
		pool_run(&p, dims[0] * dims[1], fx, fy, ind);
	ev_f32_free(fx, owned);
	ev_f32_done(y, fy);
	return fx && fy ? 0 : ev_err(e, OD_ENOMEM, "out of memory");
}

int ev_k_maxpool(struct ev *e)
{
	if (ev_attr_i(e, "storage_order", 0) && e->in[0]->ndims != 4)
		return ev_unsup(e, "storage_order 1 only for 2-D pools");
	return pool(e, P_MAX);
}

int ev_k_averagepool(struct ev *e) { return pool(e, P_AVG); }

/* ---- LpPool --------------------------------------------------------------------------- */

/* LpPool at output position oidx of the plane at element base of x: the p-norm of the taps
 * inside the input. The reference averages |x|^p over the taps inside the padded input and
 * multiplies by the kernel's size (as torch's LPPool does), so a ceil_mode window running
 * past the end pad is scaled up by the part of it that is missing. */
static double lp_window(const struct pool *p, const struct od_tensor *x, int64_t base,
                        const int64_t *oidx)
{
	const struct ev_win *w = &p->w;
	int64_t lo[EV_WIN_MAX], hi[EV_WIN_MAX], kidx[EV_WIN_MAX];
	double padded = 1, sum = 0;
	for (int i = 0; i < w->nd; i++) {
		padded *= (double)win_dim(w, i, oidx[i], &lo[i], &hi[i]);
		if (lo[i] == hi[i])
			return 0;       /* all in the pads */
		kidx[i] = lo[i];
	}
	do {
		int64_t off = 0;
		for (int i = 0; i < w->nd; i++)
			off = off * w->in[i] + oidx[i] * w->s[i] - w->pb[i] + kidx[i] * w->d[i];
		sum += pow(fabs(ev_getf(x, base + off)), p->p);
	} while (ev_step_box(w->nd, lo, hi, kidx));
	return pow(sum * ((double)p->K / padded), 1 / p->p);
}

/* p is a float at opset 1, an int from 2 on; dilations and ceil_mode came at opset 18. */
static int lppool(struct ev *e, double norm, bool v18)
{
	const struct od_tensor *x = e->in[0];
	struct pool p = { .p = norm, .K = 1 };
	struct od_tensor *y;
	int64_t dims[2 + EV_WIN_MAX], oidx[EV_WIN_MAX];
	int rc;
	if (!(norm > 0) || isinf(norm))
		return ev_bad(e, "p must be positive, not %g", norm);
	if (!v18 && (ev_attr(e, "dilations", OD_ATTR_INTS) || ev_attr(e, "ceil_mode", OD_ATTR_INT)))
		return ev_bad(e, "dilations and ceil_mode are not attributes before opset 18");
	if ((rc = pool_geometry(e, &p, x, ev_attr_i(e, "ceil_mode", 0), dims)))
		return rc;
	for (int i = 0; i < p.w.nd; i++)
		if (__builtin_mul_overflow(p.K, p.w.k[i], &p.K))
			return ev_bad(e, "kernel_shape too large");
	if ((rc = ev_new_whole(e, 0, x->dtype, x->ndims, dims, &y)))
		return rc;
	for (int64_t c = 0, at = 0; y->numel && c < dims[0] * dims[1]; c++) {
		memset(oidx, 0, sizeof oidx);
		do
			ev_setf(y, at++, lp_window(&p, x, c * p.IN, oidx));
		while (ev_step(p.w.nd, p.w.out, oidx));
	}
	return 0;
}

int ev_k_lppool1(struct ev *e) { return lppool(e, ev_attr_f(e, "p", 2), false); }
int ev_k_lppool2(struct ev *e) { return lppool(e, (double)ev_attr_i(e, "p", 2), false); }
int ev_k_lppool(struct ev *e) { return lppool(e, (double)ev_attr_i(e, "p", 2), true); }

/* ---- GlobalAveragePool, GlobalMaxPool, GlobalLpPool ------------------------------------ */

/* Y [N, C, 1, ...] for X [N, C, ...]. */
static int global_out(struct ev *e, const struct od_tensor *x, struct od_tensor **y)
{
	int64_t dims[OD_MAX_RANK];
	if (x->ndims < 2)
		return ev_bad(e, "X must have rank 2 or more");
	for (int d = 0; d < x->ndims; d++)
		dims[d] = d < 2 ? x->dims[d] : 1;
	return ev_new(e, 0, x->dtype, x->ndims, dims, y);
}

static int global_pool(struct ev *e, enum pool_kind kind)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor *y;
	int rc = global_out(e, x, &y);
	if (rc)
		return rc;
	int64_t planes = x->dims[0] * x->dims[1], n = prod(x->ndims - 2, x->dims + 2);
	bool owned;
	float *fx = ev_f32_in(x, &owned), *fy = ev_f32_out(y);
	for (int64_t c = 0; fx && fy && c < planes; c++) {
		const float *v = fx + c * n;
		double acc = kind == P_MAX ? -INFINITY : 0;
		for (int64_t i = 0; i < n; i++)
			acc = kind == P_MAX ? (v[i] > acc ? v[i] : acc) : acc + v[i];
		fy[c] = (float)(kind == P_MAX ? acc : n ? acc / (double)n : NAN);
	}
	ev_f32_free(fx, owned);
	ev_f32_done(y, fy);
	return fx && fy ? 0 : ev_err(e, OD_ENOMEM, "out of memory");
}

int ev_k_globalaveragepool(struct ev *e) { return global_pool(e, P_AVG); }
int ev_k_globalmaxpool(struct ev *e) { return global_pool(e, P_MAX); }

/* GlobalLpPool: the p-norm of each channel plane; p is a float at opset 1, an int from 2. */
static int global_lppool(struct ev *e, double norm)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor *y;
	if (!(norm > 0) || isinf(norm))
		return ev_bad(e, "p must be positive, not %g", norm);
	int rc = global_out(e, x, &y);
	if (rc)
		return rc;
	int64_t n = prod(x->ndims - 2, x->dims + 2);
	for (int64_t c = 0; c < y->numel; c++) {
		double sum = 0;
		for (int64_t i = c * n; i < (c + 1) * n; i++)
			sum += pow(fabs(ev_getf(x, i)), norm);
		ev_setf(y, c, pow(sum, 1 / norm));
	}
	return 0;
}

int ev_k_globallppool1(struct ev *e) { return global_lppool(e, ev_attr_f(e, "p", 2)); }
int ev_k_globallppool(struct ev *e) { return global_lppool(e, (double)ev_attr_i(e, "p", 2)); }

/* ---- MaxUnpool ------------------------------------------------------------------------ */

/* The shape the attributes give (that of the MaxPool input which made X): per spatial dim
 * (in - 1) * stride - pads + kernel. */
static int unpool_shape(struct ev *e, const struct od_tensor *x, int64_t *dims)
{
	struct ev_win w = { .nd = x->ndims - 2 };
	int nk, rc;
	if ((rc = ev_attr_ints(e, "kernel_shape", w.k, EV_WIN_MAX, &nk)))
		return rc;
	if (nk != w.nd)
		return ev_bad(e, "kernel_shape must have %d entries", w.nd);
	if ((rc = ev_win_read(e, &w)))
		return rc;
	dims[0] = x->dims[0], dims[1] = x->dims[1];
	for (int i = 0; i < w.nd; i++) {
		int64_t v;
		if (__builtin_mul_overflow(x->dims[2 + i] - 1, w.s[i], &v) ||
		    __builtin_add_overflow(v, w.k[i] - w.pb[i] - w.pe[i], &v) || v < 0)
			return ev_bad(e, "kernel_shape, strides and pads give dim %d no size",
			              2 + i);
		dims[2 + i] = v;
	}
	return 0;
}

/* Flat index at of shape from, moved to the same coordinates in shape to (no smaller). */
static int64_t relocate(int64_t at, int nd, const int64_t *from, const int64_t *to)
{
	int64_t off = 0, scale = 1;
	for (int d = nd - 1; d >= 0; d--) {
		off += at % from[d] * scale;
		at /= from[d];
		scale *= to[d];
	}
	return off;
}

/* MaxUnpool: zeros, and each element of X where its index in I says. The indices count in
 * the shape the attributes infer; a larger output_shape pads that shape at the end of each
 * dim, as the ONNX reference (and its node test) does. onnxruntime reads the indices in
 * output_shape instead: the two differ when output_shape is not the inferred shape. */
int ev_k_maxunpool(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *ind = e->in[1];
	int64_t inferred[2 + EV_WIN_MAX], dims[2 + EV_WIN_MAX];
	struct od_tensor *y;
	int n, rc;
	if (x->ndims < 3 || x->ndims - 2 > EV_WIN_MAX)
		return ev_bad(e, "X must have rank 3 to %d", EV_WIN_MAX + 2);
	if (ind->dtype != OD_INT64 || ind->ndims != x->ndims ||
	    memcmp(ind->dims, x->dims, (size_t)x->ndims * sizeof *x->dims))
		return ev_bad(e, "I must be int64 and of X's shape");
	if ((rc = unpool_shape(e, x, inferred)))
		return rc;
	memcpy(dims, inferred, (size_t)x->ndims * sizeof *dims);
	bool given = e->nin > 2 && e->in[2];
	if (given && (rc = ev_read_ints(e, 2, dims, 2 + EV_WIN_MAX, &n)))
		return rc;
	if (given && n != x->ndims)
		return ev_bad(e, "output_shape must have %d entries", x->ndims);
	for (int d = 0; d < x->ndims; d++)
		if (dims[d] < inferred[d])
			return ev_bad(e, "output_shape dim %d of %lld is below the %lld the "
			              "attributes give", d, (long long)dims[d],
			              (long long)inferred[d]);
	if ((rc = ev_new(e, 0, x->dtype, x->ndims, dims, &y)))
		return rc;
	int64_t total = ev_numel(x->ndims, inferred);
	for (int64_t i = 0; i < x->numel; i++) {
		int64_t at = ev_geti(ind, i);
		if (at < 0 || at >= total)
			return ev_bad(e, "index %lld out of range [0, %lld)", (long long)at,
			              (long long)total);
		ev_copy(y, relocate(at, x->ndims, inferred, dims), x, i, 1);
	}
	return 0;
}
