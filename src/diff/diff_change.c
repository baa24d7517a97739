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

static const char *str0(const char *s)
{
	return s ? s : "";
}

static bool ignoring(const struct dstate *st, unsigned bit)
{
	return (st->opts.ignore & bit) != 0;
}

struct od_change *diff_add(struct dstate *st, int kind, int what, const char *path)
{
	struct od_diff *d = st->d;
	struct od_change *c;
	if (d->n_changes == st->cap_changes) {
		size_t cap = st->cap_changes ? 2 * st->cap_changes : 64;
		if (!(c = od_realloc(d->changes, cap * sizeof *c)))
			return NULL;
		d->changes = c;
		st->cap_changes = cap;
	}
	c = &d->changes[d->n_changes++];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->what = what;
	c->path = path;
	c->port = -1;
	c->parent = -1;
	return c;
}

/* ---- inputs, outputs, initializers ------------------------------------------------------- */

static const char *names_differ(const struct dstate *st, const char *a, const char *b)
{
	if (ignoring(st, OD_DIFF_IGNORE(NAMES)) || !strcmp(str0(a), str0(b)))
		return NULL;
	return b;
}

static const char *value_type(struct dstate *st, const struct od_value *v)
{
	if (ignoring(st, OD_DIFF_IGNORE(SHAPES)) && v->kind == OD_TYPE_TENSOR)
		return od_dtype_name(v->dtype);
	return diff_chk(st, diff_value_type(st->d->arena, v));
}

static int doc_change(struct dstate *st, const char *path, const char *key, const char *a,
                      const char *b)
{
	if (ignoring(st, OD_DIFF_IGNORE(DOC)) || !strcmp(str0(a), str0(b)))
		return 0;
	struct od_change *c = diff_add(st, OD_CHANGE_CHANGED, OD_CHANGE_DOC, path);
	if (!c)
		return OD_ENOMEM;
	c->key = key;
	c->old_text = a && *a ? a : NULL;
	c->new_text = b && *b ? b : NULL;
	return 0;
}

#define PUT(...) do { if (off < bufsize) off += (size_t)snprintf(buf + off, bufsize - off, __VA_ARGS__); } while (0)

/* "Mul '/Mul' input 1, output 'y'": up to three readers of v. */
size_t diff_readers(char *buf, size_t off, size_t bufsize, struct dstate *st,
                      const struct dval *v, const char *lead)
{
	const struct dside *s = v->side;
	size_t n = 0;
	for (uint32_t c = v->cons; c < v->cons + v->n_cons; c++, n++) {
		const struct dedge *e = &s->cons[c];
		if (n == 3) {
			PUT(", ...");
			return off;
		}
		PUT("%s%s", n ? ", " : lead, str0(diff_chk(st, diff_node_label(st->tmp, s->g, e->node))));
		if (e->port != IMPLICIT && s->in_start[e->node + 1] - s->in_start[e->node] > 1)
			PUT(" input %u", e->port);
	}
	for (size_t q = 0; v->n_graph_out && q < s->g->n_outputs; q++)
		if (s->gouts[q] == v)
			PUT("%soutput '%s'", n++ ? ", " : lead, v->name);
	return off;
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
#undef PUT

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
		const char *tx = str0(value_type(st, x));
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
		const char *ty = str0(value_type(st, y));
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
		if (!retyped && !moved && !rewired && names_differ(st, x->name, y->name) &&
		    !pair_change(st, p, OD_CHANGE_RENAMED, what, x, y, NULL, tx, tx))
			return OD_ENOMEM;
		if (strcmp(str0(x->doc_string), str0(y->doc_string)) &&
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

static bool same_type_and_shape(const struct od_tensor *x, const struct od_tensor *y)
{
	return x->dtype == y->dtype && x->ndims == y->ndims &&
	       (!x->ndims || !memcmp(x->dims, y->dims, (size_t)x->ndims * sizeof *x->dims));
}

/* Compares two tensors; true when they count as equal. */
bool diff_tensors_same(struct dstate *st, struct od_tensor *x, struct od_tensor *y,
                         struct od_tensor_delta *delta)
{
	memset(delta, 0, sizeof *delta);
	delta->first_diff = -1;
	if (!same_type_and_shape(x, y))
		return false;
	if (ignoring(st, OD_DIFF_IGNORE(WEIGHTS)))
		return true;
	if (od_tensor_hash(x) == od_tensor_hash(y) && od_tensor_equal(x, y))
		return true;
	diff_tensor_delta(x, y, st->opts.atol, st->opts.rtol, delta);
	return delta->compared && delta->n_diff == 0;
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
			c->old_text = diff_chk(st, diff_tensor_type(ar, x));
			c->context = readers_text(st, diff_name_get(p->a, x->name));
			continue;
		}
		struct od_tensor *y = gb->inits[j];
		struct od_tensor_delta delta;
		bool same = diff_tensors_same(st, x, y, &delta);
		const char *renamed = names_differ(st, x->name, y->name);
		if (same && !renamed)
			continue;
		if (!(c = diff_add(st, same ? OD_CHANGE_RENAMED : OD_CHANGE_CHANGED,
		                   OD_CHANGE_INITIALIZER, p->path)))
			return OD_ENOMEM;
		c->a_name = x->name;
		c->b_name = y->name;
		c->a_tensor = x;
		c->b_tensor = y;
		c->old_text = diff_chk(st, diff_tensor_type(ar, x));
		c->new_text = same_type_and_shape(x, y) ? c->old_text
		              : diff_chk(st, diff_tensor_type(ar, y));
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
		c->new_text = diff_chk(st, diff_tensor_type(ar, gb->inits[j]));
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
