/*
 * eval_boxes.c — detection post-processing: NonMaxSuppression (corner or center boxes, IoU
 * and score thresholds, a cap per class), with onnxruntime's overlap rule.
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
