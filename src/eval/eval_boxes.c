/*
 * eval_boxes.c — the detection ops: NonMaxSuppression (corner or center boxes, IoU and score
 * thresholds, a cap per class) and RoiAlign (avg or max, both coordinate modes), both with
 * onnxruntime's rules where the spec leaves them open.
 */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#include "eval_internal.h"

/* ---- NonMaxSuppression -------------------------------------------------------------------- */

struct cand {
	double score;
	int64_t box;
};

static int by_score(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	if (a->score != b->score)
		return a->score < b->score ? 1 : -1;
	return (a->box > b->box) - (a->box < b->box);
}

/* Box k of batch b as y1, x1, y2, x2 with y1 <= y2 and x1 <= x2. */
static void corners(const struct od_tensor *boxes, int64_t at, bool center, double *c)
{
	double v[4];
	for (int i = 0; i < 4; i++)
		v[i] = ev_getf(boxes, at + i);
	if (center) {                       /* x_center, y_center, width, height */
		c[0] = v[1] - v[3] / 2;
		c[1] = v[0] - v[2] / 2;
		c[2] = v[1] + v[3] / 2;
		c[3] = v[0] + v[2] / 2;
		return;
	}
	c[0] = fmin(v[0], v[2]);
	c[1] = fmin(v[1], v[3]);
	c[2] = fmax(v[0], v[2]);
	c[3] = fmax(v[1], v[3]);
}

/* Whether boxes a and b overlap by more than the threshold (onnxruntime's rule). */
static bool suppresses(const double *a, const double *b, double thr)
{
	double ih = fmin(a[2], b[2]) - fmax(a[0], b[0]), iw = fmin(a[3], b[3]) - fmax(a[1], b[1]);
	if (ih <= 0 || iw <= 0)
		return false;
	double inter = ih * iw, aa = (a[2] - a[0]) * (a[3] - a[1]), ab = (b[2] - b[0]) * (b[3] - b[1]);
	double uni = aa + ab - inter;
	if (aa <= 0 || ab <= 0 || uni <= 0)
		return false;
	return inter / uni > thr;
}

static double opt_scalar(struct ev *e, size_t i, double dflt)
{
	return i < e->nin && e->in[i] && e->in[i]->numel ? ev_getf(e->in[i], 0) : dflt;
}

int ev_k_nms(struct ev *e)
{
	const struct od_tensor *boxes = e->in[0], *scores = e->in[1];
	bool center = ev_attr_i(e, "center_point_box", 0);
	double max_out = opt_scalar(e, 2, 0), iou = opt_scalar(e, 3, 0);
	bool has_thr = e->nin > 4 && e->in[4] && e->in[4]->numel;
	double thr = opt_scalar(e, 4, 0);
	struct od_tensor *t;
	if (boxes->ndims != 3 || boxes->dims[2] != 4 || scores->ndims != 3 ||
	    scores->dims[0] != boxes->dims[0] || scores->dims[2] != boxes->dims[1])
		return ev_bad(e, "boxes must be [B, N, 4] and scores [B, C, N]");
	int64_t nb = boxes->dims[0], nc = scores->dims[1], n = boxes->dims[1], found = 0;
	int64_t cap = max_out > 0 ? (int64_t)fmin(max_out, (double)n) : 0;
	struct cand *c = od_arena_alloc(e->a, (size_t)(n ? n : 1) * sizeof *c);
	int64_t *sel = od_arena_alloc(e->a, (size_t)(nb * nc * cap * 3 + 1) * sizeof *sel);
	if (!c || !sel)
		return ev_err(e, OD_ENOMEM, "out of memory");
	for (int64_t b = 0; b < nb; b++)
		for (int64_t k = 0; k < nc; k++) {
			int64_t m = 0, kept = 0;
			for (int64_t i = 0; i < n; i++) {
				double s = ev_getf(scores, (b * nc + k) * n + i);
				if (!has_thr || s > thr)
					c[m++] = (struct cand){ s, i };
			}
			qsort(c, (size_t)m, sizeof *c, by_score);
			for (int64_t i = 0; i < m && kept < cap; i++) {
				double bi[4], bj[4];
				bool drop = false;
				corners(boxes, (b * n + c[i].box) * 4, center, bi);
				for (int64_t j = found - kept; j < found && !drop; j++) {
					corners(boxes, (b * n + sel[j * 3 + 2]) * 4, center, bj);
					drop = suppresses(bi, bj, iou);
				}
				if (drop)
					continue;
				sel[found * 3] = b;
				sel[found * 3 + 1] = k;
				sel[found * 3 + 2] = c[i].box;
				found++;
				kept++;
			}
		}
	int64_t dims[2] = { found, 3 };
	int rc = ev_new(e, 0, OD_INT64, 2, dims, &t);
	for (int64_t i = 0; !rc && i < found * 3; i++)
		ev_seti(t, i, sel[i]);
	return rc;
}

/* ---- RoiAlign ------------------------------------------------------------------------------- */

/* The four bilinear taps of (y, x) in an h x w plane as onnxruntime computes them: offsets
 * and weights, all zero outside [-1, h] x [-1, w]. */
static void roi_taps(double y, double x, int64_t h, int64_t w, int64_t *pos, double *wt)
{
	for (int k = 0; k < 4; k++) {
		pos[k] = 0;
		wt[k] = 0;
	}
	if (y < -1 || y > (double)h || x < -1 || x > (double)w)
		return;
	y = fmax(y, 0);
	x = fmax(x, 0);
	int64_t y0 = (int64_t)y, x0 = (int64_t)x, y1, x1;
	if (y0 >= h - 1) {
		y0 = y1 = h - 1;
		y = (double)y0;
	} else {
		y1 = y0 + 1;
	}
	if (x0 >= w - 1) {
		x0 = x1 = w - 1;
		x = (double)x0;
	} else {
		x1 = x0 + 1;
	}
	double ly = y - (double)y0, lx = x - (double)x0, hy = 1 - ly, hx = 1 - lx;
	pos[0] = y0 * w + x0;
	pos[1] = y0 * w + x1;
	pos[2] = y1 * w + x0;
	pos[3] = y1 * w + x1;
	wt[0] = hy * hx;
	wt[1] = hy * lx;
	wt[2] = ly * hx;
	wt[3] = ly * lx;
}

struct roi_cfg {
	int64_t oh, ow, ratio;
	double scale, offset;
	bool legacy, max;           /* output_half_pixel; mode max */
};

/* Output bin (ph, pw) of one channel plane, for a roi starting at (y0, x0) of bin size
 * (bh, bw) sampled on a gh x gw grid. */
static double roi_bin(const struct od_tensor *x, int64_t plane, int64_t h, int64_t w,
                      const struct roi_cfg *c, const double *r, int64_t ph, int64_t pw)
{
	double bh = r[2] / (double)c->oh, bw = r[3] / (double)c->ow, acc = 0;
	int64_t gh = c->ratio > 0 ? c->ratio : (int64_t)ceil(r[2] / (double)c->oh);
	int64_t gw = c->ratio > 0 ? c->ratio : (int64_t)ceil(r[3] / (double)c->ow);
	for (int64_t iy = 0; iy < gh; iy++)
		for (int64_t ix = 0; ix < gw; ix++) {
			double y = r[0] + (double)ph * bh + ((double)iy + 0.5) * bh / (double)gh;
			double xx = r[1] + (double)pw * bw + ((double)ix + 0.5) * bw / (double)gw;
			int64_t pos[4];
			double wt[4], v = 0, m = -INFINITY;
			roi_taps(y, xx, h, w, pos, wt);
			for (int k = 0; k < 4; k++) {
				double p = wt[k] * ev_getf(x, plane + pos[k]);
				v += p;
				m = fmax(m, p);
			}
			acc = !c->max ? acc + v : iy || ix ? fmax(acc, m) : m;
		}
	int64_t count = gh * gw > 1 ? gh * gw : 1;
	return c->max ? acc : acc / (double)count;
}

int ev_k_roialign(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *rois = e->in[1], *bi = e->in[2];
	char buf[32];
	struct roi_cfg c = { ev_attr_i(e, "output_height", 1), ev_attr_i(e, "output_width", 1),
	                     ev_attr_i(e, "sampling_ratio", 0), ev_attr_f(e, "spatial_scale", 1),
	                     0, false, false };
	const char *ct = ev_attr_s(e, "coordinate_transformation_mode",
	                           e->opset < 16 ? "output_half_pixel" : "half_pixel", buf, sizeof buf);
	c.legacy = !strcmp(ct, "output_half_pixel");
	if (!c.legacy && strcmp(ct, "half_pixel"))
		return ev_unsup(e, "coordinate_transformation_mode '%s' not supported", ct);
	c.offset = c.legacy ? 0 : 0.5;
	c.max = !strcmp(ev_attr_s(e, "mode", "avg", buf, sizeof buf), "max");
	struct od_tensor *t;
	if (x->ndims != 4 || rois->ndims != 2 || rois->dims[1] != 4 || bi->numel != rois->dims[0])
		return ev_bad(e, "X must be [N, C, H, W], rois [R, 4] and batch_indices [R]");
	if (c.oh <= 0 || c.ow <= 0)
		return ev_bad(e, "output_height and output_width must be positive");
	int64_t nr = rois->dims[0], nc = x->dims[1], h = x->dims[2], w = x->dims[3];
	int64_t dims[4] = { nr, nc, c.oh, c.ow };
	int rc = ev_new(e, 0, x->dtype, 4, dims, &t);
	for (int64_t i = 0; !rc && i < nr; i++) {
		int64_t b = ev_geti(bi, i);
		if (b < 0 || b >= x->dims[0])
			return ev_bad(e, "batch index %lld out of range", (long long)b);
		double r[4];                /* start y, start x, height, width */
		r[1] = ev_getf(rois, i * 4) * c.scale - c.offset;
		r[0] = ev_getf(rois, i * 4 + 1) * c.scale - c.offset;
		r[3] = ev_getf(rois, i * 4 + 2) * c.scale - c.offset - r[1];
		r[2] = ev_getf(rois, i * 4 + 3) * c.scale - c.offset - r[0];
		if (c.legacy) {
			r[2] = fmax(r[2], 1);
			r[3] = fmax(r[3], 1);
		}
		double gy = r[2] / (double)c.oh, gx = r[3] / (double)c.ow;   /* samples per bin */
		if (c.ratio > 65536 || (c.ratio <= 0 && !(fabs(gy) <= 65536 && fabs(gx) <= 65536)))
			return ev_bad(e, "roi %lld needs too large a sampling grid", (long long)i);
		for (int64_t ch = 0; ch < nc; ch++)
			for (int64_t ph = 0; ph < c.oh; ph++)
				for (int64_t pw = 0; pw < c.ow; pw++)
					ev_setf(t, ((i * nc + ch) * c.oh + ph) * c.ow + pw,
					        roi_bin(x, (b * nc + ch) * h * w, h, w, &c, r, ph, pw));
	}
	return rc;
}
