/*
 * diff_list.c — the change list's appender, and what both the graph phase (diff_change.c)
 * and the node phase (diff_node.c) describe changes with: the readers of a value, whether
 * two tensors count as equal under --atol/--rtol. Below both phases; calls neither.
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "diff_impl.h"

struct od_change *diff_add(struct dstate *st, int kind, int what, const char *path)
{
	struct od_diff *d = st->d;
	struct od_change *c;
	if (!(c = od_grow(d->changes, d->n_changes, sizeof *c, &st->cap_changes, 64)))
		return NULL;
	d->changes = c;
	c = &d->changes[d->n_changes++];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->what = what;
	c->path = path;
	c->port = -1;
	c->parent = -1;
	return c;
}

int diff_add_text(struct dstate *st, int kind, int what, const char *path, const char *key,
                  const char *a, const char *b)
{
	struct od_change *c = diff_add(st, kind, what, path);
	if (!c)
		return OD_ENOMEM;
	c->key = key;
	c->old_text = a && *a ? a : NULL;
	c->new_text = b && *b ? b : NULL;
	return 0;
}

const char *diff_names_differ(const struct dstate *st, const char *a, const char *b)
{
	if (diff_ignoring(st, OD_DIFF_IGNORE(NAMES)) || !strcmp(diff_str0(a), diff_str0(b)))
		return NULL;
	return b;
}

#define PUT(...) do { if (off < bufsize) off += (size_t)snprintf(buf + off, bufsize - off, __VA_ARGS__); } while (0)

/* "Mul '/Mul' input 1, output 'y'": up to three readers of v. */
size_t diff_readers(char *buf, size_t off, size_t bufsize, struct dstate *st,
                    const struct dval *v, const char *lead)
{
	const struct dside *s = v->side;
	size_t n = 0;
	for (uint32_t c = v->cons; c < v->cons + v->n_cons; c++, n++) {
		const struct dedge *e = &s->cons[c];
		if (n == 3) {
			PUT(", ...");
			return off;
		}
		const char *label = diff_chk(st, diff_node_label(st->tmp, s->g, e->node));
		PUT("%s%s", n ? ", " : lead, diff_str0(label));
		if (e->port != IMPLICIT && s->in_start[e->node + 1] - s->in_start[e->node] > 1)
			PUT(" input %u", e->port);
	}
	for (size_t q = 0; v->n_graph_out && q < s->g->n_outputs; q++)
		if (s->gouts[q] == v)
			PUT("%soutput '%s'", n++ ? ", " : lead, v->name);
	return off;
}
#undef PUT

bool diff_same_type_and_shape(const struct od_tensor *x, const struct od_tensor *y)
{
	return x->dtype == y->dtype && x->ndims == y->ndims &&
	       (!x->ndims || !memcmp(x->dims, y->dims, (size_t)x->ndims * sizeof *x->dims));
}

/* Compares two tensors; true when they count as equal. */
bool diff_tensors_same(struct dstate *st, struct od_tensor *x, struct od_tensor *y,
                       struct od_tensor_delta *delta)
{
	memset(delta, 0, sizeof *delta);
	delta->first_diff = -1;
	if (!diff_same_type_and_shape(x, y))
		return false;
	if (diff_ignoring(st, OD_DIFF_IGNORE(WEIGHTS)))
		return true;
	if (od_tensor_hash(x) == od_tensor_hash(y) && od_tensor_equal(x, y))
		return true;
	diff_tensor_delta(x, y, st->opts.atol, st->opts.rtol, delta);
	return delta->compared && delta->n_diff == 0;
}
