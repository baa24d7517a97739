/*
 * eval_layout.c — kernels that move elements without computing on them: DepthToSpace,
 * SpaceToDepth, ReverseSequence, OneHot and CenterCropPad (they copy bytes, so every
 * fixed-size dtype works), and EyeLike.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

/* ---- DepthToSpace, SpaceToDepth ------------------------------------------------------- */

/* x [N, C, H, W] with blocksize b; to_space: the [N, C/b², H*b, W*b] result, else the
 * [N, C*b², H/b, W/b] one. crd picks DepthToSpace's CRD channel order. */
static int depth_space(struct ev *e, bool to_space, bool crd)
{
	const struct od_tensor *x = e->in[0];
	int64_t b = ev_attr_i(e, "blocksize", 0), d[4];
	struct od_tensor *t;
	if (x->ndims != 4)
		return ev_bad(e, "input must be of rank 4, not %d", x->ndims);
	if (b <= 0)
		return ev_bad(e, "blocksize must be positive");
	int64_t n = x->dims[0], c = x->dims[1], h = x->dims[2], w = x->dims[3];
	if (b > (to_space ? c : h < w ? h : w) || (to_space ? c % (b * b) : h % b || w % b))
		return ev_bad(e, "shape does not divide by blocksize %lld", (long long)b);
	int64_t cs = to_space ? c / (b * b) : c;         /* channels of the space side */
	int64_t hs = to_space ? h * b : h, ws = to_space ? w * b : w;
	d[0] = n;
	d[1] = to_space ? cs : c * b * b;
	d[2] = to_space ? hs : h / b;
	d[3] = to_space ? ws : w / b;
	int rc = ev_new(e, 0, x->dtype, 4, d, &t);
	/* Walk the space side (n, ch, y, x): its depth-side twin is channel dc at (y/b, x/b). */
	for (int64_t o = 0; !rc && o < n; o++)
		for (int64_t ch = 0; ch < cs; ch++)
			for (int64_t y = 0; y < hs; y++)
				for (int64_t xx = 0; xx < ws; xx++) {
					int64_t i = y % b, j = xx % b;
					int64_t dc = crd ? ch * b * b + i * b + j : (i * b + j) * cs + ch;
					int64_t sp = ((o * cs + ch) * hs + y) * ws + xx;
					int64_t dp = ((o * cs * b * b + dc) * (hs / b) + y / b) * (ws / b) + xx / b;
					if (to_space)
						ev_copy(t, sp, x, dp, 1);
					else
						ev_copy(t, dp, x, sp, 1);
				}
	return rc;
}

int ev_k_depthtospace(struct ev *e)
{
	char buf[8];
	const char *m = ev_attr_s(e, "mode", "DCR", buf, sizeof buf);
	if (strcmp(m, "DCR") && strcmp(m, "CRD"))
		return ev_bad(e, "mode must be DCR or CRD");
	return depth_space(e, true, !strcmp(m, "CRD"));
}

int ev_k_spacetodepth(struct ev *e) { return depth_space(e, false, false); }

/* ---- ReverseSequence ---------------------------------------------------------------------- */

int ev_k_reversesequence(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *lens = e->in[1];
	int64_t ta = ev_attr_i(e, "time_axis", 0), ba = ev_attr_i(e, "batch_axis", 1), st[OD_MAX_RANK];
	struct od_tensor *t;
	if (x->ndims < 2 || (ta != 0 && ta != 1) || ba != 1 - ta)
		return ev_bad(e, "time_axis and batch_axis must be 0 and 1 in some order");
	if (lens->numel != x->dims[ba] || ev_class(lens->dtype) != EV_CS)
		return ev_bad(e, "sequence_lens must hold one integer per batch entry");
	ev_strides(x->ndims, x->dims, st);
	int64_t inner = st[1], nt = x->dims[ta], nb = x->dims[ba];
	int rc = ev_copy_as(e, x, x->ndims, x->dims);
	if (rc)
		return rc;
	t = e->out[0];
	for (int64_t b = 0; b < nb; b++) {
		int64_t len = ev_geti(lens, b);
		if (len < 0 || len > nt)
			return ev_bad(e, "sequence length %lld out of range", (long long)len);
		for (int64_t s = 0; s < len; s++) {
			int64_t to = ta ? b * nt + s : s * nb + b, from = ta ? b * nt + len - 1 - s :
			                                                    (len - 1 - s) * nb + b;
			ev_copy(t, to * inner, x, from * inner, inner);
		}
	}
	return 0;
}

/* ---- OneHot ------------------------------------------------------------------------------- */

int ev_k_onehot(struct ev *e)
{
	const struct od_tensor *ix = e->in[0], *dep = e->in[1], *vals = e->in[2];
	int64_t axis = ev_attr_i(e, "axis", -1), dims[OD_MAX_RANK];
	struct od_tensor *t;
	int nd = ix->ndims + 1;
	if (dep->numel != 1 || vals->numel != 2)
		return ev_bad(e, "depth must be one value and values two");
	double df = ev_getf(dep, 0);
	if (!(df >= 1) || df > (double)OD_MAX_NUMEL)
		return ev_bad(e, "depth must be positive");
	int64_t depth = (int64_t)df;
	int rc = ev_axis(e, &axis, nd);
	if (rc)
		return rc;
	for (int d = 0, s = 0; d < nd; d++)
		dims[d] = d == axis ? depth : ix->dims[s++];
	if ((rc = ev_new(e, 0, vals->dtype, nd, dims, &t)))
		return rc;
	int64_t inner = ev_numel(nd - (int)axis - 1, dims + axis + 1);
	for (int64_t i = 0; i < t->numel; i++)
		ev_copy(t, i, vals, 0, 1);
	for (int64_t i = 0; i < ix->numel; i++) {
		double v = trunc(ev_getf(ix, i));
		if (v < 0)
			v += (double)depth;
		if (!(v >= 0 && v < (double)depth))
			continue;
		int64_t o = i / inner, in = i % inner;
		ev_copy(t, (o * depth + (int64_t)v) * inner + in, vals, 1, 1);
	}
	return 0;
}

/* ---- EyeLike -------------------------------------------------------------------------------- */

int ev_k_eyelike(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	int64_t k = ev_attr_i(e, "k", 0), dt = ev_attr_i(e, "dtype", x->dtype);
	struct od_tensor *t;
	if (x->ndims != 2)
		return ev_bad(e, "input must be of rank 2, not %d", x->ndims);
	if (dt < 0 || dt >= 32 || !(OD_DT(dt) & (EV_NUMB | OD_DT(OD_BFLOAT16))))
		return ev_unsup(e, "dtype %lld not supported", (long long)dt);
	int rc = ev_new(e, 0, (int)dt, 2, x->dims, &t);
	for (int64_t i = 0; !rc && i < x->dims[0]; i++)
		if (i + k >= 0 && i + k < x->dims[1])
			ev_setu(t, i * x->dims[1] + i + k, 1);
	return rc;
}

/* ---- CenterCropPad ---------------------------------------------------------------------------- */

/* Each named axis is cropped or zero-padded to its new size, centred (the odd element goes
 * to the end). */
int ev_k_centercroppad(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	int64_t axes[OD_MAX_RANK], sizes[OD_MAX_RANK], dims[OD_MAX_RANK], shift[OD_MAX_RANK];
	int64_t xst[OD_MAX_RANK];
	bool mask[OD_MAX_RANK];
	struct od_tensor *t;
	int na, ns, rc = ev_attr_ints(e, "axes", axes, OD_MAX_RANK, &na);
	if (rc || (rc = ev_read_ints(e, 1, sizes, OD_MAX_RANK, &ns)))
		return rc;
	if (na < 0)
		for (na = 0; na < x->ndims; na++)
			axes[na] = na;
	if (ns != na)
		return ev_bad(e, "shape must hold one size per axis");
	if ((rc = ev_axes(e, axes, na, x->ndims, mask)))
		return rc;
	memcpy(dims, x->dims, (size_t)x->ndims * sizeof *dims);
	memset(shift, 0, sizeof shift);
	for (int j = 0; j < na; j++) {
		if (sizes[j] < 0)
			return ev_bad(e, "sizes must not be negative");
		int64_t d = axes[j], in = x->dims[d];
		shift[d] = sizes[j] <= in ? (in - sizes[j]) / 2 : -((sizes[j] - in) / 2);
		dims[d] = sizes[j];
	}
	if ((rc = ev_new(e, 0, x->dtype, x->ndims, dims, &t)))
		return rc;
	ev_strides(x->ndims, x->dims, xst);
	for (int64_t i = 0; i < t->numel; i++) {
		int64_t rest = i, off = 0;
		bool in = true;
		for (int d = x->ndims - 1; d >= 0 && in; d--) {
			int64_t c = rest % dims[d] + shift[d];
			rest /= dims[d];
			in = c >= 0 && c < x->dims[d];
			off += c * xst[d];
		}
		if (in)
			ev_copy(t, i, x, off, 1);
	}
	return 0;
}
