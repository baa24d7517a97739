/*
 * main.c — onnxdiff's command line: turns argv into library calls and an exit status
 * (0 same / 1 different or an assertion failed / 2 trouble, as diff(1)).
 */
#include "config.h"
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "run.h"

static int vprint_escaped(FILE *f, const char *fmt, va_list ap)
{
	char stack[1024], *raw = NULL, *esc = NULL;
	int rc = -1;
	if (vasprintf(&raw, fmt, ap) < 0)
		return -1;
	size_t n = od_text_escape(stack, sizeof stack, raw);
	if (n < sizeof stack)
		rc = fputs(stack, f);
	else if ((esc = malloc(n + 1)))
		rc = fputs((od_text_escape(esc, n + 1, raw), esc), f);
	free(esc);
	free(raw);
	return rc < 0 ? -1 : 0;
}

int cli_print(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vprint_escaped(f, fmt, ap);
	va_end(ap);
	return rc || fputc('\n', f) == EOF ? -1 : 0;
}

int cli_error(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fputs("error: ", stderr);
	va_start(ap, fmt);
	if (vprint_escaped(stderr, fmt, ap))
		fputs("out of memory", stderr);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_TROUBLE;
}

void cli_warn(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fflush(stdout);
	fputs("warning: ", stderr);
	for (const unsigned char *p = (const unsigned char *)buf; *p; p++)
		if (*p < 0x20 || *p == 0x7f)    /* names from a file must not reach the terminal raw */
			fprintf(stderr, "\\x%02x", *p);
		else
			fputc(*p, stderr);
	fputc('\n', stderr);
}

/* A usage mistake is one error line, as every other error: the usage and where to read more. */
int cli_usage(const char *usage)
{
	const char *sp = strchr(usage, ' ');
	return cli_error("usage: onnxdiff %s (see 'onnxdiff %.*s --help')", usage,
	                 sp ? (int)(sp - usage) : (int)strlen(usage), usage);
}

/* getopt_long's '?' with opterr = 0: which option was wrong, in one line. */
int cli_bad_option(const char *command, char **argv)
{
	const char *arg = argv[optind - 1];
	if (optopt > ' ' && optopt < 127 && (arg[0] != '-' || arg[1] != '-'))
		return cli_error("unknown option '-%c' or its value missing (see 'onnxdiff %s --help')",
		                 optopt, command);
	return cli_error("unknown option '%s' or its value missing (see 'onnxdiff %s --help')", arg,
	                 command);
}

int cli_write_file(void *priv, const char *buf, size_t len)
{
	return fwrite(buf, 1, len, priv) == len ? 0 : OD_EIO;
}

int cli_load(const char *path, struct od_model **out)
{
	struct od_ctx ctx = {0};
	if (od_model_load(path, NULL, out, &ctx))
		return cli_error("%s", ctx.msg);
	return 0;
}

void cli_keep_freed_memory(void)
{
	mallopt(M_MMAP_THRESHOLD, 256 << 20);   /* blocks below 256 MiB come from the heap */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);     /* and its free top is kept up to 1 GiB */
}

int cli_parse_count(const char *opt, const char *arg, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (end == arg || *end || errno || v < min || v > max)
		return cli_error("bad %s '%s': want a number from %ld to %ld", opt, arg, min, max);
	*out = v;
	return 0;
}

const char **cli_split(char *list, size_t *n)
{
	size_t cap = 1;
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	const char **v = calloc(cap, sizeof *v);
	*n = 0;
	if (!v)
		return NULL;
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
		if (*tok)
			v[(*n)++] = tok;
	return v;
}

int cli_color(const char *mode, FILE *f)
{
	if (mode && !strcmp(mode, "always"))
		return 1;
	if (mode && !strcmp(mode, "never"))
		return 0;
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	if ((nc && *nc) || !term || !strcmp(term, "dumb"))
		return 0;       /* as git: no colour for a dumb terminal (Emacs' shell, some CI logs) */
	return isatty(fileno(f));
}

static struct timespec trace_wall, trace_cpu;
static bool tracing;        /* ONNXDIFF_TRACE, read by main() */

static double secs_since(clockid_t clock, struct timespec *last)
{
	struct timespec now;
	clock_gettime(clock, &now);
	double d = (double)(now.tv_sec - last->tv_sec) + (double)(now.tv_nsec - last->tv_nsec) / 1e9;
	*last = now;
	return d;
}

static void trace_start(void)
{
	const char *v = getenv("ONNXDIFF_TRACE");
	tracing = v && *v && strcmp(v, "0") != 0;
	clock_gettime(CLOCK_MONOTONIC, &trace_wall);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &trace_cpu);
}

void cli_trace(const char *phase)
{
	if (!tracing)
		return;
	double wall = secs_since(CLOCK_MONOTONIC, &trace_wall);
	double cpu = secs_since(CLOCK_PROCESS_CPUTIME_ID, &trace_cpu);
	fprintf(stderr, "trace: %s %.3f s wall, %.3f s CPU\n", phase, wall, cpu);
}

/* ---- dispatch -------------------------------------------------------------------------- */

static const struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
} commands[] = {
#define CLI_ENTRY(name, summary) {#name, summary, cmd_##name},
	CLI_COMMANDS(CLI_ENTRY)
#undef CLI_ENTRY
};

static int help(FILE *f)
{
	/* (also the answer to `onnxdiff help` and `onnxdiff --help`, always on stdout) */
	fprintf(f, "usage: onnxdiff A.onnx B.onnx          compare two exports node by node\n"
	           "       onnxdiff <command> [options] ...\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'onnxdiff <command> --help' tells more; 'man onnxdiff' tells all.\n"
	           "exit status: 0 same, 1 different (or a check failed), 2 trouble\n");
	return f == stdout ? 0 : CLI_TROUBLE;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	/* Past `ulimit -f` a write fails with EFBIG, reported in one line, instead of killing
	 * onnxdiff with a temporary file left behind. */
	signal(SIGXFSZ, SIG_IGN);
	/* OpenBLAS started a thread per CPU when it was loaded; each would spin on another CPU
	 * for 0.1 s (`onnxdiff A B` on two vit_b_16 exports: 214 ms of CPU for 107 ms of work,
	 * and 40 % more wall time). `run` and `verify` ask for their threads themselves. */
	od_run_set_threads(1);
	trace_start();
	if (argc < 2)
		return cli_error("no models given (see 'onnxdiff --help')");
	if (!strcmp(argv[1], "help") && argc == 3 && find_command(argv[2])) {
		char *args[] = {argv[2], "--help", NULL};   /* `onnxdiff help CMD` */
		return find_command(argv[2])->run(2, args);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return help(stdout);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("onnxdiff %s\n", PACKAGE_VERSION);
		return 0;
	}
	const struct command *cmd = find_command(argv[1]);
	if (cmd)
		return cmd->run(argc - 1, argv + 1);
	const struct command *diff = find_command("diff");
	/* one word that is no file is more likely a mistyped command than half a diff */
	bool typo = argc == 2 && argv[1][0] != '-' && access(argv[1], F_OK) != 0;
	if (diff && !typo)   /* `onnxdiff A B` is `onnxdiff diff A B` */
		return diff->run(argc, argv);
	return cli_error("unknown command '%s' (see 'onnxdiff --help')", argv[1]);
}
