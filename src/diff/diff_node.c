/*
 * diff_node.c — the changes of nodes: per matched pair its op, attributes (defaults made
 * explicit), the values its ports read and its output count, as details under one NODE
 * change; added and removed nodes with what they read and feed; all in B's topological
 * order with removed nodes slotted in before their successors. Subgraphs of matched nodes
 * go onto the queue of graph pairs.
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "diff_impl.h"

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
		c->a_name = diff_str0(na->name);
		c->b_name = diff_str0(nb->name);
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

/* TENSORS and SPARSE_TENSORS: the same number of tensors, each the same content (their
 * signatures may be dtype and dims only). */
static bool same_tensor_lists(struct dstate *st, const struct od_attr *x, const struct od_attr *y)
{
	struct od_tensor_delta delta;
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (!diff_tensors_same(st, x->tensors[i], y->tensors[i], &delta))
			return false;
	return true;
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
		if ((x->type == OD_ATTR_TENSOR || x->type == OD_ATTR_SPARSE_TENSOR) && x->t && y->t) {
			if (diff_tensors_same(st, x->t, y->t, &delta))
				return 0;
		} else if (x->type == OD_ATTR_TENSORS || x->type == OD_ATTR_SPARSE_TENSORS) {
			if (same_tensor_lists(st, x, y))
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
	if (x && (x->type == OD_ATTR_TENSOR || x->type == OD_ATTR_SPARSE_TENSOR))
		c->a_tensor = x->t;
	if (y && (y->type == OD_ATTR_TENSOR || y->type == OD_ATTR_SPARSE_TENSOR))
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
				if (!(used >> j & 1) && diff_equiv(nc->st, nc->p, ia[i], ib[j])) {
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
			if (!diff_explained(ia[i], ib[j]) && port_change(nc, (int)i, ia[i], ib[j]))
				return OD_ENOMEM;
		}
		return 0;
	}
	for (uint32_t i = 0; i < nmax; i++) {
		const struct dval *va = i < na ? ia[i] : NULL, *vb = i < nb ? ib[i] : NULL;
		if (diff_equiv(nc->st, nc->p, va, vb) || diff_explained(va, vb))
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
		switch (n->attrs[i].type) {
		case OD_ATTR_TENSOR: case OD_ATTR_TENSORS: case OD_ATTR_SPARSE_TENSOR: case OD_ATTR_SPARSE_TENSORS:
			return false;
		}
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
	if (nc.opened || !diff_names_differ(st, na->name, nb->name))
		return 0;
	struct od_change *c = diff_add(st, OD_CHANGE_RENAMED, OD_CHANGE_NODE, p->path);
	if (!c)
		return OD_ENOMEM;
	c->a_name = diff_str0(na->name);
	c->b_name = diff_str0(nb->name);
	c->a_node = na;
	c->b_node = nb;
	return 0;
}

#define PUT(...) do { if (off < bufsize) off += (size_t)snprintf(buf + off, bufsize - off, __VA_ARGS__); } while (0)

/* "reads X, Y; feeds Z input 1, output 'y'" for an added or removed node. */
static const char *node_context(struct dstate *st, const struct dside *s, uint32_t k)
{
	char buf[768];
	size_t off = 0, bufsize = sizeof buf;
	const struct od_node *n = s->g->nodes[k];
	buf[0] = 0;
	if (s->cst[k])
		PUT("value %s", diff_str0(diff_chk(st, diff_attr_text(st->tmp, &n->attrs[0]))));
	for (uint32_t i = s->in_start[k]; i < s->in_start[k + 1]; i++)
		PUT("%s%s", i == s->in_start[k] ? (off ? "; reads " : "reads ") : ", ",
		    s->ins[i] ? diff_str0(diff_chk(st, diff_val_text(st->tmp, s->ins[i]))) : "nothing");
	bool feeds = false;
	for (uint32_t o = s->out_start[k]; o < s->out_start[k + 1]; o++) {
		size_t before = off;
		off = diff_readers(buf, off, bufsize, st, &s->vals[o], feeds ? ", " : off ? "; feeds " : "feeds ");
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
		c->b_name = diff_str0(n->name);
		c->b_node = n;
		c->new_text = label;
	} else {
		c->a_name = diff_str0(n->name);
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
int diff_node_changes(struct dstate *st, struct dpair *p, struct dpair ***queue,
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
