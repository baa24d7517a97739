/*
 * eval_grid.c — GridSample (opsets 16 to 22+): samples X [N, C, D1..Dr] at the normalised
 * points of grid [N, O1..Or, r] (x first, so grid's last axis runs over X's spatial axes
 * backwards), modes nearest, linear and cubic, padding zeros, border and reflection,
 * align_corners. Follows the ONNX reference: border and reflection move the coordinate
 * before interpolating, then each tap reads with the padding rule. Also AffineGrid, which
 * makes such grids.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

enum { G_NEAREST, G_LINEAR, G_CUBIC };
enum { P_ZEROS, P_BORDER, P_REFLECTION };

struct grid {
	int mode, pad, r;           /* r: spatial rank */
	bool align;
	const int64_t *len;         /* X's spatial sizes */
};

static double reflect(double x, double lo, double hi)
{
	double rng = hi - lo;
	if (rng <= 0)
		return lo;
	if (x < lo || x > hi) {
		double dx = x < lo ? lo - x : x - hi, n = floor(dx / rng), rem = dx - n * rng;
		bool even = fmod(n, 2) == 0;
		x = (x < lo) == even ? lo + rem : hi - rem;
	}
	return x;
}

static void bounds(const struct grid *g, int d, double *lo, double *hi)
{
	*lo = g->align ? 0 : -0.5;
	*hi = g->align ? (double)g->len[d] - 1 : (double)g->len[d] - 0.5;
}

/* Index i of axis d under the padding rule; -1 for a zero. */
static int64_t pad_index(const struct grid *g, int d, int64_t i)
{
	int64_t n = g->len[d];
	if (i >= 0 && i < n)
		return i;
	if (g->pad == P_ZEROS)
		return -1;
	if (g->pad == P_BORDER)
		return i < 0 ? 0 : n - 1;
	double lo, hi;
	bounds(g, d, &lo, &hi);
	int64_t k = (int64_t)reflect((double)i, lo, hi);
	return k < 0 ? 0 : k >= n ? n - 1 : k;
}

static double cubic(double x)
{
	const double a = -0.75;
	x = fabs(x);
	if (x <= 1)
		return ((a + 2) * x - (a + 3)) * x * x + 1;
	return x < 2 ? ((a * x - 5 * a) * x + 8 * a) * x - 4 * a : 0;
}

/* Taps of axis d at normalised coordinate v: up to 4 (index, weight) pairs. */
static int taps(const struct grid *g, int d, double v, int64_t *idx, double *w)
{
	double n = (double)g->len[d], lo, hi;
	double x = g->align ? (v + 1) / 2 * (n - 1) : ((v + 1) * n - 1) / 2;
	bounds(g, d, &lo, &hi);
	if (g->pad == P_BORDER)
		x = fmin(fmax(x, 0), n - 1);
	else if (g->pad == P_REFLECTION)
		x = reflect(x, lo, hi);
	x = fmin(fmax(x, -8), n + 8);           /* beyond, every tap reads padding */
	if (g->mode == G_NEAREST) {
		idx[0] = pad_index(g, d, (int64_t)nearbyint(x));
		w[0] = 1;
		return 1;
	}
	double f = floor(x), t = x - f;
	int first = g->mode == G_LINEAR ? 0 : -1, nt = g->mode == G_LINEAR ? 2 : 4;
	for (int k = 0; k < nt; k++) {
		idx[k] = pad_index(g, d, (int64_t)f + first + k);
		w[k] = g->mode == G_LINEAR ? (k ? t : 1 - t) : cubic((double)(first + k) - t);
	}
	return nt;
}

static int read_grid_attrs(struct ev *e, struct grid *g)
{
	char buf[32];
	const char *m = ev_attr_s(e, "mode", e->opset < 20 ? "bilinear" : "linear", buf, sizeof buf);
	if (!strcmp(m, "nearest"))
		g->mode = G_NEAREST;
	else if (!strcmp(m, "linear") || !strcmp(m, "bilinear"))
		g->mode = G_LINEAR;
	else if (!strcmp(m, "cubic") || !strcmp(m, "bicubic"))
		g->mode = G_CUBIC;
	else
		return ev_unsup(e, "mode '%s' not supported", m);
	const char *p = ev_attr_s(e, "padding_mode", "zeros", buf, sizeof buf);
	g->pad = !strcmp(p, "border") ? P_BORDER : !strcmp(p, "reflection") ? P_REFLECTION : P_ZEROS;
	if (g->pad == P_ZEROS && strcmp(p, "zeros"))
		return ev_unsup(e, "padding_mode '%s' not supported", p);
	g->align = ev_attr_i(e, "align_corners", 0);
	return 0;
}

int ev_k_gridsample(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *gr = e->in[1];
	struct grid g;
	int64_t dims[OD_MAX_RANK], xst[OD_MAX_RANK], idx[OD_MAX_RANK][4];
	double w[OD_MAX_RANK][4];
	int nt[OD_MAX_RANK];
	struct od_tensor *t;
	int rc = read_grid_attrs(e, &g);
	if (rc)
		return rc;
	g.r = x->ndims - 2;
	g.len = x->dims + 2;
	if (g.r < 1 || gr->ndims != x->ndims || gr->dims[0] != x->dims[0] ||
	    gr->dims[gr->ndims - 1] != g.r)
		return ev_bad(e, "grid must be [N, O1..Or, %d] for X of rank %d", g.r, x->ndims);
	int64_t nb = x->dims[0], nc = x->dims[1], pts = ev_numel(g.r, gr->dims + 1);
	dims[0] = nb;
	dims[1] = nc;
	memcpy(dims + 2, gr->dims + 1, (size_t)g.r * sizeof *dims);
	ev_strides(x->ndims, x->dims, xst);
	if ((rc = ev_new(e, 0, x->dtype, x->ndims, dims, &t)))
		return rc;
	for (int64_t b = 0; b < nb; b++)
		for (int64_t p = 0; p < pts; p++) {
			int64_t total = 1;
			for (int d = 0; d < g.r; d++) {
				double v = ev_getf(gr, (b * pts + p) * g.r + (g.r - 1 - d));
				nt[d] = taps(&g, d, v, idx[d], w[d]);
				total *= nt[d];
			}
			for (int64_t c = 0; c < nc; c++) {
				double acc = 0;
				for (int64_t k = 0; k < total; k++) {
					int64_t rest = k, off = b * xst[0] + c * xst[1];
					double wt = 1;
					for (int d = g.r - 1; d >= 0 && wt != 0; d--) {
						int j = (int)(rest % nt[d]);
						rest /= nt[d];
						if (idx[d][j] < 0)
							wt = 0;
						else {
							off += idx[d][j] * xst[d + 2];
							wt *= w[d][j];
						}
					}
					if (wt != 0)
						acc += wt * ev_getf(x, off);
				}
				ev_setf(t, (b * nc + c) * pts + p, acc);
			}
		}
	return 0;
}

/* ---- AffineGrid ----------------------------------------------------------------------- */

/* Point i of an axis of n points spread over [-1, 1]: from corner centre to corner centre
 * with align_corners (one point: -1, as the reference's arange gives; torch gives 0), else
 * from edge to edge. */
static double grid_point(int64_t i, int64_t n, bool align)
{
	if (align)
		return i ? -1 + (double)i * (2.0 / (double)(n - 1)) : -1;
	double step = 2.0 / (double)n;
	return -1 + step / 2 + (double)i * step;
}

/* AffineGrid: for theta [N, r, r + 1] (r 2 or 3) and size [N, C, (D,) H, W], the grid
 * [N, (D,) H, W, r] whose point is theta[n] times (x, y, (z,) 1), x running along W, y
 * along H, z along D. Computed in double, rounded once. */
int ev_k_affinegrid(struct ev *e)
{
	const struct od_tensor *th = e->in[0];
	int64_t size[5], dims[5];
	struct od_tensor *y;
	int n, rc = ev_read_ints(e, 1, size, 5, &n);
	if (rc)
		return rc;
	int r = n - 2;
	if (n < 4 || th->ndims != 3 || th->dims[0] != size[0] || th->dims[1] != r ||
	    th->dims[2] != r + 1)
		return ev_bad(e, "theta must be [N, 2, 3] for 4 sizes, [N, 3, 4] for 5");
	dims[0] = size[0];
	for (int a = 0; a < r; a++)
		if ((dims[a + 1] = size[a + 2]) < 0)
			return ev_bad(e, "size %lld is negative", (long long)size[a + 2]);
	dims[r + 1] = r;
	if ((rc = ev_new_whole(e, 0, th->dtype, r + 2, dims, &y)) || !y->numel)
		return rc;
	bool align = ev_attr_i(e, "align_corners", 0);
	int64_t pts = y->numel / (size[0] * r);
	for (int64_t b = 0, at = 0; b < size[0]; b++)
		for (int64_t p = 0; p < pts; p++) {
			double v[4];            /* x, y, (z,) 1 */
			int64_t rest = p;
			for (int a = r - 1; a >= 0; a--) {
				v[r - 1 - a] = grid_point(rest % dims[a + 1], dims[a + 1], align);
				rest /= dims[a + 1];
			}
			v[r] = 1;
			for (int k = 0; k < r; k++) {
				double acc = 0;
				for (int j = 0; j <= r; j++)
					acc += ev_getf(th, (b * r + k) * (r + 1) + j) * v[j];
				ev_setf(y, at++, acc);
			}
		}
	return 0;
}
