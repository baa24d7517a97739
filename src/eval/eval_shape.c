/*
 * eval_shape.c — kernels that only change the shape a payload is read with: Reshape,
 * Flatten, Squeeze and Unsqueeze (attribute forms before opset 13, input forms after).
 */
#include "config.h"
#include "eval_internal.h"

/* ---- Reshape ------------------------------------------------------------------------- */

/* Resolves 0 (copy the input's dimension unless allowzero) and one -1 (inferred). */
static int reshape_dims(struct ev *e, int64_t *dims, int nd, bool allowzero)
{
	const struct od_tensor *x = e->in[0];
	int infer = -1;
	int64_t known = 1;
	for (int d = 0; d < nd; d++) {
		if (dims[d] == 0 && !allowzero) {
			if (d >= x->ndims)
				return ev_bad(e, "shape entry %d is 0 but the input has rank %d", d, x->ndims);
			dims[d] = x->dims[d];
		} else if (dims[d] == -1) {
			if (infer >= 0)
				return ev_bad(e, "shape has more than one -1");
			infer = d;
			continue;
		} else if (dims[d] < 0) {
			return ev_bad(e, "shape entry %d is negative (%lld)", d, (long long)dims[d]);
		}
		if (__builtin_mul_overflow(known, dims[d], &known))
			return ev_err(e, OD_ELIMIT, "shape too large");
	}
	if (infer >= 0) {
		if (known == 0 || x->numel % known)
			return ev_bad(e, "cannot infer the -1 of a shape for %lld elements",
			              (long long)x->numel);
		dims[infer] = x->numel / known;
	} else if (known != x->numel) {
		return ev_bad(e, "shape holds %lld elements, the input %lld", (long long)known,
		              (long long)x->numel);
	}
	return 0;
}

int ev_k_reshape(struct ev *e)
{
	int64_t dims[OD_MAX_RANK];
	int nd;
	bool allowzero = e->opset >= 14 && ev_attr_i(e, "allowzero", 0);
	int rc = ev_read_ints(e, 1, dims, OD_MAX_RANK, &nd);
	if (!rc && e->in[1]->ndims != 1)
		rc = ev_bad(e, "shape must be of rank 1");
	if (!rc)
		rc = reshape_dims(e, dims, nd, allowzero);
	return rc ? rc : ev_copy_as(e, e->in[0], nd, dims);
}

int ev_k_reshape1(struct ev *e)
{
	int64_t dims[OD_MAX_RANK];
	int nd;
	int rc = ev_attr_ints(e, "shape", dims, OD_MAX_RANK, &nd);
	if (!rc && nd < 0)
		rc = ev_bad(e, "attribute 'shape' missing");
	if (!rc)
		rc = reshape_dims(e, dims, nd, false);
	return rc ? rc : ev_copy_as(e, e->in[0], nd, dims);
}

/* ---- Flatten ----------------------------------------------------------------------- */

int ev_k_flatten(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	int64_t axis = ev_attr_i(e, "axis", 1), dims[2] = { 1, 1 };
	if (axis < -(int64_t)x->ndims || axis > x->ndims)
		return ev_bad(e, "axis %lld out of range for rank %d", (long long)axis, x->ndims);
	if (axis < 0)
		axis += x->ndims;
	for (int d = 0; d < x->ndims; d++)
		dims[d >= axis] *= x->dims[d];
	return ev_copy_as(e, x, 2, dims);
}

/* ---- Squeeze --------------------------------------------------------------------------- */

/* axes NULL: drop every dimension of size 1. */
static int squeeze(struct ev *e, int64_t *axes, int n)
{
	const struct od_tensor *x = e->in[0];
	int64_t dims[OD_MAX_RANK];
	bool mask[OD_MAX_RANK];
	int nd = 0, rc;
	if (axes && (rc = ev_axes(e, axes, n, x->ndims, mask)))
		return rc;
	for (int d = 0; d < x->ndims; d++) {
		bool drop = axes ? mask[d] : x->dims[d] == 1;
		if (drop && x->dims[d] != 1)
			return ev_bad(e, "cannot squeeze axis %d of size %lld", d, (long long)x->dims[d]);
		if (!drop)
			dims[nd++] = x->dims[d];
	}
	return ev_copy_as(e, x, nd, dims);
}

int ev_k_squeeze(struct ev *e)
{
	int64_t axes[OD_MAX_RANK];
	int n;
	if (e->nin < 2 || !e->in[1])
		return squeeze(e, NULL, 0);
	int rc = ev_read_ints(e, 1, axes, OD_MAX_RANK, &n);
	return rc ? rc : squeeze(e, axes, n);
}

int ev_k_squeeze1(struct ev *e)
{
	int64_t axes[OD_MAX_RANK];
	int n;
	int rc = ev_attr_ints(e, "axes", axes, OD_MAX_RANK, &n);
	return rc ? rc : squeeze(e, n < 0 ? NULL : axes, n);
}

/* ---- Unsqueeze ------------------------------------------------------------------------- */

/* Axes count in the output's rank; each one becomes a new dimension of size 1. */
static int unsqueeze(struct ev *e, int64_t *axes, int n)
{
	const struct od_tensor *x = e->in[0];
	int64_t dims[OD_MAX_RANK];
	bool mask[OD_MAX_RANK];
	int rank = x->ndims + n, rc;
	if (rank > OD_MAX_RANK)
		return ev_bad(e, "output rank %d exceeds %d", rank, OD_MAX_RANK);
	if ((rc = ev_axes(e, axes, n, rank, mask)))
		return rc;
	for (int d = 0, j = 0; d < rank; d++)
		dims[d] = mask[d] ? 1 : x->dims[j++];
	return ev_copy_as(e, x, rank, dims);
}

int ev_k_unsqueeze(struct ev *e)
{
	int64_t axes[OD_MAX_RANK];
	int n;
	int rc = ev_read_ints(e, 1, axes, OD_MAX_RANK, &n);
	return rc ? rc : unsqueeze(e, axes, n);
}

int ev_k_unsqueeze1(struct ev *e)
{
	int64_t axes[OD_MAX_RANK];
	int n;
	int rc = ev_attr_ints(e, "axes", axes, OD_MAX_RANK, &n);
	if (!rc && n < 0)
		rc = ev_bad(e, "attribute 'axes' missing");
	return rc ? rc : unsqueeze(e, axes, n);
}
