/*
 * rows.c — the session as rows (see rows.h): inputs of A with what is frozen, outputs,
 * initializers and nodes by operator of the current model, the live diff, the status line.
 * Plain text and colour roles only; the same rows feed the screen and the unit tests.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rows.h"

#define NAME_WIDTH_MAX 24      /* names longer than this push the type to the right */

int tui_pane_add(struct od_arena *a, struct tui_pane *p, int color, int ref, const void *item,
                 const char *name, const char *fmt, ...)
{
	va_list ap;
	char buf[1024], safe[1024], *text;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return OD_ENOMEM;
	od_text_escape(safe, sizeof safe, buf);   /* longer rows are cut: no screen is that wide */
	if (!(text = od_arena_strdup(a, safe)))
		return OD_ENOMEM;
	if (p->n == p->cap &&
	    !(p->rows = od_arena_grow(a, p->rows, p->n, sizeof *p->rows, &p->cap, p->n + 1)))
		return OD_ENOMEM;
	p->rows[p->n++] = (struct tui_row){text, color, ref, item, name};
	return 0;
}

/* ---- text of types --------------------------------------------------------------------- */

/* Widest name among values (their name is their first field). */
static int values_width(struct od_value *const *v, size_t n)
{
	int w = 1;
	for (size_t i = 0; i < n; i++) {
		int l = (int)strlen(v[i]->name);
		w = l > w ? l : w;
	}
	return w > NAME_WIDTH_MAX ? NAME_WIDTH_MAX : w;
}

/* ---- the model panes ---------------------------------------------------------------------- */

static int inputs_pane(const struct tui_session *s, struct od_arena *a, struct tui_pane *p)
{
	const struct od_graph *g = s->orig->graph;
	int w = values_width(g->inputs, g->n_inputs), rc = 0;
	for (size_t i = 0; i < g->n_inputs && !rc; i++) {
		const struct od_value *v = g->inputs[i];
		const struct tui_bind *b = tui_session_bind(s, v->name);
		const char *type = od_value_type_text(a, v);
		if (b)
			rc = tui_pane_add(a, p, TUI_COLOR_FROZEN, TUI_REF_INPUT, v, v->name, "%-*s %s = %s",
			                  w, v->name, type, b->spec);
		else if (!od_graph_find_input(s->cur->graph, v->name))
			rc = tui_pane_add(a, p, TUI_COLOR_DIM, TUI_REF_INPUT, v, v->name, "%-*s %s (gone)",
			                  w, v->name, type);
		else
			rc = tui_pane_add(a, p, TUI_COLOR_NORMAL, TUI_REF_INPUT, v, v->name, "%-*s %s",
			                  w, v->name, type);
	}
	p->title = s->binds.n ? od_arena_printf(a, "Inputs %zu, %zu frozen", g->n_inputs, s->binds.n)
	                      : od_arena_printf(a, "Inputs %zu", g->n_inputs);
	return rc;
}

static int outputs_pane(const struct tui_session *s, struct od_arena *a, struct tui_pane *p)
{
	const struct od_graph *g = s->cur->graph;
	int w = values_width(g->outputs, g->n_outputs), rc = 0;
	for (size_t i = 0; i < g->n_outputs && !rc; i++)
		rc = tui_pane_add(a, p, TUI_COLOR_NORMAL, TUI_REF_OUTPUT, g->outputs[i],
		                  g->outputs[i]->name, "%-*s %s", w, g->outputs[i]->name,
		                  od_value_type_text(a, g->outputs[i]));
	p->title = od_arena_printf(a, "Outputs %zu", g->n_outputs);
	return rc;
}

static int inits_pane(const struct tui_session *s, struct od_arena *a, struct tui_pane *p)
{
	const struct od_graph *g = s->cur->graph;
	int w = 1, rc = 0;
	for (size_t i = 0; i < g->n_inits; i++) {
		int l = (int)strlen(g->inits[i]->name);
		w = l > w ? (l > NAME_WIDTH_MAX ? NAME_WIDTH_MAX : l) : w;
	}
	for (size_t i = 0; i < g->n_inits && !rc; i++) {
		const struct od_tensor *t = g->inits[i];
		bool frozen = tui_session_bind(s, t->name) != NULL;
		rc = tui_pane_add(a, p, frozen ? TUI_COLOR_FROZEN : TUI_COLOR_NORMAL, TUI_REF_INIT, t,
		                  t->name, "%-*s %s%s", w, t->name, od_tensor_type_text(a, t),
		                  frozen ? " (frozen)" : "");
	}
	p->title = od_arena_printf(a, "Initializers %zu", g->n_inits);
	return rc;
}

static const struct od_graph *sort_graph;

/* By domain, then op type, then position in the graph. */
static int by_op(const void *x, const void *y)
{
	const struct od_node *a = sort_graph->nodes[*(const size_t *)x];
	const struct od_node *b = sort_graph->nodes[*(const size_t *)y];
	int c = strcmp(a->domain ? a->domain : "", b->domain ? b->domain : "");
	if (!c)
		c = strcmp(a->op_type, b->op_type);
	if (!c)
		c = *(const size_t *)x < *(const size_t *)y ? -1 : 1;
	return c;
}

static const char *op_label(struct od_arena *a, const struct od_node *n)
{
	return n->domain && *n->domain ? od_arena_printf(a, "%s.%s", n->domain, n->op_type) : n->op_type;
}

static int node_row(struct od_arena *a, struct tui_pane *p, const struct od_node *n, size_t i)
{
	if (n->name && *n->name)
		return tui_pane_add(a, p, TUI_COLOR_NORMAL, TUI_REF_NODE, n, n->name, "  %s", n->name);
	return tui_pane_add(a, p, TUI_COLOR_NORMAL, TUI_REF_NODE, n, "", "  #%zu -> %s", i,
	                    n->n_outputs ? n->outputs[0] : "");
}

static int nodes_pane(const struct tui_session *s, struct od_arena *a, struct tui_pane *p)
{
	const struct od_graph *g = s->cur->graph;
	size_t *order = od_arena_alloc(a, (g->n_nodes + 1) * sizeof *order), n_ops = 0;
	int rc = 0;
	if (!order)
		return OD_ENOMEM;
	for (size_t i = 0; i < g->n_nodes; i++)
		order[i] = i;
	sort_graph = g;
	qsort(order, g->n_nodes, sizeof *order, by_op);
	for (size_t i = 0, j; i < g->n_nodes && !rc; i = j) {
		const struct od_node *first = g->nodes[order[i]];
		for (j = i + 1; j < g->n_nodes && !strcmp(g->nodes[order[j]]->op_type, first->op_type) &&
		                !strcmp(g->nodes[order[j]]->domain ? g->nodes[order[j]]->domain : "",
		                        first->domain ? first->domain : "");
		     j++)
			;
		const char *op = op_label(a, first);
		rc = tui_pane_add(a, p, TUI_COLOR_HEADER, TUI_REF_OP, NULL, op, "%s (%zu)", op, j - i);
		for (size_t k = i; k < j && !rc; k++)
			rc = node_row(a, p, g->nodes[order[k]], order[k]);
		n_ops++;
	}
	size_t all = od_graph_count_nodes(g);
	p->title = all > g->n_nodes
	           ? od_arena_printf(a, "Nodes %zu, %zu ops, +%zu in subgraphs", g->n_nodes, n_ops, all - g->n_nodes)
	           : od_arena_printf(a, "Nodes %zu, %zu ops", g->n_nodes, n_ops);
	return rc;
}

/* ---- the diff pane (the format of `onnxdiff diff`, one row per change) ------------------- */

static const char *s0(const char *s)
{
	return s ? s : "";
}

static const char *arrow(struct od_arena *a, const char *x, const char *y)
{
	if (x && y && strcmp(x, y))
		return od_arena_printf(a, "%s -> %s", x, y);
	return x ? x : s0(y);
}

static const char *names(struct od_arena *a, const struct od_change *c)
{
	return arrow(a, c->a_name, c->b_name);
}

static const char *delta_text(struct od_arena *a, const struct od_tensor_delta *d)
{
	char t[200];
	if (!d->compared)
		return "";
	return od_arena_printf(a, ", %s", od_tensor_delta_text(d, t, sizeof t));
}

/* The text after the sign; NULL when out of memory. */
static const char *change_text(struct od_arena *a, const struct od_change *c)
{
	const char *what = od_change_what_name(c->what), *node;
	switch (c->what) {
	case OD_CHANGE_ATTRIBUTE:
		return od_arena_printf(a, "    attribute %s: %s%s", s0(c->key), arrow(a, c->old_text, c->new_text),
		                       delta_text(a, &c->delta));
	case OD_CHANGE_PORT:
		if (c->kind == OD_CHANGE_CHANGED)
			return od_arena_printf(a, "    input %d: was %s, now %s", c->port, s0(c->old_text),
			                       s0(c->new_text));
		return od_arena_printf(a, "    input %d: %s", c->port, c->old_text ? c->old_text : s0(c->new_text));
	case OD_CHANGE_OUTPUTS:
		return od_arena_printf(a, "    outputs: %s -> %s", s0(c->old_text), s0(c->new_text));
	case OD_CHANGE_NODE:
		if (c->kind == OD_CHANGE_ADDED || c->kind == OD_CHANGE_REMOVED)
			return od_arena_printf(a, "node %s", s0(c->key ? c->key : c->a_name ? c->a_name : c->b_name));
		node = c->old_text ? c->old_text
		       : c->a_node ? od_arena_printf(a, "%s '%s'", c->a_node->op_type, s0(c->a_name)) : s0(c->a_name);
		if (c->a_name && c->b_name && strcmp(c->a_name, c->b_name))
			return od_arena_printf(a, "node %s -> '%s'", node, c->b_name);
		return od_arena_printf(a, "node %s", node);
	case OD_CHANGE_INPUT:
	case OD_CHANGE_OUTPUT:
	case OD_CHANGE_FUNCTION:
		if (c->key)
			return od_arena_printf(a, "%s %s: %s", what, c->what == OD_CHANGE_FUNCTION ? c->key : names(a, c),
			                       arrow(a, c->old_text, c->new_text));
		return od_arena_printf(a, "%s %s: %s", what, names(a, c), arrow(a, c->old_text, c->new_text));
	case OD_CHANGE_INITIALIZER:
		return od_arena_printf(a, "initializer %s: %s%s", names(a, c), arrow(a, c->old_text, c->new_text),
		                       c->kind == OD_CHANGE_CHANGED ? delta_text(a, &c->delta) : "");
	case OD_CHANGE_OPSET:
		return od_arena_printf(a, "opset %s: %s", c->key && *c->key ? c->key : "ai.onnx",
		                       arrow(a, c->old_text, c->new_text));
	case OD_CHANGE_DOC:
		return od_arena_printf(a, "doc string of %s %s", s0(c->key), od_change_kind_name(c->kind));
	default:
		return od_arena_printf(a, "%s%s%s: %s", what, c->key ? " " : "", s0(c->key),
		                       arrow(a, c->old_text ? c->old_text : "(none)",
		                             c->new_text ? c->new_text : "(none)"));
	}
}

static int change_color(int kind)
{
	switch (kind) {
	case OD_CHANGE_ADDED: return TUI_COLOR_ADDED;
	case OD_CHANGE_REMOVED: return TUI_COLOR_REMOVED;
	case OD_CHANGE_CHANGED: return TUI_COLOR_CHANGED;
	default: return TUI_COLOR_RENAMED;
	}
}

static int change_row(struct od_arena *a, struct tui_pane *p, const struct od_change *c)
{
	const char *text = change_text(a, c);
	if (!text)
		return OD_ENOMEM;
	return tui_pane_add(a, p, change_color(c->kind), TUI_REF_CHANGE, c,
	                    c->a_name ? c->a_name : c->b_name, "%c %s", od_change_kind_sign(c->kind), text);
}

/* One path's changes [from, to): real changes with their details, then renames. */
static int diff_section(const struct od_diff *d, size_t from, size_t to, struct od_arena *a,
                        struct tui_pane *p)
{
	int rc = tui_pane_add(a, p, TUI_COLOR_HEADER, TUI_REF_NONE, NULL, NULL, "@@ %s @@",
	                      d->changes[from].path);
	for (int renames = 0; renames < 2; renames++)
		for (size_t i = from; i < to && !rc; i++) {
			const struct od_change *c = &d->changes[i];
			const struct od_change *top = c->parent >= 0 ? &d->changes[c->parent] : c;
			if ((top->kind == OD_CHANGE_RENAMED) == renames)
				rc = change_row(a, p, c);
		}
	return rc;
}

static int diff_pane(const struct tui_session *s, struct od_arena *a, struct tui_pane *p)
{
	const struct od_diff *d = s->diff;
	const char *vs = s->b ? "Diff vs B" : "Diff vs original A";
	int rc = 0;
	if (!d) {
		p->title = vs;
		return tui_pane_add(a, p, TUI_COLOR_ERROR, TUI_REF_NONE, NULL, NULL, "diff failed: %s",
		                    s->diff_error);
	}
	const size_t *k = d->stat.count;
	p->title = od_arena_printf(a, "%s  -%zu +%zu ~%zu =%zu", vs, k[OD_CHANGE_REMOVED],
	                           k[OD_CHANGE_ADDED], k[OD_CHANGE_CHANGED], k[OD_CHANGE_RENAMED]);
	if (!k[OD_CHANGE_REMOVED] && !k[OD_CHANGE_ADDED] && !k[OD_CHANGE_CHANGED])
		rc = tui_pane_add(a, p, TUI_COLOR_DIM, TUI_REF_NONE, NULL, NULL, d->n_changes
		                  ? "no differences apart from renames" : "no differences");
	for (size_t i = 0, j; i < d->n_changes && !rc; i = j) {
		for (j = i + 1; j < d->n_changes && !strcmp(d->changes[j].path, d->changes[i].path); j++)
			;
		rc = diff_section(d, i, j, a, p);
	}
	return rc;
}

/* ---- the status line ------------------------------------------------------------------------ */

/* What the graphs' diff says: "graph: equal to B", "graph: 3 differences from B". */
static const char *graph_state(const struct tui_session *s, struct od_arena *a, bool *equal)
{
	const char *folded = s->fold ? " (both folded)" : "";
	*equal = false;
	if (!s->diff)
		return od_arena_printf(a, "graph: diff failed");
	const size_t *k = s->diff->stat.count;
	size_t n = k[OD_CHANGE_ADDED] + k[OD_CHANGE_REMOVED] + k[OD_CHANGE_CHANGED];
	*equal = n == 0;
	return n ? od_arena_printf(a, "graph: %zu difference%s from B%s", n, n == 1 ? "" : "s", folded)
	         : od_arena_printf(a, "graph: equal to B%s", folded);
}

/* inputs (and with B whether they are B's) and whether the graphs are equal: two facts,
 * each stated, so that a match of the inputs never reads as a match of the models. */
static int status_line(const struct tui_session *s, const struct tui_rows_opts *o,
                       struct tui_rows *r)
{
	struct od_arena *a = r->arena;
	const struct od_graph *g = s->cur->graph, *h = s->b ? s->b->graph : NULL;
	char *list = "";
	bool equal = false;
	for (size_t i = 0; list && i < g->n_inputs; i++)
		list = od_arena_printf(a, "%s%s%s", list, i ? ", " : "", g->inputs[i]->name);
	if (list && !g->n_inputs)
		list = "(none)";
	r->match = tui_session_inputs_match(s);
	if (!list)
		return OD_ENOMEM;
	if (!h) {
		r->status = od_arena_printf(a, "inputs: %s", list);
		r->status_color = TUI_COLOR_STATUS;
		return r->status ? 0 : OD_ENOMEM;
	}
	const char *graph = graph_state(s, a, &equal);
	const char *sep = o->ascii ? " | " : "  \u00b7  ";
	if (r->match) {
		r->status = graph ? od_arena_printf(a, "inputs: %s, as in B%s%s%s", list, sep,
		                                    equal && !o->ascii ? "\u2713 " : "", graph) : NULL;
	} else {
		char *theirs = "";
		for (size_t i = 0; theirs && i < h->n_inputs; i++)
			theirs = od_arena_printf(a, "%s%s%s", theirs, i ? ", " : "", h->inputs[i]->name);
		r->status = theirs && graph ? od_arena_printf(a, "inputs: %s (B has: %s)%s%s", list,
		                                              h->n_inputs ? theirs : "none", sep, graph) : NULL;
	}
	r->status_color = r->match && equal ? TUI_COLOR_MATCH : TUI_COLOR_MISMATCH;
	return r->status ? 0 : OD_ENOMEM;
}

int tui_rows_build(const struct tui_session *s, const struct tui_rows_opts *opts,
                   struct tui_rows **out)
{
	static const struct tui_rows_opts defaults;
	struct od_arena *a = od_arena_new();
	struct tui_rows *r = a ? od_arena_alloc(a, sizeof *r) : NULL;
	*out = NULL;
	if (!r) {
		od_arena_free(a);
		return OD_ENOMEM;
	}
	r->arena = a;
	int rc = inputs_pane(s, a, &r->pane[TUI_PANE_INPUTS]);
	if (!rc)
		rc = outputs_pane(s, a, &r->pane[TUI_PANE_OUTPUTS]);
	if (!rc)
		rc = inits_pane(s, a, &r->pane[TUI_PANE_INITS]);
	if (!rc)
		rc = nodes_pane(s, a, &r->pane[TUI_PANE_NODES]);
	if (!rc)
		rc = diff_pane(s, a, &r->pane[TUI_PANE_DIFF]);
	if (!rc)
		rc = status_line(s, opts ? opts : &defaults, r);
	for (int i = 0; !rc && i < TUI_PANE_MAX; i++)
		if (!r->pane[i].title)
			rc = OD_ENOMEM;
	if (rc) {
		od_arena_free(a);
		return rc;
	}
	*out = r;
	return 0;
}

void tui_rows_free(struct tui_rows *r)
{
	if (r)
		od_arena_free(r->arena);
}
