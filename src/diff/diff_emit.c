/*
 * diff_emit.c — renderers of a change list: git-like text, JSON ("onnxdiff-diff/1") and
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

/* Appends bytes as they are (colour codes, text already escaped). */
static void raw(struct printer *p, const char *s, size_t n)
{
	if (p->rc || !n)
		return;
	if (p->len + n > sizeof p->buf)
		flush(p);
	if (n > sizeof p->buf) {
		if (!p->rc)
			p->rc = p->out(p->priv, s, n);
		return;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
}

static int raw_out(void *priv, const char *s, size_t n)
{
	struct printer *p = priv;
	raw(p, s, n);
	return p->rc;
}

/* Formats and appends, names escaped (od_vprintf_text): only a newline that ends the
 * format stays a newline. */
static void OD_PRINTF(2, 3) pr(struct printer *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	od_vprintf_text(raw_out, p, &p->rc, fmt, ap);
	va_end(ap);
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
		raw(p, ansi[r], strlen(ansi[r]));
}

static void off(struct printer *p, enum role r)
{
	if (p->color && r != R_NONE)
		raw(p, "\033[m", 3);
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

/* ": 1 of 16 elements differ (max abs 0.5, max rel 0.25)" */
static void delta_text(char *buf, size_t n, const struct od_tensor_delta *d)
{
	char t[200];
	snprintf(buf, n, "%s%s", d->compared ? ": " : "", od_tensor_delta_text(d, t, sizeof t));
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
	char delta[220];
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
	char delta[220];
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
		if (c->key && !strcmp(c->key, "producer"))      /* an output returns another value */
			pr(p, ": was %s, now %s", s0(c->old_text), s0(c->new_text));
		else if (c->key)                                /* "position" */
			pr(p, ": %s %s -> %s", c->key, s0(c->old_text), s0(c->new_text));
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

/* Column widths: the longest name (an indented op name counts its indent) and the widest
 * count on each side, so that long op names keep the columns of --stat aligned. */
struct stat_cols {
	int name, a, b;
};

static int digits(long long v)
{
	char buf[32];
	return snprintf(buf, sizeof buf, "%lld", v);
}

static void count_line(struct printer *p, const struct stat_cols *w, int indent, const char *what,
                       long long a, long long b)
{
	pr(p, " %*s%-*s  %*lld -> %*lld", indent, "", w->name - indent, what, w->a, a, w->b, b);
	if (a != b) {
		on(p, b > a ? R_ADDED : R_REMOVED);
		pr(p, " (%+lld)", b - a);
		off(p, b > a ? R_ADDED : R_REMOVED);
	}
	pr(p, "\n");
}

static void op_name(char *buf, size_t n, const struct od_diff_opcount *op)
{
	char raw[512];
	snprintf(raw, sizeof raw, "%s%s%s", op->domain, *op->domain ? "." : "", op->op_type);
	od_text_escape(buf, n, raw);
}

static void widen(struct stat_cols *w, int name, long long a, long long b)
{
	w->name = name > w->name ? name : w->name;
	w->a = digits(a) > w->a ? digits(a) : w->a;
	w->b = digits(b) > w->b ? digits(b) : w->b;
}

int od_diff_emit_stat(const struct od_diff *d, const struct od_emit_opts *o, od_write_fn out,
                      void *priv)
{
	struct printer p = {.out = out, .priv = priv, .color = o && o->color};
	const struct od_diff_stat *s = &d->stat;
	struct stat_cols w = {10, 1, 1};            /* "parameters" */
	char name[256];
	widen(&w, 0, (long long)s->nodes_a, (long long)s->nodes_b);
	widen(&w, 0, (long long)s->params_a, (long long)s->params_b);
	widen(&w, 0, (long long)s->bytes_a, (long long)s->bytes_b);
	for (size_t i = 0; i < s->n_ops; i++) {
		const struct od_diff_opcount *op = &s->ops[i];
		op_name(name, sizeof name, op);
		if (op->a != op->b)
			widen(&w, 2 + (int)strlen(name), (long long)op->a, (long long)op->b);
	}
	count_line(&p, &w, 0, "nodes", (long long)s->nodes_a, (long long)s->nodes_b);
	count_line(&p, &w, 0, "parameters", (long long)s->params_a, (long long)s->params_b);
	count_line(&p, &w, 0, "bytes", (long long)s->bytes_a, (long long)s->bytes_b);
	for (size_t i = 0; i < s->n_ops; i++) {
		const struct od_diff_opcount *op = &s->ops[i];
		if (op->a == op->b)
			continue;
		op_name(name, sizeof name, op);
		count_line(&p, &w, 2, name, (long long)op->a, (long long)op->b);
	}
	pr(&p, " %zu added, %zu removed, %zu changed, %zu renamed\n", s->count[OD_CHANGE_ADDED],
	   s->count[OD_CHANGE_REMOVED], s->count[OD_CHANGE_CHANGED], s->count[OD_CHANGE_RENAMED]);
	return done(&p);
}

/* ---- JSON ------------------------------------------------------------------------------------ */

/* Builders that note any failed allocation in *bad (values are stolen, as jansson's _new). */
static json_t *jstr(bool *bad, const char *s)
{
	json_t *v = s ? od_json_text(s) : json_null();
	*bad |= !v;
	return v;
}

static json_t *jint(bool *bad, json_int_t i)
{
	json_t *v = json_integer(i);
	*bad |= !v;
	return v;
}

static void jset(bool *bad, json_t *o, const char *key, json_t *v)
{
	if (!o || !v) {
		json_decref(v);
		*bad = true;
	} else if (json_object_set_new(o, key, v)) {
		*bad = true;
	}
}

static void jpush(bool *bad, json_t *a, json_t *v)
{
	if (!a || !v) {
		json_decref(v);
		*bad = true;
	} else if (json_array_append_new(a, v)) {
		*bad = true;
	}
}

static json_t *jpair(bool *bad, json_int_t x, json_int_t y)
{
	json_t *a = json_array();
	jpush(bad, a, jint(bad, x));
	jpush(bad, a, jint(bad, y));
	*bad |= !a;
	return a;
}

static json_t *change_json(bool *bad, const struct od_change *c)
{
	json_t *o = json_object();
	const struct od_node *n = c->a_node ? c->a_node : c->b_node;
	jset(bad, o, "kind", jstr(bad, od_change_kind_name(c->kind)));
	jset(bad, o, "what", jstr(bad, od_change_what_name(c->what)));
	jset(bad, o, "path", jstr(bad, c->path));
	jset(bad, o, "a", jstr(bad, c->a_name));
	jset(bad, o, "b", jstr(bad, c->b_name));
	if (c->what == OD_CHANGE_NODE && n)
		jset(bad, o, "op", jstr(bad, n->op_type));
	if (c->key)
		jset(bad, o, "key", jstr(bad, c->key));
	if (c->port >= 0)
		jset(bad, o, "port", jint(bad, c->port));
	if (c->old_text || c->new_text) {
		jset(bad, o, "old", jstr(bad, c->old_text));
		jset(bad, o, "new", jstr(bad, c->new_text));
	}
	if (c->context)
		jset(bad, o, "context", jstr(bad, c->context));
	if (c->delta.compared) {
		json_t *v = json_object();
		jset(bad, v, "numel", jint(bad, c->delta.numel));
		jset(bad, v, "differ", jint(bad, c->delta.n_diff));
		const struct od_tensor_delta *d = &c->delta;
		/* integers exactly (a JSON integer while it fits int64); max_rel only when some
		 * differing element has a finite nonzero a and a finite b; NaNs counted apart */
		if (d->integer && d->max_abs_int <= INT64_MAX)
			jset(bad, v, "max_abs", jint(bad, (int64_t)d->max_abs_int));
		else if (d->n_diff > d->n_nan + d->n_bits)
			jset(bad, v, "max_abs", json_real(d->max_abs));
		if (d->has_rel)
			jset(bad, v, "max_rel", json_real(d->max_rel));
		if (d->n_nan)
			jset(bad, v, "nan", jint(bad, d->n_nan));
		if (d->n_bits)
			jset(bad, v, "bits_only", jint(bad, d->n_bits));
		jset(bad, v, "bitwise", json_boolean(d->bitwise));
		jset(bad, v, "first", jint(bad, c->delta.first_diff));
		jset(bad, o, "values", v);
	}
	*bad |= !o;
	return o;
}

static json_t *stat_json(bool *bad, const struct od_diff *d)
{
	const struct od_diff_stat *s = &d->stat;
	json_t *o = json_object(), *ops = json_array(), *counts = json_object();
	for (size_t i = 0; i < s->n_ops; i++) {
		json_t *op = json_object();
		jset(bad, op, "domain", jstr(bad, domain_name(s->ops[i].domain)));
		jset(bad, op, "op", jstr(bad, s->ops[i].op_type));
		jset(bad, op, "a", jint(bad, (json_int_t)s->ops[i].a));
		jset(bad, op, "b", jint(bad, (json_int_t)s->ops[i].b));
		jpush(bad, ops, op);
	}
	for (int k = 0; k < OD_CHANGE_KIND_MAX; k++)
		jset(bad, counts, od_change_kind_name(k), jint(bad, (json_int_t)s->count[k]));
	jset(bad, o, "nodes", jpair(bad, (json_int_t)s->nodes_a, (json_int_t)s->nodes_b));
	jset(bad, o, "parameters", jpair(bad, s->params_a, s->params_b));
	jset(bad, o, "bytes", jpair(bad, (json_int_t)s->bytes_a, (json_int_t)s->bytes_b));
	jset(bad, o, "ops", ops);
	jset(bad, o, "counts", counts);
	*bad |= !o;
	return o;
}

static json_t *graphs_json(bool *bad, const struct od_diff *d)
{
	json_t *a = json_array();
	for (size_t i = 0; i < d->n_graphs; i++) {
		const struct od_diff_graph *g = &d->graphs[i];
		json_t *o = json_object();
		jset(bad, o, "path", jstr(bad, g->path));
		jset(bad, o, "a_nodes", jint(bad, (json_int_t)g->a->n_nodes));
		jset(bad, o, "b_nodes", jint(bad, (json_int_t)g->b->n_nodes));
		jset(bad, o, "matched", jint(bad, (json_int_t)g->n_matched));
		jpush(bad, a, o);
	}
	*bad |= !a;
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
	bool bad = false;
	json_t *root = json_object(), *changes = json_array(), *last = NULL;
	if (!o)
		o = &none;
	jset(&bad, root, "schema", jstr(&bad, "onnxdiff-diff/1"));
	jset(&bad, root, "a", jstr(&bad, o->a_label ? o->a_label : s0(d->a->path)));
	jset(&bad, root, "b", jstr(&bad, o->b_label ? o->b_label : s0(d->b->path)));
	jset(&bad, root, "same", json_boolean(od_diff_is_same(d)));
	for (size_t i = 0; i < d->n_changes && !bad; i++) {
		json_t *c = change_json(&bad, &d->changes[i]);
		if (d->changes[i].parent >= 0 && last) {
			json_t *details = json_object_get(last, "details");
			if (!details)
				jset(&bad, last, "details", details = json_array());
			jpush(&bad, details, c);
			continue;
		}
		jpush(&bad, changes, c);
		last = c;
	}
	jset(&bad, root, "changes", changes);
	jset(&bad, root, "stat", stat_json(&bad, d));
	jset(&bad, root, "graphs", graphs_json(&bad, d));
	if (bad) {
		json_decref(root);
		return OD_ENOMEM;
	}
	int rc = json_dump_callback(root, json_out, &p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!rc)
		pr(&p, "\n");
	rc = rc && !p.rc ? OD_ENOMEM : 0;
	return done(&p) ? p.rc : rc;
}
