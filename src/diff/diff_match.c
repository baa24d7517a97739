/*
 * diff_match.c — pairs the nodes of two graphs without looking at names.
 *
 *   1. anchors: bottom-up signatures unique on both sides; a matched pair pulls in its
 *      producers with equal signatures (their whole input cones are isomorphic);
 *   2. anchors: top-down signatures unique on both sides (a node whose inputs changed);
 *   3. extension: from every matched pair to unmatched neighbours of the same op reached
 *      through the same port (producers) or as the only such consumer (GumTree recovery);
 *   4. alignment of what is left per key in topological order: equal bottom-up signature,
 *      equal top-down signature, then equal op and attributes when the nodes share a
 *      matched neighbour; extension again after each stage;
 *   5. replacements: a free node of A and one of B (any ops) reading the same values at
 *      every port, unique as such on both sides (Relu turned into LeakyRelu).
 *
 * Hash maps and sorted runs keep it near O(N log N); no loop visits all pairs of nodes.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "diff_impl.h"

#define H_COMM UINT64_C(0x636f6d6d75746174)
#define MAX_TRIES 8
#define MAX_PORTS 64

struct keyed {
	uint64_t key;
	uint32_t node;
	uint32_t pos;           /* topological position, for stable order */
};

struct anchor {
	uint32_t na, nb, ia, ib;
};

struct matcher {
	struct dstate *st;
	struct dside *a, *b;
	uint32_t *queue;        /* A nodes in the order they were matched */
	size_t n_queue, done;
	struct keyed *ka, *kb;  /* scratch for consumer lists (malloc'd) */
	size_t cap_ka, cap_kb;
	/* Scratch shared by the phases, allocated once per graph pair: */
	struct dmap map;        /* key -> index into an, or into run */
	struct anchor *an;
	struct keyed *run;      /* B nodes sorted by key */
	size_t *cursor;
};

static void link(struct matcher *m, uint32_t ka, uint32_t kb)
{
	m->a->match[ka] = kb;
	m->b->match[kb] = ka;
	m->queue[m->n_queue++] = ka;
}

static bool free_pair(const struct matcher *m, uint32_t ka, uint32_t kb)
{
	return m->a->match[ka] == NONE32 && m->b->match[kb] == NONE32;
}

/* The node producing v in side s, or NONE32 when v is not a node output of s. */
static uint32_t producer(const struct dside *s, const struct dval *v)
{
	return v && v->side == s && v->kind == V_NODE ? v->idx : NONE32;
}

/* ---- 1. anchors ------------------------------------------------------------------------- */

/* Counts one occurrence of key on side (0: A, 1: B) at index idx: an anchor per distinct
 * key, how often it stands on each side and where it stood last. */
static int count_key(struct dmap *map, struct anchor *an, size_t *n, uint64_t key, int side,
                     uint32_t idx)
{
	uint32_t *slot = diff_map_slot(map, key);
	if (!slot)
		return OD_ENOMEM;
	if (*slot == NONE32) {
		an[*n] = (struct anchor){0, 0, 0, 0};
		*slot = (uint32_t)(*n)++;
	}
	struct anchor *e = &an[*slot];
	if (side) {
		e->nb++;
		e->ib = idx;
	} else {
		e->na++;
		e->ia = idx;
	}
	return 0;
}

/* Pairs nodes whose key (bu or td) is unique on both sides and still free. */
static int anchor_unique(struct matcher *m, const uint64_t *keys_a, const uint64_t *keys_b)
{
	size_t na = m->a->g->n_nodes;
	struct dmap *map = &m->map;
	struct anchor *an = m->an;
	size_t n = 0;
	diff_map_clear(map);
	for (int side = 0; side < 2; side++) {
		const struct dside *s = side ? m->b : m->a;
		const uint64_t *keys = side ? keys_b : keys_a;
		for (uint32_t k = 0; k < s->g->n_nodes; k++) {
			if (s->match[k] != NONE32)
				continue;
			if (count_key(map, an, &n, keys[k], side, k))
				return OD_ENOMEM;
		}
	}
	for (uint32_t k = 0; k < na; k++) {
		if (m->a->match[k] != NONE32)
			continue;
		const struct anchor *e = &an[diff_map_get(map, keys_a[k])];
		if (e->na == 1 && e->nb == 1 && m->b->match[e->ib] == NONE32)
			link(m, k, e->ib);
	}
	return 0;
}

/* Equal bottom-up signatures mean isomorphic input cones: pair them all the way up. */
static void descend(struct matcher *m, size_t from)
{
	for (size_t q = from; q < m->n_queue; q++) {
		uint32_t ka = m->queue[q], kb = m->a->match[ka];
		if (m->a->bu[ka] != m->b->bu[kb])
			continue;
		uint32_t sa = m->a->in_start[ka], sb = m->b->in_start[kb];
		uint32_t n = m->a->in_start[ka + 1] - sa;
		if (n != m->b->in_start[kb + 1] - sb)
			continue;
		for (uint32_t i = 0; i < n; i++) {
			uint32_t pa = producer(m->a, m->a->ins[sa + i]);
			if (pa == NONE32 || m->a->match[pa] != NONE32)
				continue;
			/* Commutative inputs may sit at other ports: take any free equal one (looking
			 * at a bounded number of ports, so that a Sum of thousands stays linear). */
			uint32_t tries = m->a->comm[ka] ? (n < MAX_PORTS ? n : MAX_PORTS) : 1;
			for (uint32_t j = 0; j < tries; j++) {
				uint32_t pb = producer(m->b, m->b->ins[sb + (j + i) % n]);
				if (pb != NONE32 && m->b->match[pb] == NONE32 && m->a->bu[pa] == m->b->bu[pb] &&
				    m->a->ins[sa + i]->port == m->b->ins[sb + (j + i) % n]->port) {
					link(m, pa, pb);
					break;
				}
			}
		}
	}
}

/* ---- 3. extension ------------------------------------------------------------------------- */

static bool same_op(const struct matcher *m, uint32_t ka, uint32_t kb)
{
	return m->a->op_h[ka] == m->b->op_h[kb];
}

static void extend_inputs(struct matcher *m, uint32_t ka, uint32_t kb)
{
	bool comm = m->a->comm[ka];
	uint32_t sa = m->a->in_start[ka], sb = m->b->in_start[kb];
	uint32_t na = m->a->in_start[ka + 1] - sa, nb = m->b->in_start[kb + 1] - sb;
	for (uint32_t i = 0; i < na; i++) {
		struct dval *va = m->a->ins[sa + i];
		uint32_t pa = producer(m->a, va);
		if (pa == NONE32 || m->a->match[pa] != NONE32)
			continue;
		for (uint32_t t = 0; t < (comm ? (nb < MAX_PORTS ? nb : MAX_PORTS) : 1); t++) {
			uint32_t j = comm ? (i + t) % nb : i;
			if (j >= nb)
				break;
			struct dval *vb = m->b->ins[sb + j];
			uint32_t pb = producer(m->b, vb);
			if (pb != NONE32 && free_pair(m, pa, pb) && same_op(m, pa, pb) &&
			    va->port == vb->port) {
				link(m, pa, pb);
				break;
			}
		}
	}
}

static int cmp_keyed(const void *x, const void *y)
{
	const struct keyed *a = x, *b = y;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* The free consumers of v as (key, node), sorted; key: op and port, plus bu when fine. */
static size_t consumers_keyed(struct matcher *m, const struct dside *s, const struct dval *v,
                              bool fine, struct keyed **buf, size_t *cap)
{
	size_t n = 0;
	if (v->n_cons > *cap) {
		struct keyed *p = od_realloc(*buf, v->n_cons * sizeof *p);
		if (!p) {
			m->st->oom = true;
			return 0;
		}
		*buf = p;
		*cap = v->n_cons;
	}
	for (uint32_t c = v->cons; c < v->cons + v->n_cons; c++) {
		const struct dedge *e = &s->cons[c];
		if (s->match[e->node] != NONE32 || e->port == IMPLICIT)
			continue;
		uint64_t key = dh_comb(s->op_h[e->node], s->comm[e->node] ? H_COMM : e->port);
		if (fine)
			key = dh_comb(key, s->bu[e->node]);
		(*buf)[n++] = (struct keyed){key, e->node, s->topo_pos[e->node]};
	}
	if (n > 1)
		qsort(*buf, n, sizeof **buf, cmp_keyed);
	return n;
}

/* Pairs consumers of va and vb whose key is unique in both lists (merge of sorted runs). */
static void extend_consumers(struct matcher *m, const struct dval *va, const struct dval *vb,
                             bool fine)
{
	size_t na = consumers_keyed(m, m->a, va, fine, &m->ka, &m->cap_ka);
	size_t nb = consumers_keyed(m, m->b, vb, fine, &m->kb, &m->cap_kb);
	size_t i = 0, j = 0;
	while (i < na && j < nb) {
		uint64_t ki = m->ka[i].key, kj = m->kb[j].key;
		size_t ri = i, rj = j;
		if (ki < kj) {
			i++;
			continue;
		}
		if (kj < ki) {
			j++;
			continue;
		}
		while (ri < na && m->ka[ri].key == ki)
			ri++;
		while (rj < nb && m->kb[rj].key == kj)
			rj++;
		if (ri - i == 1 && rj - j == 1 && free_pair(m, m->ka[i].node, m->kb[j].node))
			link(m, m->ka[i].node, m->kb[j].node);
		i = ri;
		j = rj;
	}
}

static void extend_outputs(struct matcher *m, uint32_t ka, uint32_t kb)
{
	uint32_t oa = m->a->out_start[ka], ob = m->b->out_start[kb];
	uint32_t n = m->a->out_start[ka + 1] - oa;
	if (m->b->out_start[kb + 1] - ob < n)
		n = m->b->out_start[kb + 1] - ob;
	for (uint32_t o = 0; o < n; o++) {
		extend_consumers(m, &m->a->vals[oa + o], &m->b->vals[ob + o], true);
		extend_consumers(m, &m->a->vals[oa + o], &m->b->vals[ob + o], false);
	}
}

static void extend(struct matcher *m)
{
	for (; m->done < m->n_queue; m->done++) {
		uint32_t ka = m->queue[m->done], kb = m->a->match[ka];
		extend_inputs(m, ka, kb);
		extend_outputs(m, ka, kb);
	}
}

/* Leaves (graph inputs, initializers) with a signature unique on both sides: their
 * consumers pair like those of a matched node's output. */
static int extend_from_leaves(struct matcher *m)
{
	struct dmap *map = &m->map;
	struct anchor *an = m->an;
	size_t n = 0;
	diff_map_clear(map);
	for (int side = 0; side < 2; side++) {
		const struct dside *s = side ? m->b : m->a;
		for (uint32_t i = 0; i < s->n_vals; i++) {
			if (s->vals[i].kind == V_NODE)
				continue;
			if (count_key(map, an, &n, s->vals[i].bu, side, i))
				return OD_ENOMEM;
		}
	}
	for (size_t e = 0; e < n; e++)
		if (an[e].na == 1 && an[e].nb == 1) {
			extend_consumers(m, &m->a->vals[an[e].ia], &m->b->vals[an[e].ib], true);
			extend_consumers(m, &m->a->vals[an[e].ia], &m->b->vals[an[e].ib], false);
		}
	return 0;
}

/* ---- 4. alignment per key ------------------------------------------------------------------- */

/* True when ka and kb read an equivalent value at some port or feed matched nodes. */
static bool related(const struct matcher *m, uint32_t ka, uint32_t kb)
{
	uint32_t sa = m->a->in_start[ka], sb = m->b->in_start[kb];
	uint32_t na = m->a->in_start[ka + 1] - sa, nb = m->b->in_start[kb + 1] - sb;
	for (uint32_t i = 0; i < na; i++)
		for (uint32_t j = 0; j < nb && j < 8; j++) {
			const struct dval *va = m->a->ins[sa + i], *vb = m->b->ins[sb + j];
			if (!va || !vb)
				continue;
			uint32_t pa = producer(m->a, va), pb = producer(m->b, vb);
			if (pa != NONE32 ? (pb != NONE32 && m->a->match[pa] == pb) : va->bu == vb->bu)
				return true;
		}
	for (uint32_t o = m->a->out_start[ka]; o < m->a->out_start[ka + 1]; o++) {
		const struct dval *v = &m->a->vals[o];
		for (uint32_t c = v->cons; c < v->cons + v->n_cons && c < v->cons + 16; c++) {
			uint32_t cb = m->a->match[m->a->cons[c].node];
			if (cb == NONE32)
				continue;
			for (uint32_t j = m->b->in_start[cb]; j < m->b->in_start[cb + 1]; j++)
				if (producer(m->b, m->b->ins[j]) == kb)
					return true;
		}
	}
	return false;
}

/* In topological order, pairs each free A node with the first free B node of equal key
 * (looking at most MAX_TRIES candidates ahead when need_related). */
static int align(struct matcher *m, const uint64_t *keys_a, const uint64_t *keys_b,
                 bool need_related)
{
	struct dside *a = m->a, *b = m->b;
	size_t nb = 0, nn = b->g->n_nodes;
	struct keyed *run = m->run;
	size_t *cursor = m->cursor;
	struct dmap *map = &m->map;
	diff_map_clear(map);
	for (uint32_t k = 0; k < nn; k++)
		if (b->match[k] == NONE32)
			run[nb++] = (struct keyed){keys_b[k], k, b->topo_pos[k]};
	if (nb > 1)
		qsort(run, nb, sizeof *run, cmp_keyed);
	for (size_t i = 0; i < nb; i++)
		if (i == 0 || run[i].key != run[i - 1].key) {
			uint32_t *slot = diff_map_slot(map, run[i].key);
			if (!slot)
				return OD_ENOMEM;
			*slot = (uint32_t)i;
			cursor[i] = i;
		}
	for (size_t t = 0; t < a->g->n_nodes; t++) {
		uint32_t ka = a->topo[t], start;
		if (a->match[ka] != NONE32 || (start = diff_map_get(map, keys_a[ka])) == NONE32)
			continue;
		size_t i = cursor[start], tries = 0;
		while (i < nb && run[i].key == keys_a[ka] && b->match[run[i].node] != NONE32)
			i++;
		cursor[start] = i;
		for (; i < nb && run[i].key == keys_a[ka] && tries < MAX_TRIES; i++) {
			uint32_t kb = run[i].node;
			if (b->match[kb] != NONE32 || !same_op(m, ka, kb))
				continue;
			tries++;
			if (!need_related || related(m, ka, kb)) {
				link(m, ka, kb);
				break;
			}
		}
	}
	return 0;
}

static uint64_t *op_attr_keys(struct dstate *st, const struct dside *s)
{
	uint64_t *k = od_arena_alloc(st->tmp, (s->g->n_nodes + 1) * sizeof *k);
	if (k)
		for (size_t i = 0; i < s->g->n_nodes; i++)
			k[i] = dh_comb(s->op_h[i], s->attr_h[i]);
	return k;
}

/* ---- 5. replacements ------------------------------------------------------------------------ */

#define H_NOPE UINT64_C(0x6e6f7065)

/* What node k reads, in B's terms: matched producers by their B index, leaves by their
 * signature; a free producer makes the node ineligible (a key no one else has). */
static void input_keys(const struct matcher *m, const struct dside *s, bool is_a, uint64_t *keys)
{
	for (uint32_t k = 0; k < s->g->n_nodes; k++) {
		uint64_t h = dh_comb(H_NOPE, s->in_start[k + 1] - s->in_start[k]);
		bool ok = s->match[k] == NONE32 && s->in_start[k + 1] > s->in_start[k];
		for (uint32_t i = s->in_start[k]; i < s->in_start[k + 1] && ok; i++) {
			const struct dval *v = s->ins[i];
			uint32_t pk = producer(s, v);
			if (pk != NONE32) {
				uint32_t in_b = is_a ? s->match[pk] : pk;
				ok = s->match[pk] != NONE32;
				h = dh_comb(h, dh_comb(in_b, v->port));
			} else {
				h = dh_comb(h, v ? v->bu : 0);
			}
		}
		h = dh_comb(h, s->out_start[k + 1] - s->out_start[k]);
		keys[k] = ok ? h : dh_comb(dh_comb(H_NOPE, is_a), k);
	}
}

static int replacements(struct matcher *m)
{
	uint64_t *ka = od_arena_alloc(m->st->tmp, (m->a->g->n_nodes + 1) * sizeof *ka);
	uint64_t *kb = od_arena_alloc(m->st->tmp, (m->b->g->n_nodes + 1) * sizeof *kb);
	if (!ka || !kb)
		return OD_ENOMEM;
	input_keys(m, m->a, true, ka);
	input_keys(m, m->b, false, kb);
	return anchor_unique(m, ka, kb);
}

int diff_match(struct dstate *st, struct dside *a, struct dside *b)
{
	struct matcher m = {.st = st, .a = a, .b = b};
	int rc;
	uint64_t *oka, *okb;
	size_t n = a->g->n_nodes + b->g->n_nodes;
	if (a->n_vals + b->n_vals > n)
		n = a->n_vals + b->n_vals;
	m.queue = od_arena_alloc(st->tmp, (a->g->n_nodes + 1) * sizeof *m.queue);
	m.an = od_arena_alloc(st->tmp, (n + 1) * sizeof *m.an);
	m.run = od_arena_alloc(st->tmp, (b->g->n_nodes + 1) * sizeof *m.run);
	m.cursor = od_arena_alloc(st->tmp, (b->g->n_nodes + 1) * sizeof *m.cursor);
	if (!m.queue || !m.an || !m.run || !m.cursor || diff_map_init(&m.map, st->tmp, n))
		return OD_ENOMEM;
	if ((rc = anchor_unique(&m, a->bu, b->bu)))
		goto out;
	descend(&m, 0);
	if ((rc = anchor_unique(&m, a->td, b->td)))
		goto out;
	if ((rc = extend_from_leaves(&m)))
		goto out;
	extend(&m);
	size_t before = m.n_queue;
	if ((rc = align(&m, a->bu, b->bu, false)))
		goto out;
	descend(&m, before);
	extend(&m);
	if ((rc = align(&m, a->td, b->td, false)))
		goto out;
	extend(&m);
	oka = op_attr_keys(st, a);
	okb = op_attr_keys(st, b);
	if (!oka || !okb) {
		rc = OD_ENOMEM;
		goto out;
	}
	if ((rc = align(&m, oka, okb, true)))
		goto out;
	extend(&m);
	if ((rc = align(&m, a->op_h, b->op_h, true)))
		goto out;
	extend(&m);
	if (m.n_queue < a->g->n_nodes && m.n_queue < b->g->n_nodes) {
		if ((rc = replacements(&m)))
			goto out;
		extend(&m);
	}
out:
	od_free(m.ka);
	od_free(m.kb);
	return rc;
}
