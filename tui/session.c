/*
 * session.c — the state of an interactive freezing session (see session.h): bindings,
 * undo history, the current model and its diff, writing, the equivalent command line.
 * Library calls only; no curses, so the unit tests drive it directly.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "session.h"
#include "verify.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/* realpath of a file that may not exist yet: its folder resolved, its name appended. */
static char *resolve(const char *path)
{
	char *r = realpath(path, NULL);
	if (r)
		return r;
	char *dir = dir_of(path), *rdir = dir ? realpath(dir, NULL) : NULL;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	char *out = NULL;
	if (rdir && (out = malloc(strlen(rdir) + strlen(base) + 2)))
		sprintf(out, "%s/%s", rdir, base);
	free(dir);
	free(rdir);
	return out;
}

static int map_input(struct tui_session *s, struct od_ctx *ctx)
{
	struct stat st;
	int fd = open(s->a_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);  /* a fifo must not hang us */
	if (fd < 0)
		return od_error(ctx, OD_EIO, "cannot open '%s': %s", s->a_path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || !st.st_size) {
		close(fd);
		return od_error(ctx, OD_EIO, "cannot read '%s': %s", s->a_path,
		                S_ISDIR(st.st_mode) ? "is a directory" : "not a regular, non-empty file");
	}
	s->a_dev = st.st_dev;
	s->a_ino = st.st_ino;
	s->map_len = (size_t)st.st_size;
	s->map = mmap(NULL, s->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		return od_error(ctx, OD_EIO, "cannot map '%s': %s", s->a_path, strerror(errno));
	}
	s->a_dir = dir_of(s->a_path);
	s->a_real = resolve(s->a_path);
	return s->a_dir && s->a_real ? 0 : od_error(ctx, OD_ENOMEM, "out of memory");
}

/* A from its original bytes; its side files too: those s->orig mapped, which keep their
 * content after a write over A replaced or removed them (undo is exact). */
static int load_a(struct tui_session *s, struct od_model **out, struct od_ctx *ctx)
{
	struct od_load_opts opts = {.ext_from = s->orig};
	return od_model_load_buffer(s->map, s->map_len, s->a_path, s->a_dir, &opts, out, ctx);
}

static void refresh_command(struct tui_session *s);

/* Freezes binds into m, a fresh load of A (nothing to do without binds). */
static int freeze_into(struct tui_session *s, struct od_model *m, const struct tui_binds *binds,
                       struct od_freeze_report **report, struct od_ctx *ctx)
{
	struct od_binding *v = NULL;
	int rc = 0;
	*report = NULL;
	if (!binds->n)
		return 0;
	if (!(v = calloc(binds->n, sizeof *v)))
		return od_error(ctx, OD_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < binds->n; i++) {
		v[i].name = binds->v[i].name;
		v[i].value = od_tensor_clone(m->arena, binds->v[i].value);
		if (!v[i].value)
			rc = od_error(ctx, OD_ENOMEM, "out of memory");
		else
			v[i].value->name = v[i].name;
	}
	if (!rc)
		rc = od_freeze(m, v, binds->n, NULL, report, ctx);
	free(v);
	return rc;
}

/* cur folded: a fresh load of A, the same freeze, then every constant folded. */
static int folded_cur(struct tui_session *s, const struct tui_binds *binds, struct od_model **out,
                      struct od_ctx *ctx)
{
	struct od_model *m = NULL;
	struct od_freeze_report *report = NULL;
	int rc = load_a(s, &m, ctx);
	if (!rc)
		rc = freeze_into(s, m, binds, &report, ctx);
	if (!rc)
		rc = od_fold_model(m, NULL, NULL, ctx);
	od_freeze_report_free(report);
	if (rc)
		od_model_free(m);
	*out = rc ? NULL : m;
	return rc;
}

/* With B: what still separates the current model from B (both folded when fold is on);
 * without: what the freeze did. */
static void rediff(struct tui_session *s, const struct tui_binds *binds)
{
	struct od_ctx ctx = {0};
	od_diff_free(s->diff);          /* before the models it points into */
	s->diff = NULL;
	s->diff_error[0] = 0;
	od_model_free(s->cur_folded);
	s->cur_folded = NULL;
	int rc = s->fold && s->b_folded ? folded_cur(s, binds, &s->cur_folded, &ctx) : 0;
	if (!rc)
		rc = !s->b ? od_diff(s->orig, s->cur, NULL, &s->diff, &ctx)
		           : s->cur_folded ? od_diff(s->cur_folded, s->b_folded, NULL, &s->diff, &ctx)
		                           : od_diff(s->cur, s->b, NULL, &s->diff, &ctx);
	if (rc)
		snprintf(s->diff_error, sizeof s->diff_error, "%s", ctx.msg[0] ? ctx.msg : od_strerror(rc));
}

int tui_session_set_fold(struct tui_session *s, bool on, struct od_ctx *ctx)
{
	if (on && !s->b)
		return od_error(ctx, OD_EARG, "folding applies to the diff against B: open the session with B");
	if (on && !s->b_folded) {
		struct od_model *m = NULL;
		int rc = od_model_load(s->b_path, NULL, &m, ctx);
		if (!rc && (rc = od_fold_model(m, NULL, NULL, ctx)))
			od_model_free(m);
		if (rc)
			return rc;
		s->b_folded = m;
	}
	s->fold = on;
	rediff(s, &s->binds);
	return 0;
}

/* Builds the model for binds from a fresh load of A; on success it replaces s->cur. */
static int apply(struct tui_session *s, const struct tui_binds *binds, struct od_ctx *ctx)
{
	struct od_model *m = NULL;
	struct od_freeze_report *report = NULL;
	double t0 = now_ms();
	int rc = load_a(s, &m, ctx);
	double t1 = now_ms();
	if (rc)
		goto out;
	rc = freeze_into(s, m, binds, &report, ctx);
	if (rc)
		goto out;
	double t2 = now_ms();
	od_model_free(s->cur);
	od_freeze_report_free(s->report);
	s->cur = m;
	s->report = report;
	m = NULL;
	report = NULL;
	rediff(s, binds);
	double t3 = now_ms();
	s->timing = (struct tui_timing){t1 - t0, t2 - t1, t3 - t2, t3 - t0};
out:
	od_freeze_report_free(report);
	od_model_free(m);
	return rc;
}

int tui_session_open(struct tui_session **out, const char *a_path, const char *b_path,
                     struct od_ctx *ctx)
{
	struct tui_session *s = calloc(1, sizeof *s);
	int rc;
	*out = NULL;
	if (!s || !(s->arena = od_arena_new())) {
		free(s);
		return od_error(ctx, OD_ENOMEM, "out of memory");
	}
	s->a_path = od_arena_strdup(s->arena, a_path);
	s->b_path = b_path ? od_arena_strdup(s->arena, b_path) : NULL;
	if ((rc = map_input(s, ctx)) || (rc = load_a(s, &s->orig, ctx)) ||
	    (b_path && (rc = od_model_load(b_path, NULL, &s->b, ctx))) ||
	    (rc = apply(s, &s->binds, ctx))) {
		tui_session_close(s);
		return rc;
	}
	refresh_command(s);
	*out = s;
	return 0;
}

void tui_session_close(struct tui_session *s)
{
	if (!s)
		return;
	od_diff_free(s->diff);
	od_freeze_report_free(s->report);
	od_model_free(s->cur);
	od_model_free(s->orig);
	od_model_free(s->b);
	od_model_free(s->b_folded);
	od_model_free(s->cur_folded);
	if (s->map)
		munmap(s->map, s->map_len);
	free(s->hist);
	free(s->a_dir);
	free(s->a_real);
	od_arena_free(s->arena);
	free(s);
}

const struct tui_bind *tui_session_bind(const struct tui_session *s, const char *name)
{
	for (size_t i = 0; i < s->binds.n; i++)
		if (!strcmp(s->binds.v[i].name, name))
			return &s->binds.v[i];
	return NULL;
}

static bool same_binds(const struct tui_binds *x, const struct tui_binds *y)
{
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->v[i].name, y->v[i].name) || strcmp(x->v[i].spec, y->v[i].spec))
			return false;
	return true;
}

static int push_history(struct tui_session *s, struct od_ctx *ctx)
{
	if (s->n_hist == s->cap_hist) {
		size_t cap = s->cap_hist ? 2 * s->cap_hist : 8;
		struct tui_binds *h = realloc(s->hist, cap * sizeof *h);
		if (!h)
			return od_error(ctx, OD_ENOMEM, "out of memory");
		s->hist = h;
		s->cap_hist = cap;
	}
	s->hist[s->n_hist++] = s->binds;
	return 0;
}

int tui_session_freeze(struct tui_session *s, const char *name, const char *spec,
                       struct od_ctx *ctx)
{
	const struct od_value *in = od_graph_find_input(s->orig->graph, name);
	if (!in)
		return od_error(ctx, OD_ENOTFOUND, "input '%s' not found in graph", name);
	struct od_tensor *t;
	int dtype = in->kind == OD_TYPE_TENSOR ? in->dtype : OD_UNDEFINED;
	int rc = od_tensor_parse(s->arena, spec, dtype, &t, ctx);
	if (rc)
		return rc;
	/* The new list: the same input replaced in place, else appended. */
	struct tui_binds next = {0, od_arena_alloc(s->arena, (s->binds.n + 1) * sizeof *next.v)};
	if (!next.v)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	bool replaced = false;
	for (size_t i = 0; i < s->binds.n; i++) {
		next.v[next.n] = s->binds.v[i];
		if (!strcmp(s->binds.v[i].name, name)) {
			next.v[next.n] = (struct tui_bind){s->binds.v[i].name, NULL, t};
			replaced = true;
		}
		next.n++;
	}
	if (!replaced)
		next.v[next.n++] = (struct tui_bind){od_arena_strdup(s->arena, name), NULL, t};
	for (size_t i = 0; i < next.n; i++)
		if (!next.v[i].spec)
			next.v[i].spec = od_arena_strdup(s->arena, spec);
	if ((rc = push_history(s, ctx)))
		return rc;
	if ((rc = apply(s, &next, ctx))) {
		s->n_hist--;
		return rc;
	}
	s->binds = next;
	s->dirty = !same_binds(&s->binds, &s->saved);
	refresh_command(s);
	return 0;
}

int tui_session_undo(struct tui_session *s, struct od_ctx *ctx)
{
	if (!s->n_hist)
		return od_error(ctx, OD_ENOTFOUND, "nothing to undo");
	int rc = apply(s, &s->hist[s->n_hist - 1], ctx);
	if (rc)
		return rc;
	s->binds = s->hist[--s->n_hist];
	s->dirty = !same_binds(&s->binds, &s->saved);
	refresh_command(s);
	return 0;
}

bool tui_session_is_input(const struct tui_session *s, const char *path)
{
	struct stat st;
	if (!stat(path, &st) && st.st_dev == s->a_dev && st.st_ino == s->a_ino)
		return true;
	char *r = resolve(path);
	bool same = r && !strcmp(r, s->a_real);
	free(r);
	return same;
}

int tui_session_write(struct tui_session *s, const char *path, struct od_ctx *ctx)
{
	if (!*path)
		return od_error(ctx, OD_EARG, "no file name given");
	bool over = tui_session_is_input(s, path);
	struct od_save_opts opts = {.replace_input = over};    /* the user said yes */
	int rc = od_model_save(s->cur, path, &opts, ctx);
	if (rc)
		return rc;
	s->written = od_arena_strdup(s->arena, path);
	s->written_over_input = over;
	s->saved = s->binds;
	s->dirty = false;
	refresh_command(s);
	return 0;
}

const char *tui_session_default_out(struct tui_session *s)
{
	if (s->written)
		return s->written;
	const char *base = strrchr(s->a_path, '/');
	base = base ? base + 1 : s->a_path;
	size_t stem = strlen(base);
	if (stem > 5 && !strcmp(base + stem - 5, ".onnx"))
		stem -= 5;
	return od_arena_printf(s->arena, "%.*s%.*s.frozen.onnx", (int)(base - s->a_path), s->a_path,
	                       (int)stem, base);
}

bool tui_session_inputs_match(const struct tui_session *s)
{
	if (!s->b)
		return false;
	const struct od_graph *g = s->cur->graph, *h = s->b->graph;
	if (g->n_inputs != h->n_inputs)
		return false;
	for (size_t i = 0; i < g->n_inputs; i++) {
		const struct od_value *x = g->inputs[i], *y = od_graph_find_input(h, x->name);
		if (!y || strcmp(x->type_str ? x->type_str : "", y->type_str ? y->type_str : ""))
			return false;
	}
	return true;
}

/* ---- the equivalent command line ------------------------------------------------------ */

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f);
}

static bool is_plain(char c)
{
	return strchr("@%+=:,./_-", c) || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}

/* word quoted for the shell into q (room for 4 bytes per byte of word, and 4): as it is
 * when every character is plain; as $'...' when it holds a control character, with every
 * byte that is not printable ASCII as \xHH, so that the shell (bash, zsh, ksh) gets the
 * same bytes back and the terminal never sees an escape sequence; else as '...'. Linear:
 * a name of PATH_MAX bytes is quoted in one pass, not appended to byte by byte. */
static void quote_into(char *q, const char *word)
{
	bool plain = *word != 0, control = false;
	for (const char *p = word; *p; p++) {
		plain = plain && is_plain(*p);
		control = control || is_control((unsigned char)*p);
	}
	if (plain) {
		strcpy(q, word);
		return;
	}
	if (control)
		*q++ = '$';
	*q++ = '\'';
	for (const unsigned char *p = (const unsigned char *)word; *p; p++)
		if (!control && *p == '\'')
			memcpy(q, "'\\''", 4), q += 4;
		else if (control && (*p == '\'' || *p == '\\'))
			*q++ = '\\', *q++ = (char)*p;
		else if (control && (*p < 0x20 || *p >= 0x7f))
			q += sprintf(q, "\\x%02x", *p);
		else
			*q++ = (char)*p;
	strcpy(q, "'");
}

char *tui_shell_quote(struct od_arena *a, const char *line, const char *word)
{
	char *q = line && word ? malloc(4 * strlen(word) + 4) : NULL;
	if (!q)
		return NULL;
	quote_into(q, word);
	char *out = od_arena_printf(a, "%s%s%s", line, *line ? " " : "", q);
	free(q);
	return out;
}

static void refresh_command(struct tui_session *s)
{
	struct od_arena *a = s->arena;
	char *c = "onnxdiff";
	if (!s->binds.n) {
		c = tui_shell_quote(a, c, s->b ? "diff" : "show");
		c = tui_shell_quote(a, c, s->a_path);
		if (s->b)
			c = tui_shell_quote(a, c, s->b_path);
		s->command = c;
		return;
	}
	c = tui_shell_quote(a, c, "freeze");
	c = tui_shell_quote(a, c, s->a_path);
	c = tui_shell_quote(a, c, "-o");
	c = tui_shell_quote(a, c, tui_session_default_out(s));
	for (size_t i = 0; c && i < s->binds.n; i++) {
		c = tui_shell_quote(a, c, "--set");
		c = tui_shell_quote(a, c, od_arena_printf(a, "%s=%s", s->binds.v[i].name, s->binds.v[i].spec));
	}
	char *list = "";
	const struct od_graph *g = s->cur->graph;
	for (size_t i = 0; list && i < g->n_inputs; i++)
		list = od_arena_printf(a, "%s%s%s", list, i ? "," : "", g->inputs[i]->name);
	c = tui_shell_quote(a, c, "--expect-inputs");
	c = list ? tui_shell_quote(a, c, list) : NULL;
	if (c && s->written_over_input)
		c = tui_shell_quote(a, c, "--force");
	s->command = c ? c : "onnxdiff";
}

const char *tui_session_command(const struct tui_session *s)
{
	return s->command;
}

/* ---- verify -------------------------------------------------------------------------------- */

/* "same (max abs 0)" or "differs, first divergence: ..." for one comparison, appended. */
static void verdict(const struct od_verify_report *r, const char *what, char *buf, size_t n)
{
	size_t at = strlen(buf);
	double worst = 0;
	for (size_t k = 0; k < r->n_outputs; k++)
		worst = r->outputs[k].max_abs > worst ? r->outputs[k].max_abs : worst;
	if (r->same)
		snprintf(buf + at, n - at, "%s%s: same (max abs %.3g)", at ? "; " : "", what, worst);
	else if (r->diverged)
		snprintf(buf + at, n - at, "%s%s: differs, first divergence: %s '%s' <-> '%s': %s",
		         at ? "; " : "", what, r->div_op, r->div_a, r->div_b, r->div_what);
	else
		snprintf(buf + at, n - at, "%s%s: differs (max abs %.3g)", at ? "; " : "", what, worst);
}

int tui_session_verify(struct tui_session *s, char *buf, size_t n, bool *same,
                       struct od_ctx *ctx)
{
	struct od_feed *feeds = od_arena_alloc(s->arena, (s->binds.n + 1) * sizeof *feeds);
	struct od_verify_report *r = NULL;
	if (!feeds)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	for (size_t i = 0; i < s->binds.n; i++)
		feeds[i] = (struct od_feed){ s->binds.v[i].name, s->binds.v[i].value };
	struct od_verify_opts o = { .atol = -1, .rtol = -1, .feeds_a = feeds, .n_feeds_a = s->binds.n };
	int rc = od_verify(s->orig, s->cur, &o, &r, ctx);
	buf[0] = 0;
	*same = false;
	if (rc)
		return rc;
	verdict(r, s->binds.n ? "A fed the values" : "A", buf, n);
	*same = r->same;
	od_verify_report_free(r);
	if (!s->b)
		return 0;
	struct od_verify_opts ob = { .atol = -1, .rtol = -1 };
	if ((rc = od_verify(s->cur, s->b, &ob, &r, ctx)))
		return rc;
	verdict(r, "B", buf, n);
	*same = *same && r->same;
	od_verify_report_free(r);
	return 0;
}
