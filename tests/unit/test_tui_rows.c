/*
 * test_tui_rows.c — what each pane of `onnxdiff tui` shows, checked without a terminal:
 * the rows built from a session on the fixture pairs before and after freezes, undo,
 * errors, the status line, the equivalent command, writing, the help and details views.
 */
#include "config.h"
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "od.h"
#include "keys.h"
#include "rows.h"
#include "session.h"

#define FIX OD_SRCDIR "/fixtures/"
#define SEED_A FIX "seed/with_mask.onnx"
#define SEED_B FIX "seed/wrapper.onnx"
#define MASK "@" FIX "seed/mask.npy"

static struct tui_session *open_session(const char *a, const char *b)
{
	struct od_ctx ctx = {0};
	struct tui_session *s = NULL;
	int rc = tui_session_open(&s, a, b, &ctx);
	cr_assert_eq(rc, 0, "open %s: %s", a, ctx.msg);
	return s;
}

static struct tui_rows *rows_of(const struct tui_session *s, bool ascii)
{
	struct tui_rows_opts o = {ascii};
	struct tui_rows *r = NULL;
	cr_assert_eq(tui_rows_build(s, &o, &r), 0);
	return r;
}

static void freeze(struct tui_session *s, const char *name, const char *spec)
{
	struct od_ctx ctx = {0};
	int rc = tui_session_freeze(s, name, spec, &ctx);
	cr_assert_eq(rc, 0, "freeze %s=%s: %s", name, spec, ctx.msg);
}

/* The row of pane p whose text starts with prefix, or NULL. */
static const struct tui_row *row(const struct tui_rows *r, int p, const char *prefix)
{
	for (size_t i = 0; i < r->pane[p].n; i++)
		if (!strncmp(r->pane[p].rows[i].text, prefix, strlen(prefix)))
			return &r->pane[p].rows[i];
	return NULL;
}

static int discard(void *priv, const char *buf, size_t len)
{
	return 0;
}

static size_t count_color(const struct tui_rows *r, int p, int color)
{
	size_t n = 0;
	for (size_t i = 0; i < r->pane[p].n; i++)
		n += r->pane[p].rows[i].color == color;
	return n;
}

Test(tui_rows, seed_before_freezing)
{
	struct tui_session *s = open_session(SEED_A, SEED_B);
	struct tui_rows *r = rows_of(s, true);
	const struct tui_row *x = row(r, TUI_PANE_INPUTS, "x    float[batch,4]");
	const struct tui_row *mask = row(r, TUI_PANE_INPUTS, "mask float[1,4]");
	cr_assert(x && mask);
	cr_assert_eq(mask->color, TUI_COLOR_NORMAL);
	cr_assert_eq(mask->ref, TUI_REF_INPUT);
	cr_assert_str_eq(mask->name, "mask");
	cr_assert_str_eq(r->pane[TUI_PANE_INPUTS].title, "Inputs 2");
	cr_assert(row(r, TUI_PANE_OUTPUTS, "y float[batch,4]"));
	cr_assert(row(r, TUI_PANE_INITS, "linear.weight float[4,4]"));
	/* Nodes by operator: a header per op, its nodes under it. */
	const struct tui_row *gemm = row(r, TUI_PANE_NODES, "Gemm (1)");
	cr_assert(gemm);
	cr_assert_eq(gemm->ref, TUI_REF_OP);
	cr_assert_eq(gemm->color, TUI_COLOR_HEADER);
	cr_assert_eq(r->pane[TUI_PANE_NODES].n, 4);
	cr_assert_str_eq(r->pane[TUI_PANE_NODES].rows[1].text, "  /linear/Gemm");
	cr_assert_eq(r->pane[TUI_PANE_NODES].rows[1].ref, TUI_REF_NODE);
	/* The diff against B: mask is an input here and an initializer there. */
	const struct tui_row *removed = row(r, TUI_PANE_DIFF, "- input mask");
	cr_assert(removed);
	cr_assert_eq(removed->color, TUI_COLOR_REMOVED);
	cr_assert_eq(removed->ref, TUI_REF_CHANGE);
	cr_assert(row(r, TUI_PANE_DIFF, "+ initializer mask"));
	cr_assert(row(r, TUI_PANE_DIFF, "= initializer linear.weight -> m.linear.weight"));
	/* Real changes come before renames. */
	cr_assert_lt((size_t)(row(r, TUI_PANE_DIFF, "+ initializer mask") - r->pane[TUI_PANE_DIFF].rows),
	             (size_t)(row(r, TUI_PANE_DIFF, "= initializer") - r->pane[TUI_PANE_DIFF].rows));
	cr_assert_str_eq(r->status, "inputs: x, mask (B has: x) | graph: 3 differences from B");
	cr_assert_eq(r->status_color, TUI_COLOR_MISMATCH);
	cr_assert_not(r->match);
	cr_assert_str_eq(tui_session_command(s), "onnxdiff diff " SEED_A " " SEED_B);
	cr_assert_not(s->dirty);
	tui_rows_free(r);
	tui_session_close(s);
}

Test(tui_rows, seed_freeze_mask_matches_b)
{
	struct tui_session *s = open_session(SEED_A, SEED_B);
	freeze(s, "mask", MASK);
	struct tui_rows *r = rows_of(s, true);
	const struct tui_row *mask = row(r, TUI_PANE_INPUTS, "mask float[1,4] = " MASK);
	cr_assert(mask, "got '%s'", r->pane[TUI_PANE_INPUTS].rows[1].text);
	cr_assert_eq(mask->color, TUI_COLOR_FROZEN);
	cr_assert_str_eq(r->pane[TUI_PANE_INPUTS].title, "Inputs 2, 1 frozen");
	const struct tui_row *init = row(r, TUI_PANE_INITS, "mask");
	cr_assert(init && strstr(init->text, "(frozen)"));
	cr_assert_str_eq(r->status, "inputs: x, as in B | graph: equal to B");
	cr_assert_eq(r->status_color, TUI_COLOR_MATCH);
	cr_assert(r->match);
	/* Nothing but renames is left against B. */
	cr_assert_eq(count_color(r, TUI_PANE_DIFF, TUI_COLOR_REMOVED), 0);
	cr_assert_eq(count_color(r, TUI_PANE_DIFF, TUI_COLOR_ADDED), 0);
	cr_assert_eq(count_color(r, TUI_PANE_DIFF, TUI_COLOR_CHANGED), 0);
	cr_assert_str_eq(r->pane[TUI_PANE_DIFF].rows[0].text, "no differences apart from renames");
	cr_assert_str_eq(tui_session_command(s),
	                 "onnxdiff freeze " SEED_A " -o " FIX "seed/with_mask.frozen.onnx --set mask=" MASK
	                 " --expect-inputs x");
	cr_assert(s->dirty);
	tui_rows_free(r);
	tui_session_close(s);
}

Test(tui_rows, utf8_check_mark_unless_ascii)
{
	struct tui_session *s = open_session(SEED_A, SEED_B);
	freeze(s, "mask", "[[1,1,1,1]]");
	/* Another mask than B's: the inputs are B's, the graphs are not (one initializer). */
	struct tui_rows *r = rows_of(s, false);
	cr_assert_str_eq(r->status, "inputs: x, as in B  \u00b7  graph: 1 difference from B");
	cr_assert_eq(r->status_color, TUI_COLOR_MISMATCH);
	tui_rows_free(r);
	freeze(s, "mask", "[[1,0,1,1]]");   /* B's mask, as a literal */
	r = rows_of(s, false);
	cr_assert_str_eq(r->status, "inputs: x, as in B  \u00b7  \u2713 graph: equal to B");
	tui_rows_free(r);
	r = rows_of(s, true);
	for (const char *p = r->status; *p; p++)
		cr_assert_lt((unsigned char)*p, 0x80);
	tui_rows_free(r);
	/* A literal needs quoting in the command line. */
	cr_assert(strstr(tui_session_command(s), " --set 'mask=[[1,0,1,1]]' "));
	tui_session_close(s);
}

/* The transformer frozen with a mask of ones computes what its wrapper export computes, but
 * only folded do the graphs compare equal: F folds both sides of the live diff. */
Test(tui_rows, fold_toggle_shows_an_equal_computation)
{
	struct tui_session *s = open_session(FIX "transformer/with_mask.onnx", FIX "transformer/wrapper.onnx");
	struct od_ctx ctx = {0};
	freeze(s, "attention_mask", "1");
	struct tui_rows *r = rows_of(s, true);
	cr_assert(strstr(r->status, "inputs: x, as in B | graph: "), "%s", r->status);
	cr_assert_not(strstr(r->status, "equal"), "%s", r->status);
	cr_assert_eq(r->status_color, TUI_COLOR_MISMATCH);
	tui_rows_free(r);
	cr_assert_eq(tui_session_set_fold(s, true, &ctx), 0, "%s", ctx.msg);
	r = rows_of(s, true);
	cr_assert_str_eq(r->status, "inputs: x, as in B | graph: equal to B (both folded)");
	cr_assert_eq(r->status_color, TUI_COLOR_MATCH);
	tui_rows_free(r);
	/* a freeze made while folding is diffed folded too; turning it off shows the graphs again */
	freeze(s, "attention_mask", "[[1,1,1,1,1,1,0,0]]");
	r = rows_of(s, true);
	cr_assert(strstr(r->status, "difference") && strstr(r->status, "(both folded)"), "%s", r->status);
	tui_rows_free(r);
	cr_assert_eq(tui_session_set_fold(s, false, &ctx), 0);
	r = rows_of(s, true);
	cr_assert_not(strstr(r->status, "folded"), "%s", r->status);
	tui_rows_free(r);
	tui_session_close(s);
	/* without B there is nothing to fold against */
	s = open_session(SEED_A, NULL);
	cr_assert_eq(tui_session_set_fold(s, true, &ctx), OD_EARG);
	cr_assert(strstr(ctx.msg, "B"), "%s", ctx.msg);
	tui_session_close(s);
}

Test(tui_rows, bad_value_leaves_session_unchanged)
{
	struct tui_session *s = open_session(SEED_A, SEED_B);
	struct od_ctx ctx = {0};
	cr_assert_neq(tui_session_freeze(s, "mask", "[1,2,3]", &ctx), 0);
	cr_assert(strstr(ctx.msg, "mask"), "message: %s", ctx.msg);
	cr_assert_neq(tui_session_freeze(s, "mask", "@/nonexistent.npy", &ctx), 0);
	cr_assert_neq(tui_session_freeze(s, "nope", "1", &ctx), 0);
	cr_assert_str_eq(ctx.msg, "input 'nope' not found in graph");
	cr_assert_eq(s->binds.n, 0);
	cr_assert_eq(s->n_hist, 0);
	cr_assert_not(s->dirty);
	struct tui_rows *r = rows_of(s, true);
	cr_assert_str_eq(r->status, "inputs: x, mask (B has: x) | graph: 3 differences from B");
	tui_rows_free(r);
	tui_session_close(s);
}

Test(tui_rows, undo_and_replace)
{
	struct tui_session *s = open_session(SEED_A, SEED_B);
	struct od_ctx ctx = {0};
	freeze(s, "mask", "[[1,1,1,1]]");
	freeze(s, "mask", MASK);             /* replaces the binding */
	cr_assert_eq(s->binds.n, 1);
	cr_assert_str_eq(s->binds.v[0].spec, MASK);
	cr_assert_eq(tui_session_undo(s, &ctx), 0);
	cr_assert_str_eq(s->binds.v[0].spec, "[[1,1,1,1]]");
	cr_assert_eq(tui_session_undo(s, &ctx), 0);
	cr_assert_eq(s->binds.n, 0);
	cr_assert_not(s->dirty);
	struct tui_rows *r = rows_of(s, true);
	cr_assert_str_eq(r->status, "inputs: x, mask (B has: x) | graph: 3 differences from B");
	cr_assert(row(r, TUI_PANE_DIFF, "- input mask"));
	tui_rows_free(r);
	cr_assert_eq(tui_session_undo(s, &ctx), OD_ENOTFOUND);
	cr_assert_str_eq(ctx.msg, "nothing to undo");
	tui_session_close(s);
}

Test(tui_rows, without_b_diff_against_original)
{
	struct tui_session *s = open_session(SEED_A, NULL);
	struct tui_rows *r = rows_of(s, true);
	cr_assert(!strncmp(r->pane[TUI_PANE_DIFF].title, "Diff vs original A", 18));
	cr_assert_str_eq(r->pane[TUI_PANE_DIFF].rows[0].text, "no differences");
	cr_assert_str_eq(r->status, "inputs: x, mask");
	cr_assert_str_eq(tui_session_command(s), "onnxdiff show " SEED_A);
	tui_rows_free(r);
	freeze(s, "mask", MASK);
	r = rows_of(s, true);
	cr_assert(row(r, TUI_PANE_DIFF, "- input mask"));
	cr_assert(row(r, TUI_PANE_DIFF, "+ initializer mask"));
	cr_assert_str_eq(r->status, "inputs: x");
	cr_assert_eq(r->status_color, TUI_COLOR_STATUS);
	tui_rows_free(r);
	tui_session_close(s);
}

Test(tui_rows, write_then_check)
{
	char dir[] = "/tmp/od-tui.XXXXXX", out[128];
	struct od_ctx ctx = {0};
	cr_assert(mkdtemp(dir));
	snprintf(out, sizeof out, "%s/frozen.onnx", dir);
	struct tui_session *s = open_session(SEED_A, SEED_B);
	freeze(s, "mask", MASK);
	cr_assert_eq(tui_session_write(s, out, &ctx), 0, "%s", ctx.msg);
	cr_assert_not(s->dirty);
	cr_assert(strstr(tui_session_command(s), " -o /tmp/od-tui."));
	struct od_model *m = NULL;
	cr_assert_eq(od_model_load(out, NULL, &m, &ctx), 0, "%s", ctx.msg);
	const char *x[] = {"x"};
	struct od_check_spec spec = {.inputs = x, .n_inputs = 1, .check_inputs = true};
	cr_assert_eq(od_check(m, &spec, discard, NULL), 0);
	od_model_free(m);
	/* The input itself is recognised under another spelling. */
	cr_assert(tui_session_is_input(s, OD_SRCDIR "/fixtures/seed/../seed/with_mask.onnx"));
	cr_assert_not(tui_session_is_input(s, out));
	tui_session_close(s);
	unlink(out);
	rmdir(dir);
}

Test(tui_rows, writing_over_the_input_keeps_the_session)
{
	char dir[] = "/tmp/od-tui.XXXXXX", a[128], cmd[512];
	struct od_ctx ctx = {0};
	cr_assert(mkdtemp(dir));
	snprintf(a, sizeof a, "%s/a.onnx", dir);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", SEED_A, a);
	cr_assert_eq(system(cmd), 0);
	struct tui_session *s = open_session(a, SEED_B);
	freeze(s, "mask", MASK);
	cr_assert_eq(tui_session_write(s, a, &ctx), 0, "%s", ctx.msg);
	cr_assert(strstr(tui_session_command(s), " --force"));
	/* Undo rebuilds from the original bytes, not from the file just written. */
	cr_assert_eq(tui_session_undo(s, &ctx), 0, "%s", ctx.msg);
	cr_assert_eq(s->cur->graph->n_inputs, 2);
	cr_assert(s->dirty);
	tui_session_close(s);
	unlink(a);
	rmdir(dir);
}

/* A keeps w in a side file; after writing over A, the side file is replaced by other bytes
 * (as a writer of A.data would): undo still rebuilds A as it was read. */
Test(tui_rows, undo_after_writing_over_a_with_a_side_file)
{
	char dir[] = "/tmp/od-tui.XXXXXX", a[128], side[128], cmd[640];
	const float want[4] = {4, 5, 6, 7}, other[16] = {1000};
	struct od_ctx ctx = {0};
	cr_assert(mkdtemp(dir));
	snprintf(a, sizeof a, "%s/a.onnx", dir);
	snprintf(side, sizeof side, "%s/ext-data.bin", dir);
	snprintf(cmd, sizeof cmd, "cp '%s/tests/bad/ok-ext.onnx' '%s' && cp '%s/tests/bad/ext-data.bin' '%s'",
	         OD_SRCDIR, a, OD_SRCDIR, side);
	cr_assert_eq(system(cmd), 0);
	struct tui_session *s = open_session(a, NULL);
	freeze(s, "x", "1");
	cr_assert_eq(tui_session_write(s, a, &ctx), 0, "%s", ctx.msg);
	char repl[160];                 /* renamed over it, as writers do: the old bytes are gone */
	snprintf(repl, sizeof repl, "%s.new", side);
	FILE *f = fopen(repl, "wb");
	cr_assert(f && fwrite(other, sizeof other, 1, f) == 1 && !fclose(f) && !rename(repl, side));
	cr_assert_eq(tui_session_undo(s, &ctx), 0, "%s", ctx.msg);
	const struct od_tensor *w = od_graph_find_init(s->cur->graph, "w");
	cr_assert(w && w->nbytes == sizeof want && !memcmp(w->data, want, sizeof want),
	          "undo rebuilt A with the side file's old bytes");
	tui_session_close(s);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(tui_rows, details)
{
	struct tui_session *s = open_session(SEED_A, SEED_B);
	freeze(s, "mask", MASK);
	struct tui_rows *r = rows_of(s, true);
	struct od_arena *a = od_arena_new();
	struct tui_pane p;
	cr_assert_eq(tui_rows_detail(s, row(r, TUI_PANE_INPUTS, "mask"), a, &p), 0);
	cr_assert_str_eq(p.rows[0].text, "input mask");
	bool values = false, used = false;
	for (size_t i = 0; i < p.n; i++) {
		values |= !strcmp(p.rows[i].text, "  values    [[1.0, 0.0, 1.0, 1.0]]");
		used |= !strcmp(p.rows[i].text, "  used by   Mul '/Mul' input 1");
	}
	cr_assert(values && used);
	cr_assert_eq(tui_rows_detail(s, row(r, TUI_PANE_NODES, "  /linear/Gemm"), a, &p), 0);
	cr_assert_str_eq(p.rows[0].text, "node Gemm '/linear/Gemm'");
	cr_assert_str_eq(p.rows[1].text, "  input 0   x  float[batch,4]  (graph input)", "inferred dtype and shape");
	cr_assert(!strncmp(p.rows[2].text, "  input 1   linear.weight  float[4,4]  (initializer float[4,4])", 62));
	cr_assert_str_eq(p.rows[4].text, "  output 0  /linear/Gemm_output_0  float[batch,4]");
	od_arena_free(a);
	tui_rows_free(r);
	tui_session_close(s);
}

/* Enter on a changed initializer: both sides' values and both around the first difference. */
Test(tui_rows, changed_initializer_shows_both_sides)
{
	struct tui_session *s = open_session(SEED_A, SEED_B);
	freeze(s, "mask", "[[1,1,1,1]]");
	struct tui_rows *r = rows_of(s, true);
	const struct tui_row *changed = row(r, TUI_PANE_DIFF, "~ initializer mask");
	cr_assert(changed, "no changed mask in the diff");
	struct od_arena *a = od_arena_new();
	struct tui_pane p;
	cr_assert_eq(tui_rows_detail(s, changed, a, &p), 0);
	bool va = false, vb = false, around_a = false, around_b = false, max = false;
	for (size_t i = 0; i < p.n; i++) {
		const char *t = p.rows[i].text;
		if (!strcmp(t, "  values    [[1.0, 1.0, 1.0, 1.0]]"))
			va = true;
		else if (!strcmp(t, "  values    [[1.0, 0.0, 1.0, 1.0]]"))
			vb = true;
		around_a |= !strcmp(t, "  a  [0] 1.0, [1] 1.0, [2] 1.0, [3] 1.0");
		around_b |= !strcmp(t, "  b  [0] 1.0, [1] 0.0, [2] 1.0, [3] 1.0");
		max |= strstr(t, "max abs 1") && strstr(t, "first at 1");
	}
	cr_assert(va && vb, "both sides' values");
	cr_assert(around_a && around_b, "both sides around the first difference");
	cr_assert(max, "the delta, max abs and where it starts");
	od_arena_free(a);
	tui_rows_free(r);
	tui_session_close(s);
}

Test(tui_rows, help_lists_every_binding)
{
	struct od_arena *a = od_arena_new();
	struct tui_pane p;
	cr_assert_eq(tui_rows_help(a, &p), 0);
	cr_assert_geq(p.n, tui_n_bindings);
	for (size_t i = 0; i < tui_n_bindings; i++)
		cr_assert(strstr(p.rows[i].text, tui_bindings[i].help), "row %zu: %s", i, p.rows[i].text);
	cr_assert(!strncmp(p.rows[0].text, "  j Down ", 9), "%s", p.rows[0].text);
	bool f = false;
	for (size_t i = 0; i < p.n; i++)
		f |= !strncmp(p.rows[i].text, "  f    ", 7) && strstr(p.rows[i].text, "freeze");
	cr_assert(f);
	od_arena_free(a);
}

Test(tui_rows, keys_table_and_names)
{
	const char *script = "j<Down><Enter><C-l><lt>x", *p = script;
	int want[] = {'j', TUI_KEY_DOWN, '\n', TUI_CTRL('l'), '<', 'x'};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		cr_assert_eq(tui_key_parse(&p), want[i], "key %zu", i);
	cr_assert_eq(*p, 0);
	p = "<Nope>";
	cr_assert_eq(tui_key_parse(&p), -1);
	cr_assert_eq(tui_req_of_key('j'), TUI_REQ_DOWN);
	cr_assert_eq(tui_req_of_key(TUI_KEY_DOWN), TUI_REQ_DOWN);
	cr_assert_eq(tui_req_of_key('\r'), TUI_REQ_ENTER);
	cr_assert_eq(tui_req_of_key('f'), TUI_REQ_FREEZE);
	cr_assert_eq(tui_req_of_key('Z'), TUI_REQ_NONE);
	/* No key is bound twice. */
	for (size_t i = 0; i < tui_n_bindings; i++)
		for (int k = 0; k < 3 && tui_bindings[i].keys[k]; k++)
			cr_assert_eq(tui_req_of_key(tui_bindings[i].keys[k]), tui_bindings[i].req);
}

Test(tui_rows, transformer_nodes_grouped)
{
	struct tui_session *s = open_session(FIX "transformer/with_mask.onnx", FIX "transformer/wrapper.onnx");
	struct tui_rows *r = rows_of(s, true);
	const struct tui_pane *p = &r->pane[TUI_PANE_NODES];
	size_t nodes = 0, sum = 0;
	const char *last = "";
	for (size_t i = 0; i < p->n; i++) {
		if (p->rows[i].ref == TUI_REF_NODE) {
			nodes++;
			continue;
		}
		cr_assert_eq(p->rows[i].ref, TUI_REF_OP);
		cr_assert_gt(strcmp(p->rows[i].name, last), 0, "%s after %s", p->rows[i].name, last);
		last = p->rows[i].name;
		size_t n;
		cr_assert(sscanf(strrchr(p->rows[i].text, '('), "(%zu)", &n) == 1);
		sum += n;
	}
	cr_assert_eq(nodes, s->cur->graph->n_nodes);
	cr_assert_eq(sum, nodes);
	/* Freezing the mask with ones takes attention_mask out of the inputs. */
	freeze(s, "attention_mask", "@" FIX "transformer/attention_mask.npy");
	tui_rows_free(r);
	r = rows_of(s, true);
	cr_assert(!strstr(r->status, "attention_mask"), "%s", r->status);
	tui_rows_free(r);
	tui_session_close(s);
}

Test(tui_rows, shell_quote)
{
	struct od_arena *a = od_arena_new();
	cr_assert_str_eq(tui_shell_quote(a, "x", "a/b-c_d.onnx"), "x a/b-c_d.onnx");
	cr_assert_str_eq(tui_shell_quote(a, "x", "it's here"), "x 'it'\\''s here'");
	cr_assert_str_eq(tui_shell_quote(a, "", ""), "''");
	/* a hostile name reaches neither the terminal nor the shell raw */
	cr_assert_str_eq(tui_shell_quote(a, "x", "a\x1b[2J\x1b]0;PWNED\x07'\\.onnx"),
	                 "x $'a\\x1b[2J\\x1b]0;PWNED\\x07\\'\\\\.onnx'");
	cr_assert_str_eq(tui_shell_quote(a, "x", "\xc2\x9b" "2J"), "x $'\\xc2\\x9b2J'");
	od_arena_free(a);
}
