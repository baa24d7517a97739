/*
 * cli_feed.c — the options `run` and `verify` share: --feed NAME=VALUE (the forms of
 * freeze --set), --dim NAME=SIZE and --seed N, turned into the feeds of a model.
 */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cli_feed.h"

static int split(char *arg, const char *opt, char **value)
{
	char *eq = strchr(arg, '=');
	if (!eq || eq == arg || !eq[1])
		return cli_error("%s wants NAME=VALUE, got '%s'", opt, arg);
	*eq = 0;
	*value = eq + 1;
	return 0;
}

int cli_feed_opt(struct cli_feeds *f, const char *opt, char *arg)
{
	char *value = NULL, *end;
	if (!strcmp(opt, "seed")) {
		errno = 0;
		unsigned long long s = strtoull(arg, &end, 10);
		if (end == arg || *end || errno || *arg == '-')
			return cli_error("bad --seed '%s': want a non-negative integer", arg);
		f->seed = s;
		return 0;
	}
	if (split(arg, !strcmp(opt, "dim") ? "--dim" : "--feed", &value))
		return CLI_TROUBLE;
	if (!strcmp(opt, "dim")) {
		errno = 0;
		long long v = strtoll(value, &end, 10);
		if (end == value || *end || errno || v < 0)
			return cli_error("bad --dim '%s=%s': want a size of 0 or more", arg, value);
		struct od_dim_size *d = realloc(f->dims, (f->n_dims + 1) * sizeof *d);
		if (!d)
			return cli_error("out of memory");
		f->dims = d;
		f->dims[f->n_dims++] = (struct od_dim_size){ arg, v };
		return 0;
	}
	struct cli_feed *v = realloc(f->feeds, (f->n_feeds + 1) * sizeof *v);
	if (!v)
		return cli_error("out of memory");
	f->feeds = v;
	f->feeds[f->n_feeds++] = (struct cli_feed){ arg, value };
	return 0;
}

void cli_feeds_free(struct cli_feeds *f)
{
	free(f->feeds);
	free(f->dims);
}

int cli_feeds_parse(const struct od_model *m, const struct cli_feeds *f, bool only_known,
                    struct od_arena *a, struct od_feed **out, size_t *n_out)
{
	struct od_feed *given = od_arena_alloc(a, (f->n_feeds + 1) * sizeof *given);
	struct od_ctx ctx = { 0 };
	size_t n = 0;
	if (!given)
		return cli_error("out of memory");
	for (size_t i = 0; i < f->n_feeds; i++) {
		const char *name = f->feeds[i].name, *spec = f->feeds[i].spec;
		const struct od_value *in = od_graph_find_input(m->graph, name);
		if (!in && only_known)
			continue;
		if (!in)
			return cli_error("input '%s' not found in graph", name);
		int dtype = spec[0] == '@' || in->kind != OD_TYPE_TENSOR ? OD_UNDEFINED : in->dtype;
		if (od_tensor_parse(a, spec, dtype, &given[n].value, &ctx))
			return cli_error("value for '%s': %s", name, ctx.msg);
		given[n++].name = name;
	}
	*out = given;
	*n_out = n;
	return 0;
}

int cli_feeds_make(const struct od_model *m, const struct cli_feeds *f, struct od_arena *a,
                   struct od_feed **out, size_t *n_out)
{
	struct od_feed *given;
	struct od_ctx ctx = { 0 };
	size_t n;
	if (cli_feeds_parse(m, f, false, a, &given, &n))
		return CLI_TROUBLE;
	if (od_feeds_complete(m, given, n, f->dims, f->n_dims, f->seed, a, out, n_out, &ctx))
		return cli_error("cannot run '%s': %s", m->path, ctx.msg);
	return 0;
}
