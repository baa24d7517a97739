/*
 * diff_sig.c — per-graph tables for the diff and the signatures that match nodes without
 * names.
 *
 * A "side" is one graph of one model with its values (inputs, initializers, node outputs),
 * each node's producers per port (possibly values of enclosing graphs), consumers, a
 * topological order that counts reads from inside subgraphs, and one side per subgraph.
 *
 * Signatures (Merkle style, names never enter):
 *   bottom-up  leaf classes (graph inputs: their pairing class; constants: content when the
 *              other model has the same content, else dtype+dims), then per node op, domain,
 *              canonical attributes (defaults explicit, subgraphs by their signature) and
 *              the inputs' signatures in port order (as a multiset for commutative ops);
 *   top-down   from the graph outputs' classes down: per node op, domain and, per output,
 *              the multiset of (consumer's top-down signature, port) it feeds.
 */
#include "config.h"
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <xxhash.h>
#include "diff_impl.h"

#define H_EMPTY  UINT64_C(0x6e6f6e6520202020)
#define H_UNDEF  UINT64_C(0x756e646566202020)
#define H_CONST  UINT64_C(0x636f6e7374202020)
#define H_WEAK   UINT64_C(0x7765616b20202020)
#define H_OUT    UINT64_C(0x6f75747075742020)
#define H_COMM   UINT64_C(0x636f6d6d75746174)
#define H_GRAPH  UINT64_C(0x6772617068202020)
#define H_IN     UINT64_C(0x696e707574202020)

/* ---- building --------------------------------------------------------------------------- */

/* Names live in a map keyed by a 64-bit hash seeded per diff (so that colliding names
 * cannot be crafted in a file, and two diffs in two threads share nothing); equal hashes
 * are taken as equal names. Comparing the strings as well would cost two more cache
 * misses per edge on large graphs. */
static uint64_t name_seed(const struct dstate *st)
{
	return dh_mix((uint64_t)(uintptr_t)st ^ (uint64_t)time(NULL)) | 1;
}

static uint64_t name_hash(const struct dside *s, const char *name)
{
	return XXH3_64bits_withSeed(name, strlen(name), s->name_seed);
}

static uint32_t *name_slot(const struct dside *s, uint64_t h)
{
	struct dslot *slots = s->names.slots;
	size_t i = (size_t)dh_mix(h) & s->names.mask;
	while (slots[i].val != NONE32 && slots[i].key != h)
		i = (i + 1) & s->names.mask;
	return &slots[i].val;
}

static struct dval *name_get_hashed(const struct dside *s, uint64_t h)
{
	uint32_t v = *name_slot(s, h);
	return v == NONE32 ? NULL : &s->vals[v];
}

struct dval *diff_name_get(const struct dside *s, const char *name)
{
	return name_get_hashed(s, name_hash(s, name));
}

/* Defines vals[n] under its name unless the name is taken; false when taken. */
static bool name_put(struct dside *s, size_t n)
{
	uint64_t h = name_hash(s, s->vals[n].name);
	uint32_t *slot = name_slot(s, h);
	if (*slot != NONE32)
		return false;
	*slot = (uint32_t)n;
	((struct dslot *)((char *)slot - offsetof(struct dslot, val)))->key = h;
	return true;
}

static int push_outer(struct dstate *st, struct dside *s, struct dval *v, size_t *cap)
{
	struct dval **p = od_arena_grow(st->tmp, s->outer, s->n_outer, sizeof *p, cap,
	                                s->n_outer + 1);
	if (!p)
		return OD_ENOMEM;
	s->outer = p;
	s->outer[s->n_outer++] = v;
	return 0;
}

/* Finds name in s or an enclosing graph; an unknown name becomes an undefined value. */
/* Values read soon after they are defined (files list nodes in topological order), so a
 * small direct-mapped table of the latest node outputs answers most lookups from cache
 * before the big name map is probed. It has at most RECENT slots and about two per value of
 * the graph, and lives only while resolve() runs: a 64 KiB table for every one-node If
 * branch made a 1.65 MB model need 2.7 GB. */
#define RECENT 4096

struct recent {
	struct dslot *slot;     /* malloc'd */
	size_t mask;            /* slots - 1, a power of two minus one */
};

static void recent_put(struct recent *r, const struct dside *s, uint32_t k)
{
	for (uint32_t o = s->out_start[k]; o < s->out_start[k + 1]; o++)
		if (*s->vals[o].name) {
			uint64_t h = name_hash(s, s->vals[o].name);
			r->slot[h & r->mask] = (struct dslot){h, o};
		}
}

static struct dval *lookup(struct dstate *st, struct dside *s, const char *name,
                           size_t *outer_cap, const struct recent *r)
{
	uint64_t h = name_hash(s, name);
	const struct dslot *hit = r ? &r->slot[h & r->mask] : NULL;
	if (hit && hit->key == h && hit->val != NONE32)
		return &s->vals[hit->val];
	struct dval *v = name_get_hashed(s, h);
	if (v)
		return v;
	for (struct dside *p = s->parent; p; p = p->parent)
		if ((v = name_get_hashed(p, h)))
			return push_outer(st, s, v, outer_cap) ? NULL : v;
	struct dval *u = od_arena_alloc(st->tmp, sizeof *u);
	if (!u)
		return NULL;
	u->name = name;
	u->side = s;
	u->kind = V_UNDEF;
	return u;
}

static int define_values(struct dside *s)
{
	const struct od_graph *g = s->g;
	size_t n = 0;
	for (size_t i = 0; i < g->n_inputs; i++) {
		s->vals[n] = (struct dval){.name = g->inputs[i]->name, .side = s, .kind = V_INPUT,
		                           .idx = (uint32_t)i};
		n += name_put(s, n);
	}
	for (size_t i = 0; i < g->n_inits; i++) {
		struct dval *v = diff_name_get(s, g->inits[i]->name);
		if (v) {
			if (v->kind == V_INPUT) {
				v->kind = V_INIT;
				v->idx = (uint32_t)i;
				v->is_input = true;
			}
			continue;
		}
		s->vals[n] = (struct dval){.name = g->inits[i]->name, .side = s, .kind = V_INIT,
		                           .idx = (uint32_t)i};
		n += name_put(s, n);
	}
	for (size_t k = 0; k < g->n_nodes; k++) {
		const struct od_node *nd = g->nodes[k];
		s->out_start[k] = (uint32_t)n;
		for (size_t j = 0; j < nd->n_outputs; j++) {
			s->vals[n] = (struct dval){.name = nd->outputs[j], .side = s, .kind = V_NODE,
			                           .idx = (uint32_t)k, .port = (uint32_t)j};
			if (*nd->outputs[j])
				name_put(s, n);
			n++;
		}
	}
	s->out_start[g->n_nodes] = (uint32_t)n;
	s->n_vals = n;
	return 0;
}

static int build_children(struct dstate *st, struct dside *s)
{
	const struct od_graph *g = s->g;
	size_t n = 0, cap = 0;
	bool deep = (size_t)s->depth >= st->opts.max_depth;
	for (size_t k = 0; k < g->n_nodes; k++) {
		const struct od_node *nd = g->nodes[k];
		s->child_start[k] = (uint32_t)n;
		for (size_t j = 0; j < nd->n_attrs && !deep; j++) {
			const struct od_attr *at = &nd->attrs[j];
			size_t ng = at->type == OD_ATTR_GRAPH ? (at->g ? 1 : 0)
			          : at->type == OD_ATTR_GRAPHS ? at->n : 0;
			for (size_t q = 0; q < ng; q++) {
				const struct od_graph *sub = at->type == OD_ATTR_GRAPH ? at->g : at->graphs[q];
				size_t c2 = cap;
				struct dside **c = od_arena_grow(st->tmp, s->child, n, sizeof *c, &cap, n + 1);
				const char **names = od_arena_grow(st->tmp, s->child_attr, n, sizeof *names,
				                                   &c2, n + 1);
				if (!c || !names || !sub)
					return OD_ENOMEM;
				s->child = c;
				s->child_attr = names;
				names[n] = at->name;
				int rc = diff_side_build(st, sub, s, s->onnx_opset, s->depth + 1, &c[n]);
				if (rc)
					return rc;
				n++;
			}
		}
	}
	s->child_start[g->n_nodes] = (uint32_t)n;
	return 0;
}

/* Explicit inputs and subgraph reads of every node, graph outputs, outer references. */
static int resolve_nodes(struct dstate *st, struct dside *s, struct recent *r, size_t *outer_cap)
{
	const struct od_graph *g = s->g;
	size_t n_in = 0, dep_cap = 0, n_dep = 0;
	for (size_t k = 0; k < g->n_nodes; k++) {
		const struct od_node *nd = g->nodes[k];
		s->in_start[k] = (uint32_t)n_in;
		for (size_t p = 0; p < nd->n_inputs; p++) {
			struct dval *v = NULL;
			if (*nd->inputs[p] && !(v = lookup(st, s, nd->inputs[p], outer_cap, r)))
				return OD_ENOMEM;
			s->ins[n_in++] = v;
		}
		recent_put(r, s, (uint32_t)k);
		s->dep_start[k] = (uint32_t)n_dep;
		for (uint32_t c = s->child_start[k]; c < s->child_start[k + 1]; c++) {
			struct dside *ch = s->child[c];
			for (size_t q = 0; q < ch->n_outer; q++) {
				struct dval *v = ch->outer[q];
				if (v->side != s) {
					if (push_outer(st, s, v, outer_cap))
						return OD_ENOMEM;
					continue;
				}
				struct dval **d = od_arena_grow(st->tmp, s->deps, n_dep, sizeof *d, &dep_cap,
				                                n_dep + 1);
				if (!d)
					return OD_ENOMEM;
				s->deps = d;
				s->deps[n_dep++] = v;
			}
		}
	}
	s->in_start[g->n_nodes] = (uint32_t)n_in;
	s->dep_start[g->n_nodes] = (uint32_t)n_dep;
	return 0;
}

static int resolve(struct dstate *st, struct dside *s)
{
	const struct od_graph *g = s->g;
	size_t n_in = 0, outer_cap = s->n_outer, slots = 16;
	for (size_t k = 0; k < g->n_nodes; k++)
		n_in += g->nodes[k]->n_inputs;
	while (slots < RECENT && slots < 2 * s->n_vals)
		slots *= 2;
	struct recent r = {od_malloc(slots * sizeof *r.slot), slots - 1};
	s->ins = od_arena_alloc(st->tmp, (n_in + 1) * sizeof *s->ins);
	s->gouts = od_arena_alloc(st->tmp, (g->n_outputs + 1) * sizeof *s->gouts);
	int rc = r.slot && s->ins && s->gouts ? 0 : OD_ENOMEM;
	for (size_t i = 0; !rc && i < slots; i++)
		r.slot[i].val = NONE32;
	if (!rc)
		rc = resolve_nodes(st, s, &r, &outer_cap);
	od_free(r.slot);
	for (size_t k = 0; !rc && k < g->n_outputs; k++) {
		if (!(s->gouts[k] = lookup(st, s, g->outputs[k]->name, &outer_cap, NULL)))
			return OD_ENOMEM;
		if (s->gouts[k]->side == s)
			s->gouts[k]->n_graph_out++;
	}
	return rc;
}

/* Consumers of each local value, as one array sliced per value. */
static int consumers(struct dstate *st, struct dside *s)
{
	const struct od_graph *g = s->g;
	size_t total = s->in_start[g->n_nodes] + s->dep_start[g->n_nodes];
	s->cons = od_arena_alloc(st->tmp, (total + 1) * sizeof *s->cons);
	if (!s->cons)
		return OD_ENOMEM;
	for (int pass = 0; pass < 2; pass++) {
		uint32_t at = 0;
		if (pass == 1)
			for (size_t i = 0; i < s->n_vals; i++) {
				s->vals[i].cons = at;
				at += s->vals[i].n_cons;
				s->vals[i].n_cons = 0;
			}
		for (uint32_t k = 0; k < g->n_nodes; k++) {
			for (uint32_t i = s->in_start[k]; i < s->in_start[k + 1]; i++) {
				struct dval *v = s->ins[i];
				if (v && v->side == s && v->kind != V_UNDEF) {
					if (pass)
						s->cons[v->cons + v->n_cons] = (struct dedge){k, i - s->in_start[k]};
					v->n_cons++;
				}
			}
			for (uint32_t i = s->dep_start[k]; i < s->dep_start[k + 1]; i++) {
				struct dval *v = s->deps[i];
				if (pass)
					s->cons[v->cons + v->n_cons] = (struct dedge){k, IMPLICIT};
				v->n_cons++;
			}
		}
	}
	return 0;
}

/* Kahn's algorithm in node order; a cycle (rejected by the loader) leaves its nodes last. */
static int topo_order(struct dstate *st, struct dside *s)
{
	const struct od_graph *g = s->g;
	size_t nn = g->n_nodes, head = 0, tail = 0;
	uint32_t *indeg = od_arena_alloc(st->tmp, (nn + 1) * sizeof *indeg);
	s->topo = od_arena_alloc(st->tmp, (nn + 1) * sizeof *s->topo);
	s->topo_pos = od_arena_alloc(st->tmp, (nn + 1) * sizeof *s->topo_pos);
	if (!indeg || !s->topo || !s->topo_pos)
		return OD_ENOMEM;
	for (size_t i = 0; i < s->n_vals; i++) {
		struct dval *v = &s->vals[i];
		if (v->kind == V_NODE)
			for (uint32_t c = v->cons; c < v->cons + v->n_cons; c++)
				indeg[s->cons[c].node]++;
	}
	for (uint32_t k = 0; k < nn; k++)
		if (!indeg[k])
			s->topo[tail++] = k;
	while (head < tail) {
		uint32_t k = s->topo[head++];
		for (uint32_t o = s->out_start[k]; o < s->out_start[k + 1]; o++) {
			struct dval *v = &s->vals[o];
			for (uint32_t c = v->cons; c < v->cons + v->n_cons; c++)
				if (--indeg[s->cons[c].node] == 0)
					s->topo[tail++] = s->cons[c].node;
		}
	}
	for (uint32_t k = 0; k < nn && tail < nn; k++)
		if (indeg[k])
			s->topo[tail++] = k;
	for (uint32_t i = 0; i < nn; i++)
		s->topo_pos[s->topo[i]] = i;
	return 0;
}

/* What the tables say about an op, looked up once per op rather than once per node:
 * diff_op_rows() + 1 in the low bits, commutativity in bit 31; 0 when out of memory. */
static uint32_t op_facts(struct dstate *st, uint64_t op_h, const struct od_node *n)
{
	if (!st->ops.slots && diff_map_init(&st->ops, st->tmp, 64))
		return 0;
	uint32_t *slot = diff_map_slot(&st->ops, op_h);
	if (!slot)
		return 0;
	if (*slot == NONE32)
		*slot = (diff_op_rows(n) + 1) |
		        (diff_op_commutative(n->domain, n->op_type) ? UINT32_C(1) << 31 : 0);
	return *slot;
}

int diff_side_build(struct dstate *st, const struct od_graph *g, struct dside *parent,
                    int64_t onnx_opset, int depth, struct dside **out)
{
	struct dside *s = od_arena_alloc(st->tmp, sizeof *s);
	size_t nn = g->n_nodes, nv = g->n_inputs + g->n_inits;
	if (!s)
		return OD_ENOMEM;
	for (size_t k = 0; k < nn; k++)
		nv += g->nodes[k]->n_outputs;
	s->g = g;
	s->parent = parent;
	s->depth = depth;
	s->onnx_opset = onnx_opset;
	if (!st->name_seed)
		st->name_seed = name_seed(st);
	s->name_seed = st->name_seed;
	if (diff_map_init(&s->names, st->tmp, nv))
		return OD_ENOMEM;
	s->next_all = st->all;
	st->all = s;
#define ALLOC(field, count) \
	if (!(s->field = od_arena_alloc(st->tmp, ((count) + 1) * sizeof *s->field))) \
		return OD_ENOMEM
	ALLOC(vals, nv);
	ALLOC(in_start, nn);
	ALLOC(dep_start, nn);
	ALLOC(out_start, nn);
	ALLOC(child_start, nn);
	ALLOC(op_h, nn);
	ALLOC(comm, nn);
	ALLOC(op_rows, nn);
	ALLOC(cst, nn);
	ALLOC(attr_h, nn);
	ALLOC(bu, nn);
	ALLOC(td, nn);
	ALLOC(match, nn);
	ALLOC(real_in, g->n_inputs);
	ALLOC(real_pos, g->n_inputs);
	ALLOC(in_class, g->n_inputs);
	ALLOC(out_class, g->n_outputs);
#undef ALLOC
	memset(s->match, 0xff, nn * sizeof *s->match);
	int rc = define_values(s);
	if (!rc)
		rc = build_children(st, s);
	if (!rc)
		rc = resolve(st, s);
	if (!rc)
		rc = consumers(st, s);
	if (!rc)
		rc = topo_order(st, s);
	if (rc)
		return rc;
	for (size_t k = 0; k < nn; k++) {
		const struct od_node *n = g->nodes[k];
		s->op_h[k] = dh_comb(diff_hash_str(n->domain ? n->domain : ""), diff_hash_str(n->op_type));
		if (!(s->op_rows[k] = op_facts(st, s->op_h[k], n)))
			return OD_ENOMEM;
		s->comm[k] = s->op_rows[k] >> 31;
		if (!diff_node_const(n, &s->cst[k]))
			s->cst[k] = NULL;
	}
	for (size_t i = 0; i < g->n_inputs; i++) {
		struct dval *v = diff_name_get(s, g->inputs[i]->name);
		s->real_pos[i] = NONE32;
		if (v && v->kind == V_INPUT && v->idx == i) {
			s->real_pos[i] = (uint32_t)s->n_real_in;
			s->real_in[s->n_real_in++] = (uint32_t)i;
		}
	}
	*out = s;
	return 0;
}

/* ---- constants ------------------------------------------------------------------------------ */

bool diff_node_const(const struct od_node *n, struct od_tensor **t)
{
	if (n->op_type[0] != 'C' || strcmp(n->op_type, "Constant") || (n->domain && *n->domain) || n->n_attrs != 1 ||
	    !n->attrs[0].t || !((n->attrs[0].type == OD_ATTR_TENSOR && !strcmp(n->attrs[0].name, "value")) ||
	    (n->attrs[0].type == OD_ATTR_SPARSE_TENSOR && !strcmp(n->attrs[0].name, "sparse_value"))))
		return false;
	*t = n->attrs[0].t;
	return true;
}

static int note_const(struct dstate *st, struct od_tensor *t, uint32_t bit)
{
	if (st->opts.ignore & OD_DIFF_IGNORE(WEIGHTS))
		return 0;
	uint32_t *slot = diff_map_slot(&st->consts, od_tensor_hash(t));
	if (!slot)
		return OD_ENOMEM;
	*slot = (*slot == NONE32 ? 0 : *slot) | bit;
	return 0;
}

int diff_side_consts(struct dstate *st, struct dside *s, uint32_t bit)
{
	for (size_t i = 0; i < s->g->n_inits; i++)
		if (note_const(st, s->g->inits[i], bit))
			return OD_ENOMEM;
	for (size_t k = 0; k < s->g->n_nodes; k++)
		if (s->cst[k] && note_const(st, s->cst[k], bit))
			return OD_ENOMEM;
	for (uint32_t c = 0; c < s->child_start[s->g->n_nodes]; c++)
		if (diff_side_consts(st, s->child[c], bit))
			return OD_ENOMEM;
	return 0;
}

/* Content when both models hold this content somewhere, else only dtype and dims: a
 * changed weight then leaves its consumers' signatures alone. */
static uint64_t const_sig(struct dstate *st, struct od_tensor *t)
{
	if (!(st->opts.ignore & OD_DIFF_IGNORE(WEIGHTS))) {
		uint64_t h = od_tensor_hash(t);
		if (diff_map_get(&st->consts, h) == 3)
			return dh_comb(H_CONST, h);
	}
	uint64_t h = dh_comb(H_WEAK, (uint64_t)t->dtype);
	for (int i = 0; i < t->ndims; i++)
		h = dh_comb(h, (uint64_t)t->dims[i]);
	return dh_comb(h, (uint64_t)t->ndims);
}

/* ---- bottom-up --------------------------------------------------------------------------- */

/* The side of subgraph sub of node k (NULL past the depth limit). */
static uint64_t graph_hash(const struct dside *s, uint32_t k, const struct od_graph *sub)
{
	if (k != NONE32)
		for (uint32_t c = s->child_start[k]; c < s->child_start[k + 1]; c++)
			if (s->child[c]->g == sub)
				return s->child[c]->gsig;
	return dh_comb(H_GRAPH, sub ? sub->n_nodes : 0);
}

uint64_t diff_attr_hash(struct dstate *st, const struct od_attr *a, const struct dside *s,
                        uint32_t k)
{
	uint64_t h = dh_comb(diff_hash_str(a->name), (uint64_t)a->type);
	switch (a->type) {
	case OD_ATTR_FLOAT: {
		uint32_t bits;
		memcpy(&bits, &a->f, sizeof bits);
		return dh_comb(h, bits);
	}
	case OD_ATTR_INT: return dh_comb(h, (uint64_t)a->i);
	case OD_ATTR_STRING: return dh_comb(h, diff_hash_bytes(a->s.data, a->s.len));
	case OD_ATTR_TENSOR:
	case OD_ATTR_SPARSE_TENSOR: return a->t ? dh_comb(h, const_sig(st, a->t)) : h;
	case OD_ATTR_TYPE_PROTO: return a->types ? dh_comb(h, diff_hash_str(a->types[0])) : h;
	case OD_ATTR_GRAPH: return dh_comb(h, graph_hash(s, k, a->g));
	case OD_ATTR_FLOATS: return dh_comb(h, diff_hash_bytes(a->floats, a->n * sizeof *a->floats));
	case OD_ATTR_INTS: return dh_comb(h, diff_hash_bytes(a->ints, a->n * sizeof *a->ints));
	default: break;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (a->type == OD_ATTR_STRINGS)
			h = dh_comb(h, diff_hash_bytes(a->strings[i].data, a->strings[i].len));
		else if (a->type == OD_ATTR_TENSORS || a->type == OD_ATTR_SPARSE_TENSORS)
			h = dh_comb(h, const_sig(st, a->tensors[i]));
		else if (a->type == OD_ATTR_TYPE_PROTOS && a->types)
			h = dh_comb(h, diff_hash_str(a->types[i]));
		else if (a->type == OD_ATTR_GRAPHS)
			h = dh_comb(h, graph_hash(s, k, a->graphs[i]));
	}
	if (a->ref_attr_name)
		h = dh_comb(h, diff_hash_str(a->ref_attr_name));
	return dh_comb(h, a->n);
}

struct attr_acc {
	struct dstate *st;
	const struct dside *s;
	uint32_t k;
	uint64_t sum;
};

static void add_default(const struct od_attr *def, void *priv)
{
	struct attr_acc *acc = priv;
	acc->sum += dh_mix(diff_attr_hash(acc->st, def, acc->s, acc->k));
}

/* Attributes as a multiset (order in the file does not matter), defaults made explicit. */
static uint64_t attrs_hash(struct dstate *st, const struct dside *s, uint32_t k)
{
	const struct od_node *n = s->g->nodes[k];
	struct attr_acc acc = {st, s, k, 0};
	for (size_t i = 0; i < n->n_attrs; i++)
		acc.sum += dh_mix(diff_attr_hash(st, &n->attrs[i], s, k));
	uint32_t rows = (s->op_rows[k] & ~(UINT32_C(1) << 31)) - 1;
	if (rows)
		diff_op_defaults_rows(rows, n, s->onnx_opset, add_default, &acc);
	return acc.sum;
}

static uint64_t val_bu(const struct dval *v)
{
	return v ? v->bu : H_EMPTY;
}

static void sign_node(struct dstate *st, struct dside *s, uint32_t k)
{
	struct od_tensor *t = s->cst[k];
	for (uint32_t c = s->child_start[k]; c < s->child_start[k + 1]; c++)
		diff_side_sign(st, s->child[c]);
	s->attr_h[k] = attrs_hash(st, s, k);
	uint64_t h = dh_comb(s->op_h[k], s->attr_h[k]);
	if (t) {
		h = const_sig(st, t);
	} else if (s->comm[k]) {
		uint64_t sum = 0;
		for (uint32_t i = s->in_start[k]; i < s->in_start[k + 1]; i++)
			sum += dh_mix(val_bu(s->ins[i]));
		h = dh_comb(dh_comb(h, sum), s->in_start[k + 1] - s->in_start[k]);
	} else {
		for (uint32_t i = s->in_start[k]; i < s->in_start[k + 1]; i++)
			h = dh_comb(h, val_bu(s->ins[i]));
		h = dh_comb(h, s->in_start[k + 1] - s->in_start[k]);
	}
	s->bu[k] = h;
	for (uint32_t o = s->out_start[k]; o < s->out_start[k + 1]; o++)
		s->vals[o].bu = o == s->out_start[k] ? h : dh_comb(h, o - s->out_start[k]);
}

static void sign_leaves(struct dstate *st, struct dside *s)
{
	for (size_t i = 0; i < s->n_vals; i++) {
		struct dval *v = &s->vals[i];
		if (v->kind == V_INPUT)
			v->bu = s->in_class[s->real_pos[v->idx]];
		else if (v->kind == V_INIT)
			v->bu = const_sig(st, s->g->inits[v->idx]);
	}
	for (uint32_t i = 0; i < s->in_start[s->g->n_nodes]; i++)
		if (s->ins[i] && s->ins[i]->kind == V_UNDEF)
			s->ins[i]->bu = dh_comb(H_UNDEF, diff_hash_str(s->ins[i]->name));
	for (size_t k = 0; k < s->g->n_outputs; k++)
		if (s->gouts[k]->kind == V_UNDEF)
			s->gouts[k]->bu = dh_comb(H_UNDEF, diff_hash_str(s->gouts[k]->name));
}

/* ---- top-down ----------------------------------------------------------------------------- */

static void sign_top_down(struct dside *s)
{
	const struct od_graph *g = s->g;
	for (size_t i = 0; i < s->n_vals; i++)
		s->vals[i].td = 0;
	for (size_t k = 0; k < g->n_outputs; k++)
		if (s->gouts[k]->side == s)
			s->gouts[k]->td += dh_mix(dh_comb(H_OUT, s->out_class[k]));
	for (size_t i = g->n_nodes; i-- > 0;) {
		uint32_t k = s->topo[i];
		uint64_t h = s->op_h[k];
		for (uint32_t o = s->out_start[k]; o < s->out_start[k + 1]; o++)
			h = dh_comb(h, s->vals[o].td);
		s->td[k] = h;
		bool comm = s->comm[k];
		for (uint32_t j = s->in_start[k]; j < s->in_start[k + 1]; j++) {
			struct dval *v = s->ins[j];
			if (v && v->side == s)
				v->td += dh_mix(dh_comb(h, comm ? H_COMM : j - s->in_start[k]));
		}
		for (uint32_t j = s->dep_start[k]; j < s->dep_start[k + 1]; j++)
			s->deps[j]->td += dh_mix(dh_comb(h, IMPLICIT));
	}
}

int diff_side_positional(struct dstate *st, struct dside *s)
{
	for (size_t i = 0; i < s->n_real_in; i++)
		s->in_class[i] = dh_comb(H_IN, i);
	for (size_t k = 0; k < s->g->n_outputs; k++)
		s->out_class[k] = dh_comb(H_OUT, k);
	return 0;
}

void diff_side_sign(struct dstate *st, struct dside *s)
{
	const struct od_graph *g = s->g;
	if (s->parent || s->func)
		diff_side_positional(st, s);
	sign_leaves(st, s);
	for (size_t i = 0; i < g->n_nodes; i++)
		sign_node(st, s, s->topo[i]);
	uint64_t h = dh_comb(H_GRAPH, s->n_real_in);
	for (size_t k = 0; k < g->n_outputs; k++)
		h = dh_comb(h, s->gouts[k]->bu);
	s->gsig = h;
	sign_top_down(s);
}
