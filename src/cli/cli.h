/*
 * cli.h — what the command-line front end's commands share: the command table, error
 * reporting in git's style, and small argument helpers. Not part of the library.
 */
#ifndef OD_CLI_H
#define OD_CLI_H

#include <stdio.h>
#include "od.h"

/* Exit statuses, as diff(1). */
enum { CLI_SAME = 0, CLI_DIFFERENT = 1, CLI_TROUBLE = 2 };

/* Every command: name, summary, handler. main.c dispatches; --help lists them in order. */
#define CLI_COMMANDS(X) \
	X(show,     "list what a model contains") \
	X(check,    "assert a model's inputs, outputs and operators (for CI)") \
	X(freeze,   "freeze graph inputs into constants and fold what they feed") \
	X(diff,     "compare two models node by node (also: onnxdiff A B)") \
	X(textconv, "print a canonical text dump of a model (git textconv driver)") \
	X(run,      "evaluate a model on given or seeded random inputs, write its outputs") \
	X(verify,   "run two models on the same inputs; where do they diverge?") \
	X(tui,      "explore a model and try freezes interactively (ncurses)") \

#define CLI_DECLARE(name, summary) int cmd_##name(int argc, char **argv);
CLI_COMMANDS(CLI_DECLARE)
#undef CLI_DECLARE

/* Prints fmt and a newline to f with control characters escaped (od_text_escape): paths
 * and names from the command line or a file never make two lines or reach the terminal
 * raw. Returns 0 or -1. */
int cli_print(FILE *f, const char *fmt, ...) OD_PRINTF(2, 3);
/* Prints "error: <msg>" (escaped as cli_print does) on stderr and returns CLI_TROUBLE. */
int cli_error(const char *fmt, ...) OD_PRINTF(1, 2);
/* Prints "warning: <msg>" on stderr, control characters escaped. */
void cli_warn(const char *fmt, ...) OD_PRINTF(1, 2);
/* Prints "usage: onnxdiff <usage>" on stderr and returns CLI_TROUBLE. */
int cli_usage(const char *usage);
/* The error line for getopt_long's '?' (set opterr = 0 first); returns CLI_TROUBLE. */
int cli_bad_option(const char *command, char **argv);
/* od_write_fn for a FILE * (priv). */
int cli_write_file(void *priv, const char *buf, size_t len);
/* Loads a model, reporting failure on stderr; returns 0 or CLI_TROUBLE. */
int cli_load(const char *path, struct od_model **out);
/* Splits a comma-separated list in place into a malloc'd array (caller frees the array). */
const char **cli_split(char *list, size_t *n);
/* An integer option in [min, max]: 0, or CLI_TROUBLE after "bad --opt 'x': ..." */
int cli_parse_count(const char *opt, const char *arg, long min, long max, long *out);
/* For commands that evaluate models: freed buffers stay with the process for the next
 * node's outputs instead of going back to the kernel and faulting in again (glibc would
 * unmap or trim every few megabytes). The peak RSS is what it was. */
void cli_keep_freed_memory(void);
/* ONNXDIFF_TRACE=1 (as git's GIT_TRACE_PERFORMANCE): the wall and CPU time since the
 * previous mark (or the start) on stderr, "trace: PHASE 0.041 s wall, 0.040 s CPU", so a
 * benchmark or a bug report can tell loading, inference and comparing apart. */
void cli_trace(const char *phase);
/* Whether to colour: mode "auto"/"always"/"never" (NULL = auto), honouring NO_COLOR. */
int cli_color(const char *mode, FILE *f);

#endif
