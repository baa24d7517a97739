/*
 * keys.h — the TUI's key codes and its one table of key bindings.
 *
 * Key codes are Unicode code points for typed characters and TUI_KEY_* values above the
 * Unicode range for special keys, so that only screen.c needs to know curses' KEY_* codes
 * and key scripts (--script) can name keys without a terminal. The binding table
 * TUI_REQ_TABLE (tig's REQ_INFO) drives both the dispatch in the browse screen and the `?`
 * help overlay: a binding added here is documented by that alone.
 */
#ifndef TUI_KEYS_H
#define TUI_KEYS_H

#include <stddef.h>

/* Special keys: name (enum TUI_KEY_<name>), name in scripts and help ("<Down>"). screen.c
 * maps curses' codes to them. */
#define TUI_KEYCODE_TABLE(X) \
	X(UP,        "Up") \
	X(DOWN,      "Down") \
	X(LEFT,      "Left") \
	X(RIGHT,     "Right") \
	X(PPAGE,     "PgUp") \
	X(NPAGE,     "PgDn") \
	X(HOME,      "Home") \
	X(END,       "End") \
	X(ENTER,     "KpEnter") \
	X(BACKSPACE, "BS") \
	X(DC,        "Del") \
	X(BTAB,      "S-Tab") \
	X(RESIZE,    "Resize") \
	X(MOUSE,     "Mouse")

enum tui_key {
	TUI_KEY_BASE = 0x110000,        /* first value past Unicode */
#define TUI_X(name, word) TUI_KEY_##name,
	TUI_KEYCODE_TABLE(TUI_X)
#undef TUI_X
	TUI_KEY_NONE                    /* no key (end of a script) */
};

#define TUI_CTRL(c) ((c) & 0x1f)
#define TUI_ESC 27

/* Bindings: request, up to three keys (0: none), what it does (one line of help).
 * Order is the order of the help overlay. */
#define TUI_REQ_TABLE(X) \
	X(DOWN,      'j', TUI_KEY_DOWN,  0,             "next row") \
	X(UP,        'k', TUI_KEY_UP,    0,             "previous row") \
	X(PAGE_DOWN, TUI_KEY_NPAGE, ' ', TUI_CTRL('f'), "next page") \
	X(PAGE_UP,   TUI_KEY_PPAGE, 'b', TUI_CTRL('b'), "previous page") \
	X(FIRST,     'g', TUI_KEY_HOME,  0,             "first row") \
	X(LAST,      'G', TUI_KEY_END,   0,             "last row") \
	X(NEXT_PANE, '\t', TUI_KEY_RIGHT, 0,            "next pane") \
	X(PREV_PANE, TUI_KEY_BTAB, TUI_KEY_LEFT, 0,     "previous pane") \
	X(OTHER_SIDE,'o', TUI_CTRL('w'), 0,             "jump between the left panes and the diff") \
	X(SCROLL_RIGHT, 'l', '>', 0,                    "scroll the pane's rows sideways (a cut row ends in \u2026)") \
	X(SCROLL_LEFT, 'h', '<', 0,                     "scroll back") \
	X(ENTER,     '\n', TUI_KEY_ENTER, 0,            "details of the selected row (Esc or q closes)") \
	X(FREEZE,    'f', 0, 0,                         "freeze the selected input (prompts for a value)") \
	X(UNDO,      'u', 0, 0,                         "undo the last freeze") \
	X(WRITE,     'w', 0, 0,                         "write the frozen model (prompts for a path)") \
	X(REPORT,    'r', 0, 0,                         "report of the last freeze") \
	X(FOLD,      'F', 0, 0,                         "fold both sides in the diff against B (on/off)") \
	X(VERIFY,    'v', 0, 0,                         "run the frozen model against A fed the values (and B)") \
	X(SEARCH,    '/', 0, 0,                         "search the rows of every pane") \
	X(NEXT_MATCH,'n', 0, 0,                         "next match") \
	X(REDRAW,    TUI_CTRL('l'), 0, 0,               "redraw the screen") \
	X(HELP,      '?', 0, 0,                         "this help") \
	X(QUIT,      'q', 0, 0,                         "quit (asks when a freeze is not written)")

enum tui_req {
	TUI_REQ_NONE,
#define TUI_X(name, k1, k2, k3, help) TUI_REQ_##name,
	TUI_REQ_TABLE(TUI_X)
#undef TUI_X
	TUI_REQ_MAX
};

struct tui_binding_info {
	int req;                /* enum tui_req */
	int keys[3];            /* 0 where unused */
	const char *help;
};

/* The binding table, TUI_REQ_MAX - 1 entries in help order. */
extern const struct tui_binding_info tui_bindings[];
extern const size_t tui_n_bindings;

/* The request bound to key, or TUI_REQ_NONE. */
int tui_req_of_key(int key);
/* A key's name: "j", "Down", "Tab", "Enter", "Esc", "C-l", "Space", "?"; into buf. */
const char *tui_key_name(int key, char *buf, size_t n);
/* Parses one key at *s in script notation (a character, or "<Down>", "<C-l>", "<lt>"),
 * advancing *s; returns the key, or -1 for an unknown "<name>". */
int tui_key_parse(const char **s);

#endif
