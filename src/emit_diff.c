/*
 * emit_diff.c — renderers of a change list: git-like text, JSON ("onnxdiff-diff/1") and
 * --stat. They only read struct od_diff and write through a callback.
 *
 * Text: "--- a/A" / "+++ b/B", then one "@@ path @@" section per graph; in each section
 * real changes first, renames after them. A line starts with the sign of its kind
 * (- removed, + added, ~ changed, = renamed); details of a node are indented under it.
 */
#include "config.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "diff.h"
#include "internal.h"

/* Colour roles, git's defaults where git has the role. */
enum role { R_NONE, R_META, R_FRAG, R_ADDED, R_REMOVED, R_CHANGED, R_RENAMED };
static const char *const ansi[] = {
	[R_NONE] = "", [R_META] = "\033[1m", [R_FRAG] = "\033[36m", [R_ADDED] = "\033[32m",
	[R_REMOVED] = "\033[31m", [R_CHANGED] = "\033[33m", [R_RENAMED] = "\033[35m",
};

/* Output goes through a buffer: the callback sees a few large writes, not one per word. */
struct printer {
	od_write_fn out;
	void *priv;
	int rc;
	bool color;
	size_t len;
	char buf[8192];
};

static void flush(struct printer *p)
{
	if (!p->rc && p->len)
		p->rc = p->out(p->priv, p->buf, p->len);
	p->len = 0;
}

static void OD_PRINTF(2, 3) pr(struct printer *p, const char *fmt, ...)
{
	va_list ap;
	if (p->rc)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(p->buf + p->len, sizeof p->buf - p->len, fmt, ap);
	va_end(ap);
	if (n < 0 || p->len + (size_t)n < sizeof p->buf) {
		p->len += n > 0 ? (size_t)n : 0;
		return;
	}
	flush(p);
	if ((size_t)n < sizeof p->buf) {
		va_start(ap, fmt);
		p->len = (size_t)vsnprintf(p->buf, sizeof p->buf, fmt, ap);
		va_end(ap);
		return;
	}
	char *big = od_malloc((size_t)n + 1);
	if (!big) {
		p->rc = OD_ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (!p->rc)
		p->rc = p->out(p->priv, big, (size_t)n);
	od_free(big);
}

/* Flushes and returns the first error. */
static int done(struct printer *p)
{
	flush(p);
	return p->rc;
}

static void on(struct printer *p, enum role r)
{
	if (p->color && r != R_NONE)
		pr(p, "%s", ansi[r]);
}

static void off(struct printer *p, enum role r)
{
	if (p->color && r != R_NONE)
		pr(p, "\033[m");
}

static enum role role_of(int kind)
{
	switch (kind) {
	case OD_CHANGE_ADDED: return R_ADDED;
	case OD_CHANGE_REMOVED: return R_REMOVED;
	case OD_CHANGE_CHANGED: return R_CHANGED;
	default: return R_RENAMED;
	}
}

static const char *s0(const char *s)
{
	return s ? s : "";
}

static const char *domain_name(const char *d)
{
	return d && *d ? d : "ai.onnx";
}

/* "1 of 16 elements differ, max abs 0.5, max rel 0.25" */
static void delta_text(char *buf, size_t n, const struct od_tensor_delta *d)
{
	if (!d->compared) {
		buf[0] = 0;
		return;
	}
	snprintf(buf, n, ": %" PRId64 " of %" PRId64 " element%s differ%s (max abs %.6g, max rel %.6g)",
	         d->n_diff, d->numel, d->numel == 1 ? "" : "s", d->n_diff == 1 ? "s" : "",
	         d->max_abs, d->max_rel);
}

/* "a -> b" when both sides have a text and they differ, else the one there is. */
static void arrow(struct printer *p, const char *a, const char *b)
{
	if (a && b && strcmp(a, b))
		pr(p, "%s -> %s", a, b);
	else
		pr(p, "%s", a ? a : s0(b));
}

/* "x" or "x -> y" for the names of the item on each side. */
static void names(struct printer *p, const struct od_change *c)
{
	if (c->a_name && c->b_name && strcmp(c->a_name, c->b_name))
		pr(p, "%s -> %s", c->a_name, c->b_name);
	else
		pr(p, "%s", c->a_name ? c->a_name : s0(c->b_name));
}

static void detail_line(struct printer *p, const struct od_change *c)
{
	char delta[160];
	switch (c->what) {
	case OD_CHANGE_ATTRIBUTE:
		delta_text(delta, sizeof delta, &c->delta);
		pr(p, "attribute %s: ", s0(c->key));
		arrow(p, c->old_text, c->new_text);
		pr(p, "%s", delta);
		break;
	case OD_CHANGE_PORT:
		if (c->kind == OD_CHANGE_CHANGED)
			pr(p, "input %d: was %s, now %s", c->port, s0(c->old_text), s0(c->new_text));
		else
			pr(p, "input %d: %s", c->port, c->old_text ? c->old_text : s0(c->new_text));
		break;
	case OD_CHANGE_OUTPUTS:
		pr(p, "outputs: %s -> %s", s0(c->old_text), s0(c->new_text));
		break;
	case OD_CHANGE_OP:
		pr(p, "op: %s -> %s", s0(c->old_text), s0(c->new_text));
		break;
	default:
		break;
	}
}

static void node_line(struct printer *p, const struct od_change *c)
{
	if (c->kind == OD_CHANGE_ADDED || c->kind == OD_CHANGE_REMOVED) {
		pr(p, "node %s%s%s", c->kind == OD_CHANGE_ADDED ? s0(c->new_text) : s0(c->old_text),
		   c->context ? ": " : "", s0(c->context));
		return;
	}
	if (c->old_text)
		pr(p, "node %s", c->old_text);
	else if (c->a_node)
		pr(p, "node %s '%s'", c->a_node->op_type, s0(c->a_name));
	if (c->b_name && c->a_name && strcmp(c->a_name, c->b_name))
		pr(p, " -> '%s'", c->b_name);
}

static void item_line(struct printer *p, const struct od_change *c)
{
	char delta[160];
	const char *what = od_change_what_name(c->what);
	switch (c->what) {
	case OD_CHANGE_IR_VERSION:
		pr(p, "ir_version: ");
		arrow(p, c->old_text, c->new_text);
		break;
	case OD_CHANGE_PRODUCER:
	case OD_CHANGE_MODEL:
	case OD_CHANGE_METADATA:
		pr(p, "%s%s%s: ", c->what == OD_CHANGE_MODEL ? "" : what,
		   c->what == OD_CHANGE_MODEL ? "" : " ", s0(c->key));
		arrow(p, c->old_text ? c->old_text : "(none)", c->new_text ? c->new_text : "(none)");
		break;
	case OD_CHANGE_DOC:
		pr(p, "doc string of %s %s", s0(c->key),
		   c->kind == OD_CHANGE_ADDED ? "added" : c->kind == OD_CHANGE_REMOVED ? "removed" : "changed");
		break;
	case OD_CHANGE_OPSET:
		pr(p, "opset %s: ", domain_name(c->key));
		arrow(p, c->old_text, c->new_text);
		break;
	case OD_CHANGE_INPUT:
	case OD_CHANGE_OUTPUT:
		pr(p, "%s ", what);
		names(p, c);
		if (c->key)         /* an output now returns another value */
			pr(p, ": was %s, now %s", s0(c->old_text), s0(c->new_text));
		else {
			pr(p, ": ");
			arrow(p, c->old_text, c->new_text);
		}
		break;
	case OD_CHANGE_INITIALIZER:
		delta_text(delta, sizeof delta, &c->delta);
		pr(p, "initializer ");
		names(p, c);
		pr(p, ": ");
		arrow(p, c->old_text, c->new_text);
		if (c->kind == OD_CHANGE_CHANGED)
			pr(p, "%s", delta);
		break;
	case OD_CHANGE_NODE:
		node_line(p, c);
		break;
	case OD_CHANGE_FUNCTION:
		if (c->key) {
			pr(p, "function %s: ", c->key);
			arrow(p, c->old_text ? c->old_text : "(none)", c->new_text ? c->new_text : "(none)");
		} else {
			pr(p, "function ");
			names(p, c);
		}
		break;
	default:
		detail_line(p, c);
		break;
	}
}

/* ", read by Mul '/Mul' input 1" after an added or removed input or initializer. */
static void context(struct printer *p, const struct od_change *c)
{
	if (c->context && c->what != OD_CHANGE_NODE)
		pr(p, ", %s", c->context);
}

static void line(struct printer *p, const struct od_change *c)
{
	enum role r = role_of(c->kind);
	on(p, r);
	pr(p, "%c ", od_change_kind_sign(c->kind));
	if (c->parent >= 0) {
		pr(p, "    ");
		detail_line(p, c);
	} else {
		item_line(p, c);
		context(p, c);
	}
	off(p, r);
	pr(p, "\n");
}

static const char *label(const char *given, const struct od_model *m, const char *prefix,
                         char *buf, size_t n)
{
	if (given)
		return given;
	snprintf(buf, n, "%s%s", prefix, m && m->path ? m->path : "?");
	return buf;
}

/* One path's block [from, to): changes first, renames after (nodes counted unless asked). */
static void section(struct printer *p, const struct od_diff *d, size_t from, size_t to,
                    const struct od_emit_opts *o)
{
	size_t node_renames = 0;
	on(p, R_FRAG);
	pr(p, "@@ %s @@", d->changes[from].path);
	off(p, R_FRAG);
	pr(p, "\n");
	for (size_t i = from; i < to; i++)
		if (d->changes[i].kind != OD_CHANGE_RENAMED)
			line(p, &d->changes[i]);
	for (size_t i = from; i < to; i++) {
		const struct od_change *c = &d->changes[i];
		if (c->kind != OD_CHANGE_RENAMED)
			continue;
		if (c->what == OD_CHANGE_NODE && !o->list_renames)
			node_renames++;
		else
			line(p, c);
	}
	if (node_renames) {
		on(p, R_RENAMED);
		pr(p, "= %zu node%s renamed", node_renames, node_renames == 1 ? "" : "s");
		off(p, R_RENAMED);
		pr(p, "\n");
	}
}

int od_diff_emit_text(const struct od_diff *d, const struct od_emit_opts *o, od_write_fn out,
                      void *priv)
{
	static const struct od_emit_opts none;
	struct printer p = {.out = out, .priv = priv};
	char la[1024], lb[1024];
	if (!o)
		o = &none;
	p.color = o->color;
	if (!d->n_changes)
		return 0;
	on(&p, R_META);
	pr(&p, "--- %s", label(o->a_label, d->a, "", la, sizeof la));
	off(&p, R_META);
	pr(&p, "\n");
	on(&p, R_META);
	pr(&p, "+++ %s", label(o->b_label, d->b, "", lb, sizeof lb));
	off(&p, R_META);
	pr(&p, "\n");
	for (size_t i = 0, j; i < d->n_changes && !p.rc; i = j) {
		for (j = i + 1; j < d->n_changes && !strcmp(d->changes[j].path, d->changes[i].path); j++)
			;
		section(&p, d, i, j, o);
	}
	return done(&p);
}

/* ---- stat ------------------------------------------------------------------------------------ */

static void count_line(struct printer *p, const char *what, long long a, long long b)
{
	pr(p, " %-12s %lld -> %lld", what, a, b);
	if (a != b) {
		on(p, b > a ? R_ADDED : R_REMOVED);
		pr(p, " (%+lld)", b - a);
		off(p, b > a ? R_ADDED : R_REMOVED);
	}
	pr(p, "\n");
}

int od_diff_emit_stat(const struct od_diff *d, const struct od_emit_opts *o, od_write_fn out,
                      void *priv)
{
	struct printer p = {.out = out, .priv = priv, .color = o && o->color};
	const struct od_diff_stat *s = &d->stat;
	count_line(&p, "nodes", (long long)s->nodes_a, (long long)s->nodes_b);
	count_line(&p, "parameters", (long long)s->params_a, (long long)s->params_b);
	count_line(&p, "bytes", (long long)s->bytes_a, (long long)s->bytes_b);
	for (size_t i = 0; i < s->n_ops; i++) {
		const struct od_diff_opcount *op = &s->ops[i];
		char name[256];
		if (op->a == op->b)
			continue;
		snprintf(name, sizeof name, "%s%s%s", op->domain, *op->domain ? "." : "", op->op_type);
		pr(&p, "  ");
		count_line(&p, name, (long long)op->a, (long long)op->b);
	}
	pr(&p, " %zu added, %zu removed, %zu changed, %zu renamed\n", s->count[OD_CHANGE_ADDED],
	   s->count[OD_CHANGE_REMOVED], s->count[OD_CHANGE_CHANGED], s->count[OD_CHANGE_RENAMED]);
	return done(&p);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *change_json(const struct od_change *c)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o}", "kind", od_change_kind_name(c->kind),
	                      "what", od_change_what_name(c->what), "path", c->path,
	                      "a", str_or_null(c->a_name), "b", str_or_null(c->b_name));
	if (!o)
		return NULL;
	const struct od_node *n = c->a_node ? c->a_node : c->b_node;
	if (c->what == OD_CHANGE_NODE && n)
		json_object_set_new(o, "op", json_string(n->op_type));
	if (c->key)
		json_object_set_new(o, "key", json_string(c->key));
	if (c->port >= 0)
		json_object_set_new(o, "port", json_integer(c->port));
	if (c->old_text || c->new_text) {
		json_object_set_new(o, "old", str_or_null(c->old_text));
		json_object_set_new(o, "new", str_or_null(c->new_text));
	}
	if (c->context)
		json_object_set_new(o, "context", json_string(c->context));
	if (c->delta.compared)
		json_object_set_new(o, "values", json_pack("{s:I, s:I, s:f, s:f, s:I}",
		                    "numel", (json_int_t)c->delta.numel,
		                    "differ", (json_int_t)c->delta.n_diff,
		                    "max_abs", c->delta.max_abs, "max_rel", c->delta.max_rel,
		                    "first", (json_int_t)c->delta.first_diff));
	return o;
}

static json_t *stat_json(const struct od_diff *d)
{
	const struct od_diff_stat *s = &d->stat;
	json_t *ops = json_array();
	for (size_t i = 0; ops && i < s->n_ops; i++)
		json_array_append_new(ops, json_pack("{s:s, s:s, s:I, s:I}", "domain",
		                      domain_name(s->ops[i].domain), "op", s->ops[i].op_type,
		                      "a", (json_int_t)s->ops[i].a, "b", (json_int_t)s->ops[i].b));
	return json_pack("{s:[I,I], s:[I,I], s:[I,I], s:o, s:{s:I, s:I, s:I, s:I}}",
	                 "nodes", (json_int_t)s->nodes_a, (json_int_t)s->nodes_b,
	                 "parameters", (json_int_t)s->params_a, (json_int_t)s->params_b,
	                 "bytes", (json_int_t)s->bytes_a, (json_int_t)s->bytes_b, "ops", ops,
	                 "counts", "added", (json_int_t)s->count[OD_CHANGE_ADDED],
	                 "removed", (json_int_t)s->count[OD_CHANGE_REMOVED],
	                 "changed", (json_int_t)s->count[OD_CHANGE_CHANGED],
	                 "renamed", (json_int_t)s->count[OD_CHANGE_RENAMED]);
}

static json_t *graphs_json(const struct od_diff *d)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < d->n_graphs; i++) {
		const struct od_diff_graph *g = &d->graphs[i];
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I}", "path", g->path,
		                      "a_nodes", (json_int_t)g->a->n_nodes,
		                      "b_nodes", (json_int_t)g->b->n_nodes,
		                      "matched", (json_int_t)g->n_matched));
	}
	return a;
}

static int json_out(const char *buf, size_t size, void *data)
{
	struct printer *p = data;
	if (p->len + size > sizeof p->buf)
		flush(p);
	if (size >= sizeof p->buf) {
		if (!p->rc)
			p->rc = p->out(p->priv, buf, size);
	} else {
		memcpy(p->buf + p->len, buf, size);
		p->len += size;
	}
	return p->rc ? -1 : 0;
}

int od_diff_emit_json(const struct od_diff *d, const struct od_emit_opts *o, od_write_fn out,
                      void *priv)
{
	static const struct od_emit_opts none;
	struct printer p = {.out = out, .priv = priv};
	json_t *changes = json_array();
	json_t *last = NULL;
	if (!o)
		o = &none;
	for (size_t i = 0; changes && i < d->n_changes; i++) {
		json_t *c = change_json(&d->changes[i]);
		if (!c)
			break;
		if (d->changes[i].parent >= 0 && last) {
			json_t *details = json_object_get(last, "details");
			if (!details)
				json_object_set_new(last, "details", details = json_array());
			json_array_append_new(details, c);
			continue;
		}
		json_array_append_new(changes, c);
		last = c;
	}
	json_t *root = json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o}",
	                         "schema", "onnxdiff-diff/1",
	                         "a", o->a_label ? o->a_label : s0(d->a->path),
	                         "b", o->b_label ? o->b_label : s0(d->b->path),
	                         "same", od_diff_is_same(d), "changes", changes,
	                         "stat", stat_json(d), "graphs", graphs_json(d));
	if (!root)
		return OD_ENOMEM;
	int rc = json_dump_callback(root, json_out, &p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!rc)
		pr(&p, "\n");
	rc = rc && !p.rc ? OD_ENOMEM : 0;
	return done(&p) ? p.rc : rc;
}
