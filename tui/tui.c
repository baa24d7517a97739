/*
 * tui.c — `onnxdiff tui A.onnx [B.onnx]`: options, the session, the key loop on a real
 * terminal, and the headless run of a key script with screen dumps (for tests, like tig's
 * TIG_SCRIPT and :save-display). On quit the equivalent command goes to stdout.
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "keys.h"
#include "screen.h"
#include "tui.h"

static const char usage_text[] =
	"tui [--script FILE --dump SCREEN [--size COLSxROWS]] [--mono] [--no-mouse] [--timing] A.onnx [B.onnx]";

void tui_key(struct tui *t, int key)
{
	if (!t->prompt.ask && key != TUI_KEY_RESIZE && key != TUI_KEY_MOUSE)
		t->msg[0] = 0;   /* a message lasts until the next key */
	if (t->prompt.ask)
		prompt_key(t, key);
	else if (t->view == TUI_VIEW_PAGER)
		pager_key(t, key);
	else
		browse_key(t, key);
}

void tui_draw(struct tui *t)
{
	tui_screen_erase();
	if (t->view == TUI_VIEW_PAGER)
		pager_draw(t);
	else
		browse_draw(t);
	if (!t->prompt.ask)
		tui_screen_cursor(0, 0, false);
	tui_screen_show(t->repaint);
	t->repaint = false;
}

/* ---- headless: a key script ------------------------------------------------------------------ */

static int dump(struct tui *t, FILE *f, const char *label)
{
	tui_draw(t);
	if (!f)
		return 0;
	fprintf(f, "=== %s ===\n", label);
	return tui_screen_dump(f);
}

/* One script line: ":dump", ":resize COLSxROWS", ":type TEXT", "# comment" or keys in the
 * notation of tui_key_parse() ("f[[1,0,1,1]]<Enter>"). */
static int script_line(struct tui *t, char *line, int lineno, FILE *out, int *dumps)
{
	int cols, rows;
	line[strcspn(line, "\n")] = 0;
	if (!*line || *line == '#')
		return 0;
	if (!strcmp(line, ":dump")) {
		char label[32];
		snprintf(label, sizeof label, "dump %d", ++*dumps);
		return dump(t, out, label);
	}
	if (sscanf(line, ":resize %dx%d", &cols, &rows) == 2) {
		if (cols < 10 || rows < 5 || tui_screen_resize(rows, cols))
			return cli_error("script line %d: bad size '%s'", lineno, line + 8);
		tui_key(t, TUI_KEY_RESIZE);
		tui_draw(t);
		return 0;
	}
	if (!strncmp(line, ":type ", 6)) {
		for (const char *p = line + 6; *p && !t->quit; p++)
			tui_key(t, (unsigned char)*p);
		tui_draw(t);
		return 0;
	}
	if (*line == ':')
		return cli_error("script line %d: unknown command '%s'", lineno, line);
	for (const char *p = line; *p && !t->quit;) {
		int key = tui_key_parse(&p);
		if (key < 0)
			return cli_error("script line %d: unknown key name in '%s'", lineno, p);
		tui_key(t, key);
		tui_draw(t);
	}
	return 0;
}

static int run_script(struct tui *t, const char *script, const char *dump_path)
{
	FILE *in = fopen(script, "r"), *out = NULL;
	char line[4096];
	int rc = 0, lineno = 0, dumps = 0;
	if (!in)
		return cli_error("cannot open '%s': %s", script, strerror(errno));
	if (dump_path && !(out = fopen(dump_path, "w"))) {
		fclose(in);
		return cli_error("cannot write '%s': %s", dump_path, strerror(errno));
	}
	tui_draw(t);
	while (!rc && !t->quit && fgets(line, sizeof line, in))
		rc = script_line(t, line, ++lineno, out, &dumps);
	if (!rc)
		rc = dump(t, out, "final");
	fclose(in);
	if (out && fclose(out) && !rc)
		rc = cli_error("cannot write '%s': %s", dump_path, strerror(errno));
	return rc ? CLI_TROUBLE : 0;
}

static void run(struct tui *t)
{
	while (!t->quit) {
		tui_draw(t);
		tui_key(t, tui_screen_key());
	}
}

/* ---- the command ------------------------------------------------------------------------------ */

struct options {
	const char *script, *dump;
	struct tui_screen_opts screen;
	bool timing;
};

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{"script", required_argument, NULL, 's'}, {"dump", required_argument, NULL, 'd'},
		{"size", required_argument, NULL, 'S'}, {"mono", no_argument, NULL, 'm'},
		{"no-mouse", no_argument, NULL, 'M'}, {"timing", no_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'}, {0}};
	int c;
	opterr = 0;
	*o = (struct options){getenv("ONNXDIFF_TUI_SCRIPT"), getenv("ONNXDIFF_TUI_DUMP"),
	                      {false, 24, 80, false, true}, false};
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 's': o->script = optarg; break;
		case 'd': o->dump = optarg; break;
		case 'm': o->screen.mono = true; break;
		case 'M': o->screen.mouse = false; break;
		case 't': o->timing = true; break;
		case 'S':
			if (sscanf(optarg, "%dx%d", &o->screen.cols, &o->screen.rows) != 2 ||
			    o->screen.cols < 10 || o->screen.rows < 5)
				return cli_error("bad --size '%s' (COLSxROWS, at least 10x5)", optarg);
			break;
		case 'h':
			printf("usage: onnxdiff %s\n\n"
			       "Browses A (and its diff against B): freeze inputs, fold, save, with the\n"
			       "equivalent freeze command printed on quit. '?' inside lists every key.\n\n"
			       "  --mono             the monochrome colour scheme\n"
			       "  --no-mouse         leave the mouse to the terminal\n"
			       "  --timing           print how long each reload took, on stderr\n"
			       "  --script FILE      run the key script FILE without a terminal (see\n"
			       "                     'man onnxdiff' for its syntax); needs --dump\n"
			       "  --dump SCREEN      where the script's screens are written as text\n"
			       "  --size COLSxROWS   the script's screen size (default 80x24)\n"
			       "  -h, --help         this text\n", usage_text);
			return -1;
		default:
			return cli_bad_option("tui", argv);
		}
	}
	if (argc - optind < 1 || argc - optind > 2)
		return cli_usage(usage_text);
	o->screen.headless = o->script && *o->script;
	return 0;
}

int cmd_tui(int argc, char **argv)
{
	struct options o;
	struct od_ctx ctx = {0};
	struct tui t = {0};
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (tui_session_open(&t.s, argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL, &ctx))
		return cli_error("%s", ctx.msg);
	if (tui_screen_init(&o.screen, &ctx)) {
		tui_session_close(t.s);
		return cli_error("%s", ctx.msg);
	}
	t.rows_opts.ascii = tui_screen_mono() || !tui_screen_utf8();
	t.timing = o.timing;
	tui_refresh_rows(&t, "open");
	tui_message(&t, TUI_COLOR_NORMAL, "Tab: next pane  Enter: details  f: freeze input  w: write  ?: help");
	if (o.screen.headless)
		rc = run_script(&t, o.script, o.dump);
	else
		run(&t);
	tui_screen_done();
	if (!rc && t.s->binds.n)
		cli_print(stdout, "%s", tui_session_command(t.s));  /* safe already; escaped twice */
	tui_rows_free(t.rows);
	od_arena_free(t.page_arena);
	tui_session_close(t.s);
	return rc;
}
