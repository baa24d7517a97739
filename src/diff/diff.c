/*
 * diff.c — od_diff(): builds the sides of both models, pairs their interfaces, signs every
 * graph, then works through a queue of graph pairs (main graph, subgraphs of matched
 * nodes, then local functions), matching nodes and appending changes. Model-level items
 * (IR version, producer, opsets, metadata, doc) come first; counts for --stat last.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "diff_impl.h"

/* ---- names -------------------------------------------------------------------------------- */

static const struct {
	const char *word;
	char sign;
} kinds[] = {
#define OD_X(name, word, sign) {word, sign},
	OD_CHANGE_KIND_TABLE(OD_X)
#undef OD_X
};

static const char *const whats[] = {
#define OD_X(name, word) word,
	OD_CHANGE_WHAT_TABLE(OD_X)
#undef OD_X
};

static const struct {
	const char *word, *desc;
} ignores[] = {
#define OD_X(name, word, desc) {word, desc},
	OD_DIFF_IGNORE_TABLE(OD_X)
#undef OD_X
};

const char *od_change_kind_name(int kind)
{
	return kind >= 0 && kind < OD_CHANGE_KIND_MAX ? kinds[kind].word : "?";
}

char od_change_kind_sign(int kind)
{
	return kind >= 0 && kind < OD_CHANGE_KIND_MAX ? kinds[kind].sign : '?';
}

const char *od_change_what_name(int what)
{
	return what >= 0 && what < OD_CHANGE_WHAT_MAX ? whats[what] : "?";
}

int od_diff_ignore_parse(const char *list, unsigned *mask, struct od_ctx *ctx)
{
	const char *p = list;
	while (p && *p) {
		size_t len = strcspn(p, ",");
		size_t i;
		for (i = 0; i < sizeof ignores / sizeof *ignores; i++)
			if (strlen(ignores[i].word) == len && !strncmp(ignores[i].word, p, len))
				break;
		if (i == sizeof ignores / sizeof *ignores) {
			if (len)
				return od_error(ctx, OD_EARG, "unknown --ignore category '%.*s'", (int)len, p);
		} else {
			*mask |= 1u << i;
		}
		p += len + (p[len] == ',');
	}
	return 0;
}

void od_diff_ignore_each(void (*fn)(const char *word, const char *desc, void *priv), void *priv)
{
	for (size_t i = 0; i < sizeof ignores / sizeof *ignores; i++)
		fn(ignores[i].word, ignores[i].desc, priv);
}

/* ---- model-level items ---------------------------------------------------------------------- */

static int text_change(struct dstate *st, int what, const char *path, const char *key,
                       const char *a, const char *b)
{
	if (!strcmp(a ? a : "", b ? b : ""))
		return 0;
	int kind = !a || !*a ? OD_CHANGE_ADDED : !b || !*b ? OD_CHANGE_REMOVED : OD_CHANGE_CHANGED;
	return diff_add_text(st, kind, what, path, key, a, b);
}

static const char *num(struct dstate *st, int64_t v)
{
	return diff_chk(st, od_arena_printf(st->d->arena, "%lld", (long long)v));
}

/* For each domain of o ("" for ai.onnx), the index of its import that counts: the last
 * one, as in onnx.checker (a reverse walk puts it first; od_map_put keeps the first). */
static int last_imports(const struct od_opset *o, size_t n, struct od_map *m)
{
	if (od_map_init(m, n))
		return OD_ENOMEM;
	for (size_t i = n; i-- > 0;)
		if (od_map_put(m, od_domain_is_onnx(o[i].domain) ? "" : o[i].domain, i) < 0)
			return OD_ENOMEM;
	return 0;
}

/* Whether o[i] is the import of its domain that counts; *other: that domain's import on
 * the other side, if any. */
static bool counts(const struct od_opset *o, size_t i, const struct od_map *mine,
                   const struct od_map *theirs, size_t *other, bool *has_other)
{
	const char *d = od_domain_is_onnx(o[i].domain) ? "" : o[i].domain;
	size_t k = SIZE_MAX;
	od_map_get(mine, d, &k);
	*has_other = od_map_get(theirs, d, other);
	return k == i;
}

/* Each domain's import that counts against the other side's: a file importing a domain
 * twice runs at its last import, so only that one is compared. */
static int opset_changes(struct dstate *st, const char *path, const struct od_opset *a,
                         size_t na, const struct od_opset *b, size_t nb)
{
	struct od_map ma = {0}, mb = {0};
	size_t k;
	bool has;
	if (st->opts.ignore & OD_DIFF_IGNORE(OPSETS))
		return 0;
	int rc = last_imports(a, na, &ma);
	if (!rc)
		rc = last_imports(b, nb, &mb);
	for (size_t i = 0; !rc && i < na; i++)
		if (counts(a, i, &ma, &mb, &k, &has))
			rc = text_change(st, OD_CHANGE_OPSET, path, a[i].domain, num(st, a[i].version),
			                 has ? num(st, b[k].version) : NULL);
	for (size_t j = 0; !rc && j < nb; j++)
		if (counts(b, j, &mb, &ma, &k, &has) && !has)
			rc = text_change(st, OD_CHANGE_OPSET, path, b[j].domain, NULL, num(st, b[j].version));
	od_map_done(&ma);
	od_map_done(&mb);
	return rc ? OD_ENOMEM : 0;
}

/* Metadata entries pair by key: the k-th entry of a key with the k-th on the other
 * side (keys may repeat in a file). */
static int metadata_changes(struct dstate *st)
{
	const struct od_model *a = st->ma, *b = st->mb;
	if (st->opts.ignore & OD_DIFF_IGNORE(METADATA))
		return 0;
	size_t na = a->n_props, nb = b->n_props, *pair = NULL;
	const char **keys = od_malloc((na + nb + 1) * sizeof *keys);
	for (size_t i = 0; keys && i < na + nb; i++)
		keys[i] = i < na ? a->props[i].key : b->props[i - na].key;
	int rc = keys ? diff_pair_keys(keys, na, keys + na, nb, &pair) : OD_ENOMEM;
	for (size_t i = 0; !rc && i < na; i++) {
		const char *y = pair[i] != SIZE_MAX ? b->props[pair[i]].value : NULL;
		struct od_change *c;
		if (y && !strcmp(y, a->props[i].value))
			continue;
		if (!(c = diff_add(st, y ? OD_CHANGE_CHANGED : OD_CHANGE_REMOVED, OD_CHANGE_METADATA, "model")))
			rc = OD_ENOMEM;
		else {
			c->key = a->props[i].key;
			c->old_text = a->props[i].value;
			c->new_text = y;
		}
	}
	for (size_t j = 0; !rc && j < nb; j++) {
		struct od_change *c;
		if (pair[na + j] != SIZE_MAX)
			continue;
		if (!(c = diff_add(st, OD_CHANGE_ADDED, OD_CHANGE_METADATA, "model")))
			rc = OD_ENOMEM;
		else {
			c->key = b->props[j].key;
			c->new_text = b->props[j].value;
		}
	}
	od_free(keys);
	od_free(pair);
	return rc;
}

static int model_changes(struct dstate *st)
{
	const struct od_model *a = st->ma, *b = st->mb;
	unsigned ign = st->opts.ignore;
	int rc = 0;
	if (!(ign & OD_DIFF_IGNORE(IR_VERSION)))
		rc = text_change(st, OD_CHANGE_IR_VERSION, "model", NULL, num(st, a->ir_version),
		                 num(st, b->ir_version));
	if (!rc && !(ign & OD_DIFF_IGNORE(PRODUCER)))
		rc = text_change(st, OD_CHANGE_PRODUCER, "model", "name", a->producer_name,
		                 b->producer_name) ||
		     text_change(st, OD_CHANGE_PRODUCER, "model", "version", a->producer_version,
		                 b->producer_version);
	if (!rc && !(ign & OD_DIFF_IGNORE(MODEL)))
		rc = text_change(st, OD_CHANGE_MODEL, "model", "domain", a->domain, b->domain) ||
		     text_change(st, OD_CHANGE_MODEL, "model", "model_version",
		                 num(st, a->model_version), num(st, b->model_version)) ||
		     text_change(st, OD_CHANGE_MODEL, "model", "graph_name", a->graph->name,
		                 b->graph->name);
	if (!rc && !(ign & OD_DIFF_IGNORE(DOC)))
		rc = text_change(st, OD_CHANGE_DOC, "model", "model", a->doc_string, b->doc_string);
	if (!rc)
		rc = opset_changes(st, "model", a->opsets, a->n_opsets, b->opsets, b->n_opsets);
	if (!rc)
		rc = metadata_changes(st);
	return rc ? OD_ENOMEM : 0;
}

/* ---- the queue of graph pairs ------------------------------------------------------------- */

static int record_graph(struct dstate *st, const struct dpair *p)
{
	struct od_diff *d = st->d;
	struct od_diff_graph *g = od_arena_grow(d->arena, d->graphs, d->n_graphs, sizeof *g,
	                                        &st->cap_graphs, d->n_graphs + 1);
	if (!g)
		return OD_ENOMEM;
	d->graphs = g;
	g = &d->graphs[d->n_graphs++];
	g->path = p->path;
	g->a = p->a->g;
	g->b = p->b->g;
	g->depth = p->depth;
	g->a_match = od_arena_alloc(d->arena, (g->a->n_nodes + 1) * sizeof *g->a_match);
	g->b_match = od_arena_alloc(d->arena, (g->b->n_nodes + 1) * sizeof *g->b_match);
	if (!g->a_match || !g->b_match)
		return OD_ENOMEM;
	for (size_t k = 0; k < g->a->n_nodes; k++) {
		g->a_match[k] = p->a->match[k] == NONE32 ? OD_DIFF_NONE : p->a->match[k];
		g->n_matched += p->a->match[k] != NONE32;
	}
	for (size_t k = 0; k < g->b->n_nodes; k++)
		g->b_match[k] = p->b->match[k] == NONE32 ? OD_DIFF_NONE : p->b->match[k];
	return 0;
}

struct queue {
	struct dpair **items;
	size_t n, cap, done;
};

static int run_queue(struct dstate *st, struct queue *q)
{
	int rc = 0;
	for (; q->done < q->n && !rc; q->done++) {
		struct dpair *p = q->items[q->done];
		size_t first = st->d->n_changes;
		if (!p->in_pair_a)
			rc = diff_pair_interface(st, p, false);
		if (!rc)
			rc = diff_match(st, p->a, p->b);
		if (!rc)
			rc = diff_pair_inits(st, p);
		if (!rc)
			rc = diff_pair_changes(st, p, &q->items, &q->n, &q->cap);
		if (!rc)
			rc = record_graph(st, p);
		for (size_t i = first; i < st->d->n_changes; i++)
			st->d->changes[i].depth = p->depth;
	}
	return rc;
}

static int push(struct dstate *st, struct queue *q, struct dpair *p)
{
	struct dpair **g = od_arena_grow(st->tmp, q->items, q->n, sizeof *g, &q->cap, q->n + 1);
	if (!g)
		return OD_ENOMEM;
	q->items = g;
	q->items[q->n++] = p;
	return 0;
}

/* ---- functions ---------------------------------------------------------------------------- */

static const char *function_path(struct dstate *st, const struct od_function *f)
{
	return od_arena_printf(st->d->arena, "function:%s%s%s", f->domain ? f->domain : "",
	                       f->domain && *f->domain ? "." : "", f->name);
}

static int function_side(struct dstate *st, struct od_model *m, struct od_function *f,
                         struct dside **out)
{
	int64_t v = od_opsets_version(f->opsets, f->n_opsets, "");
	if (!v)
		v = od_model_opset(m, "");
	int rc = diff_side_build(st, f->body, NULL, v, 0, out);
	if (!rc)
		(*out)->func = f;
	return rc;
}

static int function_alone(struct dstate *st, struct od_function *f, bool added)
{
	const char *path = function_path(st, f);
	struct od_change *c = diff_add(st, added ? OD_CHANGE_ADDED : OD_CHANGE_REMOVED,
	                               OD_CHANGE_FUNCTION, path);
	if (!path || !c)
		return OD_ENOMEM;
	if (added) {
		c->b_func = f;
		c->b_name = path + strlen("function:");
	} else {
		c->a_func = f;
		c->a_name = path + strlen("function:");
	}
	return 0;
}

static const char *attr_names(struct dstate *st, const struct od_function *f)
{
	char buf[512];
	size_t off = 0;
	buf[0] = 0;
	for (size_t i = 0; i < f->n_attr_names && off < sizeof buf; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i ? "," : "", f->attr_names[i]);
	return diff_chk(st, od_arena_strdup(st->d->arena, buf));
}

/* A key naming a function: its domain's length, the domain and the name, so that no two
 * (domain, name) pairs share a key. In the diff's scratch arena. */
static const char *function_key(struct dstate *st, const struct od_function *f)
{
	const char *d = f->domain ? f->domain : "";
	return od_arena_printf(st->tmp, "%zu:%s%s", strlen(d), d, f->name);
}

/* The k-th function of a (domain, name) pairs with the k-th of that name on the other side
 * (names may repeat in a file). */
static int function_pairs(struct dstate *st, struct dside **fa, struct dside **fb,
                          struct queue *q)
{
	struct od_model *a = st->ma, *b = st->mb;
	size_t na = a->n_functions, nb = b->n_functions, *pair = NULL;
	const char **keys = od_arena_alloc(st->tmp, (na + nb + 1) * sizeof *keys);
	for (size_t i = 0; keys && i < na + nb; i++)
		if (!(keys[i] = function_key(st, i < na ? a->functions[i] : b->functions[i - na])))
			return OD_ENOMEM;
	int rc = keys ? diff_pair_keys(keys, na, keys + na, nb, &pair) : OD_ENOMEM;
	for (size_t i = 0; !rc && i < na; i++) {
		struct od_function *f = a->functions[i];
		if (pair[i] == SIZE_MAX) {
			rc = function_alone(st, f, false);
			continue;
		}
		struct od_function *g = b->functions[pair[i]];
		struct dpair *p = od_arena_alloc(st->tmp, sizeof *p);
		if (!p || !(p->path = function_path(st, f))) {
			rc = OD_ENOMEM;
			break;
		}
		p->a = fa[i];
		p->b = fb[pair[i]];
		if (opset_changes(st, p->path, f->opsets, f->n_opsets, g->opsets, g->n_opsets) ||
		    text_change(st, OD_CHANGE_FUNCTION, p->path, "attributes", attr_names(st, f),
		                attr_names(st, g)) ||
		    push(st, q, p))
			rc = OD_ENOMEM;
	}
	for (size_t j = 0; !rc && j < nb; j++)
		if (pair[na + j] == SIZE_MAX)
			rc = function_alone(st, b->functions[j], true);
	od_free(pair);
	return rc;
}

/* ---- counts ------------------------------------------------------------------------------- */

struct counter {
	struct dstate *st;
	struct dmap map;
	size_t cap;
};

static int count_side(struct counter *ct, const struct dside *s, int side)
{
	struct od_diff_stat *stat = &ct->st->d->stat;
	const struct od_graph *g = s->g;
	struct od_tensor *t;
	for (size_t k = 0; k < g->n_nodes; k++) {
		const struct od_node *n = g->nodes[k];
		uint32_t *slot = diff_map_slot(&ct->map, s->op_h[k]);
		if (!slot)
			return OD_ENOMEM;
		if (*slot == NONE32) {
			struct od_diff_opcount *o = od_arena_grow(ct->st->d->arena, stat->ops, stat->n_ops,
			                                          sizeof *o, &ct->cap, stat->n_ops + 1);
			if (!o)
				return OD_ENOMEM;
			stat->ops = o;
			*slot = (uint32_t)stat->n_ops++;
			o[*slot] = (struct od_diff_opcount){n->domain ? n->domain : "", n->op_type, 0, 0};
		}
		if (side)
			stat->ops[*slot].b++, stat->nodes_b++;
		else
			stat->ops[*slot].a++, stat->nodes_a++;
		if ((t = s->cst[k])) {
			*(side ? &stat->params_b : &stat->params_a) += t->numel;
			*(side ? &stat->bytes_b : &stat->bytes_a) += t->nbytes;
		}
	}
	for (size_t i = 0; i < g->n_inits; i++) {
		*(side ? &stat->params_b : &stat->params_a) += g->inits[i]->numel;
		*(side ? &stat->bytes_b : &stat->bytes_a) += g->inits[i]->nbytes;
	}
	for (uint32_t c = 0; c < s->child_start[g->n_nodes]; c++)
		if (count_side(ct, s->child[c], side))
			return OD_ENOMEM;
	return 0;
}

static int cmp_ops(const void *x, const void *y)
{
	const struct od_diff_opcount *a = x, *b = y;
	int c = strcmp(a->domain, b->domain);
	return c ? c : strcmp(a->op_type, b->op_type);
}

static int count_all(struct dstate *st, struct dside *const *tops, size_t n_tops,
                     size_t n_a, size_t total_nodes)
{
	struct counter ct = {.st = st};
	struct od_diff *d = st->d;
	if (diff_map_init(&ct.map, st->tmp, 64))
		return OD_ENOMEM;
	for (size_t i = 0; i < n_tops; i++)
		if (count_side(&ct, tops[i], i >= n_a))
			return OD_ENOMEM;
	if (d->stat.n_ops)
		qsort(d->stat.ops, d->stat.n_ops, sizeof *d->stat.ops, cmp_ops);
	for (size_t i = 0; i < d->n_changes; i++)
		if (d->changes[i].parent < 0)
			d->stat.count[d->changes[i].kind]++;
	return 0;
}

/* ---- entry points --------------------------------------------------------------------------- */

static size_t side_size(const struct dstate *st)
{
	size_t n = 0;
	for (const struct dside *s = st->all; s; s = s->next_all)
		n += s->g->n_nodes + s->g->n_inits;
	return n;
}

static int diff_run(struct dstate *st)
{
	struct od_model *a = st->ma, *b = st->mb;
	size_t nf = a->n_functions + b->n_functions;
	struct dside **tops = od_arena_alloc(st->tmp, (nf + 2) * sizeof *tops);
	struct dpair *top = od_arena_alloc(st->tmp, sizeof *top);
	struct queue q = {0};
	int rc;
	if (!tops || !top)
		return OD_ENOMEM;
	/* tops: A main, A functions..., B main, B functions... */
	if ((rc = diff_side_build(st, a->graph, NULL, od_model_opset(a, ""), 0, &tops[0])))
		return rc;
	for (size_t i = 0; i < a->n_functions; i++)
		if ((rc = function_side(st, a, a->functions[i], &tops[1 + i])))
			return rc;
	size_t nb0 = 1 + a->n_functions;
	if ((rc = diff_side_build(st, b->graph, NULL, od_model_opset(b, ""), 0, &tops[nb0])))
		return rc;
	for (size_t j = 0; j < b->n_functions; j++)
		if ((rc = function_side(st, b, b->functions[j], &tops[nb0 + 1 + j])))
			return rc;
	size_t total = side_size(st);
	if (diff_map_init(&st->consts, st->tmp, 1024))
		return OD_ENOMEM;
	for (size_t i = 0; i < nf + 2; i++)
		if (diff_side_consts(st, tops[i], i < nb0 ? 1 : 2))
			return OD_ENOMEM;
	top->a = tops[0];
	top->b = tops[nb0];
	top->path = "graph";
	if ((rc = diff_pair_interface(st, top, true)))
		return rc;
	for (size_t i = 0; i < nf + 2; i++)
		diff_side_sign(st, tops[i]);
	if ((rc = model_changes(st)) || (rc = push(st, &q, top)) || (rc = run_queue(st, &q)))
		return rc;
	if ((rc = function_pairs(st, tops + 1, tops + nb0 + 1, &q)) || (rc = run_queue(st, &q)))
		return rc;
	return count_all(st, tops, nf + 2, nb0, total);
}

int od_diff(struct od_model *a, struct od_model *b, const struct od_diff_opts *opts,
            struct od_diff **out, struct od_ctx *ctx)
{
	struct dstate st = {.ma = a, .mb = b};
	struct od_arena *arena;
	int rc;
	*out = NULL;
	if (!a || !b || !a->graph || !b->graph)
		return od_error(ctx, OD_EARG, "cannot diff: a model has no graph");
	if (opts)
		st.opts = *opts;
	if (!st.opts.max_depth)
		st.opts.max_depth = OD_MAX_DEPTH_DEFAULT;
	if (!(arena = od_arena_new()) || !(st.tmp = od_arena_new()) ||
	    !(st.d = od_arena_alloc(arena, sizeof *st.d))) {
		od_arena_free(arena);
		od_arena_free(st.tmp);
		return od_error(ctx, OD_ENOMEM, "cannot diff: out of memory");
	}
	st.d->arena = arena;
	st.d->a = a;
	st.d->b = b;
	st.d->opts = st.opts;
	/* Read every payload once, both models side by side on all CPUs (tensor.c): the hashes
	 * and equalities the matching asks for later are then free. */
	rc = st.opts.ignore & OD_DIFF_IGNORE(WEIGHTS) ? 0 :
	     od_models_hash((struct od_model *const[]){a, b}, 2, 0);
	if (!rc)
		rc = diff_run(&st);
	od_arena_free(st.tmp);
	if (!rc && st.oom)
		rc = OD_ENOMEM;
	if (rc) {
		od_free(st.d->changes);
		od_arena_free(arena);
		return od_error(ctx, rc, "cannot diff: %s", od_strerror(rc));
	}
	*out = st.d;
	return 0;
}

void od_diff_free(struct od_diff *d)
{
	if (d) {
		od_free(d->changes);
		od_arena_free(d->arena);
	}
}

bool od_diff_is_same(const struct od_diff *d)
{
	for (size_t i = 0; i < d->n_changes; i++)
		if (d->changes[i].kind != OD_CHANGE_RENAMED || d->opts.strict_names)
			return false;
	return true;
}
