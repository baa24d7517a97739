/*
 * diff_pair.c — what pairs with what besides nodes: graph inputs and outputs (by name, then
 * in order with equal type, then a last one each; by position inside subgraphs), and
 * initializers (same name and content, through matched nodes' ports, by content in order,
 * by name); and when two values read by a port are the same value.
 */
#include "config.h"
#include <string.h>
#include "diff_impl.h"

#define H_IN_A UINT64_C(0x696e2d612d2d2d2d)
#define H_IN_B UINT64_C(0x696e2d622d2d2d2d)
#define H_OUT_A UINT64_C(0x6f75742d612d2d2d)
#define H_OUT_B UINT64_C(0x6f75742d622d2d2d)

static bool ignoring(const struct dstate *st, unsigned bit)
{
	return (st->opts.ignore & bit) != 0;
}

/* ---- interface pairing ------------------------------------------------------------------ */

static bool same_type(const struct od_value *a, const struct od_value *b)
{
	return a->kind == b->kind && a->dtype == b->dtype && a->rank == b->rank;
}

/* Pairs values: equal names, then in order with equal type, then a last one each. */
static int pair_values(struct od_value *const *va, const uint32_t *ia, size_t na,
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
		return 0;
	}
	struct od_map names;        /* B's names: graphs may have thousands of inputs */
	if (od_map_init(&names, nb))
		return OD_ENOMEM;
	for (size_t j = 0; j < nb; j++)
		if (od_map_put(&names, B(j)->name, j) < 0) {
			od_map_done(&names);
			return OD_ENOMEM;
		}
	for (size_t i = 0; i < na; i++) {
		size_t j;
		if (od_map_get(&names, A(i)->name, &j) && pb[j] == NONE32) {
			pa[i] = (uint32_t)j;
			pb[j] = (uint32_t)i;
		}
	}
	od_map_done(&names);
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
	return 0;
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
	if (pair_values(a->g->inputs, a->real_in, na, b->g->inputs, b->real_in, nb, by_name,
	                p->in_pair_a, p->in_pair_b) ||
	    pair_values(a->g->outputs, NULL, oa, b->g->outputs, NULL, ob, by_name, p->out_pair_a,
	                p->out_pair_b))
		return OD_ENOMEM;
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

bool diff_equiv(const struct dstate *st, const struct dpair *p, const struct dval *va,
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
bool diff_explained(const struct dval *va, const struct dval *vb)
{
	return (va && va->kind == V_NODE && va->side->match[va->idx] == NONE32) ||
	       (vb && vb->kind == V_NODE && vb->side->match[vb->idx] == NONE32);
}

