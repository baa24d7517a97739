/*
 * screen.c — everything that touches curses (see screen.h): terminal setup and teardown
 * (also at exit and on fatal signals), colour roles and their monochrome scheme, painting
 * UTF-8 text by display width, keys and mouse, the headless virtual terminal and its dump.
 */
#include "config.h"
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <curses.h>
#include "keys.h"
#include "rows.h"
#include "screen.h"

static struct {
	SCREEN *scr;
	FILE *out, *in;         /* headless: /dev/null; else /dev/tty when stdio is not the
	                           terminal; NULL for stdin/stdout */
	bool headless, mono, utf8, active;
	attr_t attr[TUI_COLOR_MAX];
	short pair[TUI_COLOR_MAX];
	int mouse_y, mouse_x, wheel;
} S;

/* ---- colour roles ------------------------------------------------------------------------- */

/* How each role (rows.h) looks: colour pair (foreground, background; -1 is the terminal's
 * default), attributes with colours, attributes in monochrome (no colours or NO_COLOR). */
static const struct {
	short fg, bg;
	attr_t attr, mono;
} roles[] = {
	[TUI_COLOR_NORMAL]   = {-1, -1, A_NORMAL, A_NORMAL},
	[TUI_COLOR_TITLE]    = {COLOR_CYAN, -1, A_BOLD, A_BOLD},
	[TUI_COLOR_FOCUS]    = {COLOR_BLACK, COLOR_CYAN, A_BOLD, A_REVERSE | A_BOLD},
	[TUI_COLOR_HEADER]   = {COLOR_YELLOW, -1, A_NORMAL, A_BOLD},
	[TUI_COLOR_ADDED]    = {COLOR_GREEN, -1, A_NORMAL, A_BOLD},
	[TUI_COLOR_REMOVED]  = {COLOR_RED, -1, A_NORMAL, A_UNDERLINE},
	[TUI_COLOR_CHANGED]  = {COLOR_YELLOW, -1, A_BOLD, A_BOLD | A_UNDERLINE},
	[TUI_COLOR_RENAMED]  = {COLOR_CYAN, -1, A_NORMAL, A_DIM},
	[TUI_COLOR_FROZEN]   = {COLOR_MAGENTA, -1, A_BOLD, A_BOLD},
	[TUI_COLOR_DIM]      = {COLOR_BLUE, -1, A_BOLD, A_DIM},
	[TUI_COLOR_SELECTED] = {COLOR_BLACK, COLOR_WHITE, A_NORMAL, A_REVERSE},
	[TUI_COLOR_STATUS]   = {COLOR_WHITE, COLOR_BLUE, A_NORMAL, A_REVERSE},
	[TUI_COLOR_MATCH]    = {COLOR_BLACK, COLOR_GREEN, A_BOLD, A_REVERSE | A_BOLD},
	[TUI_COLOR_MISMATCH] = {COLOR_BLACK, COLOR_YELLOW, A_NORMAL, A_REVERSE},
	[TUI_COLOR_COMMAND]  = {COLOR_GREEN, -1, A_NORMAL, A_NORMAL},
	[TUI_COLOR_ERROR]    = {COLOR_RED, -1, A_BOLD, A_BOLD},
	[TUI_COLOR_PROMPT]   = {-1, -1, A_BOLD, A_BOLD},
};
_Static_assert(sizeof roles / sizeof *roles == TUI_COLOR_MAX, "a colour role without a look");

static void setup_colors(bool want)
{
	const char *nc = getenv("NO_COLOR");
	S.mono = !want || (nc && *nc) || !has_colors() || start_color() == ERR;
	if (!S.mono)
		use_default_colors();
	for (int i = 0; i < TUI_COLOR_MAX; i++) {
		S.pair[i] = 0;
		S.attr[i] = S.mono ? roles[i].mono : roles[i].attr;
		if (!S.mono && (roles[i].fg >= 0 || roles[i].bg >= 0) && init_pair((short)(i + 1), roles[i].fg, roles[i].bg) == OK)
			S.pair[i] = (short)(i + 1);
	}
}

/* ---- start and stop ------------------------------------------------------------------------- */

static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};

static void on_fatal(int sig)
{
	if (S.active)
		endwin();   /* only this: the rest of tui_screen_done() is not for a signal handler */
	S.active = false;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void trap_signals(void)
{
	struct sigaction sa = {.sa_handler = on_fatal};
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof fatal_signals / sizeof *fatal_signals; i++)
		sigaction(fatal_signals[i], &sa, NULL);
}

static SCREEN *open_headless(const struct tui_screen_opts *o)
{
	static const char *const terms[] = {"xterm-256color", "xterm", "vt100", "dumb"};
	if (!(S.out = fopen("/dev/null", "w")) || !(S.in = fopen("/dev/null", "r")))
		return NULL;
	for (size_t i = 0; i < sizeof terms / sizeof *terms; i++) {
		SCREEN *scr = newterm(terms[i], S.out, S.in);
		if (scr) {
			resizeterm(o->rows, o->cols);
			return scr;
		}
	}
	return NULL;
}

/* Like fzf and tig: when stdin or stdout is not the terminal (`cmd=$(onnxdiff tui A B)`),
 * talk to /dev/tty and leave stdout for the command printed on quit. */
static int open_tty(void)
{
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
		return 0;
	if (!(S.out = fopen("/dev/tty", "w")) || !(S.in = fopen("/dev/tty", "r"))) {
		if (S.out)
			fclose(S.out);
		S.out = NULL;
		return -1;
	}
	return 0;
}

int tui_screen_init(const struct tui_screen_opts *o, struct od_ctx *ctx)
{
	setlocale(LC_CTYPE, "");
	S.utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	S.headless = o->headless;
	if (!o->headless && open_tty())
		return od_error(ctx, OD_EARG, "tui needs a terminal (or --script for a headless run)");
	S.scr = o->headless ? open_headless(o) : newterm(NULL, S.out ? S.out : stdout, S.in ? S.in : stdin);
	if (!S.scr) {
		const char *term = getenv("TERM");
		return od_error(ctx, OD_EUNSUPPORTED, "cannot start the terminal '%s'",
		                o->headless ? "headless" : term ? term : "(TERM not set)");
	}
	S.active = true;
	atexit(tui_screen_done);
	if (!o->headless)
		trap_signals();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	setup_colors(!o->mono);
	if (o->mouse && !o->headless)
		mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	return 0;
}

void tui_screen_done(void)
{
	if (!S.active)
		return;
	S.active = false;
	curs_set(1);
	endwin();
	delscreen(S.scr);
	if (S.out) {
		fclose(S.out);
		fclose(S.in);
		S.out = S.in = NULL;
	}
	fflush(stdout);
}

_Noreturn void tui_die(const char *what)
{
	tui_screen_done();
	fprintf(stderr, "error: out of memory (%s)\n", what);
	abort();
}

void tui_screen_size(int *rows, int *cols)
{
	getmaxyx(stdscr, *rows, *cols);
}

bool tui_screen_mono(void)
{
	return S.mono;
}

bool tui_screen_utf8(void)
{
	return S.utf8;
}

/* ---- painting -------------------------------------------------------------------------------- */

void tui_screen_erase(void)
{
	erase();
}

/* Writes text from column skip of it into width columns at the cursor; returns the columns
 * written, and in *more whether text went on past them. */
static int put_text(int width, const char *text, int skip, bool *more)
{
	mbstate_t st = {0};
	int col = 0, seen = 0;
	*more = false;
	for (const char *p = text ? text : ""; *p;) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, p, strlen(p), &st);
		int w;
		if (n == (size_t)-1 || n == (size_t)-2 || !n) {
			memset(&st, 0, sizeof st);
			wc = L'?';
			n = 1;
		}
		if ((w = wcwidth(wc)) < 0)
			wc = L'?', w = 1;
		p += n;
		if (seen < skip) {      /* a wide character cut by the scroll shows as blanks */
			seen += w;
			for (; seen > skip && col < width; seen--, col++)
				addch(' ');
			continue;
		}
		if (col + w > width) {
			*more = true;
			break;
		}
		addnwstr(&wc, 1);
		col += w;
	}
	return col;
}

void tui_screen_put(int y, int x, int width, int color, const char *text)
{
	bool more;
	attr_set(S.attr[color], S.pair[color], NULL);
	move(y, x);
	for (int col = put_text(width, text, 0, &more); col < width; col++)
		addch(' ');
	attr_set(A_NORMAL, 0, NULL);
}

void tui_screen_put_row(int y, int x, int width, int color, char lead, const char *text, int skip)
{
	const char *mark = S.utf8 ? "\u2026" : "$";    /* as less(1) and vim mark a cut line */
	bool more;
	if (width < 3)
		return tui_screen_put(y, x, width, color, "");
	attr_set(S.attr[color], S.pair[color], NULL);
	move(y, x);
	addch((chtype)(unsigned char)lead);
	int col = 1;
	if (skip > 0) {
		addstr(mark);
		col++;
	}
	col += put_text(width - col - 1, text, skip, &more);
	if (more) {
		addstr(mark);
		col++;
	}
	for (; col < width; col++)
		addch(' ');
	attr_set(A_NORMAL, 0, NULL);
}

void tui_screen_vline(int y, int x, int n, int color)
{
	attr_set(S.attr[color], S.pair[color], NULL);
	mvvline(y, x, S.utf8 && !S.mono ? ACS_VLINE : '|', n);
	attr_set(A_NORMAL, 0, NULL);
}

void tui_screen_cursor(int y, int x, bool visible)
{
	curs_set(visible);
	if (visible)
		move(y, x);
}

void tui_screen_show(bool all)
{
	if (all)
		clearok(curscr, TRUE);
	refresh();
}

/* ---- keys -------------------------------------------------------------------------------------- */

static int from_curses(int code)
{
	static const int table[][2] = {
		{KEY_UP, TUI_KEY_UP},
		{KEY_DOWN, TUI_KEY_DOWN},
		{KEY_LEFT, TUI_KEY_LEFT},
		{KEY_RIGHT, TUI_KEY_RIGHT},
		{KEY_PPAGE, TUI_KEY_PPAGE},
		{KEY_NPAGE, TUI_KEY_NPAGE},
		{KEY_HOME, TUI_KEY_HOME},
		{KEY_END, TUI_KEY_END},
		{KEY_ENTER, TUI_KEY_ENTER},
		{KEY_BACKSPACE, TUI_KEY_BACKSPACE},
		{KEY_DC, TUI_KEY_DC},
		{KEY_BTAB, TUI_KEY_BTAB},
		{KEY_RESIZE, TUI_KEY_RESIZE},
		{KEY_MOUSE, TUI_KEY_MOUSE},
	};
	_Static_assert(sizeof table / sizeof *table == TUI_KEY_NONE - TUI_KEY_BASE - 1,
	               "a special key without its curses code");
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (table[i][0] == code)
			return table[i][1];
	return TUI_KEY_NONE;
}

static int mouse_event(void)
{
	MEVENT ev;
	if (getmouse(&ev) != OK)
		return TUI_KEY_NONE;
	S.mouse_y = ev.y;
	S.mouse_x = ev.x;
	S.wheel = ev.bstate & BUTTON4_PRESSED ? -1 : ev.bstate & BUTTON5_PRESSED ? 1 : 0;
	return TUI_KEY_MOUSE;
}

int tui_screen_key(void)
{
	for (;;) {
		wint_t wc;
		int r = get_wch(&wc);
		if (r == KEY_CODE_YES) {
			int k = wc == KEY_MOUSE ? mouse_event() : from_curses((int)wc);
			if (k != TUI_KEY_NONE)
				return k;
		} else if (r == OK) {
			if (wc == '\r')
				return '\n';
			if (wc == 127 || wc == 8)
				return TUI_KEY_BACKSPACE;
			return (int)wc;
		}
	}
}

void tui_screen_mouse(int *y, int *x, int *wheel)
{
	*y = S.mouse_y;
	*x = S.mouse_x;
	*wheel = S.wheel;
}

/* ---- headless ----------------------------------------------------------------------------------- */

int tui_screen_resize(int rows, int cols)
{
	return resizeterm(rows, cols) == OK ? 0 : OD_EARG;
}

int tui_screen_dump(FILE *f)
{
	int rows, cols;
	getmaxyx(stdscr, rows, cols);
	for (int y = 0; y < rows; y++) {
		char line[4096];
		size_t len = 0, keep = 0;
		for (int x = 0; x < cols && len + MB_LEN_MAX < sizeof line; x++) {
			cchar_t cc;
			wchar_t wch[CCHARW_MAX + 1] = {0};
			attr_t attrs;
			short pair;
			if (mvin_wch(y, x, &cc) == ERR || getcchar(&cc, wch, &attrs, &pair, NULL) == ERR)
				wch[0] = L' ';
			if (attrs & A_ALTCHARSET)
				wch[0] = wch[0] == L'x' ? L'|' : wch[0] == L'q' ? L'-' : L'+';
			mbstate_t st = {0};
			size_t n = wcrtomb(line + len, wch[0] ? wch[0] : L' ', &st);
			if (n == (size_t)-1)
				line[len] = '?', n = 1;
			len += n;
			if (wch[0] != L' ' && wch[0])
				keep = len;
			int w = wcwidth(wch[0]);
			x += w > 1 ? w - 1 : 0;
		}
		fprintf(f, "%.*s\n", (int)keep, line);
	}
	return ferror(f) ? OD_EIO : 0;
}
