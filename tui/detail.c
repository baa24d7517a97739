/*
 * detail.c — rows of the overlays: the details of a selected row (a node's inputs,
 * outputs and attributes, a tensor's values, a change's two sides), the help drawn from
 * the key table, the report of the last freeze. Plain rows, like rows.c.
 */
#include "config.h"
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "keys.h"
#include "rows.h"
#include "shape.h"

#define VALUES_MAX 256          /* elements shown of a tensor */
#define VALUES_LINE 60          /* characters per line of values */

#define ADD(...) do { if ((rc = tui_pane_add(a, p, __VA_ARGS__))) return rc; } while (0)
#define LINE(...) ADD(TUI_COLOR_NORMAL, TUI_REF_NONE, NULL, NULL, __VA_ARGS__)
#define HEAD(...) ADD(TUI_COLOR_HEADER, TUI_REF_NONE, NULL, NULL, __VA_ARGS__)

static const char *s0(const char *s)
{
	return s ? s : "";
}

/* ---- tensor values -------------------------------------------------------------------- */

static void element(char *buf, size_t n, const struct od_tensor *t, int64_t i)
{
	od_tensor_elem_text(t, i, buf, n);
}

/* Values as nested brackets, "[[1, 0, 1, 1]]", into a malloc'd string. */
static char *values_text(const struct od_tensor *t)
{
	char *buf = NULL, el[64];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	int64_t shown = t->numel < VALUES_MAX ? t->numel : VALUES_MAX;
	if (!t->numel)
		fputs("[]", f);
	for (int d = 0; t->numel && d < t->ndims; d++)
		fputc('[', f);
	for (int64_t i = 0; i < shown; i++) {
		int k = 0;
		for (int64_t stride = 1, d = t->ndims - 1; i && d > 0; d--) {
			stride *= t->dims[d];
			if (i % stride)
				break;
			k++;
		}
		if (i)
			fprintf(f, "%.*s, %.*s", k, "]]]]]]]]]]]]]]]]", k, "[[[[[[[[[[[[[[[[");
		element(el, sizeof el, t, i);
		fputs(el, f);
	}
	if (shown < t->numel)
		fprintf(f, ", ... %" PRId64 " more", t->numel - shown);
	for (int d = 0; t->numel && d < t->ndims; d++)
		fputc(']', f);
	return fclose(f) ? (free(buf), NULL) : buf;
}

static int values_rows(struct od_arena *a, struct tui_pane *p, const struct od_tensor *t)
{
	int rc = 0;
	bool readable = t->dtype == OD_STRING ? t->strings != NULL : t->data && od_dtype_size(t->dtype);
	char *text = readable ? values_text(t) : NULL;
	if (!text) {
		LINE("  values    (not available)");
		return 0;
	}
	const char *label = "values";
	for (char *line = text; *line && !rc; label = "") {
		size_t n = strlen(line);
		if (n > VALUES_LINE) {   /* cut after a comma */
			char *cut = line + VALUES_LINE;
			while (cut > line && *cut != ',')
				cut--;
			n = cut > line ? (size_t)(cut - line) + 1 : VALUES_LINE;
		}
		rc = tui_pane_add(a, p, TUI_COLOR_NORMAL, TUI_REF_NONE, NULL, NULL, "  %-9s %.*s", label,
		                  (int)n, line);
		line += n;
		while (*line == ' ')
			line++;
	}
	free(text);
	return rc;
}

static int tensor_rows(struct od_arena *a, struct tui_pane *p, const struct od_tensor *t)
{
	char shape[256];
	int rc;
	LINE("  dtype     %s", od_dtype_name(t->dtype));
	LINE("  shape     %s (%" PRId64 " element%s, %zu bytes)", od_shape_str(t, shape, sizeof shape),
	     t->numel, t->numel == 1 ? "" : "s", t->nbytes);
	if (t->ext)
		LINE("  external  %s, offset %" PRId64, t->ext->location, t->ext->offset);
	return values_rows(a, p, t);
}

/* ---- graph lookups ---------------------------------------------------------------------- */

static const struct od_node *producer(const struct od_graph *g, const char *name)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t k = 0; k < g->nodes[i]->n_outputs; k++)
			if (!strcmp(g->nodes[i]->outputs[k], name))
				return g->nodes[i];
	return NULL;
}

static const char *node_label(struct od_arena *a, const struct od_node *n)
{
	return od_arena_printf(a, "%s%s%s '%s'", s0(n->domain), n->domain && *n->domain ? "." : "",
	                       n->op_type, s0(n->name));
}

/* Where a value comes from: "graph input", "initializer float[4,4]", "Gemm '/linear/Gemm'". */
static const char *origin(struct od_arena *a, const struct od_graph *g, const char *name)
{
	const struct od_tensor *t;
	const struct od_node *n;
	if (!*name)
		return "omitted";
	if (od_graph_find_input(g, name))
		return "graph input";
	if ((t = od_graph_find_init(g, name)))
		return od_arena_printf(a, "initializer %s", od_tensor_type_text(a, t));
	if ((n = producer(g, name)))
		return node_label(a, n);
	return g->parent ? "outer scope" : "undefined";
}

static int consumers(struct od_arena *a, struct tui_pane *p, const struct od_graph *g, const char *name)
{
	int rc;
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t k = 0; k < g->nodes[i]->n_inputs; k++)
			if (!strcmp(g->nodes[i]->inputs[k], name))
				LINE("  used by   %s input %zu", node_label(a, g->nodes[i]), k);
	if (od_graph_find_output(g, name))
		LINE("  used by   graph output");
	return 0;
}

/* ---- the details of each kind of row ---------------------------------------------------- */

static const char *attr_text(struct od_arena *a, const struct od_attr *at)
{
	char *s;
	switch (at->type) {
	case OD_ATTR_FLOAT: return od_arena_printf(a, "%g", at->f);
	case OD_ATTR_INT: return od_arena_printf(a, "%" PRId64, at->i);
	case OD_ATTR_STRING: return od_arena_printf(a, "\"%.*s\"", (int)at->s.len, (const char *)at->s.data);
	case OD_ATTR_TENSOR:
		return at->t ? od_arena_printf(a, "tensor %s", od_tensor_type_text(a, at->t)) : "tensor";
	case OD_ATTR_GRAPH:
		return od_arena_printf(a, "graph of %zu nodes", at->g ? od_graph_count_nodes(at->g) : 0);
	case OD_ATTR_INTS:
	case OD_ATTR_FLOATS:
		s = "[";
		for (size_t i = 0; s && i < at->n && i < 32; i++)
			s = at->type == OD_ATTR_INTS ? od_arena_printf(a, "%s%s%" PRId64, s, i ? ", " : "", at->ints[i])
			                             : od_arena_printf(a, "%s%s%g", s, i ? ", " : "", at->floats[i]);
		return s ? od_arena_printf(a, "%s%s]", s, at->n > 32 ? ", ..." : "") : NULL;
	default:
		return od_arena_printf(a, "(%zu values of type %d)", at->n, at->type);
	}
}

/* "float[batch,4]" for value name of g, from the inferred shapes (arena a). */
static const char *type_of(struct od_arena *a, const struct od_shapes *sh, const struct od_graph *g,
                           const char *name)
{
	char buf[256];
	const struct od_shape *v = sh && *name ? od_shapes_find(sh, g, name) : NULL;
	return od_arena_strdup(a, v ? od_shape_text(v, buf, sizeof buf) : "?");
}

/* A node's inputs and outputs, each with its inferred dtype and shape, and its attributes. */
static int node_detail(const struct od_model *m, const struct od_node *n, struct od_arena *a,
                       struct tui_pane *p)
{
	const struct od_graph *g = m->graph;
	struct od_shapes *sh = NULL;
	struct od_ctx ctx = {0};
	int rc = 0;
	if (od_shapes_infer(m, &sh, &ctx) == OD_ENOMEM)
		return OD_ENOMEM;
	HEAD("node %s", node_label(a, n));
	for (size_t i = 0; !rc && i < n->n_inputs; i++)
		rc = tui_pane_add(a, p, TUI_COLOR_NORMAL, TUI_REF_NONE, NULL, NULL, "  input %zu   %s  %s  (%s)", i,
		                  *n->inputs[i] ? n->inputs[i] : "\"\"", s0(type_of(a, sh, g, n->inputs[i])),
		                  origin(a, g, n->inputs[i]));
	for (size_t i = 0; !rc && i < n->n_outputs; i++)
		rc = tui_pane_add(a, p, TUI_COLOR_NORMAL, TUI_REF_NONE, NULL, NULL, "  output %zu  %s  %s%s", i,
		                  n->outputs[i], s0(type_of(a, sh, g, n->outputs[i])),
		                  od_graph_find_output(g, n->outputs[i]) ? "  (graph output)" : "");
	od_shapes_free(sh);
	for (size_t i = 0; !rc && i < n->n_attrs; i++) {
		const char *t = attr_text(a, &n->attrs[i]);
		rc = tui_pane_add(a, p, TUI_COLOR_NORMAL, TUI_REF_NONE, NULL, NULL, "  attr      %s = %s",
		                  n->attrs[i].name, s0(t));
	}
	return rc;
}

static int input_detail(const struct tui_session *s, const struct od_value *v, struct od_arena *a,
                        struct tui_pane *p)
{
	const struct tui_bind *b = tui_session_bind(s, v->name);
	int rc;
	HEAD("input %s", v->name);
	LINE("  type      %s", s0(v->type_str));
	if (!b) {
		LINE("  frozen    no (f freezes it)");
		return consumers(a, p, s->orig->graph, v->name);
	}
	LINE("  frozen    %s", b->spec);
	if ((rc = tensor_rows(a, p, b->value)))
		return rc;
	return consumers(a, p, s->orig->graph, v->name);
}

/* Elements from..to (clamped) of t as "i: v, i+1: v, ...", into buf. */
static void elements_at(char *buf, size_t n, const struct od_tensor *t, int64_t from, int64_t to)
{
	size_t len = 0;
	buf[0] = 0;
	for (int64_t i = from < 0 ? 0 : from; i <= to && i < t->numel && len + 1 < n; i++) {
		char el[64];
		element(el, sizeof el, t, i);
		len += (size_t)snprintf(buf + len, n - len, "%s[%" PRId64 "] %s", i > from && i ? ", " : "",
		                        i, el);
	}
}

/* A changed tensor: both sides' first values, then both around the first difference. */
static int both_sides(struct od_arena *a, struct tui_pane *p, const struct od_tensor *ta,
                      const struct od_tensor *tb, const struct od_tensor_delta *d)
{
	int rc;
	HEAD("a (%s)", od_dtype_name(ta->dtype));
	if ((rc = values_rows(a, p, ta)))
		return rc;
	HEAD("b (%s)", od_dtype_name(tb->dtype));
	if ((rc = values_rows(a, p, tb)))
		return rc;
	bool readable = ta->data && tb->data && ta->dtype != OD_STRING && tb->dtype != OD_STRING;
	if (d->compared && d->first_diff >= 0 && readable) {
		char ea[256], eb[256];
		elements_at(ea, sizeof ea, ta, d->first_diff - 2, d->first_diff + 2);
		elements_at(eb, sizeof eb, tb, d->first_diff - 2, d->first_diff + 2);
		HEAD("around the first difference (element %" PRId64 ")", d->first_diff);
		LINE("  a  %s", ea);
		LINE("  b  %s", eb);
	}
	return 0;
}

static int change_detail(const struct od_change *c, const struct tui_row *row, struct od_arena *a,
                         struct tui_pane *p)
{
	const struct od_tensor_delta *d = &c->delta;
	int rc;
	ADD(row->color, TUI_REF_NONE, NULL, NULL, "%s", row->text);
	LINE("  %s %s in %s", od_change_kind_name(c->kind), od_change_what_name(c->what), s0(c->path));
	if (c->a_name)
		LINE("  a name    %s", *c->a_name ? c->a_name : "(unnamed)");
	if (c->b_name)
		LINE("  b name    %s", *c->b_name ? c->b_name : "(unnamed)");
	if (c->key)
		LINE("  key       %s", c->key);
	if (c->old_text)
		LINE("  a         %s", c->old_text);
	if (c->new_text)
		LINE("  b         %s", c->new_text);
	if (d->compared) {
		char t[200];
		LINE("  values    %s, first at %" PRId64, od_tensor_delta_text(d, t, sizeof t), d->first_diff);
	}
	if (c->a_tensor && c->b_tensor && (rc = both_sides(a, p, c->a_tensor, c->b_tensor, d)))
		return rc;
	if (c->a_node && c->what == OD_CHANGE_NODE)
		LINE("  a node    %s", node_label(a, c->a_node));
	if (c->b_node && c->what == OD_CHANGE_NODE)
		LINE("  b node    %s", node_label(a, c->b_node));
	return 0;
}

int tui_rows_detail(const struct tui_session *s, const struct tui_row *row, struct od_arena *a,
                    struct tui_pane *p)
{
	const struct od_graph *g = s->cur->graph;
	int rc;
	memset(p, 0, sizeof *p);
	p->title = "Details";
	switch (row->ref) {
	case TUI_REF_INPUT:
		return input_detail(s, row->item, a, p);
	case TUI_REF_OUTPUT: {
		const struct od_value *v = row->item;
		const struct od_node *n = producer(g, v->name);
		HEAD("output %s", v->name);
		LINE("  type      %s", s0(v->type_str));
		LINE("  from      %s", n ? node_label(a, n) : origin(a, g, v->name));
		return 0;
	}
	case TUI_REF_INIT: {
		const struct od_tensor *t = row->item;
		HEAD("initializer %s%s", t->name, tui_session_bind(s, t->name) ? " (frozen input)" : "");
		if ((rc = tensor_rows(a, p, t)))
			return rc;
		return consumers(a, p, g, t->name);
	}
	case TUI_REF_NODE:
		return node_detail(s->cur, row->item, a, p);
	case TUI_REF_OP:
		HEAD("operator %s", row->name);
		for (size_t i = 0; i < g->n_nodes; i++)
			if (!strcmp(row->name, g->nodes[i]->op_type) || !strcmp(row->name, node_label(a, g->nodes[i])))
				LINE("  %s", *g->nodes[i]->name ? g->nodes[i]->name : "(unnamed)");
		return 0;
	case TUI_REF_CHANGE:
		return change_detail(row->item, row, a, p);
	default:
		ADD(row->color, TUI_REF_NONE, NULL, NULL, "%s", row->text);
		return 0;
	}
}

/* ---- help and report --------------------------------------------------------------------- */

int tui_rows_help(struct od_arena *a, struct tui_pane *p)
{
	int rc;
	memset(p, 0, sizeof *p);
	p->title = "Keys";
	for (size_t i = 0; i < tui_n_bindings; i++) {
		char keys[64] = "", name[24];
		for (int k = 0; k < 3 && tui_bindings[i].keys[k]; k++)
			snprintf(keys + strlen(keys), sizeof keys - strlen(keys), "%s%s", k ? " " : "",
			         tui_key_name(tui_bindings[i].keys[k], name, sizeof name));
		LINE("  %-16s %s", keys, tui_bindings[i].help);
	}
	LINE("%s", "");
	LINE("  in prompts: Enter accepts, Esc cancels, C-u clears");
	return 0;
}

static int collect(void *priv, const char *buf, size_t len)
{
	char **text = priv;
	size_t old = *text ? strlen(*text) : 0;
	char *n = realloc(*text, old + len + 1);
	if (!n)
		return OD_ENOMEM;
	memcpy(n + old, buf, len);
	n[old + len] = 0;
	*text = n;
	return 0;
}

int tui_rows_report(const struct tui_session *s, struct od_arena *a, struct tui_pane *p)
{
	char *text = NULL;
	int rc = 0;
	memset(p, 0, sizeof *p);
	p->title = "Freeze report";
	if (!s->report)
		return tui_pane_add(a, p, TUI_COLOR_DIM, TUI_REF_NONE, NULL, NULL, "nothing frozen yet");
	if ((rc = od_freeze_report_text(s->report, collect, &text)) || !text) {
		free(text);
		return rc;
	}
	for (char *line = text, *nl; *line && !rc; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		rc = tui_pane_add(a, p, TUI_COLOR_NORMAL, TUI_REF_NONE, NULL, NULL, "%s", line);
	}
	free(text);
	return rc;
}
