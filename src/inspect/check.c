/*
 * check.c — interface assertions for CI: exactly these inputs / outputs, these inputs
 * absent or present, no node of these op types. One line per failed assertion.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

struct report {
	od_write_fn out;
	void *priv;
	int failed;
	int rc;
};

static void OD_PRINTF(2, 3) fail(struct report *r, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof buf - 2)
		n = (int)sizeof buf - 2;
	buf[n++] = '\n';
	r->failed++;
	if (!r->rc)
		r->rc = od_write_text(r->out, r->priv, buf, (size_t)n, (size_t)n - 1);
}

static bool listed(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* Appends "'a', 'b'" of the names in want that are not in have, into buf. */
static size_t missing(char *buf, size_t cap, const char *const *want, size_t n_want,
                      struct od_value **have, size_t n_have)
{
	size_t off = 0, count = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n_want; i++) {
		bool found = false;
		for (size_t k = 0; k < n_have && !found; k++)
			found = !strcmp(have[k]->name, want[i]);
		if (!found && off < cap)
			off += (size_t)snprintf(buf + off, cap - off, "%s'%s'", count++ ? ", " : "", want[i]);
	}
	return count;
}

static size_t unexpected(char *buf, size_t cap, const char *const *want, size_t n_want,
                         struct od_value **have, size_t n_have)
{
	size_t off = 0, count = 0;
	buf[0] = 0;
	for (size_t k = 0; k < n_have; k++)
		if (!listed(want, n_want, have[k]->name) && off < cap)
			off += (size_t)snprintf(buf + off, cap - off, "%s'%s'", count++ ? ", " : "", have[k]->name);
	return count;
}

static void check_exact(struct report *r, const char *what, const char *const *want, size_t n_want,
                        struct od_value **have, size_t n_have)
{
	char miss[1024], extra[1024];
	size_t nm = missing(miss, sizeof miss, want, n_want, have, n_have);
	size_t ne = unexpected(extra, sizeof extra, want, n_want, have, n_have);
	if (nm)
		fail(r, "%s: missing %s", what, miss);
	if (ne)
		fail(r, "%s: unexpected %s", what, extra);
}

static size_t count_op(const struct od_graph *g, const char *op, const char **where)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct od_node *node = g->nodes[i];
		if (!strcmp(node->op_type, op)) {
			if (!n && !*where)
				*where = node->name;
			n++;
		}
		for (size_t k = 0; k < node->n_attrs; k++) {
			const struct od_attr *a = &node->attrs[k];
			if (a->type == OD_ATTR_GRAPH && a->g)
				n += count_op(a->g, op, where);
			for (size_t j = 0; a->type == OD_ATTR_GRAPHS && j < a->n; j++)
				n += count_op(a->graphs[j], op, where);
		}
	}
	return n;
}

int od_check(const struct od_model *m, const struct od_check_spec *spec, od_write_fn out,
             void *priv)
{
	struct report r = {out, priv, 0, 0};
	const struct od_graph *g = m->graph;
	if (spec->check_inputs)
		check_exact(&r, "inputs", spec->inputs, spec->n_inputs, g->inputs, g->n_inputs);
	if (spec->check_outputs)
		check_exact(&r, "outputs", spec->outputs, spec->n_outputs, g->outputs, g->n_outputs);
	for (size_t i = 0; i < spec->n_absent; i++)
		if (od_graph_find_input(g, spec->absent[i]))
			fail(&r, "absent: input '%s' is still present", spec->absent[i]);
	for (size_t i = 0; i < spec->n_present; i++)
		if (!od_graph_find_input(g, spec->present[i]))
			fail(&r, "present: input '%s' not found", spec->present[i]);
	for (size_t i = 0; i < spec->n_no_ops; i++) {
		const char *where = NULL;
		size_t n = count_op(g, spec->no_ops[i], &where);
		if (n)
			fail(&r, "no-op: %zu '%s' node%s present (first: '%s')", n, spec->no_ops[i],
			     n == 1 ? "" : "s", where ? where : "");
	}
	return r.rc ? r.rc : r.failed;
}
