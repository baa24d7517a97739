/*
 * diff_change.c — turns one matched pair of graphs into changes: interface pairing
 * (inputs and outputs by name, then position and type), initializer pairing (same name
 * and content, through matched nodes' ports, by content, by name), then inputs, outputs,
 * initializers and nodes (attributes with defaults explicit, ports, output counts) in a
 * merged topological order. Subgraphs of matched nodes become new pairs on the queue.
 */
#include "config.h"
#include <string.h>
#include "diff_impl.h"

#define H_IN_A UINT64_C(0x696e2d612d2d2d2d)
#define H_IN_B UINT64_C(0x696e2d622d2d2d2d)
#define H_OUT_A UINT64_C(0x6f75742d612d2d2d)
#define H_OUT_B UINT64_C(0x6f75742d622d2d2d)

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

/* ---- interface pairing ------------------------------------------------------------------ */

static bool same_type(const struct od_value *a, const struct od_value *b)
{
	return a->kind == b->kind && a->dtype == b->dtype && a->rank == b->rank;
}

/* Pairs values: equal names, then in order with equal type, then a last one each. */
static void pair_values(struct od_value *const *va, const uint32_t *ia, size_t na,
                        struct od_value *const *vb, const uint32_t *ib, size_t nb,
                        bool by_name, uint32_t *pa, uint32_t *pb)
{
	size_t left_a = 0, left_b = 0, la = 0, lb = 0;
#define A(i) va[ia ? ia[i] : i]
#define B(j) vb[ib ? ib[j] : j]
	for (size_t i = 0; i < na; i++)
		pa[i] = NONE32;
	for (size_t j = 0; j < nb; j++)
		pb[j] = NONE32;
	if (!by_name) {
		for (size_t i = 0; i < na && i < nb; i++)
			pa[i] = pb[i] = (uint32_t)i;
		return;
	}
	for (size_t i = 0; i < na; i++)
		for (size_t j = 0; j < nb; j++)
			if (pb[j] == NONE32 && !strcmp(A(i)->name, B(j)->name)) {
				pa[i] = (uint32_t)j;
				pb[j] = (uint32_t)i;
				break;
			}
	for (size_t i = 0, j = 0; i < na; i++) {
		if (pa[i] != NONE32)
			continue;
		for (size_t t = j; t < nb; t++)
			if (pb[t] == NONE32 && same_type(A(i), B(t))) {
				pa[i] = (uint32_t)t;
				pb[t] = (uint32_t)i;
				j = t + 1;
				break;
			}
	}
	for (size_t i = 0; i < na; i++)
		if (pa[i] == NONE32)
			left_a++, la = i;
	for (size_t j = 0; j < nb; j++)
		if (pb[j] == NONE32)
			left_b++, lb = j;
	if (left_a == 1 && left_b == 1) {
		pa[la] = (uint32_t)lb;
		pb[lb] = (uint32_t)la;
	}
#undef A
#undef B
}

static void set_classes(uint64_t *cls_a, const uint32_t *pa, size_t na, uint64_t *cls_b,
                        size_t nb, uint64_t tag, uint64_t tag_a, uint64_t tag_b)
{
	for (size_t j = 0; j < nb; j++)
		cls_b[j] = dh_comb(tag_b, j);
	for (size_t i = 0; i < na; i++) {
		if (pa[i] == NONE32) {
			cls_a[i] = dh_comb(tag_a, i);
		} else {
			cls_a[i] = dh_comb(tag, i);
			cls_b[pa[i]] = cls_a[i];
		}
	}
}

int diff_pair_interface(struct dstate *st, struct dpair *p, bool by_name)
{
	struct dside *a = p->a, *b = p->b;
	size_t na = a->n_real_in, nb = b->n_real_in;
	size_t oa = a->g->n_outputs, ob = b->g->n_outputs;
	p->in_pair_a = od_arena_alloc(st->tmp, (na + 1) * sizeof(uint32_t));
	p->in_pair_b = od_arena_alloc(st->tmp, (nb + 1) * sizeof(uint32_t));
	p->out_pair_a = od_arena_alloc(st->tmp, (oa + 1) * sizeof(uint32_t));
	p->out_pair_b = od_arena_alloc(st->tmp, (ob + 1) * sizeof(uint32_t));
	if (!p->in_pair_a || !p->in_pair_b || !p->out_pair_a || !p->out_pair_b)
		return OD_ENOMEM;
	pair_values(a->g->inputs, a->real_in, na, b->g->inputs, b->real_in, nb, by_name,
	            p->in_pair_a, p->in_pair_b);
	pair_values(a->g->outputs, NULL, oa, b->g->outputs, NULL, ob, by_name, p->out_pair_a,
	            p->out_pair_b);
	if (by_name) {          /* classes for the signatures of the main graph */
		set_classes(a->in_class, p->in_pair_a, na, b->in_class, nb, UINT64_C(0x696e),
		            H_IN_A, H_IN_B);
		set_classes(a->out_class, p->out_pair_a, oa, b->out_class, ob, UINT64_C(0x6f7574),
		            H_OUT_A, H_OUT_B);
	}
	return 0;
}

/* ---- initializer pairing ----------------------------------------------------------------- */

static void pair_init(struct dpair *p, uint32_t i, uint32_t j)
{
	p->init_pair_a[i] = j;
	p->init_pair_b[j] = i;
}

static bool init_free(const struct dpair *p, const struct dval *va, const struct dval *vb)
{
	return va && vb && va->side == p->a && vb->side == p->b && va->kind == V_INIT &&
	       vb->kind == V_INIT && p->init_pair_a[va->idx] == NONE32 &&
	       p->init_pair_b[vb->idx] == NONE32;
}

/* Same name and content; then what matched nodes read at the same port; then equal
 * content in order; then equal names. */
int diff_pair_inits(struct dstate *st, struct dpair *p)
{
	const struct od_graph *ga = p->a->g, *gb = p->b->g;
	struct dmap by_hash;
	uint32_t *next;
	p->init_pair_a = od_arena_alloc(st->tmp, (ga->n_inits + 1) * sizeof(uint32_t));
	p->init_pair_b = od_arena_alloc(st->tmp, (gb->n_inits + 1) * sizeof(uint32_t));
	next = od_arena_alloc(st->tmp, (gb->n_inits + 1) * sizeof(uint32_t));
	if (!p->init_pair_a || !p->init_pair_b || !next ||
	    diff_map_init(&by_hash, st->tmp, gb->n_inits))
		return OD_ENOMEM;
	memset(p->init_pair_a, 0xff, ga->n_inits * sizeof(uint32_t));
	memset(p->init_pair_b, 0xff, gb->n_inits * sizeof(uint32_t));
	bool content = !ignoring(st, OD_DIFF_IGNORE(WEIGHTS));
	for (size_t i = 0; i < ga->n_inits; i++) {
		struct dval *v = diff_name_get(p->b, ga->inits[i]->name);
		if (v && v->kind == V_INIT && p->init_pair_b[v->idx] == NONE32 &&
		    (!content || od_tensor_hash(ga->inits[i]) == od_tensor_hash(gb->inits[v->idx])))
			pair_init(p, (uint32_t)i, v->idx);
	}
	for (uint32_t ka = 0; ka < ga->n_nodes; ka++) {
		uint32_t kb = p->a->match[ka];
		if (kb == NONE32)
			continue;
		uint32_t sa = p->a->in_start[ka], sb = p->b->in_start[kb];
		for (uint32_t i = 0; i < p->a->in_start[ka + 1] - sa && i < p->b->in_start[kb + 1] - sb; i++)
			if (init_free(p, p->a->ins[sa + i], p->b->ins[sb + i]))
				pair_init(p, p->a->ins[sa + i]->idx, p->b->ins[sb + i]->idx);
	}
	/* Equal content in order: chains of B initializers per hash, kept in file order. */
	for (size_t j = gb->n_inits; j-- > 0;) {
		if (p->init_pair_b[j] != NONE32)
			continue;
		uint32_t *slot = diff_map_slot(&by_hash, od_tensor_hash(gb->inits[j]));
		if (!slot)
			return OD_ENOMEM;
		next[j] = *slot;
		*slot = (uint32_t)j;
	}
	for (size_t i = 0; i < ga->n_inits && content; i++) {
		if (p->init_pair_a[i] != NONE32 || diff_map_get(&by_hash, od_tensor_hash(ga->inits[i])) == NONE32)
			continue;
		uint32_t *slot = diff_map_slot(&by_hash, od_tensor_hash(ga->inits[i]));
		while (*slot != NONE32 && p->init_pair_b[*slot] != NONE32)
			*slot = next[*slot];
		if (*slot != NONE32 && od_tensor_equal(ga->inits[i], gb->inits[*slot]))
			pair_init(p, (uint32_t)i, *slot);
	}
	for (size_t i = 0; i < ga->n_inits; i++) {
		struct dval *v;
		if (p->init_pair_a[i] == NONE32 && (v = diff_name_get(p->b, ga->inits[i]->name)) &&
		    v->kind == V_INIT && p->init_pair_b[v->idx] == NONE32)
			pair_init(p, (uint32_t)i, v->idx);
	}
	return 0;
}

/* ---- equivalence of what a port reads ------------------------------------------------------ */

static struct od_tensor *const_of(const struct dval *v)
{
	if (v->kind == V_INIT)
		return v->side->g->inits[v->idx];
	return v->kind == V_NODE ? v->side->cst[v->idx] : NULL;
}

static bool equiv(const struct dstate *st, const struct dpair *p, const struct dval *va,
                  const struct dval *vb)
{
	if (!va || !vb)
		return va == vb;
	while (p && p->a != va->side)
		p = p->parent;
	if (!p || p->b != vb->side)
		return false;
	struct od_tensor *ta = const_of(va), *tb = const_of(vb);
	if (ta && tb) {
		if (va->kind == V_INIT && vb->kind == V_INIT && p->init_pair_a[va->idx] == vb->idx)
			return true;
		if (va->kind == V_NODE && vb->kind == V_NODE && p->a->match[va->idx] == vb->idx)
			return true;
		if (ignoring(st, OD_DIFF_IGNORE(WEIGHTS)))
			return ta->dtype == tb->dtype && ta->ndims == tb->ndims;
		return od_tensor_hash(ta) == od_tensor_hash(tb) && od_tensor_equal(ta, tb);
	}
	if (va->kind != vb->kind)
		return false;
	switch (va->kind) {
	case V_INPUT:
		return p->in_pair_a[p->a->real_pos[va->idx]] == p->b->real_pos[vb->idx];
	case V_INIT:
		return p->init_pair_a[va->idx] == vb->idx;
	case V_NODE:
		return p->a->match[va->idx] == vb->idx && va->port == vb->port;
	default:
		return !strcmp(va->name, vb->name);
	}
}

/* A port reading an added or removed node is told by that node's own line. */
static bool explained(const struct dval *va, const struct dval *vb)
{
	return (va && va->kind == V_NODE && va->side->match[va->idx] == NONE32) ||
	       (vb && vb->kind == V_NODE && vb->side->match[vb->idx] == NONE32);
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
static size_t readers(char *buf, size_t off, size_t bufsize, struct dstate *st,
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
		off = readers(buf, off, sizeof buf, st, v, "read by ");
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
		bool rewired = outputs && !equiv(st, p, xa, yb) && !explained(xa, yb);
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
static bool tensors_same(struct dstate *st, struct od_tensor *x, struct od_tensor *y,
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
		bool same = tensors_same(st, x, y, &delta);
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

/* ---- nodes ----------------------------------------------------------------------------------- */

/* Details of one matched node pair go to a scratch list first: the NODE line comes first. */
struct node_cmp {
	struct dstate *st;
	struct dpair *p;
	uint32_t ka, kb;
	size_t first;           /* index of the NODE change, once added */
	bool opened;
};

static struct od_change *detail(struct node_cmp *nc, int kind, int what)
{
	struct dstate *st = nc->st;
	struct od_arena *ar = st->d->arena;
	if (!nc->opened) {
		const struct od_node *na = nc->p->a->g->nodes[nc->ka], *nb = nc->p->b->g->nodes[nc->kb];
		struct od_change *c = diff_add(st, OD_CHANGE_CHANGED, OD_CHANGE_NODE, nc->p->path);
		if (!c)
			return NULL;
		c->a_name = str0(na->name);
		c->b_name = str0(nb->name);
		c->a_node = na;
		c->b_node = nb;
		c->old_text = diff_chk(st, diff_node_label(ar, nc->p->a->g, nc->ka));
		c->new_text = diff_chk(st, diff_node_label(ar, nc->p->b->g, nc->kb));
		nc->first = st->d->n_changes - 1;
		nc->opened = true;
	}
	struct od_change *c = diff_add(st, kind, what, nc->p->path);
	if (c) {
		struct od_change *head = &st->d->changes[nc->first];
		c->parent = (long)nc->first;
		c->a_node = head->a_node;
		c->b_node = head->b_node;
		c->a_name = head->a_name;
		c->b_name = head->b_name;
	}
	return c;
}

/* An attribute as the node states it or, when absent, its default (NULL: neither). */
static const struct od_attr *attr_or_default(const struct dside *s, uint32_t k, const char *name,
                                             struct od_attr *tmp, bool *dflt)
{
	const struct od_attr *at = od_node_attr(s->g->nodes[k], name);
	*dflt = false;
	if (at)
		return at;
	at = diff_op_default(s->g->nodes[k], s->onnx_opset, name, tmp);
	*dflt = at != NULL;
	return at;
}

static const char *attr_text(struct dstate *st, const struct od_attr *at, bool dflt)
{
	if (!at)
		return NULL;
	const char *t = diff_chk(st, diff_attr_text(st->d->arena, at));
	if (!t || !dflt)
		return t;
	return diff_chk(st, od_arena_printf(st->d->arena, "%s (default)", t));
}

static int compare_attr(struct node_cmp *nc, const char *name)
{
	struct dstate *st = nc->st;
	struct od_attr ta, tb;
	bool da, db;
	const struct od_attr *x = attr_or_default(nc->p->a, nc->ka, name, &ta, &da);
	const struct od_attr *y = attr_or_default(nc->p->b, nc->kb, name, &tb, &db);
	struct od_tensor_delta delta = {.first_diff = -1};
	if (x && y && x->type == y->type) {
		if (x->type == OD_ATTR_GRAPH || x->type == OD_ATTR_GRAPHS)
			return 0;       /* compared as subgraph pairs */
		if (x->type == OD_ATTR_TENSOR && x->t && y->t) {
			if (tensors_same(st, x->t, y->t, &delta))
				return 0;
		} else if (diff_attr_hash(st, x, nc->p->a, nc->ka) == diff_attr_hash(st, y, nc->p->b, nc->kb)) {
			return 0;
		}
	}
	int kind = !x ? OD_CHANGE_ADDED : !y ? OD_CHANGE_REMOVED : OD_CHANGE_CHANGED;
	struct od_change *c = detail(nc, kind, OD_CHANGE_ATTRIBUTE);
	if (!c)
		return OD_ENOMEM;
	c->key = name;
	c->a_attr = da ? NULL : x;
	c->b_attr = db ? NULL : y;
	c->old_text = attr_text(st, x, da);
	c->new_text = attr_text(st, y, db);
	c->delta = delta;
	if (x && x->type == OD_ATTR_TENSOR)
		c->a_tensor = x->t;
	if (y && y->type == OD_ATTR_TENSOR)
		c->b_tensor = y->t;
	return 0;
}

struct default_names {
	struct node_cmp *nc;
	const struct od_node *other;    /* skip names it states: compared already */
	int rc;
};

static void compare_default(const struct od_attr *def, void *priv)
{
	struct default_names *dn = priv;
	if (!dn->rc && !od_node_attr(dn->other, def->name))
		dn->rc = compare_attr(dn->nc, def->name);
}

static void compare_default_b(const struct od_attr *def, void *priv)
{
	struct default_names *dn = priv;
	struct od_attr tmp;
	const struct dside *a = dn->nc->p->a;
	const struct od_node *na = dn->other;
	if (!dn->rc && !od_node_attr(na, def->name) &&
	    !diff_op_default(na, a->onnx_opset, def->name, &tmp))
		dn->rc = compare_attr(dn->nc, def->name);
}

/* Every attribute either node states, then defaults neither states (which may differ
 * when the op or the opset differs). */
static int compare_attrs(struct node_cmp *nc)
{
	const struct od_node *na = nc->p->a->g->nodes[nc->ka], *nb = nc->p->b->g->nodes[nc->kb];
	for (size_t i = 0; i < na->n_attrs; i++)
		if (compare_attr(nc, na->attrs[i].name))
			return OD_ENOMEM;
	for (size_t i = 0; i < nb->n_attrs; i++)
		if (!od_node_attr(na, nb->attrs[i].name) && compare_attr(nc, nb->attrs[i].name))
			return OD_ENOMEM;
	struct default_names dn = {nc, nb, 0};
	diff_op_defaults(na, nc->p->a->onnx_opset, compare_default, &dn);
	/* defaults of B that A neither states nor has as a default of its own */
	struct default_names db = {nc, na, 0};
	if (!dn.rc && (strcmp(na->op_type, nb->op_type) || nc->p->a->onnx_opset != nc->p->b->onnx_opset))
		diff_op_defaults(nb, nc->p->b->onnx_opset, compare_default_b, &db);
	return dn.rc ? dn.rc : db.rc;
}

static int port_change(struct node_cmp *nc, int port, const struct dval *va,
                       const struct dval *vb)
{
	struct od_arena *ar = nc->st->d->arena;
	int kind = !va ? OD_CHANGE_ADDED : !vb ? OD_CHANGE_REMOVED : OD_CHANGE_CHANGED;
	struct od_change *c = detail(nc, kind, OD_CHANGE_PORT);
	if (!c)
		return OD_ENOMEM;
	c->port = port;
	c->old_text = va ? diff_chk(nc->st, diff_val_text(ar, va)) : NULL;
	c->new_text = vb ? diff_chk(nc->st, diff_val_text(ar, vb)) : NULL;
	return 0;
}

/* Ports in order; for commutative ops the inputs compare as a multiset. */
static int compare_ports(struct node_cmp *nc)
{
	struct dside *a = nc->p->a, *b = nc->p->b;
	struct dval **ia = &a->ins[a->in_start[nc->ka]], **ib = &b->ins[b->in_start[nc->kb]];
	uint32_t na = a->in_start[nc->ka + 1] - a->in_start[nc->ka];
	uint32_t nb = b->in_start[nc->kb + 1] - b->in_start[nc->kb];
	uint32_t nmax = na > nb ? na : nb;
	if (a->comm[nc->ka] && na == nb && na <= 64) {
		uint64_t used = 0, done = 0;
		for (uint32_t i = 0; i < na; i++)
			for (uint32_t j = 0; j < nb; j++)
				if (!(used >> j & 1) && equiv(nc->st, nc->p, ia[i], ib[j])) {
					used |= UINT64_C(1) << j;
					done |= UINT64_C(1) << i;
					break;
				}
		for (uint32_t i = 0, j = 0; i < na; i++) {
			if (done >> i & 1)
				continue;
			while (used >> j & 1)
				j++;
			used |= UINT64_C(1) << j;
			if (!explained(ia[i], ib[j]) && port_change(nc, (int)i, ia[i], ib[j]))
				return OD_ENOMEM;
		}
		return 0;
	}
	for (uint32_t i = 0; i < nmax; i++) {
		const struct dval *va = i < na ? ia[i] : NULL, *vb = i < nb ? ib[i] : NULL;
		if (equiv(nc->st, nc->p, va, vb) || explained(va, vb))
			continue;
		if (port_change(nc, (int)i, va, vb))
			return OD_ENOMEM;
	}
	return 0;
}

static const char *op_name(struct od_arena *ar, const struct od_node *n)
{
	if (n->domain && *n->domain)
		return od_arena_printf(ar, "%s.%s", n->domain, n->op_type);
	return n->op_type;
}

/* Equal canonical hashes settle it, except for tensors whose hash may be dtype and dims
 * only (content present in one model alone). */
static bool same_attrs(const struct dpair *p, uint32_t ka, uint32_t kb)
{
	const struct od_node *n = p->a->g->nodes[ka];
	if (p->a->attr_h[ka] != p->b->attr_h[kb])
		return false;
	for (size_t i = 0; i < n->n_attrs; i++)
		if (n->attrs[i].type == OD_ATTR_TENSOR || n->attrs[i].type == OD_ATTR_TENSORS)
			return false;
	return true;
}

static int compare_node(struct dstate *st, struct dpair *p, uint32_t ka, uint32_t kb)
{
	struct node_cmp nc = {st, p, ka, kb, 0, false};
	const struct od_node *na = p->a->g->nodes[ka], *nb = p->b->g->nodes[kb];
	if (p->a->op_h[ka] != p->b->op_h[kb]) {
		struct od_change *c = detail(&nc, OD_CHANGE_CHANGED, OD_CHANGE_OP);
		if (!c)
			return OD_ENOMEM;
		c->old_text = diff_chk(st, op_name(st->d->arena, na));
		c->new_text = diff_chk(st, op_name(st->d->arena, nb));
	}
	if ((!same_attrs(p, ka, kb) && compare_attrs(&nc)) || compare_ports(&nc))
		return OD_ENOMEM;
	if (na->n_outputs != nb->n_outputs) {
		struct od_change *c = detail(&nc, OD_CHANGE_CHANGED, OD_CHANGE_OUTPUTS);
		if (!c)
			return OD_ENOMEM;
		c->old_text = diff_chk(st, od_arena_printf(st->d->arena, "%zu", na->n_outputs));
		c->new_text = diff_chk(st, od_arena_printf(st->d->arena, "%zu", nb->n_outputs));
	}
	if (nc.opened || !names_differ(st, na->name, nb->name))
		return 0;
	struct od_change *c = diff_add(st, OD_CHANGE_RENAMED, OD_CHANGE_NODE, p->path);
	if (!c)
		return OD_ENOMEM;
	c->a_name = str0(na->name);
	c->b_name = str0(nb->name);
	c->a_node = na;
	c->b_node = nb;
	return 0;
}

/* "reads X, Y; feeds Z input 1, output 'y'" for an added or removed node. */
static const char *node_context(struct dstate *st, const struct dside *s, uint32_t k)
{
	char buf[768];
	size_t off = 0, bufsize = sizeof buf;
	const struct od_node *n = s->g->nodes[k];
	buf[0] = 0;
	if (s->cst[k])
		PUT("value %s", str0(diff_chk(st, diff_attr_text(st->tmp, &n->attrs[0]))));
	for (uint32_t i = s->in_start[k]; i < s->in_start[k + 1]; i++)
		PUT("%s%s", i == s->in_start[k] ? (off ? "; reads " : "reads ") : ", ",
		    s->ins[i] ? str0(diff_chk(st, diff_val_text(st->tmp, s->ins[i]))) : "nothing");
	bool feeds = false;
	for (uint32_t o = s->out_start[k]; o < s->out_start[k + 1]; o++) {
		size_t before = off;
		off = readers(buf, off, bufsize, st, &s->vals[o], feeds ? ", " : off ? "; feeds " : "feeds ");
		feeds |= off != before;
	}
	return off ? diff_chk(st, od_arena_strdup(st->d->arena, buf)) : NULL;
}
#undef PUT

static int node_alone(struct dstate *st, struct dpair *p, const struct dside *s, uint32_t k,
                      bool added)
{
	const struct od_node *n = s->g->nodes[k];
	struct od_change *c = diff_add(st, added ? OD_CHANGE_ADDED : OD_CHANGE_REMOVED,
	                               OD_CHANGE_NODE, p->path);
	if (!c)
		return OD_ENOMEM;
	const char *label = diff_chk(st, diff_node_label(st->d->arena, s->g, k));
	c->context = node_context(st, s, k);
	if (added) {
		c->b_name = str0(n->name);
		c->b_node = n;
		c->new_text = label;
	} else {
		c->a_name = str0(n->name);
		c->a_node = n;
		c->old_text = label;
	}
	return 0;
}

/* Subgraphs of a matched pair, paired by attribute name and position. */
static int queue_children(struct dstate *st, struct dpair *p, uint32_t ka, uint32_t kb,
                          struct dpair ***queue, size_t *n_queue, size_t *cap_queue)
{
	struct dside *a = p->a, *b = p->b;
	for (uint32_t i = a->child_start[ka]; i < a->child_start[ka + 1]; i++) {
		uint32_t nth = 0, j;
		for (uint32_t t = a->child_start[ka]; t < i; t++)
			nth += !strcmp(a->child_attr[t], a->child_attr[i]);
		for (j = b->child_start[kb]; j < b->child_start[kb + 1]; j++)
			if (!strcmp(b->child_attr[j], a->child_attr[i]) && nth-- == 0)
				break;
		if (j == b->child_start[kb + 1])
			continue;   /* reported as a removed attribute */
		struct dpair *q = od_arena_alloc(st->tmp, sizeof *q);
		struct dpair **grown = od_arena_grow(st->tmp, *queue, *n_queue, sizeof *grown,
		                                     cap_queue, *n_queue + 1);
		if (!q || !grown)
			return OD_ENOMEM;
		const struct od_node *n = a->g->nodes[ka];
		q->a = a->child[i];
		q->b = b->child[j];
		q->parent = p;
		q->depth = p->depth + 1;
		q->path = n->name && *n->name
			? od_arena_printf(st->d->arena, "%s/%s:%s", p->path, n->name, a->child_attr[i])
			: od_arena_printf(st->d->arena, "%s/%s#%u:%s", p->path, n->op_type, ka,
			                  a->child_attr[i]);
		if (!q->path)
			return OD_ENOMEM;
		*queue = grown;
		grown[(*n_queue)++] = q;
	}
	return 0;
}

/* Nodes in B's topological order, removed A nodes slotted in before their successors. */
static int node_changes(struct dstate *st, struct dpair *p, struct dpair ***queue,
                        size_t *n_queue, size_t *cap_queue)
{
	struct dside *a = p->a, *b = p->b;
	size_t ta = 0, na = a->g->n_nodes;
	for (size_t tb = 0; tb <= b->g->n_nodes; tb++) {
		uint32_t kb = tb < b->g->n_nodes ? b->topo[tb] : NONE32;
		uint32_t ka = kb != NONE32 ? b->match[kb] : NONE32;
		uint32_t upto = ka != NONE32 ? a->topo_pos[ka] : (kb == NONE32 ? (uint32_t)na : 0);
		for (; ta < na && ta < upto; ta++)
			if (a->match[a->topo[ta]] == NONE32 && node_alone(st, p, a, a->topo[ta], false))
				return OD_ENOMEM;
		if (kb == NONE32)
			break;
		if (ka == NONE32) {
			if (node_alone(st, p, b, kb, true))
				return OD_ENOMEM;
			continue;
		}
		if (compare_node(st, p, ka, kb) || queue_children(st, p, ka, kb, queue, n_queue, cap_queue))
			return OD_ENOMEM;
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
		rc = node_changes(st, p, queue, n_queue, cap_queue);
	return rc;
}
