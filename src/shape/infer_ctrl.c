/*
 * infer_ctrl.c — control flow and containers: If (the branches' shapes merged, or the
 * chosen branch's when the condition is known), Loop and Scan (bodies inferred with the
 * shapes the node passes in), sequences and optionals.
 */
#include "config.h"
#include <string.h>
#include "infer.h"

#define MAXR OD_MAX_RANK

/* What a and b have in common: equal dims stay, others become unknown. */
static int merge_into(struct sh_call *c, size_t o, const struct od_shape *a, const struct od_shape *b)
{
	if (!a || !b) {
		const struct od_shape *x = a ? a : b;
		if (!x)
			return 0;
		int rc = sh_same(c, o, x, x->dtype);
		if (!rc && o < c->nout)
			c->out[o].kind = x->kind;
		return rc;
	}
	int dt = a->dtype == b->dtype ? a->dtype : a->dtype && b->dtype ? OD_UNDEFINED : a->dtype | b->dtype;
	struct od_dim d[MAXR];
	int r = a->rank == b->rank ? a->rank : -1;
	for (int i = 0; i < r; i++)
		d[i] = sh_dim_eq(a->dims[i], b->dims[i]) ? a->dims[i] : SH_UNK;
	int rc = sh_set(c, o, dt, r, d);
	if (!rc && o < c->nout)
		c->out[o].kind = a->kind ? a->kind : b->kind;
	return rc;
}

int sh_op_if(struct sh_call *c)
{
	const struct od_attr *t = od_node_attr(c->n, "then_branch"), *e = od_node_attr(c->n, "else_branch");
	const struct od_shape **to = NULL, **eo = NULL;
	if (!t || !e || t->type != OD_ATTR_GRAPH || e->type != OD_ATTR_GRAPH || !t->g || !e->g)
		return 0;
	int rc = sh_infer_subgraph(c, t->g, "then_branch", NULL, 0, &to);
	if (!rc)
		rc = sh_infer_subgraph(c, e->g, "else_branch", NULL, 0, &eo);
	const struct od_shape *cond = sh_in(c, 0);
	int pick = cond && cond->n_value == 1 && sh_vknown(cond->value[0]) ? cond->value[0].value != 0 : -1;
	for (size_t o = 0; !rc && o < c->nout; o++) {
		const struct od_shape *a = o < t->g->n_outputs ? to[o] : NULL;
		const struct od_shape *b = o < e->g->n_outputs ? eo[o] : NULL;
		if (o >= t->g->n_outputs || o >= e->g->n_outputs)
			sh_warn(c, "the branches have %zu and %zu outputs for %zu", t->g->n_outputs,
			        e->g->n_outputs, c->nout);
		rc = pick == 1 ? merge_into(c, o, a, a) : pick == 0 ? merge_into(c, o, b, b) : merge_into(c, o, a, b);
		const struct od_shape *chosen = pick == 1 ? a : pick == 0 ? b : NULL;
		if (!rc && chosen && chosen->n_value >= 0)
			rc = sh_value(c, o, (size_t)chosen->n_value, chosen->value);
	}
	return rc;
}

int sh_op_loop(struct sh_call *c)
{
	const struct od_attr *body = od_node_attr(c->n, "body");
	if (!body || body->type != OD_ATTR_GRAPH || !body->g)
		return 0;
	size_t nb = body->g->n_inputs;
	const struct od_shape **hints = od_malloc((nb + 1) * sizeof *hints), **bo = NULL;
	struct od_shape iter = {.kind = OD_TYPE_TENSOR, .dtype = OD_INT64, .rank = 0, .n_value = -1};
	struct od_shape cond = {.kind = OD_TYPE_TENSOR, .dtype = OD_BOOL, .rank = 0, .n_value = -1};
	if (!hints)
		return OD_ENOMEM;
	for (size_t i = 0; i < nb; i++)
		hints[i] = i == 0 ? &iter : i == 1 ? &cond : sh_in(c, i);
	int rc = sh_infer_subgraph(c, body->g, "body", hints, nb, &bo);
	od_free(hints);
	size_t carried = c->nin > 2 ? c->nin - 2 : 0;
	for (size_t o = 0; !rc && o < c->nout; o++) {
		const struct od_shape *b = o + 1 < body->g->n_outputs ? bo[o + 1] : NULL;
		if (o < carried) {
			rc = merge_into(c, o, sh_in(c, o + 2), b);
			continue;
		}
		/* a scan output: the per-iteration values stacked on a new first axis */
		struct od_dim d[MAXR + 1];
		int r = b && b->rank >= 0 && b->rank < MAXR ? b->rank + 1 : -1;
		d[0] = SH_UNK;
		for (int i = 1; i < r; i++)
			d[i] = b->dims[i - 1];
		rc = sh_set(c, o, b ? b->dtype : 0, r, d);
	}
	return rc;
}

int sh_op_scan(struct sh_call *c)
{
	const struct od_attr *body = od_node_attr(c->n, "body");
	int64_t m = sh_attr_i(c, "num_scan_inputs", 0);
	if (!body || body->type != OD_ATTR_GRAPH || !body->g || c->opset < 9 || m < 0 || (size_t)m > c->nin)
		return 0;
	size_t ns = c->nin - (size_t)m, nb = body->g->n_inputs, na, no;
	const int64_t *in_axes = sh_attr_ints(c, "scan_input_axes", &na);
	const int64_t *out_axes = sh_attr_ints(c, "scan_output_axes", &no);
	const struct od_shape **hints = od_calloc(nb + 1, sizeof *hints), **bo = NULL;
	struct od_shape *slices = od_calloc((size_t)m + 1, sizeof *slices);
	struct od_dim len = SH_UNK;
	int rc = hints && slices ? 0 : OD_ENOMEM;
	for (size_t i = 0; !rc && i < nb && i < c->nin; i++) {
		if (i < ns) {
			hints[i] = sh_in(c, i);
			continue;
		}
		const struct od_shape *x = sh_in(c, i);
		struct od_shape *s = &slices[i - ns];
		int64_t axis = in_axes && i - ns < na ? in_axes[i - ns] : 0;
		if (!x || x->rank < 1 || !sh_axis(c, &axis, x->rank))
			continue;
		*s = (struct od_shape){.kind = OD_TYPE_TENSOR, .dtype = x->dtype, .rank = x->rank - 1,
		                       .n_value = -1};
		s->dims = od_arena_alloc(c->s->a, (size_t)x->rank * sizeof *s->dims);
		if (!s->dims) {
			rc = OD_ENOMEM;
			break;
		}
		for (int d = 0, k = 0; d < x->rank; d++)
			if (d != axis)
				s->dims[k++] = x->dims[d];
		if (!sh_known(len))
			len = x->dims[axis];
		hints[i] = s;
	}
	if (!rc)
		rc = sh_infer_subgraph(c, body->g, "body", hints, nb, &bo);
	for (size_t o = 0; !rc && o < c->nout; o++) {
		const struct od_shape *b = o < body->g->n_outputs ? bo[o] : NULL;
		if (o < ns) {
			rc = merge_into(c, o, sh_in(c, o), b);
			continue;
		}
		int r = b && b->rank >= 0 && b->rank < MAXR ? b->rank + 1 : -1;
		int64_t axis = out_axes && o - ns < no ? out_axes[o - ns] : 0;
		struct od_dim d[MAXR + 1];
		if (r < 0 || !sh_axis(c, &axis, r)) {
			rc = sh_set(c, o, b ? b->dtype : 0, r, NULL);
			continue;
		}
		for (int i = 0, k = 0; i < r; i++)
			d[i] = i == axis ? len : b->dims[k++];
		rc = sh_set(c, o, b->dtype, r, d);
	}
	od_free(hints);
	od_free(slices);
	return rc;
}

/* ---- sequences and optionals ---------------------------------------------------------------------- */

static int as_kind(struct sh_call *c, size_t o, int kind, int rc)
{
	if (!rc && o < c->nout)
		c->out[o].kind = kind;
	return rc;
}

int sh_op_seq_construct(struct sh_call *c)
{
	const struct od_shape *m = sh_in(c, 0);
	int rc = merge_into(c, 0, m, m);
	for (size_t i = 1; !rc && i < c->nin && c->nout; i++) {
		struct od_shape acc = c->out[0];
		rc = merge_into(c, 0, &acc, sh_in(c, i));
	}
	return as_kind(c, 0, OD_TYPE_SEQUENCE, rc);
}

int sh_op_seq_empty(struct sh_call *c)
{
	return as_kind(c, 0, OD_TYPE_SEQUENCE, sh_set(c, 0, (int)sh_attr_i(c, "dtype", OD_FLOAT), -1, NULL));
}

int sh_op_seq_insert(struct sh_call *c)
{
	return as_kind(c, 0, OD_TYPE_SEQUENCE, merge_into(c, 0, sh_in(c, 0), sh_in(c, 1)));
}

int sh_op_seq_at(struct sh_call *c)
{
	const struct od_shape *s = sh_in(c, 0);
	return as_kind(c, 0, OD_TYPE_TENSOR, merge_into(c, 0, s, s));
}

int sh_op_seq_length(struct sh_call *c)
{
	return sh_set(c, 0, OD_INT64, 0, NULL);
}

int sh_op_split_to_seq(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0);
	bool keep = sh_attr_i(c, "keepdims", 1) != 0;
	const struct od_shape *split = sh_in(c, 1);
	bool scalar_split = split && split->rank == 0;
	int er = r < 0 ? -1 : !split && !keep ? r - 1 : r;
	(void)scalar_split;
	return as_kind(c, 0, OD_TYPE_SEQUENCE, sh_set(c, 0, x ? x->dtype : 0, er, NULL));
}

int sh_op_concat_from_seq(struct sh_call *c)
{
	const struct od_shape *s = sh_in(c, 0);
	int r = s ? s->rank : -1;
	bool new_axis = sh_attr_i(c, "new_axis", 0) != 0;
	return sh_set(c, 0, s ? s->dtype : 0, r < 0 ? -1 : new_axis ? r + 1 : r, NULL);
}

int sh_op_optional(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	const struct od_attr *t = od_node_attr(c->n, "type");
	int rc = x ? merge_into(c, 0, x, x) : 0;
	(void)t;
	return as_kind(c, 0, OD_TYPE_OPTIONAL, rc);
}

int sh_op_optional_get(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int kind = x && x->kind == OD_TYPE_OPTIONAL ? OD_TYPE_TENSOR : x ? x->kind : OD_TYPE_TENSOR;
	return as_kind(c, 0, kind, x ? merge_into(c, 0, x, x) : 0);
}

int sh_op_optional_has(struct sh_call *c)
{
	return sh_set(c, 0, OD_BOOL, 0, NULL);
}
