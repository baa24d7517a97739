/*
 * diff_change.c — the change list of one matched pair of graphs: inputs and outputs
 * (removed, added, type, position among the paired ones, producer, rename, doc),
 * initializers (removed, added, renamed, changed values or type), the graph's doc string,
 * then its nodes (diff_node.c).
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "diff_impl.h"

/* ---- inputs, outputs, initializers ------------------------------------------------------- */

static const char *value_type(struct dstate *st, const struct od_value *v)
{
	if (diff_ignoring(st, OD_DIFF_IGNORE(SHAPES)) && v->kind == OD_TYPE_TENSOR)
		return od_dtype_name(v->dtype);
	return diff_chk(st, od_value_type_text(st->d->arena, v));
}

static int doc_change(struct dstate *st, const char *path, const char *key, const char *a,
                      const char *b)
{
	if (diff_ignoring(st, OD_DIFF_IGNORE(DOC)) || !strcmp(diff_str0(a), diff_str0(b)))
		return 0;
	return diff_add_text(st, OD_CHANGE_CHANGED, OD_CHANGE_DOC, path, key, a, b);
}

static const char *readers_text(struct dstate *st, const struct dval *v)
{
	char buf[512];
	size_t off = 0;
	buf[0] = 0;
	if (v)
		off = diff_readers(buf, off, sizeof buf, st, v, "read by ");
	if (off >= sizeof buf)
		off = sizeof buf - 1;
	return off ? diff_chk(st, od_arena_strdup(st->d->arena, buf)) : NULL;
}

static struct od_change *pair_change(struct dstate *st, struct dpair *p, int kind, int what,
                                     const struct od_value *x, const struct od_value *y,
                                     const char *key, const char *old, const char *new)
{
	struct od_change *c = diff_add(st, kind, what, p->path);
	if (c) {
		c->a_name = x->name;
		c->b_name = y->name;
		c->a_value = x;
		c->b_value = y;
		c->key = key;
		c->old_text = old;
		c->new_text = new;
	}
	return c;
}

/* Rank of each paired value among the paired ones, in its own graph's order. */
static uint32_t *pair_ranks(struct dstate *st, const uint32_t *pairs, size_t n)
{
	uint32_t *r = od_arena_alloc(st->tmp, (n + 1) * sizeof *r), k = 0;
	if (r)
		for (size_t i = 0; i < n; i++)
			r[i] = pairs[i] == NONE32 ? NONE32 : k++;
	return r;
}

/* Inputs or outputs: removed, added, and per pair a changed type, a moved position (among
 * the paired ones, so a removal does not move the rest), a new producer (outputs), a
 * rename, a doc string. */
static int value_changes(struct dstate *st, struct dpair *p, int what,
                         struct od_value *const *va, const uint32_t *ia, size_t na,
                         struct od_value *const *vb, const uint32_t *ib, size_t nb,
                         const uint32_t *pa, const uint32_t *pb, bool outputs)
{
	struct od_arena *ar = st->d->arena;
	uint32_t *ra = pair_ranks(st, pa, na), *rb = pair_ranks(st, pb, nb);
	if (!ra || !rb)
		return OD_ENOMEM;
	for (size_t i = 0; i < na; i++) {
		const struct od_value *x = va[ia ? ia[i] : i];
		const char *tx = diff_str0(value_type(st, x));
		struct od_change *c;
		if (pa[i] == NONE32) {
			if (!(c = diff_add(st, OD_CHANGE_REMOVED, what, p->path)))
				return OD_ENOMEM;
			c->a_name = x->name;
			c->a_value = x;
			c->old_text = tx;
			if (!outputs)
				c->context = readers_text(st, diff_name_get(p->a, x->name));
			continue;
		}
		const struct od_value *y = vb[ib ? ib[pa[i]] : pa[i]];
		const char *ty = diff_str0(value_type(st, y));
		const struct dval *xa = outputs ? p->a->gouts[i] : NULL;
		const struct dval *yb = outputs ? p->b->gouts[pa[i]] : NULL;
		bool retyped = strcmp(tx, ty) != 0, moved = ra[i] != rb[pa[i]];
		bool rewired = outputs && !diff_equiv(st, p, xa, yb) && !diff_explained(xa, yb);
		if (retyped && !pair_change(st, p, OD_CHANGE_CHANGED, what, x, y, NULL, tx, ty))
			return OD_ENOMEM;
		if (moved && !pair_change(st, p, OD_CHANGE_CHANGED, what, x, y, "position",
		                          diff_chk(st, od_arena_printf(ar, "%zu", i)),
		                          diff_chk(st, od_arena_printf(ar, "%u", pa[i]))))
			return OD_ENOMEM;
		if (rewired && !pair_change(st, p, OD_CHANGE_CHANGED, what, x, y, "producer",
		                            diff_chk(st, diff_val_text(ar, xa)),
		                            diff_chk(st, diff_val_text(ar, yb))))
			return OD_ENOMEM;
		if (!retyped && !moved && !rewired && diff_names_differ(st, x->name, y->name) &&
		    !pair_change(st, p, OD_CHANGE_RENAMED, what, x, y, NULL, tx, tx))
			return OD_ENOMEM;
		if (strcmp(diff_str0(x->doc_string), diff_str0(y->doc_string)) &&
		    doc_change(st, p->path, diff_chk(st, od_arena_printf(ar, "%s '%s'",
		               od_change_what_name(what), y->name)), x->doc_string, y->doc_string))
			return OD_ENOMEM;
	}
	for (size_t j = 0; j < nb; j++) {
		if (pb[j] != NONE32)
			continue;
		const struct od_value *y = vb[ib ? ib[j] : j];
		struct od_change *c = diff_add(st, OD_CHANGE_ADDED, what, p->path);
		if (!c)
			return OD_ENOMEM;
		c->b_name = y->name;
		c->b_value = y;
		c->new_text = value_type(st, y);
		if (!outputs)
			c->context = readers_text(st, diff_name_get(p->b, y->name));
	}
	return 0;
}

static int init_changes(struct dstate *st, struct dpair *p)
{
	const struct od_graph *ga = p->a->g, *gb = p->b->g;
	struct od_arena *ar = st->d->arena;
	for (size_t i = 0; i < ga->n_inits; i++) {
		struct od_tensor *x = ga->inits[i];
		struct od_change *c;
		uint32_t j = p->init_pair_a[i];
		if (j == NONE32) {
			if (!(c = diff_add(st, OD_CHANGE_REMOVED, OD_CHANGE_INITIALIZER, p->path)))
				return OD_ENOMEM;
			c->a_name = x->name;
			c->a_tensor = x;
			c->old_text = diff_chk(st, od_tensor_type_text(ar, x));
			c->context = readers_text(st, diff_name_get(p->a, x->name));
			continue;
		}
		struct od_tensor *y = gb->inits[j];
		struct od_tensor_delta delta;
		bool same = diff_tensors_same(st, x, y, &delta);
		const char *renamed = diff_names_differ(st, x->name, y->name);
		if (same && !renamed)
			continue;
		if (!(c = diff_add(st, same ? OD_CHANGE_RENAMED : OD_CHANGE_CHANGED,
		                   OD_CHANGE_INITIALIZER, p->path)))
			return OD_ENOMEM;
		c->a_name = x->name;
		c->b_name = y->name;
		c->a_tensor = x;
		c->b_tensor = y;
		c->old_text = diff_chk(st, od_tensor_type_text(ar, x));
		c->new_text = diff_same_type_and_shape(x, y) ? c->old_text
		              : diff_chk(st, od_tensor_type_text(ar, y));
		c->delta = delta;
	}
	for (size_t j = 0; j < gb->n_inits; j++) {
		if (p->init_pair_b[j] != NONE32)
			continue;
		struct od_change *c = diff_add(st, OD_CHANGE_ADDED, OD_CHANGE_INITIALIZER, p->path);
		if (!c)
			return OD_ENOMEM;
		c->b_name = gb->inits[j]->name;
		c->b_tensor = gb->inits[j];
		c->new_text = diff_chk(st, od_tensor_type_text(ar, gb->inits[j]));
		c->context = readers_text(st, diff_name_get(p->b, gb->inits[j]->name));
	}
	return 0;
}

int diff_pair_changes(struct dstate *st, struct dpair *p, struct dpair ***queue,
                      size_t *n_queue, size_t *cap_queue)
{
	struct dside *a = p->a, *b = p->b;
	int rc = value_changes(st, p, OD_CHANGE_INPUT, a->g->inputs, a->real_in, a->n_real_in,
	                       b->g->inputs, b->real_in, b->n_real_in, p->in_pair_a,
	                       p->in_pair_b, false);
	if (!rc)
		rc = value_changes(st, p, OD_CHANGE_OUTPUT, a->g->outputs, NULL, a->g->n_outputs,
		                   b->g->outputs, NULL, b->g->n_outputs, p->out_pair_a,
		                   p->out_pair_b, true);
	if (!rc)
		rc = init_changes(st, p);
	if (!rc)
		rc = doc_change(st, p->path, "graph", a->g->doc_string, b->g->doc_string);
	if (!rc)
		rc = diff_node_changes(st, p, queue, n_queue, cap_queue);
	return rc;
}
