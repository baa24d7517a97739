/*
 * eval_rotary.c — RotaryEmbedding (opset 23): rotates the first rotary_embedding_dim entries
 * of each head by the cached cos/sin of its position, in halves or interleaved pairs. X is
 * [B, N, S, D], or [B, S, N*D] with num_heads; the caches are [max_position, R/2] indexed by
 * position_ids [B, S], or [B, S, R/2] without them.
 */
#include "config.h"
#include "eval_internal.h"

struct rope {
	int64_t b, n, s, d, rd;     /* batch, heads, sequence, head size, rotated entries */
	bool packed;                /* X is [B, S, N*D] */
};

/* Offset of entry k of head h at (batch i, position j). */
static int64_t rope_at(const struct rope *r, int64_t i, int64_t h, int64_t j, int64_t k)
{
	return r->packed ? ((i * r->s + j) * r->n + h) * r->d + k
	                 : ((i * r->n + h) * r->s + j) * r->d + k;
}

static int rope_shape(struct ev *e, struct rope *r)
{
	const struct od_tensor *x = e->in[0];
	int64_t heads = ev_attr_i(e, "num_heads", 0);
	r->packed = x->ndims == 3;
	if (x->ndims != 3 && x->ndims != 4)
		return ev_bad(e, "input must be of rank 3 or 4, not %d", x->ndims);
	r->b = x->dims[0];
	if (r->packed) {
		if (heads <= 0 || x->dims[2] % heads)
			return ev_bad(e, "num_heads must divide the hidden size");
		r->s = x->dims[1];
		r->n = heads;
		r->d = x->dims[2] / heads;
	} else {
		r->n = x->dims[1];
		r->s = x->dims[2];
		r->d = x->dims[3];
	}
	r->rd = ev_attr_i(e, "rotary_embedding_dim", 0);
	r->rd = r->rd ? r->rd : r->d;
	if (r->rd < 0 || r->rd > r->d || r->rd % 2)
		return ev_bad(e, "rotary_embedding_dim must be even and at most the head size");
	return 0;
}

/* Row of the caches for (batch i, position j); -1 when out of range. */
static int64_t cache_row(struct ev *e, const struct rope *r, int64_t i, int64_t j)
{
	const struct od_tensor *pos = e->nin > 3 ? e->in[3] : NULL, *c = e->in[1];
	int64_t half = r->rd / 2;
	if (!pos)
		return c->numel == r->b * r->s * half ? i * r->s + j : -1;
	int64_t p = ev_geti(pos, i * r->s + j), rows = half ? c->numel / half : 0;
	return p >= 0 && p < rows && pos->numel == r->b * r->s ? p : -1;
}

int ev_k_rotary(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *cs = e->in[1], *sn = e->in[2];
	bool inter = ev_attr_i(e, "interleaved", 0);
	struct rope r = {0};
	struct od_tensor *t;
	int rc = rope_shape(e, &r);
	if (rc || (rc = ev_copy_as(e, x, x->ndims, x->dims)))
		return rc;
	t = e->out[0];
	int64_t half = r.rd / 2;
	if (cs->numel != sn->numel || (half && cs->dims[cs->ndims - 1] != half))
		return ev_bad(e, "cos and sin caches must end in rotary_embedding_dim / 2");
	for (int64_t i = 0; i < r.b; i++)
		for (int64_t j = 0; j < r.s; j++) {
			int64_t row = cache_row(e, &r, i, j);
			if (row < 0)
				return ev_bad(e, "position of batch %lld, step %lld outside the caches",
				              (long long)i, (long long)j);
			for (int64_t h = 0; h < r.n; h++)
				for (int64_t k = 0; k < half; k++) {
					int64_t a = rope_at(&r, i, h, j, inter ? 2 * k : k);
					int64_t b = rope_at(&r, i, h, j, inter ? 2 * k + 1 : k + half);
					double c = ev_getf(cs, row * half + k), s = ev_getf(sn, row * half + k);
					double x1 = ev_getf(x, a), x2 = ev_getf(x, b);
					ev_setf(t, a, c * x1 - s * x2);
					ev_setf(t, b, s * x1 + c * x2);
				}
		}
	return 0;
}
